"""`backcheck report NAME`: one subcommand per report of verifier.reports, rendered.

Every subcommand is built by `report_command` from its `Report`: the shared
options (--format, --since, --site, --db) plus the report's own.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import click

from crawler.commands.options import db_option, open_db, since_value, site_option
from crawler.commands.report_html import html
from verifier import reports
from verifier.store import storage


@click.group()
def report() -> None:
    """Print a report from the database (tables on a terminal, JSON/CSV for pipes).

    Every report is also a SQL view, report_<name>, for Datasette or plain SQL.
    Page text is written by strangers: in CSV, a cell that a spreadsheet would run
    as a formula gets a leading ' (--raw-csv writes cells exactly as stored).

    \b
    Example:
        backcheck report summary
        backcheck report backlinks --status lost --format csv > lost.csv
    """


def _columns(rows: list[dict[str, Any]], report_def: reports.Report) -> list[str]:
    keys = list(rows[0]) if rows else []
    wanted = list(report_def.table_columns)
    if wanted and (not rows or all(c in rows[0] for c in wanted)):
        return wanted
    return keys  # a mode whose rows have other keys (anchors --by category)


def _table(rows: list[dict[str, Any]], report_def: reports.Report, notes: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if report_def.vertical:
        for row in rows:
            table = Table(title=f"{report_def.title}: {row.get('site', '')}", title_justify="left")
            table.add_column("key", no_wrap=True)
            table.add_column("value", overflow="fold")
            for key, value in row.items():
                table.add_row(key, reports.cell(value))
            console.print(table)
    else:
        columns = _columns(rows, report_def)
        table = Table(title=f"{report_def.title} ({len(rows)})", title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold", no_wrap=column in ("status", "reason"))
        for row in rows:
            table.add_row(*(reports.cell(row.get(c)) for c in columns))
        console.print(table)
    for note in notes:
        console.print(note, markup=False, highlight=False)


#: The help of --raw-csv, shared by every command that writes CSV.
RAW_CSV_HELP = (
    "Write CSV cells exactly as stored. By default a cell that starts with = + - @, a tab"
    " or a carriage return (a spreadsheet formula: page text is written by strangers)"
    " gets a leading ' and data cells are quoted, as OWASP advises; use this for pipes"
    " that want the bytes."
)


def raw_csv_option(func: Any) -> Any:
    return click.option("--raw-csv", "raw_csv", is_flag=True, help=RAW_CSV_HELP)(func)


def render(
    result: reports.Result, report_def: reports.Report, fmt: str, raw_csv: bool = False
) -> None:
    """Data on stdout; the notes under a table, or on stderr for JSON and CSV."""
    rows = result.rows
    if fmt == "json":
        click.echo(reports.render_json(rows))
    elif fmt == "csv":
        click.echo(reports.render_csv(rows, raw=raw_csv), nl=False)
    elif fmt == "markdown":
        text = reports.render_markdown(rows, _columns(rows, report_def), result.notes)
        click.echo(text, nl=False)
    else:
        _table(rows, report_def, result.notes)
        return
    if fmt != "markdown":
        for note in result.notes:
            click.echo(note, err=True)


def stream(rows: Iterator[dict[str, Any]], fmt: str, raw_csv: bool = False) -> None:
    """JSON or CSV written as the rows are read: flat memory, the first rows at once.

    The same text as `render`. A reader that stops early (`| head`) ends the
    command quietly, as it would a command that had printed everything at once.
    """
    out = sys.stdout
    try:
        if fmt == "json":
            reports.write_json(out, rows)
        else:
            reports.stream_csv(out, rows, raw=raw_csv)
        out.flush()
    except BrokenPipeError:
        # Python's advice: point stdout at devnull so the flush at exit cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


def _option(option: reports.Option) -> click.Option:
    if option.type is bool:
        return click.Option([option.flag, option.name], is_flag=True, help=option.help)
    if option.multiple:
        return click.Option(
            [option.flag, option.name], multiple=True, metavar="VALUE", help=option.help
        )
    kind: Any = click.Choice(option.choices) if option.choices else option.type
    if option.minimum is not None:
        kind = click.IntRange(min=option.minimum)
    return click.Option(
        [option.flag, option.name],
        type=kind,
        default=option.default,
        show_default=option.default is not None,
        help=option.help,
    )


def _competitors(db: Any, site: str | None, named: tuple[str, ...]) -> tuple[str, ...]:
    """`--competitor` values as stored; each must be a competitor of the site (exit 2)."""
    try:
        [domain] = storage.pick_sites(db, site, one=True)
        return tuple(storage.pick_competitor(db, domain, value) for value in named)
    except storage.StorageError as exc:
        raise click.UsageError(str(exc)) from exc


def report_command(report_def: reports.Report) -> click.Command:
    """The click command for one report: shared options plus the report's own."""

    def callback(
        fmt: str,
        raw_csv: bool,
        since: dt.datetime | None,
        site: str | None,
        db_path: str,
        **options: Any,
    ) -> None:
        db = open_db(db_path)
        try:
            domain = storage.pick_sites(db, site, one=False)[0] if site else None
        except storage.StorageError as exc:
            raise click.ClickException(str(exc)) from exc
        if named := options.get("competitor"):  # one domain, or a repeatable option's tuple
            picked = _competitors(db, domain, (named,) if isinstance(named, str) else named)
            options["competitor"] = picked[0] if isinstance(named, str) else picked
        # A repeatable option reaches the SQL as a JSON array (NULL when not given).
        options = {
            name: (json.dumps(list(value)) if value else None)
            if isinstance(value, tuple)
            else value
            for name, value in options.items()
        }
        params = {"site": domain, "since": since_value(since), **options}
        if fmt in ("json", "csv") and reports.streams(report_def):
            stream(reports.iter_rows(db, report_def, params), fmt, raw_csv)
            return
        render(reports.run_report(db, report_def, params), report_def, fmt, raw_csv)

    command = click.Command(
        report_def.name,
        callback=callback,
        params=[_option(option) for option in report_def.options],
        help=report_def.help,
        short_help=report_def.title,
    )
    for decorator in (
        db_option,
        site_option,
        click.option(
            "--since",
            type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
            metavar="DATE",
            help="Only events (checks, losses …) on or after this date (UTC).",
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(reports.FORMATS),
            default="table",
            show_default=True,
        ),
        raw_csv_option,
    ):
        command = decorator(command)
    return command


for _report in reports.all_reports():
    report.add_command(report_command(_report))
report.add_command(html)
