"""scrapy-redis's scheduler over leased shard queues, and the settings a worker runs with.

What is scrapy-redis's own: the queues (one `scrapy_redis.queue.FifoQueue` per
shard, `crawler.cluster.shards`), the Redis dupefilter, the connection from
settings, keeping the queues when a worker exits (SCHEDULER_PERSIST). What is
adapted, for Scrapy 2.19 and for cluster-wide politeness:

- `open` builds the shard queues instead of one queue, and logs through
  `spider.logger` (scrapy-redis calls the deprecated `Spider.log()`);
- `next_request` pops only the shards this worker holds a lease on, in turn;
  `enqueue_request` (redirects, GET after a refused HEAD) pushes to the shard of
  the request's own host, which may belong to another worker;
- a tick (every TICK seconds) renews the leases, claims shards up to this
  worker's fair share (busy shards / live workers), gives back a shard once its
  queue is empty and none of its requests is in the downloader (robots.txt
  requests and requests waiting for them included), hands over shards above the
  share the same way, and wakes an engine that could take more requests
  (Scrapy asks a scheduler that had none again only when a download ends, or
  every 5 s);
- a domain-list crawl's requests (meta LOCAL: the pages, robots.txt and
  sitemaps of a domain this worker opened from a `crawl --redis` job) stay in
  this process, in memory, and the lease on the domain's shard is held while
  the spider has the domain open (`open_shards`); no new shard request is
  popped while the spider has as many domains open as it takes (`domains_full`);
- stats are counted without the `spider` argument that Scrapy 2.14 deprecated.

A shard is popped only while its lease is known to last (renewed less than
2/3 of BACKCHECK_REDIS_LEASE ago): a worker whose loop stalls stops popping
before another can take the shard over.
"""

from __future__ import annotations

import logging
import random
import socket
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError
from scrapy.utils.misc import load_object
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet import task

from crawler.cluster.connection import patience
from crawler.cluster.keys import DUPEFILTER_KEY, QUEUE_KEY
from crawler.cluster.shards import (
    QUEUE_CLASS,
    SERIALIZER,
    Leases,
    ShardQueues,
    Survey,
    shard_count,
    shard_of_url,
)

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Seconds between two looks at the shards (claims, renewals, hand-overs).
TICK = 0.5
#: Request meta: kept in this worker's memory (a crawled domain's requests); the shard
#: a request belongs to, when its URL does not say (a domain job's `data:` URL).
LOCAL = "backcheck_local"
SHARD = "backcheck_shard"


def worker_settings(redis_url: str) -> dict[str, Any]:
    """The Scrapy settings that make a crawl pop its requests from Redis."""
    return {
        "SCHEDULER": "crawler.cluster.scheduler.Scheduler",
        # Required: Scrapy's own dupefilter lost `from_settings` (2.14), which
        # scrapy-redis's scheduler calls, and the crawl would never start.
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        # Off, scrapy-redis deletes the shared queues when any worker exits.
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


@dataclass(slots=True)
class Held:
    """A shard this worker holds: until when its lease surely lasts, whether it is being
    handed over (no more pops), whether its queue was last seen empty."""

    valid_until: float
    draining: bool = False
    empty: bool = False


class Scheduler(RedisScheduler):  # type: ignore[misc]
    """scrapy-redis's scheduler, popping only the shard queues this worker leases."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        scheduler: Self = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.wanted_shards = crawler.settings.getint("BACKCHECK_REDIS_SHARDS")
        scheduler.lease_s = crawler.settings.getfloat("BACKCHECK_REDIS_LEASE")
        return scheduler

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.shards = shard_count(self.server, self.wanted_shards)
        self.queue = ShardQueues(self.server, spider, self.shards)
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        if self.flush_on_start:
            self.flush()
        holder = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.leases = Leases(self.server, holder, self.lease_s)
        self.held: dict[int, Held] = {}
        self.turn: deque[int] = deque()  # the held shards, in popping order
        self.handed_back: deque[Request] = deque()
        self.local: deque[Request] = deque()
        self.waking: Request | None = None
        self.renewed = 0.0
        self.ticker = task.LoopingCall(self.tick)
        self.ticker.start(TICK, now=False)

    def close(self, reason: str) -> None:
        if self.ticker.running:
            self.ticker.stop()
        try:
            for shard in list(self.held):
                self._release(shard)
            self.leases.leave()
        except RedisError as exc:  # they expire on their own
            logger.warning("could not give the shard leases back: %(e)s", {"e": exc})
        super().close(reason)

    def __len__(self) -> int:
        lengths = self.queue.lengths()
        return len(self.handed_back) + len(self.local) + sum(lengths[s] for s in self.held)

    def has_pending_requests(self) -> bool:
        """From what the last tick and pops saw: no round trip to Redis."""
        return bool(self.handed_back or self.local) or any(
            not held.empty and not held.draining for held in self.held.values()
        )

    def enqueue_request(self, request: Request) -> bool:
        if request is self.waking:  # our own, handed to the engine to wake it
            self.waking = None
            self.handed_back.append(request)
            return True
        if request.meta.get(LOCAL):
            self.local.append(request)
            return True
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        shard = self.queue.push(request)
        if shard in self.held:
            self.held[shard].empty = False
        return True

    def next_request(self) -> Request | None:
        if self.handed_back:
            return self.handed_back.popleft()
        if self.local:
            return self.local.popleft()
        full = getattr(self.spider, "domains_full", None)
        if full is not None and full():
            return None
        now = time.monotonic()
        for _ in range(len(self.turn)):
            shard = self.turn[0]
            self.turn.rotate(-1)
            held = self.held[shard]
            if held.empty or held.draining or now >= held.valid_until:
                continue
            request = self.queue.pop(shard)
            if request is None:
                held.empty = True
                continue
            if self.stats:
                self.stats.inc_value("scheduler/dequeued/redis")
            return request
        return None

    def tick(self) -> None:
        try:
            self._tick()
        except RedisError as exc:  # the client has retried for a minute already
            logger.warning("shard leases: %(e)s", {"e": exc})

    def _tick(self) -> None:
        survey = self.leases.survey(self.queue, time.time())
        self._renew()
        in_flight = self.in_flight()
        for shard, held in list(self.held.items()):
            held.empty = survey.lengths[shard] == 0
            if not in_flight[shard] and (held.empty or held.draining):
                self._release(shard)
        self._rebalance(survey)
        self._wake()

    def in_flight(self) -> Counter[int]:
        """Requests per shard that this worker is fetching or about to fetch."""
        engine = self.crawler.engine
        active = list(engine.downloader.active) if engine is not None else []
        requests = [*active, *self.handed_back, *self.local]
        counts = Counter(r.meta.get(SHARD, None) for r in requests)
        counts.update(shard_of_url(r.url, self.shards) for r in requests if SHARD not in r.meta)
        del counts[None]
        open_shards = getattr(self.spider, "open_shards", None)
        if open_shards is not None:
            counts.update(open_shards())
        return counts  # type: ignore[return-value]

    def _renew(self) -> None:
        now = time.monotonic()
        if now - self.renewed < self.lease_s / 3:
            return
        for shard in self.leases.renew(self.held):
            self.held.pop(shard)
            self.turn.remove(shard)
            self._count("leases_lost")
            logger.warning("lost the lease on shard %(shard)s (stalled?)", {"shard": shard})
        self.renewed = now
        for held in self.held.values():
            held.valid_until = now + self.lease_s * 2 / 3

    def _rebalance(self, survey: Survey) -> None:
        """Hold this worker's share: hand over the fullest shards above it, claim free
        busy ones below it (from a random place, so that workers rarely race)."""
        share = survey.share()
        serving = [s for s, h in self.held.items() if not h.draining]
        if len(serving) > share:
            fullest = sorted(serving, key=lambda s: survey.lengths[s], reverse=True)
            for shard in fullest[: len(serving) - share]:
                self.held[shard].draining = True
            return
        for shard, held in self.held.items():
            if held.draining and len(serving) < share:
                held.draining = False
                serving.append(shard)
        free = [
            s
            for s in range(self.shards)
            if survey.lengths[s] and survey.holders[s] is None and s not in self.held
        ]
        random.shuffle(free)
        for shard in free[: max(0, share - len(serving))]:
            if self.leases.claim(shard):
                self.held[shard] = Held(time.monotonic() + self.lease_s * 2 / 3)
                self.turn.append(shard)
                self._count("shards_claimed")
                logger.debug("claimed shard %(shard)s", {"shard": shard})

    def _release(self, shard: int) -> None:
        self.held.pop(shard)
        self.turn.remove(shard)
        self.leases.release(shard)
        self._count("shards_released")
        logger.debug("gave shard %(shard)s back", {"shard": shard})

    def _wake(self) -> None:
        """An engine that found no request asks again only when a download ends or
        every 5 s: if it can take more, hand it one now (it then pulls the rest)."""
        engine = self.crawler.engine
        if engine is None or not self.has_pending_requests() or engine.needs_backout():
            return
        request = self.next_request()
        if request is not None:
            self.waking = request
            engine.crawl(request)  # comes back through enqueue_request, to handed_back

    def _count(self, name: str) -> None:
        if self.stats:
            self.stats.inc_value(f"backcheck/redis/{name}")
