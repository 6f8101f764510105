"""`backcheck prune`: old repeats go, and every report and `change` answer the same."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from crawler.cli import cli
from tests.test_reports_history import (
    NOW,
    SITE,
    acme_history,
    add_run,
    failed,
    live,
    lost,
    rel,
    unchanged,
)
from verifier import database, reports
from verifier.models import Check, Reason
from verifier.reports import digest
from verifier.reports.html_report import build_html
from verifier.store import evidence, retention

#: Weekly runs 4 to 9 after the three of tests/test_reports_history.py.
LATER = [f"2024-03-{d}T02:00:00+00:00" for d in (22, 29)] + [
    f"2024-04-{d:02d}T02:00:00+00:00" for d in (5, 12, 19, 26)
]
CUTOFF = "2024-04-13T00:00:00+00:00"  # before runs 8 and 9
LATE_NOW = "2024-05-01T00:00:00+00:00"


def later_run(db: Database, run: int) -> int:
    """Run 4..9: mostly what run 3 saw, with a few events and evidence that moves."""
    checks: list[Check] = [
        *unchanged(run),
        lost(2, Reason.LINK_REMOVED, http_status=200),
        rel(8, "some shop", "sponsored noopener"),
        lost(10, Reason.LINK_REMOVED, http_status=200, mentions=1),
        lost(11, Reason.PAGE_NOT_FOUND, http_status=404, final_url="http://k.com/2"),
    ]
    # 9: a third timeout (lost by the N-failures rule) in run 4, back in run 6.
    if run < 6:
        checks.append(failed(9, Reason.TIMEOUT, "timed out after 30 s"))
    else:
        checks.append(live(9, "Mehr lesen"))
    # 6: regained in run 3, live with new text around the link in run 7, removed in run 8:
    # `report lost` shows the context of its last live check.
    if run < 8:
        context = {"context_before": "A shop" if run < 7 else "Our shop", "fetch_ms": run}
        checks.append(live(6, "best blue widgets shop", **context))
    else:
        checks.append(lost(6, Reason.LINK_REMOVED, http_status=200))
    # 12: nofollowed since run 2, followed again from run 5; its context changes in run 7.
    if run < 5:
        checks.append(rel(12, "here", "nofollow"))
    else:
        context = "see" if run < 7 else "look"
        checks.append(live(12, "here", context_before=context))
    return add_run(db, LATER[run - 4], checks)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "history.db"
    db = acme_history(path)
    for run in range(4, 10):
        assert later_run(db, run) == run
    db.close()
    return path


def answers(path: Path) -> dict[str, Any]:
    """Every report with its main variants, `report changes` of every run, the alert
    digests, the HTML report, and the backlinks table itself."""
    db = database.open_db(path)
    got: dict[str, Any] = {}
    variants: list[dict[str, Any]] = [{}, {"since": "2024-03-08"}, {"since": "2024-04-20"}]
    extra = {
        "anchors": [{"by": "category"}],
        "velocity": [{"by": "day"}, {"by": "month"}, {"vendor": True}],
        "changes": [{"run": run} for run in range(1, 10)],
        "backlinks": [{"status": "lost"}, {"status": "unreachable"}],
    }
    for report in reports.all_reports():
        for params in [*variants, *extra.get(report.name, [])]:
            result = reports.run_report(db, report, {"now": LATE_NOW, **params})
            got[f"{report.name} {params}"] = (result.rows, result.notes)
    for run in range(1, 10):
        got[f"digest {run}"] = digest.collect(db, run)
    got["html"] = build_html(db, SITE, now=LATE_NOW)
    got["backlinks"] = list(db.query("select * from backlinks order by id"))
    got["runs"] = list(db.query("select * from runs order by id"))
    db.close()
    return got


def checks_left(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as con:
        rows = con.execute("select backlink_id, run_id from checks order by 1, 2").fetchall()
    con.close()
    return rows


def test_prune_keeps_every_answer(history: Path) -> None:
    before = answers(history)
    db = database.open_db(history)
    result = retention.prune(db, CUTOFF, batch=4)  # several batches
    db.close()
    # Backlink 1, the same in all 9 runs: run 1 (new), the first of the unchanged
    # stretch (2) and the runs after the cutoff (8, 9) stay.
    assert [run for backlink, run in checks_left(history) if backlink == 1] == [1, 2, 8, 9]
    # every backlink is examined: the site's 13 and the competitors' 4 (no checks of theirs)
    assert result.deleted > 20 and result.older == 13 * 7 and result.backlinks == 13 + 4
    assert result.kept == result.older - result.deleted
    assert answers(history) == before


def test_prune_keeps_changes_streak_ends_and_stretch_bounds(history: Path) -> None:
    db = database.open_db(history)
    retention.prune(db, "2099-01-01")  # everything is old
    left = checks_left(history)
    db.close()
    runs_of = {b: [r for backlink, r in left if backlink == b] for b in range(1, 14)}
    assert runs_of[1] == [1, 2, 9]  # new, then one unchanged stretch: its first and last
    assert runs_of[2] == [1, 2, 3, 4, 9]  # live 1-2, lost 3 (event), lost again 4-9
    assert runs_of[9] == [1, 2, 3, 4, 5, 6, 7, 9]  # timeouts 2-3, lost 4 (N failures), …
    # New, nofollowed 2 (stretch 3-4), followed 5 (stretch 6-9: a new context is no event)
    assert runs_of[12] == [1, 2, 3, 4, 5, 6, 9]
    assert runs_of[13] == [1, 2, 9]


def test_change_of_the_next_check_is_the_same_after_pruning(history: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    with sqlite3.connect(history) as con:
        con.execute("vacuum into ?", [str(copy)])  # the README's backup command
    con.close()
    pruned = database.open_db(history)
    assert retention.prune(pruned, "2099-01-01").deleted > 0
    kept = database.open_db(copy)
    for db in (pruned, kept):
        add_run(
            db,
            "2024-05-03T02:00:00+00:00",
            [
                *unchanged(10),
                live(2, "blue widgets"),  # regained
                lost(9, Reason.LINK_REMOVED, http_status=200),
                rel(12, "here", "nofollow"),
            ],
        )
    query = "select backlink_id, change, consecutive_failures from checks where run_id = 10"
    assert list(pruned.query(query)) == list(kept.query(query))
    assert {r["change"] for r in pruned.query(query)} == {
        "unchanged",
        "regained",
        "lost",
        "nofollowed",
    }


def test_a_run_that_may_resume_keeps_its_checks_and_the_one_before(history: Path) -> None:
    db = database.open_db(history)
    db.execute("update runs set state = 'interrupted' where id = 6")
    for run_id in (1, 6):
        db["run_items"].insert_all({"run_id": run_id, "backlink_id": b} for b in range(1, 14))
    result = retention.prune(db, "2099-01-01")
    left = checks_left(history)
    db.close()
    assert [run for backlink, run in left if backlink == 1] == [1, 2, 5, 6, 9]
    # A finished run's items go (only a resumed run reads them); run 6 may resume.
    assert result.run_items_deleted == 13
    with sqlite3.connect(history) as con:
        items = con.execute("select distinct run_id from run_items order by 1").fetchall()
    con.close()
    assert items == [(6,)]


def test_dry_run_counts_and_writes_nothing(history: Path) -> None:
    before = checks_left(history)
    db = database.open_db(history)
    counted = retention.prune(db, CUTOFF, dry_run=True)
    assert checks_left(history) == before
    done = retention.prune(db, CUTOFF)
    db.close()
    assert (counted.deleted, counted.older) == (done.deleted, done.older) and done.deleted > 0


def test_evidence_no_check_names_goes_and_old_inline_evidence_is_shared(history: Path) -> None:
    db = database.open_db(history)
    # A check as written before migration m007: its evidence inline.
    db.execute(
        "update checks set evidence_id = null, link_html = '<a>old</a>', detail = 'inline'"
        " where backlink_id = 13 and run_id = 1"
    )
    # Run 4 of backlink 1 (inside its unchanged stretch) saw other evidence.
    values = [None] * len(evidence.SHARED)
    values[evidence.SHARED.index("context_before")] = "only in run 4"
    db.execute(
        "update checks set evidence_id = ? where backlink_id = 1 and run_id = 4",
        [evidence.shared_id(db, 1, values)],
    )
    full_before = list(db.query("select * from checks_full order by id"))
    result = retention.prune(db, "2099-01-01")
    assert (result.evidence_moved, result.evidence_deleted) == (1, 1)
    assert db.execute(
        "select count(*) from evidence where context_before = 'only in run 4'"
    ).fetchone() == (0,)
    named = {row[0] for row in db.execute("select evidence_id from checks")}
    assert {row[0] for row in db.execute("select id from evidence")} <= named
    left = {row["id"] for row in db.query("select id from checks")}
    full_after = list(db.query("select * from checks_full order by id"))
    assert [
        {k: v for k, v in row.items() if k != "evidence_id"}
        for row in full_before
        if row["id"] in left
    ] == [{k: v for k, v in row.items() if k != "evidence_id"} for row in full_after]
    moved = db.execute(
        "select c.link_html, c.evidence_id is not null from checks c"
        " where backlink_id = 13 and run_id = 1"
    ).fetchone()
    assert moved == (None, 1)
    db.close()


def test_prune_command(history: Path) -> None:
    runner = CliRunner()
    args = ["prune", "--older-than", "2w", "--db", str(history)]
    dry = runner.invoke(cli, [*args, "--dry-run"], catch_exceptions=False)
    assert dry.exit_code == 0, dry.output
    assert "would delete" in dry.output
    done = runner.invoke(cli, [*args, "--json"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    # Two weeks before now: every run of the 2024 history is older.
    assert summary["deleted"] > 0 and summary["backlinks"] == 13 + 4  # competitors too
    bad = runner.invoke(cli, ["prune", "--older-than", "3h", "--db", str(history)])
    assert bad.exit_code == 2 and "not a duration" in bad.output


@pytest.mark.parametrize("value", ["30d", "2w", "86400s"])
def test_older_than_units(value: str, history: Path) -> None:
    result = CliRunner().invoke(
        cli, ["prune", "--older-than", value, "--dry-run", "--db", str(history)]
    )
    assert result.exit_code == 0, result.output
    assert NOW < "2099"  # the history is from 2024: every unit reaches all of it
    assert "would delete" in result.output
