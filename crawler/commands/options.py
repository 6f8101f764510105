"""Options and helpers shared by the commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, ClassVar

import click

from verifier import database
from verifier.store import runs, storage


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


def console_options(func: Any) -> Any:
    """`-v` (the whole log on the console) and `-q` (no progress, errors only) of a run."""
    func = click.option(
        "-q", "--quiet", is_flag=True, help="No progress; only errors on the console."
    )(func)
    return click.option(
        "-v", "--verbose", is_flag=True, help="Show the whole log on the console (Scrapy's too)."
    )(func)


def site_option(func: Any) -> Any:
    return click.option(
        "--site", help="The site (domain) to work on, when the database holds several."
    )(func)


def open_db(db_path: str, create: bool = False) -> Any:
    """The database at `db_path`; only `create` (init) makes a new one, so a typo in
    `--db` is an error rather than an empty database left behind."""
    if not create and not Path(db_path).exists():
        raise click.ClickException(
            f"{db_path}: no such database; create it with `backcheck init --site DOMAIN"
            f" --db {db_path}`"
        )
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


def start_run(db: Any, sites: list[str], **kwargs: Any) -> runs.RunStart:
    """`runs.start_run` for a command: another live run is exit 1 with its pid, host and
    start; a run left `running` by a process that is gone is taken over with a warning."""
    try:
        started: runs.RunStart = runs.start_run(db, sites, **kwargs)
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    if started.took_over:
        run_id, pid = started.took_over
        click.echo(
            f"warning: run {run_id} was still marked running, but its process (pid {pid})"
            " is gone: marked interrupted, taking over",
            err=True,
        )
    return started


class Duration(click.ParamType):
    """A duration such as `90s`, `45m`, `2h` (units allowed per option), as seconds."""

    name = "DURATION"
    SECONDS: ClassVar[dict[str, int]] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

    def __init__(self, units: str = "smh") -> None:
        self.units = units

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower()
        number, unit = text[:-1], text[-1:]
        if unit not in self.units or not number.isdigit() or int(number) <= 0:
            spelled = ", ".join(f"N{u}" for u in self.units)
            example = f"30{self.units[-1]}"
            self.fail(f"{value!r} is not a duration ({spelled}, e.g. {example})", param, ctx)
        return int(number) * self.SECONDS[unit]
