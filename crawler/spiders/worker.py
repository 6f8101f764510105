"""WorkerSpider: `backcheck worker`'s crawl, fed by the shared scrapy-redis queue.

Its requests are pushed by the owner of a run (`verify --redis`) and popped by
scrapy-redis's scheduler; each carries the page's backlinks and its run in
`meta`, so a worker needs no database. Verdicts come from the same pure
function as a local run's (`verifier.verdict.classify`) and go back through
Redis (`crawler.cluster.pipeline`).

scrapy-redis 0.9.1 feeds idle spiders from `spider_idle` and its spiders define
only `start_requests`, which Scrapy 2.16+ never calls; this spider instead has
an empty `start()`, keeps itself open with `DontCloseSpider`, and wakes an idle
engine as soon as requests arrive (Scrapy looks at an idle scheduler only every
5 s otherwise).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet import task

from crawler.cluster import message
from crawler.cluster.keys import OPEN_PREFIX
from crawler.cluster.pipeline import Result
from crawler.cluster.scheduler import shared_queue
from crawler.failures import reason_for
from crawler.progress import PAGES_STAT
from crawler.spiders.plumbing import HANDLED_STATUSES, failed_fetch, fetch_from
from verifier.models import Check, Discovery
from verifier.verdict import classify

if TYPE_CHECKING:
    from redis import Redis
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy_redis.queue import Base
    from twisted.python.failure import Failure

#: Request meta: the page's backlinks (crawler.cluster.message.refs_to_meta), its run.
REFS = "backcheck_refs"
RUN = "backcheck_run"
#: Seconds between looks at Redis while the worker has nothing to do.
POLL = 0.5


class WorkerSpider(scrapy.Spider):
    name = "verify-worker"
    # Pages that answer 4xx/5xx reach `parse` to be classified (3xx still redirect).
    handle_httpstatus_list = HANDLED_STATUSES

    def __init__(self, exit_when_idle: str | float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exit_when_idle = None if exit_when_idle in (None, "") else float(exit_when_idle)
        self.idle_since: float | None = None
        self.server: Redis | None = None
        self.queue: Base | None = None
        self.poller = task.LoopingCall(self.poll)
        self.closing: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> WorkerSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.server = get_redis_from_settings(crawler.settings)
        spider.queue = shared_queue(spider.server, spider)
        crawler.signals.connect(spider.opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.stay_open, signal=signals.spider_idle)
        crawler.signals.connect(spider.stopped, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        """Nothing: every request comes from the Redis queue."""
        return
        yield

    def opened(self) -> None:
        self.poller.start(POLL, now=False)

    def stopped(self) -> None:
        if self.poller.running:
            self.poller.stop()

    def stay_open(self) -> None:
        if self.closing is None:
            raise DontCloseSpider

    def has_work(self) -> bool:
        """Requests are queued, or a run's owner is still collecting (it may re-queue)."""
        assert self.server is not None and self.queue is not None
        if len(self.queue):
            return True
        return (
            next(iter(self.server.scan_iter(match=OPEN_PREFIX + "*", count=1000)), None) is not None
        )

    def poll(self) -> None:
        """While idle: wake the engine for queued requests, or leave after exit_when_idle."""
        engine = self.crawler.engine
        if engine is None or self.closing is not None or not engine.spider_is_idle():
            self.idle_since = None
            return
        assert self.queue is not None
        request = self.queue.pop()
        if request is not None:  # engine.crawl() schedules it and wakes the engine
            self.idle_since = None
            engine.crawl(request)
            return
        if self.has_work():
            self.idle_since = None
            return
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        if self.exit_when_idle is not None and now - self.idle_since >= self.exit_when_idle:
            self.logger.info("idle for %(s)ss: leaving", {"s": self.exit_when_idle})
            # Keep a reference: the loop only holds tasks weakly.
            self.closing = asyncio.ensure_future(engine.close_spider_async(reason="finished"))

    def parse(self, response: Response) -> Iterator[Result]:
        self.crawler.stats.inc_value(PAGES_STAT)
        refs = message.refs_from_meta(response.meta[REFS])
        for item in classify.check_fetch(fetch_from(response), refs):
            if isinstance(item, Check | Discovery):
                yield Result(response.meta[RUN], item)

    def on_error(self, failure: Failure) -> Iterator[Result]:
        request = failure.request
        reason, detail = reason_for(failure)
        self.crawler.stats.inc_value(PAGES_STAT)
        self.crawler.stats.inc_value(f"backcheck/failure/{reason.value}")
        fetch = failed_fetch(request.url, request.meta)
        for ref in message.refs_from_meta(request.meta[REFS]):
            yield Result(request.meta[RUN], classify.check_failure(ref, reason, detail, fetch))
