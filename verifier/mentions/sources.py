"""Pages to check for mentions: a URL list, or an alerts feed (RSS/Atom).

Alert services wrap each result in a redirect of their own (Google Alerts:
`https://www.google.com/url?rct=j&sa=t&url=REAL&ct=ga…`); the real page is the
one to read, so such wrappers are unwrapped here, never fetched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import feedparser

from verifier.verdict.urls import host_of, identity_key, registered_domain

#: Query parameters that carry the real URL in an alert service's redirect wrapper.
WRAPPER_PARAMS = ("url", "q", "u", "target", "dest")
#: Registered domains (and their subdomains) known to wrap alert results in a redirect;
#: Google's country domains (google.co.uk …) count as google.com.
WRAPPER_HOSTS = ("google.com", "bing.com", "talkwalker.com", "facebook.com")
#: On Google, only its redirector wraps (a search URL with `q=` is a search, not a page).
GOOGLE_REDIRECT_PATHS = ("/url", "/alerts/url")


@dataclass(frozen=True, slots=True)
class ListedPage:
    line: int  # the line of the list, or the entry's position in a feed (1-based)
    url: str


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    reason: str


_COMMENT = re.compile(r"\s+#.*$")


class SourceError(ValueError):
    """A list or feed that cannot be read at all."""


#: Why a listed URL is no page to fetch: not http(s), or one no browser reads.
NOT_HTTP, MALFORMED = "not an http(s) URL", "malformed URL or port"


def _problem(url: str) -> str | None:
    """NOT_HTTP or MALFORMED for a URL that is no page to fetch, else None."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises for a port that is no number in range
        if parts.scheme not in ("http", "https") or any(c.isspace() for c in url):
            return NOT_HTTP
        if not host_of(url):
            return NOT_HTTP
        identity_key(url)  # what the page is stored under
    except ValueError:  # a broken IPv6 literal, a bad port
        return MALFORMED
    return None


def _is_http(url: str) -> bool:
    return _problem(url) is None


def _is_wrapper(url: str) -> bool:
    try:
        domain = registered_domain(host_of(url))
        if domain.split(".", 1)[0] == "google":
            return urlsplit(url).path in GOOGLE_REDIRECT_PATHS
    except ValueError:
        return False  # no URL at all: `_problem` says why
    return domain in WRAPPER_HOSTS


def unwrap(url: str) -> str:
    """The real URL behind an alert service's redirect wrapper (else `url` as given).

    >>> unwrap("https://www.google.com/url?rct=j&sa=t&url=https://blog.example.org/a%3Fx%3D1&ct=ga")
    'https://blog.example.org/a?x=1'
    >>> unwrap("https://blog.example.org/post")
    'https://blog.example.org/post'
    """
    for _ in range(5):  # a wrapper inside a wrapper, rarely
        if not _is_wrapper(url):
            return url
        query = parse_qs(urlsplit(url).query)  # a wrapper's URL parsed above
        inner = next(
            (query[name][0] for name in WRAPPER_PARAMS if name in query and query[name][0]), None
        )
        if inner is None or not _is_http(inner):
            return url
        url = inner
    return url


def read_page_list(lines: Iterable[str]) -> tuple[list[ListedPage], list[BadLine]]:
    """URLs, one per line; `#` comments and blank lines skipped, duplicates merged."""
    pages: list[ListedPage] = []
    bad: list[BadLine] = []
    seen: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        text = raw.strip().lstrip("\ufeff").strip()
        if not text or text.startswith("#"):
            continue
        text = _COMMENT.sub("", text)  # "URL  # a note": a comment after whitespace
        url = unwrap(text)
        problem = _problem(url)
        if problem is not None:
            bad.append(BadLine(number, f"{problem}: {text[:200]!r}"))
            continue
        if _is_wrapper(url):  # never fetched: the wrapper's own page is not the mention
            bad.append(BadLine(number, f"a redirect wrapper without a page URL: {text[:200]!r}"))
            continue
        key = identity_key(url)
        if key in seen:
            continue
        seen.add(key)
        pages.append(ListedPage(number, url))
    return pages, bad


def off_limits(domain: str, site: str, competitors: Iterable[str]) -> str | None:
    """Why the pages of `domain` (a registered domain) are never read for `site`: the
    site's own pages are never its backlinks or mentions, and a competitor's pages are
    never fetched. None: they may be.

    >>> off_limits("widgetco.com", "acme.com", ["widgetco.com"])
    'a competitor of acme.com (init --competitor): its pages are never fetched'
    >>> off_limits("acme.com", "acme.com", []), off_limits("blog.org", "acme.com", [])
    ('the site itself: its pages are never its backlinks or mentions', None)
    """
    if domain == site:
        return "the site itself: its pages are never its backlinks or mentions"
    if domain in competitors:
        return f"a competitor of {site} (init --competitor): its pages are never fetched"
    return None


def set_aside(
    pages: Iterable[ListedPage], site: str, competitors: Iterable[str]
) -> tuple[list[ListedPage], list[BadLine]]:
    """The listed pages to read for `site`, and a `BadLine` for each on the site itself
    or on one of its competitors (`off_limits`): never fetched."""
    rivals = set(competitors)
    kept: list[ListedPage] = []
    bad: list[BadLine] = []
    for page in pages:
        if reason := off_limits(registered_domain(host_of(page.url)), site, rivals):
            bad.append(BadLine(page.line, f"{reason}: {page.url}"))
        else:
            kept.append(page)
    return kept, bad


def read_page_file(path: str | Path) -> tuple[list[ListedPage], list[BadLine]]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise SourceError(f"{path}: cannot read the URL list: {exc.strerror or exc}") from exc
    return read_page_list(text.splitlines())


def read_feed(data: bytes) -> tuple[list[ListedPage], list[BadLine]]:
    """Each entry's page (unwrapped), duplicates merged; a malformed feed keeps what parsed.

    Raises SourceError when the bytes hold no feed at all.
    """
    parsed = feedparser.parse(data)
    entries = list(parsed.get("entries") or [])
    if not entries and not parsed.get("version"):
        # feedparser names the format it recognised; a login page or other XML has none.
        problem = parsed.get("bozo_exception")
        detail = f" ({problem})" if problem else ""
        raise SourceError(f"not an RSS or Atom feed{detail}")
    pages: list[ListedPage] = []
    bad: list[BadLine] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        link = entry.get("link") or ""
        if not link:
            links = [
                item.get("href")
                for item in entry.get("links") or []
                if item.get("href") and item.get("rel", "alternate") == "alternate"
            ]
            link = links[0] if links else ""  # a "related" or "enclosure" link is not the page
        url = unwrap(str(link).strip())
        if _is_wrapper(url):
            bad.append(BadLine(number, f"a redirect wrapper without a page URL: {url[:200]!r}"))
            continue
        problem = _problem(url)
        if problem is not None:
            why = (
                "with a malformed link or port"
                if problem == MALFORMED
                else "without an http(s) link"
            )
            bad.append(BadLine(number, f"entry {why}: {str(link)[:200]!r}"))
            continue
        key = identity_key(url)
        if key not in seen:
            seen.add(key)
            pages.append(ListedPage(number, url))
    return pages, bad
