"""The writer process stores batches, and reports a failure instead of losing it silently."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import ROOT
from verifier import database
from verifier.models import Check, Status
from verifier.store import runs, storage
from verifier.store.writer import Batch, BatchWriter, WriterError


def test_batches_are_written_and_counted(db_path: Path) -> None:
    db = database.open_db(db_path)
    storage.save_site(db, "acme.com")
    rows = [
        SimpleNamespace(
            line=i, source_url=f"http://b.com/{i}", target_url=None, anchor=None, metrics={}
        )
        for i in range(3)
    ]
    storage.add_backlinks(db, "acme.com", rows, "csv", "x.csv")
    run = runs.start_run(db, ["acme.com"])
    seen: list[dict[str, int]] = []
    writer = BatchWriter(db_path, run.run_id, on_written=lambda statuses: seen.append(statuses))
    writer.submit(Batch(checks=[Check(1, Status.LIVE), Check(2, Status.LIVE)]))
    writer.submit(Batch())  # empty batches are skipped
    writer.submit(Batch(checks=[Check(3, Status.UNREACHABLE)]))
    writer.close()
    # A first failure is not a loss yet (history.settle): "unreachable" is as stored.
    assert seen == [{"live": 2}, {"unreachable": 1}]
    assert runs.pending_count(db, run.run_id) == 0


def test_a_failing_database_is_reported_on_the_next_call(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-db"
    bogus.write_text("this is not a database" * 100)
    writer = BatchWriter(bogus, 1)
    writer.submit(Batch(checks=[Check(1, Status.LIVE)]))
    with pytest.raises(WriterError, match="cannot open database"):
        writer.close()


def _site_with_backlinks(db_path: Path, count: int) -> int:
    db = database.open_db(db_path)
    storage.save_site(db, "acme.com")
    rows = [
        SimpleNamespace(
            line=i, source_url=f"http://b.com/{i}", target_url=None, anchor=None, metrics={}
        )
        for i in range(count)
    ]
    storage.add_backlinks(db, "acme.com", rows, "csv", "x.csv")
    return runs.start_run(db, ["acme.com"]).run_id


def test_ctrl_c_reaches_the_crawler_not_the_writer(db_path: Path) -> None:
    """The crawler shuts down on SIGINT/SIGTERM and then closes the writer, which drains."""
    run_id = _site_with_backlinks(db_path, 2)
    writer = BatchWriter(db_path, run_id)
    writer.submit(Batch(checks=[Check(1, Status.LIVE)]))
    deadline = time.monotonic() + 20  # the first batch written: the writer is set up
    while runs.pending_count(database.open_db(db_path), run_id) == 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    for sig in (signal.SIGINT, signal.SIGTERM):
        os.kill(writer.process.pid, sig)
    writer.submit(Batch(checks=[Check(2, Status.LIVE)]))
    writer.close()
    assert runs.pending_count(database.open_db(db_path), run_id) == 0


def test_a_dead_writer_is_reported_not_waited_for(db_path: Path) -> None:
    run_id = _site_with_backlinks(db_path, 1)
    writer = BatchWriter(db_path, run_id, depth=1)
    os.kill(writer.process.pid, signal.SIGKILL)
    writer.process.wait(10)
    with pytest.raises(WriterError, match="exit code -9"):
        for _ in range(5):  # the queue fills up: nobody reads it any more
            writer.submit(Batch(checks=[Check(1, Status.LIVE)]))
        writer.close()


def _crawler(db_path: Path, run_id: int, *lines: str) -> list[str]:
    """A stand-in crawler: starts a writer, prints its pid, then runs `lines`."""
    script = [
        "import time",
        "from verifier.models import Check, Status",
        "from verifier.store.writer import Batch, BatchWriter",
        f"w = BatchWriter({str(db_path)!r}, {run_id})",
        "print(w.process.pid, flush=True)",
        *lines,
    ]
    return [sys.executable, "-c", "\n".join(script)]


def _gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(")")[-1].split()[0] == "Z":  # a zombie is dead
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_the_writer_dies_with_a_killed_crawler(db_path: Path) -> None:
    """Like a thread: a SIGKILLed crawler leaves no writer behind to write late.

    The writer is kept waiting on a lock held here (busy_timeout is 30 s): without
    dying with its parent it would write the batch once the lock is released.
    """
    run_id = _site_with_backlinks(db_path, 1)
    lock = sqlite3.connect(db_path, isolation_level=None)
    lock.execute("begin immediate")
    submit = "w.submit(Batch(checks=[Check(1, Status.LIVE)]))"
    crawler = subprocess.Popen(
        _crawler(db_path, run_id, submit, "time.sleep(60)"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert crawler.stdout is not None
    pid = int(crawler.stdout.readline())
    time.sleep(1.5)  # the writer is up and waiting for the lock
    crawler.kill()
    crawler.wait(10)
    assert _gone(pid, timeout=5)
    lock.execute("rollback")
    lock.close()
    assert runs.pending_count(database.open_db(db_path), run_id) == 1


def test_a_writer_never_closed_ends_with_its_crawler(db_path: Path) -> None:
    """A crawler that exits without `close` (a crash) leaves no writer behind either."""
    run_id = _site_with_backlinks(db_path, 1)
    cmd = _crawler(db_path, run_id, "w.submit(Batch(checks=[Check(1, Status.LIVE)]))")
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert _gone(int(done.stdout))


def test_a_writer_that_reads_pages_stores_their_mentions_and_asks_for_contact_pages(
    db_path: Path,
) -> None:
    """`verify` hands pages to the writer (`PageRead`): it reads them for mentions, stores
    the checks with their terms counted, and answers with the contact pages to fetch."""
    from verifier.mentions.reading import read_verified
    from verifier.models import BacklinkRef, ContactWanted, Fetch, PageRead

    run_id = _site_with_backlinks(db_path, 2)
    db = database.open_db(db_path)
    storage.save_site(db, "acme.com", brands=["Acme"])
    bodies = [
        b'<p>Acme is good. <a href="/contact">Contact us</a></p>',  # the link is gone
        b'<p>We use <a href="https://acme.com/">Acme</a>.</p>',
    ]
    reads = []
    for backlink_id, body in enumerate(bodies, start=1):
        url = f"http://b.com/{backlink_id - 1}"
        fetch = Fetch(url, url, 200, body, "text/html; charset=utf-8")
        refs = [BacklinkRef(backlink_id, "acme.com", url, None)]
        reads.append(PageRead(fetch, refs, read_verified(fetch, refs, {})))
    wanted: list[object] = []
    writer = BatchWriter(db_path, run_id, entry="verifier.readers", on_wanted=wanted.extend)
    writer.submit(Batch(reads=reads))
    writer.drain()
    assert wanted == [ContactWanted("http://b.com/0", "http://b.com/contact")]
    writer.close()
    checks = db.execute("select backlink_id, status, mentions from checks order by 1").fetchall()
    assert checks == [(1, "lost", 1), (2, "live", 1)]
    sql = "select page_url, page_links_to_site from mention_pages order by 1"
    pages = db.execute(sql).fetchall()
    assert pages == [("http://b.com/0", 0), ("http://b.com/1", 1)]


def test_a_plain_writer_refuses_pages_to_read(db_path: Path) -> None:
    from verifier.models import Fetch, PageRead

    run_id = _site_with_backlinks(db_path, 1)
    fetch = Fetch("http://b.com/0", "http://b.com/0", 200, b"<p>x</p>")
    writer = BatchWriter(db_path, run_id)
    writer.submit(Batch(reads=[PageRead(fetch, [], [])]))
    with pytest.raises(WriterError, match="cannot read pages for mentions"):
        writer.close()


def test_pages_are_read_in_the_writer_when_a_core_is_free() -> None:
    from crawler.spiders.verify import reads_in_writer

    assert [reads_in_writer("auto", n, cores=2) for n in (1, 2, 3)] == [True, False, False]
    assert reads_in_writer("auto", 2, cores=4)
    assert [reads_in_writer(v, 1, cores=8) for v in ("0", "false", "1", "true", True)] == [
        False,
        False,
        True,
        True,
        True,
    ]


def test_a_page_whose_reading_fails_keeps_its_checks() -> None:
    from verifier.models import BacklinkRef, Fetch, PageRead
    from verifier.store.writer import _read_pages

    class Broken:
        def read(self, page: PageRead) -> list[object]:
            raise ValueError("boom")

    check = Check(1, Status.LIVE)
    fetch = Fetch("http://b.com/0", "http://b.com/0", 200, b"<p>x</p>")
    batch = Batch(
        reads=[PageRead(fetch, [BacklinkRef(1, "acme.com", fetch.final_url, None)], [check])]
    )
    failures = _read_pages(batch, Broken())
    assert (batch.checks, batch.reads) == ([check], [])
    assert failures == ["reading http://b.com/0 for mentions failed: ValueError('boom')"]


def test_the_crawler_logs_why_the_writer_could_not_read_a_page(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_id = _site_with_backlinks(db_path, 1)
    writer = BatchWriter(db_path, run_id)
    with caplog.at_level("ERROR", logger="verifier.store.writer"):
        writer._handle(("written", {}, [], ["reading http://b.com/0 for mentions failed: boom"]))
    writer.close()
    assert writer.answered == 1
    assert caplog.messages == [
        "reading http://b.com/0 for mentions failed: boom (its checks are kept, without mentions)"
    ]


def test_the_writer_that_reads_pages_yields_the_cores_to_the_crawl(db_path: Path) -> None:
    from verifier.readers import NICENESS

    run_id = _site_with_backlinks(db_path, 1)
    writer = BatchWriter(db_path, run_id, entry="verifier.readers")
    try:
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        deadline = time.monotonic() + 30
        while os.getpriority(os.PRIO_PROCESS, writer.process.pid) == mine:
            assert time.monotonic() < deadline, "the writer never lowered its priority"
            time.sleep(0.05)
        assert os.getpriority(os.PRIO_PROCESS, writer.process.pid) == min(mine + NICENESS, 19)
    finally:
        writer.close()
