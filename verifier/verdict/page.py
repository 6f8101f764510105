"""Read a fetched HTML page with lxml: its links to a site, robots metas, canonical.

The page is parsed once; `links_to` can then be asked for each site that has
backlinks on it. A page that provably cannot link to those sites
(`verifier.verdict.absence`) is read only up to the end of its `<head>`, which is all
its verdict needs (`verifier.verdict.head`). What counts as a link follows Google,
not the DOM: links in comments and `<script>` are text to lxml already, and links
inside `<noscript>` or `<template>` are dropped because Google ignores them. The
evidence around a link (its HTML, the text beside it) is `verifier.verdict.context`'s.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from urllib.parse import unquote

import chardetng_py
from lxml import etree
from w3lib.encoding import html_to_unicode, resolve_encoding

from verifier.models import Fetch, Link
from verifier.verdict import absence, html5
from verifier.verdict.head import head_elements, read_head, read_head_element
from verifier.verdict.parser import ABSOLUTE_HTTP, DEEP, capped_tree, parse_html, plain_tree
from verifier.verdict.urls import host_of, host_on_domain, may_be_written_in_unicode, resolve

#: Elements whose text is not part of a link's anchor (as textContent, minus these).
TEXT_SKIP = frozenset({"script", "style", "template"})
#: Links inside these are not links to Google.
IGNORED_CONTAINERS = ("noscript", "template")
HTML_TYPES = ("text/html", "application/xhtml+xml")

_URL_NOISE = re.compile(r"[\t\n\r]")  # browsers strip these anywhere in a URL


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


def collect_text(el: etree._Element, out: list[str], stop: str | None = None) -> None:
    """`el`'s text content (not that of TEXT_SKIP elements) into `out`; with `stop`, only
    what comes before the first descendant of that tag."""
    # A stack, not recursion: with `huge_tree` a page may nest elements thousands deep.
    if el.text:
        out.append(el.text)
    todo: list[etree._Element | str] = list(reversed(el))  # a str is a tail to append
    while todo:
        node = todo.pop()
        if isinstance(node, str):
            out.append(node)
            continue
        if node.tag == stop and not _behind_marker(node, el):
            return
        if node.tail:
            todo.append(node.tail)  # after the node's own text
        # Comments and processing instructions have a non-str tag; their tail is still text.
        if isinstance(node.tag, str) and node.tag not in TEXT_SKIP:
            if node.text:
                out.append(node.text)
            todo.extend(reversed(node))


#: Scope markers of the standard's list of active formatting elements: a link inside one
#: of these inside a link does not end the outer one.
_MARKERS = frozenset({"td", "th", "caption", "applet", "object", "marquee", "template"})


def _behind_marker(node: etree._Element, top: etree._Element) -> bool:
    for ancestor in node.iterancestors():
        if ancestor is top:
            return False
        if ancestor.tag in _MARKERS:
            return True
    return False


def anchor_text(el: etree._Element, standard: bool = False) -> str:
    """The link's text (textContent without script/style/template), else an image's alt.

    An image-map `<area>` has no content: its `alt` is its text. In lxml's tree (not
    `standard`, the HTML standard's own) a link nested in the link ends its text.
    """
    if el.tag == "area":
        return fold(el.get("alt") or "")
    if len(el) == 0:
        text = fold(el.text or "")
    else:
        parts: list[str] = []
        # A link inside the link (through a <div>, which lxml lets it nest in) ends it
        # where it starts, as the standard's adoption agency ends it for browsers; a
        # tree built by the standard has nested links only where browsers keep them.
        collect_text(el, parts, stop=None if standard else "a")
        text = fold("".join(parts))
    if text:
        return text
    for img in el.iter("img", "image"):  # a browser reads an HTML <image> as an <img>
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
    #: What was parsed, kept for a re-read (`verifier.verdict.html5`).
    source: absence.Source | None = field(default=None, repr=False)
    #: Why the tree is not lxml's plain parse: html5lib's, or built past libxml2's
    #: nesting limit (`parser.DEEP`). None: lxml's.
    reread: str | None = None
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


def parse(
    fetch: Fetch,
    sites: Collection[str] | None = None,
    needs_body: Callable[[absence.Source], bool] | None = None,
    *,
    links: bool | None = None,
) -> Page:
    """Parse a fetched HTML page (decoding as a browser would).

    With `sites` (the domains whose links will be asked for), a page that
    provably cannot link to any of them (`verifier.verdict.absence`) is only read up
    to the end of its `<head>`: the verdict needs nothing else from it, unless
    `needs_body(source)` says another reader (brand mentions) may find something there.
    `links`, when a verdict of the page is known already: whether it links to `sites`
    (no proof then).
    """
    text = decode(fetch.body, fetch.content_type, fetch.final_url)
    content_hash = hashlib.sha256(fetch.body).hexdigest()
    # Bytes, not str: lxml refuses str input that carries an XML encoding declaration.
    data = text.encode("utf-8", "surrogatepass")
    source = absence.Source(text, data)
    if links is None:
        links = any(absence.may_link(source, fetch.final_url, s) for s in sites or ())
    if sites and not links and not (needs_body is not None and needs_body(source)):
        page = Page(fetch.final_url, fetch.final_url, None, content_hash=content_hash)
        if read_head(page, data):
            page.unlinked = frozenset(sites)
            if (standard := _standard_head(page, data, text, None)) is not None:
                _read_head_of(page, standard)
                page.reread = _HEAD_ENDS_EARLY
            return page
    root, deep = parse_html(data)
    page = Page(fetch.final_url, fetch.final_url, None, content_hash=content_hash)
    if root is not None:
        page.source = source
        _read_tree(page, root)
        if deep:
            # Not read again by html5lib, whose time grows with the square of the depth:
            # only its head may be, which is read alone.
            page.reread = DEEP
            if (standard := _standard_head(page, data, text, None)) is not None:
                _read_head_of(page, standard)
        elif (standard := _standard_head(page, data, text, root)) is not None:
            _read_tree(page, standard)
            page.reread = _HEAD_ENDS_EARLY
    return page


#: Why a page's head was read as the standard builds it (`html5.head_ends_early`).
_HEAD_ENDS_EARLY = "an end tag in the head"


def _standard_head(
    page: Page, data: bytes, text: str, root: etree._Element | None
) -> etree._Element | None:
    """The standard's tree of the page, when its head holds robots metas or canonicals
    and the standard ends that head before lxml does (None otherwise).

    `root`, lxml's tree of the whole page, is None when only the head was read: then
    the standard's tree is built of the page up to its `<body` (the head is all that is
    read of it); else the whole page, unless it nests too deep to read again.
    """
    if not (page.meta_robots or page.canonicals) or not html5.head_ends_early(data):
        return None
    if root is None:
        head = text[: html5.head_length(text)]
        tree = plain_tree(head.encode("utf-8", "surrogatepass"))  # html5lib: depth squared
        if tree is None or html5.too_long(head) or html5.too_deep(tree):
            return None
        return html5.build(head)
    return None if html5.too_long(text) or html5.too_deep(root) else html5.build(text)


def _read_head_of(page: Page, root: etree._Element) -> None:
    """The page's robots metas and canonicals, from the head of `root`."""
    page.meta_robots.clear()
    page.canonicals.clear()
    head = root.find("head")
    if head is not None:
        for el in head_elements(head):
            read_head_element(page, el.tag, el.attrib)


#: Where an element is no element of the document for a browser that runs scripts:
#: raw text (`<noscript>`), inert until cloned (`<template>`), or SVG/MathML's own (a
#: `<base>` there is not HTML's; a `<meta>` is popped out into the HTML around).
INERT_CONTAINERS = ("noscript", "template", "svg", "math")


def _read_tree(page: Page, root: etree._Element) -> None:
    """Take `root` as the page's tree: its base URL and head, the links found anew."""
    page.root = root
    page.base_url = page.url
    # Only the first <base> with an href counts; a relative one resolves against the
    # page URL, and one browsers cannot parse (`http://[bad/`) leaves the page URL.
    for base in root.iter("base"):
        href = base.get("href")
        if href is not None and next(base.iterancestors(*INERT_CONTAINERS), None) is None:
            page.base_url = resolve(href, page.url) or page.url
            break
    page._anchors = None
    page._links.clear()
    _read_head_of(page, root)


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
            if not ABSOLUTE_HTTP.match(href := el.get("href", "")) or _may_name(href, domain)
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
    found = _read_links(page, domain)
    if page.root is None or page.source is None or page.reread is not None:
        return found
    why: str | None
    base_on_site = host_on_domain(host_of(page.base_url), domain)
    if found:
        # Where lxml builds other links than browsers (tables, <math>, an empty link it
        # closed early, a <frameset> page), or lost one beside those it found (a nofollow
        # link first, a followed one after a stray </html>: a browser sees both).
        why = html5.misread_links([link.element for link in found]) or (
            html5.lost_beside(page.root, domain, base_on_site)
        )
    else:
        # None found: where the bytes name the site and lxml's tree lost content there,
        # a browser may see the link.
        why = (
            html5.lost_content(page.root, domain, base_on_site)
            if absence.may_link(page.source, page.url, domain)
            else None
        )
    if why is None:
        return found
    if html5.too_deep(page.root):  # too deep for html5lib (quadratic): libxml2's, kept whole
        root = capped_tree(page.source.data)
    elif html5.too_long(page.source.text):
        return found  # too long to read again in time: lxml's reading stands
    else:
        root = html5.build(page.source.text)  # as the HTML standard builds it
    if root is not None:
        _read_tree(page, root)
        page.reread = why
        found = _read_links(page, domain)
    return found


def _read_links(page: Page, domain: str) -> list[Link]:
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
        anchor = anchor_text(el, standard=page.reread is not None)
        found.append(Link(url, rel_tokens(el.get("rel")), anchor, position, el))
    return found
