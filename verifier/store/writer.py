"""A writer process: batches of checks go to SQLite while the crawl goes on.

The crawler's event loop must never wait for the database: with several
crawler processes on one file, a transaction may wait for another process's
lock. The writer owns its own connection and commits each batch in one
transaction.

It is a process, not a thread: a writer thread shared the crawler's GIL, and
although SQLite releases it while it works, the hand-offs cost the event loop
~0.2 ms per check once the tables grow (a 20,000-page crawl took 8 % longer,
and more CPU in all, than with the writer in a process of its own). It is
started as `python -m verifier.store.writer`, not through multiprocessing, whose
"spawn" re-imports the crawler's main module (Scrapy and all) in the child.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verifier.models import (
    Check,
    CompetitorLink,
    CrawledPage,
    Discovery,
    DomainDone,
    PageContacts,
    PageMentions,
    PageRead,
    TargetCheck,
)
from verifier.store import crawls, mentions, runs, storage, targets
from verifier.verdict.history import DEFAULT_MAX_FAILURES
from verifier.verdict.recheck import DEFAULT_POLICY, RecheckPolicy

if TYPE_CHECKING:
    from sqlite_utils import Database


logger = logging.getLogger(__name__)


class WriterError(RuntimeError):
    """The writer failed; the batches after the failure were not written."""


@dataclass(slots=True)
class Batch:
    checks: list[Check] = field(default_factory=list)
    discoveries: list[Discovery] = field(default_factory=list)
    targets: list[TargetCheck] = field(default_factory=list)
    pages: list[PageMentions] = field(default_factory=list)
    competitor_links: list[CompetitorLink] = field(default_factory=list)
    crawled: list[CrawledPage] = field(default_factory=list)
    domains_done: list[DomainDone] = field(default_factory=list)
    contacts: list[PageContacts] = field(default_factory=list)
    reads: list[PageRead] = field(default_factory=list)  # pages to read for mentions first

    def add(self, item: object) -> bool:
        """Put `item` in its list; False for an item a batch does not hold."""
        for kind, held in self._lists():
            if isinstance(item, kind):
                held.append(item)
                return True
        return False

    def _lists(self) -> tuple[tuple[type, list[Any]], ...]:
        return (
            (PageRead, self.reads),
            (Check, self.checks),
            (Discovery, self.discoveries),
            (TargetCheck, self.targets),
            (PageMentions, self.pages),
            (CompetitorLink, self.competitor_links),
            (CrawledPage, self.crawled),
            (DomainDone, self.domains_done),
            (PageContacts, self.contacts),
        )

    def __len__(self) -> int:
        return (
            len(self.reads)
            + len(self.checks)
            + len(self.discoveries)
            + len(self.targets)
            + len(self.pages)
            + len(self.competitor_links)
            + len(self.crawled)
            + len(self.domains_done)
            + len(self.contacts)
        )


#: Called in the crawler's process after each batch, with how many of its checks
#: (discoveries included) ended in each status once `settle` decided it.
Written = Callable[[Mapping[str, int]], None]

#: Called in the crawler's process with what the writer's reading of `PageRead`s asks the
#: crawl to do (`verifier.models.ContactWanted`: contact pages to fetch).
Wanted = Callable[[list[Any]], None]
#: Builds, in the writer process, what reads a `PageRead`: called with the database and
#: the run id; `read(page) -> items` and `take_wanted() -> list` (`verifier.readers`).
Reading = Callable[["Database", int], Any]

#: Seconds to wait for a writer whose pipe closed to report its exit code.
LIVENESS_POLL = 1.0


class BatchWriter:
    """Write batches in a process of its own; `close` waits for all of them.

    The crawl hands batches to a bounded queue; a sender thread pickles them
    down a pipe (blocking there, with the GIL released, when the writer is
    behind), and the writer answers each batch with its final status counts.
    """

    def __init__(
        self,
        db_path: str | Path,
        run_id: int,
        max_failures: int = DEFAULT_MAX_FAILURES,
        on_written: Written | None = None,
        depth: int = 4,
        policy: RecheckPolicy = DEFAULT_POLICY,
        entry: str = "verifier.store.writer",
        on_wanted: Wanted | None = None,
    ) -> None:
        """`entry`: the writer process's module, `verifier.readers` for one that reads
        `PageRead`s (this module cannot import it: it sits on a higher floor)."""
        self.db_path = db_path
        self.on_written = on_written
        self.on_wanted = on_wanted
        self.submitted = self.answered = 0
        self.error: str | None = None
        # Bounded: a crawl faster than the disk waits here instead of filling memory.
        self.queue: queue.Queue[Batch | None] = queue.Queue(maxsize=depth)
        batches_in, batches_out = os.pipe()
        results_in, results_out = os.pipe()
        self.process = subprocess.Popen(
            [
                *[sys.executable, "-m", entry, str(db_path), str(run_id)],
                *[str(max_failures), str(batches_in), str(results_out), str(os.getpid())],
                policy.to_json(),
            ],
            pass_fds=(batches_in, results_out),
            # Its own session: Ctrl-C and a SIGTERM to the crawler's group reach the
            # crawler, which shuts down cleanly and then closes the writer.
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        os.close(batches_in)  # the writer's ends: closed here, so that its death reads as EOF
        os.close(results_out)
        self.batches = Connection(batches_out, readable=False)
        self.results = Connection(results_in, writable=False)
        self.sender = threading.Thread(target=self._send, name="backcheck-sender", daemon=True)
        self.sender.start()
        self.closed = False

    def submit(self, batch: Batch) -> None:
        self._collect()
        self._raise()
        if len(batch):
            self.submitted += 1
            self.queue.put(batch)

    def drain(self, timeout: float = 60.0) -> None:
        """Wait until the writer has answered every batch submitted so far (or failed)."""
        deadline = time.monotonic() + timeout
        while self.answered < self.submitted and self.error is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                if self.results.poll(min(left, LIVENESS_POLL)):
                    self._handle(self.results.recv())
                elif self.process.poll() is not None:
                    self._collect()
            except EOFError:
                self._collect()

    def close(self) -> None:
        """Write what is queued, stop the process, and raise if any batch failed."""
        if not self.closed:
            self.closed = True
            self.queue.put(None)
            self.sender.join()
            while True:
                try:
                    if self._handle(self.results.recv()) == "closed":
                        break
                except EOFError:  # the writer died before its last answer
                    break
            code = self.process.wait()
            self.results.close()
            if code and self.error is None:
                self.error = f"the writer process ended with exit code {code}"
        self._raise()

    def _send(self) -> None:
        while True:
            batch = self.queue.get()
            try:
                if self.error is None:
                    self.batches.send(batch)
            except (OSError, ValueError) as exc:  # a dead writer: keep draining, never block
                self.error = self.error or f"the writer process is gone ({exc})"
            if batch is None:
                self.batches.close()
                return

    def _collect(self) -> None:
        try:
            while self.results.poll():
                self._handle(self.results.recv())
        except EOFError:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(LIVENESS_POLL)
            code = self.process.returncode
            self.error = self.error or f"the writer process died (exit code {code})"

    def _handle(self, message: tuple[Any, ...]) -> str:
        kind = str(message[0])
        if kind == "written":
            self.answered += 1
            if self.on_written is not None and message[1]:
                self.on_written(message[1])
            if self.on_wanted is not None and len(message) > 2 and message[2]:
                self.on_wanted(message[2])
            for failure in message[3] if len(message) > 3 else ():
                logger.error("%s (its checks are kept, without mentions)", failure)
        elif kind == "error":
            self.error = self.error or str(message[1])
        return kind

    def _raise(self) -> None:
        if self.error is not None:
            raise WriterError(f"writing checks to {self.db_path} failed: {self.error}")


def _detach(parent: int) -> None:
    """Let only the crawler stop the writer: it drains its queue, then returns.

    Ctrl-C and a group SIGTERM reach the crawler, which shuts down cleanly and
    sends the end of the queue; if the crawler is killed outright, the writer
    dies with it (Linux), as a thread would have: the transaction in progress
    rolls back and the resumed run checks those pages again.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    die_with_parent(signal.SIGKILL)
    if os.getppid() != parent:  # the crawler died before prctl took effect
        os._exit(1)


def die_with_parent(signum: int) -> None:
    """Linux: have the kernel send `signum` to this process when its parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signum)  # PR_SET_PDEATHSIG


def _next(batches: Connection) -> Batch | None:
    try:
        batch: Batch | None = batches.recv()
    except EOFError:  # the crawler went away without saying so
        return None
    return batch


def write_batch(
    db: Database,
    run_id: int,
    batch: Batch,
    max_failures: int = DEFAULT_MAX_FAILURES,
    policy: RecheckPolicy = DEFAULT_POLICY,
) -> dict[str, int]:
    """Store one batch, each kind in its own transaction and in the order that keeps the
    data consistent; returns how many of its checks ended in each status.

    The writer process calls it for every batch; so does `verify --redis`'s owner,
    which writes the results that workers send back in its own process.
    """
    statuses: dict[str, int] = {}
    if batch.targets:
        targets.record_target_checks(db, run_id, batch.targets)
    if batch.checks or batch.discoveries:
        runs.record_checks(db, run_id, batch.checks, batch.discoveries, max_failures, policy)
        settled = batch.checks + [d.check for d in batch.discoveries]
        statuses = dict(Counter(c.status.value for c in settled))
    # After the checks: a page's outreach status may rest on a backlink just stored.
    if batch.pages:
        mentions.record_pages(db, run_id, batch.pages)
    if batch.contacts:
        mentions.record_contacts(db, batch.contacts)
    if batch.competitor_links:
        mentions.record_competitor_links(db, batch.competitor_links)
    # Last: a page counts as fetched only once what it said is stored.
    if batch.crawled or batch.domains_done:
        crawls.record(db, run_id, batch.crawled, batch.domains_done)
    return statuses


def _serve(
    batches: Connection,
    results: Connection,
    db_path: str,
    run_id: int,
    max_failures: int,
    policy: RecheckPolicy = DEFAULT_POLICY,
    reading: Reading | None = None,
) -> None:
    db = None
    reader = None
    failed = False
    try:
        while (batch := _next(batches)) is not None:
            if failed:
                continue  # keep draining so that the crawl never blocks on a full queue
            try:
                if db is None:
                    db = storage.open_db(db_path)
                wanted: list[Any] = []
                failures: list[str] = []
                if batch.reads:
                    if reading is None:
                        raise WriterError("this writer cannot read pages for mentions")
                    reader = reader or reading(db, run_id)
                    failures = _read_pages(batch, reader)
                    wanted = reader.take_wanted()
                statuses = write_batch(db, run_id, batch, max_failures, policy)
                results.send(("written", statuses, wanted, failures))
            except Exception as exc:  # reported to the crawl by the next submit/close
                results.send(("error", str(exc)))
                failed = True
        results.send(("closed",))
    finally:
        if db is not None:
            db.close()


def _read_pages(batch: Batch, reader: Any) -> list[str]:
    """Put each page's items, read for mentions, in the batch, as the crawler would have;
    returns why pages could not be read (the crawler logs it)."""
    failures = []
    pages, batch.reads = batch.reads, []
    for page in pages:
        try:
            items = reader.read(page)
        except Exception as exc:  # a page that brings out a bug keeps its checks, unread
            failures.append(f"reading {page.fetch.final_url} for mentions failed: {exc!r}")
            items = page.items
        for item in items:  # in place of the page: its checks, rows and discoveries
            batch.add(item)
    return failures


def main(argv: list[str] | None = None, reading: Reading | None = None) -> None:
    """The writer process: `python -m verifier.store.writer DB RUN_ID MAX_FAILURES IN OUT PARENT
    POLICY` (POLICY: `RecheckPolicy.to_json`); `reading` reads `PageRead`s.

    (Started by `BatchWriter`.)
    """
    db_path, run_id, max_failures, batches, results, parent, policy = argv or sys.argv[1:]
    _detach(int(parent))
    _serve(
        Connection(int(batches), writable=False),
        Connection(int(results), readable=False),
        db_path,
        int(run_id),
        int(max_failures),
        RecheckPolicy.from_json(policy),
        reading,
    )


if __name__ == "__main__":
    main()
