"""Verification runs: start or resume, hand out pending pages, record checks, finish.

A run owns a fixed set of backlinks (`run_items`), chosen when it starts. A
backlink is pending while it has no check in the run, so a run killed at any
moment resumes exactly where its last commit left it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from verifier.models import BacklinkRef, Change, Check, Discovery, FoundIn, Reason, Status
from verifier.store import outreach
from verifier.store.evidence import SHARED, shared_id
from verifier.store.migrations import CHECK_EVIDENCE_COLUMNS, RENDER_COLUMNS, VERDICT_COLUMNS
from verifier.store.storage import StorageError, now, upsert_backlink, writing
from verifier.verdict import recheck
from verifier.verdict.classify import check_failure
from verifier.verdict.history import DEFAULT_MAX_FAILURES, Baseline, settle
from verifier.verdict.recheck import DEFAULT_POLICY, RecheckPolicy

PAGE_BATCH = 2000  # rows per query when streaming pending pages
#: A run's process started at most this long after the run did (clock granularity).
PID_CLOCK_SLACK_S = 2.0
_snapshots = itertools.count(1)


class RunInProgress(StorageError):
    """Another live process is running the run we would resume."""


def _process_started(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), from /proc; None where there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        # Field 22, counted after the command name (which may hold spaces and parentheses).
        ticks = float(stat.rsplit(")", 1)[1].split()[19])
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _alive(pid: int | None, since: str | None = None) -> bool:
    """True when `pid` is a live process other than this one (and, where /proc can tell,
    one that was already running at `since`: a reused pid is not the run's process)."""
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = _process_started(pid)
    if started is not None and since:
        with contextlib.suppress(ValueError):
            if started > datetime.fromisoformat(since).timestamp() + PID_CLOCK_SLACK_S:
                return False
    return True


@dataclass(frozen=True, slots=True)
class RunStart:
    run_id: int
    resumed: bool
    pending: int
    #: (run id, pid) of a run whose process was gone: marked interrupted, its lock taken over.
    took_over: tuple[int, int] | None = None


def _running(db: Database) -> list[tuple[int, str | None, int | None, str | None, str | None]]:
    return db.execute(
        "select id, coalesce(kind, 'verify'), pid, host, coalesce(locked_at, started_at) from runs"
        " where state = 'running' order by id"
    ).fetchall()


def _take_lock(db: Database) -> tuple[int, int] | None:
    """One run at a time per database: refuse while another live process runs one.

    Runs whose process is gone (on this machine) are marked interrupted, so a
    crashed run never blocks the next night's. Called inside the write
    transaction that inserts the new run, so two starts cannot both pass.
    """
    here = socket.gethostname()
    took_over = None
    for run_id, kind, pid, host, since in _running(db):
        if host and host != here:
            raise RunInProgress(
                f"run {run_id} ({kind}) is running on {host} (pid {pid}) since {since};"
                " it cannot be checked from this machine: wait for it to finish"
            )
        if _alive(pid, since):
            raise RunInProgress(
                f"run {run_id} ({kind}) is already running on this database:"
                f" pid {pid} on {host or here} since {since}; wait for it to finish"
            )
        if pid != os.getpid():
            db.execute("update runs set state = 'interrupted' where id = ?", [run_id])
            took_over = (run_id, pid or 0)
    return took_over


def start_run(
    db: Database,
    sites: Sequence[str],
    *,
    limit: int | None = None,
    new_run: bool = False,
    kind: str = "verify",
    backlinks: Sequence[int] | None = None,
) -> RunStart:
    """Resume the unfinished run of this kind over the same sites, or start a new one.

    A `verify` run owns the sites' backlinks (`backlinks`: only these, in this
    order, e.g. the due ones); a discovery run (`crawl`, `mentions`) starts empty
    and gains backlinks as it finds them. Raises `RunInProgress` while another
    process runs any run on this database.
    """
    key = json.dumps(sorted(sites))
    with writing(db):
        took_over = _take_lock(db)
        # Only the latest run over these sites can be resumed: an older unfinished
        # one was abandoned (`new_run`), and its checks must not land after newer ones.
        latest = db.execute(
            "select id, state from runs where sites = ? and coalesce(kind, 'verify') = ?"
            " order by id desc limit 1",
            [key, kind],
        ).fetchone()
        unfinished = latest[0] if latest and latest[1] in ("running", "interrupted") else None
        if unfinished is not None:
            if not new_run:
                db.execute(
                    "update runs set state = 'running', pid = ?, host = ?, locked_at = ?"
                    " where id = ?",
                    [os.getpid(), socket.gethostname(), now(), unfinished],
                )
                return RunStart(unfinished, True, pending_count(db, unfinished), took_over)
            db.execute("update runs set state = 'interrupted' where id = ?", [unfinished])
        started = now()
        run_id = int(
            db.execute(
                "insert into runs (started_at, locked_at, state, sites, pid, kind, host)"
                " values (?, ?, 'running', ?, ?, ?, ?)",
                [started, started, key, os.getpid(), kind, socket.gethostname()],
            ).lastrowid
            or 0
        )
        if kind != "verify":
            return RunStart(run_id, False, 0, took_over)
        if backlinks is not None:
            db.conn.executemany(
                "insert into run_items (run_id, backlink_id) values (?, ?)",
                ((run_id, backlink_id) for backlink_id in backlinks),
            )
        else:
            marks = ",".join("?" * len(sites))
            db.execute(
                f"insert into run_items (run_id, backlink_id) select ?, id from backlinks"
                f" where site in ({marks}) order by id limit ?",
                [run_id, *sites, -1 if limit is None else limit],
            )
    return RunStart(run_id, False, pending_count(db, run_id), took_over)


#: Scrapy's close reason when CLOSESPIDER_TIMEOUT (`verify --max-time`) is reached.
BUDGET_SPENT = "closespider_timeout"
#: Close reasons after which a run is finished (a spent time budget leaves the rest due).
DONE_REASONS = frozenset({"finished", BUDGET_SPENT})


def due_backlinks(
    db: Database, sites: Sequence[str], at: str, limit: int | None = None
) -> list[int]:
    """Ids of the sites' backlinks due at `at` (`next_check_at` NULL or past), most
    valuable first: vendor authority, then followed before not, then oldest."""
    marks = ",".join("?" * len(sites))
    rows = db.execute(
        "select b.id from backlinks b left join ("
        " select backlink_id, max(max(coalesce(domain_rating, 0), coalesce(domain_authority, 0),"
        " coalesce(trust_flow, 0))) as authority from backlink_sources group by backlink_id"
        ") s on s.backlink_id = b.id"
        f" where b.site in ({marks}) and (b.next_check_at is null or b.next_check_at <= ?)"
        " order by coalesce(s.authority, 0) desc, coalesce(b.follow, 0) desc, b.id limit ?",
        [*sites, at, -1 if limit is None else limit],
    ).fetchall()
    return [row[0] for row in rows]


def resumable(db: Database, sites: Sequence[str], kind: str = "verify") -> int | None:
    """The run `start_run` would resume (without `new_run`), if any."""
    row = db.execute(
        "select id, state from runs where sites = ? and coalesce(kind, 'verify') = ?"
        " order by id desc limit 1",
        [json.dumps(sorted(sites)), kind],
    ).fetchone()
    return int(row[0]) if row and row[1] in ("running", "interrupted") else None


def drop_pending(db: Database, run_id: int) -> int:
    """Take the backlinks without a check out of the run (a spent budget: they stay due)."""
    with writing(db):
        return db.execute(
            "delete from run_items where run_id = ? and backlink_id not in"
            " (select backlink_id from checks where run_id = ?)",
            [run_id, run_id],
        ).rowcount


def pending_page_count(db: Database, run_id: int) -> int:
    """Distinct referring pages the run still has to fetch."""
    return int(
        db.execute(
            "select count(distinct b.source_key) from run_items r"
            " join backlinks b on b.id = r.backlink_id left join checks c"
            " on c.run_id = r.run_id and c.backlink_id = r.backlink_id"
            " where r.run_id = ? and c.id is null",
            [run_id],
        ).fetchone()[0]
    )


def set_log(db: Database, run_id: int, path: str) -> None:
    with writing(db):
        db.execute("update runs set log = ? where id = ?", [path, run_id])


def pending_count(db: Database, run_id: int) -> int:
    return int(
        db.execute(
            "select count(*) from run_items r left join checks c"
            " on c.run_id = r.run_id and c.backlink_id = r.backlink_id"
            " where r.run_id = ? and c.id is null",
            [run_id],
        ).fetchone()[0]
    )


def _ref(row: tuple[Any, ...]) -> BacklinkRef:
    return BacklinkRef(row[0], row[1], row[2], row[3], row[4])


def shard_of(domain: str | None, shards: int) -> int:
    """Which of `shards` crawler processes checks pages of this referring domain.

    A whole registered domain goes to one process, so per-domain politeness
    limits hold across processes.
    """
    return zlib.crc32((domain or "").encode("utf-8")) % shards


def _shard_sql(db: Database, shard: tuple[int, int] | None) -> tuple[str, list[int]]:
    if shard is None or shard[1] <= 1:
        return "", []
    db.conn.create_function("backcheck_shard", 2, shard_of, deterministic=True)
    return " and backcheck_shard(b.referring_domain, ?) = ?", [shard[1], shard[0]]


def spread(source_key: str) -> int:
    """The order pages are handed out in: pseudo-random, so hosts interleave.

    In URL order all pages of a host come together, and per-host politeness
    (2 at a time) would leave the crawl's other slots idle.
    """
    return zlib.crc32(source_key.encode("utf-8"))


def pending_pages(
    db: Database, run_id: int, shard: tuple[int, int] | None = None
) -> Iterator[list[BacklinkRef]]:
    """The run's unchecked backlinks, grouped by referring page (one fetch each).

    `shard=(i, n)` keeps the pages of process i of n. The pending set is sorted
    once into a temporary table (on disk past SQLite's cache), then streamed in
    batches: memory stays flat, no read transaction stays open while the crawl
    writes, and the cost is one sort, not one per batch.
    """
    in_shard, shard_args = _shard_sql(db, shard)
    db.conn.create_function("backcheck_spread", 1, spread, deterministic=True)
    table = f"pending_{next(_snapshots)}"  # temp tables are per connection; calls may nest
    db.execute(
        f"create temp table {table} as"
        " select b.id, b.site, b.source_url, b.target_url, b.expected_anchor, b.source_key"
        " from run_items r join backlinks b on b.id = r.backlink_id"
        " left join checks c on c.run_id = r.run_id and c.backlink_id = r.backlink_id"
        " where r.run_id = ? and c.id is null"
        + in_shard
        + " order by backcheck_spread(b.source_key), b.source_key, b.id",
        [run_id, *shard_args],
    )
    try:
        last_row, key = 0, None
        group: list[BacklinkRef] = []
        while True:
            rows = db.execute(
                f"select rowid, * from {table} where rowid > ? order by rowid limit ?",
                [last_row, PAGE_BATCH],
            ).fetchall()
            if not rows:
                break
            for row in rows:
                if group and row[6] != key:
                    yield group
                    group = []
                group.append(_ref(row[1:]))
                key = row[6]
            last_row = rows[-1][0]
        if group:
            yield group
    finally:
        # Also run when the crawl stops early and the generator is collected.
        with contextlib.suppress(sqlite3.Error):
            db.execute(f"drop table if exists temp.{table}")


def _baselines(db: Database, ids: list[int]) -> dict[int, Baseline]:
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        "select id, baseline_status, baseline_follow, baseline_anchor, baseline_target,"
        " consecutive_failures, candidate = 1 and first_seen is null,"  # m008: referrals
        " case when baseline_status = 'live' then found_in end"  # m012: rendering
        f" from backlinks where id in ({marks})",
        ids,
    ).fetchall()
    return {
        row[0]: Baseline(
            status=Status(row[1]) if row[1] else None,
            follow=None if row[2] is None else bool(row[2]),
            anchor=row[3],
            target=row[4],
            consecutive_failures=row[5] or 0,
            candidate=bool(row[6]),
            found_in=FoundIn(row[7]) if row[7] else None,
        )
        for row in rows
    }


# Shared evidence goes to `evidence` (verifier.store.evidence); the rest stays on the check.
_EVIDENCE = [*CHECK_EVIDENCE_COLUMNS, *SHARED, "evidence_id"]
_CHECK_COLUMNS = [
    "run_id",
    "backlink_id",
    "checked_at",
    *VERDICT_COLUMNS,
    *_EVIDENCE,
    *RENDER_COLUMNS,
]
_INSERT_CHECK = (
    f"insert or ignore into checks ({', '.join(_CHECK_COLUMNS)})"
    f" values ({', '.join('?' * len(_CHECK_COLUMNS))})"
)
_UPDATE_BACKLINK = (
    "update backlinks set "
    + ", ".join(f"{c} = ?" for c in VERDICT_COLUMNS)
    + ", last_checked = ?, last_check_id = ?"
    + ", first_seen = coalesce(first_seen, case when ? = 'live' then ? end)"
    + ", last_live = case when ? = 'live' then ? else last_live end"
    + ", lost_since = case when ? = 'lost' then coalesce(lost_since, ?)"
    + " when ? = 'live' then null else lost_since end"
    + ", baseline_status = case when ? = 'unreachable' then baseline_status else ? end"
    + ", baseline_follow = case when ? = 'unreachable' then baseline_follow else ? end"
    + ", baseline_anchor = case when ? = 'unreachable' then baseline_anchor else ? end"
    + ", baseline_target = case when ? = 'unreachable' then baseline_target else ? end"
    # m012: where the link was last found, kept through unreachable checks (as baselines)
    + ", rendered = ?, found_in = case when ? = 'unreachable' then found_in else ? end"
    + " where id = ?"
)


def _value(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list):
        return json.dumps(value)
    return value


def record_checks(
    db: Database,
    run_id: int,
    checks: Sequence[Check],
    discoveries: Sequence[Discovery] = (),
    max_failures: int = DEFAULT_MAX_FAILURES,
    policy: RecheckPolicy = DEFAULT_POLICY,
) -> int:
    """Store a batch of checks in one transaction; returns how many were new.

    A backlink that already has a check in this run keeps it (a resumed or
    duplicated page cannot double a check). Each checked backlink gets its
    `next_check_at` from `policy`.
    """
    stamp = now()
    written = 0
    stored: list[Check] = []
    with writing(db):
        checks = list(checks)
        for found in discoveries:
            backlink_id, _ = upsert_backlink(
                db,
                found.site,
                found.source_url,
                found.target_url,
                None,
                found.source,
                stamp,
                discovered_from=found.discovered_from,
            )
            db.execute(
                "insert or ignore into run_items (run_id, backlink_id) values (?, ?)",
                [run_id, backlink_id],
            )
            db.execute(
                "insert or ignore into backlink_sources (backlink_id, source, imported_at)"
                " values (?, ?, ?)",
                [backlink_id, found.source, stamp],
            )
            found.check.backlink_id = backlink_id
            checks.append(found.check)
        if not checks:
            return 0
        baselines = _baselines(db, [c.backlink_id for c in checks])
        for check in checks:
            settle(check, baselines.get(check.backlink_id, Baseline()), max_failures)
            check.checked_at = check.checked_at or stamp
            # getattr, not dataclasses.asdict: asdict deep-copies every field.
            verdict = [_value(getattr(check, c)) for c in VERDICT_COLUMNS]
            shared = [_value(getattr(check, c)) for c in SHARED]
            evidence_id = shared_id(db, check.backlink_id, shared)
            cursor = db.execute(
                _INSERT_CHECK,
                [run_id, check.backlink_id, check.checked_at]
                + verdict
                + [_value(getattr(check, c)) for c in CHECK_EVIDENCE_COLUMNS]
                # inline only when no shared row may hold it (see evidence.shared_id)
                + (shared if evidence_id is None else [None] * len(shared))
                + [evidence_id]
                + [_value(check.rendered), _value(check.found_in)],
            )
            if not cursor.rowcount:
                continue
            written += 1
            stored.append(check)
            status = check.status.value
            db.execute(
                _UPDATE_BACKLINK,
                [  # in the order of _UPDATE_BACKLINK's placeholders
                    *verdict,
                    check.checked_at,
                    cursor.lastrowid,
                    status,
                    check.checked_at,
                    status,
                    check.checked_at,
                    status,
                    check.checked_at,
                    status,
                    status,
                    status,
                    status,
                    _value(check.follow),
                    status,
                    check.anchor,
                    status,
                    check.observed_target,
                    _value(check.rendered),
                    status,
                    _value(check.found_in),
                    check.backlink_id,
                ],
            )
        _schedule(db, stored, policy)
    return written


def _schedule(db: Database, checks: Sequence[Check], policy: RecheckPolicy) -> None:
    """Set `next_check_at` of freshly checked backlinks (after their row was updated)."""
    facts: dict[int, tuple[str | None, float | None, float | None]] = {}
    ids = [check.backlink_id for check in checks]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for backlink_id, lost_since, authority, visits in db.execute(
            "select b.id, b.lost_since, (select max(max(coalesce(s.domain_rating, 0),"
            " coalesce(s.domain_authority, 0), coalesce(s.trust_flow, 0)))"
            " from backlink_sources s where s.backlink_id = b.id),"
            # referral visits of the last 30 days (m008): logs or GA4, the larger count
            " (select max(v.n) from (select sum(d.visits) as n from referral_days d"
            "  where d.site = b.site and d.page_key = b.source_key"
            "  and d.until >= date('now', '-30 days') group by d.source) v)"
            f" from backlinks b where b.id in ({marks})",
            chunk,
        ):
            facts[backlink_id] = (lost_since, authority, visits)
    db.conn.executemany(
        "update backlinks set next_check_at = ? where id = ?",
        [
            (
                recheck.next_check_at(
                    check.checked_at or now(),
                    check.status.value,
                    check.follow,
                    check.consecutive_failures or 0,
                    *facts.get(check.backlink_id, (None, None, None)),
                    policy,
                ),
                check.backlink_id,
            )
            for check in checks
        ],
    )


def close_dropped(
    db: Database,
    run_id: int,
    max_failures: int = DEFAULT_MAX_FAILURES,
    policy: RecheckPolicy = DEFAULT_POLICY,
) -> int:
    """Give a check to every backlink of a finished crawl that got no answer at all.

    Scrapy can drop a request without calling back (a middleware filter, a
    bug); nothing may vanish silently, so those become `crawl_error` checks.
    """
    dropped = [
        check_failure(ref, Reason.CRAWL_ERROR, "the crawler dropped the request without an answer")
        for refs in pending_pages(db, run_id)
        for ref in refs
    ]
    if dropped:
        record_checks(db, run_id, dropped, max_failures=max_failures, policy=policy)
    return len(dropped)


@dataclass(slots=True)
class RunSummary:
    run_id: int
    state: str
    pages: int = 0
    backlinks: int = 0
    live: int = 0
    followed: int = 0
    lost: int = 0
    newly_lost: int = 0
    regained: int = 0
    unreachable: int = 0
    pending: int = 0
    seconds: float = 0.0
    competitor_links: int = 0  # competitors' backlinks checked (`verify --competitors`)
    competitor_live: int = 0


def summarize(db: Database, run_id: int) -> RunSummary:
    row = db.execute(
        "select count(distinct b.source_key), count(*),"
        " sum(c.status = 'live'), sum(c.status = 'live' and c.follow),"
        " sum(c.status = 'lost'), sum(c.change = ?), sum(c.change = ?),"
        " sum(c.status = 'unreachable')"
        " from checks c join backlinks b on b.id = c.backlink_id"
        # the user's links only: competitors' (`verify --competitors`) are counted apart
        " join sites s on s.domain = b.site and s.role is not 'competitor'"
        " where c.run_id = ?",
        [Change.LOST.value, Change.REGAINED.value, run_id],
    ).fetchone()
    state, started, finished = db.execute(
        "select state, started_at, finished_at from runs where id = ?", [run_id]
    ).fetchone()
    summary = RunSummary(run_id, state, *[int(v or 0) for v in row])
    summary.pending = pending_count(db, run_id)
    rivals = db.execute(
        "select count(*), sum(c.status = 'live') from checks c"
        " join backlinks b on b.id = c.backlink_id"
        " join sites s on s.domain = b.site and s.role = 'competitor' where c.run_id = ?",
        [run_id],
    ).fetchone()
    summary.competitor_links, summary.competitor_live = (int(v or 0) for v in rivals)
    if started and finished:
        delta = datetime.fromisoformat(finished) - datetime.fromisoformat(started)
        summary.seconds = delta.total_seconds()
    return summary


def run_sites(db: Database, run_id: int) -> list[str]:
    """The sites run `run_id` checks (its `runs` row; [] for no such run)."""
    row = db.execute("select sites from runs where id = ?", [run_id]).fetchone()
    return list(json.loads(row[0])) if row and row[0] else []


def finish_run(
    db: Database,
    run_id: int,
    state: str,
    stats: dict[str, Any] | None = None,
    error: str | None = None,
) -> RunSummary:
    """Close a run with its counts and Scrapy's stats; settle outreach targets it won."""
    if state == "finished":
        outreach.settle_won(db, run_sites(db, run_id))
    db.execute(
        "update runs set finished_at = ?, state = ?, stats = ?, error = ? where id = ?",
        [now(), state, json.dumps(stats or {}, default=str), error, run_id],
    )
    summary = summarize(db, run_id)
    db.table("runs").update(
        run_id,
        {
            key: getattr(summary, key)
            for key in (
                "pages",
                "backlinks",
                "live",
                "followed",
                "lost",
                "newly_lost",
                "regained",
                "unreachable",
            )
        },
    )
    return summary
