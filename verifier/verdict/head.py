"""Read a page's `<head>` as the HTML standard builds it: robots metas and canonicals.

From the parsed tree (`head_elements`), or, on a page that provably cannot link to
the sites asked for, from the parser's events up to the end of the head
(`read_head`), without building the rest of the page.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Protocol

from lxml import etree

from verifier.verdict.directives import ROBOTS_META_NAMES
from verifier.verdict.parser import ABSOLUTE_HTTP, PARSE_ERRORS, PARSER_OPTIONS
from verifier.verdict.urls import resolve


class HeadTarget(Protocol):
    """What the head is read into (`verifier.verdict.page.Page`)."""

    base_url: str
    meta_robots: list[str]
    canonicals: list[str]


#: Elements the HTML standard keeps in <head> ("in head" insertion mode); any other
#: element ends the head, so robots metas and canonicals after it do not count.
HEAD_ELEMENTS = frozenset(
    {"title", "meta", "link", "base", "basefont", "bgsound", "style", "script", "noscript"}
    | {"noframes", "template"}
)
#: Between `</head>` and the body the standard moves these back into <head>
#: ("after head" mode), so a robots meta there counts.
AFTER_HEAD_ELEMENTS = HEAD_ELEMENTS - {"noscript"}
#: libxml2 reads `<bgsound>` as a container, not the void element it is: what it
#: wraps belongs to the head.
_TRANSPARENT = "bgsound"

_local = threading.local()


def head_elements(head: etree._Element) -> Iterator[etree._Element]:
    """The elements of `<head>` as the HTML standard builds it, from lxml's tree.

    lxml moves some elements that end the head (img, div …) into <body> itself,
    but keeps others (input, section, svg …) in <head>: the first one ends it here.
    Head elements between `</head>` and the body are the head's too.
    """
    pending = list(head)
    pending.reverse()
    while pending:
        el = pending.pop()
        if not isinstance(el.tag, str):
            continue  # a comment
        if el.tag not in HEAD_ELEMENTS:
            return
        yield el
        if el.tag == _TRANSPARENT:
            pending.extend(reversed(el))
    for el in head.itersiblings():
        if not isinstance(el.tag, str):
            continue
        if el.tag not in AFTER_HEAD_ELEMENTS:
            return
        yield el


def read_head_element(page: HeadTarget, tag: str, attrib: Mapping[str, str | None]) -> str | None:
    """Note a robots `<meta>` or a canonical from one element of `<head>`.

    Returns a canonical's href as written.
    """
    if tag == "meta":
        if (attrib.get("name") or "").strip().lower() in ROBOTS_META_NAMES:
            page.meta_robots.append(attrib.get("content") or "")
    elif "canonical" in (attrib.get("rel") or "").lower().split():
        href = attrib.get("href")
        if href and (url := resolve(href, page.base_url)) is not None:
            page.canonicals.append(url)
            return href
    return None


#: Bytes handed to the head reader at a time: most heads end within the first few.
HEAD_CHUNK = 1024


class _HeadReader:
    """Parser target that reads the children of `<head>` until Google stops reading it.

    It sees the parser's events, not a tree, so it mirrors the tree walk in
    `parse`: the first `<head>` under the root, its direct children, up to the
    first one not allowed in a head or the end of the head. `complete` stays
    False when the document does not take that shape (then the caller parses
    the whole page, which decides the edge case the same way as always).
    `done` tells the feeder to stop; events after it are ignored. (Raising
    from a target would stop the parser at once, but lxml leaks memory then.)
    """

    def __init__(self) -> None:
        self.reset(None)

    def reset(self, page: HeadTarget | None) -> None:
        self.page = page
        self.depth = 0
        self.in_head = False
        self.after_head = False
        self.done = False
        self.complete = False
        self.relative = False  # a canonical resolves against the base URL

    def start(self, tag: str, attrib: Mapping[str, str | None]) -> None:
        if self.done:
            return
        if tag == _TRANSPARENT and self.in_head:
            self._read(tag, attrib)  # and what it wraps, a level down, as the head's
            return
        self.depth += 1
        if self.depth == 2:
            if tag == "head" and not self.in_head:
                self.in_head = True
            elif self.after_head and tag in AFTER_HEAD_ELEMENTS:
                self._read(tag, attrib)
            else:
                # The body (or, before any <head>, a shape left to the full parse).
                self.complete = self.after_head
                self.done = True
        elif self.depth == 3 and self.in_head and not self.after_head:
            if tag not in HEAD_ELEMENTS:
                self.complete = self.done = True
                return
            self._read(tag, attrib)

    def _read(self, tag: str, attrib: Mapping[str, str | None]) -> None:
        assert self.page is not None  # `reset` hands each page over before feeding
        href = read_head_element(self.page, tag, attrib)
        if href is not None and not ABSOLUTE_HTTP.match(href):
            self.relative = True

    def end(self, tag: str) -> None:
        if self.done or (tag == _TRANSPARENT and self.in_head):
            return
        self.depth -= 1
        if self.depth == 1 and self.in_head:
            self.after_head = True  # head elements before the body are still the head's
        elif self.depth == 0:
            # `</html>`: lxml's tree ends there; for the standard what follows is the
            # body's, so the head is complete as read.
            self.complete = self.in_head
            self.done = True

    def close(self) -> None:
        return None


def _head_parser() -> tuple[etree.HTMLParser, _HeadReader]:
    # One per thread, reused: lxml inspects a target's methods at each new parser,
    # which costs more than reading a typical head.
    found: tuple[etree.HTMLParser, _HeadReader] | None = getattr(_local, "head_parser", None)
    if found is None:
        reader = _HeadReader()
        parser = etree.HTMLParser(target=reader, **PARSER_OPTIONS)
        found = _local.head_parser = (parser, reader)
    return found


def read_head(page: HeadTarget, data: bytes) -> bool:
    """Read the robots metas and canonicals of `<head>` without parsing the rest.

    Fed in chunks: feeding stops after the chunk where the head ends, while a
    whole document handed over at once would be tokenised to its end.
    Returns False when the head could not be read this way.
    """
    parser, reader = _head_parser()
    reader.reset(page)
    try:
        for start in range(0, len(data), HEAD_CHUNK):
            parser.feed(data[start : start + HEAD_CHUNK])
            if reader.done:
                break
        parser.close()  # also readies the parser for the next page
    except PARSE_ERRORS:
        _local.head_parser = None  # start the next page on a fresh parser
    # A `<base>` anywhere in the page changes what a relative canonical means.
    if reader.complete and reader.relative and b"<base" in data.lower():
        reader.complete = False
    if not reader.complete:
        page.meta_robots.clear()
        page.canonicals.clear()
    return reader.complete
