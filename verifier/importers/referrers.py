"""What a visit's referrer is: nothing, our own site, a search engine or the like, or a page.

Only referrers outside the site that are not search engines, social networks,
AI assistants, webmail or apps can be backlinks. Those categories come from
`data/referrers.json`, a subset of Matomo's searchengine-and-social-list (the
file says which entries are ours). A referrer that is only an origin
(`https://blog.example/`, which browsers send by default for cross-site
visits since 2020) names a domain, not a page that could be verified.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

from verifier.verdict.urls import (
    TRACKING_PARAMS,
    host_on_domain,
    identity_key,
    normalize_host,
    registered_domain,
)

#: Matomo's name for the list `data/referrers.json` is taken from.
SOURCE = "matomo-org/searchengine-and-social-list"

#: Categories in the order they are tried: the narrower first (x.com/i/grok is an AI
#: assistant, the rest of x.com a social network).
CATEGORIES = ("search", "ai", "webmail", "social")


class Kind(StrEnum):
    NONE = "none"  # no referrer ("-" or empty)
    INTERNAL = "internal"  # the site itself or one of its subdomains
    EXCLUDED = "excluded"  # search, social, ai, webmail, app
    ORIGIN = "origin"  # only scheme and host: a domain to crawl, not a page to verify
    PAGE = "page"  # a page that may link to the site
    INVALID = "invalid"  # not a URL we can read


@dataclass(frozen=True, slots=True)
class Referrer:
    kind: Kind
    url: str = ""  # the page (fragment and tracking parameters dropped) or the origin
    key: str = ""  # verifier.verdict.urls.identity_key of `url`
    domain: str = ""  # registered domain
    category: str = ""  # for EXCLUDED: search, social, ai, webmail or app


NO_REFERRER = Referrer(Kind.NONE)
INTERNAL = Referrer(Kind.INTERNAL)
INVALID = Referrer(Kind.INVALID)


def _pattern(entry: str) -> str:
    """One data-file entry as a regular expression over `host` or `host/path`.

    >>> bool(re.fullmatch(_pattern("google.{}"), "google.co.uk"))
    True
    >>> bool(re.fullmatch(_pattern("*.reddit.com"), "old.reddit.com"))
    True
    """
    host, slash, path = entry.partition("/")
    text = re.escape(host)
    text = text.replace(re.escape("*."), r"(?:[^./]+\.)*", 1)
    if text.startswith(re.escape("{}.")):
        text = r"[^./]+\." + text[len(re.escape("{}.")) :]
    if text.endswith(re.escape(".{}")):
        text = text[: -len(re.escape(".{}"))] + r"\.[^./]+(?:\.[^./]+)?"
    if text.endswith(re.escape(".*")):
        text = text[: -len(re.escape(".*"))] + r"\.[^/]+"
    return text + (re.escape(slash + path) + r"(?:[/?#].*)?" if slash else "")


@functools.cache
def _categories() -> re.Pattern[str]:
    """One expression over `host/path`, a named group per category, tried in CATEGORIES order."""
    data = resources.files("verifier.importers").joinpath("data/referrers.json").read_text()
    categories = json.loads(data)["categories"]
    groups = []
    for name in CATEGORIES:
        lists = categories[name]
        entries = [*lists.get("matomo", []), *lists.get("added", [])]
        # A host entry matches any path on it; "www." in front is ignored.
        alternatives = "|".join(
            _pattern(entry) + ("" if "/" in entry else r"(?:/.*)?") for entry in entries
        )
        groups.append(f"(?P<{name}>{alternatives})")
    return re.compile(r"(?:www\.)?(?:" + "|".join(groups) + ")", re.DOTALL)


def category_of(host: str, path: str = "/") -> str | None:
    """The excluded category of a referrer host (and path), or None.

    >>> category_of("www.google.de"), category_of("l.facebook.com"), category_of("claude.ai")
    ('search', 'social', 'ai')
    >>> category_of("x.com", "/i/grok"), category_of("x.com", "/acme")
    ('ai', 'social')
    >>> category_of("sites.google.com"), category_of("blog.example")
    (None, None)
    """
    found = _categories().fullmatch(host + path)
    return found.lastgroup if found is not None else None


_UNSAFE = re.compile(r'[\s"<>]')


def clean_query(query: str) -> str:
    """A query string without its tracking parameters (utm_*, gclid, fbclid …)."""
    pairs = [pair for pair in query.split("&") if pair]
    return "&".join(p for p in pairs if not TRACKING_PARAMS.match(p.split("=", 1)[0]))


@functools.lru_cache(maxsize=1 << 16)
def classify(raw: str, site: str) -> Referrer:
    """What the referrer `raw` (as logged) is for the site whose domain is `site`.

    Cached: a log repeats few referrers many times.

    >>> classify("-", "acme.com").kind, classify("https://shop.acme.com/x", "acme.com").kind
    (<Kind.NONE: 'none'>, <Kind.INTERNAL: 'internal'>)
    >>> classify("https://www.google.com/", "acme.com").category
    'search'
    >>> classify("android-app://com.slack/", "acme.com").category
    'app'
    >>> ref = classify("https://Blog.example/post?utm_source=x&id=2#c", "acme.com")
    >>> ref.kind, ref.url, ref.domain
    (<Kind.PAGE: 'page'>, 'https://blog.example/post?id=2', 'blog.example')
    >>> classify("https://blog.example/", "acme.com").kind
    <Kind.ORIGIN: 'origin'>
    >>> classify('https://blog.example/a "b" c', "acme.com").url
    'https://blog.example/a%20%22b%22%20c'
    """
    text = raw.strip()
    if not text or text == "-":
        return NO_REFERRER
    # Logs show what the browser sent, and some write spaces and quotes unencoded.
    text = _UNSAFE.sub(lambda match: f"%{ord(match.group()):02X}", text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return INVALID
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        # android-app://, ios-app://: an app, never a page (Matomo lists some by package)
        return Referrer(Kind.EXCLUDED, category="app") if scheme and "://" in text else INVALID
    host = normalize_host(parts.hostname or "")
    if not host:
        return INVALID
    if host_on_domain(host, site):
        return INTERNAL
    path = parts.path or "/"
    if category := category_of(host, path):
        return Referrer(Kind.EXCLUDED, category=category)
    query = clean_query(parts.query)
    netloc = f"[{host}]" if ":" in host else host
    netloc = netloc if port is None else f"{netloc}:{port}"
    url = urlunsplit((scheme, netloc, path, query, ""))
    kind = Kind.ORIGIN if path == "/" and not query else Kind.PAGE
    return Referrer(kind, url, identity_key(url), registered_domain(host))
