"""Rendering referring pages in the distribution's Chromium, through scrapy-playwright (issue 14).

`configure(settings)` installs the browser download handler (crawler/browser.py) when
BACKCHECK_RENDER is not `never`. Only requests with `meta["playwright"]` use the
browser; every other request (robots.txt, the raw page) takes Scrapy's HTTP path. The
browser starts at the first render, not with the crawl, so a run that renders nothing
never starts it.

A render request (`render_meta`) navigates to the page's final URL, but the page
itself is not fetched again: the main document is fulfilled with the body Scrapy
already fetched; only its resources (scripts, XHR, CSS) come from the web, fetched
by Scrapy's downloader for the browser (crawler.browser.Gate). A render request has
a download slot of its own (RENDER_SLOT, BACKCHECK_RENDER_PAGES at once): it fetches
nothing itself, and must not hold the host's slot its resources wait for.

The page runs on a virtual clock, as Google's renderer does (its patent US11328114
names virtual time): Chromium's `Emulation.setVirtualTimePolicy` with
`pauseIfNetworkFetchesPending` stops the clock while a fetch is pending and jumps it
to the next timer when the page is idle. The navigation returns at commit with the
clock paused (`init_page`), and `settle` lets it run until the DOM and the network
have been quiet for QUIET_S of page time, at least AFTER_LOAD_S after the load event
(so a link a script adds a second after load is seen): a one-second timer costs no
second of wall time. A page that never goes quiet (polling, a ticking clock) is read
when its clock reaches the render timeout or the wall clock does; a fetch that never
ends (long polling) would hold the clock, so after STALL_S of wall time with no
progress the clock runs on while fetches are pending (`advance`), at the wall clock's
pace: a slow fetch gets the wall time the page's clock gives it, up to the timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verifier.verdict.render import RenderMode

if TYPE_CHECKING:
    from playwright.async_api import CDPSession, Page, Route
    from playwright.async_api import Request as BrowserRequest
    from scrapy import Request
    from scrapy.settings import Settings

HANDLER = "crawler.browser.RenderHandler"
#: Request meta: the download slot of a render request (crawler/downloader.py), its name.
SLOT = "backcheck_slot"
RENDER_SLOT = "backcheck-render"
#: Debian's headless build of Chromium, taken beside a `chromium` (`chromium_path`).
HEADLESS_SHELL = "chromium-headless-shell"
#: `settle`, in the page's (virtual) time: quiet for QUIET_S, at least AFTER_LOAD_S after
#: load; the clock is let run STEP_S at least at a time.
QUIET_S = 0.5
AFTER_LOAD_S = 1.2
STEP_S = 0.05
#: Wall seconds the page's clock may stand still (held by a pending fetch) before it runs
#: on regardless of fetches.
STALL_S = 2.0
#: The page's clock (ms), its load event (ms, -1 before) and its last DOM change or
#: finished resource (ms), watched from before the page's own scripts run.
ACTIVITY = """
(() => {
  let loaded = -1, last = 0;
  const touch = () => { last = performance.now(); };
  new MutationObserver(touch).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
  addEventListener("load", () => { loaded = performance.now(); touch(); });
  try { new PerformanceObserver(touch).observe({ type: "resource" }); } catch (e) {}
  Object.defineProperty(window, "__backcheckActivity", {
    get: () => [performance.now(), loaded, last],
  });
})();
"""
#: Wall seconds a call to the page may take past the render's deadline.
GRACE_S = 1.0
#: Wall seconds to open a page's DevTools session and stop its clock before navigation.
SESSION_S = 10.0
#: Chromium's virtual time policies (DevTools protocol, Emulation domain).
PAUSE, RUN, RUN_ALWAYS = "pause", "pauseIfNetworkFetchesPending", "advance"


def mode_of(settings: Settings) -> RenderMode:
    """BACKCHECK_RENDER as a mode; raises ValueError for an unknown value."""
    return RenderMode(str(settings.get("BACKCHECK_RENDER") or "never").strip().lower())


def chromium_path(settings: Settings) -> str | None:
    """BACKCHECK_CHROMIUM (the setting, else the environment variable), else the
    `chromium` on PATH (None: not installed).

    Where that `chromium` has Debian's `chromium-headless-shell` beside it (the same
    Chromium build, headless only, package of that name), the shell is taken: measured
    at half the CPU per render (bench/README.md, "Rendering"). A `chromium` of one's
    own earlier on PATH is taken as it is.
    """
    if configured := _configured_chromium(settings):
        return shutil.which(configured)
    found = shutil.which("chromium")
    if found is None:
        return shutil.which(HEADLESS_SHELL)
    shell = Path(found).with_name(HEADLESS_SHELL)
    return str(shell) if os.access(shell, os.X_OK) else found


def _configured_chromium(settings: Settings) -> str:
    """BACKCHECK_CHROMIUM: the setting, else the environment variable ("": not set)."""
    return str(settings.get("BACKCHECK_CHROMIUM") or os.environ.get("BACKCHECK_CHROMIUM", ""))


def configure(settings: Settings) -> None:
    """Install the browser handler and its settings (nothing for `--render never`)."""
    if mode_of(settings) is RenderMode.NEVER:
        return
    handlers = dict(settings.getdict("DOWNLOAD_HANDLERS"))
    handlers.update({"http": HANDLER, "https": HANDLER})
    settings.set("DOWNLOAD_HANDLERS", handlers, priority="spider")
    slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
    pages = settings.getint("BACKCHECK_RENDER_PAGES")
    slots.setdefault(RENDER_SLOT, {"concurrency": max(pages, 1), "delay": 0.0, "jitter": 0})
    settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
    timeout_ms = int(settings.getfloat("BACKCHECK_RENDER_TIMEOUT") * 1000)
    launch: dict[str, Any] = {
        "executable_path": chromium_path(settings) or _configured_chromium(settings),
        "args": ["--disable-background-networking", "--disable-component-update"],
    }
    for name, value in {
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": settings.getint("BACKCHECK_RENDER_PAGES"),
        # No cap on contexts: scrapy-playwright waits for a context slot while holding the
        # lock every new page takes, so a cap deadlocked a run once a third context was due
        # while pages of the first were still queued. RenderHandler keeps it at about two.
        "PLAYWRIGHT_MAX_CONTEXTS": None,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_ms,
        # A browser that died is started again at the next render (RenderHandler caps it).
        "PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER": True,
    }.items():
        settings.set(name, value, priority="spider")


class Watch:
    """A render in progress: the browser's requests in flight, script errors."""

    def __init__(self, body: bytes, content_type: str | None) -> None:
        self.body = body
        self.content_type = content_type or "text/html"
        self.in_flight: set[BrowserRequest] = set()
        self.started = asyncio.get_running_loop().time()
        self.errors: list[str] = []
        self.served = False
        self._listeners: list[tuple[str, Any]] = []

    def begin(self) -> None:
        """The render starts now, not when its request was made: it may wait long for a
        page, and the render timeout is the page's own."""
        self.started = asyncio.get_running_loop().time()

    def attach(self, page: Page) -> None:
        self._listeners = [
            ("request", self.busy),
            ("requestfinished", self.done),
            ("requestfailed", self.done),
            ("pageerror", self.error),
        ]
        for event, listener in self._listeners:
            page.on(event, listener)  # type: ignore[call-overload]

    def detach(self, page: Page) -> None:
        """Stop watching `page` (kept for another render, with another watch)."""
        for event, listener in self._listeners:
            page.remove_listener(event, listener)

    def end(self) -> None:
        """The render is over: let go of the body and of the browser's requests now.

        A watch is in reference cycles (Playwright keeps a wrapper of each listener on the
        listener's object), so it goes only at the next cyclic collection (crawler.browser
        COLLECT_EVERY); the page's body (~100 KB) must not wait for it.
        """
        self.body = b""
        self.in_flight.clear()

    def error(self, error: Exception) -> None:
        self.errors.append(str(error)[:200])

    def busy(self, request: BrowserRequest) -> None:
        self.in_flight.add(request)

    def done(self, request: BrowserRequest) -> None:
        self.in_flight.discard(request)


async def init_page(page: Page, request: Request) -> None:
    """scrapy-playwright's page init callback: hand over the body, watch the page."""
    watch: Watch = request.meta["backcheck_watch"]
    watch.begin()
    # Looked up here, not in the handler: Playwright keeps a route handler in a reference
    # cycle, which would hold the Scrapy request (its body, its checks) until a collection.
    serve = request.meta.get("backcheck_serve")

    async def serve_document(route: Route, browser_request: BrowserRequest) -> None:
        # The first navigation of the main frame is the page already fetched; a script
        # that navigates elsewhere later goes to the web.
        first = not watch.served and browser_request.is_navigation_request()
        if first and browser_request.frame == page.main_frame:
            watch.served = True
            headers = {"content-type": watch.content_type}
            await route.fulfill(status=200, headers=headers, body=watch.body)
        elif serve is not None:
            await serve(route, browser_request)  # crawler.browser.Gate: through Scrapy
        else:
            await route.fallback()

    routes = _ROUTES.get(page)
    if routes is None:  # one route a page, kept with it
        routes = _ROUTES[page] = Routes()
    # scrapy-playwright routes every render's requests to the web (`continue_`), and the
    # route registered last runs first: on a kept page, its route of this render came
    # after ours, and the browser fetched everything itself (the page again, robots.txt-
    # disallowed scripts, trackers, images). So every render drops the page's routes and
    # puts ours back, alone and first.
    await page.unroute("**")
    await page.route("**", routes.dispatch)
    routes.current = serve_document
    if not request.meta.get("backcheck_reused"):  # a kept page runs it in every document
        await page.add_init_script(ACTIVITY)
    # Nothing of the page runs until `settle` lets its clock run (a kept page's clock
    # stood still since its last render).
    await asyncio.wait_for(clock_of(page, PAUSE), SESSION_S)
    watch.attach(page)


class Routes:
    """A page's one route: the current render's, or, between renders, none.

    A kept page stays on the document it rendered, its clock stopped, until the next
    render navigates away (no about:blank in between: a navigation less a render,
    ~10 % of its CPU); whatever that document still asks for meanwhile is aborted.
    """

    def __init__(self) -> None:
        self.current: Callable[[Route, BrowserRequest], Awaitable[None]] | None = None

    async def dispatch(self, route: Route, request: BrowserRequest) -> None:
        if self.current is None:
            with contextlib.suppress(Exception):  # the page may be closing meanwhile
                await route.abort("blockedbyclient")
        else:
            await self.current(route, request)


def end_render(page: Page) -> None:
    """The page's render is over: nothing it asks for goes out any more."""
    if (routes := _ROUTES.get(page)) is not None:
        routes.current = None  # and lets go of the render's handler (its watch)


#: Each page's route (`Routes`), made at its first render; goes with the page.
_ROUTES: weakref.WeakKeyDictionary[Page, Routes] = weakref.WeakKeyDictionary()
#: Each page's DevTools session, for its clock (made once; goes with the page).
_SESSIONS: weakref.WeakKeyDictionary[Page, CDPSession] = weakref.WeakKeyDictionary()


async def clock_of(page: Page, policy: str, budget_s: float | None = None) -> CDPSession:
    """Set the page's virtual time policy (for `budget_s` of page time); its session."""
    session = _SESSIONS.get(page)
    if session is None:
        session = _SESSIONS[page] = await page.context.new_cdp_session(page)
    params: dict[str, Any] = {"policy": policy}
    if budget_s is not None:
        params["budget"] = max(budget_s, STEP_S) * 1000
    await session.send("Emulation.setVirtualTimePolicy", params)
    return session


def render_meta(body: bytes, content_type: str | None, user_agent: str) -> dict[str, Any]:
    """The meta of a render request (scrapy-playwright's keys and the watch)."""
    return {
        "playwright": True,
        "playwright_include_page": True,
        "playwright_page_init_callback": init_page,
        "playwright_context_kwargs": {
            "user_agent": user_agent,
            "java_script_enabled": True,
            "service_workers": "block",
        },
        # `settle` loads the page on its virtual clock: the navigation returns at commit.
        "playwright_page_goto_kwargs": {"wait_until": "commit"},
        "backcheck_watch": Watch(body, content_type),
        # Not the page's host slot: the page is not fetched again, and its resources,
        # fetched by Scrapy in that slot, must not wait for the render holding it.
        SLOT: RENDER_SLOT,
        "autothrottle_dont_adjust_delay": True,
    }


def next_step(
    activity: tuple[float, float, float], in_flight: bool, timeout: float
) -> float | None:
    """How long the page's clock must still run (s); None: quiet, or out of time.

    `activity` is ACTIVITY's reading, in ms of the page's time since its navigation:
    now, its load event (-1 before), its last DOM change or finished resource.
    """
    now, loaded, last = (value / 1000 for value in activity)
    if now >= timeout:
        return None
    if loaded >= 0 and not in_flight:
        wait = max(last + QUIET_S, loaded + AFTER_LOAD_S) - now
        return max(wait, STEP_S) if wait > 0 else None
    # Not loaded yet, or a fetch pending when the clock stopped: run a little, look again.
    return min(QUIET_S if loaded < 0 else STEP_S, timeout - now)


async def settle(page: Page, watch: Watch, timeout: float) -> tuple[str, bool]:
    """The page's HTML once DOM and network are quiet (True), or at the timeout (False).

    The timeout holds for the page's clock and for the wall clock alike. Raises
    TimeoutError when the page cannot be read at all (a script busy forever).
    """
    loop = asyncio.get_running_loop()
    deadline = watch.started + timeout

    def left(floor: float = GRACE_S) -> float:
        # A call made just before the deadline gets GRACE_S to answer: a page that runs
        # out of time is read as it stands, not failed for a late answer.
        return max(deadline - loop.time(), floor)

    stalled, quiet = False, False
    step: float | None = AFTER_LOAD_S
    while step is not None and loop.time() < deadline:
        # Once a fetch has held the clock for STALL_S (long polling, a slow server), the
        # clock runs while fetches are pending too, but at the wall clock's pace: a
        # script that takes 5 s to arrive gets 5 s, as in a browser, where running
        # ahead took the clock to the render timeout in a blink and read the page then.
        policy = RUN_ALWAYS if stalled and watch.in_flight else RUN
        began = loop.time()
        expired = loop.create_future()
        session = _SESSIONS.get(page)
        if session is None:
            session = await asyncio.wait_for(clock_of(page, PAUSE), left())
        session.once(
            "Emulation.virtualTimeBudgetExpired",
            lambda _, done=expired: done.done() or done.set_result(None),
        )
        # A renderer busy in a script answers nothing: every call is bounded.
        await asyncio.wait_for(clock_of(page, policy, step), left())
        try:
            await asyncio.wait_for(expired, min(STALL_S, left(0.01)))
        except TimeoutError:
            # The clock stood still: a fetch that does not end holds it (or a script
            # that never yields, on which the reading below times out).
            await asyncio.wait_for(clock_of(page, PAUSE), left())
            stalled = True
        else:
            if policy == RUN_ALWAYS:
                await asyncio.sleep(max(min(step - (loop.time() - began), left(0.0)), 0.0))
        state = await asyncio.wait_for(page.evaluate("window.__backcheckActivity"), left())
        activity = tuple(state) if state else (0.0, -1.0, 0.0)
        step = next_step(activity, bool(watch.in_flight), timeout)
        quiet = step is None and activity[0] / 1000 < timeout
        if step is not None and stalled and watch.in_flight:
            # The clock keeps the wall clock's pace: no need to look every STEP_S.
            step = max(step, min(QUIET_S, timeout - activity[0] / 1000))
    await asyncio.wait_for(clock_of(page, PAUSE), left())
    html = await asyncio.wait_for(page.content(), left(2.0))
    return html, quiet


async def release_page(meta: dict[str, Any], reuse: bool) -> None:
    """Give a render's page back to the handler (`reuse`: it rendered cleanly, keep it)."""
    page = meta.get("playwright_page")
    release = meta.get("backcheck_release")
    try:
        if release is not None:
            await release(page, meta["backcheck_watch"], reuse)
        elif page is not None and not page.is_closed():
            with contextlib.suppress(Exception):
                await page.close()
    finally:
        if (watch := meta.get("backcheck_watch")) is not None:
            watch.end()
