"""Open the database, keep site profiles, and write imported backlinks."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlite_utils import Database

from verifier.models import BacklinkRef
from verifier.store import migrations
from verifier.store.profile import SiteProfile
from verifier.verdict.urls import host_of, identity_key, registered_domain, site_domain


class StorageError(Exception):
    """A problem with the database or its contents that the user must fix."""


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def writing(db: Database) -> Iterator[Database]:
    """A write transaction that takes the write lock up front (BEGIN IMMEDIATE).

    With several crawler processes on one WAL database, a deferred transaction
    that reads first and then writes fails at once with "database is locked"
    when another process committed in between; IMMEDIATE waits (busy_timeout)
    instead. Nested use falls back to a savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def open_db(path: str | Path, views: Mapping[str, str] | None = None) -> Database:
    """Open (creating if needed) a backcheck database, migrated and in WAL mode.

    `views` (name -> SELECT) are created or brought up to date after the
    migrations; `verifier.database.open_db` hands over the report views.
    """
    # Checked before SQLite, which would leave -wal and -shm files behind. With access(),
    # not by opening the file: closing any descriptor of a database file drops every
    # POSIX lock this process holds on it, under SQLite's feet.
    if Path(path).exists() and not os.access(path, os.W_OK):
        raise StorageError(
            f"{path}: the database is read-only; backcheck writes to it, and to its folder"
            " (its -wal and -shm files)"
        )
    try:
        db = Database(str(path))
        db.execute("PRAGMA busy_timeout = 30000")
        db.enable_wal()
        # WAL keeps the database consistent after a crash; NORMAL only risks the
        # last commits on power loss, which a resumed run re-checks anyway.
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        migrations.apply(db, views)
    except Exception as exc:  # sqlite3 raises several unrelated types here
        raise StorageError(f"{path}: cannot open database: {exc}") from exc
    return db


# --- sites -----------------------------------------------------------------


def _merge(old: str | None, new: Iterable[str]) -> list[str]:
    values: list[str] = json.loads(old) if old else []
    for value in new:
        value = value.strip()
        if value and value.casefold() not in {v.casefold() for v in values}:
            values.append(value)
    return values


def save_site(
    db: Database,
    site: str,
    brands: Iterable[str] = (),
    competitors: Iterable[str] = (),
    keywords: Iterable[str] = (),
    excludes: Iterable[str] = (),
) -> SiteProfile:
    """Create or extend a site's profile; repeated values are added, never replaced."""
    domain = site_domain(site)
    if not domain:
        raise StorageError(f"not a domain: {site!r}")
    old = next(db["sites"].rows_where("domain = ?", [domain]), {})
    rivals = _merge(old.get("competitors"), map(site_domain, competitors))
    if domain in rivals:
        raise StorageError(f"{domain} cannot be its own competitor")
    row = {
        "domain": domain,
        "brands": json.dumps(_merge(old.get("brands"), brands)),
        "competitors": json.dumps(rivals),
        "keywords": json.dumps(_merge(old.get("keywords"), keywords)),
        "excludes": json.dumps(_merge(old.get("excludes"), excludes)),
        "role": "site",
        "created_at": old.get("created_at") or now(),
        "updated_at": now(),
    }
    db.table("sites").upsert(row, pk="domain")
    # A competitor's backlinks are backlinks of its own `sites` row (role 'competitor').
    with db.conn:
        db.conn.executemany(
            "insert or ignore into sites (domain, brands, competitors, keywords, excludes, role,"
            " created_at, updated_at) values (?, '[]', '[]', '[]', '[]', 'competitor', ?, ?)",
            [(rival, row["updated_at"], row["updated_at"]) for rival in rivals],
        )
    return load_site(db, domain)


def load_site(db: Database, domain: str) -> SiteProfile:
    row = next(db["sites"].rows_where("domain = ?", [domain]), None)
    if row is None:
        raise StorageError(f"no site {domain!r} in the database; run `backcheck init --site`")
    return SiteProfile(
        domain=row["domain"],
        brands=tuple(json.loads(row["brands"] or "[]")),
        competitors=tuple(json.loads(row["competitors"] or "[]")),
        keywords=tuple(json.loads(row["keywords"] or "[]")),
        excludes=tuple(json.loads(row.get("excludes") or "[]")),
    )


def site_domains(db: Database) -> list[str]:
    """The user's sites (not the competitors that only have backlinks stored)."""
    sql = "select domain from sites where role is not 'competitor' order by domain"
    return [row["domain"] for row in db.query(sql)]


def is_competitor(db: Database, domain: str) -> bool:
    """True when `domain` is stored only as some site's competitor."""
    row = db.execute("select role from sites where domain = ?", [domain]).fetchone()
    return row is not None and row[0] == "competitor"


def with_competitors(db: Database, sites: Sequence[str]) -> list[str]:
    """`sites` and then their competitors, each once: what `verify --competitors` checks."""
    domains = list(sites)
    for site in sites:
        domains += [rival for rival in load_site(db, site).competitors if rival not in domains]
    return domains


def pick_competitor(db: Database, site: str, competitor: str) -> str:
    """`competitor` as stored, when it is one of `site`'s competitors (else StorageError)."""
    domain = site_domain(competitor)
    rivals = load_site(db, site).competitors
    if domain not in rivals:
        named = ", ".join(rivals) or "none yet"
        raise StorageError(
            f"{domain or competitor!r} is not a competitor of {site} (its competitors: {named});"
            f" add it with `backcheck init --site {site} --competitor {domain or competitor}`"
        )
    return domain


def pick_sites(db: Database, site: str | None, *, one: bool) -> list[str]:
    """The sites a command works on: `--site`, or all (or the only one, when `one`)."""
    domains = site_domains(db)
    if site is not None:
        domain = site_domain(site)
        if domain not in domains and is_competitor(db, domain):
            raise StorageError(
                f"{domain} is a competitor, not a site; its links are checked with"
                " `backcheck verify --competitors` and compared in `backcheck report gap`"
            )
        if domain not in domains:
            raise StorageError(f"no site {domain!r} in the database; run `backcheck init --site`")
        return [domain]
    if not domains:
        raise StorageError("no site in the database yet; run `backcheck init --site DOMAIN`")
    if one and len(domains) > 1:
        raise StorageError(
            f"several sites in the database ({', '.join(domains)}); pick one with --site"
        )
    return domains


# --- imported backlinks ----------------------------------------------------

#: Vendor metrics kept in their own columns, for reports; all of them stay in `metrics`.
METRIC_COLUMNS = {
    "domain_rating": "domain_rating",
    "trust_flow": "trust_flow",
    "domain_authority": "domain_authority",
    "page_traffic": "page_traffic",
    "first_seen": "vendor_first_seen",
    "last_seen": "vendor_last_seen",
    "lost_status": "vendor_lost_status",
}


class RowLike(Protocol):
    line: int
    source_url: str
    target_url: str | None
    anchor: str | None
    metrics: dict[str, object]


_SOURCE_COLUMNS = [
    "backlink_id",
    "source",
    "file",
    "line",
    "imported_at",
    "anchor",
    "metrics",
    *METRIC_COLUMNS.values(),
]
# A re-import from the same source refreshes the row; a metric the new export lacks
# keeps its old value.
_UPSERT_SOURCE = (
    f"insert into backlink_sources ({', '.join(_SOURCE_COLUMNS)})"
    f" values ({', '.join('?' * len(_SOURCE_COLUMNS))})"
    " on conflict (backlink_id, source) do update set"
    " file = excluded.file, line = excluded.line, imported_at = excluded.imported_at,"
    " anchor = excluded.anchor, metrics = excluded.metrics, "
    + ", ".join(f"{c} = coalesce(excluded.{c}, {c})" for c in METRIC_COLUMNS.values())
)


@dataclass(slots=True)
class ImportCounts:
    imported: int = 0
    merged: int = 0


def add_backlinks(
    db: Database, site: str, rows: Iterable[RowLike], source: str, file: str
) -> ImportCounts:
    """Insert new backlinks and merge known ones (adding `source`); never deletes history."""
    counts = ImportCounts()
    stamp = now()
    with writing(db):
        for row in rows:
            backlink_id, new = upsert_backlink(
                db, site, row.source_url, row.target_url, row.anchor, source, stamp
            )
            if new:
                counts.imported += 1
            else:
                counts.merged += 1
            metrics = [row.metrics.get(metric) for metric in METRIC_COLUMNS]
            db.execute(
                _UPSERT_SOURCE,
                [
                    backlink_id,
                    source,
                    file,
                    row.line,
                    stamp,
                    row.anchor,
                    json.dumps(row.metrics, default=str),
                    *metrics,
                ],
            )
    return counts


def upsert_backlink(
    db: Database,
    site: str,
    source_url: str,
    target_url: str | None,
    anchor: str | None,
    source: str,
    stamp: str,
    discovered_from: int | None = None,
) -> tuple[int, bool]:
    """The backlink's id, inserting it when new; the bool says whether it was new."""
    source_url = source_url.strip()
    target_url = target_url.strip() if target_url else None
    source_key = identity_key(source_url)
    target_key = identity_key(target_url) if target_url else ""
    found = db.execute(
        "select id, sources, expected_anchor from backlinks"
        " where site = ? and source_key = ? and target_key = ?",
        [site, source_key, target_key],
    ).fetchone()
    if found is not None:
        backlink_id, sources, expected = found
        names = sources.split(",") if sources else []
        if source not in names:
            names.append(source)
        db.execute(
            "update backlinks set sources = ?, expected_anchor = ? where id = ?",
            # The first non-empty anchor stays the expectation: later exports may
            # already show a changed anchor, which is what we want to detect.
            [",".join(names), expected or (anchor or None), backlink_id],
        )
        return backlink_id, False
    cursor = db.execute(
        "insert into backlinks (site, source_url, target_url, source_key, target_key,"
        " referring_domain, expected_anchor, sources, discovered_from, imported_at,"
        " consecutive_failures, link_count) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
        [
            site,
            source_url,
            target_url,
            source_key,
            target_key,
            registered_domain(host_of(source_url)),
            anchor or None,
            source,
            discovered_from,
            stamp,
        ],
    )
    return int(cursor.lastrowid or 0), True


def rivals_on_page(db: Database, competitors: Sequence[str], url: str) -> list[BacklinkRef]:
    """The competitors' known backlinks whose referring page is `url` (one query a page:
    the crawl asks for every page it reads)."""
    if not competitors:
        return []
    marks = ",".join("?" * len(competitors))
    rows = db.execute(
        "select id, site, source_url, target_url, expected_anchor from backlinks"
        f" where source_key = ? and site in ({marks}) order by site, id",
        [identity_key(url), *competitors],
    ).fetchall()
    return [BacklinkRef(*row) for row in rows]


def backlinks_on_page(db: Database, site: str, url: str) -> list[BacklinkRef]:
    """The site's known backlinks whose referring page is `url`."""
    rows = db.execute(
        "select id, site, source_url, target_url, expected_anchor from backlinks"
        " where site = ? and source_key = ? order by id",
        [site, identity_key(url)],
    ).fetchall()
    return [BacklinkRef(*row) for row in rows]
