"""Downloader middlewares that backcheck needs on top of Scrapy's."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as _ScrapyMetaRefresh
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware as _ScrapyRedirect
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobots
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from crawler.resolver import AddressGuardResolver
from verifier.verdict import addresses
from verifier.verdict import refresh as refreshes
from verifier.verdict.refresh import Refresh, page_refresh
from verifier.verdict.urls import browser_url, is_http_url, resolve

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


#: Google reads the first 500 KiB of a robots.txt and ignores the rest; the rules of a
#: longer file are each tried for every request to its host (a 1 MB file: 23 ms each).
ROBOTS_MAX_BYTES = 500 * 1024


def robots_body(body: bytes, limit: int = ROBOTS_MAX_BYTES) -> bytes:
    r"""The part of a robots.txt that is read: its first `limit` bytes, whole lines only.

    >>> robots_body(b"User-agent: *\nDisallow: /a\nDisallow: /b\n", 30)
    b'User-agent: *\nDisallow: /a\n'
    """
    if len(body) <= limit:
        return body
    cut = body.rfind(b"\n", 0, limit)
    return body[: cut + 1] if cut != -1 else body[:limit]


def _robots_key(parts: Any) -> str:
    """Whose robots.txt rules a URL (split) falls under: its scheme and host (with port)."""
    return f"{parts.scheme}://{parts.netloc}"


class RobotsTxtMiddleware(_ScrapyRobots):
    """Scrapy's robots.txt middleware, per scheme and host, safe for many requests at once.

    In Scrapy 2.19 every request that arrives while a host's robots.txt is
    downloading awaits the same Deferred. Awaiting a Deferred adds a callback
    that returns None, so from the third request on the waiters receive None
    and treat the host as unrestricted: pages that robots.txt forbids get
    fetched. Each waiter here gets a Deferred of its own, fed by a callback
    that passes the parser along the chain.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._not_ok: set[str] = set()  # keys whose robots.txt answered other than 200

    def sitemaps(self, url: str) -> list[str] | None:
        """The `Sitemap:` URLs of the robots.txt read for `url`'s scheme and host.

        `crawl` starts from them without fetching robots.txt a second time. []
        when it answered other than 200 or not at all; None when it was not read
        (yet), or read by a parser other than Protego.
        """
        key = _robots_key(urlsplit(url))
        if key not in self._parsers or isinstance(self._parsers[key], Deferred):
            return None
        parser = self._parsers[key]
        if parser is None or key in self._not_ok:
            return []
        named = getattr(getattr(parser, "rp", None), "sitemaps", None)
        return None if named is None else list(named)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status != 200:
            self._not_ok.add(netloc)
        if len(response.body) > ROBOTS_MAX_BYTES:
            response = response.replace(body=robots_body(response.body))
        await super()._parse_robots(response, netloc, request)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        # Keyed by scheme and host, not host alone (Scrapy's key): robots.txt rules
        # hold per protocol, host and port, and a failed https://host/robots.txt
        # (read as "no rules") must not open http://host/ to everything.
        key = _robots_key(urlparse_cached(request))
        pending = self._parsers.get(key)
        if isinstance(pending, Deferred):
            mine: Deferred[Any] = Deferred()

            def relay(result: Any) -> Any:
                mine.callback(result)
                return result

            pending.addBoth(relay)
            return await maybe_deferred_to_future(mine)
        if key in self._parsers:
            return pending
        self._parsers[key] = Deferred()
        robots = Request(
            f"{key}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            meta={"dont_obey_robotstxt": True},
            callback=NO_CALLBACK,
        )
        try:
            assert self.crawler.engine is not None
            response = await self.crawler.engine.download_async(robots)
            await self._parse_robots(response, key, request)
        except Exception as exc:  # as Scrapy does: no answer means no rules
            if not isinstance(exc, IgnoreRequest):
                logger.warning(
                    "cannot read %(request)s (%(f_exception)s): no robots.txt rules for %(key)s",
                    {"request": robots.url, "f_exception": exc, "key": key},
                    extra={"spider": self.crawler.spider},
                )
            self._robots_error(exc, key)
        self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[key]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser


class AddressRefused(IgnoreRequest):
    """A request that was not sent: its host is an address backcheck never fetches."""


class AddressGuardMiddleware:
    """Refuse requests whose host is a refused address (`verifier.verdict.addresses`).

    Every request passes here, so this holds for start URLs, redirects (3xx and
    meta refresh: the redirected request comes back through the chain, and its
    failure carries the hops so far: a referring page that redirects there is
    `redirected_away`), links and contact pages alike. A host name that resolved
    to such an address (`crawler.resolver`) fails its lookup; that failure is
    turned into the same refusal, with the rule that refused it.

    It sits between RetryMiddleware (550) and the redirect middlewares (580, 600):
    nearer the downloader than retry, so a refused lookup is not retried.
    """

    def __init__(
        self, refuse_private: bool, stats: StatsCollector, lookups: Mapping[str, str] | None = None
    ) -> None:
        self.refuse_private = refuse_private
        self.stats = stats
        self.lookups: Mapping[str, str] = {} if lookups is None else lookups

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        # The resolver is the reactor's; looked up without importing the reactor module,
        # which would install a default reactor when none is running yet.
        reactor = sys.modules.get("twisted.internet.reactor")
        resolver = getattr(reactor, "resolver", None)
        lookups = resolver.refused if isinstance(resolver, AddressGuardResolver) else None
        assert crawler.stats is not None
        return cls(
            crawler.settings.getbool("BACKCHECK_REFUSE_PRIVATE_ADDRESSES"), crawler.stats, lookups
        )

    def process_request(self, request: Request) -> None:
        why = addresses.url_refusal(request.url, self.refuse_private)
        if why is not None:
            self._refuse(request, why)

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, (CannotResolveHostError, DNSLookupError)):
            host = (urlparse_cached(request).hostname or "").rstrip(".")
            why = self.lookups.get(host)
            if why is not None:
                self._refuse(request, why)

    def _refuse(self, request: Request, why: str) -> None:
        self.stats.inc_value("backcheck/address_refused")
        logger.info("not fetching %(url)s: %(why)s", {"url": request.url, "why": why})
        raise AddressRefused(why)


class MetaRefreshMiddleware(_ScrapyMetaRefresh):
    """Scrapy's meta refresh redirects, with the refresh read as browsers read it.

    Scrapy looks only at the first 4096 characters, with w3lib's regular
    expression, which misses spellings browsers follow (`0, url=…`, `0; URL = '…'`,
    no `url=`). `verifier.verdict.refresh` parses the whole document with the HTML
    standard's algorithm, and never inside `<noscript>`, `<template>`, a script or a
    comment (so METAREFRESH_IGNORE_TAGS is not read). METAREFRESH_MAXDELAY still
    applies, and a refresh of the page itself (a bare delay) is no redirect.
    """

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if (
            request.meta.get("dont_redirect", False)
            or request.method == "HEAD"
            or not isinstance(response, HtmlResponse)
            or urlparse_cached(request).scheme not in {"http", "https"}
        ):
            return response
        content_type = response.headers.get("Content-Type")
        refresh = header_refresh(response) or page_refresh(
            response.body,
            content_type.decode("latin-1") if content_type else None,
            response.url,
        )
        if (
            refresh is None
            or refresh.url == response.url
            or refresh.delay >= self._maxdelay
            or not is_http_url(refresh.url)  # mailto:, javascript: … (a Request would raise)
        ):
            return response
        url = browser_url(refresh.url)  # a Unicode host as browsers encode it
        redirected = self._redirect_request_using_get(request, response, url)
        return self._redirect(redirected, request, "meta refresh")


def header_refresh(response: Response) -> Refresh | None:
    """A `Refresh:` response header, which browsers act on as on a meta refresh."""
    value = response.headers.get("Refresh")
    if not value:
        return None
    parsed = refreshes.parse_content(value.decode("utf-8", "replace"))
    if parsed is None:
        return None
    url = refreshes.resolve(parsed[1], response.url)
    return None if url is None else Refresh(parsed[0], url)


class RedirectMiddleware(_ScrapyRedirect):
    """Scrapy's HTTP redirects, with `Location` read as browsers read it.

    Scrapy joins it with `urljoin` and encodes a Unicode host with Python's IDNA
    2003 codec (`faß.example` becomes `fass.example`, another host); browsers parse
    it with the WHATWG URL standard (backslashes, no slashes after the scheme, tabs
    and newlines dropped) and encode the host by UTS #46, as backcheck does for the
    pages it fetches. The absolute, encoded URL replaces the header; the rest is Scrapy's.
    """

    def process_response(self, request: Request, response: Response) -> Request | Response:
        location = response.headers.get("Location")
        if location and 300 <= response.status < 400:
            # Browsers read the header's bytes as UTF-8 (a stray byte becomes U+FFFD).
            url = resolve(location.decode("utf-8", "replace"), request.url)
            if url is not None and is_http_url(url):
                headers = response.headers.copy()
                headers["Location"] = browser_url(url).encode("ascii", "replace")
                response = response.replace(headers=headers)
        return super().process_response(request, response)
