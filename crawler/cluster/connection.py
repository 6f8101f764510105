"""Connecting to the Redis server that owners and workers share."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis import Redis


class ClusterError(RuntimeError):
    """The Redis server cannot be used (bad URL, unreachable, refused)."""


def connect(url: str) -> Redis:
    """A client for `url` (redis://HOST:PORT/DB) that has answered PING."""
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        server = Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
        server.ping()
    except ValueError as exc:
        raise ClusterError(f"--redis {url!r}: {exc}") from exc
    except RedisError as exc:
        raise ClusterError(f"cannot reach Redis at {url}: {exc}") from exc
    return server
