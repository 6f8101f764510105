"""Rendering referring pages in the distribution's Chromium, through scrapy-playwright (issue 14).

`configure(settings)` installs the browser download handler when BACKCHECK_RENDER is
not `never`. Only requests with `meta["playwright"]` use the browser; every other
request (robots.txt, the raw page) takes Scrapy's HTTP path. The browser starts at
the first render, not with the crawl, so a run that renders nothing never starts it.

A render request (`render_request`) navigates to the page's final URL, but the page
itself is not fetched again: the main document is fulfilled with the body Scrapy
already fetched; only its resources (scripts, XHR, CSS) come from the web, with
backcheck's user agent; images, media and fonts are aborted. `Gate` decides each of the
browser's own requests as Google's renderer does: known trackers (crawler/data/trackers.txt)
and URLs the host's robots.txt disallows (Scrapy's RobotsTxtMiddleware parsers, one
robots.txt per host and crawl) are aborted; the rest wait for one of the host's
CONCURRENT_REQUESTS_PER_DOMAIN browser slots, held until the response is read. `settle` then waits
as Google's renderer does: until the DOM and the network have been quiet for
QUIET_S (and at least AFTER_LOAD_S after load, so a link a script adds a second
after load is seen) or the render timeout; a page that never goes quiet is read as
it stands then.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from verifier.verdict.render import RenderMode

if TYPE_CHECKING:
    from playwright.async_api import Page, Route
    from playwright.async_api import Request as BrowserRequest
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import Settings

HANDLER = "crawler.render.RenderHandler"
#: Resource types the renderer never fetches: they cannot add links.
BLOCKED_TYPES = frozenset({"image", "media", "font"})
#: Hosts of known trackers, never fetched by the renderer (source named in the file).
QUIET_S = 0.5
AFTER_LOAD_S = 1.2
POLL_S = 0.1
#: Renders per browser context before a fresh one (contexts grow: cache, storage).
PAGES_PER_CONTEXT = 200
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
    """BACKCHECK_CHROMIUM, else the `chromium` on PATH (None: not installed)."""
    configured = settings.get("BACKCHECK_CHROMIUM") or "chromium"
    return shutil.which(configured)


def configure(settings: Settings) -> None:
    """Install the browser handler and its settings (nothing for `--render never`)."""
    if mode_of(settings) is RenderMode.NEVER:
        return
    handlers = dict(settings.getdict("DOWNLOAD_HANDLERS"))
    handlers.update({"http": HANDLER, "https": HANDLER})
    settings.set("DOWNLOAD_HANDLERS", handlers, priority="spider")
    timeout_ms = int(settings.getfloat("BACKCHECK_RENDER_TIMEOUT") * 1000)
    launch: dict[str, Any] = {
        "executable_path": chromium_path(settings) or settings.get("BACKCHECK_CHROMIUM"),
        "args": ["--disable-background-networking", "--disable-component-update"],
    }
    for name, value in {
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": settings.getint("BACKCHECK_RENDER_PAGES"),
        "PLAYWRIGHT_MAX_CONTEXTS": 2,  # the current one, and the last one draining
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_ms,
        # A crashed browser is not restarted: its pages keep their raw verdict.
        "PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER": False,
    }.items():
        settings.set(name, value, priority="spider")


def blocked(request: BrowserRequest) -> bool:
    """Resources the renderer aborts: images, media, fonts."""
    return request.resource_type in BLOCKED_TYPES


def load_trackers(path: Path | None = None) -> frozenset[str]:
    """The tracker hosts of `path` (default: the list shipped with backcheck): one a line,
    `#` comments. The default is read as package data, which also works from a zipped
    egg (Scrapyd)."""
    if path is None:
        text = resources.files("crawler").joinpath("data/trackers.txt").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    lines = text.splitlines()
    return frozenset(
        host for line in lines if (host := line.partition("#")[0].strip().lower().rstrip("."))
    )


def is_tracker(host: str, trackers: frozenset[str]) -> bool:
    """True when `host` or one of its parent domains is a tracker host."""
    labels = host.lower().rstrip(".").split(".")
    return any(".".join(labels[i:]) in trackers for i in range(len(labels)))


class Gate:
    """Which of the browser's own requests go out: trackers, robots.txt, per-host slots."""

    def __init__(
        self,
        crawler: Crawler,
        trackers: frozenset[str],
        user_agent: str,
        per_host: int,
        hold_s: float,
    ) -> None:
        self.crawler = crawler
        self.trackers = trackers
        self.user_agent = user_agent
        self.per_host = max(per_host, 1)
        self.hold_s = hold_s
        self.slots: dict[str, asyncio.Semaphore] = {}
        self._releases: set[asyncio.Task[None]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Gate:
        settings = crawler.settings
        return cls(
            crawler,
            load_trackers(),
            str(settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT") or ""),
            settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
            settings.getfloat("BACKCHECK_RENDER_TIMEOUT"),
        )

    async def abort(self, request: BrowserRequest) -> bool:
        """scrapy-playwright's abort predicate: True aborts, False lets it go (slot taken)."""
        if blocked(request):
            return True
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            return False  # data:, blob:: nothing goes out
        host = (parts.hostname or "").lower()
        if is_tracker(host, self.trackers):
            self._count("tracker_blocked")
            return True
        if not await self.allowed(request.url):
            self._count("robots_blocked")
            return True
        await self.take_slot(host, request)
        return False

    async def allowed(self, url: str) -> bool:
        """What the host's robots.txt says of `url`, through Scrapy's own cache."""
        robots = self._robots()
        if robots is None:
            return True
        parser = await robots.robot_parser(Request(url))
        return parser is None or bool(parser.allowed(url, self.user_agent))

    async def take_slot(self, host: str, request: BrowserRequest) -> None:
        """Wait for one of the host's slots; it is released when the response is read."""
        slot = self.slots.setdefault(host, asyncio.Semaphore(self.per_host))
        await slot.acquire()
        task = asyncio.get_running_loop().create_task(self._release(slot, request))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def _release(self, slot: asyncio.Semaphore, request: BrowserRequest) -> None:
        try:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.hold_s):
                    response = await request.response()
                    if response is not None:
                        await response.finished()
        finally:
            slot.release()

    def _robots(self) -> RobotsTxtMiddleware | None:
        engine = self.crawler.engine
        if engine is None:
            return None
        found = (
            mw
            for mw in engine.downloader.middleware.middlewares
            if isinstance(mw, RobotsTxtMiddleware)
        )
        return next(found, None)

    def _count(self, what: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"backcheck/render/{what}")


class RenderHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, starting Playwright at the first render, not the crawl.

    Every request the browser makes goes through `Gate.abort` (robots.txt, trackers,
    per-host slots) before it leaves.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.gate = Gate.from_crawler(crawler)
        self.abort_request = self.gate.abort
        self._started = False
        self._starting = asyncio.Lock()

    async def _maybe_launch_in_thread(self) -> None:
        """Not at engine start: at the first render (`_download_request`)."""

    async def _download_request(self, request: Request, spider: Any = None) -> Response:
        if not self._started:
            async with self._starting:
                if not self._started:
                    await self._launch()
                    self._started = True
        return await super()._download_request(request, spider)


class Watch:
    """A render in progress: requests in flight, the last activity, script errors."""

    def __init__(self, body: bytes, content_type: str | None) -> None:
        self.body = body
        self.content_type = content_type or "text/html"
        self.in_flight: set[BrowserRequest] = set()
        loop = asyncio.get_running_loop()
        self.started = self.last_activity = loop.time()
        self.errors: list[str] = []
        self.served = False

    def busy(self, request: BrowserRequest) -> None:
        self.in_flight.add(request)
        self.last_activity = asyncio.get_running_loop().time()

    def done(self, request: BrowserRequest) -> None:
        self.in_flight.discard(request)
        self.last_activity = asyncio.get_running_loop().time()


async def init_page(page: Page, request: Request) -> None:
    """scrapy-playwright's page init callback: hand over the body, watch the page."""
    watch: Watch = request.meta["backcheck_watch"]

    async def serve_document(route: Route, browser_request: BrowserRequest) -> None:
        # The first navigation of the main frame is the page already fetched; a script
        # that navigates elsewhere later goes to the web.
        first = not watch.served and browser_request.is_navigation_request()
        if first and browser_request.frame == page.main_frame:
            watch.served = True
            headers = {"content-type": watch.content_type}
            await route.fulfill(status=200, headers=headers, body=watch.body)
        else:
            await route.fallback()

    await page.route("**", serve_document)  # runs before scrapy-playwright's "**" route
    await page.add_init_script(MUTATION_COUNTER)
    page.on("request", watch.busy)
    page.on("requestfinished", watch.done)
    page.on("requestfailed", watch.done)
    page.on("pageerror", lambda error: watch.errors.append(str(error)[:200]))


def render_meta(
    body: bytes, content_type: str | None, user_agent: str, serial: int
) -> dict[str, Any]:
    """The meta of a render request (scrapy-playwright's keys and the watch)."""
    return {
        "playwright": True,
        "playwright_include_page": True,
        "playwright_page_init_callback": init_page,
        "playwright_context": f"render-{serial // PAGES_PER_CONTEXT}",
        "playwright_context_kwargs": {
            "user_agent": user_agent,
            "java_script_enabled": True,
            "service_workers": "block",
        },
        "backcheck_watch": Watch(body, content_type),
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
        if (
            not watch.in_flight
            and now - watch.last_activity >= QUIET_S
            and now - loaded >= AFTER_LOAD_S
        ):
            quiet = True
            break
        await asyncio.sleep(POLL_S)
    html = await asyncio.wait_for(page.content(), max(deadline - loop.time(), 2.0))
    return html, quiet


async def close_page(page: Page | None) -> None:
    """Close a render's page, and its context once an older context has no page left."""
    if page is None or page.is_closed():
        return
    context = page.context
    await page.close()
    contexts = context.browser.contexts if context.browser else []
    if not context.pages and contexts and context is not contexts[-1]:
        await context.close()
