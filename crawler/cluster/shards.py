"""Shard queues and their leases: every referring domain is fetched by one worker at a time.

Requests are not shared through one queue but spread over N scrapy-redis FIFO
queues (`backcheck:verify:requests:<shard>`), by the registered domain of their
host: `verifier.store.runs.shard_of(registered_domain(host), N)`, the function
that splits a local `verify --processes N`. A worker pops only the shards it
holds a lease on (`SET backcheck:lease:<shard> <worker> NX PX`, renewed while it
works, given back once the shard's queue is empty and nothing of it is in
flight; `crawler.cluster.scheduler`). So every host is fetched by one worker
process, and the limits that hold within one process (download slots,
`DOWNLOAD_DELAY`, AutoThrottle, the robots.txt cache) hold for the cluster.

N is the Redis server's, not each process's: the first owner or worker to use
a server stores its BACKCHECK_REDIS_SHARDS under `backcheck:shards`, and every
later one reads it, so that two processes never disagree on where a domain goes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from scrapy.utils.misc import load_object

from crawler.cluster import serializer
from crawler.cluster.keys import SHARDS_KEY, WORKERS_KEY, lease_key, queue_key
from verifier.store.runs import shard_of
from verifier.verdict.urls import host_of, registered_domain

if TYPE_CHECKING:
    from redis import Redis
    from redis.client import Pipeline
    from scrapy import Request, Spider
    from scrapy_redis.queue import Base

logger = logging.getLogger(__name__)

#: First in, first out: pages leave in the order the owner pushed them (hosts interleaved,
#: see `verifier.store.runs.spread`). scrapy-redis's default PriorityQueue is a ZSET, which
#: orders requests of equal priority by their bytes, i.e. by URL: host after host.
QUEUE_CLASS = "scrapy_redis.queue.FifoQueue"
SERIALIZER = "crawler.cluster.serializer"
#: Requests per pipelined round trip when the owner pushes a run's pages.
PUSH_BATCH = 500

# Compare-and-set on the lease: only its holder renews or gives it back.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
# Take the queued requests whose JSON holds ARGV[1] out of one shard queue; returns them.
_WITHDRAW = """
local taken = {}
for _, item in ipairs(redis.call('lrange', KEYS[1], 0, -1)) do
  if string.find(item, ARGV[1], 1, true) then
    redis.call('lrem', KEYS[1], 1, item)
    taken[#taken + 1] = item
  end
end
return taken
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def shard_of_url(url: str, shards: int) -> int:
    """The shard of a request: that of its host's registered domain.

    >>> shard_of_url("http://a.blog.com/p1", 64) == shard_of_url("https://b.blog.com/x", 64)
    True
    """
    return shard_of(registered_domain(host_of(url)), shards)


def shard_count(server: Redis, wanted: int) -> int:
    """The server's number of shard queues: `wanted` if it has none yet."""
    if server.set(SHARDS_KEY, wanted, nx=True) is None:
        stored = int(cast(bytes, server.get(SHARDS_KEY)))
        if stored != wanted:
            logger.warning(
                "this Redis server has %(stored)s shard queues: BACKCHECK_REDIS_SHARDS=%(wanted)s"
                " ignored (drain the queues and DEL %(key)s to change it)",
                {"stored": stored, "wanted": wanted, "key": SHARDS_KEY},
            )
        return stored
    return wanted


def queued(server: Redis) -> int:
    """Requests waiting in all shard queues (0 before any owner pushed)."""
    stored = server.get(SHARDS_KEY)
    if stored is None:
        return 0
    pipe = server.pipeline(transaction=False)
    for shard in range(int(cast(bytes, stored))):
        pipe.llen(queue_key(shard))
    return sum(pipe.execute())


class ShardQueues:
    """One scrapy-redis queue per shard; a request goes to its host's."""

    def __init__(self, server: Redis | Pipeline, spider: Spider, shards: int) -> None:
        self.server = server
        self.spider = spider
        self.shards = shards
        queue_cls = load_object(QUEUE_CLASS)
        self.queues: list[Base] = [
            queue_cls(server, spider, queue_key(shard), serializer) for shard in range(shards)
        ]

    def push(self, request: Request) -> int:
        """Queue `request` at the back of its shard's queue; returns the shard."""
        shard = shard_of_url(request.url, self.shards)
        self.queues[shard].push(request)
        return shard

    def pop(self, shard: int) -> Request | None:
        request: Request | None = self.queues[shard].pop()
        return request

    def lengths(self) -> list[int]:
        pipe = self.server.pipeline(transaction=False)
        for queue in self.queues:
            pipe.llen(queue.key)
        return [int(n) for n in pipe.execute()]

    def __len__(self) -> int:
        return sum(self.lengths())

    def clear(self) -> None:
        self.server.delete(*(queue.key for queue in self.queues))

    def withdraw(self, needle: str) -> list[bytes]:
        """Take every queued request whose stored JSON contains `needle` out of the
        queues (each shard atomically: a worker pops either before or after); returns
        them as stored."""
        script = self.server.register_script(_WITHDRAW)
        taken: list[bytes] = []
        for queue in self.queues:
            taken += script(keys=[queue.key], args=[needle])
        return taken

    @contextmanager
    def pushing(self) -> Iterator[ShardQueues]:
        """These queues over a pipeline: pushes go PUSH_BATCH per round trip (and all
        at the end), not one each; scrapy-redis's queues push to what they are given."""
        pipe = self.server.pipeline(transaction=False)
        batched = _Batched(pipe, self.spider, self.shards)
        yield batched
        pipe.execute()


class _Batched(ShardQueues):
    def push(self, request: Request) -> int:
        shard = super().push(request)
        if len(self.server) >= PUSH_BATCH:  # type: ignore[arg-type]
            self.server.execute()  # type: ignore[union-attr]
        return shard


class Leases:
    """Leases on shards for one worker (`holder`), each lasting `ttl` seconds unless renewed."""

    def __init__(self, server: Redis, holder: str, ttl: float) -> None:
        self.server = server
        self.holder = holder
        self.ttl_ms = max(1, math.ceil(ttl * 1000))
        self._renew = server.register_script(_RENEW)
        self._release = server.register_script(_RELEASE)

    def claim(self, shard: int) -> bool:
        return bool(self.server.set(lease_key(shard), self.holder, nx=True, px=self.ttl_ms))

    def renew(self, shards: Iterable[int]) -> list[int]:
        """Extend the leases on `shards`; returns those this worker no longer holds."""
        shards = list(shards)
        if not shards:
            return []
        pipe = self.server.pipeline(transaction=False)
        for shard in shards:
            self._renew(keys=[lease_key(shard)], args=[self.holder, self.ttl_ms], client=pipe)
        return [shard for shard, kept in zip(shards, pipe.execute(), strict=True) if not kept]

    def release(self, shard: int) -> bool:
        return bool(self._release(keys=[lease_key(shard)], args=[self.holder]))

    def survey(self, queues: ShardQueues, now: float) -> Survey:
        """One round trip: this worker's heartbeat, the live workers, every shard's queue
        length and lease holder."""
        pipe = self.server.pipeline(transaction=False)
        pipe.zadd(WORKERS_KEY, {self.holder: now})
        pipe.zremrangebyscore(WORKERS_KEY, 0, now - self.ttl_ms / 1000)
        pipe.zcard(WORKERS_KEY)
        for queue in queues.queues:
            pipe.llen(queue.key)
        pipe.mget([lease_key(shard) for shard in range(queues.shards)])
        results: list[Any] = pipe.execute()
        holders = [None if h is None else h.decode("utf-8") for h in results[-1]]
        return Survey(int(results[2]), [int(n) for n in results[3:-1]], holders)

    def leave(self) -> None:
        self.server.zrem(WORKERS_KEY, self.holder)


class Survey:
    """What a worker sees of the cluster at one tick."""

    def __init__(self, workers: int, lengths: list[int], holders: list[str | None]) -> None:
        self.workers = max(1, workers)
        self.lengths = lengths
        self.holders = holders

    def share(self) -> int:
        """Shards each worker should hold: the busy ones (queued or leased), split evenly.

        >>> Survey(2, [3, 0, 1, 0], [None, "w1", None, None]).share()
        2
        """
        busy = sum(1 for n, h in zip(self.lengths, self.holders, strict=True) if n or h)
        return max(1, math.ceil(busy / self.workers))
