"""Options and helpers shared by the commands."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from verifier import database
from verifier.store import storage


def db_option(func: Any) -> Any:
    return click.option(
        "--db",
        "db_path",
        envvar="BACKCHECK_DB",
        default="backcheck.db",
        show_default=True,
        type=click.Path(dir_okay=False),
        help="SQLite database (env BACKCHECK_DB).",
    )(func)


def overrides_option(func: Any) -> Any:
    """`-s NAME=VALUE` (repeatable): a Scrapy or backcheck setting, as `scrapy crawl -s`."""
    return click.option(
        "-s",
        "--set",
        "overrides",
        multiple=True,
        metavar="NAME=VALUE",
        help="Override a Scrapy or backcheck setting, as `scrapy crawl -s` does (repeatable).",
    )(func)


def quiet_option(func: Any) -> Any:
    return click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors in the log.")(
        func
    )


def site_option(func: Any) -> Any:
    return click.option(
        "--site", help="The site (domain) to work on, when the database holds several."
    )(func)


def open_db(db_path: str) -> Any:
    try:
        return database.open_db(db_path)
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from exc


def since_value(value: dt.datetime | None) -> str | None:
    """The --since value as the database compares it: a date, or a date and time."""
    if value is None:
        return None
    if value.time() == dt.time():
        return value.date().isoformat()
    return value.isoformat(timespec="seconds")
