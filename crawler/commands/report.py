"""`backcheck report NAME`: named queries from verifier.reports, rendered."""

from __future__ import annotations

from typing import Any

import click

from crawler.commands.options import db_option, open_db, site_option
from verifier import reports, storage


@click.group()
def report() -> None:
    """Print a report from the database.

    \b
    Example:
        backcheck report backlinks --status lost --format csv > lost.csv
    """


def render(rows: list[dict[str, Any]], report_def: reports.Report, fmt: str) -> None:
    if fmt == "json":
        click.echo(reports.render_json(rows))
    elif fmt == "csv":
        click.echo(reports.render_csv(rows), nl=False)
    elif fmt == "markdown":
        click.echo(reports.render_markdown(rows, report_def.table_columns), nl=False)
    else:
        from rich.console import Console
        from rich.table import Table

        columns = report_def.table_columns or tuple(rows[0].keys() if rows else ())
        table = Table(title=f"{report_def.title} ({len(rows)})", title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold", no_wrap=column in ("status", "reason"))
        for row in rows:
            table.add_row(*(reports.cell(row.get(c)) for c in columns))
        Console().print(table)


@report.command("backlinks")
@click.option(
    "--status",
    type=click.Choice(["live", "lost", "unreachable"]),
    help="Only backlinks with this status.",
)
@click.option(
    "--format", "fmt", type=click.Choice(reports.FORMATS), default="table", show_default=True
)
@site_option
@db_option
def report_backlinks(status: str | None, fmt: str, site: str | None, db_path: str) -> None:
    """Every backlink with its current verdict (status null: never checked yet).

    \b
    Example:
        backcheck report backlinks --status lost --format json --db backcheck.db
    """
    db = open_db(db_path)
    try:
        domain = storage.pick_sites(db, site, one=False)[0] if site else None
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = reports.run(db, reports.BACKLINKS, {"site": domain, "status": status})
    render(rows, reports.BACKLINKS, fmt)
