"""scrapy-redis's scheduler, adapted to Scrapy 2.19, and the settings a worker runs with.

scrapy-redis 0.9.1 (its last release) still counts its stats with the `spider`
argument that Scrapy 2.14 deprecated, and logs through the deprecated
`Spider.log()`; `Scheduler` does neither.
Everything else (the shared priority queue, the Redis dupefilter, keeping the
queue when a worker exits) is scrapy-redis's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.utils.misc import load_object
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from crawler.cluster import serializer
from crawler.cluster.connection import patience
from crawler.cluster.keys import DUPEFILTER_KEY, QUEUE_KEY

if TYPE_CHECKING:
    from redis import Redis
    from scrapy import Request, Spider
    from scrapy_redis.queue import Base

#: First in, first out: pages leave in the order the owner pushed them (hosts interleaved,
#: see `verifier.store.runs.spread`). scrapy-redis's default PriorityQueue is a ZSET, which
#: orders requests of equal priority by their bytes, i.e. by URL: host after host.
QUEUE_CLASS = "scrapy_redis.queue.FifoQueue"
SERIALIZER = "crawler.cluster.serializer"


def shared_queue(server: Redis, spider: Spider) -> Base:
    """The shared request queue, as the workers' scheduler sees it (to push, count, pop)."""
    queue: Base = load_object(QUEUE_CLASS)(server, spider, QUEUE_KEY, serializer)
    return queue


def worker_settings(redis_url: str) -> dict[str, Any]:
    """The Scrapy settings that make a crawl pop its requests from Redis."""
    return {
        "SCHEDULER": "crawler.cluster.scheduler.Scheduler",
        # Required: Scrapy's own dupefilter lost `from_settings` (2.14), which
        # scrapy-redis's scheduler calls, and the crawl would never start.
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        # Off, scrapy-redis deletes the shared queue when any worker exits.
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_CLASS": QUEUE_CLASS,
        "SCHEDULER_QUEUE_KEY": QUEUE_KEY,
        "SCHEDULER_DUPEFILTER_KEY": DUPEFILTER_KEY,
        "SCHEDULER_SERIALIZER": SERIALIZER,
        "REDIS_URL": redis_url,
        # Retry through a restart of the Redis server (crawler.cluster.connection).
        "REDIS_PARAMS": patience(),
        # The results go back through Redis: workers have no database.
        "ITEM_PIPELINES": {"crawler.cluster.pipeline.RedisResultPipeline": 300},
    }


class Scheduler(RedisScheduler):  # type: ignore[misc]
    """scrapy-redis's scheduler without the deprecated `spider` argument to stats."""

    def open(self, spider: Spider) -> None:
        """As scrapy-redis opens it, logging through `spider.logger`."""
        self.spider = spider
        self.queue = load_object(self.queue_cls)(
            server=self.server,
            spider=spider,
            key=self.queue_key % {"spider": spider.name},
            serializer=self.serializer,
        )
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        if self.flush_on_start:
            self.flush()
        if len(self.queue):
            spider.logger.info("Resuming crawl (%(n)s requests queued)", {"n": len(self.queue)})

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Request | None:
        request: Request | None = self.queue.pop(self.idle_before_close)
        if request and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request
