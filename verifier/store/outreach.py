"""The outreach queue: a status per target page, set by people or won by a link."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlite_utils import Database

from verifier.store.storage import StorageError, now, writing
from verifier.verdict.urls import identity_key

#: Every outreach status; a public contract (add, never rename).
STATUSES = ("new", "contacted", "replied", "won", "declined", "ignored")
#: Targets still being worked on: every verify re-reads their pages.
OPEN = ("new", "contacted", "replied")


def open_target(db: Database, site: str, page_key: str, page_url: str, stamp: str) -> None:
    """Add a page to the queue as `new`; a page already in it keeps its status."""
    db.execute(
        "insert or ignore into outreach (site, page_key, page_url, status, created_at, updated_at)"
        " values (?, ?, ?, 'new', ?, ?)",
        [site, page_key, page_url, stamp, stamp],
    )


def set_status(db: Database, site: str, url: str, status: str, note: str | None) -> int:
    """Set a target's status (and note); returns how many targets matched (0 or 1)."""
    if status not in STATUSES:
        raise StorageError(f"unknown outreach status {status!r}; one of {', '.join(STATUSES)}")
    key = identity_key(url)
    with writing(db):
        cursor = db.execute(
            "update outreach set status = ?, note = coalesce(?, note), updated_at = ?"
            " where site = ? and page_key = ?",
            [status, note, now(), site, key],
        )
    return int(cursor.rowcount)


def settle_won(db: Database, sites: list[str] | None = None) -> int:
    """Mark `won` every open target whose page now carries a live backlink to its site.

    Returns how many targets were won.
    """
    if sites is not None and not sites:
        return 0
    marks = ",".join("?" * len(sites or []))
    in_sites = f" and site in ({marks})" if sites else ""
    live = (
        "select b.id from backlinks b where b.site = outreach.site"
        " and b.source_key = outreach.page_key and b.status = 'live' order by b.id limit 1"
    )
    states = ",".join("?" * len(OPEN))
    with writing(db):
        cursor = db.execute(
            f"update outreach set status = 'won', updated_at = ?, backlink_id = ({live})"
            f" where status in ({states}) and exists ({live}){in_sites}",
            [now(), *OPEN, *(sites or [])],
        )
    return int(cursor.rowcount)


#: The queued targets whose contact page is known but was never read (its fetch failed,
#: or the run ended first): their contacts are read again by the next run that reads them.
CONTACTS_UNREAD = (
    "select 1 from mention_pages m where m.site = outreach.site"
    " and m.page_key = outreach.page_key and m.contact_url is not null"
    " and m.contact_read_at is null"
)


def wants_contacts(db: Database, site: str, url: str) -> bool:
    """Whether reading `url` for `site` should look for who to ask: a page new to the
    site's outreach queue, or a queued one whose contact page was never read."""
    row = db.execute(
        f"select exists ({CONTACTS_UNREAD}) from outreach where site = ? and page_key = ?",
        [site, identity_key(url)],
    ).fetchone()
    return row is None or bool(row[0])


def contacts_read(db: Database, sites: Sequence[str]) -> set[tuple[str, str]]:
    """(site, page_key) of every queued target `wants_contacts` says no for: its contacts
    were read when it entered the queue (a Redis owner hands this to its workers)."""
    return {(site, key) for site, _, key in read_targets(db, sites)}


def read_targets(db: Database, sites: Sequence[str]) -> Iterator[tuple[str, str, str]]:
    """(site, page_url, page_key) of the queued targets of `contacts_read`."""
    if not sites:
        return
    marks = ",".join("?" * len(sites))
    yield from db.execute(
        f"select site, page_url, page_key from outreach where site in ({marks})"
        f" and not exists ({CONTACTS_UNREAD})",
        list(sites),
    )


def landings(db: Database, sites: Sequence[str]) -> Iterator[tuple[str, str, str]]:
    """(site, page key, landing key) of the sites' backlinks whose page last redirected
    to another page: a target found there is queued under the landing's key."""
    if not sites:
        return
    marks = ",".join("?" * len(sites))
    rows = db.execute(
        "select distinct site, source_url, final_url from backlinks"
        f" where site in ({marks}) and final_url is not null and final_url != source_url",
        list(sites),
    )
    for site, source_url, final_url in rows:
        page, landing = identity_key(source_url), identity_key(final_url)
        if landing != page:
            yield site, page, landing
