"""URL keys and domain matching (w3lib + tldextract with its bundled suffix list).

Three views of a URL are used:

* `identity_key`: which backlink a row is. Vendors list http, https and www
  copies of a page as separate backlinks, so only host case, default ports and
  the fragment are folded.
* `compare_key`: whether two URLs name the same page for a verdict
  (`target_changed`, `not_canonical`): scheme, `www.`, trailing slash, fragment
  and tracking parameters are folded too.
* `registered_domain`: who owns a host (private suffixes such as blogspot.com
  count as separate owners).
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit, urlunsplit

import ada_url
import idna
from w3lib.url import canonicalize_url

if TYPE_CHECKING:
    import tldextract

DEFAULT_PORTS = {"http": 80, "https": 443}

#: Query parameters that only track a click; they never make a different page.
TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z0-9_]+|gclid|gbraid|wbraid|dclid|fbclid|msclkid|yclid|igshid|twclid|ttclid"
    r"|mc_cid|mc_eid|_ga|_gl|_hsenc|_hsmi|mkt_tok|ref_src|srsltid)$",
    re.IGNORECASE,
)


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    # Imported here: tldextract pulls in requests, which report commands never need.
    import tldextract

    # No suffix-list URLs: the machines are offline, and the bundled snapshot
    # is what makes verdicts reproducible.
    return tldextract.TLDExtract(
        suffix_list_urls=(), include_psl_private_domains=True, cache_dir=None
    )


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host.

    >>> is_http_url("https://acme.com/x"), is_http_url("ftp://acme.com"), is_http_url("/x")
    (True, False, False)
    """
    try:
        parts = urlsplit(url.strip())
        return parts.scheme.lower() in DEFAULT_PORTS and bool(parts.hostname)
    except ValueError:
        return False


def resolve(href: str, base: str) -> str | None:
    r"""`href` resolved against the absolute `base` as browsers do (the WHATWG URL standard).

    Unlike `urljoin`: tabs and newlines anywhere are dropped, `\` is `/` in http(s)
    URLs, `https:host/x` names a host unless the base is https too (then it is a
    path), a `\` ends the host (so `https://evil.test\@acme.com/` is evil.test),
    characters such as spaces are percent-encoded, and the host is lower-cased and
    IDNA-encoded (UTS #46). None when browsers cannot parse it either.

    >>> resolve(r"https:\\acme.com\x y", "http://blog.test/p")
    'https://acme.com/x%20y'
    >>> resolve("https:acme.com/x", "http://b.test/p"), resolve("https:acme.com/x", "https://b.test/p")
    ('https://acme.com/x', 'https://b.test/acme.com/x')
    >>> resolve(r"https://evil.test\@acme.com/", "http://b.test/"), resolve("http://[::1/", "http://b/")
    ('https://evil.test/@acme.com/', None)
    """
    try:
        return ada_url.join_url(base, href)
    except ValueError:
        return None


def browser_href(url: str) -> str | None:
    """An absolute URL as browsers send it (WHATWG serialisation); None when they cannot parse it.

    >>> browser_href("http://B.test/with space/ü|^"), browser_href("http://b.test:99999/")
    ('http://b.test/with%20space/%C3%BC|%5E', None)
    """
    try:
        href: str = ada_url.URL(url).href
    except ValueError:
        return None
    return href


def idna_encode(host: str) -> str:
    """A Unicode host name as browsers send it: UTS #46 ToASCII, non-transitional.

    So `ß` and `ς` are kept (IDNA 2008), where Python's `idna` codec (IDNA 2003,
    used by w3lib and so by Scrapy) maps them to `ss` and `σ`: another host.
    Symbols that UTS #46 allows but IDNA 2008 refuses (`♥`) are encoded as browsers
    encode them. Raises UnicodeError for a host browsers refuse too.

    >>> idna_encode("Faß.example"), idna_encode("I♥NY.example"), idna_encode("ＡＣＭＥ。com")
    ('xn--fa-hia.example', 'xn--iny-zx5a.example', 'acme.com')
    """
    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError:
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
        return ".".join(
            label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
            for label in mapped.split(".")
        )


def normalize_host(host: str) -> str:
    """Lower-case, IDNA-encode (as browsers do) and strip the trailing dot of a host name.

    >>> normalize_host("Bücher.DE."), normalize_host("faß.de")
    ('xn--bcher-kva.de', 'xn--fa-hia.de')
    """
    host = host.strip().rstrip(".").lower()
    if host.isascii():
        return host
    try:
        return idna_encode(host)
    except UnicodeError:
        return host


def browser_url(url: str) -> str:
    """`url` with a Unicode host encoded by `idna_encode`; anything else unchanged.

    For Scrapy requests: `Request` passes its URL through w3lib's `safe_url_string`,
    whose IDNA 2003 codec would fetch `fass.de` for `faß.de`; an ASCII host passes
    through it untouched.

    >>> browser_url("http://user@Faß.example:8080/ü?q=ß#f")
    'http://user@xn--fa-hia.example:8080/ü?q=ß#f'
    >>> browser_url("https://acme.com/ß"), browser_url("not a url")
    ('https://acme.com/ß', 'not a url')
    """
    if url.isascii():
        return url
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return url
    userinfo, at, hostport = netloc.rpartition("@")
    host, colon, port = hostport.partition(":")
    if host.isascii() or host.startswith("["):
        return url
    try:
        encoded = idna_encode(host.rstrip(".")) + ("." if host.endswith(".") else "")
    except UnicodeError:
        return url  # browsers refuse it too; Scrapy decides
    start = url.index(netloc)
    return url[:start] + f"{userinfo}{at}{encoded}{colon}{port}" + url[start + len(netloc) :]


def host_of(url: str) -> str:
    """The normalised host of an absolute URL ('' when there is none)."""
    try:
        return normalize_host(urlsplit(url).hostname or "")
    except ValueError:
        return ""


@functools.lru_cache(maxsize=65536)
def registered_domain(host: str) -> str:
    """The registrable domain of a host; a host without a public suffix is its own.

    >>> registered_domain("blog.acme.co.uk"), registered_domain("intranet")
    ('acme.co.uk', 'intranet')
    >>> registered_domain("me.blogspot.com"), registered_domain("10.0.0.1")
    ('me.blogspot.com', '10.0.0.1')
    """
    host = normalize_host(host)
    result = _extractor()(host)
    return result.top_domain_under_public_suffix or host


def site_domain(value: str) -> str:
    """The site's registered domain from what a user typed (host, URL or domain).

    >>> site_domain("https://WWW.Acme.com/about"), site_domain("shop.acme.com")
    ('acme.com', 'acme.com')
    """
    value = value.strip()
    host = host_of(value) if "//" in value else normalize_host(value.split("/")[0])
    return registered_domain(host.split(":")[0])


class SiteError(ValueError):
    """What a user typed as a site (or competitor) is not a domain backcheck can watch."""


_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def check_site(value: str) -> tuple[str, str | None]:
    """The site's domain from what a user typed, and a note when it was reduced.

    A URL or a subdomain is reduced to its registered domain (lower-cased, without
    `www.`); an IP address or `localhost` is kept (an intranet). Spaces, invalid
    labels and a bare public suffix are refused with `SiteError`.

    >>> check_site("https://WWW.Acme.com/blog")
    ('acme.com', "'https://WWW.Acme.com/blog' read as acme.com")
    >>> check_site("acme.com"), check_site("127.0.0.1"), check_site("localhost")
    (('acme.com', None), ('127.0.0.1', None), ('localhost', None))
    >>> try:
    ...     check_site("com")
    ... except SiteError as refused:
    ...     print(refused)
    'com' is a public suffix, not a site: give the site's own domain (e.g. example.com)
    """
    text = value.strip()
    if not text:
        raise SiteError("the site is empty: give a domain such as example.com")
    if any(char.isspace() for char in text):
        raise SiteError(f"{value!r} is not a domain: it holds a space")
    host = host_of(text) if "//" in text else normalize_host(text.split("/")[0])
    if not host.startswith("["):
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if not host:
        raise SiteError(f"{value!r} is not a domain or a URL with a host")
    if _is_ip(host) or host == "localhost":
        domain = host.strip("[]")
    else:
        labels = host.split(".")
        bad = next((label for label in labels if not _LABEL.fullmatch(label)), None)
        if bad is not None or len(host) > 253:
            why = "an empty label" if bad == "" else f"the label {bad!r}" if bad else "its length"
            raise SiteError(f"{value!r} is not a valid domain name ({why})")
        parts = _extractor()(host)
        if parts.suffix and not parts.domain:
            raise SiteError(
                f"{value!r} is a public suffix, not a site: give the site's own domain"
                f" (e.g. example.{host})"
            )
        domain = registered_domain(host)
    note = None if domain == text.lower() else f"{value!r} read as {domain}"
    return domain, note


def may_be_written_in_unicode(domain: str) -> bool:
    """True for an internationalised domain: a page may write it in Unicode.

    >>> may_be_written_in_unicode("xn--bcher-kva.de"), may_be_written_in_unicode("acme.com")
    (True, False)
    """
    return not domain.isascii() or "xn--" in domain


def host_on_domain(host: str, domain: str) -> bool:
    """True when `host` is `domain` or one of its subdomains.

    >>> host_on_domain("blog.acme.com", "acme.com"), host_on_domain("notacme.com", "acme.com")
    (True, False)
    >>> host_on_domain("acme.com.evil.net", "acme.com")
    False
    """
    return host == domain or host.endswith("." + domain)


def is_on_site(url: str, domain: str) -> bool:
    """True when the absolute `url` points at the site whose registered domain is `domain`."""
    return host_on_domain(host_of(url), domain)


def same_owner(url_a: str, url_b: str) -> bool:
    """True when both URLs' hosts have the same registered domain."""
    return registered_domain(host_of(url_a)) == registered_domain(host_of(url_b))


def _netloc(parts: SplitResult, drop_www: bool = False) -> str:
    host = normalize_host(parts.hostname or "")
    if drop_www and host.startswith("www."):
        host = host[4:]
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return host


def identity_key(url: str) -> str:
    """The key that makes a row the same backlink as another.

    >>> identity_key("  HTTPS://Acme.COM:443/Page?a=1#top ")
    'https://acme.com/Page?a=1'
    >>> identity_key("http://www.acme.com/") == identity_key("https://www.acme.com/")
    False
    """
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), _netloc(parts), parts.path or "/", parts.query, ""))


def compare_key(url: str) -> str:
    """The key under which two URLs name the same page for a verdict.

    >>> compare_key("https://www.Acme.com:443/pricing/?utm_source=x&b=2#f")
    'acme.com/pricing?b=2'
    >>> compare_key("http://acme.com/pricing") == compare_key("https://www.acme.com/pricing/")
    True
    """
    parts = urlsplit(url.strip())
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not TRACKING_PARAMS.match(pair.split("=", 1)[0])
    )
    path = parts.path.rstrip("/") or "/"
    canon = canonicalize_url(urlunsplit(("http", _netloc(parts, drop_www=True), path, query, "")))
    canon = canon[len("http://") :]
    return canon[:-1] if canon.endswith("/") and canon.count("/") == 1 else canon
