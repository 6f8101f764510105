"""Open a backcheck database as the commands use it: schema migrated, report views current."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from verifier import reports
from verifier.store import storage


def open_db(path: str | Path) -> Database:
    """Open (creating if needed) the database, with every registered report as a view."""
    return storage.open_db(path, views=reports.view_definitions(reports.all_reports()))
