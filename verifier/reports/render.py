"""Report rows as JSON, CSV and Markdown (the terminal table lives in the CLI, with rich)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence

FORMATS = ("table", "json", "csv", "markdown")


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
    return "[\n" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n]"


def render_csv(rows: Sequence[Mapping[str, object]], columns: Sequence[str] = ()) -> str:
    out = io.StringIO()
    fields = list(columns or (rows[0].keys() if rows else ()))
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def cell(value: object) -> str:
    """A value as a table shows it: blanks for null, yes/no, URLs without the scheme.

    >>> cell(None), cell(True), cell("https://acme.com/x"), cell(0.25)
    ('', 'yes', 'acme.com/x', '0.25')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):  # e.g. an outreach target's e-mail addresses
        return ", ".join(cell(item) for item in value)
    text = str(value).replace("\n", " ")
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
