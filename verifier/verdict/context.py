"""Evidence of a link: its HTML, and the text around it on the page."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from verifier.models import Link
from verifier.verdict.page import TEXT_SKIP, fold

CONTEXT_CHARS = 100
LINK_HTML_CHARS = 1000


def link_html(link: Link) -> str:
    """The link's outer HTML, truncated."""
    html: str = etree.tostring(link.element, method="html", with_tail=False, encoding="unicode")
    return html[:LINK_HTML_CHARS]


def _forward(el: etree._Element) -> Iterator[str]:
    """The pieces of `el`'s textContent (no script/style/template text), in order."""
    if el.text:
        yield el.text
    stack = [(el, iter(el))]
    while stack:
        parent, children = stack[-1]
        for node in children:
            if isinstance(node.tag, str) and node.tag not in TEXT_SKIP:
                if node.text:
                    yield node.text
                if len(node):
                    stack.append((node, iter(node)))  # its tail comes after its children
                    break
            if node.tail:
                yield node.tail
        else:
            stack.pop()
            if stack and parent.tail:
                yield parent.tail


def _backward(el: etree._Element) -> Iterator[str]:
    """The pieces of `el`'s textContent, last first."""
    stack = [(el, reversed(el))]
    while stack:
        parent, children = stack[-1]
        for node in children:
            if node.tail:
                yield node.tail
            if isinstance(node.tag, str) and node.tag not in TEXT_SKIP:
                if len(node):
                    stack.append((node, reversed(node)))  # its text comes after its children
                    break
                if node.text:
                    yield node.text
        else:
            stack.pop()
            if parent.text:
                yield parent.text


def _content(el: etree._Element, chars: int, last: bool = False) -> str:
    """The start (or with `last`, the end) of a sibling's textContent, without
    script/style/template text: enough pieces to hold `chars` visible characters.

    Not the whole of it: the sibling may be the rest of the page (tables nested
    unclosed), and each of a page's links would read it again.
    """
    if not isinstance(el.tag, str) or el.tag in TEXT_SKIP:
        return ""
    pieces: list[str] = []
    seen = 0  # characters that are not white space (`fold` keeps each of them)
    for piece in _backward(el) if last else _forward(el):
        pieces.append(piece)
        seen += len("".join(piece.split()))
        if seen >= chars:
            break
    return "".join(reversed(pieces) if last else pieces)


def _text_before(el: etree._Element, chars: int) -> str:
    pieces: list[str] = []  # collected backwards, from the link outwards
    size = 0
    node = el
    while size < chars:
        prev = node.getprevious()
        while prev is not None and size < chars:
            for text in (prev.tail, _content(prev, chars, last=True)):
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
            for text in (_content(following, chars), following.tail):
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
