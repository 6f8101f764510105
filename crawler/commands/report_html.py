"""`backcheck report html`: the link profile as one self-contained HTML file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from crawler.commands.options import db_option, open_db, since_value, site_option
from verifier.reports import html_report
from verifier.store import storage


@click.command("html", short_help="One site's link profile as a self-contained HTML file")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The HTML file to write (replaced if it exists).",
)
@site_option
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    metavar="DATE",
    help="Only events (new, lost, regained …) on or after this date (UTC).",
)
@db_option
def html(out: Path, site: str | None, since: dt.datetime | None, db_path: str) -> None:
    """Write one site's link profile as a single self-contained HTML file.

    The summary, link velocity per week, follow ratio and anchor categories as
    charts (inline SVG), the referring domains and the reclamation queue (the
    `lost` report) as tables. The file loads nothing from the network (no CDN,
    no fonts, no external scripts): open it from disk, mail it, archive it.

    \b
    Example:
        backcheck report html --out report.html
        backcheck report html --out acme.html --site acme.com --since 2024-01-01
    """
    db = open_db(db_path)
    try:
        domain = storage.pick_sites(db, site, one=True)[0]
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    page = html_report.build_html(db, domain, since=since_value(since))
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"{out}: cannot write: {exc.strerror}") from exc
    click.echo(f"wrote {out.resolve()} ({len(page.encode('utf-8')) / 1024:,.0f} KB)")
