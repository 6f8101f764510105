"""End to end over a real redis-server: `verify --redis --render auto` renders on the workers.

A run spread over workers gives the verdicts of a local run, rendered pages
included: a link that only a script adds is live (`found_in` rendered) on a worker
as it is locally, and the page's result is sent only once its render is done.
A worker started with BACKCHECK_RENDER=never cannot render: its pages keep their
raw verdict and `detail` says why.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests import redisserver, test_render_e2e
from tests.conftest import FAST, proxy_env, report, run_cli
from tests.redisserver import RedisServer
from tests.test_redis_scaleout import finish, start, workers
from tests.test_render_e2e import AUTO, NEVER, ROUTES, SETTINGS, TARGET, _got, _setup

redis_server = redisserver.redis_server  # the fixture: a real redis-server per test
rendered = test_render_e2e.rendered  # the fixture: a local render run, made once a session

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed"),
]

RENDER = SETTINGS[len(FAST) :]  # the render timeout, no mentions
assert SETTINGS[: len(FAST)] == FAST
#: Longer than a render (the busy page's 6 s timeout): the owner re-queues a page only
#: after that much silence, and a page's result waits for its render.
OWNER = [*FAST, "-s", "BACKCHECK_REDIS_REQUEUE_AFTER=20"]


def _details(db: str) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select b.source_url, c.detail from checks c join backlinks b on b.id = c.backlink_id"
        ).fetchall()
    return {url.rsplit("/", 1)[1]: detail or "" for url, detail in rows}


def _cluster(db: str, server: object, redis: RedisServer, *worker_args: str) -> dict[str, dict]:
    env = proxy_env(server)  # type: ignore[arg-type]
    args = ["verify", "--redis", redis.url, "--render", "auto", "--json", *OWNER, *RENDER]
    owner = start([*args, "--db", db], env)
    crew = workers(redis, env, *RENDER, *worker_args, count=1)
    summary = finish(owner, crew)
    assert (summary["state"], summary["pending"]) == ("finished", 0)
    return {row["source_url"].rsplit("/", 1)[1]: row for row in report(Path(db))}


def test_workers_render_as_a_local_run(
    web, redis_server, rendered, init_db, tmp_path: Path
) -> None:
    server = web(routes=ROUTES)
    db = _setup(init_db, tmp_path)
    # The local run of the same database on the same routes (test_render_modes reads it).
    expected = rendered("auto").rows
    rows = _cluster(db, server, redis_server)
    assert {path: _got(rows[path]) for path in AUTO} == AUTO
    assert {path: _got(row) for path, row in rows.items()} == {
        path: _got(row) for path, row in expected.items()
    }
    details = _details(db)
    assert "script error: boom" in details["throws"]
    assert "never quiet" in details["busy"]
    # the page is fetched once (the browser is handed its body), its script once: the
    # worker's fetches (the local run had a virtual web of its own)
    assert server.hits("js.test", "/now") == 1
    assert server.hits("js.test", "/app.js") == 1


def test_a_worker_that_does_not_render_says_so(web, redis_server, init_db, tmp_path: Path) -> None:
    server = web(routes={key: ROUTES[key] for key in ("js.test/now", "js.test/raw")})
    db = init_db(tmp_path / "render.db", "--site", "acme.com")
    _import_two(db, tmp_path)
    rows = _cluster(db, server, redis_server, "-s", "BACKCHECK_RENDER=never")
    assert _got(rows["now"]) == NEVER["now"]
    assert _got(rows["raw"]) == NEVER["raw"]
    assert "this worker runs with BACKCHECK_RENDER=never" in _details(db)["now"]


def _import_two(db: str, tmp_path: Path) -> None:
    seeds = tmp_path / "links.csv"
    seeds.write_text(
        f"source_url,target_url\nhttp://js.test/now,{TARGET}\nhttp://js.test/raw,{TARGET}\n"
    )
    assert run_cli(["import", str(seeds), "--db", db]).returncode == 0
