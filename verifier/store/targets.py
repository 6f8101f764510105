"""Our own pages that backlinks point at: which to check in a run, and their answers."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from sqlite_utils import Database

from verifier.models import TargetCheck
from verifier.store.storage import now, writing
from verifier.verdict.urls import identity_key


def pending_targets(db: Database, run_id: int) -> Iterator[tuple[str, str]]:
    """(site, url) of each distinct target of the run's backlinks not yet checked in it.

    The URL is the target's identity key: host case and default port folded.
    """
    rows = db.execute(
        "select distinct b.site, b.target_key"
        " from run_items r join backlinks b on b.id = r.backlink_id"
        # a competitor's pages are not ours to check
        " join sites s on s.domain = b.site and s.role is not 'competitor'"
        " where r.run_id = ? and b.target_key != '' and not exists (select 1 from target_checks t"
        " where t.run_id = r.run_id and t.url_key = b.target_key)"
        " order by b.site, b.target_key",
        [run_id],
    ).fetchall()
    yield from ((site, url) for site, url in rows)


def record_target_checks(db: Database, run_id: int, targets: Sequence[TargetCheck]) -> None:
    stamp = now()
    with writing(db):
        for target in targets:
            db.execute(
                "insert or ignore into target_checks (run_id, site, url_key, url, checked_at,"
                " method, http_status, final_url, redirect_chain, error, detail)"
                " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id,
                    target.site,
                    identity_key(target.url),
                    target.url,
                    stamp,
                    target.method,
                    target.http_status,
                    target.final_url,
                    json.dumps(target.redirect_chain) if target.redirect_chain else None,
                    target.error,
                    target.detail,
                ],
            )
