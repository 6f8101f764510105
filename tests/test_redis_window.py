"""End to end over a real redis-server: `verify --redis` with a time budget, and the
window of pages an owner keeps queued."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest
from redis import Redis

from crawler.cluster.keys import SHARDS_KEY, queue_key
from tests import redisserver
from tests.conftest import proxy_env, run_cli
from tests.test_redis_scaleout import (
    OWNER,
    checks_per_backlink,
    finish,
    import_links,
    link,
    page,
    start,
    workers,
)

redis_server = redisserver.redis_server  # the fixture: a real redis-server per test

pytestmark = pytest.mark.e2e


class QueueSampler(threading.Thread):
    """Samples the requests waiting in all shard queues until stopped; keeps the largest."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.client = Redis.from_url(url)
        self.stop = threading.Event()
        self.samples = 0
        self.peak = 0
        self.last = 0

    def run(self) -> None:
        while not self.stop.wait(0.02):
            shards = self.client.get(SHARDS_KEY)
            if shards is None:
                continue
            pipe = self.client.pipeline(transaction=True)  # one moment for every shard
            for shard in range(int(shards)):
                pipe.llen(queue_key(shard))
            self.last = sum(pipe.execute())
            self.peak = max(self.peak, self.last)
            self.samples += 1

    def __enter__(self) -> QueueSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join(timeout=5)
        self.client.close()


def test_a_small_window_checks_every_page_once(web, redis_server, init_db, tmp_path: Path) -> None:
    """30 pages through a window of 5: each backlink gets exactly one check, and the
    queues never hold more than the window (+ the site's one target page, pushed at the
    start)."""
    pages = 30
    routes = {
        f"h{i % 10}.blog.com/p{i}": {"delay": 0.05, "body": page(link())} for i in range(pages)
    }
    server = web(routes=routes)
    db = import_links(init_db, tmp_path, [f"http://{key}" for key in routes])
    env = proxy_env(server)
    args = ["verify", "--redis", redis_server.url, "--json", *OWNER, "--db", db]
    with QueueSampler(redis_server.url) as sampler:
        owner = start([*args, "-s", "BACKCHECK_REDIS_WINDOW=5"], env)
        crew = workers(redis_server, env, "-s", "CONCURRENT_REQUESTS=4", count=2)
        summary = finish(owner, crew)
    assert [w.returncode for w in crew] == [0, 0], [w.stderr.read() for w in crew if w.stderr]
    assert (summary["state"], summary["backlinks"], summary["live"]) == ("finished", pages, pages)
    checks, distinct, items, states = checks_per_backlink(db)
    assert checks == distinct == items == pages
    assert states == [("finished",)]
    assert sampler.samples > 0
    assert 1 <= sampler.peak <= 5 + 1
    with sqlite3.connect(db) as conn:
        stats = json.loads(conn.execute("select stats from runs").fetchone()[0])
    assert stats["backcheck/redis/given_up"] == 0
    assert stats["backcheck/redis/pages_pushed"] >= pages


def test_max_time_stops_cleanly_and_leaves_the_rest_due(
    web, redis_server, init_db, tmp_path: Path
) -> None:
    """As a local `verify --max-time`: the run ends `finished` when the time is up, the
    run's requests leave the queues, unchecked backlinks stay due, and the next `--due`
    run takes exactly the rest."""
    pages = 10
    routes = {f"h{i}.slow.blog.com/p": {"delay": 1, "body": page(link())} for i in range(pages)}
    server = web(routes=routes)
    db = import_links(init_db, tmp_path, [f"http://{key}" for key in routes])
    env = proxy_env(server)
    # One request at a time: a worker's downloader takes no page it cannot start.
    one_at_a_time = ["-s", "CONCURRENT_REQUESTS=1", "-s", "DOWNLOAD_TIMEOUT=20"]
    args = ["verify", "--due", "--redis", redis_server.url, "--json", *OWNER, "--db", db]
    owner = start([*args, "--max-time", "3s"], env)
    crew = workers(redis_server, env, *one_at_a_time, count=1)
    out, err = owner.communicate(timeout=60)
    assert owner.returncode == 0, err
    summary = json.loads(out)
    client = Redis.from_url(redis_server.url)
    try:  # the run's requests were withdrawn, its open and results keys are gone
        shards = int(client.get(SHARDS_KEY) or 0)
        assert sum(client.llen(queue_key(s)) for s in range(shards)) == 0
        assert not list(client.scan_iter(match="backcheck:open:*"))
        assert not list(client.scan_iter(match="backcheck:results:*"))
    finally:
        client.close()
    crew[0].wait(timeout=30)
    assert crew[0].returncode == 0, crew[0].stderr.read() if crew[0].stderr else ""
    # 1 s a page, one at a time: 3 s cannot reach them all (what was under way finished).
    assert summary["state"] == "finished" and summary["pending"] == 0, summary
    assert summary["backlinks"] < pages, summary
    fetched = sum(server.hits(f"h{i}.slow.blog.com", "/p") for i in range(pages))
    assert fetched < pages  # the worker fetched nothing after the owner stopped
    checks, distinct, items, states = checks_per_backlink(db)
    assert checks == distinct == items == summary["backlinks"]
    assert states == [("finished",)]
    with sqlite3.connect(db) as conn:
        left = conn.execute("select count(*) from backlinks where next_check_at is null")
        unchecked = left.fetchone()[0]
        stats = json.loads(conn.execute("select stats from runs").fetchone()[0])
    assert unchecked == pages - summary["backlinks"]
    assert stats["finish_reason"] == "closespider_timeout"

    # The next --due run (local, on the same web) takes exactly the rest; no budget now,
    # so its pages need not be slow.
    server.update({key: {"body": rule["body"]} for key, rule in routes.items()})
    again = start(["verify", "--due", "--json", *OWNER, "--db", db], env)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert json.loads(out)["backlinks"] == unchecked


@pytest.mark.parametrize("command", [["verify"], ["crawl", "domains.txt"]])
def test_processes_with_redis_is_a_usage_error(init_db, tmp_path: Path, command: list[str]) -> None:
    db = import_links(init_db, tmp_path, ["http://a.blog.com/p"])
    (tmp_path / "domains.txt").write_text("a.blog.com\n", encoding="utf-8")
    command = [str(tmp_path / arg) if arg.endswith(".txt") else arg for arg in command]
    args = [*command, "--redis", "redis://127.0.0.1:1/0", "--processes", "2", "--db", db]
    refused = run_cli(args)  # refused before any connection
    assert refused.returncode == 2
    # Why: each worker is a process, so more processes means more workers.
    assert "--processes does not apply with --redis: the workers are the processes" in (
        refused.stderr
    )
    assert "backcheck worker --processes N" in refused.stderr
