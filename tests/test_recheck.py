"""The re-check policy, `next_check_at` after each check, due selection and the run lock."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from tests.test_runs import SITE, Row, failed, live, lost
from verifier import database as db_module
from verifier.models import Check
from verifier.store import runs, storage
from verifier.verdict.recheck import RecheckPolicy, interval_days, next_check_at

T0 = "2026-03-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("status", "follow", "failures", "lost_for", "authority", "days"),
    [
        ("live", True, 0, 0, 50, 1.0),  # valuable: at the threshold
        ("live", True, 0, 0, 49.9, 3.0),
        ("live", False, 0, 0, 90, 3.0),  # nofollow is never the daily kind
        ("live", None, 0, 0, None, 3.0),
        ("unreachable", None, 1, 0, 90, 0.0),  # the very next run
        ("unreachable", None, 2, 0, None, 1.0),
        ("unreachable", None, 3, 0, None, 2.0),
        ("unreachable", None, 4, 0, None, 4.0),
        ("unreachable", None, 5, 0, None, 7.0),
        ("unreachable", None, 12, 0, None, 7.0),
        ("unreachable", None, 0, 0, None, 0.0),  # a failure that is not a page error
        ("lost", None, 0, 0, None, 7.0),
        ("lost", None, 0, 55.9, None, 7.0),
        ("lost", None, 0, 56, None, 30.0),
    ],
)
def test_interval(
    status: str,
    follow: bool | None,
    failures: int,
    lost_for: float,
    authority: float | None,
    days: float,
) -> None:
    assert interval_days(status, follow, failures, lost_for, authority, None) == days


def test_visits_make_a_link_valuable_and_policy_is_configurable() -> None:
    assert interval_days("live", True, 0, 0, None, 10) == 1.0
    policy = RecheckPolicy(live_days=5, valuable_authority=80, unreachable_days=(0.5,))
    assert interval_days("live", True, 0, 0, 70, None, policy) == 5
    assert interval_days("unreachable", None, 4, 0, None, None, policy) == 0.5
    assert RecheckPolicy.from_json(policy.to_json()) == policy


def test_next_check_at_counts_lost_weeks_from_lost_since() -> None:
    lost_since = "2026-01-01T00:00:00+00:00"
    assert next_check_at(T0, "lost", None, 0, lost_since, None, None) == (
        "2026-03-31T00:00:00+00:00"  # lost for 59 days: monthly now
    )
    assert next_check_at(T0, "live", True, 0, None, 60, None) == "2026-03-02T00:00:00+00:00"


# --- in the database ----------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = db_module.open_db(tmp_path / "t.db")
    storage.save_site(database, SITE)
    yield database
    database.close()


def add(db: Database, url: str, authority: float | None = None) -> int:
    metrics = {"domain_rating": authority} if authority is not None else {}
    row = Row(url, "https://acme.com/x", metrics=metrics)
    storage.add_backlinks(db, SITE, [row], "ahrefs", "a.csv")
    return int(db.execute("select id from backlinks where source_url = ?", [url]).fetchone()[0])


def run(db: Database, checks: list[Check], at: str) -> None:
    for check in checks:
        check.checked_at = at
    started = runs.start_run(db, [SITE], backlinks=[c.backlink_id for c in checks])
    runs.record_checks(db, started.run_id, checks)
    runs.finish_run(db, started.run_id, "finished")


def next_at(db: Database, backlink_id: int) -> str:
    return str(db["backlinks"].get(backlink_id)["next_check_at"])


def test_each_check_sets_next_check_at(db: Database) -> None:
    strong, weak, gone, down = (
        add(db, "http://a.test/1", 70),
        add(db, "http://b.test/1", 10),
        add(db, "http://c.test/1"),
        add(db, "http://d.test/1", 90),
    )
    assert next_at(db, strong) == "None"  # never checked: due at once
    run(db, [live(strong), live(weak), lost(gone), failed(down)], T0)
    assert next_at(db, strong) == "2026-03-02T00:00:00+00:00"
    assert next_at(db, weak) == "2026-03-04T00:00:00+00:00"
    assert next_at(db, gone) == "2026-03-08T00:00:00+00:00"
    assert next_at(db, down) == T0  # first failure: the very next run
    run(db, [failed(down)], "2026-03-02T00:00:00+00:00")
    assert next_at(db, down) == "2026-03-03T00:00:00+00:00"  # then backing off


def test_due_backlinks_most_valuable_first(db: Database) -> None:
    low, high, nofollow, none = (
        add(db, "http://a.test/1", 20),
        add(db, "http://b.test/1", 80),
        add(db, "http://c.test/1", 80),
        add(db, "http://d.test/1"),
    )
    run(db, [live(low), live(high), live(nofollow, follow=False), live(none)], T0)
    assert runs.due_backlinks(db, [SITE], T0) == []
    later = "2026-03-05T00:00:00+00:00"  # all due again (3 days), the daily one too
    assert runs.due_backlinks(db, [SITE], later) == [high, nofollow, low, none]
    assert runs.due_backlinks(db, [SITE], later, limit=2) == [high, nofollow]
    assert runs.due_backlinks(db, [SITE], "2026-03-02T00:00:00+00:00") == [high]


def test_start_run_with_backlinks_owns_only_those(db: Database) -> None:
    first, second = add(db, "http://a.test/1"), add(db, "http://b.test/1")
    started = runs.start_run(db, [SITE], backlinks=[second])
    assert started.pending == 1
    owned = db.execute("select backlink_id from run_items where run_id = ?", [started.run_id])
    assert [row[0] for row in owned] == [second]
    assert first != second


def test_drop_pending_leaves_the_rest_due(db: Database) -> None:
    done, left = add(db, "http://a.test/1"), add(db, "http://b.test/1")
    started = runs.start_run(db, [SITE])
    runs.record_checks(db, started.run_id, [live(done)])
    assert runs.drop_pending(db, started.run_id) == 1
    summary = runs.finish_run(db, started.run_id, "finished")
    assert (summary.state, summary.pending, summary.backlinks) == ("finished", 0, 1)
    assert next_at(db, left) == "None"


# --- one run at a time ---------------------------------------------------------------


def dead_pid() -> int:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(gone.stdout)


def test_any_live_run_locks_the_database(db: Database) -> None:
    storage.save_site(db, "beta.com")
    crawl = runs.start_run(db, ["beta.com"], kind="crawl")
    db.execute("update runs set pid = 1 where id = ?", [crawl.run_id])  # pid 1 always exists
    with pytest.raises(runs.RunInProgress) as refused:
        runs.start_run(db, [SITE])
    message = str(refused.value)
    assert f"run {crawl.run_id} (crawl)" in message
    assert "pid 1" in message and socket.gethostname() in message and "since 20" in message
    assert db.execute("select count(*) from runs").fetchone()[0] == 1  # nothing written


def test_a_dead_run_is_taken_over(db: Database) -> None:
    storage.save_site(db, "beta.com")
    crawl = runs.start_run(db, ["beta.com"], kind="crawl")
    pid = dead_pid()
    db.execute("update runs set pid = ? where id = ?", [pid, crawl.run_id])
    started = runs.start_run(db, [SITE])
    assert started.took_over == (crawl.run_id, pid)
    state = db.execute("select state from runs where id = ?", [crawl.run_id]).fetchone()[0]
    assert state == "interrupted"


def test_a_reused_pid_is_not_the_run_process(db: Database) -> None:
    if not Path("/proc/1/stat").exists():
        pytest.skip("no /proc: a reused pid cannot be told apart here")
    first = runs.start_run(db, [SITE])
    # pid 1 is alive, but it started after this lock was taken (ten years ago): the
    # run's own process is gone and the pid now names another one.
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3650)).isoformat(timespec="seconds")
    db.execute("update runs set pid = 1, locked_at = ? where id = ?", [long_ago, first.run_id])
    started = runs.start_run(db, [SITE])
    assert started.took_over == (first.run_id, 1)
    assert started.run_id == first.run_id and started.resumed  # and it is resumed
