"""html5lib's parser, brought to today's HTML standard (the re-read of
verifier/verdict/html5.py): html5lib 1.1 (2020) predates `<template>` and the standard's
2025 relaxation of `<select>`, which Chromium ships (a link in a `<select>` is kept)."""

from __future__ import annotations

import functools
from typing import Any

#: html5lib's phases our parser replaces (the other phases hand what they do not know to
#: one of these, as the standard does).
_REPLACED = (
    *("inHead", "afterHead", "inBody", "inTable", "inColumnGroup"),
    *("inSelect", "inSelectInTable"),
)
#: Where a `<select>` now keeps a link: html5lib's phases that dropped `<a>`.
_SELECT_PHASES = frozenset({"InSelectPhase", "InSelectInTablePhase"})
#: Start tags a `<select>` keeps since 2025 that bear on links: the link, and a
#: `<plaintext>`, whose raw text swallows the rest of the page (links included).
_KEPT_IN_SELECT = frozenset({"a", "plaintext"})


@functools.cache
def parser_class() -> type:
    """html5lib's parser, with `<template>`, `</template>` and a link in a `<select>`
    read as the standard reads them.

    html5lib 1.1 predates `<template>`: it reads `</template>` as any other end tag,
    which an open `<div>` (or any element the standard calls special) inside the
    template stops, so the template stayed open and what followed, a link above all,
    was inside it (inert). The standard ends the template there: it pops the elements
    up to and including the template, clears the formatting elements opened in it, and
    resets the insertion mode. Only our parser's phases are replaced, not html5lib's.
    An `<a>` in a `<select>` is read by the body's rules: html5lib dropped the tag (and
    the link), which Chromium keeps since the standard's 2025 `<select>` changes.
    """
    import html5lib  # type: ignore[import-untyped]

    class Parser(html5lib.HTMLParser):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            for name in _REPLACED:
                self.phases[name] = _as_standard(self.phases[name].__class__)(self, self.tree)

    return Parser


@functools.cache
def _as_standard(phase: Any) -> type:
    """`phase` (an html5lib phase class), reading `<template>`, `</template>` and a
    link in a `<select>` as the standard does."""

    def processStartTag(self: Any, token: dict[str, Any]) -> Any:  # html5lib's name
        name = token["name"]
        if name in _KEPT_IN_SELECT and phase.__name__ in _SELECT_PHASES:
            return self.parser.phases["inBody"].processStartTag(token)
        if name != "template":
            return phase.processStartTag(self, token)
        # The standard's `<template>` sets frameset-ok to "not ok": a <frameset> after it
        # no longer replaces the body (html5lib let it).
        self.parser.framesetOK = False
        if phase.__name__ in _INSERTING_PHASES:
            _start_inserted(self.parser, token)
        elif (again := phase.processStartTag(self, token)) is not None:
            return again  # handed to the next phase (the head's end): inserted there
        # ... and puts a marker on the active formatting elements: an <a> or <b> open
        # before the template is not closed or re-opened from inside it.
        self.tree.activeFormattingElements.append(None)
        return None

    def processEndTag(self: Any, token: dict[str, Any]) -> Any:  # html5lib's name
        name = token["name"]
        if name == "a" and phase.__name__ in _SELECT_PHASES:
            return self.parser.phases["inBody"].processEndTag(token)
        if name == "template":
            _end_template(self.parser)
            return None
        if phase.__name__ == "InBodyPhase" and name not in phase.endTagHandler:
            _end_other(self.tree, name)  # "any other end tag"
            return None
        return phase.processEndTag(self, token)

    methods = {"__slots__": (), "processStartTag": processStartTag, "processEndTag": processEndTag}
    return type(phase.__name__, (phase,), methods)


#: html5lib's phases that moved a `<template>` out of a table (foster parenting), closed
#: the column group first, or dropped it in a `<select>`.
_INSERTING_PHASES = frozenset({"InTablePhase", "InColumnGroupPhase", *_SELECT_PHASES})


def _start_inserted(parser: Any, token: dict[str, Any]) -> None:
    """A `<template>` in a table, row, column group or select: inserted where it stands,
    as the standard's "in head" rules insert it. Its contents are then read by html5lib's
    body rules, for want of an "in template" insertion mode: table parts in it are dropped
    where the standard keeps them, but it stays open to its `</template>` (or the end),
    and a link in it stays in it, inert, as for the standard and Chromium."""
    parser.tree.insertElement(token)
    parser.phase = parser.phases["inBody"]


def _end_other(tree: Any, name: str) -> None:
    """The standard's "any other end tag" in body, where `<template>` is special (html5lib
    1.1 does not list it): an end tag stops at an open template, so `</dummy>` in
    `<dummy><template><span></dummy>` is ignored and what follows stays in the template."""
    from html5lib.constants import specialElements  # type: ignore[import-untyped]

    for node in reversed(tree.openElements):
        if node.name == name:
            tree.generateImpliedEndTags(exclude=name)
            while tree.openElements.pop() is not node:
                pass
            return
        if node.nameTuple in specialElements or (
            node.name == "template" and node.namespace == tree.defaultNamespace
        ):
            return


def _end_template(parser: Any) -> None:
    """The standard's `</template>` ("in head"): nothing when no template is open."""
    tree = parser.tree
    stack = tree.openElements
    for index in range(len(stack) - 1, 0, -1):
        if stack[index].name == "template" and stack[index].namespace == tree.defaultNamespace:
            break
    else:
        return
    del stack[index:]
    # The standard clears the active formatting elements up to the last marker (the
    # template's, `_as_standard`).
    formatting = tree.activeFormattingElements
    while formatting and formatting.pop() is not None:
        pass
    _reset_insertion_mode(parser)


#: The standard's "reset the insertion mode appropriately", by the open element met
#: first (html5lib's own asserts a document never has a `<select>` or `<colgroup>` there,
#: which a template's end can now leave). A template's own mode is the body's here.
_MODES = {
    **dict.fromkeys(("td", "th"), "inCell"),
    "tr": "inRow",
    **dict.fromkeys(("tbody", "thead", "tfoot"), "inTableBody"),
    "caption": "inCaption",
    "colgroup": "inColumnGroup",
    "table": "inTable",
    "template": "inBody",
    "head": "inHead",
    "body": "inBody",
    "frameset": "inFrameset",
}


def _reset_insertion_mode(parser: Any) -> None:
    tree = parser.tree
    stack = tree.openElements
    for index in range(len(stack) - 1, -1, -1):
        node = stack[index]
        if node.namespace != tree.defaultNamespace:
            continue
        name = node.name
        if name == "select":
            in_table = any(other.name == "table" for other in stack[:index])
            parser.phase = parser.phases["inSelectInTable" if in_table else "inSelect"]
            return
        if name == "html":
            parser.phase = parser.phases["beforeHead" if tree.headPointer is None else "afterHead"]
            return
        if name in _MODES:
            parser.phase = parser.phases[_MODES[name]]
            return
    parser.phase = parser.phases["inBody"]


_BOUNDED = (None, "button", "list")


@functools.cache
def _scopes() -> dict[str | None, tuple[frozenset[tuple[str, str]], bool]]:
    """html5lib's scopes, with `<template>` a boundary of the default, button and list
    scopes (the standard's "has an element in scope" lists it; html5lib 1.1 does not).
    Not of the table scope: html5lib has no "in template" insertion mode, and its table
    phases assume a table in table scope (a `<table>` in a template's table asserted)."""
    from html5lib.constants import namespaces
    from html5lib.treebuilders.base import listElementsMap  # type: ignore[import-untyped]

    template = (namespaces["html"], "template")
    return {
        variant: (elements | {template}, invert) if variant in _BOUNDED else (elements, invert)
        for variant, (elements, invert) in listElementsMap.items()
    }


def element_in_scope(builder: Any, target: Any, variant: str | None = None) -> bool:
    """html5lib's `TreeBuilder.elementInScope` with `_scopes`: `<div><template></div>`
    leaves the `<div>` open, and what follows inside the template."""
    exact = hasattr(target, "nameTuple")
    if not exact and isinstance(target, str):
        from html5lib.constants import namespaces

        target = (namespaces["html"], target)
    elements, invert = _scopes()[variant]
    for node in reversed(builder.openElements):
        if node == target if exact else node.nameTuple == target:
            return True
        if invert ^ (node.nameTuple in elements):
            return False
    return False  # html5lib asserts: the root <html> is a boundary of every scope
