"""Which network addresses backcheck may fetch from.

Referring pages are written by strangers: a page (or its redirect, a link on
it, or its DNS record) can point the crawler at the cloud metadata service on
169.254.169.254 or at the machine's own network. Link-local addresses are never
fetched; loopback and private ranges are refused only on request
(`BACKCHECK_REFUSE_PRIVATE_ADDRESSES`), since verifying an intranet is a
legitimate use.

A host is read the way a browser's URL parser and the C library's `inet_aton`
read it, so `2852039166`, `0xa9fea9fe`, `0251.0376.0251.0376` and
`169.254.43518` are all 169.254.169.254; an IPv6 address that carries an IPv4
one (IPv4-mapped, IPv4-compatible, NAT64, 6to4) is judged by the IPv4 one too.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: The setting that also refuses loopback and private ranges.
PRIVATE_SETTING = "BACKCHECK_REFUSE_PRIVATE_ADDRESSES"

#: Cloud metadata services outside the link-local ranges (AWS's IPv6 endpoint,
#: Alibaba Cloud's): refused like link-local, whatever the setting says.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}
)
#: Carrier-grade NAT space: not "private" to Python, but never a public web server.
SHARED_SPACE = ipaddress.ip_network("100.64.0.0/10")
#: IPv6 prefixes that carry an IPv4 address in their last 32 bits.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _ipv4_part(part: str) -> int | None:
    """One dotted part as WHATWG's IPv4 number parser reads it (0x hex, 0 octal)."""
    base = 10
    if part[:2].lower() == "0x":
        part, base = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        part, base = part[1:], 8
    if not part:
        return 0  # "0x" alone is zero to browsers
    digits = "0123456789abcdef"[:base]
    if any(c not in digits for c in part.lower()):
        return None
    return int(part, base)


def _ipv4(host: str) -> ipaddress.IPv4Address | None:
    """`host` as an IPv4 address in any spelling that browsers and inet_aton accept.

    >>> _ipv4("2852039166"), _ipv4("169.254.43518"), _ipv4("0x7f.1"), _ipv4("acme.com")
    (IPv4Address('169.254.169.254'), IPv4Address('169.254.169.254'), IPv4Address('127.0.0.1'), None)
    """
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()  # a trailing dot
    if not 1 <= len(parts) <= 4 or any(not p for p in parts):
        return None
    numbers = [_ipv4_part(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    *leading, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(parts)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def host_address(host: str) -> IPAddress | None:
    """The address a URL's host names literally, or None for a host name.

    Accepts the host with or without IPv6 brackets and zone id (`%25eth0`).

    >>> host_address("[::ffff:169.254.169.254]"), host_address("blog.example.org")
    (IPv6Address('::ffff:a9fe:a9fe'), None)
    """
    host = unicodedata.normalize("NFKC", host).strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.partition("%")[0])
        except ValueError:
            return None
    return _ipv4(host)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _rule(address: IPAddress, refuse_private: bool) -> str | None:
    if address.is_link_local:
        return "is link-local (169.254.0.0/16, fe80::/10): never fetched"
    if address in METADATA_ADDRESSES:
        return "is a cloud metadata service: never fetched"
    if not refuse_private:
        return None
    if address.is_loopback:
        return f"is a loopback address: refused by {PRIVATE_SETTING}"
    if address.is_unspecified:
        return f"is unspecified (this host): refused by {PRIVATE_SETTING}"
    if address.is_private or address in SHARED_SPACE or getattr(address, "is_site_local", False):
        return f"is a private address: refused by {PRIVATE_SETTING}"
    return None


def refusal(address: IPAddress | str, refuse_private: bool = False) -> str | None:
    """Why `address` must not be fetched (a sentence naming the rule), or None.

    >>> refusal("169.254.169.254")
    '169.254.169.254 is link-local (169.254.0.0/16, fe80::/10): never fetched'
    >>> refusal("10.0.0.1"), refusal("10.0.0.1", refuse_private=True)
    (None, '10.0.0.1 is a private address: refused by BACKCHECK_REFUSE_PRIVATE_ADDRESSES')
    """
    if isinstance(address, str):
        address = ipaddress.ip_address(address.partition("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        address = ipaddress.IPv6Address(str(address).partition("%")[0])
    inner = _embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
    if inner is None:
        why = _rule(address, refuse_private)
        return None if why is None else f"{address} {why}"
    # Judged by the IPv4 address alone: Python counts all of ::ffff:0:0/96 as private.
    why = _rule(inner, refuse_private)
    return None if why is None else f"{address} carries {inner}, which {why}"


def url_refusal(url: str, refuse_private: bool = False) -> str | None:
    """Why the host of `url` must not be fetched, when it is an address; else None.

    A host name is judged later, by what it resolves to.

    >>> url_refusal("http://2852039166/latest/meta-data/")
    '169.254.169.254 is link-local (169.254.0.0/16, fe80::/10): never fetched'
    >>> url_refusal("https://blog.example.org/post") is None
    True
    """
    try:
        host = urlsplit(url).hostname
    except ValueError:  # an unparsable IPv6 host: the downloader refuses it anyway
        return None
    if not host:
        return None
    address = host_address(host)
    return None if address is None else refusal(address, refuse_private)
