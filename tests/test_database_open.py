"""Opening a database: the report views are brought up to date once, not at every open,
and processes opening one database at the same moment (a run's shards) all succeed."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
import sys
from pathlib import Path

from verifier import database


def schema_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("pragma schema_version").fetchone()[0])


def test_an_up_to_date_database_is_opened_without_a_write(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    database.open_db(path).close()
    before = schema_version(path)
    for _ in range(3):
        db = database.open_db(path)
        assert db.conn.total_changes == 0
        db.close()
    assert schema_version(path) == before


def test_a_stale_view_is_made_again(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    database.open_db(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("drop view report_summary")
        conn.execute("create view report_summary as select 1 as old")
    db = database.open_db(path)
    assert "old" not in db["report_summary"].columns_dict
    assert "live_links" in db["report_summary"].columns_dict
    db.close()
    before = schema_version(path)
    database.open_db(path).close()
    assert schema_version(path) == before


def _open(path: str) -> str:
    try:
        database.open_db(path).close()
    except Exception as exc:  # reported to the parent, which names it
        return f"{type(exc).__name__}: {exc}"
    return "ok"


def test_processes_opening_a_stale_database_at_once_all_succeed(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    database.open_db(path).close()
    context = multiprocessing.get_context("fork")
    for _ in range(5):
        with sqlite3.connect(path) as conn:  # every view stale, as after an upgrade
            views = conn.execute("select name from sqlite_master where type = 'view'").fetchall()
            for (name,) in views:
                conn.execute(f'drop view "{name}"')
                conn.execute(f'create view "{name}" as select 1 as old')
        with context.Pool(6) as pool:
            assert pool.map(_open, [str(path)] * 6) == ["ok"] * 6
        db = database.open_db(path)
        assert "live_links" in db["report_summary"].columns_dict
        db.close()


def test_a_crawler_process_that_cannot_open_the_database_says_so(tmp_path: Path) -> None:
    # A shard whose spider cannot be made: its error in full, a finish reason the parent
    # reads, exit code 1 (it once died on Scrapy's "Crawler.stats is not set yet").
    stats = tmp_path / "stats.json"
    args = ["--db", str(tmp_path / "missing" / "b.db"), "--run-id", "1", "--shard", "0/2"]
    done = subprocess.run(
        [sys.executable, "-m", "crawler.runner", *args, "--stats-file", str(stats)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "the crawl could not start" in done.stderr
    assert "cannot open database" in done.stderr
    assert "Crawler.stats is not set" not in done.stderr
    assert json.loads(stats.read_text()) == {"finish_reason": "start_failed"}
