"""Report rows as JSON, CSV and Markdown (the terminal table lives in the CLI, with rich)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from typing import TextIO, TypeVar

T = TypeVar("T")

FORMATS = ("table", "json", "csv", "markdown")

#: First characters that make a spreadsheet run a cell as a formula (OWASP "CSV
#: Injection"), with their fullwidth forms, which some spreadsheets fold to ASCII.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
#: Text that a spreadsheet reads as a plain number (`-5`, `+1.5e3`): no formula, kept as is.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


#: Rows encoded per write when streaming: one write per row costs more than the encoding.
STREAM_BATCH = 1000
#: `json.dumps(row, ensure_ascii=False)` builds an encoder per call: one does for every row.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def render_json(rows: Sequence[Mapping[str, object]]) -> str:
    """A JSON array, one row per line (the C encoder: fast for a million rows).

    >>> print(render_json([{"a": 1, "b": None}, {"a": 2, "b": True}]))
    [
    {"a": 1, "b": null},
    {"a": 2, "b": true}
    ]
    >>> render_json([])
    '[]'
    """
    if not rows:
        return "[]"
    # One join, the brackets on the first and last lines: adding them to the joined text
    # would copy all of it twice more (65 MB for `report lost` at 1M backlinks)
    lines = list(map(_ENCODE, rows))
    lines[0] = "[\n" + lines[0]
    lines[-1] += "\n]"
    return ",\n".join(lines)


def write_json(out: TextIO, rows: Iterable[Mapping[str, object]]) -> int:
    """Write `render_json`'s text (and a newline) as the rows come; returns the row count.

    Memory stays flat however many rows there are, and the first ones are out
    before the last are read.
    """
    count = 0
    for batch in batched(rows, STREAM_BATCH):
        out.write(("[\n" if not count else ",\n") + ",\n".join(_ENCODE(row) for row in batch))
        count += len(batch)
    out.write("\n]\n" if count else "[]\n")
    return count


def csv_cell(value: object) -> object:
    """`value` made safe to open in a spreadsheet: a formula becomes text.

    Cells come from pages that strangers write (anchors, titles, contexts): one
    that starts with = + - @, a tab or a carriage return, or with whitespace
    before one of them, gets a leading `'` (OWASP's advice). Numbers, and text
    that is just a number, are left alone.

    >>> print(csv_cell('=HYPERLINK("http://evil.test","x")'))
    '=HYPERLINK("http://evil.test","x")
    >>> csv_cell(" @SUM(A1)"), csv_cell("-5"), csv_cell(-5), csv_cell("Acme"), csv_cell(None)
    ("' @SUM(A1)", '-5', -5, 'Acme', None)
    """
    if not isinstance(value, str) or not value:
        return value
    first = value[0] if value[0] in FORMULA_STARTS else value.lstrip()[:1]
    if first in FORMULA_STARTS and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_csv(
    out: TextIO,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    raw: bool = False,
    lineterminator: str = "\n",
) -> None:
    """Write a header and rows as CSV, every cell neutralised by `csv_cell` unless `raw`.

    Neutralised, data cells are also quoted (OWASP again): a spreadsheet that
    splits on `;` or tabs then still sees one cell, never a formula after the split.
    `raw` writes the values exactly as they are, for pipes.
    """
    csv.writer(out, lineterminator=lineterminator).writerow(columns)
    rows = ([_joined(value) for value in row] for row in rows)  # lazily, row by row
    if raw:
        csv.writer(out, lineterminator=lineterminator).writerows(rows)
        return
    writer = csv.writer(out, lineterminator=lineterminator, quoting=csv.QUOTE_ALL)
    writer.writerows([csv_cell(value) for value in row] for row in rows)


def _joined(value: object) -> object:
    """A list (e-mail addresses, competitors) as one cell, "a, b", not Python's repr."""
    return ", ".join(map(str, value)) if isinstance(value, list) else value


def render_csv(
    rows: Sequence[Mapping[str, object]], columns: Sequence[str] = (), raw: bool = False
) -> str:
    """Report rows as CSV (`write_csv`): the columns given, or the first row's keys."""
    out = io.StringIO()
    fields = list(columns or (rows[0].keys() if rows else ()))
    write_csv(out, fields, ([row.get(f) for f in fields] for row in rows), raw)
    return out.getvalue()


def stream_csv(
    out: TextIO,
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[str] = (),
    raw: bool = False,
) -> None:
    """`render_csv`'s text written as the rows come (the columns: given, or the first row's)."""
    rows = iter(rows)
    first = next(rows, None)
    fields = list(columns or (first.keys() if first is not None else ()))
    ahead = [] if first is None else [first]
    write_csv(out, fields, ([row.get(f) for f in fields] for row in chain(ahead, rows)), raw)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of `size` items (the last may be shorter).

    >>> list(batched(range(5), 2))
    [[0, 1], [2, 3], [4]]
    """
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


#: Control characters, written out: anchors, titles and contexts come from the web, and
#: a terminal would act on an escape sequence in them (clear the screen, set its title).
_CONTROLS = {
    code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0)) if code not in (9, 10)
} | {9: " ", 10: " "}


def cell(value: object) -> str:
    r"""A value as a table shows it: blanks for null, yes/no, URLs without the scheme,
    control characters written out.

    >>> cell(None), cell(True), cell("https://acme.com/x"), cell(0.25)
    ('', 'yes', 'acme.com/x', '0.25')
    >>> print(cell("Acme\x1b[2J\x07Widgets"))
    Acme\x1b[2J\x07Widgets
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):  # e.g. an outreach target's e-mail addresses
        return ", ".join(cell(item) for item in value)
    text = str(value).translate(_CONTROLS)
    return text.split("://", 1)[1] if text.startswith(("http://", "https://")) else text


def render_markdown(
    rows: Sequence[Mapping[str, object]], columns: Sequence[str] = (), notes: Sequence[str] = ()
) -> str:
    fields = list(columns or (rows[0].keys() if rows else ()))
    lines = ["| " + " | ".join(fields) + " |", "|" + "---|" * len(fields)]
    lines += [
        "| " + " | ".join(cell(row.get(f)).replace("|", "\\|") for f in fields) + " |"
        for row in rows
    ]
    if notes:
        lines += ["", *(f"> {note}" for note in notes)]
    return "\n".join(lines) + "\n"
