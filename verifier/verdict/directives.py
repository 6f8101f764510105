"""Robots directives (meta robots, X-Robots-Tag) and canonical Link headers.

Google applies `<meta name="robots">`, `<meta name="googlebot">` and any
X-Robots-Tag value that is unprefixed or prefixed `googlebot:`; a value scoped
to another bot (`otherbot: noindex`) does not apply to it. When directives
conflict the most restrictive wins, so collecting every applicable token into
one set is exactly Google's reading.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

#: Meta names whose directives apply to Google's main crawler.
ROBOTS_META_NAMES = frozenset({"robots", "googlebot"})

#: Directives that carry a value after a colon; a colon after any other word
#: names a user agent instead (`googlebot: noindex`).
VALUED_DIRECTIVES = frozenset(
    {"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"}
)
APPLIES_TO = frozenset({None, "googlebot"})

_META_SPLIT = re.compile(r"[,\s]+")


@dataclass(frozen=True, slots=True)
class Directives:
    noindex: bool = False
    nofollow: bool = False


def _directives(tokens: Iterable[str]) -> Directives:
    found = {t.lower() for t in tokens}
    return Directives(
        noindex=bool(found & {"noindex", "none"}), nofollow=bool(found & {"nofollow", "none"})
    )


def meta_directives(contents: Iterable[str]) -> Directives:
    """Directives from robots/googlebot meta `content` values.

    Commas are the documented separator; spaces are tolerated because pages
    write `noindex nofollow` and Google reads it the same way.

    >>> meta_directives(["NoIndex, follow"])
    Directives(noindex=True, nofollow=False)
    >>> meta_directives(["none"])
    Directives(noindex=True, nofollow=True)
    """
    return _directives(t for c in contents for t in _META_SPLIT.split(c) if t)


def header_directives(values: Iterable[str]) -> Directives:
    """Directives for Googlebot from X-Robots-Tag header values.

    >>> header_directives(["googlebot: nofollow"])
    Directives(noindex=False, nofollow=True)
    >>> header_directives(["noindex, otherbot: nofollow"])
    Directives(noindex=True, nofollow=False)
    >>> header_directives(["unavailable_after: 25 Jun 2010 15:00:00 PST"])
    Directives(noindex=False, nofollow=False)
    >>> header_directives(["googlebot: noindex nofollow"])
    Directives(noindex=True, nofollow=True)
    """
    tokens: list[str] = []
    for value in values:
        bot: str | None = None  # a bot prefix scopes the tokens after it in this value
        for raw in value.split(","):
            token = raw.strip()
            if ":" in token:
                head, rest = token.split(":", 1)
                name = head.strip().lower()
                # A user agent is one word; "06 Nov 1994 08:49:37 GMT" (the rest of an
                # unavailable_after date split at its comma) is not a bot prefix.
                if name not in VALUED_DIRECTIVES and name and not any(c.isspace() for c in name):
                    bot, token = name, rest.strip()
            if bot in APPLIES_TO:
                # Spaces separate directives too, as in meta content ("noindex nofollow").
                tokens.extend(token.split())
    return _directives(tokens)


def header_canonicals(values: Sequence[str], base_url: str = "") -> list[str]:
    """URLs of `rel="canonical"` entries in HTTP Link header values.

    A relative URL resolves against the page's URL (RFC 8288); one that cannot be
    read (a broken IPv6 literal, a bad port) is ignored, as search engines ignore it.

    >>> header_canonicals(['<https://acme.com/a>; rel="canonical", <https://x.com/>; rel=next'])
    ['https://acme.com/a']
    >>> header_canonicals(['</b>; rel=canonical'], "https://acme.com/a/")
    ['https://acme.com/b']
    >>> header_canonicals(['<http://[bad/>; rel=canonical, <http://a.com:x/>; rel=canonical'])
    []
    """
    if not values:
        return []  # most pages: no Link header, and no import of requests
    from requests.utils import parse_header_links  # a slow import; rarely needed

    urls = []
    for value in values:
        for link in parse_header_links(value):
            if "canonical" in link.get("rel", "").lower().split():
                try:
                    url = urljoin(base_url, link["url"].strip())
                    urlsplit(url).port  # noqa: B018 (raises for a port that is no number)
                except ValueError:
                    continue
                urls.append(url)
    return urls
