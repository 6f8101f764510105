"""U+0000 (NUL) in a page, read as the HTML standard reads it.

The standard's tokenizer turns a NUL into U+FFFD in tag and attribute names, attribute
values, comments and raw text (`<title>`, `<textarea>`, `<script>`, `<style>` …); in
other text it hands the NUL on, and tree construction drops it ("in body": a U+0000
character token is ignored), but in SVG/MathML, where it is U+FFFD: `Ac<NUL>me` reads
"Acme" in a browser. libxml2 turns every NUL into U+FFFD, and its tree cannot tell that
U+FFFD from one written in the page or from `&#0;` (U+FFFD for the standard too). So a
NUL is handed to libxml2 as a marker, a noncharacter the page does not use (`mark`),
and the tree is mended after the parse (`mend`): the marker dropped from text, U+FFFD
everywhere else.

Pages rarely hold a NUL: the others pay one search of their bytes.
"""

from __future__ import annotations

import re

from lxml import etree

#: Noncharacters: never meant to be in a page, kept by libxml2 wherever they stand.
_MARKERS = tuple(chr(code) for code in range(0xFDD0, 0xFDF0))
#: Elements whose text the tokenizer reads as raw text or RCDATA (a NUL in it is U+FFFD);
#: `<noscript>` is raw text with scripting on, as Google renders.
_RAW = frozenset(
    {"title", "textarea", "style", "script", "xmp", "iframe", "noembed", "noframes"}
    | {"noscript", "plaintext"}
)
#: Inside SVG or MathML, where text is HTML's again (the standard's integration points).
_HTML_AGAIN = {
    "svg": frozenset({"foreignobject", "desc", "title"}),
    "math": frozenset({"mi", "mo", "mn", "ms", "mtext"}),
}
_HTML_ENCODINGS = ("text/html", "application/xhtml+xml")  # of an <annotation-xml>
_REPLACEMENT = "\ufffd"
#: What libxml2 keeps in its tree and lxml refuses to write back (C0 controls).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def mark(data: bytes) -> tuple[bytes, str | None]:
    """`data` (UTF-8) with each NUL as a marker the page does not use, and the marker;
    `data` itself and None when it holds no NUL (or uses every marker: then libxml2's
    U+FFFD stays).

    >>> mark(b"a\\x00b")
    (b'a\\xef\\xb7\\x90b', '\\ufdd0')
    >>> mark(b"ab")
    (b'ab', None)
    """
    if b"\x00" not in data:
        return data, None
    for marker in _MARKERS:
        encoded = marker.encode()
        if encoded not in data:
            return data.replace(b"\x00", encoded), marker
    return data, None


def mend(root: etree._Element, marker: str) -> None:
    """Drop `marker` from the text of `root`'s document where the standard drops a NUL;
    make it U+FFFD elsewhere (attributes, tag names, comments, raw and foreign text)."""
    # One walk over every node: measured 0.08 s for 250,000 (XPath's `contains()`
    # took longer). Nodes beside the root are there after `</html>` (libxml2's place).
    modes: dict[etree._Element, str] = {}
    for top in (*root.itersiblings(preceding=True), root, *root.itersiblings()):
        for el in top.iter():
            tail = el.tail
            if tail and marker in tail:
                parent = el.getparent()
                keep = parent is not None and not _drops_nul(parent, modes)
                _write(el, "tail", tail.replace(marker, _REPLACEMENT if keep else ""))
            text = el.text
            tag = el.tag
            if not isinstance(tag, str):  # a comment or processing instruction
                if text and marker in text:
                    _write(el, "text", text.replace(marker, _REPLACEMENT))
                continue
            if text and marker in text:
                replacement = "" if _drops_nul(el, modes) else _REPLACEMENT
                _write(el, "text", text.replace(marker, replacement))
            if marker in tag:
                _write(el, "tag", tag.replace(marker, _REPLACEMENT))
            items = el.items()
            if items and any(marker in name or marker in value for name, value in items):
                _mend_attributes(el, items, marker)


def _mend_attributes(el: etree._Element, items: list[tuple[str, str]], marker: str) -> None:
    """U+FFFD for `marker` in `el`'s attribute names and values."""
    el.attrib.clear()  # set anew, in the page's order
    for name, value in items:
        name, value = name.replace(marker, _REPLACEMENT), value.replace(marker, _REPLACEMENT)
        try:
            el.set(name, value)
        except ValueError:  # a C0 control beside the NUL
            el.set(_NOT_XML.sub(_REPLACEMENT, name), _NOT_XML.sub(_REPLACEMENT, value))


def _write(node: etree._Element, slot: str, value: str) -> None:
    """`node.<slot> = value`; where lxml refuses a character libxml2 kept beside the
    NUL (a C0 control), that character is U+FFFD: nothing a verdict reads."""
    try:
        setattr(node, slot, value)
    except ValueError:
        setattr(node, slot, _NOT_XML.sub(_REPLACEMENT, value))


def _drops_nul(el: etree._Element, modes: dict[etree._Element, str]) -> bool:
    """Whether the standard drops a NUL in text whose parent is `el`: in HTML content,
    not raw text; in SVG or MathML only inside an integration point. `modes` keeps each
    element's content mode found (for the next text in it)."""
    chain = []
    node: etree._Element | None = el
    while node is not None and node not in modes:
        chain.append(node)
        node = node.getparent()
    mode = "html" if node is None else modes[node]
    for node in reversed(chain):
        mode = modes[node] = _content_mode(mode, node)
    return mode == "html"


def _content_mode(outer: str, el: etree._Element) -> str:
    """How the standard reads text in `el`, in content read as `outer`: "html", "raw",
    or the foreign element's name ("svg", "math")."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if outer == "raw":
        return outer  # raw text to its end, whatever lxml built inside it
    if tag in _HTML_AGAIN:
        return tag
    if outer == "html":
        return "raw" if tag in _RAW else outer
    if tag in _HTML_AGAIN[outer] or (
        tag == "annotation-xml" and el.get("encoding", "").lower() in _HTML_ENCODINGS
    ):
        return "html"
    return outer
