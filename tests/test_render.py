"""Which pages are rendered, how a rendered verdict joins the raw one (verdict/render.py),
and when a render is over (crawler/render.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler import render
from verifier.models import BacklinkRef, Change, Check, Fetch, FoundIn, Reason, Status
from verifier.verdict.classify import check_fetch
from verifier.verdict.history import Baseline, change
from verifier.verdict.render import (
    RenderMode,
    has_executable_script,
    join_rendered,
    needs_render,
    rejoin,
)

TARGET = "https://acme.com/pricing"
NEVER, AUTO, ALWAYS = RenderMode.NEVER, RenderMode.AUTO, RenderMode.ALWAYS


def check(reason: Reason | None = None, status: Status | None = None, **kw: object) -> Check:
    status = status or (Status.LIVE if reason is None else Status.LOST)
    return Check(1, status, reason, **kw)  # type: ignore[arg-type]


LIVE = check(observed_target=TARGET, link_count=1, target_changed=False)
OTHER_TARGET = check(observed_target="https://acme.com/", link_count=1, target_changed=True)
REMOVED = check(Reason.LINK_REMOVED)
NOINDEX = check(Reason.NOINDEX)
NOT_CANONICAL = check(Reason.NOT_CANONICAL)
NOT_FOUND = check(Reason.PAGE_NOT_FOUND)
TIMEOUT = check(Reason.TIMEOUT, Status.UNREACHABLE)


@pytest.mark.parametrize(
    ("mode", "checks", "script", "expected"),
    [
        (NEVER, [REMOVED], True, False),
        (AUTO, [REMOVED], True, True),
        (AUTO, [REMOVED], False, False),  # nothing runs on the page
        (AUTO, [OTHER_TARGET], True, True),  # no link to the expected target
        (AUTO, [LIVE], True, False),
        (AUTO, [NOT_CANONICAL], True, False),
        (AUTO, [NOINDEX], True, False),
        (AUTO, [REMOVED, NOINDEX], True, False),  # noindex is the page's: never rendered
        (AUTO, [LIVE, REMOVED], True, True),
        (AUTO, [NOT_FOUND], True, False),
        (AUTO, [TIMEOUT], True, False),
        (ALWAYS, [LIVE], False, True),
        (ALWAYS, [NOT_CANONICAL], False, True),
        (ALWAYS, [NOINDEX], True, False),
        (ALWAYS, [NOT_FOUND], True, False),
        (ALWAYS, [TIMEOUT], True, False),
        (ALWAYS, [], True, False),
    ],
)
def test_needs_render(mode: RenderMode, checks: list[Check], script: bool, expected: bool) -> None:
    assert needs_render(mode, checks, lambda: script) is expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>no script</p>", False),
        ("<script>document.write('x')</script>", True),
        ('<script src="/app.js"></script>', True),
        ('<script type="module">import "/m.js"</script>', True),
        ('<SCRIPT TYPE="text/javascript; charset=utf-8">x()</SCRIPT>', True),
        ('<script type="application/ld+json">{"a": 1}</script>', False),
        ('<script type="text/template"><a href="/x">x</a></script>', False),
        ('<script type="importmap">{}</script>', False),
        ("<script></script>", False),  # empty, no src
        ('<script nomodule src="/legacy.js"></script>', False),
    ],
)
def test_has_executable_script(html: str, expected: bool) -> None:
    assert has_executable_script(f"<html><body>{html}</body></html>".encode()) is expected


@pytest.mark.parametrize("depth", [300, 3000])
def test_a_script_deep_in_the_page_is_seen(depth: int) -> None:
    # lxml.html's parser stopped at 256 levels (and huge_tree at 2,048): a JS-only page
    # nested that deep was never rendered in `auto`.
    body = f"<html><body>{'<div>' * depth}<script>document.write('x')</script></body></html>"
    assert has_executable_script(body.encode()) is True


def test_a_script_in_a_utf16_page_is_seen() -> None:
    body = "<html><body><script>document.write('x')</script></body></html>"
    assert has_executable_script(body.encode("utf-16"), "text/html; charset=utf-16") is True


def test_rejoin_a_rendered_dom_holding_a_lone_surrogate() -> None:
    # A script may put one in the DOM (JavaScript strings are UTF-16): U+FFFD, as a
    # browser serialises it; encoding it raised before.
    page = "http://blog.test/p"
    fetch = Fetch(page, page, 200, b"<p>nothing</p><script>x()</script>", "text/html")
    refs = [BacklinkRef(1, "acme.com", page, TARGET)]
    html = f'<p>caf\ud800 <a href="{TARGET}">Acme</a></p>'
    [joined] = rejoin(AUTO, fetch, refs, check_fetch(fetch, refs), html, None)
    assert (joined.status, joined.found_in, joined.rendered) == (
        Status.LIVE,
        FoundIn.RENDERED,
        True,
    )


def test_join_rendered() -> None:
    raw = check(Reason.LINK_REMOVED, mentions=2)
    rendered = check(observed_target=TARGET, link_count=1)
    rendered.found_in = FoundIn.RAW  # as classify sets it; the join knows better
    joined = join_rendered(raw, rendered, "script error: boom")
    assert (joined.status, joined.rendered, joined.found_in) == (
        Status.LIVE,
        True,
        FoundIn.RENDERED,
    )
    assert (joined.mentions, joined.detail) == (2, "script error: boom")
    # the same link in the raw HTML: found in raw, even though the page was rendered
    again = join_rendered(
        check(observed_target=TARGET, link_count=1), check(observed_target=TARGET)
    )
    assert (again.rendered, again.found_in) == (True, FoundIn.RAW)
    # the raw link was disowned by a canonical a script then fixed: in the raw HTML still
    fixed = join_rendered(
        check(Reason.NOT_CANONICAL, observed_target=TARGET, link_count=1),
        check(observed_target=TARGET),
    )
    assert (fixed.status, fixed.found_in) == (Status.LIVE, FoundIn.RAW)
    # the render failed, or its page could not be parsed: the raw verdict stands
    failed = join_rendered(check(Reason.LINK_REMOVED), None, "render failed: TimeoutError")
    assert (failed.reason, failed.rendered, failed.detail) == (
        Reason.LINK_REMOVED,
        False,
        "render failed: TimeoutError",
    )
    broken = join_rendered(check(Reason.LINK_REMOVED), check(Reason.CRAWL_ERROR), None)
    assert (broken.reason, broken.rendered, broken.detail) == (
        Reason.LINK_REMOVED,
        False,
        "render failed",
    )


@pytest.mark.parametrize(
    ("was", "now", "expected"),
    [
        (FoundIn.RAW, FoundIn.RENDERED, Change.MOVED_TO_JS),
        (None, FoundIn.RENDERED, Change.MOVED_TO_JS),  # live before rendering existed: raw
        (FoundIn.RENDERED, FoundIn.RENDERED, Change.UNCHANGED),
        (FoundIn.RENDERED, FoundIn.RAW, Change.UNCHANGED),
        (FoundIn.RAW, FoundIn.RAW, Change.UNCHANGED),
    ],
)
def test_moved_to_js(was: FoundIn | None, now: FoundIn, expected: Change) -> None:
    baseline = Baseline(Status.LIVE, True, "Blue Widgets", TARGET, found_in=was)
    found = check(follow=True, anchor="Blue Widgets", observed_target=TARGET, found_in=now)
    assert change(found, baseline) is expected


def test_moved_to_js_comes_after_target_changed() -> None:
    baseline = Baseline(Status.LIVE, True, "Blue Widgets", TARGET, found_in=FoundIn.RAW)
    found = check(follow=True, anchor="Blue Widgets", observed_target="https://acme.com/x")
    found.found_in = FoundIn.RENDERED
    assert change(found, baseline) is Change.TARGET_CHANGED
    assert list(Change).index(Change.MOVED_TO_JS) == list(Change).index(Change.TARGET_CHANGED) + 1


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("www.googletagmanager.com", True),
        ("region1.google-analytics.com", True),
        ("connect.facebook.net", True),
        ("static.hotjar.com", True),
        ("sb.scorecardresearch.com", True),
        ("WWW.GoogleTagManager.com.", True),
        ("widgets.test", False),
        ("facebook.net", False),  # only the pixel's host, not the whole domain
        ("notgoogletagmanager.com", False),
    ],
)
def test_is_tracker(host: str, expected: bool) -> None:
    from crawler.browser import is_tracker, load_trackers

    assert is_tracker(host, load_trackers()) is expected


@pytest.mark.parametrize(
    ("installed", "setting", "expected"),
    [
        (["bin/chromium-headless-shell", "bin/chromium"], "", "bin/chromium-headless-shell"),
        (["bin/chromium"], "", "bin/chromium"),
        (["bin/chromium-headless-shell"], "", "bin/chromium-headless-shell"),
        ([], "", None),
        # one's own `chromium` earlier on PATH is taken as it is
        (["own/chromium", "bin/chromium-headless-shell", "bin/chromium"], "", "own/chromium"),
        (["bin/chromium-headless-shell", "bin/chromium"], "chromium", "bin/chromium"),
        (["bin/chromium-headless-shell", "bin/chromium"], "my-chrome", None),  # not installed
    ],
)
def test_chromium_path(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    installed: list[str],
    setting: str,
    expected: str | None,
) -> None:
    """Without BACKCHECK_CHROMIUM: the `chromium` on PATH, or the headless shell beside it;
    a setting is taken as it is, installed or not."""
    from scrapy.settings import Settings

    from crawler.render import chromium_path

    for name in installed:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'own'}:{tmp_path / 'bin'}")
    monkeypatch.delenv("BACKCHECK_CHROMIUM", raising=False)
    found = chromium_path(Settings({"BACKCHECK_CHROMIUM": setting}))
    assert found == (str(tmp_path / expected) if expected else None)
    # the environment variable, where no setting says otherwise
    monkeypatch.setenv("BACKCHECK_CHROMIUM", "/nonexistent/chromium")
    env_found = chromium_path(Settings({"BACKCHECK_CHROMIUM": setting}))
    assert env_found == (found if setting else None)


@pytest.mark.parametrize(
    ("activity", "in_flight", "expected"),
    [
        # (page time now, load, last change) in ms; the render timeout is 6 s
        pytest.param((10, -1, 0), False, 0.5, id="not-loaded-yet"),
        pytest.param((300, 100, 100), False, 1.0, id="loaded-waits-1.2s-after-load"),
        pytest.param((1300, 100, 100), False, None, id="quiet-1.2s-after-load"),
        pytest.param((1300, 100, 1000), False, 0.2, id="a-change-wants-0.5s-of-quiet"),
        pytest.param((1500, 100, 1000), False, None, id="quiet-0.5s-after-the-change"),
        pytest.param((1500, 100, 100), True, 0.05, id="a-fetch-in-flight"),
        pytest.param((1280, 100, 100), False, 0.05, id="at-least-one-step"),
        pytest.param((5990, -1, 0), False, 0.01, id="not-past-the-timeout"),
        pytest.param((6000, 100, 5900), False, None, id="out-of-time"),
        pytest.param((7000, -1, 0), True, None, id="long-out-of-time"),
    ],
)
def test_next_step_of_the_page_clock(
    activity: tuple[float, float, float], in_flight: bool, expected: object
) -> None:
    step = render.next_step(activity, in_flight, timeout=6.0)
    assert step == (expected if expected is None else pytest.approx(expected))
