"""Which URL of a domain to fetch next: canonical crawl keys, URL-trap guards, the frontier.

A `DomainFrontier` lives only while its domain is being crawled, and it is
bounded: the page cap bounds what it hands out, and `max_queued` bounds what it
remembers (queued plus fetched), so memory never grows with the crawl.

URLs are kept in two forms:

* `clean_url`: what is fetched. Only the fragment and session ids go; the rest
  stays as written, because re-ordering a query can change what a server does.
* `crawl_key`: what makes two URLs "the same fetch" (host case, query order,
  default port, dot segments, escapes folded on top of the clean URL).

This module runs past the style guide's 400 lines: keys, trap guards,
the frontier and the sitemap rules share one vocabulary (`Refusal`, `Stop`)
and were asked for in one module. If it grows, `keys.py` (clean_url,
crawl_key, idna_host) and `traps.py` (TrapLimits, trap_reason) split off cleanly.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING
from urllib.parse import unquote, unquote_plus, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from verifier.verdict.urls import host_on_domain, identity_key, registered_domain

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Per-domain defaults of `backcheck crawl` (--max-pages, --max-depth).
DEFAULT_MAX_PAGES = 200
DEFAULT_MAX_DEPTH = 3
#: A frontier stops queueing once queued + fetched reaches this many times max_pages.
QUEUE_FACTOR = 10

#: The sitemap protocol's caps per sitemap file (sitemaps.org): read no further.
SITEMAP_MAX_URLS = 50_000
SITEMAP_MAX_BYTES = 50 * 1024 * 1024

#: Query and path-parameter names that carry a session id, lower-case; matched
#: case-insensitively. A name ending in `*` matches every name with that prefix
#: (classic ASP appends a random suffix: ASPSESSIONIDQATSDCRB).
SESSION_PARAMS: frozenset[str] = frozenset(
    {
        "phpsessid",  # PHP
        "jsessionid",  # Java servlets, in the query or as a `;jsessionid=` path parameter
        "sid",  # generic, through sess_id
        "sessionid",
        "session_id",
        "sessid",
        "sess_id",
        "aspsessionid*",  # classic ASP
        "cfid",  # ColdFusion
        "cftoken",
        "oscsid",  # osCommerce
        "zenid",  # Zen Cart
        "xtcsid",  # xt:Commerce
    }
)


@dataclass(frozen=True, slots=True)
class TrapLimits:
    """The URL-trap guards of a crawl; each is a documented setting with a default."""

    #: Longer URLs are refused (the historical Internet Explorer limit).
    max_url_length: int = 2083
    #: A path segment appearing more than this many times is a trap (/a/b/a/b/a/…).
    max_segment_repeats: int = 2
    #: Distinct query strings per path beyond this are refused (calendars, facets).
    max_query_variants: int = 30
    #: Parameter names removed from every URL before it is fetched or compared.
    session_params: frozenset[str] = SESSION_PARAMS


DEFAULT_LIMITS = TrapLimits()


class Refusal(StrEnum):
    """Why `DomainFrontier.add` did not queue a URL."""

    NOT_HTTP = "not_http"  # not an absolute http(s) URL, or malformed
    OFFSITE = "offsite"
    SEEN = "seen"
    DEPTH_LIMIT = "depth_limit"
    URL_TOO_LONG = "url_too_long"
    REPEATED_SEGMENT = "repeated_segment"
    QUERY_VARIANTS = "query_variants"
    QUEUE_FULL = "queue_full"


class Stop(StrEnum):
    """Why the crawl of one domain ended (stored per domain: never rename)."""

    ROBOTS = "robots"
    UNREACHABLE = "unreachable"
    ERRORS = "errors"
    PAGE_LIMIT = "page_limit"
    DEPTH_LIMIT = "depth_limit"
    DONE = "done"


def idna_host(host: str) -> str:
    """A host name as lower-case ASCII: IDNA 2008 with UTS #46 mapping, no trailing dot.

    The stdlib codec is IDNA 2003 and turns faß.de into fass.de, another
    domain; so does w3lib (hence Scrapy) for a Unicode host, which is why
    `clean_url` hands Scrapy hosts already encoded. Raises ValueError when the
    name cannot be encoded.

    >>> idna_host("Bücher.DE."), idna_host("faß.de"), idna_host("ＡＣＭＥ.com")
    ('xn--bcher-kva.de', 'xn--fa-hia.de', 'acme.com')
    """
    host = host.strip()
    if not host.isascii():
        try:
            import idna
        except ImportError:  # idna ships with Scrapy; the stdlib codec is the fallback
            host = host.encode("idna").decode("ascii")
        else:
            host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
    return host.rstrip(".").lower()


def _is_session_name(name: str, names: frozenset[str]) -> bool:
    name = unquote_plus(name).strip().lower()
    return name in names or any(
        pattern.endswith("*") and name.startswith(pattern[:-1]) for pattern in names
    )


def _ascii_netloc(netloc: str) -> str:
    if netloc.isascii():
        return netloc
    userinfo, at, hostport = netloc.rpartition("@")
    host, colon, port = hostport.rpartition(":")
    if not colon or not port.isdigit():
        host, colon, port = hostport, "", ""
    try:
        return f"{userinfo}{at}{idna_host(host)}{colon}{port}"
    except ValueError:
        return netloc  # left for the frontier to refuse as malformed


def _strip_path_params(path: str, names: frozenset[str]) -> str:
    if ";" not in path:
        return path
    segments = []
    for segment in path.split("/"):
        name, *params = segment.split(";")
        kept = [p for p in params if not _is_session_name(p.split("=", 1)[0], names)]
        segments.append(";".join([name, *kept]))
    return "/".join(segments)


def _strip_query(query: str, names: frozenset[str]) -> str:
    if not query:
        return query
    pairs = query.split("&")
    return "&".join(p for p in pairs if not _is_session_name(p.split("=", 1)[0], names))


def clean_url(url: str, limits: TrapLimits = DEFAULT_LIMITS) -> str:
    """The URL to fetch: fragment dropped, session-id parameters removed, otherwise as written.

    Session ids go from the query and from `;jsessionid=…` path parameters. A
    Unicode host is IDNA-encoded (see `idna_host`); an ASCII one keeps its case.

    >>> clean_url("https://Acme.com/shop;JSESSIONID=A1?b=2&PHPSESSID=x&a=1#top")
    'https://Acme.com/shop?b=2&a=1'
    >>> clean_url("http://faß.de/ß?sid=1")
    'http://xn--fa-hia.de/ß'
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.partition("#")[0]
    names = limits.session_params
    return urlunsplit(
        (
            parts.scheme,
            _ascii_netloc(parts.netloc),
            _strip_path_params(parts.path, names),
            _strip_query(parts.query, names),
            "",
        )
    )


def _key_of_clean(clean: str) -> str:
    # canonicalize_url sorts the query, resolves dot segments and escapes but
    # keeps :80/:443 and a trailing dot; identity_key folds those.
    return identity_key(canonicalize_url(clean))


def crawl_key(url: str, limits: TrapLimits = DEFAULT_LIMITS) -> str:
    """The identity under which a URL is fetched once; raises ValueError if malformed.

    >>> crawl_key("HTTP://Acme.COM:80/a/../b?z=1&a=2&sid=9#f")
    'http://acme.com/b?a=2&z=1'
    >>> crawl_key("https://acme.com/b?a=2&z=1") == crawl_key("http://acme.com/b?a=2&z=1")
    False
    """
    return _key_of_clean(clean_url(url, limits))


def trap_reason(url: str, limits: TrapLimits = DEFAULT_LIMITS) -> Refusal | None:
    """Why a URL looks like a crawler trap, judged on the URL alone; None if it does not.

    The frontier asks this of the clean URL. Query variants need state, so the
    frontier counts those itself.

    >>> trap_reason("https://acme.com/a/b/a/b/"), trap_reason("https://acme.com/a/b/a/b/a")
    (None, <Refusal.REPEATED_SEGMENT: 'repeated_segment'>)
    """
    if len(url) > limits.max_url_length:
        return Refusal.URL_TOO_LONG
    try:
        path = urlsplit(url).path
    except ValueError:
        return None  # malformed, not a trap: the caller says so
    segments = Counter(unquote(s.split(";", 1)[0]) for s in path.split("/"))
    segments.pop("", None)
    if segments and max(segments.values()) > limits.max_segment_repeats:
        return Refusal.REPEATED_SEGMENT
    return None


def sitemap_url_allowed(url: str, domain: str) -> bool:
    """True for an http(s) URL on `domain`'s registered domain (subdomains included).

    >>> sitemap_url_allowed("https://shop.acme.com/p/1", "acme.com")
    True
    >>> sitemap_url_allowed("https://acme.com.evil.net/", "acme.com")
    False
    """
    try:
        parts = urlsplit(url.strip())
        host = idna_host(parts.hostname or "")
        scope = registered_domain(idna_host(domain))
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host) and host_on_domain(host, scope)


def sitemap_start_urls(home_url: str, robots_sitemaps: Iterable[str] = ()) -> list[str]:
    """The sitemaps to read first: those robots.txt names on the domain, then /sitemap.xml.

    >>> sitemap_start_urls("https://acme.com/", ["https://cdn.other.net/s.xml",
    ...                                           "https://acme.com/sitemap.xml"])
    ['https://acme.com/sitemap.xml']
    >>> sitemap_start_urls("https://acme.com/", ["http://acme.com:99999/s.xml"])
    ['https://acme.com/sitemap.xml']
    """
    domain = registered_domain(idna_host(urlsplit(home_url).hostname or ""))
    found: dict[str, str] = {}
    for url in [*robots_sitemaps, urljoin(home_url, "/sitemap.xml")]:
        if sitemap_url_allowed(url, domain):
            try:
                found.setdefault(crawl_key(url), clean_url(url))
            except ValueError:  # a port out of range: no URL to fetch
                continue
    return list(found.values())


def stop_reason(
    frontier_stopped: str,
    *,
    pages_ok: int,
    answers: int,
    failures: int,
    robots_blocked_home: bool,
    gave_up: bool = False,
) -> Stop:
    """The final word on one domain's crawl, from the spider's counts and the frontier's.

    `answers` counts HTTP responses to page requests (robots.txt excluded),
    `failures` requests that gave no usable page (HTTP errors and network
    failures), `gave_up` that the spider stopped the domain because of failures.
    Precedence: robots, unreachable, errors, then the frontier's own word.

    >>> stop_reason("done", pages_ok=0, answers=0, failures=0, robots_blocked_home=True)
    <Stop.ROBOTS: 'robots'>
    >>> stop_reason("done", pages_ok=0, answers=0, failures=2, robots_blocked_home=False)
    <Stop.UNREACHABLE: 'unreachable'>
    >>> stop_reason("done", pages_ok=0, answers=3, failures=3, robots_blocked_home=False)
    <Stop.ERRORS: 'errors'>
    >>> stop_reason("page_limit", pages_ok=200, answers=210, failures=10, robots_blocked_home=False)
    <Stop.PAGE_LIMIT: 'page_limit'>
    """
    if robots_blocked_home and answers == 0:
        return Stop.ROBOTS
    if answers == 0:
        return Stop.UNREACHABLE
    if gave_up or (pages_ok == 0 and failures > 0):
        return Stop.ERRORS
    return Stop(frontier_stopped)


class _State(IntEnum):
    QUEUED = 0
    FETCHING = 1
    DONE = 2


class DomainFrontier:
    """The breadth-first queue of one domain: lowest depth first, then insertion order.

    The scope is the registered domain of `domain` (a host widens to its
    registered domain), subdomains included, http and https alike. Start pages
    (home page, sitemap URLs) are depth 0; links found on a depth-d page are
    added at d + 1; pages deeper than `max_depth` are refused and remembered
    only as the fact that some were left (`stopped` says depth_limit).

    `pop` hands out at most `max_pages` pages: pages in flight count against
    the cap until `fetched` says they failed. `add` refuses once queued plus
    fetched reaches `max_queued` (default QUEUE_FACTOR × max_pages), which
    `stopped` reports as page_limit.
    """

    def __init__(
        self,
        domain: str,
        *,
        max_pages: int = DEFAULT_MAX_PAGES,
        max_depth: int = DEFAULT_MAX_DEPTH,
        limits: TrapLimits = DEFAULT_LIMITS,
        max_queued: int | None = None,
    ) -> None:
        if max_pages < 1 or max_depth < 0:
            raise ValueError(f"max_pages must be ≥ 1 and max_depth ≥ 0: {max_pages}, {max_depth}")
        self.domain = registered_domain(idna_host(domain))
        self.max_pages = max_pages
        self.max_depth = max_depth
        self.limits = limits
        self.max_queued = max_queued if max_queued is not None else QUEUE_FACTOR * max_pages
        #: How often each refusal happened (for crawl stats).
        self.refused: Counter[Refusal] = Counter()
        self._queues: list[deque[tuple[str, str]]] = [deque() for _ in range(max_depth + 1)]
        self._state: dict[str, _State] = {}
        self._variants: Counter[str] = Counter()
        self._queued = 0
        self._in_flight = 0
        self._pages = 0
        self._failures = 0
        self._left_beyond_depth = False
        self._overflowed = False

    def __repr__(self) -> str:
        return (
            f"DomainFrontier({self.domain!r}, pages={self._pages}/{self.max_pages},"
            f" queued={self.queued}, in_flight={self._in_flight})"
        )

    @property
    def pages(self) -> int:
        """Pages that answered as HTML (they count toward max_pages)."""
        return self._pages

    @property
    def failures(self) -> int:
        return self._failures

    @property
    def queued(self) -> int:
        """URLs waiting to be popped."""
        return self._queued

    @property
    def in_flight(self) -> int:
        """URLs popped and not yet reported back by `fetched`."""
        return self._in_flight

    @property
    def finished(self) -> bool:
        """Nothing in flight and nothing more to pop: the domain's crawl is over,
        and the frontier can go (a None from `pop` alone may mean "wait").
        """
        return self._in_flight == 0 and (self._queued == 0 or self._pages >= self.max_pages)

    def add(self, url: str, depth: int) -> Refusal | None:
        """Queue a URL found at `depth`; None when queued, else why not."""
        reason = self._refusal(url, depth)
        if reason is not None:
            self.refused[reason] += 1
        return reason

    def _refusal(self, url: str, depth: int) -> Refusal | None:
        if depth < 0:
            raise ValueError(f"depth must be ≥ 0: {depth}")
        clean = clean_url(url, self.limits)
        try:
            parts = urlsplit(clean)
            host = idna_host(parts.hostname or "")
        except ValueError:
            return Refusal.NOT_HTTP
        if parts.scheme not in ("http", "https") or not host:
            return Refusal.NOT_HTTP
        if not host_on_domain(host, self.domain):
            return Refusal.OFFSITE
        trap = trap_reason(clean, self.limits)
        if trap is not None:
            return trap
        try:
            key = _key_of_clean(clean)
        except ValueError:  # a port out of range, a broken IPv6 literal
            return Refusal.NOT_HTTP
        if key in self._state:
            return Refusal.SEEN
        if depth > self.max_depth:
            self._left_beyond_depth = True
            return Refusal.DEPTH_LIMIT
        base, _, query = key.partition("?")
        if query and self._variants[base] >= self.limits.max_query_variants:
            return Refusal.QUERY_VARIANTS
        if len(self._state) >= self.max_queued:
            self._overflowed = True
            return Refusal.QUEUE_FULL
        self._remember(key, _State.QUEUED)
        self._queues[depth].append((clean, key))
        return None

    def _remember(self, key: str, state: _State) -> None:
        old = self._state.get(key)
        if old is None:
            base, _, query = key.partition("?")
            if query:
                self._variants[base] += 1
        self._queued += (state is _State.QUEUED) - (old is _State.QUEUED)
        self._state[key] = state

    def pop(self) -> tuple[str, int] | None:
        """The next URL to fetch and its depth; None when nothing is left or the cap is reached."""
        if self._pages + self._in_flight >= self.max_pages:
            return None
        for depth, queue in enumerate(self._queues):
            while queue:
                clean, key = queue.popleft()
                # Skipped: fetched meanwhile under another spelling (a redirect, a resume).
                if self._state.get(key) is _State.QUEUED:
                    self._remember(key, _State.FETCHING)
                    self._in_flight += 1
                    return clean, depth
        return None

    def claim(self, url: str) -> tuple[str, int] | bool:
        """Take a URL the crawl has queued for a fetch now (a contact page wanted before
        the crawl reached it): (URL, depth) to fetch as if popped; True when it is in
        flight already; False when the crawl fetched it, or will not (not queued, or
        the page cap is reached).
        """
        try:
            key = crawl_key(url, self.limits)
        except ValueError:
            return False
        state = self._state.get(key)
        if state is _State.FETCHING:
            return True
        if state is not _State.QUEUED or self._pages + self._in_flight >= self.max_pages:
            return False
        for depth, queue in enumerate(self._queues):
            for clean, queued in queue:
                if queued == key:  # left in its queue: `pop` skips what is not QUEUED
                    self._remember(key, _State.FETCHING)
                    self._in_flight += 1
                    return clean, depth
        return False

    def fetched(self, url: str, *, ok: bool, final_url: str | None = None) -> None:
        """A popped URL came back (call once per pop): `ok` when an HTML page answered
        (it counts toward max_pages), else it failed. `final_url`, where redirects
        ended, is not fetched again.
        """
        key = crawl_key(url, self.limits)
        if self._state.get(key) is _State.FETCHING:
            self._in_flight -= 1
        self._remember(key, _State.DONE)
        if ok:
            self._pages += 1
        else:
            self._failures += 1
        if final_url is not None:
            final_key = crawl_key(final_url, self.limits)
            # A URL in flight is left alone: its own `fetched` settles it.
            if self._state.get(final_key) is not _State.FETCHING:
                self._remember(final_key, _State.DONE)

    def fetched_elsewhere(self, url: str, final_url: str) -> bool:
        """True when `url` redirected to another page that is fetched on its own
        (fetched before, or in flight): that fetch reads and counts it."""
        try:
            key, final_key = crawl_key(url, self.limits), crawl_key(final_url, self.limits)
        except ValueError:
            return False
        return final_key != key and self._state.get(final_key) in (_State.FETCHING, _State.DONE)

    def redirected(self, url: str) -> None:
        """A popped URL redirected to a page fetched on its own: neither a page nor a failure."""
        key = crawl_key(url, self.limits)
        if self._state.get(key) is _State.FETCHING:
            self._in_flight -= 1
        self._remember(key, _State.DONE)

    def mark_seen(self, url: str, *, ok: bool = True) -> None:
        """A page fetched by an earlier, killed run: never fetched again, and when `ok`
        it counts toward max_pages, so a resumed domain stays within the cap.
        """
        key = crawl_key(url, self.limits)
        if self._state.get(key) in (_State.FETCHING, _State.DONE):
            return
        self._remember(key, _State.DONE)
        if ok:
            self._pages += 1

    @property
    def stopped(self) -> Stop:
        """page_limit (cap reached, or the queue overflowed), depth_limit, or done."""
        if self._pages >= self.max_pages or self._overflowed:
            return Stop.PAGE_LIMIT
        if self._left_beyond_depth:
            return Stop.DEPTH_LIMIT
        return Stop.DONE
