"""Downloader middlewares that backcheck needs on top of Scrapy's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobots
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.robotstxt import RobotParser


class RobotsTxtMiddleware(_ScrapyRobots):
    """Scrapy's robots.txt middleware, safe for many requests to one host at once.

    In Scrapy 2.19 every request that arrives while a host's robots.txt is
    downloading awaits the same Deferred. Awaiting a Deferred adds a callback
    that returns None, so from the third request on the waiters receive None
    and treat the host as unrestricted: pages that robots.txt forbids get
    fetched. Each waiter here gets a Deferred of its own, fed by a callback
    that passes the parser along the chain.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if isinstance(pending, Deferred):
            mine: Deferred[Any] = Deferred()

            def relay(result: Any) -> Any:
                mine.callback(result)
                return result

            pending.addBoth(relay)
            return await maybe_deferred_to_future(mine)
        return await super().robot_parser(request)
