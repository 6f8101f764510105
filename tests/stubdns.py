"""backcheck's DNS resolver with canned answers, for tests: no resolver is ever asked.

Set with `-s TWISTED_DNS_RESOLVER=tests.stubdns.StubDNS`: the rule of
`crawler.resolver.AddressGuardResolver` applies to the answers below; any
other name fails its lookup, and an address (the proxy's) answers itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.internet import defer, error
from twisted.internet.abstract import isIPAddress

from crawler.resolver import AddressGuardResolver

ANSWERS = {
    "meta.evil.test": "169.254.169.254",  # a DNS record pointing at the metadata service
    "2852039166": "169.254.169.254",  # as gethostbyname reads a bare number
    "blog.example.org": "93.184.216.34",
    "intranet.test": "127.0.0.1",  # a name for the virtual web, reached without the proxy
    "intranet.lan": "10.0.0.5",
    "proxy.lan": "10.0.0.9",
}


class StubDNS(AddressGuardResolver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asked: list[str] = []  # the names looked up, in order

    def lookup(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        self.asked.append(name)
        if isIPAddress(name):
            return defer.succeed(name)
        if name.lower() in ANSWERS:
            return defer.succeed(ANSWERS[name.lower()])
        return defer.fail(error.DNSLookupError(f"no such host (test resolver): {name}"))
