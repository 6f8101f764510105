"""html5lib's lxml tree builder for the standard's re-read (verifier/verdict/html5.py):
linear where html5lib's is quadratic, and writing only what an lxml tree can hold."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator, MutableMapping
from typing import Any

from lxml import etree

from verifier.verdict import standard

#: Characters an lxml tree cannot hold (C0 controls, U+FFFE): a browser keeps them as
#: text or in attributes, where no verdict reads them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@functools.cache
def tree_builder() -> type:
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
    import html5lib  # type: ignore[import-untyped]

    class TreeBuilder(html5lib.getTreeBuilder("lxml")):  # type: ignore[misc]
        elementInScope = standard.element_in_scope

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
