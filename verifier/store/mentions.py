"""Store what discovery read: brand mentions per page, contacts, links to competitors.

A page is keyed by `identity_key` (as a backlink's source page is). Reading a
page again refreshes its row: terms no longer on it are dropped, `first_seen`
stays, and every page that is an outreach target (a mention or an image use and
no link to the site) gets an `outreach` row the first time it is seen.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlite_utils import Database

from verifier.models import CompetitorLink, PageContacts, PageMentions
from verifier.store.outreach import OPEN, open_target
from verifier.store.storage import now, writing
from verifier.verdict.urls import host_of, identity_key, registered_domain

_UPSERT_PAGE = """
    insert into mention_pages (site, page_key, page_url, domain, title, page_noindex,
        page_links_to_site, contact_url, reason, source, sources, first_seen, last_seen, run_id)
    values (:site, :page_key, :page_url, :domain, :title, :noindex, :links, :contact_url,
        :reason, :source, :source, :stamp, :stamp, :run_id)
    on conflict (site, page_key) do update set
        page_url = excluded.page_url, title = excluded.title,
        page_noindex = excluded.page_noindex, page_links_to_site = excluded.page_links_to_site,
        contact_url = coalesce(excluded.contact_url, contact_url),
        reason = case when excluded.page_links_to_site then null
                      else coalesce(excluded.reason, reason) end,
        sources = case when instr(',' || sources || ',', ',' || excluded.source || ',')
                       then sources else sources || ',' || excluded.source end,
        last_seen = excluded.last_seen, run_id = excluded.run_id
"""
_UPSERT_MENTION = """
    insert into mentions (site, page_key, term, kind, context, placement, linked,
        first_seen, last_seen)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?)
    on conflict (site, page_key, term) do update set
        kind = excluded.kind, context = excluded.context, placement = excluded.placement,
        linked = excluded.linked, last_seen = excluded.last_seen
"""


def _forget_mentions(
    db: Database, site: str, key: str, links: bool, stamp: str, run_id: int | None
) -> None:
    """A page read again without any mention: its terms go, its row (if any) says so."""
    cursor = db.execute(
        "update mention_pages set page_links_to_site = ?, last_seen = ?, run_id = ?,"
        " reason = case when ? then null else reason end where site = ? and page_key = ?",
        [int(links), stamp, run_id, int(links), site, key],
    )
    if cursor.rowcount:
        db.execute("delete from mentions where site = ? and page_key = ?", [site, key])


def is_target(page: PageMentions) -> bool:
    """An outreach target: it mentions the site (or shows its image) and links to it nowhere."""
    return bool(page.mentions) and not page.links_to_site


def record_pages(db: Database, run_id: int | None, pages: Sequence[PageMentions]) -> None:
    """Store each page's mentions and contacts in one transaction; open outreach targets."""
    stamp = now()
    with writing(db):
        for page in pages:
            key = identity_key(page.page_url)
            if not page.mentions:
                _forget_mentions(db, page.site, key, page.links_to_site, stamp, run_id)
                continue
            db.execute(
                _UPSERT_PAGE,
                {
                    "site": page.site,
                    "page_key": key,
                    "page_url": page.page_url,
                    "domain": registered_domain(host_of(page.page_url)),
                    "title": page.title,
                    "noindex": int(page.noindex),
                    "links": int(page.links_to_site),
                    "contact_url": page.contact_url,
                    "reason": page.reason,
                    "source": page.source,
                    "stamp": stamp,
                    "run_id": run_id,
                },
            )
            terms = [mention.term for mention in page.mentions]
            marks = ",".join("?" * len(terms))
            db.execute(
                f"delete from mentions where site = ? and page_key = ? and term not in ({marks})",
                [page.site, key, *terms],
            )
            for mention in page.mentions:
                db.execute(
                    _UPSERT_MENTION,
                    [
                        page.site,
                        key,
                        mention.term,
                        mention.kind.value,
                        mention.context,
                        mention.placement.value,
                        int(mention.linked),
                        stamp,
                        stamp,
                    ],
                )
            for contact in page.contacts:
                db.execute(
                    "insert or ignore into contacts (page_key, page_url, kind, value, found_on,"
                    " first_seen) values (?, ?, ?, ?, ?, ?)",
                    [
                        key,
                        page.page_url,
                        contact.kind.value,
                        contact.value,
                        contact.found_on,
                        stamp,
                    ],
                )
            if is_target(page):
                open_target(db, page.site, key, page.page_url, stamp)


def record_contacts(db: Database, found: Sequence[PageContacts]) -> None:
    """Attach addresses read on a contact page to the target pages they serve, and note
    that their contact page was read (even when it gave no address)."""
    stamp = now()
    with writing(db):
        for item in found:
            key = identity_key(item.page_url)
            db.execute(
                "update mention_pages set contact_read_at = ?"
                " where page_key = ? and contact_url is not null",
                [stamp, key],
            )
            for contact in item.contacts:
                db.execute(
                    "insert or ignore into contacts (page_key, page_url, kind, value, found_on,"
                    " first_seen) values (?, ?, ?, ?, ?, ?)",
                    [
                        key,
                        item.page_url,
                        contact.kind.value,
                        contact.value,
                        contact.found_on,
                        stamp,
                    ],
                )


def record_competitor_links(db: Database, links: Sequence[CompetitorLink]) -> None:
    """Store links to competitors; a link seen again keeps its first_seen."""
    stamp = now()
    with writing(db):
        for link in links:
            db.execute(
                "insert into competitor_links (site, competitor, page_key, page_url, domain,"
                " target_key, target_url, follow, rel, nofollow_source, anchor, first_seen,"
                " last_seen) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " on conflict (site, page_key, target_key) do update set"
                " page_url = excluded.page_url, target_url = excluded.target_url,"
                " follow = excluded.follow, rel = excluded.rel,"
                " nofollow_source = excluded.nofollow_source, anchor = excluded.anchor,"
                " last_seen = excluded.last_seen",
                [
                    link.site,
                    link.competitor,
                    identity_key(link.page_url),
                    link.page_url,
                    registered_domain(host_of(link.page_url)),
                    identity_key(link.target_url),
                    link.target_url,
                    int(link.follow),
                    link.rel,
                    link.nofollow_source.value if link.nofollow_source else None,
                    link.anchor,
                    stamp,
                    stamp,
                ],
            )


def open_target_pages(db: Database, sites: Sequence[str]) -> list[tuple[str, str]]:
    """(site, page URL) of each open outreach target (new, contacted, replied) that is
    not a backlink's page: those are fetched for their backlinks anyway."""
    marks = ",".join("?" * len(sites))
    states = ",".join("?" * len(OPEN))
    rows = db.execute(
        f"select o.site, o.page_url from outreach o where o.site in ({marks})"
        f" and o.status in ({states}) and not exists (select 1 from backlinks b"
        " where b.site = o.site and b.source_key = o.page_key)"
        " order by o.site, o.page_key",
        [*sites, *OPEN],
    ).fetchall()
    return [(site, url) for site, url in rows]


def is_stored(db: Database, page: PageMentions) -> bool:
    """True when the page has a row (it mentioned the site when last read)."""
    row = db.execute(
        "select 1 from mention_pages where site = ? and page_key = ?",
        [page.site, identity_key(page.page_url)],
    ).fetchone()
    return row is not None
