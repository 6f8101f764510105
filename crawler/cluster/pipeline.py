"""RedisResultPipeline: a worker's checks back to the run's owner, through Redis."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy_redis.connection import get_redis_from_settings
from twisted.internet import task

from crawler.cluster import message
from crawler.cluster.keys import OPEN_PREFIX, RESULTS_PREFIX

if TYPE_CHECKING:
    from typing import Self

    from redis import Redis
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Messages per RPUSH, and seconds a message waits at most before it goes.
BATCH = 200
INTERVAL = 0.25


@dataclass(frozen=True, slots=True)
class Result:
    """What one page gave (checks, discoveries, mentions …) for the run named `run`
    (crawler.cluster.keys.run_key); it travels as one message."""

    run: str
    items: list[message.Item]


class RedisResultPipeline:
    """RPUSHes each result as JSON to its run's list; results of a closed run are dropped.

    A killed worker loses at most INTERVAL seconds of results: the owner
    re-queues pages whose backlinks got no check.
    """

    def __init__(self, crawler: Crawler, server: Redis) -> None:
        self.crawler = crawler
        self.server = server
        self.waiting: dict[str, list[str]] = defaultdict(list)
        self.count = 0
        self.timer = task.LoopingCall(self.flush)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, get_redis_from_settings(crawler.settings))

    def open_spider(self) -> None:
        self.timer.start(INTERVAL, now=False)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Result):
            return item
        self.waiting[item.run].append(message.dumps(item.items))
        self.count += 1
        if self.count >= BATCH:
            self.flush()
        return item

    def flush(self) -> None:
        if not self.count:
            return
        waiting, self.waiting, self.count = self.waiting, defaultdict(list), 0
        stats = self.crawler.stats
        for run, messages in waiting.items():
            if not self.server.exists(OPEN_PREFIX + run):
                stats.inc_value("backcheck/redis/results_dropped", len(messages))
                logger.info(
                    "run %(run)s is closed: %(n)s results dropped", {"run": run, "n": len(messages)}
                )
                continue
            self.server.rpush(RESULTS_PREFIX + run, *messages)
            stats.inc_value("backcheck/redis/results_sent", len(messages))

    def close_spider(self) -> None:
        if self.timer.running:
            self.timer.stop()
        self.flush()
