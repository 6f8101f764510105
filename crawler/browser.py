"""The browser side of rendering (issue 14): how its requests go out, its pages.

`Gate` answers each of the browser's own requests as Google's renderer would make
them: images, media and fonts and known trackers (crawler/data/trackers.txt) are
aborted; everything else is fetched by Scrapy's own downloader, so robots.txt, the
user agent and the host's politeness (download slots, delays, AutoThrottle) hold for
the browser's requests exactly as for Scrapy's. `RenderHandler` is scrapy-playwright's
download handler with backcheck's life cycle of browser, contexts and pages;
crawler/render.py installs it and drives a render.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from crawler.render import end_render

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from playwright.async_api import Page, Route
    from playwright.async_api import Request as BrowserRequest
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.render import Watch

#: Resource types the renderer never fetches: they cannot add links.
BLOCKED_TYPES = frozenset({"image", "media", "font"})
#: Browser starts a crawl: the first, then restarts after a crash (a page that kills
#: the browser every time must not cost a restart per page).
MAX_LAUNCHES = 4
#: Renders between two full collections of the garbage renders leave (`_create_page`).
COLLECT_EVERY = 100


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
    """How the browser's own requests go out: aborted, or fetched by Scrapy's downloader.

    A request the renderer would not make (an image, media, a font, a known tracker)
    is aborted. Every other http(s) request is fetched by Scrapy
    (`ExecutionEngine.download_async`) and its answer handed to the browser, so the
    browser's requests get everything Scrapy's own get, by construction: the user
    agent, robots.txt (RobotsTxtMiddleware), the host's download slot
    (CONCURRENT_REQUESTS_PER_DOMAIN shared with the pages Scrapy fetches,
    DOWNLOAD_DELAY, AutoThrottle), the size cap and the address guard. Redirects are
    handed to the browser as they came (Chromium follows a fulfilled 3xx), so each hop
    comes back here and passes the same checks.
    """

    def __init__(self, crawler: Crawler, trackers: frozenset[str]) -> None:
        self.crawler = crawler
        self.trackers = trackers

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Gate:
        return cls(crawler, load_trackers())

    async def serve(self, route: Route, request: BrowserRequest) -> None:
        """Answer one of the browser's requests (a page's `route` handler)."""
        if blocked(request):
            await _quietly(route.abort("blockedbyclient"))
            return
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            await _quietly(route.fallback())  # data:, blob:: nothing goes out
            return
        if is_tracker((parts.hostname or "").lower(), self.trackers):
            self._count("tracker_blocked")
            await _quietly(route.abort("blockedbyclient"))
            return
        try:
            response = await self.fetch(request)
        except IgnoreRequest as exc:  # robots.txt, a refused address
            self._count("robots_blocked" if "robots.txt" in str(exc) else "refused")
            await _quietly(route.abort("blockedbyclient"))
            return
        except Exception:  # a timeout, a reset, a size cap: the browser sees a failure
            self._count("fetch_failed")
            await _quietly(route.abort("failed"))
            return
        await _quietly(
            route.fulfill(status=response.status, headers=_headers(response), body=response.body)
        )

    async def fetch(self, request: BrowserRequest) -> Response:
        """The browser's request, fetched by Scrapy's downloader (middlewares, slots)."""
        headers = {
            name: value
            for name, value in (await request.all_headers()).items()
            if name.lower() not in _NOT_FORWARDED
        }
        engine = self.crawler.engine
        if engine is None:
            raise IgnoreRequest("the crawl is closing")
        return await engine.download_async(
            Request(
                request.url,
                method=request.method,
                headers=headers,
                body=request.post_data_buffer or b"",
                dont_filter=True,
                # As a browser: the answer as it came (a redirect is the browser's to
                # follow), no retries; cookies are the browser's own.
                meta={
                    "dont_redirect": True,
                    "dont_retry": True,
                    "handle_httpstatus_all": True,
                    "dont_merge_cookies": True,
                },
            )
        )

    def _count(self, what: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"backcheck/render/{what}")


#: Request headers the browser sends that Scrapy sets itself (or that describe the
#: browser's connection, not the request).
_NOT_FORWARDED = frozenset(
    {"accept-encoding", "connection", "content-length", "host", "keep-alive", "te", "upgrade"}
)
#: Response headers that described the bytes on the wire: Scrapy hands over the body
#: decompressed and whole.
_NOT_RETURNED = frozenset({b"content-encoding", b"content-length", b"transfer-encoding"})


def _headers(response: Response) -> dict[str, str]:
    """A Scrapy response's headers as `route.fulfill` takes them (Set-Cookie lines
    joined by newlines, as Playwright joins them; other repeated headers by commas)."""
    found: dict[str, str] = {}
    for name, values in response.headers.items():
        key = bytes(name).lower()
        if key in _NOT_RETURNED:
            continue
        sep = "\n" if key == b"set-cookie" else ", "
        found[key.decode("latin-1")] = sep.join(v.decode("latin-1") for v in values)
    return found


async def _quietly(answer: Awaitable[None]) -> None:
    """Answer a route; the page may be gone already (render over, browser crashed)."""
    with contextlib.suppress(Exception):
        await answer


class RenderHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, starting Playwright at the first render, not the crawl.

    Every request the browser makes is answered by `Gate.serve` (aborted, or fetched
    by Scrapy's downloader). Each render gets the current browser context,
    a fresh one every BACKCHECK_RENDER_RECYCLE renders, so memory stays flat; a retired
    context is closed with its last page. The context is picked when the page is
    made, not when the request is: Scrapy downloads requests in another order than
    they were made. A browser that died is started again, at most MAX_LAUNCHES times
    a crawl; after that renders fail at once and pages keep their raw verdict.
    """

    def __init__(self, crawler: Crawler) -> None:
        # scrapy-playwright adds a request and a response logger to every page when its
        # logger would show DEBUG (the root logger's level is left unset), and each looks
        # up a header through the driver per browser request: below DEBUG, none are added.
        level = logging.getLevelName(str(crawler.settings.get("LOG_LEVEL") or "DEBUG"))
        if isinstance(level, int) and level > logging.DEBUG:
            logging.getLogger("scrapy-playwright").setLevel(max(level, logging.INFO))
        super().__init__(crawler)
        self.gate = Gate.from_crawler(crawler)
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
        request.meta["backcheck_serve"] = self.gate.serve  # crawler.render.init_page
        self.renders += 1
        if self.renders % COLLECT_EVERY == 0:
            # Playwright leaves reference cycles that only the cyclic GC frees: its objects
            # (Request, Route, Response, their tasks), each listener or route handler with
            # what it holds (a render's Watch), and the stack each API call captures (frame
            # objects in a cycle, with their locals: bodies, rendered HTML).
            # crawler/runner.py's thresholds run that GC seldom: the middle generation once
            # per ~1,600 renders, the oldest never. Without this the crawler grew 0.14 MB a
            # render, all of it such garbage; collecting only the young generations every
            # 100 renders still grew 0.06 MB a render (a recent render's objects are still
            # alive then and reach the oldest one). A full collection took 0.1-0.2 s (1-2 ms
            # a render; a render costs ~300 ms of CPU).
            gc.collect()
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
        (measured), so a page that rendered cleanly is reused. It stays on the document
        it rendered, its clock stopped (`render.settle`), until the next render
        navigates away; what that document still asks for is aborted (`render.Routes`).
        """
        if page is None or page.is_closed():
            return
        watch.detach(page)
        end_render(page)
        name = next((n for n, w in self.context_wrappers.items() if w.context == page.context), "")
        if reuse and name == self.current_context():
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
