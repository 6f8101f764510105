"""SQLitePipeline: checks from the spider into the database, in batched transactions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from twisted.internet import task

from crawler import recheck
from verifier.models import (
    Check,
    CompetitorLink,
    CrawledPage,
    Discovery,
    DomainDone,
    PageContacts,
    PageMentions,
    TargetCheck,
)
from verifier.store.writer import Batch, BatchWriter, WriterError

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class SQLitePipeline:
    """Buffers checks and hands them to a writer process, one transaction per batch.

    A batch goes when it reaches BACKCHECK_BATCH_SIZE checks or is
    BACKCHECK_COMMIT_INTERVAL seconds old, whichever comes first, so a killed
    run loses at most those seconds of work (and the resume re-checks them).
    If the database cannot be written, the crawl stops (the run stays
    resumable) instead of fetching pages whose verdicts would be lost.
    """

    def __init__(self, crawler: Crawler, batch_size: int, interval: float, max_failures: int):
        self.crawler = crawler
        self.batch_size = batch_size
        self.interval = interval
        self.max_failures = max_failures
        self.batch = Batch()
        self.timer: task.LoopingCall | None = None
        self.writer: BatchWriter | None = None
        self.closing: asyncio.Future[None] | None = None

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
        if spider.run_id is None:  # `scrapy crawl verify -a due=1` with nothing due
            return
        self.writer = BatchWriter(
            spider.db_path,
            spider.run_id,
            self.max_failures,
            on_written=self._count,
            policy=recheck.policy(self.crawler.settings),
        )
        self.timer = task.LoopingCall(self.flush)
        self.timer.start(self.interval, now=False)

    def _count(self, statuses: Mapping[str, int]) -> None:
        # The final statuses, as `settle` decided them in the writer process.
        stats = self.crawler.stats
        for status, count in statuses.items():
            stats.inc_value(f"backcheck/status_count/{status}", count)
        stats.inc_value("backcheck/checks_written", sum(statuses.values()))

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Discovery):
            self.batch.discoveries.append(item)
        elif isinstance(item, Check):
            self.batch.checks.append(item)
        elif isinstance(item, TargetCheck):
            self.batch.targets.append(item)
        elif isinstance(item, PageMentions):
            self.batch.pages.append(item)
        elif isinstance(item, CompetitorLink):
            self.batch.competitor_links.append(item)
        elif isinstance(item, CrawledPage):
            self.batch.crawled.append(item)
        elif isinstance(item, DomainDone):
            self.batch.domains_done.append(item)
        elif isinstance(item, PageContacts):
            self.batch.contacts.append(item)
        else:
            return item
        if len(self.batch) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        if self.writer is None or not len(self.batch):
            return
        batch, self.batch = self.batch, Batch()
        try:
            self.writer.submit(batch)
        except WriterError:
            self._failed()
            # Keep a reference: the loop only holds tasks weakly.
            self.closing = asyncio.ensure_future(
                self.crawler.engine.close_spider_async(reason="backcheck_write_error")
            )

    def _failed(self) -> None:
        logger.exception("cannot store checks; stopping the crawl (the run can be resumed)")
        writer, self.writer = self.writer, None
        if writer is not None:
            with contextlib.suppress(WriterError):
                writer.close()  # stops the writer process; its error is the one logged
        self.crawler.spider.write_failed = True

    def close_spider(self) -> None:
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        self.flush()
        if self.writer is not None:
            try:
                self.writer.close()
            except WriterError:
                self._failed()
