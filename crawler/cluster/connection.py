"""Connecting to the Redis server that owners and workers share.

Every client retries a command that fails on a lost connection for about
PATIENCE seconds (reconnecting each time): a Redis server restarted with its
persistence on (`--appendonly yes`) costs owners and workers a pause, not the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis import Redis

#: Retries of a command whose connection failed, and the longest wait between two
#: (waits double from BACKOFF_BASE): about a minute without Redis in all.
RETRIES = 60
BACKOFF_BASE = 0.05
BACKOFF_CAP = 1.0


class ClusterError(RuntimeError):
    """The Redis server cannot be used (bad URL, unreachable, refused)."""


def patience() -> dict[str, Any]:
    """Client parameters (redis-py, scrapy-redis's REDIS_PARAMS) that ride out a restart."""
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    return {"retry": Retry(ExponentialBackoff(cap=BACKOFF_CAP, base=BACKOFF_BASE), RETRIES)}


def connect(url: str) -> Redis:
    """A client for `url` (redis://HOST:PORT/DB) that has answered PING.

    The first PING is not retried: a wrong URL fails at once.
    """
    from redis import Redis
    from redis.exceptions import RedisError

    options: dict[str, Any] = {"socket_timeout": 30, "socket_connect_timeout": 10}
    try:
        Redis.from_url(url, **options).ping()
    except ValueError as exc:
        raise ClusterError(f"--redis {url!r}: {exc}") from exc
    except RedisError as exc:
        raise ClusterError(f"cannot reach Redis at {url}: {exc}") from exc
    server: Redis = Redis.from_url(url, **options, **patience())
    return server
