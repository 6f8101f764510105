"""Alert options for runs (`--notify URL` ...) and `backcheck notify --run ID`."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import click

from crawler.commands.options import db_option, open_db
from crawler.notify import DEFAULT_TIMEOUT, Alerting, NotifyError, after_run, describe, load
from crawler.notify import notify_run as send_digest
from verifier.reports.digest import DEFAULT_MIN_AUTHORITY

if TYPE_CHECKING:
    from sqlite_utils import Database

_OPTIONS = (
    click.option(
        "--notify",
        "notify_urls",
        multiple=True,
        envvar="BACKCHECK_NOTIFY",
        metavar="URL",
        help="Send the run's digest to this Apprise URL, e.g. json://hooks.example/backcheck, "
        "mailto://smtp.example?from=bc@example&to=me@example or slack://A/B/C; ${NAME} "
        "in it is read from the environment, so secrets stay off the command line "
        "(repeatable; env BACKCHECK_NOTIFY: URLs separated by whitespace).",
    ),
    click.option(
        "--notify-config",
        type=click.Path(exists=True, dir_okay=False),
        envvar="BACKCHECK_NOTIFY_CONFIG",
        metavar="FILE",
        help="An Apprise config file (YAML or text) of URLs to send the digest to, e.g. "
        "alerts.yml; its ${NAME} templates come from APPRISE_TEMPLATE_<NAME> "
        "(env BACKCHECK_NOTIFY_CONFIG).",
    ),
    click.option(
        "--notify-always",
        is_flag=True,
        help="Send a digest even when nothing changed (it says so).",
    ),
    click.option(
        "--notify-timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=DEFAULT_TIMEOUT,
        show_default=True,
        envvar="BACKCHECK_NOTIFY_TIMEOUT",
        metavar="SECONDS",
        help="Time for sending, Apprise's retries included, e.g. 10; past it the send "
        "is given up and recorded as failed (env BACKCHECK_NOTIFY_TIMEOUT).",
    ),
    click.option(
        "--notify-min-authority",
        type=click.FloatRange(min=0),
        default=DEFAULT_MIN_AUTHORITY,
        show_default=True,
        envvar="BACKCHECK_NOTIFY_MIN_AUTHORITY",
        metavar="N",
        help="A newly unreachable link is in the digest when its vendor authority (highest "
        "of domain rating, domain authority, trust flow) is at least N, e.g. 50; 0: "
        "every link (env BACKCHECK_NOTIFY_MIN_AUTHORITY).",
    ),
)


def notify_options(func: Any) -> Any:
    """Add the alert options; the command receives them as one `alerting: Alerting`.

    Targets are checked before the command runs: a bad URL or config file is a
    usage error up front, not a surprise after an hour of crawling.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        alerting = Alerting(
            urls=tuple(kwargs.pop("notify_urls")),
            config=kwargs.pop("notify_config"),
            always=kwargs.pop("notify_always"),
            timeout=kwargs.pop("notify_timeout"),
            min_authority=kwargs.pop("notify_min_authority"),
        )
        if alerting.configured:
            try:
                load(alerting)
            except NotifyError as exc:
                raise click.UsageError(str(exc)) from exc
        return func(*args, alerting=alerting, **kwargs)

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def alert(db: Database, run_id: int, alerting: Alerting) -> None:
    """The end-of-run hook: send the digest, record it, say so on stderr; never raises."""
    entry = after_run(db, run_id, alerting)
    if entry is not None and alerting.configured:
        click.echo(f"run {run_id}: {describe(entry)}", err=True)


@click.command()
@click.option("--run", "run_id", type=int, required=True, help="The run whose digest to send.")
@notify_options
@db_option
def notify(run_id: int, alerting: Alerting, db_path: str) -> None:
    """Send a run's alert digest (again) to the configured targets.

    The digest lists what the run changed: newly lost links (page, reason,
    anchor), regained, nofollowed or followed ones, changed anchors and
    targets, newly unreachable high-value links and new unlinked mentions,
    with a count of each. The outcome is recorded on the run; exit 1 when
    any target failed.

    \b
    Example:
        BACKCHECK_NOTIFY="json://hooks.example/backcheck" backcheck notify --run 12
        export HOOK_TOKEN=...   # used as ${HOOK_TOKEN}, never on the command line
        backcheck notify --run 12 --notify 'json://hooks.example/bc?+X-Token=${HOOK_TOKEN}'
        backcheck notify --run 12 --notify-config alerts.yml --notify-always
    """
    if not alerting.configured:
        raise click.UsageError(
            "no notification target: give --notify URL, BACKCHECK_NOTIFY or --notify-config FILE"
        )
    db = open_db(db_path)
    try:
        entry = send_digest(db, run_id, alerting)
    except NotifyError as exc:
        raise click.ClickException(str(exc)) from exc
    line = f"run {run_id}: {describe(entry)}"
    if entry["status"] in ("failed", "partial"):
        raise click.ClickException(line)
    click.echo(line)
