"""`backcheck outreach`: the queue of pages to ask for a link (list, set, export)."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.commands.options import db_option, open_db, site_option
from crawler.commands.report import raw_csv_option, render
from verifier import reports
from verifier.reports.render import write_csv
from verifier.store import outreach as queue
from verifier.store import storage

#: The export's columns, in order: a public contract for outreach tools.
EXPORT_COLUMNS = (
    "page_url",
    "domain",
    "title",
    "term",
    "kind",
    "context",
    "placement",
    "emails",
    "contact_url",
    "author",
    "status",
    "priority",
    "reason",
)


@click.group()
def outreach() -> None:
    """Work the outreach queue: pages that mention you without linking.

    \b
    Example:
        backcheck outreach list --status new
        backcheck outreach set https://blog.example.org/post contacted --note "mailed Jane"
        backcheck outreach export --out targets.csv
    """


def _rows(db_path: str, site: str | None, status: str | None) -> list[reports.Row]:
    db = open_db(db_path)
    try:
        domain = storage.pick_sites(db, site, one=False)[0] if site else None
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    return reports.run(db, reports.OUTREACH, {"site": domain, "status": status})


@outreach.command("list")
@click.option("--status", type=click.Choice(queue.STATUSES), help="Only targets with this status.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "json", "csv")),
    default="table",
    show_default=True,
)
@raw_csv_option
@site_option
@db_option
def list_(status: str | None, fmt: str, raw_csv: bool, site: str | None, db_path: str) -> None:
    """List outreach targets, best first (see `backcheck report outreach --help`).

    \b
    JSON keys: page_url, domain, title, term, kind, context, placement, status,
    priority, reason, emails (array), contact_url, author, note, updated_at, site.

    \b
    Example:
        backcheck outreach list --status new --format json
    """
    rows = _rows(db_path, site, status)
    render(reports.Result(rows, []), reports.OUTREACH, fmt, raw_csv)


@outreach.command("set")
@click.argument("url")
@click.argument("status", type=click.Choice(queue.STATUSES))
@click.option("--note", help="A note kept with the target (replaces the previous one).")
@site_option
@db_option
def set_(url: str, status: str, note: str | None, site: str | None, db_path: str) -> None:
    """Set a target's status: new, contacted, replied, won, declined or ignored.

    \b
    Example:
        backcheck outreach set https://blog.example.org/post contacted --note "mailed Jane"
        backcheck outreach set https://news.example.net/a ignored
    """
    db = open_db(db_path)
    try:
        [domain] = storage.pick_sites(db, site, one=True)
        found = queue.set_status(db, domain, url, status, note)
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    if not found:
        raise click.ClickException(
            f"{url} is not in the outreach queue of {domain}; see `backcheck outreach list`"
        )
    click.echo(f"{url}: {status}")


@outreach.command("export")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="The CSV file to write.",
)
@click.option("--status", type=click.Choice(queue.STATUSES), help="Only targets with this status.")
@raw_csv_option
@site_option
@db_option
def export(out: str, status: str | None, raw_csv: bool, site: str | None, db_path: str) -> None:
    """Write the queue as CSV for an outreach tool (e-mails joined by `;`).

    \b
    Columns: page_url, domain, title, term, kind, context, placement, emails,
    contact_url, author, status, priority, reason.

    Titles and contexts come from other people's pages: a cell that a spreadsheet
    would run as a formula gets a leading ' (see --raw-csv).

    \b
    Example:
        backcheck outreach export --out targets.csv --status new
    """
    rows = _rows(db_path, site, status)
    values = ({**row, "emails": ";".join(row.get("emails") or [])} for row in rows)
    cells = (["" if v.get(c) is None else v[c] for c in EXPORT_COLUMNS] for v in values)
    try:
        with Path(out).open("w", newline="", encoding="utf-8") as handle:
            write_csv(handle, EXPORT_COLUMNS, cells, raw_csv, lineterminator="\r\n")
    except OSError as exc:
        raise click.ClickException(f"{out}: cannot write: {exc.strerror or exc}") from exc
    click.echo(f"wrote {len(rows)} targets to {out}")
