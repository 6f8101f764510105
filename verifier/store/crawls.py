"""Domain-list crawls: the list of a run, the pages it fetched, and its summary.

The frontier itself lives in the crawler's memory only while its domain is
crawled; what is stored (`crawl_pages`, with the links each page queued) is
enough to rebuild it when a killed crawl resumes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from verifier.models import CrawledPage, DomainDone
from verifier.store.storage import now, writing
from verifier.verdict.urls import identity_key


@dataclass(frozen=True, slots=True)
class PendingDomain:
    domain: str
    line: int
    start_urls: tuple[str, ...]


def add_domains(db: Database, run_id: int, entries: Sequence[Any]) -> int:
    """Put the list's domains (`DomainEntry`-like: domain, line, start_urls) in the run.

    A domain already in the run keeps its row (a resumed crawl). Returns how many were new.
    """
    added = 0
    with writing(db):
        for entry in entries:
            cursor = db.execute(
                "insert or ignore into crawl_domains (run_id, domain, line, start_urls, state)"
                " values (?, ?, ?, ?, 'pending')",
                [run_id, entry.domain, entry.line, json.dumps(list(entry.start_urls))],
            )
            added += cursor.rowcount
    return added


def pending_domains(db: Database, run_id: int) -> Iterator[PendingDomain]:
    rows = db.execute(
        "select domain, line, start_urls from crawl_domains"
        " where run_id = ? and state = 'pending' order by line, domain",
        [run_id],
    ).fetchall()
    for domain, line, start_urls in rows:
        yield PendingDomain(domain, line, tuple(json.loads(start_urls)))


def fetched_pages(db: Database, run_id: int, domain: str) -> list[CrawledPage]:
    """What an earlier process of this run fetched on the domain (to rebuild its frontier)."""
    rows = db.execute(
        "select url, depth, http_status, ok, links from crawl_pages"
        " where run_id = ? and domain = ? order by rowid",
        [run_id, domain],
    ).fetchall()
    return [
        CrawledPage(domain, url, depth, status, bool(ok), tuple(json.loads(links or "[]")))
        for url, depth, status, ok, links in rows
    ]


def record(
    db: Database, run_id: int, pages: Sequence[CrawledPage], done: Sequence[DomainDone]
) -> None:
    """Store fetched pages and finished domains in one transaction."""
    stamp = now()
    with writing(db):
        for page in pages:
            db.execute(
                "insert or ignore into crawl_pages (run_id, domain, url_key, url, depth,"
                " http_status, ok, links) values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id,
                    page.domain,
                    identity_key(page.url),
                    page.url,
                    page.depth,
                    page.http_status,
                    int(page.ok),
                    json.dumps(list(page.links)) if page.links else None,
                ],
            )
        for item in done:
            db.execute(
                "update crawl_domains set state = 'done', stopped = ?, finished_at = ?"
                " where run_id = ? and domain = ?",
                [item.stopped, stamp, run_id, item.domain],
            )


#: One row per domain of a crawl run, counted from what was stored (so a resumed run
#: counts the work of every process that took part).
_SUMMARY = """
    with run as (
        select id, started_at, json_extract(sites, '$[0]') as site from runs where id = :run
    )
    select d.domain,
           (select count(*) from crawl_pages p
            where p.run_id = d.run_id and p.domain = d.domain and p.ok) as pages,
           (select count(*) from backlinks b, run
            where b.site = run.site and b.referring_domain = d.domain
              and b.imported_at >= run.started_at
              and exists (select 1 from checks c where c.run_id = d.run_id
                          and c.backlink_id = b.id)) as backlinks_new,
           (select count(*) from backlinks b, run
            where b.site = run.site and b.referring_domain = d.domain
              and b.imported_at < run.started_at
              and exists (select 1 from checks c where c.run_id = d.run_id
                          and c.backlink_id = b.id)) as backlinks_known,
           (select count(*) from competitor_links l, run
            where l.site = run.site and l.domain = d.domain
              and l.last_seen >= run.started_at) as competitor_links,
           (select count(*) from mention_pages m, run
            where m.site = run.site and m.domain = d.domain and m.run_id = d.run_id
              and not m.page_links_to_site and exists (select 1 from mentions x
                  where x.site = m.site and x.page_key = m.page_key)) as unlinked_mentions,
           coalesce(d.stopped, 'pending') as stopped
    from crawl_domains d where d.run_id = :run
    order by d.line, d.domain
"""


def summary(db: Database, run_id: int) -> list[dict[str, Any]]:
    """Per domain: domain, pages, backlinks_new, backlinks_known, competitor_links,
    unlinked_mentions, stopped."""
    return [dict(row) for row in db.query(_SUMMARY, {"run": run_id})]
