"""Datasette metadata for a backcheck database: what each table means, and the reports.

`build_metadata` is pure: it takes the database's tables and views (see
`relations`) and the report registry, and returns the dict that Datasette 0.65
reads with `-m metadata.json`. Reports become canned queries; Datasette turns
their named parameters into form fields and sends an empty string for a field
left empty, so each `:param` is wrapped as `nullif(:param, '')`: empty means no
filter, as NULL does for `backcheck report`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from verifier.reports import Report

REPORT_VIEW_PREFIX = "report_"

#: A named parameter outside string literals, quoted identifiers and comments
#: (the same places Datasette skips when it looks for parameters).
_SQL_PARTS = re.compile(
    r"""(?P<skip>'(?:''|[^'])*'|"(?:""|[^"])*"|--[^\n]*|/\*.*?\*/)"""
    r"""|(?<![\w:]):(?P<name>[A-Za-z_]\w*)""",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Relation:
    name: str
    kind: str  # "table" or "view"
    columns: tuple[str, ...]


#: Title, description and column descriptions of backcheck's own tables.
TABLES: dict[str, tuple[str, str, dict[str, str]]] = {
    "sites": (
        "Sites",
        "The sites whose backlinks are verified (`backcheck init`).",
        {
            "domain": "The site's registered domain, e.g. acme.com",
            "brands": "JSON list of brand terms (unlinked-mention detection)",
            "competitors": "JSON list of competitors' domains",
            "keywords": "JSON list of target keywords",
            "created_at": "When the profile was created (UTC)",
            "updated_at": "When the profile last changed (UTC)",
        },
    ),
    "backlinks": (
        "Backlinks",
        "One row per known backlink (site, referring page, target) and its current verdict.",
        {
            "site": "The site linked to",
            "source_url": "The referring page",
            "target_url": "The page of the site it should link to (empty: any page)",
            "source_key": "The referring page's identity key (host case, port, fragment folded)",
            "target_key": "The target's identity key ('' when any page counts)",
            "referring_domain": "Registered domain of the referring page",
            "expected_anchor": "The anchor text first imported",
            "sources": "Where the backlink came from, e.g. ahrefs,gsc (or discovered)",
            "discovered_from": "The backlink whose redirect led to this one",
            "imported_at": "When it was first imported (UTC)",
            "first_seen": "First check that found it live",
            "last_live": "Last check that found it live",
            "lost_since": "When it became lost (empty while live)",
            "status": "live, lost or unreachable (empty: never checked)",
            "reason": "Why it is not live (page_not_found, link_removed, timeout …)",
            "change": "What changed at the last check against the baseline",
            "follow": "1 when the link passes ranking credit",
            "nofollow_source": "What made it nofollow (rel, meta robots, X-Robots-Tag …)",
            "rel": "The link's rel tokens",
            "anchor": "The anchor text seen last",
            "anchor_changed": "1 when the anchor differs from the expected one",
            "target_changed": "1 when the link now points elsewhere",
            "observed_target": "Where the link points now",
            "link_count": "Links to the site found on the page",
            "http_status": "The page's final HTTP status",
            "final_url": "The page's URL after redirects",
            "consecutive_failures": "Unreachable checks in a row",
            "last_checked": "When it was last checked (UTC)",
            "last_check_id": "The last row of checks for it",
            "disavowed_at": "When a disavow entry first covered it (`backcheck disavow import`)",
        },
    ),
    "backlink_sources": (
        "Backlink sources",
        "Which exports listed each backlink, with the vendor's metrics.",
        {
            "backlink_id": "The backlink",
            "source": "ahrefs, semrush, majestic, moz, gsc, csv, urls or discovered",
            "file": "The imported file",
            "line": "Its line in the file",
            "anchor": "The anchor text the vendor saw",
            "metrics": "JSON: every column the vendor exported",
        },
    ),
    "runs": (
        "Runs",
        "One row per `backcheck verify` run, with its counts and Scrapy stats.",
        {
            "state": "running, finished, failed, interrupted or degraded (the crawler"
            " could not reach the web: its checks count for nothing)",
            "sites": "JSON list of the domains the run covers",
            "pid": "The process that ran it",
            "newly_lost": "Backlinks that became lost in this run",
            "regained": "Backlinks live again in this run",
            "stats": "JSON of Scrapy's stats",
            "error": "Why the run failed",
        },
    ),
    "run_items": (
        "Run items",
        "The backlinks each run set out to check (what a resumed run still has to do).",
        {"run_id": "The run", "backlink_id": "A backlink it covers"},
    ),
    "checks": (
        "Checks",
        "One verdict per backlink per run. The evidence that stays while the page does is"
        " in `evidence` (`evidence_id`; older checks hold it inline): `checks_full` shows"
        " each check with all of it.",
        {
            "evidence_id": "The check's row in `evidence` (empty: nothing, or kept inline)",
            "run_id": "The run",
            "backlink_id": "The backlink",
            "checked_at": "When the page was fetched (UTC)",
            "status": "live, lost or unreachable",
            "reason": "Why it is not live",
            "redirect_chain": "JSON [[url, status], ...]",
            "x_robots_tag": "The page's X-Robots-Tag header",
            "meta_robots": "The page's robots meta tag",
            "canonical": "The page's rel=canonical",
            "link_html": "The link's HTML",
            "context_before": "Text just before the link",
            "context_after": "Text just after the link",
            "content_hash": "Hash of the page text",
            "detail": "Extra detail on the verdict (error message …)",
        },
    ),
    "evidence": (
        "Evidence",
        "What a check saw of the link, stored once per backlink and distinct values and"
        " shared by every check that saw the same (`checks.evidence_id`).",
        {
            "backlink_id": "The backlink",
            "digest": "64 bits of BLAKE2b over the values (the key, per backlink)",
            "redirect_chain": "JSON [[url, status], ...]",
            "link_html": "The link's HTML",
            "context_before": "Text just before the link",
            "context_after": "Text just after the link",
        },
    ),
    "checks_full": (
        "Checks with their evidence",
        "Every check with all of its evidence, shared or inline: read this, not `checks`,"
        " for the link's HTML, context, canonical, robots directives and redirects.",
        {"evidence_id": "The check's row in `evidence`"},
    ),
    "target_checks": (
        "Target checks",
        "Our own pages that backlinks point at, checked once per run.",
        {
            "url_key": "The target's identity key",
            "method": "HEAD, or GET when HEAD was refused",
            "http_status": "The final answer (empty when the fetch failed)",
            "redirect_chain": "JSON [[url, status], ...]",
            "error": "Unreachable reason code when the fetch failed",
        },
    ),
    "disavow_entries": (
        "Disavow entries",
        "The last disavow file imported for each site (`backcheck disavow import`).",
        {
            "site": "The site",
            "kind": "domain or url",
            "value": "The domain (lower-case, IDNA) or the URL as written",
            "file": "The imported file",
            "line": "Its line in the file",
            "imported_at": "When it was imported (UTC)",
        },
    ),
    "_sqlite_migrations": ("Migrations", "Schema migrations applied (sqlite-utils).", {}),
}


def relations(db: Database) -> list[Relation]:
    """The database's tables and views with their columns (SQLite's own left out)."""
    rows = db.execute(
        "select name, type from sqlite_master where type in ('table', 'view')"
        " and name not like 'sqlite\\_%' escape '\\' order by name"
    ).fetchall()
    return [Relation(name, kind, tuple(c.name for c in db[name].columns)) for name, kind in rows]


def wrap_params(sql: str) -> tuple[str, list[str]]:
    """The SQL with each `:name` as `nullif(:name, '')`, and the names in order.

    >>> wrap_params("select ':x' where (:site is null or site = :site)")
    ("select ':x' where (nullif(:site, '') is null or site = nullif(:site, ''))", ['site'])
    """
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name is None:
            return match.group(0)
        if name not in names:
            names.append(name)
        return f"nullif(:{name}, '')"

    return _SQL_PARTS.sub(replace, sql), names


def _summary(report: Report) -> str:
    return report.help.split("\n\n")[0].replace("\n", " ")


def _table_metadata(relation: Relation, views: dict[str, Report]) -> dict[str, Any]:
    if relation.name in TABLES:
        title, description, columns = TABLES[relation.name]
        meta: dict[str, Any] = {"title": title, "description": description}
        described = {c: d for c, d in columns.items() if c in relation.columns}
        if described:
            meta["columns"] = described
        if relation.name.startswith("_"):
            meta["hidden"] = True
        return meta
    if relation.kind == "view" and relation.name in views:
        report = views[relation.name]
        return {
            "title": f"Report: {report.title}",
            "description": f"{_summary(report)} (`backcheck report {report.name}` for all"
            " sites and all time, as a view: filter and facet it like a table.)",
        }
    if relation.kind == "view" and relation.name.startswith(REPORT_VIEW_PREFIX):
        label = relation.name.removeprefix(REPORT_VIEW_PREFIX).replace("_", " ")
        return {
            "title": f"Report: {label}",
            "description": f"A backcheck report kept as a SQL view ({len(relation.columns)}"
            " columns); filter and facet it like a table.",
        }
    return {
        "title": relation.name.replace("_", " ").capitalize(),
        "description": f"A {relation.kind} that backcheck does not describe yet.",
    }


def _unique_name(name: str, taken: set[str]) -> str:
    while name in taken:  # a canned query would hide a table of the same name
        name += "_query"
    taken.add(name)
    return name


def _query_metadata(report: Report) -> dict[str, Any]:
    sql, params = wrap_params(report.sql)
    summary = _summary(report)
    note = f"`backcheck report {report.name}`; leave a field empty for no filter (or the default)."
    if report.post is not None:
        note += " The command also adds computed columns that SQL alone cannot."
    return {
        "title": report.title,
        "description": f"{summary} {note}",
        "sql": sql.strip(),
        "params": params,
    }


def build_metadata(
    database: str, tables: Iterable[Relation], reports: Iterable[Report]
) -> dict[str, Any]:
    """Datasette 0.65 metadata: descriptions of every table and view, reports as queries."""
    tables, reports = list(tables), list(reports)
    views = {report.view: report for report in reports}
    taken = {relation.name for relation in tables}
    queries: dict[str, dict[str, Any]] = {}
    for report in reports:
        name = _unique_name(report.name.replace("-", "_") + "_report", taken)
        queries[name] = _query_metadata(report)
    for relation in tables:
        if relation.kind == "view" and relation.name.startswith(REPORT_VIEW_PREFIX):
            queries[_unique_name(f"{relation.name}_all", taken)] = {
                "title": f"All rows of {relation.name}",
                "sql": f'select * from "{relation.name}"',
            }
    return {
        "title": "backcheck",
        "description": "Backlinks, their verdicts and the evidence, as verified by backcheck.",
        "databases": {
            database: {
                "description": "Canned queries named *_report are the `backcheck report`"
                " reports; tables and views are described below.",
                "tables": {relation.name: _table_metadata(relation, views) for relation in tables},
                "queries": queries,
            }
        },
    }
