"""Read a page again by the HTML standard's tree construction where lxml's tree differs.

libxml2 (lxml) tokenizes as the HTML standard does but builds its tree by older rules
of its own, and in a few places that loses what follows: everything after a stray
`</html>` is dropped, and an unclosed `<title>` or `<style>` inside `<svg>`/`<math>`, or
an unclosed `<iframe>` inside a `<noscript>` (raw text for a browser that runs
scripts, as Google's renderer does) swallows the rest of the page as text. A link to
the site there is `link_removed` for lxml and live for a browser.

Re-reading every page this way would cost about 40 times lxml's parse (html5lib is
pure Python), so `page.links_to` asks only when lxml found no link to a site whose
name the page's bytes carry, and `lost_content` finds lxml's tree lost content
there, or when lxml found links where its tree is known to differ from a
browser's (`misread_links`: a link around or inside a table),
or lost another beside those it found (`lost_beside`: no scan of the bytes).
The re-read is html5lib's, with scripting on, into an lxml tree like lxml's own
(HTML elements and SVG/MathML ones alike without a namespace), so the rest of
`verifier.verdict` reads it unchanged: `verifier.verdict.standard` brings html5lib's
parser to today's standard, `verifier.verdict.treebuilder` builds the tree.
"""

from __future__ import annotations

import re
import warnings

from lxml import etree

from verifier.verdict import standard, treebuilder

#: Elements libxml2 always reads as raw text up to their end tag; browsers do so only
#: in HTML content, not inside <svg> or <math>, and a <noscript> ends them with itself.
_RAW_TEXT = (
    *("title", "style", "textarea", "xmp", "iframe", "noembed", "noframes", "plaintext"),
    "script",  # raw text in HTML only: in <svg>/<math>, `</svg>` ends it too
)
_ENDS_RAW_TEXT = frozenset({"svg", "math", "noscript"})
_FOREIGN_ROOTS = ("svg", "math")
#: What `swallowed` looks at in every tree it is asked about.
_LOOKED_AT = ("template", "noscript", *_RAW_TEXT)
#: What a <noscript> usually holds, which lxml reads no differently for a link after it.
_USUAL_IN_NOSCRIPT = frozenset(
    {"a", "img", "iframe", "link", "meta", "style", "p", "div", "span", "br", "b", "i"}
    | {"strong", "em", "source", "picture", "h1", "h2", "h3", "center", "font"}
)
_TABLE_PARTS = frozenset({"table", "tbody", "thead", "tfoot", "tr"})
#: Characters an lxml tree cannot hold (C0 controls, U+FFFE), replaced before the
#: re-read, but NUL, which html5lib reads as the standard does (dropped from text,
#: U+FFFD elsewhere): replaced beforehand, it stayed in a link's text as U+FFFD.
_NOT_XML_BUT_NUL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_MATHML = "http://www.w3.org/1998/Math/MathML"
_FOREIGN = ("{http://www.w3.org/2000/svg}*", f"{{{_MATHML}}}*")
#: What a MathML `<a>` is called in a re-read tree: an element like any, not a link (it
#: navigates nowhere in a browser; lxml's tree cannot tell it from HTML's `<a>`).
MATHML_A = "math-a"


def lost_content(root: etree._Element, domain: str, base_on_site: bool) -> str | None:
    """Why lxml's tree may lack a link to `domain` a browser has, or None.

    The lost part must name `domain`, or hold any link when relative links land on
    the site (`base_on_site`).
    """
    named = _named(domain, base_on_site)
    return _after_end(root, named) or swallowed(root, named)


def swallowed(
    root: etree._Element, named: tuple[str, ...], *, links_found: bool = False
) -> str | None:
    """Why lxml's tree may have run past an element's end where a browser does not,
    where the lost part names one of `named`; None if it did not. One walk, in C.

    With `links_found` (lxml found links to the site), also where lxml read as markup
    what a browser does not: a `<frameset>` (anywhere: lxml nests one in a `<source>`
    or `<track>`, which it does not know as void), an unterminated CDATA section in
    `<svg>`/`<math>`, and a `<nobr>` in a `<nobr>`.
    """
    tags = (*_LOOKED_AT, "frameset", "nobr", etree.Comment) if links_found else _LOOKED_AT
    for el in root.iter(*tags):
        tag = el.tag
        if tag is etree.Comment:
            # lxml ends `<![CDATA[` at the first `>` as a bogus comment; in foreign
            # content the standard reads text up to `]]>`, markup and links included.
            text = el.text or ""
            if (
                text.startswith("[CDATA[")
                and not text.endswith("]]")
                and next(el.iterancestors(*_FOREIGN_ROOTS), None) is not None
            ):
                return "<![CDATA[ in <svg>/<math>"
            continue
        if tag == "frameset":
            return "<frameset>"  # the standard decides: a frameset page, or one ignored
        if tag == "nobr":
            # A <nobr> opened in an open one runs the standard's adoption agency, which
            # across a link's `</a>` makes copies of the link that lxml never makes.
            if next(el.iterancestors("nobr"), None) is not None:
                return "<nobr> in <nobr>"
            continue
        if tag == "template":
            return "<template>"  # lxml builds its contents as if outside it (tables above all)
        if tag == "noscript":
            # Raw text for browsers that run scripts, markup for lxml: beyond the usual
            # tracking pixel or fallback link, lxml's reading may run past its end.
            for inner in el.iterdescendants():
                if isinstance(inner.tag, str) and inner.tag not in _USUAL_IN_NOSCRIPT:
                    return f"<{inner.tag}> in <noscript>"
            continue
        text = el.text
        if (
            text
            and "<" in text
            and next(el.iterancestors(*_ENDS_RAW_TEXT), None) is not None
            and any(name in text.lower() for name in named)
        ):
            return f"<{tag}> swallowed the page"
    return None


def lost_beside(root: etree._Element, domain: str, base_on_site: bool) -> str | None:
    """Why lxml's tree, which holds links to `domain`, may lack others a browser sees
    or hold links a browser does not.

    `lost_content` for a page lxml found links on, without a scan of its bytes:
    libxml2 keeps what follows a stray `</html>` as sibling `<html>` elements of the
    root (browsers read it into the body), so a look at the root's siblings says
    whether a link went there.
    """
    named = _named(domain, base_on_site)
    return _after_end(root, named) or swallowed(root, named, links_found=True)


def _named(domain: str, base_on_site: bool) -> tuple[str, ...]:
    """What lost content must hold to matter: the domain, or any link when relative
    links land on the site."""
    return ("<a", "<area") if base_on_site else (domain,)


def _after_end(root: etree._Element, named: tuple[str, ...]) -> str | None:
    """Why what follows a stray `</html>` may be lost, where it names one of `named`.

    libxml2 keeps it as sibling `<html>` elements of the root (no scan of the bytes
    needed), where browsers read it into the body.
    """
    for sibling in root.itersiblings():
        if isinstance(sibling.tag, str):
            markup = etree.tostring(sibling, encoding=str).lower()
            if any(name in markup for name in named):
                return "content after </html>"
    return None


#: How much of a page a head-only read looks at when no `<body` tag ends its head.
HEAD_CHARS = 65536
#: End tags that end the head for the standard (robots metas after them are the
#: body's) and that lxml drops there: `</br>` (read as `<br>`), `</body>`, `</html>`.
_HEAD_ENDERS = re.compile(rb"</(?:br|body|html)", re.IGNORECASE)
#: Where the head ends at the latest, for this question.
_HEAD_END = re.compile(rb"<body|</head", re.IGNORECASE)


def head_ends_early(data: bytes) -> bool:
    """Whether the head may end sooner for the standard than for lxml: one of
    `_HEAD_ENDERS` in it. Looked for before the first `<body` and the first `</head`
    only (a page without a `<body>` tag ends with its `</body></html>`: not in its head),
    in the first 64 KB. Two regular expressions: a third of the time of six `find`s.

    >>> head_ends_early(b"<head><title>t</title></body><meta></head><p>x")
    True
    >>> head_ends_early(b"<head><title>t</title></head><p>x</p></body></html>")
    False
    """
    found = _HEAD_END.search(data, 0, HEAD_CHARS)
    end = found.start() if found else min(len(data), HEAD_CHARS)
    return _HEAD_ENDERS.search(data, 0, end) is not None


_BODY_TAG = re.compile("<body", re.IGNORECASE)


def head_length(text: str) -> int:
    """Where the page's `<body` tag starts (at most HEAD_CHARS in): its head, for a read
    of the head alone by the standard's rules.

    >>> head_length("<title>x</title><BODY><p>y"), head_length("<p>no body tag")
    (16, 14)
    """
    found = _BODY_TAG.search(text, 0, HEAD_CHARS)
    return found.start() if found else min(len(text), HEAD_CHARS)


def misread_links(links: list[etree._Element]) -> str | None:
    """Why the links lxml found (`links`) may not be a browser's, or None.

    Around tables lxml closes an `<a>` where a table starts (browsers keep the table
    inside the link, and the text after it) and leaves an `<a>` written between table
    rows where it stands (browsers move it before the table, the rows' text in it
    apart): other links and anchor texts. (A link followed by a table is also read
    again: cheap enough, as it is rare, and the reading is the standard's either way.)
    A link inside `<math>` may be MathML's `<a>`, which is no link (`MATHML_A`). An
    empty link with text after it may be one lxml closed early (`_text_follows`). A
    `<frameset>` page is `lost_beside`'s.
    """
    for el in links:
        if next(el.iterancestors("math"), None) is not None:
            return "<a> in <math>"  # MathML's own <a>, or an HTML one, by the standard's rules
        if not len(el) and not el.text and _text_follows(el):
            return "an empty <a> before text"
        parent = el.getparent()
        if parent is not None and parent.tag in _TABLE_PARTS:
            return "<a> in a <table>"
        following = el.getnext()
        if following is not None and following.tag == "table":
            return "<a> before a <table>"
    return None


def _text_follows(el: etree._Element) -> bool:
    """Whether text follows the empty link `el` before any element: where lxml may have
    closed it early and a browser has that text in it (or in a copy of it).

    libxml2 honours `<a href=x />` as a closed element (browsers ignore the `/` on an
    `<a>`: "sale" in `<a href=x />sale` is its text) and closes the `<a>` with an element
    it was opened in (`<b><a href=x></b> more`: the standard's adoption agency re-opens
    the link for " more"). An empty link before other markup (a logo's) is left alone.
    """
    node = el
    while True:
        if node.tail and not node.tail.isspace():
            return True
        parent = node.getparent()
        if parent is None or node.getnext() is not None:
            return False
        node = parent


#: Nesting beyond which a page is not read again: html5lib looks through its stack of
#: open elements at each tag, so its time grows with the square of the depth (20,000
#: nested `<div>`s, 0.1 MB, took 28 s). Chromium nests no deeper than 512.
MAX_DEPTH = 1024


#: Characters beyond which a page is not read again: html5lib reads ~6 µs a character
#: (measured: 512 KB of paragraphs 3 s, 1 MB of misnested `<b><i>` 7 s), and the read
#: holds the crawl's event loop, so a 10 MB page would stall every other page for a
#: minute (their timeouts firing meanwhile). Above it, lxml's reading stands.
MAX_CHARS = 2_000_000


def too_long(text: str) -> bool:
    """Whether `text` is too long to read again with html5lib (MAX_CHARS)."""
    return len(text) > MAX_CHARS


def too_deep(root: etree._Element, limit: int = MAX_DEPTH) -> bool:
    """Whether lxml's tree of the page nests deeper than `limit` (libxml2 stops at 2,048)."""
    stack = [(root, 1), *((sibling, 1) for sibling in root.itersiblings())]  # after </html>
    while stack:
        el, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in el if len(child))
    return False


def build(text: str) -> etree._Element | None:
    """The page's tree as the HTML standard builds it (scripting on), or None.

    The caller keeps a page nested deeper than MAX_DEPTH from here (`too_deep`).
    """
    import html5lib  # type: ignore[import-untyped]  # slow to import: only pages that need it pay

    parser = standard.parser_class()(tree=treebuilder.tree_builder(), namespaceHTMLElements=False)
    # Characters an lxml tree cannot hold (C0 controls, U+FFFE): a browser keeps them as
    # text, where no verdict reads them; unreplaced, the whole re-read failed.
    text = _NOT_XML_BUT_NUL.sub("\ufffd", text)
    try:
        with warnings.catch_warnings():
            # Names lxml cannot hold (`<a b"c=d>`) are renamed: nothing a verdict reads.
            warnings.simplefilter("ignore", html5lib.constants.DataLossWarning)
            document = parser.parse(text, scripting=True)
    except (ValueError, TypeError, AssertionError):
        # AssertionError: html5lib asserts its fragment-only paths are not reached, which
        # a page its phases do not foresee (a <template>'s corners) may reach.
        return None
    root: etree._Element = document.getroot()
    for el in root.iter(*_FOREIGN):
        name = etree.QName(el)
        # lxml reads <svg><a> as `a` too (a link for browsers); MathML's <a> is no link.
        el.tag = MATHML_A if name.localname == "a" and name.namespace == _MATHML else name.localname
    return root
