"""Send a run's digest through Apprise: bounded in time, never raising, recorded on the run.

Apprise speaks Slack, Discord, Teams (workflows://), e-mail, JSON webhooks and
dozens more through one URL syntax. Secrets stay out of the command line and
the database: `${NAME}` in a URL is filled from the environment here, and an
Apprise config file fills its own `${NAME}` templates (from
APPRISE_TEMPLATE_<NAME>). Log lines show a service's URL in Apprise's privacy
mode with its query string dropped (privacy mode leaves `+Header=` values
readable); the run's record names services, never addresses.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from verifier.reports import digest
from verifier.store import notifications

if TYPE_CHECKING:
    import apprise
    from sqlite_utils import Database

logger = logging.getLogger(__name__)

#: Seconds a whole send may take, retries included (BACKCHECK_NOTIFY_TIMEOUT).
DEFAULT_TIMEOUT = 30.0
#: Hosts never reached through a proxy: a forward proxy would be asked for its own
#: loopback, never ours (and the test web is such a proxy).
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_TEMPLATE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class NotifyError(Exception):
    """Alerting is misconfigured (a URL, a variable, a config file): the user must fix it."""


@dataclass(frozen=True, slots=True)
class Alerting:
    """Where and when to send digests, as the options gave it (URLs still templated)."""

    urls: tuple[str, ...] = ()
    config: str | None = None
    always: bool = False
    timeout: float = DEFAULT_TIMEOUT
    min_authority: float = digest.DEFAULT_MIN_AUTHORITY

    @property
    def configured(self) -> bool:
        return bool(self.urls or self.config)


def expand(url: str, environ: Mapping[str, str]) -> str:
    """Fill `${NAME}` from the environment, so a secret never sits on the command line.

    >>> expand("json://h/x?+X-Token=${TOKEN}", {"TOKEN": "s3"})
    'json://h/x?+X-Token=s3'
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise NotifyError(
                f"--notify: environment variable {name} is not set (used as ${{{name}}})"
            )
        return environ[name]

    return _TEMPLATE.sub(value, url)


def load(alerting: Alerting) -> apprise.Apprise:
    """The Apprise object for these targets; NotifyError names a bad one."""
    import apprise

    # Services run one after another in the caller's thread (no Apprise pool, whose
    # non-daemon workers would hold the process at exit): `send` bounds the time.
    asset = apprise.AppriseAsset(async_mode=False, service_timeout=0, storage_mode="memory")
    targets = apprise.Apprise(asset=asset)
    for url in alerting.urls:
        if not targets.add(expand(url, os.environ)):
            # The URL as given (templated): its secrets, if any, are still ${NAME}s.
            raise NotifyError(f"--notify: not a URL Apprise can send to: {url}")
    if alerting.config:
        config = apprise.AppriseConfig(asset=asset)
        before = len(targets)
        if not config.add(alerting.config) or not targets.add(config) or len(targets) == before:
            raise NotifyError(f"{alerting.config}: no notification URL Apprise can read in it")
    return targets


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # sent, partial, failed
    targets: int
    error: str | None = None


def masked(url: str) -> str:
    """A service URL fit for a log line: privacy mode already applied, query dropped."""
    return url.split("?", 1)[0]


def send(targets: apprise.Apprise, title: str, body: str, timeout: float) -> Outcome:
    """Send to every target within `timeout` seconds in all; never raises.

    Apprise's own timeouts and `retry=` run inside the bound; a receiver that
    never answers is abandoned in a daemon thread, which dies with the process.
    """
    import apprise

    _no_proxy_for_loopback(os.environ)
    logging.getLogger("apprise").setLevel(logging.WARNING)  # its DEBUG lines carry full URLs
    count = len(targets)
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = targets.notify(
                body=body, title=title, body_format=apprise.NotifyFormat.TEXT
            )
        except Exception as exc:  # a plugin bug must not escape the thread unseen
            box["error"] = exc

    thread = threading.Thread(target=work, name="backcheck-notify", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        logger.warning(
            "notification: no answer within %(timeout)gs from %(targets)s; given up",
            {
                "timeout": timeout,
                "targets": ", ".join(masked(t.url(privacy=True)) for t in targets),
            },
        )
        return Outcome("failed", count, f"no answer within {timeout:g}s")
    if "error" in box:
        logger.warning("notification: Apprise failed: %(error)r", {"error": box["error"]})
        return Outcome("failed", count, f"Apprise failed: {type(box['error']).__name__}")
    result = box["result"]
    failed = [service for service in result if not service]
    for service in failed:
        messages = [entry.message for entry in service.logs()]
        logger.warning(
            "notification to %(url)s failed (%(status)s): %(why)s",
            {
                "url": masked(service.url),
                "status": service.status.name.lower(),
                "why": messages[-1] if messages else "no detail",
            },
        )
    if not failed and result:
        return Outcome("sent", count)
    error = (
        "; ".join(f"{service.name}: {service.status.name.lower()}" for service in failed)
        or f"Apprise: {result.status.name.lower()}"
    )
    return Outcome("partial" if len(failed) < len(list(result)) else "failed", count, error)


def _no_proxy_for_loopback(environ: MutableMapping[str, str]) -> None:
    """Add loopback hosts to NO_PROXY (requests reads it per request, lower case first)."""
    current = environ.get("no_proxy") or environ.get("NO_PROXY") or ""
    names = [name.strip() for name in current.split(",") if name.strip()]
    missing = [host for host in LOOPBACK if host not in names]
    if missing:
        environ["no_proxy"] = environ["NO_PROXY"] = ",".join([*names, *missing])


def notify_run(db: Database, run_id: int, alerting: Alerting) -> dict[str, Any]:
    """Build the run's digest, send it, record what happened; returns the record.

    Raises NotifyError for a run that does not exist, is still running, or for
    bad targets; a failed send is a record, not an exception.
    """
    facts = digest.run_facts(db, run_id)
    if facts is None:
        raise NotifyError(f"run {run_id}: no such run")
    if facts.state == "running":
        raise NotifyError(f"run {run_id} is still running: its digest comes when it ends")
    if not alerting.configured:
        return notifications.record(db, run_id, "not_configured")
    if facts.state == "interrupted":  # resumed later: one digest, when it ends
        return notifications.record(db, run_id, "deferred")
    targets = load(alerting)
    items = digest.collect(db, run_id, alerting.min_authority)
    message = digest.build(facts, items, always=alerting.always)
    if message is None:
        return notifications.record(db, run_id, "nothing_to_send", targets=len(targets))
    outcome = send(targets, message.title, message.body, alerting.timeout)
    details: dict[str, Any] = {"targets": outcome.targets, "counts": message.counts}
    if outcome.error:
        details["error"] = outcome.error
    return notifications.record(db, run_id, outcome.status, **details)


def after_run(db: Database, run_id: int, alerting: Alerting) -> dict[str, Any] | None:
    """`notify_run` for the end of a run: whatever goes wrong is logged and recorded,
    never raised, so alerting can neither fail nor lose the run."""
    try:
        return notify_run(db, run_id, alerting)
    except Exception as exc:
        logger.warning(
            "notification for run %(run)s failed: %(error)s", {"run": run_id, "error": exc}
        )
        try:
            return notifications.record(db, run_id, "failed", error=str(exc))
        except Exception:  # the database itself failed: the log line above is all we have
            return None


_PHRASES = {
    "sent": "notification sent",
    "partial": "notification partly sent",
    "failed": "notification failed",
    "nothing_to_send": "no notification: nothing changed",
    "not_configured": "no notification target configured",
    "deferred": "notification deferred until the run is resumed and ends",
}


def describe(entry: Mapping[str, Any]) -> str:
    """One line for the terminal, e.g. `notification sent to 2 targets (1 lost)`."""
    counts = ", ".join(f"{n} {kind}" for kind, n in (entry.get("counts") or {}).items() if n)
    status = str(entry["status"])
    line = _PHRASES.get(status, f"notification {status}")
    if entry.get("targets") and entry["status"] in ("sent", "partial", "failed"):
        line += f" to {entry['targets']} target{'s' if entry['targets'] != 1 else ''}"
    if counts:
        line += f" ({counts})"
    if entry.get("error"):
        line += f": {entry['error']}"
    return line
