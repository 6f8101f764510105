"""Reports: each one a named SQL query plus how its rows render.

Adding a report means one `Report(...)`: its SQL (also kept as the view
`report_<name>`), its options, and optionally a pure post-processing function
for what SQL cannot do. Built-in reports are listed in `BUILTIN`; another module
defines its own `Report` and `register`s it, or is named in `EXTENSION_MODULES`
so that the registry finds it.
"""

from __future__ import annotations

from verifier.reports._registry import (
    COMMON_PARAMS,
    EXTENSION_MODULES,
    REPORTS,
    Context,
    Option,
    Report,
    Result,
    Row,
    all_reports,
    bind,
    create_views,
    get,
    iter_rows,
    load_extensions,
    register,
    run,
    run_report,
    sql_list,
    streams,
    view_definitions,
    view_sql,
)
from verifier.reports.anchors import ANCHORS, categorize
from verifier.reports.backlinks import BACKLINKS
from verifier.reports.changes import CHANGES, UNREACHABLE
from verifier.reports.domains import FOLLOW_RATIO, REFERRING_DOMAINS
from verifier.reports.gap import COMPETITORS, GAP, INTERSECT
from verifier.reports.mentions import COMPETITOR_LINKS, MENTIONS, OUTREACH
from verifier.reports.reclaim import BROKEN_TARGETS, LOST
from verifier.reports.referrals import REFERRALS
from verifier.reports.render import (
    FORMATS,
    cell,
    render_csv,
    render_json,
    render_markdown,
    stream_csv,
    write_json,
)
from verifier.reports.summary import SUMMARY
from verifier.reports.velocity import VELOCITY

#: The reports backcheck ships, in the order `backcheck report --help` lists them.
BUILTIN: tuple[Report, ...] = (
    BACKLINKS,
    SUMMARY,
    REFERRING_DOMAINS,
    FOLLOW_RATIO,
    ANCHORS,
    VELOCITY,
    LOST,
    BROKEN_TARGETS,
    CHANGES,
    UNREACHABLE,
    MENTIONS,
    OUTREACH,
    COMPETITOR_LINKS,
    GAP,
    INTERSECT,
    COMPETITORS,
    REFERRALS,
)
for _report in BUILTIN:
    register(_report)

__all__ = [
    "ANCHORS",
    "BACKLINKS",
    "BROKEN_TARGETS",
    "BUILTIN",
    "CHANGES",
    "COMMON_PARAMS",
    "COMPETITORS",
    "COMPETITOR_LINKS",
    "EXTENSION_MODULES",
    "FOLLOW_RATIO",
    "FORMATS",
    "GAP",
    "INTERSECT",
    "LOST",
    "MENTIONS",
    "OUTREACH",
    "REFERRALS",
    "REFERRING_DOMAINS",
    "REPORTS",
    "SUMMARY",
    "UNREACHABLE",
    "VELOCITY",
    "Context",
    "Option",
    "Report",
    "Result",
    "Row",
    "all_reports",
    "bind",
    "categorize",
    "cell",
    "create_views",
    "get",
    "iter_rows",
    "load_extensions",
    "register",
    "render_csv",
    "render_json",
    "render_markdown",
    "run",
    "run_report",
    "sql_list",
    "stream_csv",
    "streams",
    "view_definitions",
    "view_sql",
    "write_json",
]
