"""The database schema, as sqlite-utils migrations (safe to apply repeatedly)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from verifier.store import rekeying

migrations = Migrations("backcheck")

#: Columns a check and a backlink's current state share (the verdict and its summary).
VERDICT_COLUMNS: dict[str, type] = {
    "status": str,
    "reason": str,
    "change": str,
    "follow": int,
    "nofollow_source": str,
    "rel": str,
    "anchor": str,
    "anchor_changed": int,
    "target_changed": int,
    "observed_target": str,
    "link_count": int,
    "http_status": int,
    "final_url": str,
    "consecutive_failures": int,
}

#: Evidence kept on each check only.
EVIDENCE_COLUMNS: dict[str, type] = {
    "redirect_chain": str,  # JSON [[url, status], ...]
    "content_type": str,
    "size": int,
    "fetch_ms": int,
    "x_robots_tag": str,
    "meta_robots": str,
    "canonical": str,
    "link_html": str,
    "context_before": str,
    "context_after": str,
    "content_hash": str,
    "detail": str,
}

#: Evidence added to checks after the first release (own migration, same role).
LATER_EVIDENCE_COLUMNS: dict[str, type] = {
    "mentions": int,  # brand terms on the page (discovery); NULL when the page was not read
}

#: Evidence that stays the same while the page does (m007): stored once per backlink and
#: distinct values in `evidence`, which a check names by `evidence_id`. The rest of the
#: evidence is measured anew by every fetch (size, fetch_ms, content_hash, mentions) or is
#: a short note on this verdict that reports read (detail), and stays on the check.
#: Checks written before m007 hold all of it inline.
SHARED_EVIDENCE_COLUMNS: dict[str, type] = {
    name: EVIDENCE_COLUMNS[name]
    for name in (
        "redirect_chain",
        "content_type",
        "x_robots_tag",
        "meta_robots",
        "canonical",
        "link_html",
        "context_before",
        "context_after",
    )
}
#: Evidence kept on each check row, also after m007.
CHECK_EVIDENCE_COLUMNS: dict[str, type] = {
    name: kind
    for name, kind in {**EVIDENCE_COLUMNS, **LATER_EVIDENCE_COLUMNS}.items()
    if name not in SHARED_EVIDENCE_COLUMNS
}


@migrations()
def m001_initial(db: Database) -> None:
    db.table("sites").create(
        {
            "domain": str,
            "brands": str,  # JSON lists
            "competitors": str,
            "keywords": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="domain",
    )
    db.table("backlinks").create(
        {
            "id": int,
            "site": str,
            "source_url": str,
            "target_url": str,  # NULL: any link to the site counts
            "source_key": str,
            "target_key": str,  # '' when target_url is NULL, so the unique index holds
            "referring_domain": str,
            "expected_anchor": str,
            "sources": str,  # e.g. "ahrefs,gsc"
            "discovered_from": int,
            "imported_at": str,
            "first_seen": str,  # first check that found it live
            "last_live": str,
            "lost_since": str,
            **VERDICT_COLUMNS,
            "last_checked": str,
            "last_check_id": int,
            # The last live-or-lost verdict: what `change` is computed against.
            "baseline_status": str,
            "baseline_follow": int,
            "baseline_anchor": str,
            "baseline_target": str,
        },
        pk="id",
        foreign_keys=[("site", "sites", "domain")],
        defaults={"consecutive_failures": 0, "link_count": 0},
    )
    db.table("backlinks").create_index(["site", "source_key", "target_key"], unique=True)
    db.table("backlinks").create_index(["source_key"])
    db.table("backlinks").create_index(["site", "status"])
    db.table("backlink_sources").create(
        {
            "backlink_id": int,
            "source": str,  # ahrefs, semrush, majestic, moz, gsc, csv, urls, discovered
            "file": str,
            "line": int,
            "imported_at": str,
            "anchor": str,
            "domain_rating": float,
            "trust_flow": float,
            "domain_authority": float,
            "page_traffic": float,
            "vendor_first_seen": str,
            "vendor_last_seen": str,
            "vendor_lost_status": str,
            "metrics": str,  # JSON: everything the vendor exported
        },
        pk=("backlink_id", "source"),
        foreign_keys=[("backlink_id", "backlinks", "id")],
    )
    db.table("runs").create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "state": str,  # running, finished, failed, interrupted
            "sites": str,  # JSON list of the domains this run covers
            "pid": int,
            "pages": int,
            "backlinks": int,
            "live": int,
            "followed": int,
            "lost": int,
            "newly_lost": int,
            "regained": int,
            "unreachable": int,
            "stats": str,  # JSON of Scrapy's stats
            "error": str,
        },
        pk="id",
    )
    db.table("run_items").create(
        {"run_id": int, "backlink_id": int},
        pk=("run_id", "backlink_id"),
        foreign_keys=[("run_id", "runs", "id"), ("backlink_id", "backlinks", "id")],
    )
    db.table("checks").create(
        {
            "id": int,
            "run_id": int,
            "backlink_id": int,
            "checked_at": str,
            **VERDICT_COLUMNS,
            **EVIDENCE_COLUMNS,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id"), ("backlink_id", "backlinks", "id")],
    )
    # One check per backlink per run: a resumed or repeated write cannot double it.
    db.table("checks").create_index(["run_id", "backlink_id"], unique=True)
    db.table("checks").create_index(["backlink_id", "id"])


def apply(db: Database, views: Mapping[str, str] | None = None) -> None:
    """Apply pending migrations, then bring the given views (name -> SELECT) up to date."""
    migrations.apply(db)
    if views:
        sync_views(db, views)


def sync_views(db: Database, views: Mapping[str, str]) -> None:
    """(Re)create each view whose SQL differs from `views` (name -> SELECT).

    Views are derived data: whoever defines them hands them over, so the schema
    never imports the modules that define them. Unchanged views cost one read, and
    no write: every crawler process opens the database, and the shards of one run
    open it at the same moment.
    """
    wanted = {name: _view_sql(name, sql) for name, sql in views.items()}
    if not _stale_views(db, wanted):
        return
    # Under the write lock, read again: another process may have just done it.
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        for name in _stale_views(db, wanted):
            db.execute(f'drop view if exists "{name}"')
            db.execute(wanted[name])
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def _view_sql(name: str, select: str) -> str:
    # As sqlite_master keeps it: SQLite upper-cases a statement's first two keywords.
    return f'CREATE VIEW "{name}" AS {select.strip()}'


def _stale_views(db: Database, wanted: Mapping[str, str]) -> list[str]:
    sql = "select name, sql from sqlite_master where type = 'view'"
    current = dict(db.execute(sql).fetchall())
    return [name for name, view in wanted.items() if current.get(name) != view]


@migrations()
def m002_targets_and_disavow(db: Database) -> None:
    # Our own pages that backlinks point at, checked once per run (issue #3: broken-targets).
    db.table("target_checks").create(
        {
            "run_id": int,
            "site": str,
            "url_key": str,  # verifier.verdict.urls.identity_key of the target URL
            "url": str,
            "checked_at": str,
            "method": str,  # HEAD, or GET when HEAD was refused
            "http_status": int,  # the final answer; NULL when the fetch failed
            "final_url": str,
            "redirect_chain": str,  # JSON [[url, status], ...]
            "error": str,  # unreachable reason code when the fetch failed
            "detail": str,
        },
        pk=("run_id", "url_key"),
        foreign_keys=[("run_id", "runs", "id")],
    )
    db.table("target_checks").create_index(["url_key", "run_id"])
    # Entries of disavow files (issue #3); a backlink is disavowed when an entry covers it.
    db.table("disavow_entries").create(
        {
            "id": int,
            "site": str,
            "kind": str,  # "domain" or "url"
            "value": str,  # the domain (lower-case, IDNA) or the URL as written
            "file": str,
            "line": int,
            "imported_at": str,
        },
        pk="id",
    )
    db.table("disavow_entries").create_index(["site", "kind", "value"], unique=True)
    db.table("backlinks").add_column("disavowed_at", str)


@migrations()
def m003_report_views(db: Database) -> None:
    # Indexes that keep every report under a couple of seconds at a million backlinks
    # (issue #3): change events by time (velocity, summary, changes); a backlink's check
    # at a given time (lost: the last live one); covering indexes of backlinks by
    # referring domain (summary, referring-domains, follow-ratio, lost, velocity) and by
    # anchor text (anchors), which those reports name with INDEXED BY; backlinks by
    # target (broken-targets).
    checks, backlinks = db.table("checks"), db.table("backlinks")
    checks.create_index(["change", "checked_at"], "idx_checks_change_checked_at")
    checks.create_index(["backlink_id", "checked_at"], "idx_checks_backlink_id_checked_at")
    db.execute(
        "create index idx_backlinks_by_domain on backlinks (site, referring_domain,"
        " first_seen, status, follow, nofollow_source, rel, last_live, lost_since)"
    )
    db.execute(
        "create index idx_backlinks_by_anchor on backlinks"
        " (site, status, anchor collate nocase, referring_domain, follow)"
    )
    backlinks.create_index(["site", "target_key"], "idx_backlinks_site_target_key")
    # The report views (report_<name>) were created here once; they are now kept in step
    # with the reports' SQL by `sync_views` at every open (verifier.database).


@migrations()
def m004_report_speed(db: Database) -> None:
    # Indexes on backlinks (1M rows, not the 10M checks; partial where they can be) for
    # the reports over the 2 s budget of issue #3: live links per referring domain (lost), the
    # disavowed backlinks in report order (disavowed), links by first-live moment
    # (velocity), backlinks by status in report order (backlinks --status).
    # One partial index on checks, below.
    db.execute(
        "create index if not exists idx_backlinks_live_by_domain"
        " on backlinks (site, referring_domain) where status = 'live'"
    )
    db.execute(
        "create index if not exists idx_backlinks_disavowed"
        " on backlinks (site, source_key, target_key) where disavowed_at is not null"
    )
    db.execute(
        "create index if not exists idx_backlinks_site_first_seen"
        " on backlinks (site, first_seen) where first_seen is not null"
    )
    db.execute(
        "create index if not exists idx_backlinks_status_site_source_key"
        " on backlinks (status, site, source_key, target_key)"
    )
    # Lost and regained checks only (velocity): a small partial index, covering.
    db.execute(
        "create index if not exists idx_checks_moves on checks (change, checked_at, backlink_id)"
        " where change in ('lost', 'regained')"
    )


@migrations()
def m005_discovery(db: Database) -> None:
    # Discovery (issue #10): brand mentions, who to ask, the outreach queue, links to
    # competitors, and the frontier of domain-list crawls. Pages are keyed by
    # verifier.verdict.urls.identity_key, like backlinks' source_key.
    db.table("sites").add_column("excludes", str)  # JSON list
    db.table("runs").add_column("kind", str)  # verify (NULL in older rows), crawl, mentions
    for name, kind in LATER_EVIDENCE_COLUMNS.items():
        db.table("checks").add_column(name, kind)
    db.table("mention_pages").create(
        {
            "site": str,
            "page_key": str,
            "page_url": str,
            "domain": str,  # the page's registered domain
            "title": str,
            "page_noindex": int,
            "page_links_to_site": int,
            "contact_url": str,
            "reason": str,  # link_removed when read as a lost backlink's page
            "source": str,  # where it was first read: verify, crawl, list, feed
            "sources": str,  # every source, comma-separated
            "first_seen": str,
            "last_seen": str,
            "run_id": int,
        },
        pk=("site", "page_key"),
        foreign_keys=[("site", "sites", "domain")],
    )
    db.table("mention_pages").create_index(["site", "domain"])
    db.table("mentions").create(
        {
            "site": str,
            "page_key": str,
            "term": str,  # as configured; the image URL for image_use
            "kind": str,  # text, title, image_use
            "context": str,
            "placement": str,  # main, boilerplate
            "linked": int,
            "first_seen": str,
            "last_seen": str,
        },
        pk=("site", "page_key", "term"),
    )
    db.table("contacts").create(
        {
            "page_key": str,
            "page_url": str,
            "kind": str,  # email, author, contact_url
            "value": str,
            "found_on": str,  # the page it was read on: the page itself or its contact page
            "first_seen": str,
        },
        pk=("page_key", "kind", "value"),
    )
    db.table("outreach").create(
        {
            "site": str,
            "page_key": str,
            "page_url": str,
            "status": str,  # new, contacted, replied, won, declined, ignored
            "note": str,
            "created_at": str,
            "updated_at": str,
            "backlink_id": int,  # the backlink it became, once won
        },
        pk=("site", "page_key"),
    )
    db.table("outreach").create_index(["site", "status"])
    db.table("competitor_links").create(
        {
            "site": str,
            "competitor": str,
            "page_key": str,
            "page_url": str,
            "domain": str,  # the page's registered domain
            "target_key": str,
            "target_url": str,
            "follow": int,
            "rel": str,
            "nofollow_source": str,
            "anchor": str,
            "first_seen": str,
            "last_seen": str,
        },
        pk=("site", "page_key", "target_key"),
    )
    db.table("competitor_links").create_index(["site", "competitor"])
    db.table("competitor_links").create_index(["site", "domain"])
    db.table("crawl_domains").create(
        {
            "run_id": int,
            "domain": str,  # the scope: a registered domain, subdomains included
            "line": int,
            "start_urls": str,  # JSON list
            "state": str,  # pending, done
            "stopped": str,  # robots, unreachable, errors, page_limit, depth_limit, done
            "pages": int,
            "backlinks_new": int,
            "backlinks_known": int,
            "competitor_links": int,
            "unlinked_mentions": int,
            "finished_at": str,
        },
        pk=("run_id", "domain"),
    )
    db.table("crawl_pages").create(
        {
            "run_id": int,
            "domain": str,
            "url_key": str,  # verifier.verdict.urls.identity_key of the URL requested
            "url": str,
            "depth": int,
            "http_status": int,
            "ok": int,  # an HTML page answered (counts toward the page cap)
            "links": str,  # JSON: internal links found, so a resumed crawl rebuilds its frontier
        },
        pk=("run_id", "url_key"),
    )
    db.table("crawl_pages").create_index(["run_id", "domain"])


@migrations()
def m006_operations(db: Database) -> None:
    # Operations (issue #12): the re-check policy, alerts and run history.
    db.table("backlinks").add_column("next_check_at", str)  # ISO UTC; NULL: due now
    db.table("backlinks").create_index(["site", "next_check_at"])
    db.table("runs").add_column("host", str)  # the machine the run's process runs on
    db.table("runs").add_column("locked_at", str)  # when `pid` took the run (start or resume)
    db.table("runs").add_column("notification", str)  # JSON: what alerting did, never a secret
    db.table("runs").add_column("log", str)  # the run's full log file, beside the database


#: Every check with its evidence, wherever it is kept: the shared row (m007 on) or the
#: check's own columns (older checks). For Datasette and plain SQL; reports join
#: `evidence` themselves, so that they can name their indexes.
CHECKS_FULL_VIEW = (
    "select c.id, c.run_id, c.backlink_id, c.checked_at, "
    + ", ".join(f"c.{name}" for name in VERDICT_COLUMNS)
    + ", "
    + ", ".join(
        f"coalesce(c.{name}, e.{name}) as {name}"
        if name in SHARED_EVIDENCE_COLUMNS
        else f"c.{name}"
        for name in (*EVIDENCE_COLUMNS, *LATER_EVIDENCE_COLUMNS)
    )
    + ", c.evidence_id from checks c left join evidence e on e.id = c.evidence_id"
)


#: backlinks.vendor_first_seen: the earliest first-seen date of the backlink's vendor
#: rows, kept by triggers on backlink_sources whatever writes them (m007).
_VENDOR_FIRST_SEEN = (
    "(select min(s.vendor_first_seen) from backlink_sources s where s.backlink_id = {id})"
)
_VENDOR_TRIGGERS = {
    "backlink_sources_vendor_insert": "after insert on backlink_sources"
    " when new.vendor_first_seen is not null begin"
    " update backlinks set vendor_first_seen = new.vendor_first_seen where id = new.backlink_id"
    " and (vendor_first_seen is null or vendor_first_seen > new.vendor_first_seen); end",
    "backlink_sources_vendor_update": "after update of vendor_first_seen, backlink_id"
    " on backlink_sources when old.vendor_first_seen is not new.vendor_first_seen"
    " or old.backlink_id is not new.backlink_id begin"
    f" update backlinks set vendor_first_seen = {_VENDOR_FIRST_SEEN.format(id='backlinks.id')}"
    " where id in (old.backlink_id, new.backlink_id); end",
    "backlink_sources_vendor_delete": "after delete on backlink_sources"
    " when old.vendor_first_seen is not null begin"
    f" update backlinks set vendor_first_seen = {_VENDOR_FIRST_SEEN.format(id='backlinks.id')}"
    " where id = old.backlink_id; end",
}


@migrations()
def m007_bounded_growth(db: Database) -> None:
    # Bounded growth (issue #12): a nightly run adds a check per backlink, and most pages
    # show their link as they did the night before. The link's HTML, context, canonical,
    # robots directives, content type and redirects are stored once per backlink and distinct
    # values (`digest`: 64 bits of BLAKE2b over them, see verifier.store.evidence), and
    # checks point at them. No foreign key from checks.evidence_id: deleting an evidence
    # row would then scan every check (prune deletes only rows no check names). Older
    # checks keep their evidence inline (readable through `checks_full`); `backcheck
    # prune` moves it over as it goes, so opening an old database rewrites nothing.
    db.table("evidence").create(
        {"id": int, "backlink_id": int, "digest": int, **SHARED_EVIDENCE_COLUMNS},
        pk="id",
        foreign_keys=[("backlink_id", "backlinks", "id")],
    )
    db.execute(
        "create unique index idx_evidence_backlink_id_digest on evidence (backlink_id, digest)"
    )
    db.table("checks").add_column("evidence_id", int)
    db.execute(f"create view checks_full as {CHECKS_FULL_VIEW}")
    # `report velocity --vendor` (issue #12: 4.1 s at 1M backlinks, budget 2 s) read every
    # vendor row and joined its backlink. The earliest vendor date now sits on the
    # backlink (triggers keep it), in the per-domain index that velocity already scans
    # (recreated with it at the end) and in an index of its own, by date.
    db.table("backlinks").add_column("vendor_first_seen", str)
    db.execute(
        "update backlinks set vendor_first_seen = "
        + _VENDOR_FIRST_SEEN.format(id="backlinks.id")
        + " where id in (select backlink_id from backlink_sources"
        " where vendor_first_seen is not null)"
    )
    for name, sql in _VENDOR_TRIGGERS.items():
        db.execute(f"create trigger {name} {sql}")
    db.execute("drop index idx_backlinks_by_domain")
    db.execute(
        "create index idx_backlinks_by_domain on backlinks (site, referring_domain,"
        " first_seen, status, follow, nofollow_source, rel, last_live, lost_since,"
        " vendor_first_seen)"
    )
    db.execute(
        "create index idx_backlinks_vendor_first_seen on backlinks (site, vendor_first_seen)"
        " where vendor_first_seen is not null"
    )


@migrations()
def m008_referrals(db: Database) -> None:
    # Referral traffic (issue #11): visits from access logs and GA4 exports, per referring
    # page (or origin, when the browser sent only that) and UTC day, kept per source (log,
    # ga4) and never added together. A referring page becomes a backlink candidate
    # (`candidate` = 1, target NULL or the broken page it sent visitors to) that `verify`
    # checks like any backlink: it counts as a backlink once found live (`first_seen`),
    # and a candidate never found live whose check says lost is `spam` instead. The partial
    # index lists the candidates not (yet) counted, so that reports can leave them out
    # without reading the backlinks table (b.id is in every index).
    db.table("backlinks").add_column("candidate", int)
    db.execute(
        "create index idx_backlinks_candidates on backlinks (site, id)"
        " where candidate = 1 and first_seen is null"
    )
    # WITHOUT ROWID: the rows are stored in key order, so that a site's pages, or a page's
    # days, are read in one sweep rather than one table lookup per row.
    db.execute(
        """
        create table referral_pages (
            site text not null,
            page_key text not null,  -- identity_key of the page (or origin): backlinks.source_key
            source text not null,  -- log, ga4
            page_url text,
            domain text,  -- registered domain
            origin integer,  -- 1: only an origin was sent (a domain to crawl, not a page)
            visits integer,  -- the sum of its referral_days rows
            first_day text,
            last_day text,
            primary key (site, page_key, source)
        ) without rowid
        """
    )
    db.execute(
        """
        create table referral_days (
            site text not null,
            page_key text not null,
            source text not null,
            day text not null,  -- UTC, YYYY-MM-DD
            until text not null,  -- = day, except a GA4 export without a Date column: its end
            visits integer,
            primary key (site, page_key, source, day, until)
        ) without rowid
        """
    )
    db.execute(
        """
        create table referral_broken (
            site text not null,
            page_key text not null,  -- the referring page
            source text not null,  -- log: only logs see the answer
            target_key text not null,  -- identity_key of our page that answered 404/410
            target_url text,
            visits integer,
            first_day text,
            last_day text,
            primary key (site, page_key, source, target_key)
        ) without rowid
        """
    )
    db.table("referral_imports").create(
        {
            "site": str,
            "source": str,
            "stream": str,  # log: hash of its first line; ga4: hash of the file
            "file": str,
            "layout": str,
            "size": int,  # log: bytes imported (decompressed), ending at a line end
            "crc": int,  # log: zlib.crc32 of those bytes
            "lines": int,
            "imported_at": str,
            "first_day": str,
            "last_day": str,
            "counts": str,  # JSON: what the last import of it counted
        },
        pk=("site", "source", "stream"),
    )


#: backlinks.authority / authority_source: the highest vendor authority of the backlink's
#: vendor rows, each on its vendor's own 0-100 scale (Ahrefs DR, Moz DA, Majestic TF,
#: Semrush page Authority Score), and which one it is; kept by triggers on
#: backlink_sources whatever writes them (m009).
_AUTHORITY = """(
    select value, kind from (
        select domain_rating as value, 'DR' as kind from backlink_sources
        where backlink_id = {id} and domain_rating is not null
        union all select domain_authority, 'DA' from backlink_sources
        where backlink_id = {id} and domain_authority is not null
        union all select trust_flow, 'TF' from backlink_sources
        where backlink_id = {id} and trust_flow is not null
        union all select json_extract(metrics, '$.page_ascore'), 'AS' from backlink_sources
        where backlink_id = {id} and json_extract(metrics, '$.page_ascore') is not null
    ) order by value desc, kind limit 1
)"""
_SET_AUTHORITY = (
    "update backlinks set (authority, authority_source) = " + _AUTHORITY + " where {where}"
)
_AUTHORITY_TRIGGERS = {
    "backlink_sources_authority_insert": "after insert on backlink_sources begin "
    + _SET_AUTHORITY.format(id="new.backlink_id", where="id = new.backlink_id")
    + "; end",
    "backlink_sources_authority_update": "after update on backlink_sources begin "
    + _SET_AUTHORITY.format(id="backlinks.id", where="id in (new.backlink_id, old.backlink_id)")
    + "; end",
    "backlink_sources_authority_delete": "after delete on backlink_sources begin "
    + _SET_AUTHORITY.format(id="old.backlink_id", where="id = old.backlink_id")
    + "; end",
}


@migrations()
def m009_competitors(db: Database) -> None:
    # Competitor gap (issue #11): a competitor's backlinks are backlinks whose `site` is
    # the competitor's domain, checked by the same rules and kept in the same history.
    # Its `sites` row (the foreign key needs one) has role 'competitor': it is never one
    # of the user's sites (`pick_sites`, reports over all sites). A domain that is both
    # (an agency watching two rivals) is a site.
    db.table("sites").add_column("role", str)
    db.execute("update sites set role = 'site'")
    db.execute(
        "insert or ignore into sites (domain, brands, competitors, keywords, excludes, role,"
        " created_at, updated_at)"
        " select distinct j.value, '[]', '[]', '[]', '[]', 'competitor', s.created_at,"
        " s.updated_at from sites s, json_each(coalesce(s.competitors, '[]')) j"
    )
    # The gap's authority, on the backlink (as vendor_first_seen, m007), so that the gap
    # reads the links of millions of competitor backlinks from one index.
    db.table("backlinks").add_column("authority", float)
    db.table("backlinks").add_column("authority_source", str)
    db.execute(
        _SET_AUTHORITY.format(
            id="backlinks.id", where="id in (select backlink_id from backlink_sources)"
        )
    )
    for name, sql in _AUTHORITY_TRIGGERS.items():
        db.execute(f"create trigger {name} {sql}")
    # Live links per referring domain (lost, gap, intersect, competitors): wider, so that
    # the gap and the competitor table never read the backlinks table itself.
    db.execute("drop index if exists idx_backlinks_live_by_domain")
    db.execute(
        "create index idx_backlinks_live_by_domain on backlinks (site, referring_domain,"
        " follow, authority, authority_source, source_key) where status = 'live'"
    )


@migrations()
def m010_report_speed(db: Database) -> None:
    # `report lost` (2.4-2.9 s at 1M backlinks, budget 2 s) reads each lost link's vendor
    # metrics: one vendor row per source, spread over the table (71,000 lost links read
    # about 50,000 pages). This index holds the four metrics `lost`, `digest` and
    # `mentions` take the highest of, so they read it alone, in backlink order (about
    # 9,000 pages). 1.46M vendor rows: about 1.4 s to build, 34 MB.
    db.execute(
        "create index idx_backlink_sources_metrics on backlink_sources"
        " (backlink_id, domain_rating, trust_flow, domain_authority, page_traffic)"
    )


#: What one backlink row adds to its (site, referring domain) in `domain_links`: live
#: and followed live links, and its vendor authority (the highest known only grows).
def _add_links(row: str, sign: str) -> str:
    live = f"({row}.status is 'live')"
    followed = f"({row}.status is 'live' and coalesce({row}.follow, 0) <> 0)"
    if sign == "-":
        return (
            f"update domain_links set live_links = live_links - {live},"
            f" followed_links = followed_links - {followed}"
            f" where site = {row}.site and referring_domain = {row}.referring_domain"
        )
    return (
        "insert into domain_links (site, referring_domain, live_links, followed_links,"
        " authority, authority_source)"
        f" values ({row}.site, {row}.referring_domain, {live}, {followed}, {row}.authority,"
        f" {row}.authority_source)"
        " on conflict (site, referring_domain) do update set"
        " live_links = live_links + excluded.live_links,"
        " followed_links = followed_links + excluded.followed_links,"
        " authority_source = case when excluded.authority > coalesce(authority, -1)"
        " then excluded.authority_source else authority_source end,"
        " authority = max(coalesce(authority, -1), coalesce(excluded.authority, -1))"
    )


_DOMAIN_LINK_TRIGGERS = {
    "backlinks_domain_links_insert": "after insert on backlinks begin "
    + _add_links("new", "+")
    + "; end",
    "backlinks_domain_links_update": "after update of site, referring_domain, status, follow,"
    " authority, authority_source on backlinks"
    " when old.site is not new.site or old.referring_domain is not new.referring_domain"
    " or (old.status is 'live') <> (new.status is 'live')"
    " or (old.status is 'live' and old.follow is not new.follow)"
    " or old.authority is not new.authority begin "
    + _add_links("old", "-")
    + "; "
    + _add_links("new", "+")
    + "; end",
    "backlinks_domain_links_delete": "after delete on backlinks begin "
    + _add_links("old", "-")
    + "; end",
}


@migrations()
def m011_domain_links(db: Database) -> None:
    # `report gap` (issue #11: under 2 s with three competitors of 1M links each) read
    # every live competitor link: 2.2 s for that scan alone. Per site and referring domain,
    # the live and followed live links and the highest vendor authority are now kept by
    # triggers on backlinks (a check that changes nothing fires nothing), so the gap, the
    # intersect and the competitor table read ~40,000 rows per competitor, not ~850,000.
    # The authority is the highest ever known on the domain's links (a domain's rating
    # does not go when a link does); -1: none known.
    db.execute(
        """
        create table domain_links (
            site text not null,
            referring_domain text not null,
            live_links integer not null default 0,
            followed_links integer not null default 0,
            authority real,
            authority_source text,
            primary key (site, referring_domain)
        ) without rowid
        """
    )
    db.execute(
        "insert into domain_links (site, referring_domain, live_links, followed_links,"
        " authority, authority_source)"
        " select site, referring_domain, sum(status is 'live'),"
        " sum(status is 'live' and coalesce(follow, 0) <> 0), coalesce(max(authority), -1),"
        " authority_source from backlinks group by site, referring_domain"
    )
    for name, sql in _DOMAIN_LINK_TRIGGERS.items():
        db.execute(f"create trigger {name} {sql}")
    # The gap's page to pitch on each domain: the domain's live links by page, so that
    # the pages' counts come in page order (no sort per domain).
    db.execute(
        "create index idx_backlinks_live_by_page on backlinks (referring_domain, source_key,"
        " site, follow, authority) where status = 'live'"
    )


#: Rendering (issue 14 §1), on checks and on the backlink's current state: whether the
#: verdict was read from the page rendered in Chromium, and where a live link was found
#: (`raw` HTML, or only after scripts: `rendered`).
RENDER_COLUMNS: dict[str, type] = {"rendered": int, "found_in": str}


@migrations()
def m012_rendering(db: Database) -> None:
    for table in ("checks", "backlinks"):
        for name, kind in RENDER_COLUMNS.items():
            db.table(table).add_column(name, kind)


@migrations()
def m013_contact_reads(db: Database) -> None:
    # When a target's contact page was read (NULL: never, its fetch failed or the run
    # ended first: the next run that reads the target fetches it again). Targets stored
    # before are taken as read, so an upgrade does not fetch every contact page again.
    db.table("mention_pages").add_column("contact_read_at", str)
    db.execute("update mention_pages set contact_read_at = last_seen where contact_url is not null")


@migrations()
def m014_idna_keys(db: Database) -> None:
    # Hosts keyed by the IDNA 2003 release (faß.example as fass.example) keyed again as the
    # store keys them now (`verifier.store.rekeying`: which rows, and how collisions merge).
    rekeying.idna_keys(db, state_columns=(*VERDICT_COLUMNS, *RENDER_COLUMNS))
