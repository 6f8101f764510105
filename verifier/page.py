"""Read a fetched HTML page with lxml: its links to a site, robots metas, canonical.

The page is parsed once; `links_to` can then be asked for each site that has
backlinks on it. What counts as a link follows Google, not the DOM: links in
comments and `<script>` are text to lxml already, and links inside
`<noscript>` or `<template>` are dropped because Google ignores them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

import lxml.html
from lxml import etree
from w3lib.encoding import html_to_unicode

from verifier.directives import ROBOTS_META_NAMES
from verifier.models import Fetch, Link
from verifier.urls import host_of, host_on_domain

#: Elements whose text is not part of a link's anchor (as textContent, minus these).
TEXT_SKIP = frozenset({"script", "style", "template"})
#: Links inside these are not links to Google.
IGNORED_CONTAINERS = ("noscript", "template")
HTML_TYPES = ("text/html", "application/xhtml+xml")
CONTEXT_CHARS = 100
LINK_HTML_CHARS = 1000

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_URL_NOISE = re.compile(r"[\t\n\r]")  # browsers strip these anywhere in a URL


def _utf8_or_cp1252(body: bytes) -> str:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def decode(body: bytes, content_type: str | None) -> str:
    """The page text: BOM, header charset, `<meta>`; else UTF-8 if valid, else cp1252."""
    _, text = html_to_unicode(content_type, body, auto_detect_fun=_utf8_or_cp1252)
    return text


def is_html(content_type: str | None, body: bytes) -> bool:
    """True when the response is a page we parse (HTML or XHTML, or untyped markup)."""
    if content_type:
        return content_type.split(";")[0].strip().lower() in HTML_TYPES
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--", b"<?xml"))


def fold(text: str) -> str:
    """Fold each run of whitespace to one space and trim.

    >>> fold("  Blue\\n\\t widgets ")
    'Blue widgets'
    """
    return " ".join(text.split())


def _text(el: etree._Element, out: list[str]) -> None:
    if el.text:
        out.append(el.text)
    for child in el:
        # Comments and processing instructions have a non-str tag; their tail is still text.
        if isinstance(child.tag, str) and child.tag not in TEXT_SKIP:
            _text(child, out)
        if child.tail:
            out.append(child.tail)


def anchor_text(el: etree._Element) -> str:
    """The link's text (textContent without script/style/template), else an image's alt."""
    if len(el) == 0:
        text = fold(el.text or "")
    else:
        parts: list[str] = []
        _text(el, parts)
        text = fold("".join(parts))
    if text:
        return text
    for img in el.iter("img"):
        alt = fold(img.get("alt") or "")
        if alt:
            return alt
    return ""


def rel_tokens(rel: str | None) -> tuple[str, ...]:
    """`rel` split on whitespace or commas (Google accepts both), as found.

    >>> rel_tokens(" Sponsored,UGC\\tnoopener ")
    ('Sponsored', 'UGC', 'noopener')
    """
    return tuple(rel.replace(",", " ").split()) if rel else ()


@dataclass(slots=True)
class Page:
    """A parsed page. `root` is None when the body held no markup at all."""

    url: str  # the final response URL
    base_url: str
    root: etree._Element | None
    meta_robots: list[str] = field(default_factory=list)
    canonicals: list[str] = field(default_factory=list)
    content_hash: str = ""
    _anchors: list[etree._Element] | None = None

    def anchors(self) -> list[etree._Element]:
        """Every `<a href>`/`<area href>` that Google would see, in document order."""
        if self._anchors is None:
            if self.root is None:
                self._anchors = []
            else:
                # A set of the elements themselves, not of id()s: lxml builds a new
                # proxy object each time unless one is alive, so ids get reused.
                hidden = {
                    a for box in self.root.iter(*IGNORED_CONTAINERS) for a in box.iter("a", "area")
                }
                self._anchors = [
                    a
                    for a in self.root.iter("a", "area")
                    if a.get("href") is not None and a not in hidden
                ]
        return self._anchors


def parse(fetch: Fetch) -> Page:
    """Parse a fetched HTML page (decoding as a browser would)."""
    text = decode(fetch.body, fetch.content_type)
    content_hash = hashlib.sha256(fetch.body).hexdigest()
    root: etree._Element | None
    try:
        # Bytes, not str: lxml refuses str input that carries an XML encoding declaration.
        parser = lxml.html.HTMLParser(encoding="utf-8")
        root = lxml.html.document_fromstring(text.encode("utf-8", "surrogatepass"), parser=parser)
    except (etree.ParserError, ValueError):
        root = None
    base_url = fetch.final_url
    if root is None:
        return Page(fetch.final_url, base_url, None, content_hash=content_hash)
    # Only the first <base href> counts; a relative one resolves against the page URL.
    for base in root.iter("base"):
        href = base.get("href")
        if href is not None and href.strip():
            base_url = urljoin(fetch.final_url, _URL_NOISE.sub("", href.strip()))
            break
    page = Page(fetch.final_url, base_url, root, content_hash=content_hash)
    head = root.find("head")
    if head is not None:
        # Google stops reading <head> at the first element not allowed there; lxml
        # moves such elements (and what follows) into <body>, so head-only is right.
        for el in head.iter("meta", "link"):
            if el.tag == "meta":
                if (el.get("name") or "").strip().lower() in ROBOTS_META_NAMES:
                    page.meta_robots.append(el.get("content") or "")
            elif "canonical" in (el.get("rel") or "").lower().split() and el.get("href"):
                page.canonicals.append(urljoin(base_url, el.get("href", "").strip()))
    return page


def _could_point_at(href: str, domain: str, base_on_site: bool) -> bool:
    """Cheap pre-filter: can this raw href resolve onto the site at all?"""
    lowered = href.lower()
    scheme = _SCHEME.match(lowered)
    if scheme:
        if scheme.group(1) not in ("http", "https"):
            return False
        return domain in lowered or not lowered.isascii() or "%" in lowered
    if lowered.startswith("//") or lowered.startswith("\\\\"):
        return domain in lowered or not lowered.isascii() or "%" in lowered
    return base_on_site  # relative: lands on the base URL's host


def links_to(page: Page, domain: str) -> list[Link]:
    """Links on the page whose resolved host is `domain` or a subdomain of it."""
    base_on_site = host_on_domain(host_of(page.base_url), domain)
    found: list[Link] = []
    for position, el in enumerate(page.anchors()):
        href = _URL_NOISE.sub("", el.get("href", "").strip())
        if not _could_point_at(href, domain, base_on_site):
            continue
        try:
            url = urljoin(page.base_url, href)
        except ValueError:
            continue  # e.g. an invalid IPv6 literal
        if not url.startswith(("http://", "https://")) or not host_on_domain(host_of(url), domain):
            continue
        found.append(Link(url, rel_tokens(el.get("rel")), anchor_text(el), position, el))
    return found


def link_html(link: Link) -> str:
    """The link's outer HTML, truncated."""
    html = lxml.html.tostring(link.element, with_tail=False, encoding="unicode")
    return html[:LINK_HTML_CHARS]


def _context_parts(el: etree._Element, target: etree._Element, inside: bool, out: list) -> None:
    inside = inside or el is target
    if el.text:
        out.append((el.text, inside))
    for child in el:
        if isinstance(child.tag, str) and child.tag not in TEXT_SKIP:
            _context_parts(child, target, inside, out)
        if child.tail:
            out.append((child.tail, inside))


def link_context(link: Link, chars: int = CONTEXT_CHARS) -> tuple[str, str]:
    """About `chars` characters of text on each side of the link."""
    el = link.element
    box = el.getparent()
    # Climb to an ancestor with enough text around the link, but never past <body>.
    while box is not None and box.tag != "body":
        parent = box.getparent()
        if parent is None or len(box.text_content()) >= 3 * chars:
            break
        box = parent
    if box is None:
        return "", ""
    parts: list[tuple[str, bool]] = []
    _context_parts(box, el, False, parts)
    before, after, seen = [], [], False
    for text, inside in parts:
        if inside:
            seen = True
        elif seen:
            after.append(text)
        else:
            before.append(text)
    return fold("".join(before))[-chars:], fold("".join(after))[:chars]
