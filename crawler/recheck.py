"""The re-check policy (`verifier.verdict.recheck`) as this crawl's settings configure it."""

from __future__ import annotations

from scrapy.settings import BaseSettings

from verifier.verdict.recheck import RecheckPolicy


def policy(settings: BaseSettings) -> RecheckPolicy:
    """Read the `BACKCHECK_RECHECK_*` settings (crawler/settings.py documents them)."""
    steps = settings.getlist("BACKCHECK_RECHECK_UNREACHABLE_DAYS")
    return RecheckPolicy(
        valuable_days=settings.getfloat("BACKCHECK_RECHECK_VALUABLE_DAYS"),
        live_days=settings.getfloat("BACKCHECK_RECHECK_LIVE_DAYS"),
        unreachable_days=tuple(float(step) for step in steps),
        lost_days=settings.getfloat("BACKCHECK_RECHECK_LOST_DAYS"),
        lost_weekly_for_days=settings.getfloat("BACKCHECK_RECHECK_LOST_WEEKLY_FOR_DAYS"),
        lost_later_days=settings.getfloat("BACKCHECK_RECHECK_LOST_LATER_DAYS"),
        valuable_authority=settings.getfloat("BACKCHECK_VALUABLE_AUTHORITY"),
        valuable_visits=settings.getfloat("BACKCHECK_VALUABLE_VISITS"),
    )
