"""End to end: rendering that goes wrong keeps the raw verdict, says why, and ends (issue 14).

A page that cannot be read at all (a script busy forever), a browser killed in the
middle of a run, a browser that cannot start: the run finishes, every backlink gets a
verdict (the raw one where the render failed, with `detail` saying why) and pages
after a crash are rendered by a browser started again. The real CLI in a subprocess,
the distribution's Chromium; skipped when it is not installed.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FAST, run_cli

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed"),
]

TARGET = "https://acme.com/pricing"
ADD = (
    "var a=document.createElement('a');a.href='https://acme.com/pricing';"
    "a.textContent='Blue Widgets';document.body.appendChild(a);"
)


def page(script: str) -> dict[str, str]:
    return {
        "body": f"<!DOCTYPE html><html><head><title>t</title></head><body>{script}</body></html>"
    }


#: Never quiet: the link is there at once, then a poll every 200 ms until the timeout.
POLLING = page(f"<script>{ADD}setInterval(function(){{fetch('/poll?'+Date.now())}},200);</script>")
BUSY: dict[str, dict] = {
    # the parser never gets past the script: no load event, nothing to read
    "busy.test/parse": page(f"<script>while(true){{}}</script><script>{ADD}</script>"),
    # loads, then spins: the page cannot be asked for its DOM
    "busy.test/load": page(
        f"<script>{ADD}window.addEventListener('load',function(){{while(true){{}}}});</script>"
    ),
    "fine.test/now": page(f"<script>{ADD}</script>"),
    "slow.test/poll": {"body": "{}", "content_type": "application/json"},
}


def _setup(init_db: Callable[..., str], tmp_path: Path, sources: list[str]) -> str:
    db = init_db(tmp_path / "faults.db", "--site", "acme.com")
    seeds = tmp_path / "links.csv"
    with seeds.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["source_url", "target_url"])
        writer.writerows([source, TARGET] for source in sources)
    assert run_cli(["import", str(seeds), "--db", db]).returncode == 0
    return db


def _verify(db: str, server: object, *args: str, timeout: float = 90) -> dict:
    settings = [*FAST, "-s", "BACKCHECK_READ_MENTIONS=0", "--processes", "1"]
    done = run_cli(
        ["verify", "--json", "--render", "auto", *settings, *args, "--db", db],
        server,  # type: ignore[arg-type]
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["state"] == "finished"
    return summary


def _checks(db: str) -> dict[str, tuple]:
    sql = (
        "select b.source_url, c.status, c.reason, c.rendered, c.found_in, c.detail"
        " from checks c join backlinks b on b.id = c.backlink_id"
    )
    rows = sqlite3.connect(db).execute(sql).fetchall()
    return {url.removeprefix("http://"): tuple(rest) for url, *rest in rows}


def _stats(db: str) -> dict:
    (stats,) = sqlite3.connect(db).execute("select stats from runs").fetchone()
    return json.loads(stats)


def test_a_page_that_cannot_be_read_keeps_its_raw_verdict(web, init_db, tmp_path: Path) -> None:
    server = web(routes=BUSY)
    db = _setup(
        init_db,
        tmp_path,
        ["http://busy.test/parse", "http://busy.test/load", "http://fine.test/now"],
    )
    started = time.monotonic()
    _verify(db, server, "-s", "BACKCHECK_RENDER_TIMEOUT=3")
    # two renders of at most the timeout each, at once, plus start-up and the browser
    assert time.monotonic() - started < 30
    checks = _checks(db)
    for path in ("busy.test/parse", "busy.test/load"):
        status, reason, rendered, found_in, detail = checks[path]
        assert (status, reason, rendered, found_in) == ("lost", "link_removed", 0, None), path
        assert "render failed" in detail and "Timeout" in detail, (path, detail)
    assert checks["fine.test/now"][:4] == ("live", None, 1, "rendered")


def _dying_chromium(tmp_path: Path, after_s: float) -> Path:
    """A BACKCHECK_CHROMIUM whose first browser is killed `after_s` seconds after it
    started; the ones started after it live."""
    marker = tmp_path / "first-browser-started"
    wrapper = tmp_path / "chromium"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'if [ -e "{marker}" ]; then exec "{shutil.which("chromium")}" "$@"; fi\n'
        f'touch "{marker}"\n'
        f'"{shutil.which("chromium")}" "$@" &\n'
        "browser=$!\n"
        f"(sleep {after_s}; kill -9 $browser) &\n"
        "wait $browser\n"
    )
    wrapper.chmod(0o755)
    return wrapper


def test_a_browser_killed_mid_run_is_started_again(web, init_db, tmp_path: Path) -> None:
    sources = [f"slow.test/p{n}" for n in range(8)]
    # Each poll answers in 0.3 s (the page's clock waits for it), so a render lasts its
    # 4 s of wall time whatever the machine's speed (a fast one ran the page's 4 s of
    # polling in under 2 s: the first four were done before the browser died).
    slow_poll = {"body": "{}", "content_type": "application/json", "delay": 0.3}
    server = web(
        routes={**{path: POLLING for path in sources}, **BUSY, "slow.test/poll": slow_poll}
    )
    db = _setup(init_db, tmp_path, [f"http://{path}" for path in sources])
    chromium = _dying_chromium(tmp_path, after_s=2.0)
    # Four pages render at once, each until the 4 s timeout (never quiet): the browser
    # dies under the first four; the next four get a new browser.
    _verify(db, server, "-s", f"BACKCHECK_CHROMIUM={chromium}", "-s", "BACKCHECK_RENDER_TIMEOUT=4")
    checks = _checks(db)
    assert set(checks) == set(sources)  # every backlink has a verdict
    failed = {path: c for path, c in checks.items() if c[2] == 0}
    rendered = {path: c for path, c in checks.items() if c[2] == 1}
    assert failed and rendered, checks
    for status, reason, _, _, detail in failed.values():
        assert (status, reason) == ("lost", "link_removed")
        assert "render failed" in detail, detail
    for status, _, _, found_in, detail in rendered.values():
        assert (status, found_in) == ("live", "rendered")
        assert "never quiet" in detail
    assert _stats(db)["backcheck/render/browser_restarts"] >= 1


def test_a_browser_that_cannot_start_keeps_raw_verdicts(web, init_db, tmp_path: Path) -> None:
    server = web(routes=BUSY)
    sources = ["http://fine.test/now", "http://busy.test/load"]
    db = _setup(init_db, tmp_path, sources)
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\necho 'cannot start' >&2\nexit 1\n")
    broken.chmod(0o755)
    _verify(db, server, "-s", f"BACKCHECK_CHROMIUM={broken}", timeout=60)
    for status, reason, rendered, _, detail in _checks(db).values():
        assert (status, reason, rendered) == ("lost", "link_removed", 0)
        assert "render failed" in detail, detail


def test_contexts_are_recycled_without_stalling_the_run(web, init_db, tmp_path: Path) -> None:
    """A fresh context every 2 renders: more contexts than pages at once, every page done.

    Scrapy downloads render requests in another order than it made them: a context
    picked when the request was made once stalled a run for good at the first recycle.
    """
    sources = [f"fine.test/p{n}" for n in range(10)]
    server = web(routes={path: BUSY["fine.test/now"] for path in sources})
    db = _setup(init_db, tmp_path, [f"http://{path}" for path in sources])
    _verify(db, server, "-s", "BACKCHECK_RENDER_RECYCLE=2", timeout=60)
    assert {c[:4] for c in _checks(db).values()} == {("live", None, 1, "rendered")}
    stats = _stats(db)
    assert stats["playwright/context_count"] >= 5
    assert stats["playwright/page_count/max_concurrent"] <= 4 * 2  # the current and one retiring


def test_a_fetch_that_never_ends_does_not_stop_the_page_clock(web, init_db, tmp_path: Path) -> None:
    """The page's clock stands still while a fetch is pending (as Google's renderer's):
    a long poll would hold it for good, so after a while it runs on regardless, and a
    link a timer adds meanwhile is seen. The page never goes quiet: read at the timeout."""
    later = f"setTimeout(function(){{{ADD}}},300)"
    server = web(
        routes={
            "hang.test/page": page(f"<script>fetch('/poll');{later}</script>"),
            "hang.test/poll": {"delay": 60, "body": "{}", "content_type": "application/json"},
            "hang.test/robots.txt": {"body": "User-agent: *\nAllow: /\n"},
        }
    )
    db = _setup(init_db, tmp_path, ["http://hang.test/page"])
    _verify(db, server, "-s", "BACKCHECK_RENDER_TIMEOUT=4", "-s", "DOWNLOAD_TIMEOUT=5")
    status, reason, rendered, found_in, detail = _checks(db)["hang.test/page"]
    assert (status, reason, rendered, found_in) == ("live", None, 1, "rendered"), detail
    assert "never quiet" in detail, detail
    assert server.hits("hang.test", "/poll") == 1
