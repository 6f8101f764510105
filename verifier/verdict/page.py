"""Read a fetched HTML page with lxml: its links to a site, robots metas, canonical.

The page is parsed once; `links_to` can then be asked for each site that has
backlinks on it. A page that provably cannot link to those sites
(`verifier.verdict.absence`) is read only up to the end of its `<head>`, which is all
its verdict needs. What counts as a link follows Google, not the DOM: links in
comments and `<script>` are text to lxml already, and links inside
`<noscript>` or `<template>` are dropped because Google ignores them.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

import chardetng_py
from lxml import etree
from w3lib.encoding import html_to_unicode, resolve_encoding

from verifier.models import Fetch, Link
from verifier.verdict import absence
from verifier.verdict.directives import ROBOTS_META_NAMES
from verifier.verdict.urls import host_of, host_on_domain, may_be_written_in_unicode, resolve

#: Elements whose text is not part of a link's anchor (as textContent, minus these).
TEXT_SKIP = frozenset({"script", "style", "template"})
#: Links inside these are not links to Google.
IGNORED_CONTAINERS = ("noscript", "template")
HTML_TYPES = ("text/html", "application/xhtml+xml")
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
CONTEXT_CHARS = 100
LINK_HTML_CHARS = 1000
#: `huge_tree`: libxml2 otherwise stops at a nesting depth of 256 and drops the rest of
#: the page (300 unclosed `<b>` or `<font>` on old forum pages), where browsers keep it.
#: It also lifts libxml2's 10 MB text-node limit; bodies are capped by DOWNLOAD_MAXSIZE.
PARSER_OPTIONS: dict[str, bool | str] = {
    "encoding": "utf-8",
    "remove_comments": False,
    "huge_tree": True,
}

_URL_NOISE = re.compile(r"[\t\n\r]")  # browsers strip these anywhere in a URL
#: An http(s) URL with its own host, which no base can change (noise may split it;
#: the URL parser trims C0 controls and spaces, not other white space such as U+00A0).
_ABSOLUTE = re.compile(
    r"[\x00-\x20]*h[\t\n\r]*t[\t\n\r]*t[\t\n\r]*p[\t\n\r]*s?[\t\n\r]*:[\t\n\r]*/[\t\n\r]*/[\t\n\r]*[^/?#\s]",
    re.I,
)


def _tld(url: str | None) -> bytes | None:
    """The last label of the page's host: Firefox's detector weighs it (`.jp`, `.ru` …)."""
    label = host_of(url).rpartition(".")[2] if url else ""
    return label.encode() if label.isalpha() or label.startswith("xn--") else None


def undeclared_encoding(body: bytes, url: str | None = None) -> str:
    """The encoding of a page that declares none: UTF-8 when valid, else as Firefox guesses.

    Firefox's own detector (chardetng), with the TLD hint Firefox gives it, never
    UTF-8 (valid UTF-8 was settled above), so a Shift_JIS, GBK or EUC-KR page is read
    as such, where always assuming windows-1252 gave mojibake. Only bodies that are
    not valid UTF-8 run it. The name is mapped as a declared one would be (w3lib).

    >>> undeclared_encoding("日本語のページ".encode("shift_jis"), "http://b.test/")
    'cp932'
    >>> undeclared_encoding("café".encode("cp1252")), undeclared_encoding("café".encode())
    ('cp1252', 'utf-8')
    """
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        name = chardetng_py.detect(body, allow_utf8=False, tld=_tld(url))
        return resolve_encoding(name) or "cp1252"
    return "utf-8"


def decode(body: bytes, content_type: str | None, url: str | None = None) -> str:
    """The page text: BOM, header charset, `<meta>`; else `undeclared_encoding`."""
    _, text = html_to_unicode(
        content_type, body, auto_detect_fun=lambda data: undeclared_encoding(data, url)
    )
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
    # A stack, not recursion: with `huge_tree` a page may nest elements thousands deep.
    if el.text:
        out.append(el.text)
    todo: list[etree._Element | str] = list(reversed(el))  # a str is a tail to append
    while todo:
        node = todo.pop()
        if isinstance(node, str):
            out.append(node)
            continue
        if node.tail:
            todo.append(node.tail)  # after the node's own text
        # Comments and processing instructions have a non-str tag; their tail is still text.
        if isinstance(node.tag, str) and node.tag not in TEXT_SKIP:
            if node.text:
                out.append(node.text)
            todo.extend(reversed(node))


def anchor_text(el: etree._Element) -> str:
    """The link's text (textContent without script/style/template), else an image's alt.

    An image-map `<area>` has no content: its `alt` is its text.
    """
    if el.tag == "area":
        return fold(el.get("alt") or "")
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
    """A parsed page. `root` is None when the body held no markup at all,
    or when only its `<head>` was read because it cannot link to `unlinked`.
    """

    url: str  # the final response URL
    base_url: str  # the page URL on a head-only page (no `<base>` was looked for)
    root: etree._Element | None
    meta_robots: list[str] = field(default_factory=list)
    canonicals: list[str] = field(default_factory=list)
    content_hash: str = ""
    #: Set when only the head was read: the domains the page was proven not to link to.
    unlinked: frozenset[str] | None = None
    _anchors: list[etree._Element] | None = None
    _links: dict[str, list[Link]] = field(default_factory=dict)  # links_to, per domain

    def anchors(self) -> list[etree._Element]:
        """Every `<a href>`/`<area href>` that Google would see, in document order."""
        if self._anchors is None:
            self._anchors = (
                []
                if self.root is None
                else [
                    a
                    for a in self.root.iter("a", "area")
                    if a.get("href") is not None and not _hidden(a)
                ]
            )
        return self._anchors


_local = threading.local()


def _parser() -> etree.HTMLParser:
    # One parser per thread: lxml parsers must not be shared between threads
    # (the crawler parses in one thread, other callers may not). Plain etree, not lxml.html:
    # lxml.html looks up a Python element class for every node it hands out,
    # which costs more than the parse on link-heavy pages.
    parser: etree.HTMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.HTMLParser(**PARSER_OPTIONS)
    return parser


def parse(
    fetch: Fetch,
    sites: Collection[str] | None = None,
    needs_body: Callable[[absence.Source], bool] | None = None,
) -> Page:
    """Parse a fetched HTML page (decoding as a browser would).

    With `sites` (the domains whose links will be asked for), a page that
    provably cannot link to any of them (`verifier.verdict.absence`) is only read up
    to the end of its `<head>`: the verdict needs nothing else from it, unless
    `needs_body(source)` says another reader (brand mentions) may find something there.
    """
    text = decode(fetch.body, fetch.content_type, fetch.final_url)
    content_hash = hashlib.sha256(fetch.body).hexdigest()
    # Bytes, not str: lxml refuses str input that carries an XML encoding declaration.
    data = text.encode("utf-8", "surrogatepass")
    source = absence.Source(text, data)
    if (
        sites
        and not any(absence.may_link(source, fetch.final_url, s) for s in sites)
        and not (needs_body is not None and needs_body(source))
    ):
        page = Page(fetch.final_url, fetch.final_url, None, content_hash=content_hash)
        if _read_head(page, data):
            page.unlinked = frozenset(sites)
            return page
    root: etree._Element | None
    try:
        root = etree.fromstring(data, _parser())
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        root = None
    base_url = fetch.final_url
    if root is None:
        return Page(fetch.final_url, base_url, None, content_hash=content_hash)
    # Only the first <base> with an href counts; a relative one resolves against the
    # page URL, and one browsers cannot parse (`http://[bad/`) leaves the page URL.
    for base in root.iter("base"):
        href = base.get("href")
        if href is not None:
            base_url = resolve(href, fetch.final_url) or fetch.final_url
            break
    page = Page(fetch.final_url, base_url, root, content_hash=content_hash)
    head = root.find("head")
    if head is not None:
        for el in _head_elements(head):
            _read_head_element(page, el.tag, el.attrib)
    return page


def _head_elements(head: etree._Element) -> Iterator[etree._Element]:
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


def _read_head_element(page: Page, tag: str, attrib: Mapping[str, str | None]) -> str | None:
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
        self.reset(Page("", "", None))

    def reset(self, page: Page) -> None:
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
        href = _read_head_element(self.page, tag, attrib)
        if href is not None and not _ABSOLUTE.match(href):
            self.relative = True

    def end(self, tag: str) -> None:
        if self.done or (tag == _TRANSPARENT and self.in_head):
            return
        self.depth -= 1
        if self.depth == 1 and self.in_head:
            self.after_head = True  # head elements before the body are still the head's

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


def _read_head(page: Page, data: bytes) -> bool:
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
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        _local.head_parser = None  # start the next page on a fresh parser
    # A `<base>` anywhere in the page changes what a relative canonical means.
    if reader.complete and reader.relative and b"<base" in data.lower():
        reader.complete = False
    if not reader.complete:
        page.meta_robots.clear()
        page.canonicals.clear()
    return reader.complete


def _may_name(text: str, domain: str) -> bool:
    """False when no href in `text` can resolve onto the ASCII `domain`.

    A host is matched lower-cased after browsers drop tabs and newlines and
    decode percent-escapes (`%61cme.com` is acme.com), so it must appear in the
    href as such, unless non-ASCII characters (which IDNA may map onto ASCII) hide it.
    """
    if "\t" in text or "\n" in text or "\r" in text:
        text = _URL_NOISE.sub("", text)
    if "%" in text:
        text = unquote(text, errors="ignore")  # a host that is not UTF-8 fails to parse
    return domain in text.lower() or not text.isascii()


def _names_verbatim(text: str, domain: str) -> bool:
    """True when every href in `text` that can name `domain` has it lower-case, in one piece.

    Then a plain substring test per href finds exactly the anchors `_may_name` would,
    but for hrefs with percent-escapes, which `_may_name` must decode.
    """
    if not text.isascii() or "\t" in text or "\n" in text or "\r" in text:
        return False
    lowered = text.lower()
    start = lowered.find(domain)
    while start != -1:
        if text[start : start + len(domain)] != domain:
            return False
        start = lowered.find(domain, start + 1)
    return True


def _hidden(el: etree._Element) -> bool:
    """Inside <noscript> or <template>: not a link to Google."""
    return next(el.iterancestors(*IGNORED_CONTAINERS), None) is not None


def _candidates(page: Page, domain: str, base_on_site: bool) -> list[tuple[int, etree._Element]]:
    """Visible links whose href can resolve onto `domain`, in document order.

    Cheap string tests first: on a typical page only one link in hundreds names
    the domain, so the ancestor walk and URL resolution run for that one only.
    (An XPath `contains(@href, …)` was measured slower than this loop.)
    """
    if page.root is None:
        return []
    if may_be_written_in_unicode(domain):
        return list(enumerate(page.anchors()))
    if base_on_site:
        # Relative links land on the site; a link with its own host needs to name it.
        return [
            (position, el)
            for position, el in enumerate(page.anchors())
            if not _ABSOLUTE.match(href := el.get("href", "")) or _may_name(href, domain)
        ]
    # One walk, in C, to the anchors; their hrefs are tested together first.
    anchors = [(el, el.get("href")) for el in page.root.iter("a", "area")]
    hrefs = " ".join(href for _, href in anchors if href is not None)
    if not _may_name(hrefs, domain):
        return []  # most pages: no href names the domain, no test per anchor
    verbatim = _names_verbatim(hrefs, domain)
    found = []
    for position, (el, href) in enumerate(anchors):
        if href is None:
            continue
        names_it = (
            domain in href or ("%" in href and _may_name(href, domain))
            if verbatim
            else _may_name(href, domain)
        )
        if names_it and not _hidden(el):
            found.append((position, el))
    return found


def links_to(page: Page, domain: str) -> list[Link]:
    """Links on the page whose resolved host is `domain` or a subdomain of it."""
    if page.unlinked is not None:
        if domain in page.unlinked:
            return []
        raise ValueError(f"{page.url} was read for links to {sorted(page.unlinked)} only")
    known = page._links.get(domain)
    if known is None:
        known = page._links[domain] = _links_to(page, domain)
    return list(known)  # the verdict, mentions and discovery each ask: found once


def _links_to(page: Page, domain: str) -> list[Link]:
    base_on_site = host_on_domain(host_of(page.base_url), domain)
    found: list[Link] = []
    for position, el in _candidates(page, domain, base_on_site):
        # As browsers read it (WHATWG): `https:\\acme.com\x` is a link to acme.com,
        # `https://evil.test\@acme.com/` one to evil.test; None for `https://[::1/`.
        url = resolve(el.get("href", ""), page.base_url)
        if url is None or not url.startswith(("http://", "https://")):
            continue  # unparseable, mailto:, javascript:, …
        if not host_on_domain(host_of(url), domain):
            continue
        found.append(Link(url, rel_tokens(el.get("rel")), anchor_text(el), position, el))
    return found


def link_html(link: Link) -> str:
    """The link's outer HTML, truncated."""
    html: str = etree.tostring(link.element, method="html", with_tail=False, encoding="unicode")
    return html[:LINK_HTML_CHARS]


def _content(el: etree._Element) -> str:
    """textContent of a sibling, without script/style/template text."""
    if not isinstance(el.tag, str) or el.tag in TEXT_SKIP:
        return ""
    parts: list[str] = []
    _text(el, parts)
    return "".join(parts)


def _text_before(el: etree._Element, chars: int) -> str:
    pieces: list[str] = []  # collected backwards, from the link outwards
    size = 0
    node = el
    while size < chars:
        prev = node.getprevious()
        while prev is not None and size < chars:
            for text in (prev.tail, _content(prev)):
                if text:
                    pieces.append(text)
                    size += len(text)
            prev = prev.getprevious()
        parent = node.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        if parent.text and size < chars:
            pieces.append(parent.text)
            size += len(parent.text)
        node = parent
    return fold("".join(reversed(pieces)))[-chars:]


def _text_after(el: etree._Element, chars: int) -> str:
    pieces: list[str] = []
    size = 0
    node = el
    while size < chars:
        if node.tail:
            pieces.append(node.tail)
            size += len(node.tail)
        following = node.getnext()
        while following is not None and size < chars:
            for text in (_content(following), following.tail):
                if text:
                    pieces.append(text)
                    size += len(text)
            following = following.getnext()
        parent = node.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        node = parent
    return fold("".join(pieces))[:chars]


def link_context(link: Link, chars: int = CONTEXT_CHARS) -> tuple[str, str]:
    """About `chars` characters of text on each side of the link (stops at <body>).

    Walks outwards from the link through siblings and ancestors only as far as
    it needs, so a link deep in a long page costs no more than one in a short one.
    """
    el = link.element
    return _text_before(el, chars), _text_after(el, chars)
