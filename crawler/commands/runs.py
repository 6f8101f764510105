"""`backcheck runs`: the run history, and one run with its Scrapy stats."""

from __future__ import annotations

import json
from typing import Any

import click

from crawler.commands.options import db_option, open_db
from verifier import reports
from verifier.reports import runs as history

_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table on the terminal, or JSON.",
)


@click.group(invoke_without_command=True)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Show the latest N runs.",
)
@_FORMAT
@db_option
@click.pass_context
def runs(ctx: click.Context, limit: int, fmt: str, db_path: str) -> None:
    """List the runs, latest first, with the counts stored on each.

    JSON keys: id, started_at, finished_at, duration_s, pages, backlinks, live,
    lost, unreachable, newly_lost, regained, state, notification.

    \b
    Example:
        backcheck runs --limit 7
        backcheck runs --format json | jq '.[0].state'
        backcheck runs show 12
    """
    if ctx.invoked_subcommand is not None:
        return
    rows = history.run_list(open_db(db_path), limit)
    if fmt == "json":
        click.echo(reports.render_json(rows))
        return
    compact = [
        {
            **row,
            "started_at": (row["started_at"] or "")[:16].replace("T", " "),
            "notification": (row["notification"] or {}).get("status"),
        }
        for row in rows
    ]
    columns = [key for key in history.KEYS if key != "finished_at"]  # duration_s says it
    _table(f"runs ({len(rows)})", compact, columns)


@runs.command()
@click.argument("run_id", type=int, metavar="ID")
@_FORMAT
@db_option
def show(run_id: int, fmt: str, db_path: str) -> None:
    """Show one run: its counts, state, notification and Scrapy's stats.

    \b
    Example:
        backcheck runs show 12
        backcheck runs show 12 --format json
    """
    row = history.run_detail(open_db(db_path), run_id)
    if row is None:
        raise click.ClickException(f"no run {run_id} in {db_path}")
    if fmt == "json":
        click.echo(json.dumps(row, ensure_ascii=False, indent=2, default=str))
        return
    stats = row.pop("stats")
    _vertical(f"run {run_id}", row)
    _vertical("Scrapy stats", stats)


def _table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text  # not markup: errors and stats quote URLs from strangers

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="ellipsis", no_wrap=True)
    for row in rows:
        table.add_row(*(Text(_cell(row.get(c))) for c in columns))
    Console().print(table)


def _vertical(title: str, row: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left")
    table.add_column("key", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in row.items():
        table.add_row(Text(key), Text(_cell(value)))
    Console().print(table)


def _cell(value: object) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return reports.cell(value)
