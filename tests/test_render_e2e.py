"""End to end: `verify --render never|auto|always` against pages whose links scripts add (issue 14).

The real CLI in a subprocess renders with the distribution's Chromium (installed by
`.ci/run`); skipped, with the reason, when it is not installed.
"""

from __future__ import annotations

import csv
import itertools
import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.virtualweb import VirtualWeb
from tests.conftest import FAST, report, run_cli

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed"),
]

TARGET = "https://acme.com/pricing"
LINK = f'<a href="{TARGET}">Blue Widgets</a>'


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head><title>t</title>{head}</head><body>{body}</body></html>"


ADD = (
    "var a=document.createElement('a');a.href='https://acme.com/pricing';"
    "a.textContent='Blue Widgets';document.getElementById('box').appendChild(a);"
)


def inserts(delay_ms: int | None = None) -> str:
    """A script that adds the link (`delay_ms` after load, else at once)."""
    add = ADD
    if delay_ms is not None:
        later = f"setTimeout(function(){{{add}}},{delay_ms})"
        add = f"window.addEventListener('load',function(){{{later}}});"
    return f'<div id="box"></div><script>{add}</script>'


ROUTES: dict[str, dict] = {
    "js.test/now": {"body": page(inserts())},
    "js.test/later": {"body": page(inserts(1000))},
    "js.test/external": {"body": page('<div id="box"></div><script src="/app.js"></script>')},
    "js.test/app.js": {"body": ADD, "content_type": "application/javascript"},
    "js.test/raw": {"body": page(LINK + "<script>var x = 1;</script>")},
    "js.test/nofollow": {
        "body": page(
            f'<p id="box">{LINK}</p><script>document.querySelector("a").rel="nofollow"</script>'
        )
    },
    "js.test/throws": {
        "body": page("<div id='box'></div><script>throw new Error('boom');</script>")
    },
    "js.test/busy": {
        "body": page(
            inserts() + "<script>setInterval(function(){fetch('/poll?'+Date.now())},200);</script>"
        )
    },
    "js.test/poll": {"body": "{}", "content_type": "application/json"},
    "js.test/noindex": {"body": page(inserts(), '<meta name="robots" content="noindex">')},
    "js.test/jsonld": {
        "body": page('<script type="application/ld+json">{"url": "https://acme.com/"}</script>')
    },
}

# source path -> (status, reason, rendered, found_in, follow) per mode
AUTO = {
    "now": ("live", None, True, "rendered", True),
    "later": ("live", None, True, "rendered", True),
    "external": ("live", None, True, "rendered", True),
    "raw": ("live", None, False, "raw", True),
    "nofollow": ("live", None, False, "raw", True),  # auto does not see a script change rel
    "throws": ("lost", "link_removed", True, None, None),
    "busy": ("live", None, True, "rendered", True),
    "noindex": ("lost", "noindex", False, None, None),
    "jsonld": ("lost", "link_removed", False, None, None),  # a data block runs nothing
}
ALWAYS = {
    **AUTO,
    "raw": ("live", None, True, "raw", True),
    "nofollow": ("live", None, True, "raw", False),
    "jsonld": ("lost", "link_removed", True, None, None),
}
NEVER = {
    path: ("lost", "link_removed", False, None, None)
    for path in ("now", "later", "external", "throws", "busy", "jsonld")
} | {
    "raw": ("live", None, False, "raw", True),
    "nofollow": ("live", None, False, "raw", True),
    "noindex": ("lost", "noindex", False, None, None),
}

SETTINGS = [*FAST, "-s", "BACKCHECK_RENDER_TIMEOUT=6", "-s", "BACKCHECK_READ_MENTIONS=0"]


def _setup(init_db: Callable[..., str], tmp_path: Path) -> str:
    db = init_db(tmp_path / "render.db", "--site", "acme.com")
    seeds = tmp_path / "links.csv"
    with seeds.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["source_url", "target_url"])
        for path in AUTO:
            writer.writerow([f"http://js.test/{path}", TARGET])
    assert run_cli(["import", str(seeds), "--db", db]).returncode == 0
    return db


def _verify(db: str, server: object, *args: str) -> dict[str, dict]:
    done = run_cli(["verify", "--json", *SETTINGS, *args, "--db", db], server)  # type: ignore[arg-type]
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["state"] == "finished"
    return {row["source_url"].rsplit("/", 1)[1]: row for row in report(Path(db))}


def _got(row: dict) -> tuple[object, ...]:
    return (row["status"], row["reason"], row["rendered"], row["found_in"], row["follow"])


@dataclass(frozen=True)
class Rendered:
    """A `verify --render MODE` run of ROUTES on a virtual web of its own, as it ended."""

    rows: dict[str, dict]  # the backlinks report, by source path
    details: dict[str, str]  # checks.detail, by source URL
    hits: dict[str, int]  # requests the virtual web received, by js.test path


@pytest.fixture
def rendered(once, init_db, tmp_path_factory) -> Callable[[str], Rendered]:  # type: ignore[no-untyped-def]
    """`rendered(mode)`: the run of `mode`, made once in the session (Chromium's part is
    the costly one): test_render_modes and test_redis_render's local run read one `auto`."""

    def run(mode: str) -> Rendered:
        folder = tmp_path_factory.mktemp(f"render-{mode}")
        db = _setup(init_db, folder)
        with VirtualWeb(routes=ROUTES) as server:
            rows = _verify(db, server, "--render", mode)
            hits = {path: server.hits("js.test", path) for path in ("/now", "/app.js", "/poll")}
        with sqlite3.connect(db) as conn:
            details = dict(
                conn.execute(
                    "select b.source_url, c.detail from checks c"
                    " join backlinks b on b.id = c.backlink_id"
                ).fetchall()
            )
        return Rendered(rows, details, hits)

    return lambda mode: once(f"render {mode}", lambda: run(mode))


@pytest.mark.parametrize(("mode", "expected"), [("auto", AUTO), ("always", ALWAYS)])
def test_render_modes(rendered, mode: str, expected: dict) -> None:  # type: ignore[no-untyped-def]
    run = rendered(mode)
    assert {path: _got(run.rows[path]) for path in expected} == expected
    assert "script error: boom" in run.details["http://js.test/throws"]
    assert "never quiet" in run.details["http://js.test/busy"]
    # the page itself is fetched once: the browser is handed the body already fetched
    assert run.hits["/now"] == 1
    assert run.hits["/app.js"] == 1
    # the noindex page is never rendered, so its script is never fetched
    assert run.hits["/poll"] > 0


def test_render_never_is_the_raw_verdict_and_moved_to_js(web, init_db, tmp_path: Path) -> None:
    server = web(routes=ROUTES)
    db = _setup(init_db, tmp_path)
    rows = _verify(db, server, "--render", "never")
    assert {path: _got(rows[path]) for path in NEVER} == NEVER
    assert server.hits("js.test", "/app.js") == 0
    # the raw link now comes from a script only: moved_to_js
    server.update({"js.test/raw": {"body": page(inserts())}})
    rows = _verify(db, server, "--render", "auto", "--new-run")
    assert _got(rows["raw"]) == ("live", None, True, "rendered", True)
    assert rows["raw"]["change"] == "moved_to_js"
    assert rows["now"]["change"] == "regained"


def test_render_without_chromium_keeps_the_raw_verdict(web, init_db, tmp_path: Path) -> None:
    server = web(routes={"js.test/now": ROUTES["js.test/now"]})
    db = init_db(tmp_path / "render.db", "--site", "acme.com")
    seeds = tmp_path / "links.csv"
    seeds.write_text(f"source_url,target_url\nhttp://js.test/now,{TARGET}\n")
    assert run_cli(["import", str(seeds), "--db", db]).returncode == 0
    missing = ["-s", "BACKCHECK_CHROMIUM=/nonexistent/chromium"]
    rows = _verify(db, server, "--render", "always", *missing)
    assert _got(rows["now"]) == ("lost", "link_removed", False, None, None)


SLOW_SCRIPTS = [f"/s{n}.js" for n in range(5)]
GATED: dict[str, dict] = {
    "gated.test/robots.txt": {
        "body": "User-agent: *\nDisallow: /private/\n",
        "content_type": "text/plain",
    },
    "gated.test/private/add.js": {"body": ADD, "content_type": "application/javascript"},
    "gated.test/disallowed": {
        "body": page('<div id="box"></div><script src="/private/add.js"></script>')
    },
    "gated.test/widget": {
        "body": page(
            '<div id="box"></div>'
            '<script src="http://www.googletagmanager.com/gtm.js"></script>'
            '<script src="http://widgets.test/embed.js"></script>'
            + "".join(f'<script src="http://slowjs.test{path}"></script>' for path in SLOW_SCRIPTS)
        )
    },
    "www.googletagmanager.com/gtm.js": {"body": ADD, "content_type": "application/javascript"},
    "widgets.test/embed.js": {"body": ADD, "content_type": "application/javascript"},
    **{
        f"slowjs.test{path}": {"body": "", "content_type": "application/javascript", "delay": 0.4}
        for path in SLOW_SCRIPTS
    },
}


def test_browser_requests_obey_robots_trackers_and_politeness(web, init_db, tmp_path: Path) -> None:
    """The browser's own requests: robots.txt obeyed, trackers blocked, our UA, bounded per host."""
    server = web(routes=GATED)
    db = init_db(tmp_path / "gated.db", "--site", "acme.com")
    seeds = tmp_path / "links.csv"
    seeds.write_text(
        f"source_url,target_url\nhttp://gated.test/disallowed,{TARGET}\n"
        f"http://gated.test/widget,{TARGET}\n"
    )
    assert run_cli(["import", str(seeds), "--db", db]).returncode == 0
    rows = _verify(db, server, "--render", "auto")
    # a script disallowed by its host's robots.txt is not fetched (as Google's renderer)
    assert _got(rows["disallowed"]) == ("lost", "link_removed", True, None, None)
    assert server.hits("gated.test", "/private/add.js") == 0
    # a known tracker is blocked; a third-party widget script runs, with our user agent
    assert _got(rows["widget"]) == ("live", None, True, "rendered", True)
    assert server.hits("www.googletagmanager.com", "/gtm.js") == 0
    agents = server.agents("widgets.test", "/embed.js")
    assert len(agents) == 1 and agents[0].startswith("backcheck/")
    assert server.hits("widgets.test", "/robots.txt") == 1  # once per host, through Scrapy
    # per-domain politeness: never more than CONCURRENT_REQUESTS_PER_DOMAIN (2) at once
    assert all(server.hits("slowjs.test", path) == 1 for path in SLOW_SCRIPTS)
    assert server.peak_in_flight["slowjs.test"] <= 2


def _add_from(script: str) -> str:
    return page(f'<div id="box"></div><script src="{script}"></script>')


def test_browser_requests_share_the_hosts_politeness_with_scrapy(
    web, init_db, tmp_path: Path
) -> None:
    """The browser's requests are Scrapy's: one download slot per host for both, with
    its delay, and a render never holds the slot its own scripts wait for."""
    slow = {"body": ADD, "content_type": "application/javascript", "delay": 0.3}
    routes: dict[str, dict] = {"polite.test/add.js": slow}
    for n in range(4):
        routes[f"polite.test/p{n}"] = {"body": _add_from(f"/add.js?{n}")}
    server = web(routes=routes)
    db = init_db(tmp_path / "polite.db", "--site", "acme.com")
    seeds = tmp_path / "links.csv"
    seeds.write_text(
        "source_url,target_url\n" + "".join(f"http://polite.test/p{n},{TARGET}\n" for n in range(4))
    )
    assert run_cli(["import", str(seeds), "--db", db]).returncode == 0
    polite = ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "DOWNLOAD_DELAY=0.4"]
    polite += ["-s", "RANDOMIZE_DOWNLOAD_DELAY=0"]
    rows = _verify(db, server, "--render", "auto", *polite)
    # same-host scripts under a limit of 1: the render's own slot is not the host's
    assert {_got(row) for row in rows.values()} == {("live", None, True, "rendered", True)}
    assert all(server.hits("polite.test", f"/add.js?{n}") == 1 for n in range(4))
    # pages (Scrapy) and scripts (the browser) alike: one at a time, DOWNLOAD_DELAY apart
    assert server.peak_in_flight["polite.test"] == 1
    times = sorted(t for t, host, _ in server.arrivals if host == "polite.test")
    assert len(times) == 9  # robots.txt, 4 pages, 4 scripts
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 0.35, gaps


def test_a_kept_page_renders_under_the_same_rules_as_a_new_one(
    web, init_db, tmp_path: Path
) -> None:
    """One page at a time, kept between renders: each render's requests still go through
    backcheck's gate (robots.txt, trackers, images, the page not fetched again)."""
    routes: dict[str, dict] = {
        "kept.test/robots.txt": {"body": "User-agent: *\nDisallow: /private/\n"},
        "kept.test/private/add.js": {"body": ADD, "content_type": "application/javascript"},
        "kept.test/img.png": {"body": "x", "content_type": "image/png"},
        "www.googletagmanager.com/gtm.js": {"body": ADD, "content_type": "text/javascript"},
    }
    body = page(
        '<div id="box"></div><img src="/img.png">'
        '<script src="http://www.googletagmanager.com/gtm.js"></script>'
        '<script src="/private/add.js"></script>'
    )
    pages = [f"/p{n}" for n in range(4)]
    routes |= {f"kept.test{path}": {"body": body} for path in pages}
    server = web(routes=routes)
    db = init_db(tmp_path / "kept.db", "--site", "acme.com")
    seeds = tmp_path / "links.csv"
    seeds.write_text(
        "source_url,target_url\n" + "".join(f"http://kept.test{path},{TARGET}\n" for path in pages)
    )
    assert run_cli(["import", str(seeds), "--db", db]).returncode == 0
    rows = _verify(db, server, "--render", "always", "-s", "BACKCHECK_RENDER_PAGES=1")
    assert {_got(row) for row in rows.values()} == {("lost", "link_removed", True, None, None)}
    assert [server.hits("kept.test", path) for path in pages] == [1, 1, 1, 1]
    assert server.hits("kept.test", "/private/add.js") == 0
    assert server.hits("kept.test", "/img.png") == 0
    assert server.hits("www.googletagmanager.com", "/gtm.js") == 0


def test_a_fetch_slower_than_the_stall_gets_its_wall_time(web, init_db, tmp_path: Path) -> None:
    """A script or an XHR that takes 3 s to arrive (longer than the page's clock is held
    for a pending fetch) is waited for within the render timeout, as a browser does; the
    clock running on meanwhile used to reach the timeout at once."""
    routes: dict[str, dict] = {
        "slow.test/add.js": {"body": ADD, "content_type": "application/javascript", "delay": 3},
        "slow.test/data": {"body": "{}", "content_type": "application/json", "delay": 3},
        "slow.test/script": {"body": _add_from("/add.js")},
        "slow.test/xhr": {
            "body": page(
                "<div id='box'></div><script>fetch('/data').then(function(){" + ADD + "})</script>"
            )
        },
    }
    server = web(routes=routes)
    db = init_db(tmp_path / "slow.db", "--site", "acme.com")
    seeds = tmp_path / "links.csv"
    seeds.write_text(
        f"source_url,target_url\nhttp://slow.test/script,{TARGET}\nhttp://slow.test/xhr,{TARGET}\n"
    )
    assert run_cli(["import", str(seeds), "--db", db]).returncode == 0
    rows = _verify(db, server, "--render", "auto", "-s", "DOWNLOAD_TIMEOUT=10")
    assert {path: _got(row) for path, row in rows.items()} == {
        "script": ("live", None, True, "rendered", True),
        "xhr": ("live", None, True, "rendered", True),
    }
