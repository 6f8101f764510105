"""Read the html5lib-tests tree-construction format (`.dat`) into cases and small trees.

A file is a run of cases separated by a blank line. Each case has sections, each
opened by a line of its own: `#data` (the input, its final newline removed),
`#errors` and `#new-errors` (one parse error a line; not read here), optionally
`#document-fragment` (the context element on the next line) and `#script-on` or
`#script-off`, then `#document`: the expected tree, one node a line, each line
`| ` plus two spaces per depth::

    | <!DOCTYPE html>
    | <html>
    |   <head>
    |   <body>
    |     <a>
    |       href="/x"
    |       "text"
    |     <svg svg>
    |     <!-- comment -->

Attributes sit one level below their element, before its children; a text node
(and a comment, an attribute value) may run over several lines, the following
lines carrying no `| ` prefix. A `<template>` has one pseudo-child `content`
holding its contents. The format is described in full by upstream's
tree-construction/README.md; tests/fixtures/html5lib/README.md says where the
fixture files come from.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HTML = "html"
SVG = "svg"
MATHML = "math"

#: Section lines of a case; anything else belongs to the section above it.
SECTIONS = frozenset(
    {
        "#data",
        "#errors",
        "#new-errors",
        "#document-fragment",
        "#script-on",
        "#script-off",
        "#document",
    }
)


@dataclass
class Element:
    """An element; `attrs` keys are attribute name strings as written (`xlink href`)."""

    name: str
    namespace: str = HTML
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    content: Document | None = None  # a template's contents (the `content` pseudo-node)


@dataclass
class Text:
    data: str


@dataclass
class Comment:
    data: str


@dataclass
class Doctype:
    text: str  # what follows `<!DOCTYPE `, without the closing `>`


@dataclass
class ProcessingInstruction:
    text: str  # what follows `<?`, without the closing `>`


Node = Element | Text | Comment | Doctype | ProcessingInstruction


@dataclass
class Document:
    """The expected tree; also a template's contents (a document fragment)."""

    children: list[Node] = field(default_factory=list)


@dataclass(frozen=True)
class Case:
    file: str
    line: int  # of the case's `#data` line, 1-based
    data: str
    errors: tuple[str, ...]
    scripting: bool | None  # `#script-on` True, `#script-off` False, neither None
    fragment: str | None  # the `#document-fragment` context element
    document: Document
    dump: str  # the `#document` section as written, one `\n` between lines

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def read_cases(path: Path) -> Iterator[Case]:
    """The cases of one `.dat` file, in file order."""
    lines = path.read_text(encoding="utf-8").split("\n")
    starts = [i for i, line in enumerate(lines) if line == "#data"]
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        block = lines[start:end]
        # Cases are separated by one blank line, the file ends with a newline.
        while block and block[-1] == "":
            block.pop()
        yield _case(path.name, start + 1, block)


def _case(file: str, line: int, block: list[str]) -> Case:
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for text in block:
        if text in SECTIONS:
            current = sections.setdefault(text, [])
        else:
            current.append(text)
    document = sections.get("#document", [])
    fragment = sections.get("#document-fragment")
    scripting = True if "#script-on" in sections else False if "#script-off" in sections else None
    return Case(
        file=file,
        line=line,
        data="\n".join(sections.get("#data", [])),
        errors=tuple(sections.get("#errors", [])),
        scripting=scripting,
        fragment=fragment[0] if fragment else None,
        document=parse_tree(document),
        dump="\n".join(document),
    )


def _nodes(lines: list[str]) -> Iterator[tuple[int, str]]:
    """(depth, text) of each node line, continuation lines joined on with `\n`."""
    depth, parts = -1, list[str]()
    for line in lines:
        if line.startswith("| "):
            if parts:
                yield depth, "\n".join(parts)
            body = line[2:]
            indent = len(body) - len(body.lstrip(" "))
            depth, parts = indent // 2, [body[indent:]]
        elif parts:
            parts.append(line)  # a text, comment or attribute value that holds a newline
        else:
            raise ValueError(f"expected a '| ' line, got {line!r}")
    if parts:
        yield depth, "\n".join(parts)


def parse_tree(lines: list[str]) -> Document:
    """The tree of a `#document` section."""
    document = Document()
    # containers[d]: where nodes of depth d go; elements[d]: the element at depth d.
    containers: list[list[Node]] = [document.children]
    elements: list[Element | None] = []
    for depth, text in _nodes(lines):
        if depth >= len(containers):
            raise ValueError(f"node {text!r} is nested deeper than its parent")
        del containers[depth + 1 :], elements[depth:]
        owner = elements[depth - 1] if depth > 0 else None
        if text == "content" and owner is not None and _is_template(owner):
            owner.content = Document()
            containers.append(owner.content.children)
            elements.append(None)
            continue
        node = _node(text)
        if isinstance(node, tuple):  # an attribute of the element above
            if owner is None:
                raise ValueError(f"attribute {text!r} outside an element")
            owner.attrs[node[0]] = node[1]
            elements.append(None)
            continue
        containers[depth].append(node)
        if isinstance(node, Element):
            containers.append(node.children)
            elements.append(node)
        else:
            elements.append(None)
    return document


def _is_template(element: Element) -> bool:
    return element.namespace == HTML and element.name == "template"


def _node(text: str) -> Node | tuple[str, str]:
    if text.startswith("<!DOCTYPE ") and text.endswith(">"):
        return Doctype(text[len("<!DOCTYPE ") : -1])
    if text.startswith("<!-- ") and text.endswith(" -->"):
        return Comment(text[len("<!-- ") : -len(" -->")])
    if text.startswith("<?") and text.endswith(">"):
        return ProcessingInstruction(text[2:-1])
    if text.startswith("<") and text.endswith(">"):
        name = text[1:-1]
        for namespace in (SVG, MATHML):
            if name.startswith(namespace + " "):
                return Element(name[len(namespace) + 1 :], namespace)
        return Element(name)
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        return Text(text[1:-1])
    # name="value": a name may start with `=` (`<p =x>`), never hold one later.
    equals = text.find('="', 1)
    if equals == -1 or not text.endswith('"'):
        raise ValueError(f"not a node line: {text!r}")
    return text[:equals], text[equals + 2 : -1]


def dump(document: Document) -> str:
    """The `#document` section for a tree: `parse_tree` read backwards."""
    lines: list[str] = []
    _dump(document.children, 0, lines)
    return "\n".join(lines)


def _dump(nodes: list[Node], depth: int, lines: list[str]) -> None:
    pad = "| " + "  " * depth
    for node in nodes:
        if isinstance(node, Element):
            prefix = "" if node.namespace == HTML else node.namespace + " "
            lines.append(f"{pad}<{prefix}{node.name}>")
            lines.extend(f'{pad}  {name}="{value}"' for name, value in node.attrs.items())
            if node.content is not None:
                lines.append(f"{pad}  content")
                _dump(node.content.children, depth + 2, lines)
            _dump(node.children, depth + 1, lines)
        elif isinstance(node, Text):
            lines.append(f'{pad}"{node.data}"')
        elif isinstance(node, Comment):
            lines.append(f"{pad}<!-- {node.data} -->")
        elif isinstance(node, Doctype):
            lines.append(f"{pad}<!DOCTYPE {node.text}>")
        else:
            lines.append(f"{pad}<?{node.text}>")
