"""Rendering a page already fetched, for the spiders that verify backlinks (issue 14).

`Renders` is the part of a spider that sends a page whose raw verdict rendering
may change to the browser (crawler/render.py) and joins the rendered checks with
the raw ones (`verifier.verdict.render.rejoin`). A local `verify` and a `verify
--redis` worker use it alike, so a run gives the same verdicts on one machine or
many; each says in `rendered` what to do with a page's joined items.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

import scrapy

from crawler import render
from verifier.models import BacklinkRef, Check, Fetch
from verifier.verdict.render import RenderMode, has_executable_script, needs_render, rejoin

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

#: Request meta: the render mode of the page's run.
MODE = "backcheck_render_mode"
#: Why no page is rendered in this process (no Chromium), for the checks' `detail`.
MISSING = "not rendered: Chromium not found (BACKCHECK_CHROMIUM)"


def missing_browser(crawler: Crawler, mode: RenderMode) -> str | None:
    """Why this process cannot render for `mode` (None: it can, or need not)."""
    if mode is RenderMode.NEVER or render.chromium_path(crawler.settings):
        return None
    return MISSING


class Renders(scrapy.Spider):
    """Render requests for pages already fetched, and what comes back from them."""

    render_missing: str | None = None  # why this process renders nothing

    def rendered(self, request_meta: dict[str, Any], items: list[Any]) -> Iterable[Any]:
        """What to send for a page once its checks are final (rendered or not)."""
        raise NotImplementedError

    def render_or_items(
        self,
        mode: RenderMode,
        fetch: Fetch,
        refs: list[BacklinkRef],
        items: list[Any],
        meta: dict[str, Any] | None = None,
    ) -> scrapy.Request | list[Any]:
        """A render request for the page when its checks want one, else its items
        (with the reason in `detail` when the page should have been rendered)."""
        checks = [item for item in items[: len(refs)] if isinstance(item, Check)]
        if not needs_render(
            mode, checks, lambda: has_executable_script(fetch.body, fetch.content_type)
        ):
            return items
        if self.render_missing is not None:
            return rejoin(mode, fetch, refs, items, None, self.render_missing)
        browser = render.render_meta(
            fetch.body, fetch.content_type, self.settings.get("USER_AGENT")
        )
        return scrapy.Request(
            fetch.final_url,
            callback=self.parse_rendered,
            errback=self.on_render_error,
            cb_kwargs={"fetch": fetch, "refs": refs, "items": items},
            meta={**(meta or {}), **browser, MODE: mode, "dont_redirect": True, "dont_retry": True},
            dont_filter=True,
        )

    async def parse_rendered(
        self, response: Response, fetch: Fetch, refs: list[BacklinkRef], items: list[Any]
    ) -> AsyncIterator[Any]:
        """The checks of a rendered page; the raw verdict stands when it cannot be read."""
        page = response.meta.get("playwright_page")
        watch: render.Watch = response.meta["backcheck_watch"]
        timeout = self.settings.getfloat("BACKCHECK_RENDER_TIMEOUT")
        html, notes = None, []
        try:
            html, quiet = await render.settle(page, watch, timeout)
            if not quiet:
                notes.append(f"rendered: never quiet, read at the {timeout:g} s timeout")
        except Exception as exc:  # a busy page, a crashed browser: keep the raw verdict
            notes.append(f"render failed: page could not be read ({type(exc).__name__})")
        finally:
            await render.release_page(response.meta, reuse=html is not None)
        if watch.errors:
            notes.append(f"script error: {watch.errors[0]}")
        self.crawler.stats.inc_value("backcheck/render/" + ("ok" if html else "failed"))
        mode = response.meta[MODE]
        try:
            joined = rejoin(mode, fetch, refs, items, html, "; ".join(notes) or None)
        except Exception as exc:  # a rendered DOM that brings out a bug: the raw verdict
            self.logger.error("reading the render of %s failed: %r", fetch.final_url, exc)
            note = f"render failed: the rendered page could not be read ({type(exc).__name__})"
            joined = rejoin(mode, fetch, refs, items, None, note)
        for item in self.rendered(response.meta, joined):
            yield item

    async def on_render_error(self, failure: Failure) -> AsyncIterator[Any]:
        """Chromium missing, crashed or timed out before load: the raw verdict stands."""
        request = failure.request
        await render.release_page(request.meta, reuse=False)
        self.crawler.stats.inc_value("backcheck/render/failed")
        error = str(failure.value).strip().splitlines()
        why = f"{type(failure.value).__name__}: {error[0][:160]}" if error else "error"
        self.logger.info("render of %(url)s failed: %(why)s", {"url": request.url, "why": why})
        kwargs = request.cb_kwargs
        joined = rejoin(
            request.meta[MODE],
            kwargs["fetch"],
            kwargs["refs"],
            kwargs["items"],
            None,
            f"render failed: {why}",
        )
        for item in self.rendered(request.meta, joined):
            yield item
