"""End to end over a real redis-server: an owner (`verify --redis`) and worker processes.

Every backlink ends with exactly one check in the run, with the verdict a local
`verify` gives on the same virtual web (and the same mentions, target pages and
outreach), even when a worker is SIGKILLed mid-run.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from redis import Redis
from sqlite_utils import Database

from crawler.cluster.keys import OPEN_PREFIX
from crawler.cluster.shards import shard_of_url
from tests import redisserver
from tests.conftest import FAST, ROOT, proxy_env, run_cli
from tests.redisserver import RedisServer
from verifier.models import Mention, MentionKind, PageMentions, Placement
from verifier.store import mentions, outreach

redis_server = redisserver.redis_server  # the fixture: a real redis-server per test

pytestmark = pytest.mark.e2e

#: The owner re-queues after 2 s of silence instead of 60: the kill test stays short.
OWNER = [*FAST, "-s", "BACKCHECK_REDIS_REQUEUE_AFTER=2"]
LEASE = ["-s", "BACKCHECK_REDIS_LEASE=3"]
#: A worker leaves after 1 s with no work anywhere. Workers are started once a run is open
#: (`wait_for_open_run`): while it is, there is work, so they can only leave after it.
IDLE = ["--exit-when-idle", "1"]


def page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>"


def link(text: str = "Blue Widgets", rel: str = "") -> str:
    rel = f' rel="{rel}"' if rel else ""
    return f'<p>Intro. <a href="https://acme.com/pricing"{rel}>{text}</a> more.</p>'


def mixed_web() -> dict[str, dict]:
    """30 referring pages: live, nofollow, lost, a 404, a redirect away, a dead host."""
    routes: dict[str, dict] = {}
    for i in range(20):
        routes[f"live{i % 5}.blog.com/p{i}"] = {"body": page(link())}
    for i in range(3):
        routes[f"nf.blog.com/p{i}"] = {"body": page(link(rel="nofollow"))}
    for i in range(3):
        routes[f"lost.blog.com/p{i}"] = {"body": page("<p>No link any more.</p>")}
    routes["gone.blog.com/p"] = {"status": 404}
    routes["moved.blog.com/p"] = {"status": 301, "location": "http://other.net/new"}
    routes["other.net/new"] = {"body": page(link("Acme"))}
    routes["dead.blog.com/p"] = {"drop": True}
    routes["err.blog.com/p"] = {"status": 500}
    return routes


#: Two lost backlinks' pages that mention Acme (new outreach targets; their site's contact
#: page is read once for both), and an open outreach target that now links to acme.com
#: (won) and to a competitor.
CONTACT = '<footer><a href="/contact">Contact us</a></footer>'
MENTIONS = {
    "lost.blog.com/p0": {"body": page(f"<p>Acme used to be linked here.</p>{CONTACT}")},
    "lost.blog.com/p1": {"body": page(f"<p>Acme? No link any more.</p>{CONTACT}")},
    "lost.blog.com/contact": {"body": page("<p>Mail: press [at] lost.blog [dot] com</p>")},
    # A lost backlink's page that redirects: its target is queued where it landed.
    "moving.blog.org/old": {"status": 301, "location": "http://moving.blog.org/new"},
    "moving.blog.org/new": {"body": page(f"<p>Acme moved with us.</p>{CONTACT}")},
    "moving.blog.org/contact": {"body": page("<a href='mailto:hi@moving.blog.org'>hi</a>")},
    "pitch.news.com/b": {
        "body": page(
            '<p>Acme widgets: <a href="http://acme.com/">Acme</a>,'
            ' or <a href="http://rival.com/">Rival</a>.</p>'
        )
    },
    "acme.com/old": {"status": 405},  # a target page that refuses HEAD (and GET)
    # An open target whose contact page never answered in an earlier run: read it now.
    "pitch.news.com/c": {"body": page("<p>Acme is great.</p><a href='/write'>Contact</a>")},
    "pitch.news.com/write": {"body": page("<a href='mailto:ed@pitch.news.com'>ed</a>")},
}
UNREAD = "http://pitch.news.com/c"


def import_links(
    init_db: Callable[..., str], tmp_path: Path, urls: list[str], *profile: str, extra: str = ""
) -> str:
    csv = tmp_path / "links.csv"
    csv.write_text(
        "source_url,target_url\n" + "".join(f"{u},https://acme.com/pricing\n" for u in urls) + extra
    )
    db = init_db(tmp_path / "owner.db", "--site", "acme.com", *profile)
    done = run_cli(["import", str(csv), "--db", db])
    assert done.returncode == 0, done.stderr
    return db


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def undelayed(routes: dict[str, dict]) -> dict[str, dict]:
    """The same pages without their delay: once a kill or a restart has landed mid-run
    (what the delays are for), the rest of the run need not wait for them."""
    return {key: {k: v for k, v in rule.items() if k != "delay"} for key, rule in routes.items()}


def wait_for_open_run(url: str, timeout: float = 30) -> None:
    """Wait until a run's owner is collecting (its key under OPEN_PREFIX is set)."""
    client = Redis.from_url(url)
    deadline = time.monotonic() + timeout
    try:
        while next(client.scan_iter(match=OPEN_PREFIX + "*"), None) is None:
            assert time.monotonic() < deadline, "no owner opened a run"
            time.sleep(0.05)
    finally:
        client.close()


def workers(
    redis: RedisServer, env: dict[str, str], *extra: str, count: int = 2
) -> list[subprocess.Popen[str]]:
    """`count` workers, once a run is open. A killed worker's shards go to another after
    3 s instead of 30."""
    wait_for_open_run(redis.url)
    args = ["worker", "--redis", redis.url, *IDLE, *FAST, *LEASE, *extra]
    return [start(args, env) for _ in range(count)]


def verdicts(db: str, run_id: int) -> dict[tuple[str, str], tuple]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select b.source_url, b.target_url, c.status, c.reason, c.follow, c.anchor"
            " from checks c join backlinks b on b.id = c.backlink_id where c.run_id = ?",
            [run_id],
        ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def discovery_rows(db: str) -> dict[str, list[tuple]]:
    """What a run read besides verdicts: mentions, target pages, outreach, new backlinks."""
    queries = {
        "pages": "select site, page_key, page_links_to_site, reason from mention_pages",
        "mentions": "select site, page_key, term, kind, linked from mentions",
        "targets": "select url_key, method, http_status, error from target_checks",
        "outreach": "select site, page_key, status from outreach",
        "rivals": "select site, competitor, page_key, target_key, follow from competitor_links",
        "contacts": "select page_key, kind, value from contacts",
        "backlinks": "select source_key, target_key, sources, status from backlinks",
    }
    with sqlite3.connect(db) as conn:
        return {name: sorted(conn.execute(sql).fetchall()) for name, sql in queries.items()}


def checks_per_backlink(db: str) -> tuple[int, int, int, list[tuple]]:
    with sqlite3.connect(db) as conn:
        checks, distinct = conn.execute(
            "select count(*), count(distinct backlink_id) from checks where run_id = 1"
        ).fetchone()
        items = conn.execute("select count(*) from run_items where run_id = 1").fetchone()[0]
        states = conn.execute("select state from runs").fetchall()
    return checks, distinct, items, states


def wait_for_checks(db: str, count: int, timeout: float = 30) -> int:
    """Wait until the owner has written `count` checks (or `timeout`); how many it has."""
    deadline = time.monotonic() + timeout
    checked = 0
    while time.monotonic() < deadline and checked < count:
        time.sleep(0.1)
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                checked = conn.execute("select count(*) from checks").fetchone()[0]
        except sqlite3.OperationalError:
            continue
    return int(checked)


def finish(owner: subprocess.Popen[str], others: list[subprocess.Popen[str]]) -> dict:
    out, err = owner.communicate(timeout=60)
    assert owner.returncode == 0, err
    for child in others:
        child.wait(timeout=30)
    return dict(json.loads(out))


def test_owner_and_two_workers_match_a_local_run(
    web, redis_server, init_db, tmp_path: Path
) -> None:
    """Two worker processes (`--processes 2`): the same checks, mentions, target pages and
    outreach as a local run."""
    routes = mixed_web()
    urls = [f"http://{key}" for key in routes if not key.startswith("other.net")]
    routes |= MENTIONS
    server = web(routes=routes)
    extra = "http://live0.blog.com/p0,http://acme.com/old\n"
    extra += "http://moving.blog.org/old,https://acme.com/pricing\n"
    db = import_links(
        init_db, tmp_path, urls, "--brand", "Acme", "--competitor", "rival.com", extra=extra
    )
    with Database(db) as conn:  # open outreach targets from an earlier run
        target = "http://pitch.news.com/b"
        outreach.open_target(conn, "acme.com", target, target, "2026-01-01T00:00:00")
        mention = Mention("Acme", MentionKind.TEXT, "Acme is great.", False, Placement.MAIN)
        write = "http://pitch.news.com/write"
        unread = PageMentions("acme.com", UNREAD, "verify", mentions=[mention], contact_url=write)
        mentions.record_pages(conn, None, [unread])  # its contact page: no answer came
    local = str(tmp_path / "local.db")
    shutil.copy(db, local)

    env = proxy_env(server)
    owner = start(["verify", "--redis", redis_server.url, "--json", *OWNER, "--db", db], env)
    crew = workers(redis_server, env, "--processes", "2", count=1)
    out, err = owner.communicate(timeout=60)
    assert owner.returncode == 0, err
    # The same database verified locally, while the worker waits out its idle time.
    done = run_cli(["verify", "--json", *FAST, "--db", local], server)
    assert done.returncode == 0, done.stderr
    crew[0].wait(timeout=30)
    summary = json.loads(out)
    assert [w.returncode for w in crew] == [0], [w.stderr.read() for w in crew if w.stderr]

    assert (summary["state"], summary["pending"]) == ("finished", 0)
    assert summary["backlinks"] == json.loads(done.stdout)["backlinks"]
    checks, distinct, items, states = checks_per_backlink(db)
    # + the page behind the redirect away, the extra target, what the outreach target gave
    assert checks == distinct == items == checks_per_backlink(local)[0] > len(urls) + 2
    assert states == [("finished",)]
    assert verdicts(db, 1) == verdicts(local, 1)
    found, expected = discovery_rows(db), discovery_rows(local)
    assert found == expected
    assert ("acme.com", "http://lost.blog.com/p0", "new") in found["outreach"]
    # The contact page's address, as a local run stores it: for both targets on the site.
    emails = [(key, value) for key, kind, value in found["contacts"] if kind == "email"]
    got_emails = sorted(value for _, value in emails)
    assert got_emails == [
        "ed@pitch.news.com",
        "hi@moving.blog.org",
        *["press@lost.blog.com"] * 2,
    ], found["contacts"]
    # The target whose contact page never answered had it read, and it is marked read.
    assert (UNREAD, "ed@pitch.news.com") in emails
    with Database(db) as conn:
        assert not outreach.wants_contacts(conn, "acme.com", UNREAD)
    assert ("acme.com", "http://pitch.news.com/b", "won") in found["outreach"]
    assert ("http://acme.com/old", "GET", 405, None) in found["targets"]
    assert len(found["rivals"]) == 1
    got = verdicts(db, 1)
    assert got[("http://gone.blog.com/p", "https://acme.com/pricing")][:2] == (
        "lost",
        "page_not_found",
    )
    assert got[("http://dead.blog.com/p", "https://acme.com/pricing")][:2] == (
        "unreachable",
        "connection_error",
    )

    # The next run: the lost pages are queued targets with their contacts read, so their
    # site's contact page is not fetched again, by a worker as by a local run; nor is
    # that of a page that redirects (its target is queued where it landed).
    contact_hits = server.hits("lost.blog.com", "/contact")
    assert contact_hits == 2  # once by the Redis run, once by the local one
    assert server.hits("moving.blog.org", "/contact") == 2
    owner = start(["verify", "--redis", redis_server.url, "--json", *OWNER, "--db", db], env)
    crew = workers(redis_server, env, count=1)
    out, err = owner.communicate(timeout=60)
    assert owner.returncode == 0, err
    crew[0].wait(timeout=30)
    assert json.loads(out)["state"] == "finished"
    # OWNER's REQUEUE_AFTER of 2 s is below the default 20 s render timeout (render auto)
    assert "BACKCHECK_REDIS_REQUEUE_AFTER (2 s) is not above" in err, err
    assert server.hits("lost.blog.com", "/p0") == 3
    assert server.hits("lost.blog.com", "/contact") == contact_hits
    assert server.hits("moving.blog.org", "/contact") == 2


def test_a_worker_killed_mid_run_loses_nothing(web, redis_server, init_db, tmp_path: Path) -> None:
    pages = 32
    routes = {
        f"h{i % 8}.slowblog.com/p{i}": {"delay": 0.3, "body": page(link())} for i in range(pages)
    }
    server = web(routes=routes)
    db = import_links(init_db, tmp_path, [f"http://{key}" for key in routes])
    env = proxy_env(server)
    owner = start(["verify", "--redis", redis_server.url, "--json", *OWNER, "--db", db], env)
    # One worker alone until it has sent checks: with pages still queued it then holds
    # requests in flight (CONCURRENT_REQUESTS=4) when it is killed, whatever the load.
    [doomed] = workers(redis_server, env, "-s", "CONCURRENT_REQUESTS=4", count=1)
    checked = wait_for_checks(db, 4)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    assert 4 <= checked < pages, "the worker must be killed mid-run"
    server.update(undelayed(routes))
    crew = [doomed, *workers(redis_server, env, "-s", "CONCURRENT_REQUESTS=4", count=1)]

    summary = finish(owner, crew)
    assert crew[1].returncode == 0, crew[1].stderr.read() if crew[1].stderr else ""
    assert (summary["state"], summary["backlinks"], summary["live"]) == ("finished", pages, pages)
    checks, distinct, items, states = checks_per_backlink(db)
    assert checks == distinct == items == pages
    assert states == [("finished",)]
    with sqlite3.connect(db) as conn:
        stats = json.loads(conn.execute("select stats from runs").fetchone()[0])
    assert stats["backcheck/redis/requeues"] >= 1  # what the killed worker held came back
    assert stats["backcheck/redis/given_up"] == 0


def test_a_killed_owner_is_resumed_by_the_next(web, redis_server, init_db, tmp_path: Path) -> None:
    pages = 24
    routes = {
        f"h{i % 6}.slowblog.com/p{i}": {"delay": 0.3, "body": page(link())} for i in range(pages)
    }
    server = web(routes=routes)
    db = import_links(init_db, tmp_path, [f"http://{key}" for key in routes])
    env = proxy_env(server)
    args = ["verify", "--redis", redis_server.url, "--json", *OWNER, "--db", db]
    owner = start(args, env)
    crew = workers(redis_server, env, "-s", "CONCURRENT_REQUESTS=4")
    checked = wait_for_checks(db, 4)
    owner.send_signal(signal.SIGKILL)
    owner.wait(timeout=10)
    assert 4 <= checked < pages, "the owner must be killed mid-run"

    again = start(args, env)
    summary = finish(again, crew)
    assert [w.returncode for w in crew] == [0, 0]
    assert (summary["run_id"], summary["state"], summary["live"]) == (1, "finished", pages)
    checks, distinct, items, states = checks_per_backlink(db)
    assert checks == distinct == items == pages
    assert states == [("finished",)]


def test_a_page_no_worker_answers_is_given_up(web, redis_server, init_db, tmp_path: Path) -> None:
    """A page whose fetch outlasts every re-queue gets one crawl_error check saying so."""
    routes = {f"ok.blog.com/p{i}": {"body": page(link())} for i in range(3)}
    routes["stuck.blog.com/p"] = {"delay": 60, "body": page(link())}
    server = web(routes=routes)
    db = import_links(init_db, tmp_path, [f"http://{key}" for key in routes])
    env = proxy_env(server)
    args = ["-s", "BACKCHECK_REDIS_MAX_REQUEUES=1", "-s", "BACKCHECK_REDIS_REQUEUE_AFTER=1"]
    owner = start(["verify", "--redis", redis_server.url, "--json", *FAST, *args, "--db", db], env)
    # The worker waits for the stuck page far longer than the owner waits for its check.
    [slow] = workers(redis_server, env, "-s", "DOWNLOAD_TIMEOUT=120", count=1)
    try:
        out, err = owner.communicate(timeout=60)
    finally:
        slow.kill()
        slow.wait(timeout=10)
    assert owner.returncode == 0, err
    summary = json.loads(out)
    assert (summary["state"], summary["live"], summary["unreachable"]) == ("finished", 3, 1)
    checks, distinct, items, _ = checks_per_backlink(db)
    assert checks == distinct == items == 4
    with sqlite3.connect(db) as conn:
        status, reason, detail = conn.execute(
            "select c.status, c.reason, c.detail from checks c join backlinks b"
            " on b.id = c.backlink_id where b.source_url = 'http://stuck.blog.com/p'"
        ).fetchone()
        stats = json.loads(conn.execute("select stats from runs").fetchone()[0])
    assert (status, reason) == ("unreachable", "crawl_error")
    assert "no worker returned a check" in detail and "1 re-queues" in detail
    assert (stats["backcheck/redis/requeues"], stats["backcheck/redis/given_up"]) == (1, 1)


def test_redis_restarted_mid_run(web, redis_server, init_db, tmp_path: Path) -> None:
    """Redis stopped and started again (append-only file on): the run still finishes,
    every backlink checked once."""
    pages = 24
    routes = {
        f"h{i % 6}.slowblog.com/p{i}": {"delay": 0.5, "body": page(link())} for i in range(pages)
    }
    server = web(routes=routes)
    db = import_links(init_db, tmp_path, [f"http://{key}" for key in routes])
    env = proxy_env(server)
    owner = start(["verify", "--redis", redis_server.url, "--json", *OWNER, "--db", db], env)
    crew = workers(redis_server, env, "-s", "CONCURRENT_REQUESTS=4", count=1)
    checked = wait_for_checks(db, 4)
    redis_server.restart()
    assert 4 <= checked < pages, "Redis must restart mid-run"
    server.update(undelayed(routes))

    summary = finish(owner, crew)
    assert crew[0].returncode == 0, crew[0].stderr.read() if crew[0].stderr else ""
    assert (summary["state"], summary["backlinks"], summary["live"]) == ("finished", pages, pages)
    checks, distinct, items, states = checks_per_backlink(db)
    assert checks == distinct == items == pages
    assert states == [("finished",)]


def test_one_host_has_one_request_in_flight_across_workers(
    web, redis_server, init_db, tmp_path: Path
) -> None:
    """Cluster-wide politeness: with CONCURRENT_REQUESTS_PER_DOMAIN=1 and AutoThrottle off,
    two workers never have two requests on one host at once (its robots.txt and pages
    redirected to it from another domain's shard included): each referring domain's
    shard is popped by one worker at a time."""
    busy = "busy.blog.com"
    slow = {"delay": 0.2, "body": page(link())}
    routes = {f"{busy}/p{i}": slow for i in range(16)}
    routes[f"{busy}/robots.txt"] = {"delay": 0.2, "body": "User-agent: *\nAllow: /\n"}
    routes |= {f"www.site{i}.org/p": slow for i in range(8)}  # other shards, mostly
    routes |= {f"hop{i}.away.org/p": {"location": f"http://{busy}/moved{i}"} for i in range(3)}
    routes |= {f"{busy}/moved{i}": slow for i in range(3)}
    assert shard_of_url("http://hop0.away.org/p", 64) != shard_of_url(f"http://{busy}/", 64)
    server = web(routes=routes)
    urls = [f"http://{key}" for key in routes if "/moved" not in key and "robots" not in key]
    db = import_links(init_db, tmp_path, urls)
    env = proxy_env(server)
    owner = start(["verify", "--redis", redis_server.url, "--json", *OWNER, "--db", db], env)
    crew = workers(redis_server, env, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")

    summary = finish(owner, crew)
    assert [w.returncode for w in crew] == [0, 0], [w.stderr.read() for w in crew if w.stderr]
    assert (summary["state"], summary["live"]) == ("finished", len(urls))
    assert server.hits(busy) == 16 + 1 + 3
    assert server.peak_in_flight[busy] == 1
    assert max(server.peak_in_flight.values()) == 1
