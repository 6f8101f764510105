"""Migration m014: rows keyed by the release that encoded hosts with IDNA 2003 (faß.example
keyed as fass.example) are keyed by `identity_key` again, merging with a row a re-import
added under the new key."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from verifier import database
from verifier.store import migrations, rekeying
from verifier.verdict import urls
from verifier.verdict.urls import host_of, identity_key, registered_domain

SITE = "acme.com"
URL = "http://faß.example/post"
OLD_STAMP, NEW_STAMP = "2025-01-01T00:00:00+00:00", "2026-12-10T00:00:00+00:00"

#: (table, key column, URL column) the store fills with identity_key(URL); '' for no URL.
KEYED = [
    ("backlinks", "source_key", "source_url"),
    ("backlinks", "target_key", "target_url"),
    ("mention_pages", "page_key", "page_url"),
    ("contacts", "page_key", "page_url"),
    ("outreach", "page_key", "page_url"),
    ("competitor_links", "page_key", "page_url"),
    ("competitor_links", "target_key", "target_url"),
    ("crawl_pages", "url_key", "url"),
    ("target_checks", "url_key", "url"),
    ("referral_broken", "target_key", "target_url"),
]
#: Their registered-domain columns, computed from the first URL.
DOMAINS = [
    ("backlinks", "referring_domain", "source_url"),
    ("mention_pages", "domain", "page_url"),
    ("competitor_links", "domain", "page_url"),
]

#: A host with each character IDNA 2003 maps otherwise than browsers (UTS #46).
HOSTS = {
    "sharp_s": "faß.example",
    "capital_sharp_s": "FAẞ.example",
    "final_sigma": "σας.example",
    "capital_sigma": "ΑΣ-1.example",  # lower-cased to ς before the hyphen
    "zwj": "a\u200db.example",
    "zwnj": "a\u200cb.example",
}


def idna2003_host(host: str) -> str:
    """normalize_host as the older release had it."""
    host = host.strip().rstrip(".").lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def old(function: Any, url: str) -> Any:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(urls, "normalize_host", idna2003_host)
        return function(url)


def old_key(url: str) -> str:
    return str(old(identity_key, url))


def old_domain(url: str) -> str:
    return str(old(lambda u: registered_domain(host_of(u)), url))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "old.db"


@pytest.fixture
def old_db(path: Path) -> Iterator[Database]:
    """A database at the schema before m014, with a site and three runs."""
    db = Database(path)
    migrations.migrations.apply(db, stop_before="m014_idna_keys")
    db["sites"].insert({"domain": SITE, "role": "site"})
    db["runs"].insert_all({"id": n, "state": "finished"} for n in (1, 2, 3))
    yield db
    db.close()


def backlink(source: str, target: str | None, key: Any = old_key, **row: Any) -> dict[str, Any]:
    """A backlinks row as the older release (`old_key`) or this one (`identity_key`) wrote it."""
    domain = old_domain(source) if key is old_key else registered_domain(host_of(source))
    return {
        "site": SITE,
        "source_url": source,
        "target_url": target,
        "source_key": key(source),
        "target_key": key(target) if target else "",
        "referring_domain": domain,
        **row,
    }


def fill(db: Database, url: str) -> None:
    """A row in every table that keys a URL, as the older release keyed it."""
    key, target = old_key, url + "?to=acme"
    db["backlinks"].insert_all(
        [
            backlink(url, "https://acme.com/", id=1, status="live", follow=1),
            backlink("http://blog.test/", target, id=2),
        ]
    )
    page = {"site": SITE, "page_key": key(url), "page_url": url}
    db["mention_pages"].insert({**page, "domain": old_domain(url), "last_seen": OLD_STAMP})
    db["mentions"].insert({"site": SITE, "page_key": key(url), "term": "Acme"})
    db["contacts"].insert({"page_key": key(url), "page_url": url, "kind": "email", "value": "a@b"})
    db["outreach"].insert({**page, "status": "contacted", "updated_at": OLD_STAMP})
    db["competitor_links"].insert(
        {**page, "competitor": "rival.com", "domain": old_domain(url), "target_key": key(target),
         "target_url": target, "last_seen": OLD_STAMP}
    )  # fmt: skip
    db["crawl_pages"].insert({"run_id": 1, "domain": "example", "url_key": key(url), "url": url})
    db["target_checks"].insert({"run_id": 1, "site": SITE, "url_key": key(url), "url": url})
    db.execute(
        "insert into referral_broken (site, page_key, source, target_key, target_url, visits,"
        " first_day, last_day) values (?, 'https://ref.test/', 'log', ?, ?, 3, ?, ?)",
        [SITE, key(url), url, "2025-01-01", "2025-01-03"],
    )


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    tables = {table for table, _, _ in KEYED} | {"mentions", "domain_links", "checks"}
    return {t: sorted(db.execute(f"select * from {t}").fetchall(), key=repr) for t in tables}


def assert_keyed_by_identity_key(db: Database) -> None:
    for table, key, url in KEYED:
        for stored, value in db.execute(f"select {key}, {url} from {table}").fetchall():
            assert stored == (identity_key(value) if value else ""), (table, key, value)
    for table, domain, url in DOMAINS:
        for stored, value in db.execute(f"select {domain}, {url} from {table}").fetchall():
            assert stored == registered_domain(host_of(value)), (table, domain, value)


def assert_consistent(db: Database) -> None:
    assert db.execute("pragma foreign_key_check").fetchall() == []
    counted = db.execute(
        "select site, referring_domain, sum(status is 'live'),"
        " sum(status is 'live' and coalesce(follow, 0) <> 0) from backlinks"
        " group by site, referring_domain"
    ).fetchall()
    kept = db.execute(
        "select site, referring_domain, live_links, followed_links from domain_links"
        " where live_links or followed_links"
    ).fetchall()
    assert sorted(kept) == sorted(row for row in counted if row[2] or row[3])


@pytest.mark.parametrize("char", list(HOSTS))
def test_old_keys_become_identity_keys(path: Path, old_db: Database, char: str) -> None:
    url = f"http://{HOSTS[char]}/page"
    assert old_key(url) != identity_key(url)
    fill(old_db, url)
    old_db.close()

    db = database.open_db(path)
    assert_keyed_by_identity_key(db)
    assert db.execute("select page_key from mentions").fetchall() == [(identity_key(url),)]
    counts = {table: db[table].count for table, _, _ in KEYED}
    assert counts == {**{table: 1 for table in counts}, "backlinks": 2}
    assert_consistent(db)
    db.close()


def test_every_table_keyed_by_a_url_is_covered(old_db: Database) -> None:
    # Tables with a key column: re-keyed (KEYED), following their page (mentions), or
    # keyed from a URL the importer wrote with the host already encoded (referrals).
    keyed = {
        table
        for (table,) in old_db.execute("select name from sqlite_master where type = 'table'")
        if any(column.endswith("_key") for column in old_db[table].columns_dict)
    }
    assert keyed == {t for t, _, _ in KEYED} | {"mentions", "referral_pages", "referral_days"}
    assert {keyed.table for keyed in rekeying._KEYED} == {t for t, _, _ in KEYED}


@pytest.mark.parametrize(
    "url",
    ["http://xn--fa-hia.example/p", "http://fass.example/p", "http://acme.test/straße",
     "http://b\u00fccher.example/ς"],
)  # fmt: skip
def test_ascii_punycode_and_paths_are_untouched(path: Path, old_db: Database, url: str) -> None:
    # The older release kept ACE labels as they were: their keys were right already.
    assert old_key(url) == identity_key(url)
    fill(old_db, url)
    before = dump(old_db)
    old_db.close()

    db = database.open_db(path)
    assert dump(db) == before
    db.close()


def test_a_database_without_such_hosts_is_read_once_per_table(old_db: Database) -> None:
    fill(old_db, "http://xn--fa-hia.example/p")
    statements: list[str] = []
    old_db.conn.set_trace_callback(statements.append)
    migrations.m014_idna_keys(old_db)
    old_db.conn.set_trace_callback(None)
    assert len(statements) == len(rekeying._KEYED)
    assert all(sql.startswith("select * from") and " glob " in sql for sql in statements)


def test_a_second_run_changes_nothing(path: Path, old_db: Database) -> None:
    fill(old_db, URL)
    old_db.close()
    db = database.open_db(path)
    before, changes = dump(db), db.conn.total_changes
    migrations.m014_idna_keys(db)
    assert (dump(db), db.conn.total_changes) == (before, changes)
    db.close()


def test_a_backlink_imported_twice_becomes_one_with_both_histories(
    path: Path, old_db: Database
) -> None:
    """Row 1 was imported by the older release (key fass.example); a re-import after the
    upgrade added row 2 under the new key. Both were checked in run 2."""
    db = old_db
    db["backlinks"].insert_all(
        [
            backlink(URL, "https://acme.com/", id=1, sources="ahrefs", expected_anchor="Acme",
                     imported_at=OLD_STAMP, first_seen="2025-02-01", last_live="2026-12-09",
                     status="lost", last_checked="2026-12-09", last_check_id=12),
            backlink(URL, "https://acme.com/", identity_key, id=2, sources="ahrefs,gsc",
                     imported_at=NEW_STAMP, first_seen="2026-12-09", last_live="2026-12-11",
                     status="live", follow=1, last_checked="2026-12-11", last_check_id=23),
            backlink("http://c.test/", None, identity_key, id=3, discovered_from=2),
        ]
    )  # fmt: skip
    db["backlink_sources"].insert_all(
        [
            {"backlink_id": 1, "source": "ahrefs", "imported_at": OLD_STAMP, "file": "old.csv",
             "domain_rating": 40.0, "trust_flow": 12.0},
            {"backlink_id": 2, "source": "ahrefs", "imported_at": NEW_STAMP, "file": "new.csv",
             "domain_rating": 45.0},
            {"backlink_id": 2, "source": "gsc", "imported_at": NEW_STAMP},
        ]
    )  # fmt: skip
    db["run_items"].insert_all(
        {"run_id": run, "backlink_id": b} for run, b in [(1, 1), (2, 1), (2, 2), (3, 2)]
    )
    db["evidence"].insert_all(
        [
            {"id": 1, "backlink_id": 1, "digest": 7, "link_html": "<a>Acme</a>"},
            {"id": 2, "backlink_id": 2, "digest": 7, "link_html": "<a>Acme</a>"},
            {"id": 3, "backlink_id": 2, "digest": 8, "link_html": "<a>New</a>"},
        ]
    )
    db["checks"].insert_all(
        [
            {"id": 11, "run_id": 1, "backlink_id": 1, "checked_at": "2025-02-01",
             "status": "live", "evidence_id": 1},
            {"id": 12, "run_id": 2, "backlink_id": 1, "checked_at": "2026-12-09",
             "status": "lost"},
            {"id": 22, "run_id": 2, "backlink_id": 2, "checked_at": "2026-12-09T01",
             "status": "live", "evidence_id": 2},
            {"id": 23, "run_id": 3, "backlink_id": 2, "checked_at": "2026-12-11",
             "status": "live", "evidence_id": 3},
        ]
    )  # fmt: skip
    db["outreach"].insert(
        {"site": SITE, "page_key": identity_key(URL), "page_url": URL, "status": "won",
         "backlink_id": 2, "updated_at": NEW_STAMP}
    )  # fmt: skip
    db.close()

    db = database.open_db(path)
    rows = {row["id"]: row for row in db["backlinks"].rows}
    assert sorted(rows) == [1, 3]
    kept = rows[1]
    assert (kept["source_key"], kept["referring_domain"]) == (
        identity_key(URL),
        "xn--fa-hia.example",
    )
    # The state of the row checked last; history and import facts of both.
    assert (kept["status"], kept["follow"], kept["last_checked"], kept["last_check_id"]) == (
        "live",
        1,
        "2026-12-11",
        23,
    )
    assert (kept["first_seen"], kept["last_live"], kept["imported_at"]) == (
        "2025-02-01",
        "2026-12-11",
        OLD_STAMP,
    )
    assert (kept["sources"], kept["expected_anchor"]) == ("ahrefs,gsc", "Acme")
    assert kept["authority"] == 45.0  # triggers followed the vendor rows
    assert rows[3]["discovered_from"] == 1
    checks = db.execute("select id, run_id, backlink_id, evidence_id from checks order by id")
    # Run 2 checked both: its later check stays, pointing at the shared evidence row.
    assert checks.fetchall() == [(11, 1, 1, 1), (22, 2, 1, 1), (23, 3, 1, 3)]
    evidence = db.execute("select id, backlink_id, digest from evidence order by id").fetchall()
    assert evidence == [(1, 1, 7), (3, 1, 8)]
    vendors = db.execute(
        "select source, file, domain_rating, trust_flow from backlink_sources"
        " where backlink_id = 1 order by source"
    ).fetchall()
    assert vendors == [("ahrefs", "new.csv", 45.0, 12.0), ("gsc", None, None, None)]
    items = db.execute("select run_id, backlink_id from run_items order by 1").fetchall()
    assert items == [(1, 1), (2, 1), (3, 1)]
    assert db.execute("select backlink_id from outreach").fetchall() == [(1,)]
    assert_keyed_by_identity_key(db)
    assert_consistent(db)
    db.close()


def test_colliding_rows_of_other_tables_are_merged(path: Path, old_db: Database) -> None:
    db, new = old_db, identity_key(URL)
    fill(db, URL)  # the older release's rows: seen first, and last in the outreach queue
    db.execute("delete from backlinks")
    db["mentions"].insert({"site": SITE, "page_key": old_key(URL), "term": "Gone",
                           "first_seen": OLD_STAMP})  # fmt: skip
    db.execute("update mentions set first_seen = ?", [OLD_STAMP])
    db.execute("update contacts set first_seen = ?", [OLD_STAMP])
    db.execute("update mention_pages set first_seen = ?, sources = 'verify'", [OLD_STAMP])
    db.execute("update outreach set updated_at = ?, note = 'asked'", ["2026-12-20"])
    db.execute("update competitor_links set first_seen = ?, anchor = 'old'", [OLD_STAMP])
    # ... and what ran after the upgrade added under the new keys.
    page = {"site": SITE, "page_key": new, "page_url": URL}
    db["mention_pages"].insert(
        {**page, "domain": "xn--fa-hia.example", "title": "New", "sources": "crawl",
         "first_seen": NEW_STAMP, "last_seen": NEW_STAMP}
    )  # fmt: skip
    db["mentions"].insert({"site": SITE, "page_key": new, "term": "Acme", "first_seen": NEW_STAMP})
    db["contacts"].insert({"page_key": new, "page_url": URL, "kind": "email", "value": "a@b",
                           "first_seen": NEW_STAMP})  # fmt: skip
    db["outreach"].insert(
        {**page, "status": "new", "created_at": NEW_STAMP, "updated_at": NEW_STAMP}
    )
    db["competitor_links"].insert(
        {**page, "competitor": "rival.com", "domain": "xn--fa-hia.example",
         "target_key": identity_key(URL + "?to=acme"), "target_url": URL + "?to=acme",
         "anchor": "new", "first_seen": NEW_STAMP, "last_seen": NEW_STAMP}
    )  # fmt: skip
    db["crawl_pages"].insert({"run_id": 1, "domain": "example", "url_key": new, "url": URL,
                              "depth": 2})  # fmt: skip
    db["target_checks"].insert({"run_id": 1, "site": SITE, "url_key": new, "url": URL,
                                "http_status": 200})  # fmt: skip
    db.execute(
        "insert into referral_broken (site, page_key, source, target_key, target_url, visits,"
        " first_day, last_day) values (?, 'https://ref.test/', 'log', ?, ?, 2, ?, ?)",
        [SITE, new, URL, "2026-12-10", "2026-12-12"],
    )
    db.close()

    db = database.open_db(path)
    assert_keyed_by_identity_key(db)
    one = {table: db[table].count for table, _, _ in KEYED if table != "backlinks"}
    assert set(one.values()) == {1}
    page_row = next(db["mention_pages"].rows)
    assert (page_row["title"], page_row["first_seen"], page_row["sources"]) == (
        "New",
        OLD_STAMP,
        "crawl,verify",
    )
    # The page as read last: its terms, each seen since it was first seen.
    assert db.execute("select term, first_seen from mentions").fetchall() == [("Acme", OLD_STAMP)]
    assert db.execute("select first_seen from contacts").fetchall() == [(OLD_STAMP,)]
    queue = db.execute("select status, note, created_at from outreach").fetchall()
    assert queue == [("contacted", "asked", NEW_STAMP)]
    links = db.execute("select anchor, first_seen, last_seen from competitor_links").fetchall()
    assert links == [("new", OLD_STAMP, NEW_STAMP)]
    assert db.execute("select depth from crawl_pages").fetchall() == [(2,)]
    assert db.execute("select http_status from target_checks").fetchall() == [(200,)]
    visits = db.execute("select visits, first_day, last_day from referral_broken").fetchall()
    assert visits == [(5, "2025-01-01", "2026-12-12")]
    assert_consistent(db)
    db.close()


def test_a_url_the_store_could_not_key_is_left_alone(old_db: Database) -> None:
    bad = "http://faß.example:99999/"  # out-of-range port: urlsplit refuses it
    with pytest.raises(ValueError):
        identity_key(bad)
    old_db["backlinks"].insert({"site": SITE, "source_url": bad, "source_key": "x",
                                "target_key": "", "referring_domain": "x"})  # fmt: skip
    migrations.m014_idna_keys(old_db)
    assert old_db.execute("select source_key from backlinks").fetchall() == [("x",)]


def test_sqlite_selects_the_characters_anywhere() -> None:
    # The selection relies on GLOB comparing code points, not bytes, in a class, and on
    # a non-ASCII URL having more bytes than characters.
    sql = "select length(?1) < length(cast(?1 as blob)) and ?1 glob ?2"
    pattern = f"*[{rekeying.IDNA_DEVIATIONS}]*"
    with sqlite3.connect(":memory:") as conn:
        for host in HOSTS.values():
            assert conn.execute(sql, [f"http://{host}/", pattern]).fetchone() == (1,)
        for url in ("http://bücher.de/", "http://fass.example/"):
            assert conn.execute(sql, [url, pattern]).fetchone() == (0,)
