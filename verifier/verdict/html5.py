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
browser's (`misread_links`: a `<frameset>` page, a link around or inside a table).
The re-read is html5lib's, with scripting on, into an lxml tree like lxml's own
(HTML elements and SVG/MathML ones alike without a namespace), so the rest of
`verifier.verdict` reads it unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import re
import warnings
from collections.abc import Iterator, MutableMapping
from typing import Any

from lxml import etree

from verifier.verdict import absence

#: Elements libxml2 always reads as raw text up to their end tag; browsers do so only
#: in HTML content, not inside <svg> or <math>, and a <noscript> ends them with itself.
_RAW_TEXT = (
    *("title", "style", "textarea", "xmp", "iframe", "noembed", "noframes", "plaintext"),
    "script",  # raw text in HTML only: in <svg>/<math>, `</svg>` ends it too
)
_ENDS_RAW_TEXT = frozenset({"svg", "math", "noscript"})
#: What may follow the first `</html>` without anything being lost.
_TRAILER = re.compile(rb"(?:\s|</?(?:body|html)\b[^>]*>|<!--.*?-->)*", re.S)
#: What a <noscript> usually holds, which lxml reads no differently for a link after it.
_USUAL_IN_NOSCRIPT = frozenset(
    {"a", "img", "iframe", "link", "meta", "style", "p", "div", "span", "br", "b", "i"}
    | {"strong", "em", "source", "picture", "h1", "h2", "h3", "center", "font"}
)
_TABLE_PARTS = frozenset({"table", "tbody", "thead", "tfoot", "tr"})
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: `_NOT_XML` but NUL, which html5lib reads as the standard does (dropped from text,
#: U+FFFD elsewhere): replaced beforehand, it stayed in a link's text as U+FFFD.
_NOT_XML_BUT_NUL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_FOREIGN = ("{http://www.w3.org/2000/svg}*", "{http://www.w3.org/1998/Math/MathML}*")


def lost_content(
    root: etree._Element, source: absence.Source, domain: str, base_on_site: bool
) -> str | None:
    """Why lxml's tree of `source` may lack a link to `domain` a browser has, or None.

    The lost part must name `domain`, or hold any link when relative links land on
    the site (`base_on_site`).
    """
    named = ("<a", "<area") if base_on_site else (domain,)
    squeezed = source.squeezed()
    end = squeezed.find(b"</html")
    if end != -1 and any(name.encode() in squeezed[end:] for name in named):
        close = squeezed.find(b">", end)
        if close == -1 or _TRAILER.fullmatch(squeezed, close + 1) is None:
            return "content after </html>"
    if root.find(".//template") is not None:
        return "<template>"  # lxml builds its contents as if outside it (tables above all)
    for noscript in root.iter("noscript"):
        # Raw text for browsers that run scripts, markup for lxml: beyond the usual
        # tracking pixel or fallback link, lxml's reading may run past its end.
        for el in noscript.iterdescendants():
            if isinstance(el.tag, str) and el.tag not in _USUAL_IN_NOSCRIPT:
                return f"<{el.tag}> in <noscript>"
    for el in root.iter(*_RAW_TEXT):
        text = el.text
        if (
            text
            and "<" in text
            and next(el.iterancestors(*_ENDS_RAW_TEXT), None) is not None
            and any(name in text.lower() for name in named)
        ):
            return f"<{el.tag}> swallowed the page"
    return None


#: End tags that end the head for the standard (robots metas after them are the
#: body's) and that lxml drops there: `</br>` (read as `<br>`), `</body>`, `</html>`.
_HEAD_ENDERS = (b"</br", b"</body", b"</html")


def head_ends_early(data: bytes) -> bool:
    """Whether the head may end sooner for the standard than for lxml: one of
    `_HEAD_ENDERS` in it. Looked for before the first `<body` and the first `</head`
    only (a page without a `<body>` tag ends with its `</body></html>`: not in its head).

    >>> head_ends_early(b"<head><title>t</title></body><meta></head><p>x")
    True
    >>> head_ends_early(b"<head><title>t</title></head><p>x</p></body></html>")
    False
    """
    end = len(data)
    for spelling in (b"<body", b"<BODY", b"<Body", b"</head", b"</HEAD", b"</Head"):
        found = data.find(spelling, 0, end)
        if found != -1:
            end = found
    head = data[: min(end, 65536)].lower()
    return any(tag in head for tag in _HEAD_ENDERS)


#: How much of a page a head-only read looks at when no `<body` tag ends its head.
HEAD_CHARS = 65536
_BODY_TAG = re.compile("<body", re.IGNORECASE)


def head_length(text: str) -> int:
    """Where the page's `<body` tag starts (at most HEAD_CHARS in): its head, for a read
    of the head alone by the standard's rules.

    >>> head_length("<title>x</title><BODY><p>y"), head_length("<p>no body tag")
    (16, 14)
    """
    found = _BODY_TAG.search(text, 0, HEAD_CHARS)
    return found.start() if found else min(len(text), HEAD_CHARS)


def misread_links(root: etree._Element, links: list[etree._Element]) -> str | None:
    """Why the links lxml found (`links`) may not be a browser's, or None.

    A `<frameset>` replaces the body for a browser (when nothing came before it)
    and ignores links inside it; lxml keeps them all. Around tables lxml closes an
    `<a>` where a table starts (browsers keep the table inside the link, and the
    text after it) and leaves an `<a>` written between table rows where it stands
    (browsers move it before the table, the rows' text in it apart): other links
    and anchor texts. (A link followed by a table is also read again: cheap enough,
    as it is rare, and the reading is the standard's either way.)
    """
    body = root.find("body")
    if root.find("frameset") is not None or (
        body is not None and body.find("frameset") is not None
    ):
        return "<frameset>"  # lxml puts one after hidden inputs or <param>s in the body
    for el in links:
        parent = el.getparent()
        if parent is not None and parent.tag in _TABLE_PARTS:
            return "<a> in a <table>"
        following = el.getnext()
        if following is not None and following.tag == "table":
            return "<a> before a <table>"
    return None


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

    parser = _parser_class()(tree=_tree_builder(), namespaceHTMLElements=False)
    # Characters an lxml tree cannot hold (C0 controls, U+FFFE): a browser keeps them as
    # text, where no verdict reads them; unreplaced, the whole re-read failed.
    text = _NOT_XML_BUT_NUL.sub("\ufffd", text)
    try:
        with warnings.catch_warnings():
            # Names lxml cannot hold (`<a b"c=d>`) are renamed: nothing a verdict reads.
            warnings.simplefilter("ignore", html5lib.constants.DataLossWarning)
            document = parser.parse(text, scripting=True)
    except (ValueError, TypeError):
        return None
    root: etree._Element = document.getroot()
    for el in root.iter(*_FOREIGN):
        el.tag = etree.QName(el).localname  # lxml reads <svg><a> as `a` too
    return root


#: html5lib's phases for which the standard ends a template at `</template>` (the other
#: phases hand an end tag they do not know to one of these, as the standard does).
_ENDS_TEMPLATES = ("inHead", "afterHead", "inBody", "inTable", "inColumnGroup", "inSelect")


@functools.cache
def _parser_class() -> type:
    """html5lib's parser, with `</template>` read as the standard reads it.

    html5lib 1.1 predates `<template>`: it reads `</template>` as any other end tag,
    which an open `<div>` (or any element the standard calls special) inside the
    template stops, so the template stayed open and what followed, a link above all,
    was inside it (inert). The standard ends the template there: it pops the elements
    up to and including the template, clears the formatting elements opened in it, and
    resets the insertion mode. Only our parser's phases are replaced, not html5lib's.
    """
    import html5lib

    class Parser(html5lib.HTMLParser):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            for name in _ENDS_TEMPLATES:
                self.phases[name] = _ending_templates(self.phases[name].__class__)(self, self.tree)

    return Parser


@functools.cache
def _ending_templates(phase: Any) -> type:
    """`phase` (an html5lib phase class), reading `</template>` as the standard does."""

    def processEndTag(self: Any, token: dict[str, Any]) -> Any:  # html5lib's name
        if token["name"] != "template":
            return phase.processEndTag(self, token)
        _end_template(self.parser)
        return None

    return type(phase.__name__, (phase,), {"__slots__": (), "processEndTag": processEndTag})


def _end_template(parser: Any) -> None:
    """The standard's `</template>` ("in head"): nothing when no template is open."""
    tree = parser.tree
    stack = tree.openElements
    for index in range(len(stack) - 1, 0, -1):
        if stack[index].name == "template" and stack[index].namespace == tree.defaultNamespace:
            break
    else:
        return
    template = stack[index]._element
    del stack[index:]
    # html5lib sets no marker at `<template>`: what was opened in it is what is in it.
    tree.activeFormattingElements[:] = [
        entry
        for entry in tree.activeFormattingElements
        if entry is None or template not in entry._element.iterancestors()
    ]
    parser.resetInsertionMode()


@functools.cache
def _tree_builder() -> type:
    """html5lib's lxml tree builder, made linear where it was quadratic.

    - The two inserts of "foster parenting" (content misplaced in a `<table>` goes
      before the table): html5lib finds the table's place by copying its parent's
      children into a list and searching it. A page of 16,000 links around tables
      (0.9 MB) took 39 s of CPU to read again; lxml knows each element's previous
      sibling.
    - Text: html5lib appends each character token to the node's text or tail
      (`text += data`, a copy of all of it each time) after counting the parent's
      children (`len()` walks them in lxml). Runs of text going to one place are
      kept in `_Pending` and written once, before anything else touches the tree:
      20,000 links with text between them took 15 s (0.7 MB), a text cut by NULs 27 s
      (0.3 MB).
    """
    import html5lib

    class TreeBuilder(html5lib.getTreeBuilder("lxml")):  # type: ignore[misc]
        def __init__(self, namespaceHTMLElements: bool, fullTree: bool = False) -> None:
            super().__init__(namespaceHTMLElements, fullTree)
            element: Any = self.elementClass  # type: ignore[has-type]
            coerce = self.infosetFilter.coerceCharacters
            pending = self.pending = _Pending()

            class Element(element):  # type: ignore[misc]
                def __init__(self, name: str, namespace: str | None) -> None:
                    super().__init__(name, namespace)
                    self._attributes = _XmlSafe(self._attributes)  # type: ignore[has-type]

                def insertBefore(self, node: Any, refNode: Any) -> None:
                    pending.flush()
                    refNode._element.addprevious(node._element)
                    node.parent = self

                def insertText(self, data: str, insertBefore: Any = None) -> None:
                    data = _NOT_XML.sub("\ufffd", coerce(data))  # `&#1;` comes as a \x01
                    if insertBefore is None:
                        try:  # the last child from the end, in constant time
                            last = self._element[-1]
                        except IndexError:
                            pending.add(self._element, "text", data)
                        else:
                            pending.add(last, "tail", data)
                        return
                    pending.flush()
                    previous = insertBefore._element.getprevious()
                    if previous is not None:  # the text goes in the tail of what precedes
                        previous.tail = (previous.tail or "") + data
                    else:
                        self._element.text = (self._element.text or "") + data

                def appendChild(self, node: Any) -> None:
                    pending.flush()
                    element.appendChild(self, node)

                def removeChild(self, node: Any) -> None:
                    pending.flush()
                    element.removeChild(self, node)

                def reparentChildren(self, newParent: Any) -> None:
                    pending.flush()
                    element.reparentChildren(self, newParent)

                def cloneNode(self) -> Any:
                    pending.flush()
                    return element.cloneNode(self)

                def hasContent(self) -> bool:
                    pending.flush()
                    return bool(element.hasContent(self))

            self.elementClass = Element

        def getDocument(self) -> Any:
            self.pending.flush()
            return super().getDocument()

    return TreeBuilder


class _XmlSafe(MutableMapping[Any, str]):
    """An element's attributes in html5lib's lxml tree builder, set as lxml can hold them.

    A value may hold what an lxml tree cannot (`title="a&#1;b"`: a character reference
    to a C0 control or U+FFFF is kept by the standard): lxml refused it and the whole
    re-read failed, losing the link. Such characters are U+FFFD, as in text; a name
    lxml refuses even as html5lib renames it is dropped. Nothing a verdict reads.
    """

    def __init__(self, attributes: MutableMapping[Any, str]) -> None:
        self._attributes = attributes

    def __setitem__(self, key: Any, value: str) -> None:
        with contextlib.suppress(ValueError, TypeError):  # a name lxml cannot hold
            self._attributes[key] = _NOT_XML.sub("\ufffd", value)

    def __getitem__(self, key: Any) -> str:
        return self._attributes[key]

    def __delitem__(self, key: Any) -> None:
        del self._attributes[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._attributes)

    def __len__(self) -> int:
        return len(self._attributes)

    def clear(self) -> None:
        self._attributes.clear()


class _Pending:
    """Text on its way to one node's text or tail, written at once (`flush`)."""

    def __init__(self) -> None:
        self.node: etree._Element | None = None
        self.slot = ""
        self.parts: list[str] = []

    def add(self, node: etree._Element, slot: str, data: str) -> None:
        if node is not self.node or slot != self.slot:
            self.flush()
            self.node, self.slot = node, slot
        self.parts.append(data)

    def flush(self) -> None:
        if self.node is not None and self.parts:
            joined = "".join(self.parts)
            setattr(self.node, self.slot, (getattr(self.node, self.slot) or "") + joined)
        self.node, self.parts = None, []
