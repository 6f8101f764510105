"""Progress of a run: crawler processes write it to a file, the command shows it.

Each crawler process (one, or one per shard) runs `ProgressFile`, an extension
that writes its counts to a small JSON file every second; the `verify` command
reads the files and shows them: a live bar (rich) on a terminal, one plain line
every `BACKCHECK_PROGRESS_RECORD_S` seconds otherwise (cron mails, journald),
with no ANSI codes. Files, not the database: counting a million-check run's
rows every second would cost more than the crawl.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

#: The spider's stat for referring pages done (fetched or failed), one per page.
PAGES_STAT = "backcheck/pages_done"
#: The crawl spider's stat for domains done (one per domain, whatever stopped it).
DOMAINS_STAT = "backcheck/domains_done"
STATUSES = ("live", "lost", "unreachable")


class ProgressFile:
    """Writes {"pages", "domains", "live", "lost", "unreachable"} to BACKCHECK_PROGRESS_FILE."""

    def __init__(self, crawler: Crawler, path: Path, interval: float) -> None:
        self.crawler = crawler
        self.path = path
        self.timer = task.LoopingCall(self.write)
        self.interval = interval

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("BACKCHECK_PROGRESS_FILE")
        if not path:
            raise NotConfigured
        extension = cls(crawler, Path(path), 1.0)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self) -> None:
        self.timer.start(self.interval, now=True)

    def closed(self) -> None:
        if self.timer.running:
            self.timer.stop()
        self.write()

    def write(self) -> None:
        stats = self.crawler.stats
        counts = {
            "pages": stats.get_value(PAGES_STAT, 0),
            "domains": stats.get_value(DOMAINS_STAT, 0),
        } | {status: stats.get_value(f"backcheck/status_count/{status}", 0) for status in STATUSES}
        write_counts(self.path, counts)


def write_counts(path: Path, counts: Mapping[str, int]) -> None:
    """Replace the progress file `path` with `counts` (as `ProgressFile` writes them)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(counts))
    os.replace(temporary, path)  # a reader never sees half a file


@dataclass(slots=True)
class Counts:
    pages: int = 0
    domains: int = 0
    live: int = 0
    lost: int = 0
    unreachable: int = 0


def read(paths: Sequence[Path]) -> Counts:
    """The counts of every crawler process, summed (a file not written yet counts 0)."""
    total = Counts()
    for path in paths:
        try:
            values: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for name in ("pages", "domains", "live", "lost", "unreachable"):
            setattr(total, name, getattr(total, name) + int(values.get(name, 0)))
    return total


def duration(seconds: float) -> str:
    """A short duration for a progress line.

    >>> duration(42), duration(125), duration(7384)
    ('42s', '2m05s', '2h03m')
    """
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def record(counts: Counts, total: int, elapsed: float, unit: str = "pages") -> str:
    """One progress line, for logs and pipes; `unit` is what `total` counts.

    >>> record(Counts(250, 0, 200, 40, 10), 1000, 10.0)
    'progress: 250/1000 pages (25.0 %), 25.0 pages/s, ETA 30s; live 200, lost 40, unreachable 10'
    >>> record(Counts(90, 3, 1, 0, 0), 4, 30.0, "domains")
    'progress: 3/4 domains (75.0 %), 3.0 pages/s, ETA 10s; live 1, lost 0, unreachable 0'
    """
    done = counts.domains if unit == "domains" else counts.pages
    rate = counts.pages / elapsed if elapsed > 0 else 0.0
    per_unit = done / elapsed if elapsed > 0 else 0.0
    share = 100 * done / total if total else 100.0
    eta = duration((total - done) / per_unit) if per_unit and total > done else "-"
    return (
        f"progress: {done}/{total} {unit} ({share:.1f} %), {rate:.1f} pages/s,"
        f" ETA {eta}; live {counts.live}, lost {counts.lost}, unreachable {counts.unreachable}"
    )


class Display:
    """Shows the run's progress from the progress files until `stop()`.

    A live bar on a terminal; else a `record` line every `every` seconds.
    Runs in a thread: the crawl may run in this process's main thread.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        total: int,
        every: float = 60.0,
        stream: TextIO | None = None,
        terminal: bool | None = None,
        unit: str = "pages",
    ) -> None:
        self.paths = list(paths)
        self.total = total
        self.unit = unit
        self.every = every
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="backcheck-progress", daemon=True)
        self.started = time.monotonic()

    def __enter__(self) -> Display:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        if self.terminal:
            self._bar()
            return
        while not self.done.wait(self.every):
            elapsed = time.monotonic() - self.started
            line = record(read(self.paths), self.total, elapsed, self.unit)
            print(line, file=self.stream, flush=True)

    def _bar(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        console = Console(file=self.stream)
        columns: list[Any] = [
            TextColumn(self.unit),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[counts]}"),
        ]
        # transient: the bar leaves no last frame behind; the summary line follows.
        with Progress(*columns, console=console, transient=True) as bar:
            job = bar.add_task("run", total=self.total or None, rate="", counts="")
            while not self.done.wait(0.5):
                self._update(bar, job)

    def _update(self, bar: Any, job: Any) -> None:
        counts = read(self.paths)
        elapsed = time.monotonic() - self.started
        rate = f"{counts.pages / elapsed:.1f} pages/s" if elapsed > 0 else ""
        text = f"live {counts.live} · lost {counts.lost} · unreachable {counts.unreachable}"
        done = counts.domains if self.unit == "domains" else counts.pages
        bar.update(job, completed=done, rate=rate, counts=text)
