"""Reports: each one a named SQL query plus how its rows render.

Adding a report means adding one `Report` to `REPORTS`; every output format
and the CLI pick it up from there.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlite_utils import Database


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    title: str
    sql: str  # named parameters: :site and the report's own filters (NULL = no filter)
    booleans: tuple[str, ...] = ()  # integer columns that are JSON booleans
    table_columns: tuple[str, ...] = ()  # what a terminal table shows (all when empty)


BACKLINKS = Report(
    name="backlinks",
    title="Backlinks and their current verdict",
    sql="""
        select b.id, b.site, b.source_url, b.target_url, b.status, b.reason, b.follow,
               b.nofollow_source, b.rel, b.anchor, b.expected_anchor, b.anchor_changed,
               b.target_changed, b.observed_target, b.link_count, b.http_status, b.final_url,
               b.referring_domain, b.first_seen, b.last_checked, b.change, b.lost_since,
               b.consecutive_failures, b.sources
        from backlinks b
        where (:site is null or b.site = :site) and (:status is null or b.status = :status)
        order by b.site, b.source_key, b.target_key
    """,
    booleans=("follow", "anchor_changed", "target_changed"),
    table_columns=(
        "status",
        "reason",
        "follow",
        "change",
        "source_url",
        "anchor",
    ),
)

REPORTS: dict[str, Report] = {report.name: report for report in (BACKLINKS,)}
FORMATS = ("table", "json", "csv", "markdown")


def run(db: Database, report: Report, params: Mapping[str, object]) -> list[dict[str, object]]:
    """The report's rows, with boolean columns as bools."""
    rows = [dict(row) for row in db.query(report.sql, dict(params))]
    for row in rows:
        for column in report.booleans:
            if row.get(column) is not None:
                row[column] = bool(row[column])
    return rows


def render_json(rows: Sequence[Mapping[str, object]]) -> str:
    return json.dumps(list(rows), indent=2, ensure_ascii=False)


def render_csv(rows: Sequence[Mapping[str, object]], columns: Sequence[str] = ()) -> str:
    out = io.StringIO()
    fields = list(columns or (rows[0].keys() if rows else ()))
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def cell(value: object) -> str:
    """A value as a table shows it: blanks for null, yes/no, URLs without the scheme."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).replace("\n", " ")
    return text.split("://", 1)[1] if text.startswith(("http://", "https://")) else text


def render_markdown(rows: Sequence[Mapping[str, object]], columns: Sequence[str] = ()) -> str:
    fields = list(columns or (rows[0].keys() if rows else ()))
    lines = ["| " + " | ".join(fields) + " |", "|" + "---|" * len(fields)]
    lines += [
        "| " + " | ".join(cell(row.get(f)).replace("|", "\\|") for f in fields) + " |"
        for row in rows
    ]
    return "\n".join(lines) + "\n"
