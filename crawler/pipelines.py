"""SQLitePipeline: checks from the spider into the database, in batched transactions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import task

from verifier import runs, storage
from verifier.models import Check, Discovery, TargetCheck

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler


class SQLitePipeline:
    """Buffers checks and writes them in one transaction per batch.

    A batch is written when it reaches BACKCHECK_BATCH_SIZE checks or is
    BACKCHECK_COMMIT_INTERVAL seconds old, whichever comes first, so a killed
    run loses at most those seconds of work (and the resume re-checks them).
    """

    def __init__(self, crawler: Crawler, batch_size: int, interval: float, max_failures: int):
        self.crawler = crawler
        self.batch_size = batch_size
        self.interval = interval
        self.max_failures = max_failures
        self.checks: list[Check] = []
        self.discoveries: list[Discovery] = []
        self.targets: list[TargetCheck] = []
        self.timer: task.LoopingCall | None = None
        self.db: Any = None
        self.run_id = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(
            crawler,
            settings.getint("BACKCHECK_BATCH_SIZE"),
            settings.getfloat("BACKCHECK_COMMIT_INTERVAL"),
            settings.getint("BACKCHECK_MAX_FAILURES"),
        )

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.db = storage.open_db(spider.db_path)
        self.run_id = spider.run_id
        self.timer = task.LoopingCall(self.flush)
        self.timer.start(self.interval, now=False)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Discovery):
            self.discoveries.append(item)
        elif isinstance(item, Check):
            self.checks.append(item)
        elif isinstance(item, TargetCheck):
            self.targets.append(item)
        else:
            return item
        if len(self.checks) + len(self.targets) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        if self.targets:
            targets, self.targets = self.targets, []
            runs.record_target_checks(self.db, self.run_id, targets)
        if not self.checks and not self.discoveries:
            return
        checks, discoveries = self.checks, self.discoveries
        self.checks, self.discoveries = [], []
        written = runs.record_checks(self.db, self.run_id, checks, discoveries, self.max_failures)
        stats = self.crawler.stats
        stats.inc_value("backcheck/checks_written", written)
        for check in checks + [d.check for d in discoveries]:
            stats.inc_value(f"backcheck/status_count/{check.status.value}")

    def close_spider(self) -> None:
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        self.flush()
