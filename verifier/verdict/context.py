"""Evidence of a link: its HTML, and the text around it on the page."""

from __future__ import annotations

from lxml import etree

from verifier.models import Link
from verifier.verdict.page import TEXT_SKIP, collect_text, fold

CONTEXT_CHARS = 100
LINK_HTML_CHARS = 1000


def link_html(link: Link) -> str:
    """The link's outer HTML, truncated."""
    html: str = etree.tostring(link.element, method="html", with_tail=False, encoding="unicode")
    return html[:LINK_HTML_CHARS]


def _content(el: etree._Element) -> str:
    """textContent of a sibling, without script/style/template text."""
    if not isinstance(el.tag, str) or el.tag in TEXT_SKIP:
        return ""
    parts: list[str] = []
    collect_text(el, parts)
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
