"""A writer thread: batches of checks go to SQLite while the crawl goes on.

The crawler's event loop must never wait for the database: with several
crawler processes on one file, a transaction may wait for another process's
lock. The writer owns its own connection (sqlite3 connections are bound to
their thread) and commits each batch in one transaction.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from verifier import runs, storage, targets
from verifier.history import DEFAULT_MAX_FAILURES
from verifier.models import Check, Discovery, TargetCheck


class WriterError(RuntimeError):
    """The writer thread failed; the batches after the failure were not written."""


@dataclass(slots=True)
class Batch:
    checks: list[Check] = field(default_factory=list)
    discoveries: list[Discovery] = field(default_factory=list)
    targets: list[TargetCheck] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.checks) + len(self.discoveries) + len(self.targets)


#: Called on the writer thread after each batch with the settled checks written.
Written = Callable[[Sequence[Check]], None]


class BatchWriter:
    """Write batches on a thread of their own; `close` waits for all of them."""

    def __init__(
        self,
        db_path: str | Path,
        run_id: int,
        max_failures: int = DEFAULT_MAX_FAILURES,
        on_written: Written | None = None,
        depth: int = 4,
    ) -> None:
        self.db_path = db_path
        self.run_id = run_id
        self.max_failures = max_failures
        self.on_written = on_written
        # Bounded: a crawl faster than the disk waits here instead of filling memory.
        self.queue: queue.Queue[Batch | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="backcheck-writer", daemon=True)
        self.thread.start()

    def submit(self, batch: Batch) -> None:
        self._raise()
        if len(batch):
            self.queue.put(batch)

    def close(self) -> None:
        """Write what is queued, stop the thread, and raise if any batch failed."""
        self.queue.put(None)
        self.thread.join()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            raise WriterError(f"writing checks to {self.db_path} failed: {self.error}") from (
                self.error
            )

    def _run(self) -> None:
        db = None
        while True:
            batch = self.queue.get()
            if batch is None:
                break
            if self.error is not None:
                continue  # keep draining so that the crawl never blocks on a full queue
            try:
                if db is None:
                    db = storage.open_db(self.db_path)
                if batch.targets:
                    targets.record_target_checks(db, self.run_id, batch.targets)
                if batch.checks or batch.discoveries:
                    runs.record_checks(
                        db, self.run_id, batch.checks, batch.discoveries, self.max_failures
                    )
                    if self.on_written is not None:
                        self.on_written(batch.checks + [d.check for d in batch.discoveries])
            except Exception as exc:  # reported to the crawl by the next submit/close
                self.error = exc
        if db is not None:
            db.close()
