"""Scrapy's DNS resolver, refusing answers that `verifier.verdict.addresses` refuses.

A host name can resolve to 169.254.169.254 (the cloud metadata service) as well
as a URL can name it, so the address a lookup answers is checked before the
crawler connects to it; being the answer the connection uses, it cannot change
in between (no DNS rebinding window).

Behind a proxy Scrapy resolves only the proxy's name, never the pages' hosts:
the proxy does, and this rule cannot see its answers. The proxies set in the
environment are the user's own choice and are never refused.

Twisted reports a refused answer as a lookup that found nothing, so the reason
is kept in `refused`, where `crawler.middlewares.AddressGuardMiddleware` reads it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from urllib.request import getproxies

from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.datatypes import LocalCache
from twisted.internet import defer
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from verifier.verdict import addresses

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from scrapy.crawler import Crawler
    from twisted.internet.base import ReactorBase

logger = logging.getLogger(__name__)

#: Refused host names remembered (a retry of one is refused without asking DNS again).
REFUSED_CACHE_SIZE = 10_000


def proxy_hosts(proxies: Iterable[str]) -> frozenset[str]:
    """The host names of proxy URLs (`http://proxy.lan:3128` -> `proxy.lan`)."""
    hosts = set()
    for url in proxies:
        host = urlsplit(url if "://" in url else f"//{url}").hostname
        if host:
            hosts.add(host.lower())
    return frozenset(hosts)


@implementer(IResolverSimple)
class AddressGuardResolver(CachingThreadedResolver):
    """`CachingThreadedResolver` (Scrapy's default: IPv4, DNS_TIMEOUT, cache) plus the rule."""

    def __init__(
        self,
        reactor: ReactorBase,
        cache_size: int,
        timeout: float,
        refuse_private: bool = False,
        trusted: Iterable[str] = (),
    ) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.refuse_private = refuse_private
        self.trusted = frozenset(host.lower() for host in trusted)
        self.refused: LocalCache[str, str] = LocalCache(REFUSED_CACHE_SIZE)

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> AddressGuardResolver:
        # `crawler` is the CrawlerProcess here (Scrapy builds resolvers before any crawler),
        # so these are the process's settings: `-s` overrides included.
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(
            reactor,
            cache_size,
            settings.getfloat("DNS_TIMEOUT"),
            refuse_private=settings.getbool("BACKCHECK_REFUSE_PRIVATE_ADDRESSES"),
            trusted=proxy_hosts(url for kind, url in getproxies().items() if kind != "no"),
        )

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        key = name.lower().rstrip(".")
        if key in self.refused:
            return defer.fail(DNSLookupError(self.refused[key]))
        found = self.lookup(name, timeout)
        # An address needs no lookup: the URL rule judged it (and a proxy's is the user's).
        if isIPAddress(name) or isIPv6Address(name) or key in self.trusted:
            return found
        return found.addCallback(self._checked, key)

    def lookup(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        """The answer before the rule is applied: Scrapy's cached, threaded lookup."""
        return super().getHostByName(name, timeout)

    def _checked(self, address: Any, key: str) -> Any:
        why = addresses.refusal(str(address), self.refuse_private)
        if why is None:
            return address
        detail = f"{key} resolves to {why}"
        self.refused[key] = detail
        logger.warning("refused DNS answer: %(detail)s", {"detail": detail})
        raise DNSLookupError(detail)
