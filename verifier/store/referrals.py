"""Referral visits in the database: daily counts per referring page, and backlink candidates.

Counts are kept per source (`log`, `ga4`) and never added together. Log
imports add to a day's count (the importer guarantees that no line is read
twice); GA4 imports replace it (an export states the day's total). The
per-page totals in `referral_pages` are the sum of its days, recomputed for
the pages an import touched (those it marks with `visits` NULL).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from sqlite_utils import Database

from verifier.store.storage import now

#: (page key, UTC day, last day) -> visits; the last day differs from the day only for
#: a GA4 export without a Date column (its rows cover the whole range).
Visits = Mapping[tuple[str, str, str], int]
#: page key -> (page URL, registered domain, only an origin)
Pages = Mapping[str, tuple[str, str, bool]]
#: (page key, our page's URL, its identity key) -> (visits, first day, last day)
Broken = Mapping[tuple[str, str, str], tuple[int, str, str]]


@dataclass(frozen=True, slots=True)
class Stream:
    """What was imported of one log stream (or GA4 file) for a site."""

    size: int
    crc: int
    lines: int


def stream(db: Database, site: str, source: str, name: str) -> Stream | None:
    row = db.execute(
        "select size, crc, lines from referral_imports"
        " where site = ? and source = ? and stream = ?",
        [site, source, name],
    ).fetchone()
    return None if row is None else Stream(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


def add_visits(
    db: Database,
    site: str,
    source: str,
    visits: Visits,
    pages: Pages,
    broken: Broken = {},  # noqa: B006 (read only)
    replace: bool = False,
) -> None:
    """Store a batch of counts: added to the days' counts, or replacing them (`replace`)."""
    db.conn.executemany(
        "insert into referral_pages (site, page_key, source, page_url, domain, origin)"
        " values (?, ?, ?, ?, ?, ?) on conflict do update set visits = null",
        [
            (site, key, source, url, domain, int(origin))
            for key, (url, domain, origin) in pages.items()
        ],
    )
    update = "excluded.visits" if replace else "visits + excluded.visits"
    db.conn.executemany(
        "insert into referral_days (site, page_key, source, day, until, visits)"
        f" values (?, ?, ?, ?, ?, ?) on conflict do update set visits = {update}",
        [(site, key, source, day, until, n) for (key, day, until), n in visits.items()],
    )
    db.conn.executemany(
        "insert into referral_broken (site, page_key, source, target_key, target_url, visits,"
        " first_day, last_day) values (?, ?, ?, ?, ?, ?, ?, ?) on conflict do update set"
        " visits = visits + excluded.visits, first_day = min(first_day, excluded.first_day),"
        " last_day = max(last_day, excluded.last_day)",
        [
            (site, key, source, target_key, target, n, first, last)
            for (key, target, target_key), (n, first, last) in broken.items()
        ],
    )


def record_import(
    db: Database,
    site: str,
    source: str,
    name: str,
    file: str,
    layout: str,
    mark: Stream,
    counts: Mapping[str, object],
) -> None:
    """Remember what was imported of a stream, so that importing it again adds nothing."""
    db.execute(
        "insert into referral_imports (site, source, stream, file, layout, size, crc, lines,"
        " imported_at, first_day, last_day, counts) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " on conflict do update set file = excluded.file, layout = excluded.layout,"
        " size = excluded.size, crc = excluded.crc, lines = excluded.lines,"
        " imported_at = excluded.imported_at,"
        " first_day = coalesce(min(first_day, excluded.first_day), first_day, excluded.first_day),"
        " last_day = coalesce(max(last_day, excluded.last_day), last_day, excluded.last_day),"
        " counts = excluded.counts",
        [
            site,
            source,
            name,
            file,
            layout,
            mark.size,
            mark.crc,
            mark.lines,
            now(),
            counts.get("first_day"),
            counts.get("last_day"),
            json.dumps(dict(counts), default=str),
        ],
    )


def settle(db: Database, site: str, source: str, file: str) -> int:
    """Total the pages an import touched, and add their backlink candidates; returns how many.

    A referring page that no backlink names becomes a candidate with no target
    (any link to the site counts) when it sent visitors to pages that answered,
    and one per broken page of ours it sent visitors to (target: that page).
    """
    stamp = now()
    db.execute(
        "update referral_pages set (visits, first_day, last_day) = (select sum(d.visits),"
        " min(d.day), max(d.until) from referral_days d where d.site = referral_pages.site"
        " and d.page_key = referral_pages.page_key and d.source = referral_pages.source)"
        " where site = ? and source = ? and visits is null",
        [site, source],
    )
    # rowcount, not total_changes(): triggers (domain_links) change rows too
    added = db.execute(
        "insert or ignore into backlinks (site, source_url, target_url, source_key, target_key,"
        " referring_domain, sources, imported_at, consecutive_failures, link_count, candidate)"
        " select p.site, p.page_url, null, p.page_key, '', p.domain, p.source, ?, 0, 0, 1"
        " from referral_pages p"
        " where p.site = ? and p.source = ? and p.origin = 0"
        "   and p.visits > coalesce((select sum(r.visits) from referral_broken r"
        "       where r.site = p.site and r.page_key = p.page_key and r.source = p.source), 0)"
        "   and not exists (select 1 from backlinks b where b.site = p.site"
        "       and b.source_key = p.page_key)",
        [stamp, site, source],
    ).rowcount
    added += db.execute(
        "insert or ignore into backlinks (site, source_url, target_url, source_key, target_key,"
        " referring_domain, sources, imported_at, consecutive_failures, link_count, candidate)"
        " select r.site, p.page_url, r.target_url, r.page_key, r.target_key, p.domain, r.source,"
        " ?, 0, 0, 1 from referral_broken r join referral_pages p on p.site = r.site"
        "   and p.page_key = r.page_key and p.source = r.source"
        " where r.site = ? and r.source = ?",
        [stamp, site, source],
    ).rowcount
    # Which source named each candidate, as for imported backlinks (`import --source`).
    db.execute(
        "insert or ignore into backlink_sources (backlink_id, source, file, imported_at)"
        " select b.id, p.source, ?, ? from referral_pages p join backlinks b"
        "   on b.site = p.site and b.source_key = p.page_key"
        " where p.site = ? and p.source = ? and b.candidate = 1",
        [file, stamp, site, source],
    )
    return added
