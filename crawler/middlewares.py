"""Downloader middlewares that backcheck needs on top of Scrapy's."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobots
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)


class RobotsTxtMiddleware(_ScrapyRobots):
    """Scrapy's robots.txt middleware, per scheme and host, safe for many requests at once.

    In Scrapy 2.19 every request that arrives while a host's robots.txt is
    downloading awaits the same Deferred. Awaiting a Deferred adds a callback
    that returns None, so from the third request on the waiters receive None
    and treat the host as unrestricted: pages that robots.txt forbids get
    fetched. Each waiter here gets a Deferred of its own, fed by a callback
    that passes the parser along the chain.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        # Keyed by scheme and host, not host alone (Scrapy's key): robots.txt rules
        # hold per protocol, host and port, and a failed https://host/robots.txt
        # (read as "no rules") must not open http://host/ to everything.
        url = urlparse_cached(request)
        key = f"{url.scheme}://{url.netloc}"
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
