"""The writer thread stores batches, and reports a failure instead of losing it silently."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from verifier import runs, storage
from verifier.models import Check, Status
from verifier.writer import Batch, BatchWriter, WriterError


def test_batches_are_written_and_counted(db_path: Path) -> None:
    db = storage.open_db(db_path)
    storage.save_site(db, "acme.com")
    rows = [
        SimpleNamespace(
            line=i, source_url=f"http://b.com/{i}", target_url=None, anchor=None, metrics={}
        )
        for i in range(3)
    ]
    storage.add_backlinks(db, "acme.com", rows, "csv", "x.csv")
    run = runs.start_run(db, ["acme.com"])
    seen: list[int] = []
    writer = BatchWriter(db_path, run.run_id, on_written=lambda checks: seen.append(len(checks)))
    writer.submit(Batch(checks=[Check(1, Status.LIVE), Check(2, Status.LIVE)]))
    writer.submit(Batch())  # empty batches are skipped
    writer.submit(Batch(checks=[Check(3, Status.UNREACHABLE)]))
    writer.close()
    assert seen == [2, 1]
    assert runs.pending_count(db, run.run_id) == 0


def test_a_failing_database_is_reported_on_the_next_call(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-db"
    bogus.write_text("this is not a database" * 100)
    writer = BatchWriter(bogus, 1)
    writer.submit(Batch(checks=[Check(1, Status.LIVE)]))
    with pytest.raises(WriterError, match="cannot open database"):
        writer.close()
