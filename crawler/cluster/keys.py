"""The Redis keys that owners and workers share.

Several owners (one per SQLite database) may share one Redis server and its
workers: a run is named by a key derived from where its database lives, so
that two databases' run 7 never mix and a resumed run finds its own results.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

#: The shard queues of page requests (`QUEUE_KEY:<shard>`), and the dupefilter's fingerprints.
QUEUE_KEY = "backcheck:verify:requests"
DUPEFILTER_KEY = "backcheck:verify:dupefilter"
#: How many shard queues there are: set once per Redis server by the first owner
#: (crawler.cluster.shards.shard_count).
SHARDS_KEY = "backcheck:shards"
#: `LEASE_PREFIX + shard`: the worker that pops that shard's queue (SET NX PX, renewed).
LEASE_PREFIX = "backcheck:lease:"
#: A ZSET of live workers, scored by their last heartbeat (Unix time): the fair share.
WORKERS_KEY = "backcheck:workers"
#: `OPEN_PREFIX + run key` exists while the owner of that run is collecting (with a TTL
#: that the owner refreshes): workers never leave while a run may still be re-queued.
OPEN_PREFIX = "backcheck:open:"
RESULTS_PREFIX = "backcheck:results:"
#: `PROFILE_PREFIX + run key`: what the run's pages are read for (crawler.cluster.profile).
PROFILE_PREFIX = "backcheck:profile:"


def run_key(db_path: str, run_id: int, started_at: str) -> str:
    """A run's name on the Redis server: stable across resumes, unique across databases.

    >>> len(run_key("/srv/seo/backcheck.db", 7, "2026-01-01T02:15:00"))
    16
    """
    where = f"{socket.gethostname()}:{Path(db_path).resolve()}:{run_id}:{started_at}"
    return hashlib.sha256(where.encode("utf-8")).hexdigest()[:16]


def open_key(run: str) -> str:
    return OPEN_PREFIX + run


def results_key(run: str) -> str:
    return RESULTS_PREFIX + run


def profile_key(run: str) -> str:
    return PROFILE_PREFIX + run


def queue_key(shard: int) -> str:
    return f"{QUEUE_KEY}:{shard}"


def lease_key(shard: int) -> str:
    return f"{LEASE_PREFIX}{shard}"
