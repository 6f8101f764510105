"""Pruning old checks (`backcheck prune`): keep what the history says, drop the repeats.

A nightly run adds a check per backlink, and night after night most say what the
one before said. Of the checks older than a cutoff, pruning keeps every check
that differs from the backlink's previous one in its verdict or its link
(`STRETCH_COLUMNS`: status, reason, change, follow, rel, anchor, target …) and the
first and last check of each stretch of identical ones, and deletes the rest.
Every event (`change`), every "last live" check and each stretch's bounds stay,
so reports and `change` answer the same: `change` is decided against the
backlink's own baseline columns, which pruning never touches, and the counts of
a run are stored on its `runs` row.

Never deleted: a backlink's latest check (`backlinks.last_check_id`), checks of
a run that may still resume (running, interrupted) and the check just before one
of those (what `verifier.store.outage` restores if that run turns out degraded).
Evidence rows that no remaining check names go too, and so do the `run_items` of
finished runs before the cutoff (only a run that may resume reads them).
Deleting frees pages inside the file; `VACUUM` gives them back to the disk (README).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlite_utils import Database

from verifier.store.evidence import SHARED, shared_id
from verifier.store.storage import writing

#: What a check is compared on with the backlink's previous check: a difference in
#: any of them starts a new stretch. `consecutive_failures` is left out on purpose:
#: it counts up through a stretch of identical failures.
STRETCH_COLUMNS = (
    "status",
    "reason",
    "change",
    "follow",
    "nofollow_source",
    "rel",
    "anchor",
    "observed_target",
    "anchor_changed",
    "target_changed",
    "link_count",
    "http_status",
    "final_url",
)

#: Backlinks per transaction: short enough that a crawl writing beside it never
#: waits long for the lock (the writer's busy timeout is 30 s).
BATCH = 500

#: SQLite's page cache while pruning (negative: KiB), instead of the default 2 MB.
PRUNE_CACHE_KIB = -256 * 1024

#: Runs that may still resume: their checks say what is left to do.
_OPEN_RUNS = "select id from runs where state in ('running', 'interrupted')"


class CheckRow(NamedTuple):
    """One check as pruning sees it."""

    id: int
    checked_at: str
    key: tuple[Any, ...]  # the STRETCH_COLUMNS values
    latest: bool  # backlinks.last_check_id
    open_run: bool  # in a run that may still resume (its state may yet be restored from
    # the check before: verifier.store.outage)


def removable(checks: Sequence[CheckRow], cutoff: str) -> list[int]:
    """Ids of the checks of one backlink (in order) that pruning deletes.

    A check checked before `cutoff` goes when it is inside a stretch of identical
    checks (the same key as the check before it and the one after it), is not the
    latest, is not in a run that may resume and is not just before such a check.

    >>> rows = [CheckRow(n, f"d{n}", ("live",), False, False) for n in range(1, 6)]
    >>> removable(rows, "d9"), removable(rows, "d3")
    ([2, 3, 4], [2])
    >>> removable(rows[:2] + [CheckRow(3, "d3", ("lost",), False, False)] + rows[3:], "d9")
    []
    """
    doomed = []
    last = len(checks) - 1
    for i, check in enumerate(checks):
        if check.latest or check.open_run or check.checked_at >= cutoff or i in (0, last):
            continue
        before, after = checks[i - 1], checks[i + 1]
        if after.open_run or before.key != check.key or after.key != check.key:
            continue
        doomed.append(check.id)
    return doomed


@dataclass(slots=True)
class PruneResult:
    cutoff: str
    backlinks: int = 0
    older: int = 0  # checks made before the cutoff
    deleted: int = 0
    evidence_deleted: int = 0
    evidence_moved: int = 0  # checks from before m007 whose evidence is now shared
    run_items_deleted: int = 0
    seconds: float = 0.0

    @property
    def kept(self) -> int:
        """Checks before the cutoff that stay (events and the bounds of stretches)."""
        return self.older - self.deleted


_COLUMNS = ", ".join(
    ["c.id", "c.backlink_id", "c.checked_at", "c.run_id", "c.evidence_id"]
    + [f"c.{name}" for name in (*STRETCH_COLUMNS, *SHARED)]
)
_KEY = slice(5, 5 + len(STRETCH_COLUMNS))
_INLINE = slice(5 + len(STRETCH_COLUMNS), None)


def prune(db: Database, cutoff: str, *, dry_run: bool = False, batch: int = BATCH) -> PruneResult:
    """Delete the checks `removable` picks among those made before `cutoff` (ISO UTC).

    Works through the backlinks `batch` at a time, one transaction each, so it may
    run beside a crawl and be stopped at any moment. `dry_run` counts, writes nothing.
    """
    started = time.perf_counter()
    result = PruneResult(cutoff)
    # A batch reads and deletes ~BATCH x runs rows all over the file and its indexes:
    # with SQLite's default 2 MB of cache a third of the time went re-reading pages.
    cache = db.execute("pragma cache_size").fetchone()[0]
    db.execute(f"pragma cache_size = {PRUNE_CACHE_KIB}")
    try:
        _prune_all(db, cutoff, result, dry_run, batch)
    finally:
        db.execute(f"pragma cache_size = {int(cache)}")
    result.seconds = time.perf_counter() - started
    return result


def _prune_all(db: Database, cutoff: str, result: PruneResult, dry_run: bool, batch: int) -> None:
    """Every backlink, `batch` at a time (one transaction each), then the run items."""
    after = 0
    while True:
        with writing(db):
            ids = [
                row[0]
                for row in db.execute(
                    "select id from backlinks where id > ? order by id limit ?", [after, batch]
                )
            ]
            if ids:
                _prune_batch(db, ids, cutoff, result, dry_run)
        if not ids:
            break
        result.backlinks += len(ids)
        after = ids[-1]
    finished_runs = (
        "from run_items where run_id in (select id from runs"
        " where state not in ('running', 'interrupted') and started_at < ?)"
    )
    with writing(db):
        if dry_run:
            count = db.execute(f"select count(*) {finished_runs}", [cutoff]).fetchone()[0]
            result.run_items_deleted = int(count)
        else:
            result.run_items_deleted = db.execute(f"delete {finished_runs}", [cutoff]).rowcount


def _prune_batch(
    db: Database, ids: list[int], cutoff: str, result: PruneResult, dry_run: bool
) -> None:
    """Prune the checks of backlinks `ids` (inside the caller's transaction)."""
    marks = ",".join("?" * len(ids))
    open_runs = {row[0] for row in db.execute(_OPEN_RUNS)}
    latest = {
        row[0]
        for row in db.execute(f"select last_check_id from backlinks where id in ({marks})", ids)
    }
    rows = db.execute(
        f"select {_COLUMNS} from checks c where c.backlink_id in ({marks})"
        " order by c.backlink_id, c.id",
        ids,
    ).fetchall()
    doomed: list[int] = []
    start = 0
    for end in range(1, len(rows) + 1):
        if end < len(rows) and rows[end][1] == rows[start][1]:
            continue
        history = [
            CheckRow(row[0], row[2], row[_KEY], row[0] in latest, row[3] in open_runs)
            for row in rows[start:end]
        ]
        doomed += removable(history, cutoff)
        result.older += sum(check.checked_at < cutoff for check in history)
        start = end
    gone = set(doomed)
    kept = [row for row in rows if row[0] not in gone]
    named = {row[4] for row in kept if row[4] is not None}
    # Checks from before migration m007 hold their evidence inline: share it now.
    legacy = [row for row in kept if row[4] is None and any(v is not None for v in row[_INLINE])]
    orphans = {
        row[0] for row in db.execute(f"select id from evidence where backlink_id in ({marks})", ids)
    } - named
    result.deleted += len(doomed)
    result.evidence_moved += len(legacy)
    if dry_run:
        result.evidence_deleted += len(orphans)
        return
    db.conn.executemany("delete from checks where id = ?", ((i,) for i in doomed))
    blank = ", ".join(f"{name} = null" for name in SHARED)
    for row in legacy:
        evidence_id = shared_id(db, row[1], list(row[_INLINE]))
        if evidence_id is not None:
            db.execute(
                f"update checks set evidence_id = ?, {blank} where id = ?", [evidence_id, row[0]]
            )
            orphans.discard(evidence_id)
    result.evidence_deleted += len(orphans)
    db.conn.executemany("delete from evidence where id = ?", ((i,) for i in orphans))
