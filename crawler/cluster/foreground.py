"""An owner in the foreground (`verify --redis`, `crawl --redis`): its log and progress."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from crawler import progress
from crawler.cluster.owner import Owner

if TYPE_CHECKING:
    from redis import Redis
    from scrapy.settings import Settings
    from sqlite_utils import Database


def verify(
    db: Database,
    db_path: str,
    run_id: int,
    server: Redis,
    settings: Settings,
    quiet: bool,
) -> str:
    """Run `run_id` over Redis with the progress shown; returns the finish reason.

    Ctrl-C leaves the run interrupted (and its queued pages for the workers).
    """
    log_to(settings)
    with tempfile.TemporaryDirectory(prefix="backcheck-progress-") as scratch:
        path = Path(scratch) / "progress.json"
        owner = Owner(db, db_path, run_id, server, settings, path)
        return shown(owner, path, owner.total_pages, "pages", settings, quiet)


def shown(owner: Owner, path: Path, total: int, unit: str, settings: Settings, quiet: bool) -> str:
    """`owner.run()` with its progress (in `path`) shown, then finished; the reason."""
    display: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    if not quiet:
        every = settings.getfloat("BACKCHECK_PROGRESS_RECORD_S")
        display = progress.Display([path], total, every, unit=unit)
    with display:
        try:
            reason = owner.run()
        except KeyboardInterrupt:
            reason = "shutdown"
    owner.finish(reason)
    return reason


def log_to(settings: Settings) -> None:
    """The owner's records in the run's log (LOG_FILE at LOG_LEVEL), as a crawl's are."""
    if not settings.get("LOG_FILE"):
        return
    handler = logging.FileHandler(settings["LOG_FILE"], encoding="utf-8")
    handler.setLevel(settings.get("LOG_LEVEL") or "INFO")
    handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, handler.level))
