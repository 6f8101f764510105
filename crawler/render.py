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
nothing itself, and must not hold the host's slot its resources wait for. `settle`
then waits as Google's renderer does: until the DOM and the network have been
quiet for QUIET_S (and at least AFTER_LOAD_S after load, so a link a script adds a
second after load is seen) or the render timeout; a page that never goes quiet is
read as it stands then.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verifier.verdict.render import RenderMode

if TYPE_CHECKING:
    from playwright.async_api import Page, Route
    from playwright.async_api import Request as BrowserRequest
    from scrapy import Request
    from scrapy.settings import Settings

HANDLER = "crawler.browser.RenderHandler"
#: Request meta: the download slot of a render request (crawler/downloader.py), its name.
SLOT = "backcheck_slot"
RENDER_SLOT = "backcheck-render"
#: Debian's headless build of Chromium, taken beside a `chromium` (`chromium_path`).
HEADLESS_SHELL = "chromium-headless-shell"
#: `settle`: quiet for QUIET_S, and at least AFTER_LOAD_S after load; polled every POLL_S.
QUIET_S = 0.5
AFTER_LOAD_S = 1.2
POLL_S = 0.1
#: Counts DOM mutations from before the page's own scripts run.
MUTATION_COUNTER = """
(() => {
  let count = 0;
  new MutationObserver(() => { count += 1; }).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
  Object.defineProperty(window, "__backcheckMutations", { get: () => count });
})();
"""


def mode_of(settings: Settings) -> RenderMode:
    """BACKCHECK_RENDER as a mode; raises ValueError for an unknown value."""
    return RenderMode(str(settings.get("BACKCHECK_RENDER") or "never").strip().lower())


def chromium_path(settings: Settings) -> str | None:
    """BACKCHECK_CHROMIUM, else the `chromium` on PATH (None: not installed).

    Where that `chromium` has Debian's `chromium-headless-shell` beside it (the same
    Chromium build, headless only, package of that name), the shell is taken: measured
    at half the CPU per render (bench/README.md, "Rendering"). A `chromium` of one's
    own earlier on PATH is taken as it is.
    """
    if configured := settings.get("BACKCHECK_CHROMIUM"):
        return shutil.which(configured)
    found = shutil.which("chromium")
    if found is None:
        return shutil.which(HEADLESS_SHELL)
    shell = Path(found).with_name(HEADLESS_SHELL)
    return str(shell) if os.access(shell, os.X_OK) else found


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
        "executable_path": chromium_path(settings) or settings.get("BACKCHECK_CHROMIUM"),
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
    """A render in progress: requests in flight, the last activity, script errors."""

    def __init__(self, body: bytes, content_type: str | None) -> None:
        self.body = body
        self.content_type = content_type or "text/html"
        self.in_flight: set[BrowserRequest] = set()
        self.started = self.last_activity = asyncio.get_running_loop().time()
        self.errors: list[str] = []
        self.served = False
        self._listeners: list[tuple[str, Any]] = []

    def begin(self) -> None:
        """The render starts now, not when its request was made: it may wait long for a
        page, and the render timeout is the page's own."""
        self.started = self.last_activity = asyncio.get_running_loop().time()

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
        self.last_activity = asyncio.get_running_loop().time()

    def done(self, request: BrowserRequest) -> None:
        self.in_flight.discard(request)
        self.last_activity = asyncio.get_running_loop().time()


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

    await page.route("**", serve_document)  # runs before scrapy-playwright's "**" route
    if not request.meta.get("backcheck_reused"):  # a kept page runs it in every document
        await page.add_init_script(MUTATION_COUNTER)
    watch.attach(page)


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
        "backcheck_watch": Watch(body, content_type),
        # Not the page's host slot: the page is not fetched again, and its resources,
        # fetched by Scrapy in that slot, must not wait for the render holding it.
        SLOT: RENDER_SLOT,
        "autothrottle_dont_adjust_delay": True,
    }


async def settle(page: Page, watch: Watch, timeout: float) -> tuple[str, bool]:
    """The page's HTML once DOM and network are quiet (True), or at the timeout (False).

    Raises TimeoutError when the page cannot be read at all (a script busy forever).
    """
    loop = asyncio.get_running_loop()
    loaded = loop.time()
    deadline = watch.started + timeout
    mutations = -1
    quiet = False
    while loop.time() < deadline:
        remaining = max(deadline - loop.time(), 0.01)
        count = await asyncio.wait_for(page.evaluate("window.__backcheckMutations || 0"), remaining)
        now = loop.time()
        if count != mutations:
            mutations, watch.last_activity = count, now
        quiet_at = max(watch.last_activity + QUIET_S, loaded + AFTER_LOAD_S)
        if not watch.in_flight and now >= quiet_at:
            quiet = True
            break
        # Look again when the page could be quiet, not every POLL_S: each look is a round
        # trip through the driver, the browser and the renderer (measured: a tenth of a
        # render's CPU when polled every POLL_S).
        await asyncio.sleep(min(max(quiet_at - now, POLL_S), max(deadline - now, 0)))
    html = await asyncio.wait_for(page.content(), max(deadline - loop.time(), 2.0))
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
