"""Meta refresh as a browser acts on it (the HTML standard's declarative refresh).

A page that says `<meta http-equiv="refresh" content="0; url=…">` is a redirect to
browsers and to Google (an instant one counts as permanent). Scrapy's own
middleware reads it with w3lib's regular expression, only in the first 4096
characters, and misses many spellings browsers accept (`,` as separator, no
`url=`, spaces around `=`, a delay with a fraction); see REFERENCE-2.md §6.
Here the `content` attribute is parsed with the standard's "shared declarative
refresh steps", and the element is looked for wherever a browser would act on it:
any `<meta>` element of the document, but not inside `<noscript>` (raw text when
scripting is on, as Google renders), `<template>` (inert) or `<svg>`/`<math>`
(not HTML elements). `<script>` contents and comments are text to lxml already.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from verifier.verdict import html5, urls
from verifier.verdict.page import INERT_CONTAINERS, decode
from verifier.verdict.parser import parse_html

#: ASCII whitespace as the HTML standard defines it.
WHITESPACE = "\t\n\f\r "


@dataclass(frozen=True, slots=True)
class Refresh:
    """A refresh a browser performs: after `delay` seconds, load `url`."""

    delay: int
    url: str  # absolute; the page's own URL when the content names none


def _skip_whitespace(text: str, position: int) -> int:
    while position < len(text) and text[position] in WHITESPACE:
        position += 1
    return position


def parse_content(content: str) -> tuple[int, str | None] | None:
    """The delay and URL string of a refresh `content` value; None when a browser ignores it.

    The URL string is as written (unresolved); None means "reload this page".
    Follows the standard step by step (html.spec.whatwg.org, "shared declarative
    refresh steps"), which web-platform-tests check case by case.

    >>> parse_content("0; URL='https://a.test/x'"), parse_content("5")
    ((0, 'https://a.test/x'), (5, None))
    >>> parse_content("1.9, url = b.html"), parse_content(".5 c.html")
    ((1, 'b.html'), (0, 'c.html'))
    >>> parse_content("1url=foo"), parse_content("-1; url=foo"), parse_content("")
    (None, None, None)
    """
    position = _skip_whitespace(content, 0)
    start = position
    while position < len(content) and content[position] in "0123456789":
        position += 1
    if position == start:
        if position >= len(content) or content[position] != ".":
            return None  # no delay: "+1", "-1", "url=…" and the empty value are ignored
        delay = 0
    else:
        delay = int(content[start:position])
    while position < len(content) and content[position] in "0123456789.":
        position += 1  # a fraction is ignored: "1.9" waits one second
    if position < len(content):
        if content[position] not in ";," + WHITESPACE:
            return None  # "1url=foo", "1e1"
        position = _skip_whitespace(content, position)
        if position < len(content) and content[position] in ";,":
            position += 1
        position = _skip_whitespace(content, position)
    if position >= len(content):
        return delay, None
    url = _url_part(content, position)
    return delay, url if url else None


def _url_part(content: str, position: int) -> str:
    """The URL string from `position` on: an optional `URL =` and optional quotes."""
    whole = content[position:]
    if content[position] in "Uu":
        if content[position + 1 : position + 2] not in ("R", "r"):
            return whole  # "ufoo": the URL is "ufoo"
        if content[position + 2 : position + 3] not in ("L", "l"):
            return whole
        after = _skip_whitespace(content, position + 3)
        if content[after : after + 1] != "=":
            return whole  # "url foo" is the URL "url foo"
        position = _skip_whitespace(content, after + 1)
    quote = content[position : position + 1]
    if quote in ("'", '"'):
        rest = content[position + 1 :]
        end = rest.find(quote)
        return rest if end == -1 else rest[:end]
    return content[position:]


def resolve(url: str | None, base_url: str) -> str | None:
    """The absolute URL a refresh loads (None: a URL browsers cannot parse)."""
    if url is None:
        return base_url
    # As browsers parse it (WHATWG): None for e.g. an invalid IPv6 literal.
    return urls.resolve(url, base_url)


#: Where a `<meta>` is inert. Not `<svg>` or `<math>`: the standard pops a `<meta>` out of
#: foreign content into the HTML around it, where browsers act on it.
META_INERT_CONTAINERS = ("noscript", "template")


def _inert(el: etree._Element, containers: tuple[str, ...] = INERT_CONTAINERS) -> bool:
    return next(el.iterancestors(*containers), None) is not None


def find_refresh(root: etree._Element, page_url: str) -> Refresh | None:
    """The first refresh in the document a browser acts on, or None.

    The first `<meta http-equiv=refresh>` whose content is valid wins (a browser
    acts once); its URL resolves against the `<base href>` that precedes it.
    `http-equiv` is compared case-insensitively and untrimmed, as the standard says.
    """
    base_url = page_url
    base_seen = False
    for el in root.iter("base", "meta"):
        if el.tag == "base":
            href = el.get("href")
            if not base_seen and href is not None and not _inert(el):
                base_seen = True
                base_url = resolve(href, page_url) or page_url
            continue
        if (el.get("http-equiv") or "").lower() != "refresh":
            continue
        content = el.get("content")
        if content is None or _inert(el, META_INERT_CONTAINERS):
            continue
        parsed = parse_content(content)
        if parsed is None:
            continue
        url = resolve(parsed[1], base_url)
        if url is not None:
            return Refresh(parsed[0], url)
    return None


def page_refresh(body: bytes, content_type: str | None, page_url: str) -> Refresh | None:
    """`find_refresh` on a fetched body, decoded as `verifier.verdict.page` decodes it.

    Pages that never write `http-equiv` and `refresh` are not parsed (in any case;
    lower() and `in` were measured 20 times faster than a case-insensitive regex).
    """
    lowered = body.lower()
    if b"http-equiv" not in lowered or b"refresh" not in lowered:
        return None
    text = decode(body, content_type, page_url)
    # Past libxml2's nesting limit too: a browser acts on a refresh anywhere.
    root, _ = parse_html(text.encode("utf-8", "surrogatepass"))
    if root is None:
        return None
    found = find_refresh(root, page_url)
    end = lowered.find(b"</html")
    if (
        found is None
        and end != -1
        and b"http-equiv" in lowered[end:]
        and not (html5.too_long(text) or html5.too_deep(root))  # html5lib: depth squared
    ):
        # After a stray `</html>`, lost to lxml's tree: the standard puts it in the body.
        standard = html5.build(text)
        found = None if standard is None else find_refresh(standard, page_url)
    return found
