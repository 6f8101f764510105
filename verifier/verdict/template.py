"""html5lib's parser, reading `<template>` as the HTML standard does (the re-read of
verifier/verdict/html5.py): html5lib 1.1 predates the element."""

from __future__ import annotations

import functools
from typing import Any

#: html5lib's phases for which the standard ends a template at `</template>` (the other
#: phases hand an end tag they do not know to one of these, as the standard does).
_ENDS_TEMPLATES = ("inHead", "afterHead", "inBody", "inTable", "inColumnGroup", "inSelect")


@functools.cache
def parser_class() -> type:
    """html5lib's parser, with `</template>` read as the standard reads it.

    html5lib 1.1 predates `<template>`: it reads `</template>` as any other end tag,
    which an open `<div>` (or any element the standard calls special) inside the
    template stops, so the template stayed open and what followed, a link above all,
    was inside it (inert). The standard ends the template there: it pops the elements
    up to and including the template, clears the formatting elements opened in it, and
    resets the insertion mode. Only our parser's phases are replaced, not html5lib's.
    """
    import html5lib  # type: ignore[import-untyped]

    class Parser(html5lib.HTMLParser):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            for name in _ENDS_TEMPLATES:
                self.phases[name] = _ending_templates(self.phases[name].__class__)(self, self.tree)

    return Parser


@functools.cache
def _ending_templates(phase: Any) -> type:
    """`phase` (an html5lib phase class), reading `<template>` and `</template>` as the
    standard does."""

    def processStartTag(self: Any, token: dict[str, Any]) -> Any:  # html5lib's name
        if token["name"] == "template":
            # The standard's `<template>` sets frameset-ok to "not ok": a <frameset>
            # after it no longer replaces the body (html5lib let it).
            self.parser.framesetOK = False
            if phase.__name__ in _TABLE_PHASES:
                _start_in_table(self.parser, token)
                return None
        return phase.processStartTag(self, token)

    def processEndTag(self: Any, token: dict[str, Any]) -> Any:  # html5lib's name
        name = token["name"]
        if name == "template":
            _end_template(self.parser)
            return None
        if phase.__name__ == "InBodyPhase" and name not in phase.endTagHandler:
            _end_other(self.tree, name)  # "any other end tag"
            return None
        return phase.processEndTag(self, token)

    methods = {"__slots__": (), "processStartTag": processStartTag, "processEndTag": processEndTag}
    return type(phase.__name__, (phase,), methods)


#: html5lib's phases that hand a `<template>` in a table to the table's rules, which
#: moved it out of the table (foster parenting) or closed the column group first.
_TABLE_PHASES = frozenset({"InTablePhase", "InColumnGroupPhase"})


def _start_in_table(parser: Any, token: dict[str, Any]) -> None:
    """A `<template>` in a table, row or column group: inserted where it stands, as the
    standard's "in head" rules insert it. Its contents are then read by html5lib's body
    rules, for want of an "in template" insertion mode: table parts in it are dropped
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
    template = stack[index]._element
    del stack[index:]
    # html5lib sets no marker at `<template>`: what was opened in it is what is in it.
    tree.activeFormattingElements[:] = [
        entry
        for entry in tree.activeFormattingElements
        if entry is None or template not in entry._element.iterancestors()
    ]
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
