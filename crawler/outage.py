"""The outage rule (`verifier.verdict.outage`) as this crawl's settings configure it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verifier.store import outage
from verifier.verdict.outage import OutageRule

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings
    from sqlite_utils import Database

    from verifier.store.runs import RunSummary

DEGRADED = outage.DEGRADED


def rule(settings: BaseSettings) -> OutageRule:
    """Read the `BACKCHECK_OUTAGE_*` settings (crawler/settings.py documents them)."""
    return OutageRule(
        enabled=settings.getbool("BACKCHECK_OUTAGE_ENABLED"),
        share=settings.getfloat("BACKCHECK_OUTAGE_SHARE"),
        min_domains=settings.getint("BACKCHECK_OUTAGE_MIN_DOMAINS"),
        target_share=settings.getfloat("BACKCHECK_OUTAGE_TARGET_SHARE"),
    )


def settle_run(
    db: Database, run_id: int, stats: dict[str, Any] | None, settings: BaseSettings
) -> RunSummary:
    """Close a run whose crawl completed: `degraded` when the crawler could not reach
    the web (its backlinks then keep their last good verdict), else `finished`."""
    return outage.settle_run(db, run_id, stats, rule(settings))


def message(run_id: int) -> str:
    """What `verify` exits 1 with after a degraded run.

    >>> message(7)
    'run 7 degraded: the crawler could not reach the web'
    """
    return f"run {run_id} degraded: the crawler could not reach the web"
