"""SQLitePipeline: checks from the spider into the database, in batched transactions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.spidermiddlewares.referer import RefererMiddleware
from twisted.internet import task

from crawler import recheck
from verifier.models import (
    PageRead,
)
from verifier.store.writer import Batch, BatchWriter, WriterError

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: A batch of pages to read for mentions goes at this many bytes of bodies: with the
#: writer's queue (4 batches) that bounds the bodies held for it to ~10 MB.
READ_BATCH_BYTES = 2_000_000
#: Seconds an idle crawl waits for the writer to read what it was handed (the crawl
#: has nothing else to do then; past this, contact pages it asks for later are not fetched).
DRAIN_S = 600.0


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
        self.requested = False  # a contact page request was made since the crawl went idle
        self.read_bytes = 0  # the bodies of the batch's PageReads
        self.shut = False  # the crawl is closing: no more requests
        self._referer: RefererMiddleware | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        pipeline = cls(
            crawler,
            settings.getint("BACKCHECK_BATCH_SIZE"),
            settings.getfloat("BACKCHECK_COMMIT_INTERVAL"),
            settings.getint("BACKCHECK_MAX_FAILURES"),
        )
        crawler.signals.connect(pipeline.idle, signal=signals.spider_idle)
        return pipeline

    def open_spider(self) -> None:
        spider = self.crawler.spider
        if spider.run_id is None:  # `scrapy crawl verify -a due=1` with nothing due
            return
        reads = getattr(spider, "reads_later", False)  # PageReads: a writer that reads them
        self.writer = BatchWriter(
            spider.db_path,
            spider.run_id,
            self.max_failures,
            on_written=self._count,
            policy=recheck.policy(self.crawler.settings),
            entry="verifier.readers" if reads else "verifier.store.writer",
            on_wanted=self._wanted,
        )
        self.timer = task.LoopingCall(self.flush)
        self.timer.start(self.interval, now=False)

    def _count(self, statuses: Mapping[str, int]) -> None:
        # The final statuses, as `settle` decided them in the writer process.
        stats = self.crawler.stats
        for status, count in statuses.items():
            stats.inc_value(f"backcheck/status_count/{status}", count)
        stats.inc_value("backcheck/checks_written", sum(statuses.values()))

    def _wanted(self, wanted: list[Any]) -> None:
        """What the writer's reading asks for: the targets' contact pages (a request, or
        the contacts of a page fetched already)."""
        engine = self.crawler.engine
        for want in wanted:
            for found in self.crawler.spider.contact_pages.wanted(want.page_url, want.contact_url):
                if isinstance(found, Request):
                    # Not once the crawl closes (`--max-time`): that target keeps its page's
                    # addresses only, as when its contact page fails.
                    if engine is not None and engine.spider is not None and not self.shut:
                        engine.crawl(self._referred(found, want.page_url))
                        self.requested = True
                else:
                    self.process_item(found)

    def _referred(self, request: Request, page_url: str) -> Request:
        """`request` with the Referer that Scrapy's referrer policy gives a link followed
        from `page_url`: asked for outside a callback, it gets none from the middleware."""
        if self.crawler.settings.getbool("REFERER_ENABLED"):
            if self._referer is None:
                self._referer = RefererMiddleware.from_crawler(self.crawler)
            # The page's own Referrer-Policy header is not at hand here: the settings' policy.
            policy = self._referer.policy(Response(page_url), request)
            referer = policy.referrer(page_url, request.url)
            if referer is not None:
                request.headers.setdefault("Referer", referer)
        return request

    def idle(self) -> None:
        """Before the crawl ends: the writer reads what it was handed, and the contact
        pages that reading asks for are fetched in this crawl."""
        if self.writer is None or not getattr(self.crawler.spider, "reads_later", False):
            return
        self.requested = False
        self.flush()
        if self.writer is not None:
            self.writer.drain(timeout=DRAIN_S)
        if self.requested:
            raise DontCloseSpider

    def process_item(self, item: Any) -> Any:
        if not self.batch.add(item):
            return item
        if isinstance(item, PageRead):
            self.read_bytes += len(item.fetch.body)
        if len(self.batch) >= self.batch_size or self.read_bytes >= READ_BATCH_BYTES:
            self.flush()
        return item

    def flush(self) -> None:
        if self.writer is None or not len(self.batch):
            return
        batch, self.batch = self.batch, Batch()
        self.read_bytes = 0
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
        self.shut = True
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        self.flush()
        if self.writer is not None:
            try:
                self.writer.close()
            except WriterError:
                self._failed()
