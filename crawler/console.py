"""What a run shows on the console, and where its full log goes.

The run's spider (in this process, or sharded over several) logs to the run's
log file beside the database; the console gets warnings and errors (`-v`:
everything, `-q`: errors only) and the run's progress (`crawler.progress`).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scrapy.settings import Settings
from sqlite_utils import Database

from crawler import progress, runlog, runner
from verifier.store import runs


@dataclass(frozen=True, slots=True)
class Console:
    verbose: bool = False
    quiet: bool = False

    @property
    def level(self) -> str:
        return "INFO" if self.verbose else "ERROR" if self.quiet else "WARNING"


def use_run_log(
    db: Database, db_path: str, run_id: int, parsed: dict[str, str], settings: Settings
) -> str:
    """Point LOG_FILE at the run's log (a user's `-s LOG_FILE` wins) and record it."""
    log_file = runlog.prepare(db_path, run_id, settings.getint("BACKCHECK_KEEP_LOGS"))
    if not settings.get("LOG_FILE"):
        parsed["LOG_FILE"] = str(log_file)
        settings.set("LOG_FILE", str(log_file), priority="cmdline")
    path = str(settings.get("LOG_FILE"))
    runs.set_log(db, run_id, path)
    return path


def run_spider(
    db_path: str,
    run_id: int,
    parsed: dict[str, str],
    settings: Settings,
    shards: int,
    console: Console,
    total: int,
    *,
    spider: str = "verify",
    spider_args: Mapping[str, str] | None = None,
    unit: str = "pages",
) -> tuple[list[str], dict[str, object]]:
    """Crawl (sharded when `shards` > 1) with the progress shown; each process's finish
    reason, and the shards' summed stats ({} for one process, which stores its own)."""
    db_file = str(Path(db_path))
    with tempfile.TemporaryDirectory(prefix="backcheck-progress-") as scratch:
        counts = [Path(scratch) / f"progress-{index}.json" for index in range(shards)]
        display: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
        if not console.quiet:
            every = settings.getfloat("BACKCHECK_PROGRESS_RECORD_S")
            display = progress.Display(counts, total, every, unit=unit)
        if shards > 1:  # the display is a thread: it starts once the shards are forked
            return runner.crawl_sharded(
                db_file,
                run_id,
                parsed,
                shards,
                None,
                spider,
                spider_args,
                console_level=console.level,
                progress=counts,
                display=display,
            )
        with display:
            settings.set("BACKCHECK_PROGRESS_FILE", str(counts[0]), priority="cmdline")
            reason = runner.crawl(
                db_file, run_id, settings, spider, console.level, **(spider_args or {})
            )
            return [reason], {}
