"""lxml's HTML parser as backcheck configures it, one per thread.

libxml2 (2.14, bundled with lxml) tokenizes as the HTML standard does but builds the
tree by its own older rules; where those differ from the standard's and what that
changes for a verdict is measured by tests/test_html5lib_conformance.py.
"""

from __future__ import annotations

import re
import threading
import warnings
from typing import Any

from lxml import etree

from verifier.verdict import nulls

#: `huge_tree`: libxml2 otherwise stops at a nesting depth of 256 and drops the rest of
#: the page (300 unclosed `<b>` or `<font>` on old forum pages), where browsers keep it.
#: It also lifts libxml2's 10 MB text-node limit; bodies are capped by DOWNLOAD_MAXSIZE.
PARSER_OPTIONS: dict[str, bool | str] = {
    "encoding": "utf-8",
    "remove_comments": False,
    "huge_tree": True,
}
#: An http(s) URL with its own host, which no base can change (noise may split it;
#: the URL parser trims C0 controls and spaces, not other white space such as U+00A0).
ABSOLUTE_HTTP = re.compile(
    r"[\x00-\x20]*h[\t\n\r]*t[\t\n\r]*t[\t\n\r]*p[\t\n\r]*s?[\t\n\r]*:[\t\n\r]*/[\t\n\r]*/[\t\n\r]*[^/?#\s]",
    re.I,
)

_local = threading.local()


def html_parser() -> etree.HTMLParser:
    # One parser per thread: lxml parsers must not be shared between threads
    # (the crawler parses in one thread, other callers may not). Plain etree, not lxml.html:
    # lxml.html looks up a Python element class for every node it hands out,
    # which costs more than the parse on link-heavy pages.
    parser: etree.HTMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.HTMLParser(**PARSER_OPTIONS)
    return parser


#: libxml2 (with `huge_tree`) stops building the tree at this nesting depth and drops
#: the rest of the page: a link after 2,100 unclosed `<b>` would be `link_removed`.
LIBXML2_MAX_DEPTH = 2048
#: Chromium nests its DOM no deeper (HTMLConstructionSite's
#: kMaximumHTMLParserDOMTreeDepth): an element opened deeper becomes the sibling of
#: the deepest one, and the page's content is kept. It also keeps each element's
#: ancestors few, which the readers climb.
BROWSER_MAX_DEPTH = 512
#: Why a tree was built past libxml2's limit (`Page.reread`).
DEEP = f"nested deeper than libxml2's {LIBXML2_MAX_DEPTH:,} levels"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


#: What lxml raises for markup it cannot read at all.
PARSE_ERRORS = (etree.ParserError, etree.XMLSyntaxError, ValueError)


def plain_tree(data: bytes) -> etree._Element | None:
    """lxml's tree of the page (libxml2 stops at a nesting of 2,048), None if unreadable.

    A NUL is dropped from text, as the standard drops it (`verifier.verdict.nulls`).
    """
    data, marker = nulls.mark(data)
    try:
        root: etree._Element | None = etree.fromstring(data, html_parser())
    except PARSE_ERRORS:
        return None
    if root is not None and marker is not None:
        nulls.mend(root, marker)
    return root


def parse_html(data: bytes) -> tuple[etree._Element | None, bool]:
    """The page's tree (None if unreadable), and whether it was built past libxml2's
    nesting limit.

    A page nested as deep as libxml2's limit is parsed again with libxml2 as the
    tokenizer (and its rules for implied end tags) and the tree built by `_CappedTree`,
    which nests as Chromium does, so nothing after the deep part is lost.
    """
    root = plain_tree(data)
    if root is None or _depth_of_last(root) < LIBXML2_MAX_DEPTH - 8:
        return root, False
    deep = capped_tree(data)
    return (deep, True) if deep is not None else (root, False)


def capped_tree(data: bytes) -> etree._Element | None:
    """libxml2's reading of the page, with no depth limit, built as Chromium builds it
    (`_CappedTree`): content after `</html>` in the body, as browsers put it. None if
    unreadable. A NUL is dropped from text, as in `plain_tree`."""
    data, marker = nulls.mark(data)
    try:
        tree: etree._Element | None = etree.fromstring(
            data, etree.HTMLParser(target=_CappedTree(BROWSER_MAX_DEPTH), **PARSER_OPTIONS)
        )
    except PARSE_ERRORS:
        return None
    if tree is not None and marker is not None:
        nulls.mend(tree, marker)
    return tree


def _depth_of_last(root: etree._Element) -> int:
    """The depth of the last element in document order: where libxml2 stopped, if it did
    (each of that element's ancestors was still open, so is its parent's last child)."""
    depth, el = 1, root
    for sibling in root.itersiblings():  # after `</html>`, libxml2 goes on beside the root
        el = sibling
    while len(el):
        el = el[-1]
        depth += 1
    return depth


class _CappedTree:
    """A parser target building the tree libxml2 reports, nested at most `cap` deep.

    As in Chromium, an element opened below an element `cap` deep is attached
    beside it (to its parent) and still closes as written; text goes to the element
    that is open. libxml2 calls `end` for every element it closes, implied or not.
    """

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._root: etree._Element | None = None
        self._open: list[tuple[etree._Element, int, str]] = []  # (element, depth, tag)
        self._text: list[str] = []
        # Text for each node's text or tail, written at `close`: past the cap, the text
        # between thousands of elements goes to one open element, and writing it each
        # time (a copy of all of it) was quadratic.
        self._slots: dict[tuple[etree._Element, str], list[str]] = {}
        self._before_root: list[etree._Element] = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._flush()
        if self._root is None:
            self._root = self._element(None, tag, attrib)
            for node in self._before_root:
                self._root.addprevious(node)
            self._open.append((self._root, 1, tag))
            return
        if tag == "html":  # another <html>: its attributes join the root's, as in browsers
            for name, value in attrib.items():
                if self._root.get(name) is None:
                    try:
                        self._root.set(name, value)
                    except ValueError:
                        continue  # a name or value lxml refuses: nothing a verdict reads
            self._open.append((*self._after_root(), tag))
            return
        parent, depth = self._open[-1][:2] if self._open else self._after_root()
        if depth >= self._cap:
            parent, depth = parent.getparent(), depth - 1
        self._open.append((self._element(parent, tag, attrib), depth + 1, tag))

    def end(self, tag: str) -> None:
        self._flush()
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][2] == tag:
                del self._open[i:]
                return

    def data(self, text: str) -> None:
        self._text.append(text)

    def comment(self, text: str) -> None:
        self._node(etree.Comment, text)

    def pi(self, target: str, data: str | None = None) -> None:
        self._node(etree.ProcessingInstruction, target, data)

    def close(self) -> etree._Element | None:
        self._flush()
        for (node, slot), parts in self._slots.items():
            setattr(node, slot, "".join(parts))
        self._slots.clear()
        return self._root

    def _after_root(self) -> tuple[etree._Element, int]:
        # Content after `</html>`: browsers put it in the body.
        assert self._root is not None
        body = self._root.find("body")
        return (body, 2) if body is not None else (self._root, 1)

    def _node(self, make: Any, *args: str | None) -> None:
        try:
            node = make(*args)
        except ValueError:
            return  # "--" in a comment, a PI name lxml refuses: nothing a verdict reads
        self._flush()
        if self._root is None:
            self._before_root.append(node)
        else:
            (self._open[-1] if self._open else self._after_root())[0].append(node)

    def _flush(self) -> None:
        if not self._text:
            return
        text = _NOT_XML.sub("\ufffd", "".join(self._text))
        self._text.clear()
        if self._root is None:
            return  # libxml2 opens <html> before any text
        node = self._open[-1][0] if self._open else self._after_root()[0]
        try:  # the last child from the end: len() counts them all (a cap's parent has many)
            place = (node[-1], "tail")
        except IndexError:
            place = (node, "text")
        self._slots.setdefault(place, []).append(text)

    @staticmethod
    def _element(parent: etree._Element | None, tag: str, attrib: dict[str, str]) -> etree._Element:
        try:
            if parent is None:
                return etree.Element(tag, attrib)
            return etree.SubElement(parent, tag, attrib)
        except ValueError:  # a name or value lxml refuses (`<a b"c=d>`, `<x:y>`, controls)
            from html5lib._ihatexml import InfosetFilter  # type: ignore[import-untyped]

            names = InfosetFilter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # DataLossWarning: the renaming, meant here
                clean = {
                    names.coerceAttribute(k): _NOT_XML.sub("\ufffd", v) for k, v in attrib.items()
                }
                name = names.coerceElement(tag)
            if parent is None:
                return etree.Element(name, clean)
            return etree.SubElement(parent, name, clean)
