"""A Twisted resolver for tests that answers every lookup with DNSLookupError.

Set with `-s TWISTED_DNS_RESOLVER=tests.nodns.NoDNS`: a host that bypasses the
virtual web's proxy (`no_proxy`) then fails name resolution without any real
resolver being asked, so nothing leaves 127.0.0.1. IP addresses (the proxy's)
are passed through, as any resolver does.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, error
from twisted.internet.abstract import isIPAddress
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer


@implementer(IResolverSimple)
class NoDNS:
    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> NoDNS:
        return cls(reactor)

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout: Any = ()) -> defer.Deferred[str]:
        if isIPAddress(name):  # the proxy, 127.0.0.1: an address needs no lookup
            return defer.succeed(name)
        return defer.fail(error.DNSLookupError(f"no such host (test resolver): {name}"))
