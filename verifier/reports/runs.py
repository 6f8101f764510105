"""Run history: one row per run, with the counts stored on it when it closed.

The counts are the run's own (stored by `verifier.store.runs.finish_run`), so
pruning old checks never changes them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlite_utils import Database

#: `backcheck runs` JSON keys, in order.
KEYS = (
    "id",
    "started_at",
    "finished_at",
    "duration_s",
    "pages",
    "backlinks",
    "live",
    "lost",
    "unreachable",
    "newly_lost",
    "regained",
    "state",
    "notification",
)
_SELECT = (
    "select id, started_at, finished_at, pages, backlinks, live, lost, unreachable, newly_lost,"
    " regained, state, notification, coalesce(kind, 'verify') as kind, sites, pid, host, error,"
    " stats from runs"
)


def duration_s(started_at: str | None, finished_at: str | None) -> float | None:
    """Seconds between two stored times; None while a run has not finished.

    >>> duration_s("2026-01-01T00:00:00+00:00", "2026-01-01T00:01:30+00:00")
    90.0
    """
    if not started_at or not finished_at:
        return None
    delta = dt.datetime.fromisoformat(finished_at) - dt.datetime.fromisoformat(started_at)
    return delta.total_seconds()


def _row(record: dict[str, Any]) -> dict[str, Any]:
    row = {key: record.get(key) for key in KEYS}
    row["duration_s"] = duration_s(record["started_at"], record["finished_at"])
    notification = record.get("notification")
    row["notification"] = json.loads(notification) if notification else None
    return row


def run_list(db: Database, limit: int | None = None) -> list[dict[str, Any]]:
    """The latest runs first."""
    cursor = db.execute(f"{_SELECT} order by id desc limit ?", [-1 if limit is None else limit])
    names = [d[0] for d in cursor.description]
    return [_row(dict(zip(names, values, strict=True))) for values in cursor.fetchall()]


def run_detail(db: Database, run_id: int) -> dict[str, Any] | None:
    """One run: the list's keys, then kind, sites, pid, host, error and Scrapy's stats
    (under Scrapy's own stat names)."""
    cursor = db.execute(f"{_SELECT} where id = ?", [run_id])
    names = [d[0] for d in cursor.description]
    values = cursor.fetchone()
    if values is None:
        return None
    record = dict(zip(names, values, strict=True))
    row = _row(record)
    row["kind"] = record["kind"]
    row["sites"] = json.loads(record["sites"]) if record["sites"] else []
    for key in ("pid", "host", "error"):
        row[key] = record[key]
    row["stats"] = json.loads(record["stats"]) if record["stats"] else {}
    return row
