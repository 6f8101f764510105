"""Evidence shared by a backlink's checks (verifier.store.evidence, migration m007)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from verifier import database
from verifier.models import Check, Reason, Status
from verifier.store import evidence, runs, storage
from verifier.store.migrations import SHARED_EVIDENCE_COLUMNS

SITE = "acme.com"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    opened = database.open_db(tmp_path / "e.db")
    storage.save_site(opened, SITE)
    for n in (1, 2):
        storage.upsert_backlink(
            opened, SITE, f"http://a.test/{n}", "https://acme.com/", None, "csv", "t"
        )
    yield opened
    opened.close()


def live(backlink_id: int, context: str = "Read about", fetch_ms: int = 120) -> Check:
    return Check(
        backlink_id,
        Status.LIVE,
        follow=True,
        anchor="Acme",
        link_count=1,
        http_status=200,
        link_html='<a href="https://acme.com/">Acme</a>',
        context_before=context,
        context_after="today.",
        content_type="text/html",
        fetch_ms=fetch_ms,
        size=1000 + fetch_ms,
        content_hash=f"{fetch_ms:064x}",
    )


def run(db: Database, *checks: Check) -> int:
    run_id = runs.start_run(db, [SITE], new_run=True).run_id
    runs.record_checks(db, run_id, list(checks))
    db.execute("update runs set state = 'finished' where id = ?", [run_id])
    return run_id


def full(db: Database, backlink_id: int) -> list[dict]:
    return list(
        db.query("select * from checks_full where backlink_id = ? order by id", [backlink_id])
    )


def test_identical_evidence_is_stored_once_and_shared(db: Database) -> None:
    run(db, live(1, fetch_ms=100), live(2))
    run(db, live(1, fetch_ms=250), live(2))
    # A changed context is a new row; back to the first text shares the first row again.
    run(db, live(1, "Now read about"), live(2))
    run(db, live(1, fetch_ms=90), live(2))
    ids = [row["evidence_id"] for row in full(db, 1)]
    assert ids[0] == ids[1] == ids[3] != ids[2]
    assert db.execute("select count(*) from evidence").fetchone()[0] == 3  # 2 for #1, 1 for #2
    # What every fetch measures stays on the check; the shared part is not repeated there.
    rows = list(db.query("select * from checks where backlink_id = 1 order by id"))
    assert [r["fetch_ms"] for r in rows] == [100, 250, 120, 90]
    assert all(r[c] is None for r in rows for c in SHARED_EVIDENCE_COLUMNS)
    assert [r["context_before"] for r in full(db, 1)] == [
        "Read about", "Read about", "Now read about", "Read about"
    ]  # fmt: skip
    assert full(db, 1)[1]["link_html"] == '<a href="https://acme.com/">Acme</a>'


def test_a_check_without_shared_evidence_has_no_row(db: Database) -> None:
    run(db, Check(1, Status.UNREACHABLE, reason=Reason.TIMEOUT), live(2))
    (row,) = full(db, 1)
    assert row["evidence_id"] is None and row["detail"] is None


def test_error_details_and_redirects_are_shared_too(db: Database) -> None:
    failed = Check(1, Status.UNREACHABLE, reason=Reason.TIMEOUT, detail="took longer than 30 s")
    moved = Check(
        2, Status.LOST, reason=Reason.REDIRECTED_AWAY, redirect_chain=[["http://a.test/2", 301]]
    )
    run(db, failed, moved)
    failed = Check(1, Status.UNREACHABLE, reason=Reason.TIMEOUT, detail="took longer than 30 s")
    moved = Check(
        2, Status.LOST, reason=Reason.REDIRECTED_AWAY, redirect_chain=[["http://a.test/2", 301]]
    )
    run(db, failed, moved)
    assert {row["detail"] for row in full(db, 1)} == {"took longer than 30 s"}
    assert [json.loads(row["redirect_chain"]) for row in full(db, 2)] == [
        [["http://a.test/2", 301]]
    ] * 2
    assert db.execute("select count(*) from evidence").fetchone()[0] == 2


def test_checks_from_before_m007_stay_readable(db: Database) -> None:
    run_id = run(db, live(2))
    db.execute(
        "insert into checks (run_id, backlink_id, checked_at, status, detail, link_html)"
        " values (?, 1, '2024-01-01T00:00:00+00:00', 'live', 'inline', '<a>old</a>')",
        [run_id],
    )
    (row,) = full(db, 1)
    assert (row["detail"], row["link_html"], row["evidence_id"]) == ("inline", "<a>old</a>", None)


def test_a_digest_collision_keeps_the_values_on_the_check(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evidence, "digest", lambda values: 7)
    run(db, live(1))
    run(db, live(1, "Something else"))
    first, second = full(db, 1)
    assert first["evidence_id"] is not None and second["evidence_id"] is None
    assert (first["context_before"], second["context_before"]) == ("Read about", "Something else")
    stored = db.execute("select context_before from checks where id = ?", [second["id"]])
    assert stored.fetchone()[0] == "Something else"


def test_digest_tells_values_apart() -> None:
    assert evidence.digest(["a", None]) == evidence.digest(["a", None])
    assert len({evidence.digest(v) for v in (["a", None], [None, "a"], ["a", ""], ["a"])}) == 4
    assert -(2**63) <= evidence.digest(["x" * 5000]) < 2**63
