"""Evidence shared by a backlink's checks (verifier.store.evidence, migration m007)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from verifier import database
from verifier.models import Check, Reason, Status
from verifier.store import evidence, migrations, runs, storage
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


def test_redirects_are_shared_and_details_stay_on_the_check(db: Database) -> None:
    for detail in ("took longer than 30 s", "took longer than 30 s", "refused"):
        failed = Check(1, Status.UNREACHABLE, reason=Reason.TIMEOUT, detail=detail)
        chain = [["http://a.test/2", 301]]
        moved = Check(2, Status.LOST, reason=Reason.REDIRECTED_AWAY, redirect_chain=chain)
        run(db, failed, moved)
    # The detail is a note on this verdict (reports read it from the check itself).
    assert [row["detail"] for row in full(db, 1)] == ["took longer than 30 s"] * 2 + ["refused"]
    assert [row["evidence_id"] for row in full(db, 1)] == [None] * 3
    stored = db.execute("select detail from checks where backlink_id = 1 order by id")
    assert [row[0] for row in stored] == ["took longer than 30 s"] * 2 + ["refused"]
    assert [json.loads(row["redirect_chain"]) for row in full(db, 2)] == [chain] * 3
    assert db.execute("select count(*) from evidence").fetchone()[0] == 1


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


def test_a_database_from_before_m007_opens_and_reads_the_same(tmp_path: Path) -> None:
    """Migration m007 on a database with history: old checks stay readable, vendor
    dates move onto the backlinks, and new checks share their evidence."""
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.migrations.apply(old, stop_before="m007_bounded_growth")
    old["sites"].insert({"domain": SITE})
    old["backlinks"].insert_all(
        {"id": n, "site": SITE, "source_url": f"http://a.test/{n}", "source_key": f"a{n}",
         "target_key": "", "referring_domain": "a.test"} for n in (1, 2)
    )  # fmt: skip
    old["backlink_sources"].insert_all(
        [
            {"backlink_id": 1, "source": "ahrefs", "vendor_first_seen": "2023-05-01"},
            {"backlink_id": 1, "source": "semrush", "vendor_first_seen": "2022-01-09"},
            {"backlink_id": 2, "source": "gsc"},
        ]
    )
    old["runs"].insert({"id": 1, "state": "finished", "sites": json.dumps([SITE])})
    old["checks"].insert(
        {"run_id": 1, "backlink_id": 1, "checked_at": "2024-01-01T00:00:00+00:00",
         "status": "live", "link_html": "<a>old</a>", "detail": "as stored then"}
    )  # fmt: skip
    old.close()

    db = database.open_db(path)
    (row,) = full(db, 1)
    assert (row["link_html"], row["detail"], row["evidence_id"]) == (
        "<a>old</a>",
        "as stored then",
        None,
    )
    vendor = dict(db.execute("select id, vendor_first_seen from backlinks").fetchall())
    assert vendor == {1: "2022-01-09", 2: None}
    run(db, live(1))
    assert full(db, 1)[1]["evidence_id"] is not None
    db.close()


def test_triggers_keep_the_earliest_vendor_date_on_the_backlink(db: Database) -> None:
    def vendor() -> str | None:
        return db.execute("select vendor_first_seen from backlinks where id = 1").fetchone()[0]

    sources = db["backlink_sources"]
    sources.insert({"backlink_id": 1, "source": "ahrefs", "vendor_first_seen": "2023-05-01"})
    sources.insert({"backlink_id": 1, "source": "gsc"})
    assert vendor() == "2023-05-01"
    sources.insert({"backlink_id": 1, "source": "semrush", "vendor_first_seen": "2022-01-09"})
    assert vendor() == "2022-01-09"
    sources.update((1, "semrush"), {"vendor_first_seen": "2024-02-02"})  # a corrected export
    assert vendor() == "2023-05-01"
    sources.delete((1, "ahrefs"))
    assert vendor() == "2024-02-02"
    sources.delete((1, "semrush"))
    assert vendor() is None
