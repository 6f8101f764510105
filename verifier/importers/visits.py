"""What counts as a visit in an access log: pure rules over method, path, status and user agent.

A visit is one GET of a page (not an image, script, stylesheet, font or feed)
that did not answer with a redirect (3xx, 304 included), by a client that is not
a bot. Bots are told by their user agent with crawlerdetect (the Python port of
JayBizzle's Crawler-Detect list, maintained), which also flags curl, wget and
HTTP libraries; a request without a user agent is a script too.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crawlerdetect import CrawlerDetect

#: Path extensions of resources a page loads, and of feeds: never a visit.
ASSET_EXTENSIONS = frozenset(
    {
        *("css", "js", "mjs", "map", "json", "wasm"),
        *("png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp", "tif", "tiff"),
        *("woff", "woff2", "ttf", "otf", "eot"),
        *("mp4", "webm", "mp3", "ogg", "wav", "m4a", "m3u8", "ts"),
        *("rss", "atom", "xml", "rdf"),
        "txt",  # robots.txt, ads.txt, security.txt: read by programs, not people
    }
)

#: Path segments that end a feed's URL (WordPress /feed/, /rss, /atom.xml is caught above).
FEED_SEGMENTS = frozenset({"feed", "rss", "atom", "rss2"})

#: Statuses that answer a hit with a page we own that is gone: backlinks to broken pages.
BROKEN_STATUSES = frozenset({404, 410})


@functools.lru_cache(maxsize=1 << 14)
def is_page(path: str) -> bool:
    """True when the request target names a page rather than an asset or a feed.

    Cached: a log asks for the same stylesheets and images over and over.

    >>> [is_page(p) for p in ("/", "/blog/post", "/a.html", "/doc.pdf", "/x.css?v=2")]
    [True, True, True, True, False]
    >>> [is_page(p) for p in ("/img/Logo.PNG", "/feed/", "/blog/rss", "/?feed=rss2")]
    [False, False, False, False]
    """
    path, _, query = path.partition("?")
    path = path.partition("#")[0]
    if query.startswith("feed=") or "&feed=" in query:
        return False
    last = path.rstrip("/").rsplit("/", 1)[-1].lower()
    if last in FEED_SEGMENTS:
        return False
    stem, dot, extension = last.rpartition(".")
    return not (dot and stem and extension in ASSET_EXTENSIONS)


def counts_as_visit(method: str, status: int) -> bool:
    """A GET that was not answered with a redirect (or a 1xx).

    >>> [counts_as_visit(m, s) for m, s in (("GET", 200), ("GET", 404), ("HEAD", 200))]
    [True, True, False]
    >>> [counts_as_visit("GET", s) for s in (301, 304, 500)]
    [False, False, True]
    """
    return method == "GET" and (200 <= status < 300 or status >= 400)


@functools.cache
def _detector() -> CrawlerDetect:
    from crawlerdetect import CrawlerDetect

    return CrawlerDetect()


@functools.lru_cache(maxsize=1 << 14)
def is_bot(user_agent: str) -> bool:
    """True for a crawler, a script or an HTTP library (crawlerdetect), or no user agent.

    Cached: crawlerdetect runs a long regular expression (~6,000 user agents a
    second) and a log repeats few user agents many times.

    >>> is_bot("curl/8.5.0"), is_bot("python-requests/2.32"), is_bot("-")
    (True, True, True)
    >>> is_bot("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"
    ...        " (KHTML, like Gecko) Chrome/124.0 Safari/537.36")
    False
    """
    text = user_agent.strip()
    if not text or text == "-":
        return True
    return bool(_detector().is_crawler(text))
