"""The browser side of rendering (issue 14): which of its requests go out, its pages.

`Gate` decides each of the browser's own requests as Google's renderer does: images,
media and fonts, known trackers (crawler/data/trackers.txt) and URLs the host's
robots.txt disallows (Scrapy's RobotsTxtMiddleware parsers, one robots.txt per host
and crawl) are aborted; the rest wait for one of the host's
CONCURRENT_REQUESTS_PER_DOMAIN browser slots, held until the response is read.
`RenderHandler` is scrapy-playwright's download handler with backcheck's life cycle
of browser, contexts and pages; crawler/render.py installs it and drives a render.
"""

from __future__ import annotations

import asyncio
import contextlib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from playwright.async_api import Page
    from playwright.async_api import Request as BrowserRequest
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.render import Watch

#: Resource types the renderer never fetches: they cannot add links.
BLOCKED_TYPES = frozenset({"image", "media", "font"})
#: Browser starts a crawl: the first, then restarts after a crash (a page that kills
#: the browser every time must not cost a restart per page).
MAX_LAUNCHES = 4
#: Seconds a used page may take to go back to about:blank before it is closed instead.
RELEASE_S = 2.0


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
        self.held: dict[BrowserRequest, asyncio.Event] = {}  # set when the request ends
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
        """Wait for one of the host's slots; it is released when the request ends."""
        slot = self.slots.setdefault(host, asyncio.Semaphore(self.per_host))
        await slot.acquire()
        self.held[request] = ended = asyncio.Event()
        task = asyncio.get_running_loop().create_task(self._release(slot, request, ended))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    def ended(self, request: BrowserRequest) -> None:
        """A page's "requestfinished" / "requestfailed" listener: the slot is free again.

        Not `Response.finished()`: measured, it did not resolve for a 404 stylesheet or
        script until the page closed, which held the host's slots for the whole render.
        """
        if (ended := self.held.pop(request, None)) is not None:
            ended.set()

    def page_closed(self, page: Page) -> None:
        """The requests of a closed page end with it (no event says so)."""
        for request in list(self.held):
            with contextlib.suppress(Exception):  # a request of no frame (a worker)
                if request.frame.page == page:
                    self.ended(request)

    async def _release(
        self, slot: asyncio.Semaphore, request: BrowserRequest, ended: asyncio.Event
    ) -> None:
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.hold_s):
                    await ended.wait()
        finally:
            self.held.pop(request, None)
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
    per-host slots) before it leaves. Each render gets the current browser context,
    a fresh one every BACKCHECK_RENDER_RECYCLE renders, so memory stays flat; a retired
    context is closed with its last page. The context is picked when the page is
    made, not when the request is: Scrapy downloads requests in another order than
    they were made. A browser that died is started again, at most MAX_LAUNCHES times
    a crawl; after that renders fail at once and pages keep their raw verdict.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.gate = Gate.from_crawler(crawler)
        self.abort_request = self.gate.abort
        self.recycle = max(crawler.settings.getint("BACKCHECK_RENDER_RECYCLE", 200), 1)
        # Taken before a context is picked, so no page waits on a context that may close.
        self.pages = asyncio.Semaphore(max(crawler.settings.getint("BACKCHECK_RENDER_PAGES"), 1))
        self.renders = 0
        self.launches = 0
        self._opening: dict[str, int] = {}  # context name: pages being made in it
        self.in_use: set[Page] = set()  # each holds one of `self.pages`
        self.idle: dict[str, list[Page]] = {}  # context name: pages kept for the next render
        self._started = False
        self._starting = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()

    async def _maybe_launch_in_thread(self) -> None:
        """Not at engine start: at the first render (`_download_request`)."""

    async def _download_request(self, request: Request, spider: Any = None) -> Response:
        if not self._started:
            async with self._starting:
                if not self._started:
                    await self._launch()
                    self._started = True
        return await super()._download_request(request, spider)

    async def _maybe_launch_browser(self) -> None:
        if not hasattr(self, "browser"):
            if self.launches >= MAX_LAUNCHES:
                raise RuntimeError(f"Chromium stopped {self.launches} times: not started again")
            self.launches += 1
            if self.launches > 1:
                self.stats.inc_value("backcheck/render/browser_restarts")
        await super()._maybe_launch_browser()

    def current_context(self) -> str:
        return f"render-{self.renders // self.recycle}"

    async def _create_page(self, request: Request, spider: Any) -> Page:
        await self.pages.acquire()
        name = self.current_context()
        request.meta["playwright_context"] = name
        request.meta["backcheck_release"] = self.release
        self.renders += 1
        self._close_idle(but=name)
        if reused := self._take_idle(name):
            request.meta["backcheck_reused"] = True
            return reused
        self._opening[name] = self._opening.get(name, 0) + 1
        try:
            page = await super()._create_page(request, spider)
        except BaseException:
            self.pages.release()
            raise
        finally:
            self._opening[name] -= 1
        self.in_use.add(page)
        page.once("close", lambda: self._page_closed(name, page))
        page.on("requestfinished", self.gate.ended)
        page.on("requestfailed", self.gate.ended)
        return page

    def _take_idle(self, name: str) -> Page | None:
        idle = self.idle.get(name, [])
        while idle:
            page = idle.pop()
            if not page.is_closed():
                self.in_use.add(page)
                return page
        return None

    async def release(self, page: Page | None, watch: Watch, reuse: bool) -> None:
        """Take a render's page back: kept for the next render of its context, or closed.

        A new page costs the browser about as much CPU as rendering a small one
        (measured), so a page that rendered cleanly is reused. It first goes to
        about:blank, which stops the last page's scripts, then loses its routes.
        """
        if page is None or page.is_closed():
            return
        watch.detach(page)
        name = next((n for n, w in self.context_wrappers.items() if w.context == page.context), "")
        if reuse and name == self.current_context():
            try:
                async with asyncio.timeout(RELEASE_S):
                    await page.goto("about:blank")
                    await page.unroute_all(behavior="ignoreErrors")
            except Exception:
                reuse = False
            else:
                self.in_use.discard(page)
                self.idle.setdefault(name, []).append(page)
                self.pages.release()
                return
        with contextlib.suppress(Exception):  # a crashed browser took it already
            await page.close()  # its "close" event frees the slot

    def _close_idle(self, but: str) -> None:
        """Close the kept pages of retired contexts, so that those can close."""
        for name in [n for n in self.idle if n != but]:
            for page in self.idle.pop(name):
                self._later(page.close())

    def _page_closed(self, name: str, page: Page) -> None:
        """Free the page's slots; close its context if retired and now empty."""
        self.gate.page_closed(page)
        if page in self.in_use:
            self.in_use.discard(page)
            self.pages.release()
        if page in self.idle.get(name, []):
            self.idle[name].remove(page)
        wrapper = self.context_wrappers.get(name)
        if wrapper is None or name == self.current_context():
            return
        if wrapper.context.pages or self._opening.get(name):
            return
        self._opening.pop(name, None)
        self._later(wrapper.context.close())

    def _later(self, closing: Awaitable[None]) -> None:
        """Close a page or context without waiting (it may be gone with its browser)."""

        async def close() -> None:
            with contextlib.suppress(Exception):
                await closing

        task = asyncio.get_running_loop().create_task(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
