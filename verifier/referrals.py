"""Import referral traffic: an access log or a GA4 export into the referral tables.

Glue between the readers (`verifier.importers.accesslog`, `.ga4`) and the store
(`verifier.store.referrals`), in one write transaction per file: a failed or
dry-run import leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from verifier.importers.accesslog import Batch, LogImport, Watermark, read_access_log
from verifier.importers.ga4 import Ga4Export, read_ga4
from verifier.importers.referrers import Kind, Referrer
from verifier.store import referrals as store
from verifier.store.storage import writing
from verifier.verdict.urls import identity_key

LOG, GA4 = "log", "ga4"


@dataclass(slots=True)
class Imported:
    """What one import did: the reader's result and the backlink candidates it added."""

    result: LogImport | Ga4Export
    candidates: int


class _DryRun(Exception):
    pass


def _pages(referrers: dict[str, Referrer]) -> store.Pages:
    return {key: (ref.url, ref.domain, ref.kind is Kind.ORIGIN) for key, ref in referrers.items()}


def import_access_log(db: Database, site: str, path: str | Path, dry_run: bool = False) -> Imported:
    """Read the access log at `path` for `site` and store its referral visits."""
    file = str(path)

    def known(head: str) -> Watermark | None:
        found = store.stream(db, site, LOG, head)
        return None if found is None else Watermark(head, found.size, found.crc, found.lines)

    def flush(batch: Batch) -> None:
        store.add_visits(
            db,
            site,
            LOG,
            {(key, day, day): n for (key, day), n in batch.visits.items()},
            _pages(batch.referrers),
            {
                (key, target, identity_key(target)): hits
                for (key, target), hits in batch.broken.items()
            },
        )

    done: Imported | None = None
    try:
        with writing(db):
            result = read_access_log(path, site, known, flush)
            mark = result.watermark
            counts = _log_counts(result)
            stream = store.Stream(mark.size, mark.crc, mark.lines)
            store.record_import(db, site, LOG, mark.head, file, result.layout, stream, counts)
            done = Imported(result, store.settle(db, site, LOG, file))
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    assert done is not None
    return done


def _log_counts(result: LogImport) -> dict[str, object]:
    tally = result.tally
    return {
        "lines": tally.lines,
        "skipped": tally.skipped,
        "malformed": tally.malformed,
        "other_hosts": tally.other_hosts,
        "visits": tally.visits,
        "bots": tally.bots,
        "excluded": dict(tally.excluded),
        "first_day": tally.first_day,
        "last_day": tally.last_day,
    }


def import_ga4(db: Database, site: str, path: str | Path, dry_run: bool = False) -> Imported:
    """Read the GA4 export at `path` for `site`; its counts replace those of the same days."""
    export = read_ga4(path, site)
    digest = hashlib.blake2b(Path(path).read_bytes(), digest_size=16).hexdigest()
    done: Imported | None = None
    try:
        with writing(db):
            store.add_visits(db, site, GA4, export.visits, _pages(export.referrers), replace=True)
            counts = {
                "rows": export.rows,
                "metric": export.metric,
                "visits": export.total,
                "first_day": export.first_day,
                "last_day": export.last_day,
            }
            mark = store.Stream(Path(path).stat().st_size, 0, export.rows)
            store.record_import(db, site, GA4, digest, str(path), "ga4", mark, counts)
            done = Imported(export, store.settle(db, site, GA4, str(path)))
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    assert done is not None
    return done
