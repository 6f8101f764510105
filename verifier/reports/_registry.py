"""The report registry: each report is one named SQL query plus optional pure post-processing.

A report's SQL takes named parameters, every one of which may be NULL, meaning
"no filter" or "the default" (`coalesce(:by, 'week')`): that is how the same
text serves `backcheck report NAME`, a SQLite view (every parameter NULL, see
`view_sql`) and a Datasette canned query (empty fields become NULL).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from verifier.store.migrations import sync_views
from verifier.store.profile import SiteProfile

Row = dict[str, Any]

#: Parameters every report's SQL may use (NULL = no filter / now):
#: `:site` a registered domain, `:since` an ISO date or time, `:now` the reference time.
COMMON_PARAMS = ("site", "since", "now")

#: Modules that may define extra reports (e.g. `DISAVOWED_REPORT`); every `Report`
#: at their top level is registered the first time the registry is listed.
EXTENSION_MODULES = ("verifier.reports.disavow",)

#: A named parameter outside string literals, quoted identifiers and comments.
_SQL_PARTS = re.compile(
    r"""(?P<skip>'(?:''|[^'])*'|"(?:""|[^"])*"|--[^\n]*|/\*.*?\*/)"""
    r"""|(?<![\w:]):(?P<name>[A-Za-z_]\w*)""",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Option:
    """A report-specific option: the CLI flag `--NAME` (dashes), the SQL parameter `:NAME`."""

    name: str  # snake_case, e.g. "exact_threshold"
    help: str
    choices: tuple[str, ...] = ()
    type: type = str  # str, int, float or bool (a flag)
    default: str | int | float | None = None
    multiple: bool = False  # repeatable: the SQL gets a JSON array (NULL when not given)
    minimum: int | None = None  # the smallest value an int option takes

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True, slots=True)
class Context:
    """What post-processing may look at: the parameters used and the site profiles."""

    params: Mapping[str, Any]
    profiles: Mapping[str, SiteProfile]

    def profile(self, site: str) -> SiteProfile:
        return self.profiles.get(site) or SiteProfile(domain=site)


PostProcess = Callable[[list[Row], Context], list[Row]]
Notes = Callable[[list[Row], Context], list[str]]


@dataclass(frozen=True, slots=True)
class Report:
    """One report: a named query, how its rows render, and what SQL alone cannot do.

    `post` turns the query's rows into the report's rows (categories, verdicts,
    flags); `notes` returns human sentences (warnings, verdicts) shown under a
    table, or on stderr for JSON and CSV. Both are pure functions of the rows
    and a `Context`.
    """

    name: str  # the CLI name, e.g. "referring-domains"; the view is report_referring_domains
    title: str
    sql: str  # named parameters: COMMON_PARAMS and the options' names (NULL = default)
    booleans: tuple[str, ...] = ()  # integer columns that are JSON booleans
    table_columns: tuple[str, ...] = ()  # what a terminal table shows (all when empty)
    options: tuple[Option, ...] = ()
    post: PostProcess | None = None
    notes: Notes | None = None
    doc: str = ""  # the CLI help: summary, JSON keys, then an Example: block
    vertical: bool = False  # a terminal shows each row as a two-column table

    @property
    def view(self) -> str:
        return "report_" + self.name.replace("-", "_")

    @property
    def help(self) -> str:
        if self.doc:
            return inspect.cleandoc(self.doc)
        return (
            f"{self.title}.\n\n\b\nExample:\n"
            f"    backcheck report {self.name} --format json --db backcheck.db"
        )

    def param_names(self) -> tuple[str, ...]:
        return (*COMMON_PARAMS, *(option.name for option in self.options))


@dataclass(frozen=True, slots=True)
class Result:
    rows: list[Row]
    notes: list[str]


REPORTS: dict[str, Report] = {}


def register(report: Report) -> Report:
    """Add a report to the registry (idempotent); a different one of the same name is refused."""
    known = REPORTS.get(report.name)
    if known is not None and known != report:
        raise ValueError(f"a different report named {report.name!r} is already registered")
    REPORTS[report.name] = report
    return report


def load_extensions(modules: Iterable[str] = EXTENSION_MODULES) -> None:
    """Register the reports defined in other modules (those that exist)."""
    for name in modules:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, Report):
                register(value)


def all_reports() -> list[Report]:
    load_extensions()
    return list(REPORTS.values())


def get(name: str) -> Report:
    """The report named `name`; KeyError when there is none."""
    if name not in REPORTS:
        load_extensions()
    return REPORTS[name]


def bind(report: Report, params: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter the SQL may name: given values, else the option defaults, else NULL."""
    bound: dict[str, Any] = dict.fromkeys(COMMON_PARAMS)
    bound.update({option.name: option.default for option in report.options})
    bound.update({key: value for key, value in params.items() if value is not None})
    return bound


def _profiles(db: Database) -> dict[str, SiteProfile]:
    from verifier.store.storage import load_site, site_domains

    return {domain: load_site(db, domain) for domain in site_domains(db)}


def streams(report: Report) -> bool:
    """True when the report's rows can be written as they are read: nothing to do after
    the SQL (no post-processing, no notes)."""
    return report.post is None and report.notes is None


def iter_rows(db: Database, report: Report, params: Mapping[str, Any]) -> Iterator[Row]:
    """The report's SQL rows as SQLite hands them over, booleans as bools (no
    post-processing: see `streams`). Memory stays flat for a million rows."""
    for row in db.query(report.sql, bind(report, params)):
        for column in report.booleans:
            if row.get(column) is not None:
                row[column] = bool(row[column])
        yield row


def run_report(db: Database, report: Report, params: Mapping[str, Any]) -> Result:
    """The report's rows (booleans as bools, post-processed) and its notes."""
    rows = list(iter_rows(db, report, params))
    if streams(report):
        return Result(rows, [])
    bound = bind(report, params)
    context = Context(bound, _profiles(db))
    if report.post is not None:
        rows = report.post(rows, context)
    notes = report.notes(rows, context) if report.notes is not None else []
    return Result(rows, notes)


def run(db: Database, report: Report, params: Mapping[str, Any]) -> list[Row]:
    """The report's rows only."""
    return run_report(db, report, params).rows


def view_sql(report: Report) -> str:
    """The report's SQL with every parameter NULL: all sites, all time, the defaults.

    >>> view_sql(Report("x", "X", "select ':site' where (:site is null or site = :site)"))
    "select ':site' where (NULL is null or site = NULL)"
    """
    names = set(report.param_names())

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        return "NULL" if name is not None and name in names else match.group(0)

    return _SQL_PARTS.sub(replace, report.sql)


def view_definitions(reports: Iterable[Report]) -> dict[str, str]:
    """Each report's view, `report_<name>` -> its SELECT (every parameter NULL)."""
    return {report.view: view_sql(report).strip() for report in reports}


def create_views(db: Database, reports: Iterable[Report]) -> None:
    """(Re)create each report's SQL view, `report_<name>`, for Datasette and plain SQL."""
    sync_views(db, view_definitions(reports))


def sql_list(values: Iterable[str]) -> str:
    """A SQL list literal of strings, for `x in (...)`.

    >>> sql_list(["lost", "it's"])
    "('lost', 'it''s')"
    """
    return "(" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + ")"


def on_site(column: str) -> str:
    """`column` is the chosen site, or with no site (`:site` NULL) any of the user's sites.

    Competitors' backlinks are stored under their own domain (role 'competitor' in
    `sites`) and never belong to a report over "all sites". The second term is skipped
    when a site is chosen, and its `+` keeps the planner's index choice as it was.

    >>> on_site("b.site")[:40]
    '(:site is null or b.site = :site) and ('
    """
    return (
        f"(:site is null or {column} = :site) and (:site is not null"
        f" or +{column} in (select domain from sites where role is not 'competitor'))"
    )
