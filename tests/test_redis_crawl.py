"""End to end over a real redis-server: `crawl FILE --redis` (an owner and two workers)
finds what a local `crawl` of the same list finds."""

from __future__ import annotations

import json
import re
import shutil
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlite_utils import Database

from tests import redisserver
from tests.conftest import proxy_env, run_cli
from tests.test_e2e_discovery import PROFILE, ROUTES, SETTINGS, SITE, page
from tests.test_redis_scaleout import IDLE, LEASE, OWNER, start, undelayed, wait_for_open_run
from tests.test_redis_window import QueueSampler
from verifier.models import Mention, MentionKind, PageMentions, Placement
from verifier.store import mentions, outreach

redis_server = redisserver.redis_server  # the fixture: a real redis-server per test

pytestmark = pytest.mark.e2e

#: A sixth site: a link to the site behind a redirect, a competitor link, a mention, and
#: a page moved to another registered domain.
DELTA = {
    "delta-mag.com/": {
        "body": page('<a href="/old">old</a> <a href="/review">review</a> <a href="/moved">m</a>')
    },
    "delta-mag.com/old": {"status": 301, "location": "http://delta-mag.com/new"},
    "delta-mag.com/new": {
        "body": page("<p>See <a href='https://acme-widgets.com/'>Acme Widgets</a>.</p>")
    },
    "delta-mag.com/review": {
        "body": page(
            "<p>WidgetPro or <a href='https://widgetco.com/x'>WidgetCo</a>?</p>"
            "<a href='/desk'>Contact</a>"
        )
    },
    "delta-mag.com/desk": {"body": page("<a href='mailto:desk@delta-mag.com'>desk</a>")},
    # A page that moved to another registered domain, where backlinks are known too.
    "delta-mag.com/moved": {"status": 301, "location": "http://epsilon-news.net/landed"},
    "epsilon-news.net/landed": {
        "body": page(
            "<p><a href='https://acme-widgets.com/'>Acme Widgets</a>"
            " and <a href='https://widgetco.com/'>WidgetCo</a>.</p>"
        )
    },
}
#: Backlinks known on the moved page and where it landed, the site's and a competitor's.
KNOWN = {
    None: (
        "http://delta-mag.com/moved,https://acme-widgets.com/\n"
        "http://epsilon-news.net/landed,https://acme-widgets.com/\n"
    ),
    "widgetco.com": (
        "http://delta-mag.com/moved,https://widgetco.com/\n"
        "http://epsilon-news.net/landed,https://widgetco.com/\n"
    ),
}
REVIEW, DESK = "http://delta-mag.com/review", "http://delta-mag.com/desk"
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
    web, redis_server, init_db, tmp_path: Path
) -> None:
    server = web(routes={**ROUTES, **DELTA})
    domains = tmp_path / "domains.txt"
    domains.write_text(DOMAINS, encoding="utf-8")
    db = init_db(tmp_path / "owner.db", *PROFILE)
    for competitor, rows in KNOWN.items():
        known = tmp_path / f"known-{competitor}.csv"
        known.write_text("source_url,target_url\n" + rows, encoding="utf-8")
        more = ["--competitor", competitor] if competitor else []
        imported = run_cli(["import", str(known), *more, "--db", db])
        assert imported.returncode == 0, imported.stderr
    # The review page is an open target already, whose contact page never answered in an
    # earlier run: both crawls read it this time.
    with Database(db) as conn:
        mention = Mention("WidgetPro", MentionKind.TEXT, "WidgetPro", False, Placement.MAIN)
        review = PageMentions(SITE, REVIEW, "crawl", mentions=[mention], contact_url=DESK)
        mentions.record_pages(conn, None, [review])
    local = str(tmp_path / "local.db")
    shutil.copy(db, local)

    env = proxy_env(server)
    args = ["crawl", str(domains), "--redis", redis_server.url, "--json", *SETTINGS]
    owner = start([*args, "--db", db], env)
    worker = ["worker", "--redis", redis_server.url, *IDLE, *SETTINGS, *LEASE]
    wait_for_open_run(redis_server.url)
    crew = [start(worker, env) for _ in range(2)]
    out, err = owner.communicate(timeout=90)
    assert owner.returncode == 0, err
    # The same list crawled locally, while the workers wait out their idle time.
    done = run_cli(["crawl", str(domains), "--json", *SETTINGS, "--db", local], server)
    assert done.returncode == 0, done.stderr
    for child in crew:
        child.wait(timeout=30)
    assert [w.returncode for w in crew] == [0, 0], [w.stderr.read() for w in crew if w.stderr]

    assert out == done.stdout  # the same --json, domain by domain
    got, expected = tables(db), tables(local)
    assert got == expected
    assert ("delta-mag.com", "done") in [(d, s) for d, _, s in got["domains"]]
    assert got["runs"] == [("crawl", "finished")]
    assert (REVIEW, "email", "desk@delta-mag.com") in got["contacts"]
    for db_file in (db, local):
        with Database(db_file) as conn:
            assert not outreach.wants_contacts(conn, SITE, REVIEW)
    assert server.hits("alpha-blog.com", "/page") == 2  # once per crawl
    # The moved page's backlinks are lost; those where it landed (another domain) are not
    # this crawl's to judge: unchecked, in both crawls.
    for db_file in (db, local):
        with sqlite3.connect(db_file) as conn:
            judged = conn.execute(
                "select b.site, b.source_url, c.status, c.reason from backlinks b"
                " left join checks c on c.backlink_id = b.id where b.sources = 'csv'"
                " order by b.site, b.source_url"
            ).fetchall()
        assert judged == [
            ("acme-widgets.com", "http://delta-mag.com/moved", "lost", "redirected_away"),
            ("acme-widgets.com", "http://epsilon-news.net/landed", None, None),
            ("widgetco.com", "http://delta-mag.com/moved", "lost", "redirected_away"),
            ("widgetco.com", "http://epsilon-news.net/landed", None, None),
        ], db_file


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
    web, redis_server, init_db, tmp_path: Path
) -> None:
    """The domain's job is queued again once its dead worker's lease has expired; the next
    worker skips the pages already received, and the crawl ends as a local one does."""
    server = web(routes={**ROUTES, **SLOW})
    domains = tmp_path / "domains.txt"
    domains.write_text("slow-mag.com\nalpha-blog.com\n", encoding="utf-8")
    db = init_db(tmp_path / "owner.db", *PROFILE)
    local = str(tmp_path / "local.db")
    shutil.copy(db, local)

    env = proxy_env(server)
    args = ["crawl", str(domains), "--redis", redis_server.url, "--json", *SETTINGS, *OWNER]
    records_every = ["-s", "BACKCHECK_PROGRESS_RECORD_S=0.5"]  # not a terminal: records
    owner = start([*args, *records_every, "--db", db], env)
    worker = ["worker", "--redis", redis_server.url, *IDLE, *SETTINGS, *LEASE]
    wait_for_open_run(redis_server.url)
    doomed = start(worker, env)
    deadline = time.monotonic() + 60
    pages, state = crawled_pages(db, "slow-mag.com")
    while pages < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
        pages, state = crawled_pages(db, "slow-mag.com")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    assert 4 <= pages < 17 and state == "pending", "the worker must be killed mid-domain"
    server.update(undelayed(SLOW))
    survivor = start(worker, env)
    out, err = owner.communicate(timeout=90)
    assert owner.returncode == 0, err
    # The same list crawled locally, while the survivor waits out its idle time.
    local_web = web(routes={**ROUTES, **undelayed(SLOW)})
    done = run_cli(["crawl", str(domains), "--json", *SETTINGS, "--db", local], local_web)
    assert done.returncode == 0, done.stderr
    survivor.wait(timeout=30)
    assert survivor.returncode == 0, survivor.stderr.read() if survivor.stderr else ""

    assert out == done.stdout  # the same --json, domain by domain
    assert tables(db) == tables(local)
    with sqlite3.connect(db) as conn:
        stats = json.loads(conn.execute("select stats from runs").fetchone()[0])
    assert stats["backcheck/redis/requeues"] >= 1
    assert stats["backcheck/redis/given_up"] == 0
    # The owner shows the crawl's progress as a local crawl does: domains done, pages read.
    records = [line for line in err.splitlines() if line.startswith("progress: ")]
    assert records and all("/2 domains" in line for line in records), err
    assert re.match(r"progress: [12]/2 domains .*, (?!0\.0 )[0-9.]+ pages/s", records[-1]), records


def test_a_resumed_owner_queues_each_domain_once(
    web, redis_server, init_db, tmp_path: Path
) -> None:
    """A window of 2 domain jobs. An owner killed before any worker came leaves 2 jobs
    queued: the next takes them out and queues them again (2 queued, never 4). That one is
    killed while a worker (one domain at a time) crawls the slow domain: the third leaves
    the slow domain to its worker. Each domain is crawled once, as a local crawl does."""
    server = web(routes={**ROUTES, **SLOW})
    domains = tmp_path / "domains.txt"
    domains.write_text(
        "slow-mag.com\nalpha-blog.com\nhttp://beta-news.org/\ngamma-shop.net\n", encoding="utf-8"
    )
    db = init_db(tmp_path / "owner.db", *PROFILE)
    local = str(tmp_path / "local.db")
    shutil.copy(db, local)

    env = proxy_env(server)
    args = ["crawl", str(domains), "--redis", redis_server.url, "--json", *SETTINGS, *OWNER]
    args += ["-s", "BACKCHECK_REDIS_WINDOW=2", "--db", db]
    worker = ["worker", "--redis", redis_server.url, *IDLE, *SETTINGS, *LEASE]
    with QueueSampler(redis_server.url) as sampler:
        first = start(args, env)
        deadline = time.monotonic() + 30
        while sampler.last < 2 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert sampler.last == 2, "the first owner must queue its window"

        second = start(args, env)
        time.sleep(2)  # its jobs pushed before a worker takes any (else the peak proves less)
        wait_for_open_run(redis_server.url)  # open since the first owner's start
        crew = [start([*worker, "-s", "BACKCHECK_CRAWL_DOMAINS_AT_ONCE=1"], env)]
        deadline = time.monotonic() + 60
        pages, state = crawled_pages(db, "slow-mag.com")
        while pages < 2 and time.monotonic() < deadline and second.poll() is None:
            time.sleep(0.1)
            pages, state = crawled_pages(db, "slow-mag.com")
        second.send_signal(signal.SIGKILL)
        second.wait(timeout=10)
        assert 2 <= pages < 17 and state == "pending", "the owner must be killed mid-domain"

        third = start(args, env)
        out, err = third.communicate(timeout=90)
        assert third.returncode == 0, err
        # The same list crawled locally, while the worker waits out its idle time.
        local_web = web(routes={**ROUTES, **undelayed(SLOW)})
        done = run_cli(["crawl", str(domains), "--json", *SETTINGS, "--db", local], local_web)
        assert done.returncode == 0, done.stderr
        crew[0].wait(timeout=30)
    assert crew[0].returncode == 0, crew[0].stderr.read() if crew[0].stderr else ""

    assert out == done.stdout
    assert tables(db) == tables(local)
    assert sampler.peak == 2
    # Every domain was crawled once, as the local crawl fetched it: the slow domain by its
    # worker only, each queued job once.
    assert Counter(server.requests) == Counter(local_web.requests)
