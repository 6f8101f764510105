"""What alerting did for a run, kept as JSON in `runs.notification`.

The record holds a status, a time, how many targets, the digest's counts and an
error text: never a notification URL or a secret (the caller builds it from
Apprise's results, which name services, not addresses).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from verifier.store.storage import now, writing

#: Every status a record can have; a public contract (add, never rename).
STATUSES = ("sent", "partial", "failed", "nothing_to_send", "not_configured", "deferred")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


def record(db: Database, run_id: int, status: str, **details: Any) -> dict[str, Any]:
    """Store (replace) the run's record; returns it.

    `details`: `targets`, `counts`, `error`, ... (plain JSON values).
    """
    if status not in STATUSES:
        raise ValueError(f"unknown notification status {status!r}")
    if details.get("error"):
        # Belt and braces: an error text quoting a URL could quote its secret.
        details["error"] = _URL.sub("<url>", str(details["error"]))
    entry = {"status": status, "at": now(), **details}
    with writing(db):
        db.execute("update runs set notification = ? where id = ?", [json.dumps(entry), run_id])
    return entry


def recorded(db: Database, run_id: int) -> Mapping[str, Any] | None:
    """The run's record, or None when alerting never ran for it."""
    row = db.execute("select notification from runs where id = ?", [run_id]).fetchone()
    if not row or not row[0]:
        return None
    value: Mapping[str, Any] = json.loads(row[0])
    return value
