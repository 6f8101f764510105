"""End to end over a real redis-server: `crawl FILE --redis` (an owner and two workers)
finds what a local `crawl` of the same list finds."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests import redisserver
from tests.conftest import proxy_env, run_cli
from tests.test_e2e_discovery import ROUTES, SETTINGS, init, page
from tests.test_redis_scaleout import LEASE, OWNER, start

redis_server = redisserver.redis_server  # the fixture: a real redis-server per test

pytestmark = pytest.mark.e2e

#: A sixth site: a link to the site behind a redirect, a competitor link, a mention.
DELTA = {
    "delta-mag.com/": {"body": page('<a href="/old">old</a> <a href="/review">review</a>')},
    "delta-mag.com/old": {"status": 301, "location": "http://delta-mag.com/new"},
    "delta-mag.com/new": {
        "body": page("<p>See <a href='https://acme-widgets.com/'>Acme Widgets</a>.</p>")
    },
    "delta-mag.com/review": {
        "body": page("<p>WidgetPro or <a href='https://widgetco.com/x'>WidgetCo</a>?</p>")
    },
}
DOMAINS = (
    "alpha-blog.com\nhttp://beta-news.org/\ngamma-shop.net\ndown-site.com\n"
    "http://broken-site.com/\ndelta-mag.com\n"
)


def tables(db: str) -> dict[str, list[tuple]]:
    queries = {
        "backlinks": "select source_key, target_key, sources, status, reason from backlinks",
        "mentions": "select site, page_key, term, kind, linked, placement from mentions",
        "pages": "select site, page_key, page_links_to_site, reason from mention_pages",
        "rivals": "select site, competitor, page_key, target_key, follow from competitor_links",
        "contacts": "select page_key, kind, value from contacts",
        "outreach": "select site, page_key, status from outreach",
        "crawled": "select domain, url, depth, http_status, ok from crawl_pages",
        "domains": "select domain, state, stopped from crawl_domains",
        "checks": "select backlink_id, status, reason from checks",
        "runs": "select kind, state from runs",
    }
    with sqlite3.connect(db) as conn:
        return {name: sorted(conn.execute(sql).fetchall()) for name, sql in queries.items()}


def test_crawl_over_two_workers_finds_what_a_local_crawl_finds(
    web, redis_server, tmp_path: Path
) -> None:
    server = web(routes={**ROUTES, **DELTA})
    domains = tmp_path / "domains.txt"
    domains.write_text(DOMAINS, encoding="utf-8")
    db = str(tmp_path / "owner.db")
    init(db)
    local = str(tmp_path / "local.db")
    shutil.copy(db, local)
    done = run_cli(["crawl", str(domains), "--json", *SETTINGS, "--db", local], server)
    assert done.returncode == 0, done.stderr

    env = proxy_env(server)
    args = ["crawl", str(domains), "--redis", redis_server.url, "--json", *SETTINGS]
    owner = start([*args, "--db", db], env)
    worker = ["worker", "--redis", redis_server.url, "--exit-when-idle", "3", *SETTINGS, *LEASE]
    crew = [start(worker, env) for _ in range(2)]
    out, err = owner.communicate(timeout=90)
    assert owner.returncode == 0, err
    for child in crew:
        child.wait(timeout=30)
    assert [w.returncode for w in crew] == [0, 0], [w.stderr.read() for w in crew if w.stderr]

    assert out == done.stdout  # the same --json, domain by domain
    got, expected = tables(db), tables(local)
    assert got == expected
    assert ("delta-mag.com", "done") in [(d, s) for d, _, s in got["domains"]]
    assert got["runs"] == [("crawl", "finished")]
    assert server.hits("alpha-blog.com", "/page") == 2  # once per crawl


#: A slow site: a home page and 16 pages at 0.5 s each, some linking to the site or
#: mentioning it, so that a worker killed a few pages in has the domain half crawled.
SLOW = {
    "slow-mag.com/": {"body": page(" ".join(f'<a href="/s{i}">s{i}</a>' for i in range(16)))},
} | {
    f"slow-mag.com/s{i}": {
        "delay": 0.5,
        "body": page(
            "<p>See <a href='https://acme-widgets.com/'>Acme Widgets</a>.</p>"
            if i % 4 == 0
            else f"<p>WidgetPro review {i}.</p>"
        ),
    }
    for i in range(16)
}


def crawled_pages(db: str, domain: str) -> tuple[int, str | None]:
    """Pages of `domain` the owner has written, and the domain's state (None: not yet)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            pages = conn.execute(
                "select count(*) from crawl_pages where domain = ?", [domain]
            ).fetchone()[0]
            state = conn.execute(
                "select state from crawl_domains where domain = ?", [domain]
            ).fetchone()
    except sqlite3.OperationalError:
        return 0, None
    return int(pages), state[0] if state else None


def test_a_worker_killed_mid_domain_the_crawl_still_finds_it_all(
    web, redis_server, tmp_path: Path
) -> None:
    """The domain's job is queued again once its dead worker's lease has expired; the next
    worker skips the pages already received, and the crawl ends as a local one does."""
    server = web(routes={**ROUTES, **SLOW})
    domains = tmp_path / "domains.txt"
    domains.write_text("slow-mag.com\nalpha-blog.com\n", encoding="utf-8")
    db = str(tmp_path / "owner.db")
    init(db)
    local = str(tmp_path / "local.db")
    shutil.copy(db, local)
    done = run_cli(["crawl", str(domains), "--json", *SETTINGS, "--db", local], server)
    assert done.returncode == 0, done.stderr

    env = proxy_env(server)
    args = ["crawl", str(domains), "--redis", redis_server.url, "--json", *SETTINGS, *OWNER]
    owner = start([*args, "--db", db], env)
    worker = ["worker", "--redis", redis_server.url, "--exit-when-idle", "3", *SETTINGS, *LEASE]
    doomed = start(worker, env)
    deadline = time.monotonic() + 60
    pages, state = crawled_pages(db, "slow-mag.com")
    while pages < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
        pages, state = crawled_pages(db, "slow-mag.com")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    assert 4 <= pages < 17 and state == "pending", "the worker must be killed mid-domain"
    survivor = start(worker, env)
    out, err = owner.communicate(timeout=90)
    assert owner.returncode == 0, err
    survivor.wait(timeout=30)
    assert survivor.returncode == 0, survivor.stderr.read() if survivor.stderr else ""

    assert out == done.stdout  # the same --json, domain by domain
    assert tables(db) == tables(local)
    with sqlite3.connect(db) as conn:
        stats = json.loads(conn.execute("select stats from runs").fetchone()[0])
    assert stats["backcheck/redis/requeues"] >= 1
    assert stats["backcheck/redis/given_up"] == 0
