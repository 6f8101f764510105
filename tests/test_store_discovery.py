"""What discovery stores (verifier.store.mentions, outreach, crawls) on a temporary database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from verifier import database
from verifier.crawl.domainlist import DomainEntry
from verifier.models import (
    Check,
    CompetitorLink,
    Contact,
    ContactKind,
    CrawledPage,
    Discovery,
    DomainDone,
    Mention,
    MentionKind,
    NofollowSource,
    PageContacts,
    PageMentions,
    Placement,
    Reason,
    Status,
)
from verifier.store import crawls, mentions, outreach, runs, storage
from verifier.store.crawls import PendingDomain
from verifier.store.storage import StorageError
from verifier.store.writer import Batch, BatchWriter
from verifier.verdict.urls import identity_key

SITE = "acme.com"
BETA = "beta.org"
PAGE = "https://blog.zine.org/post"
T1, T2, T3 = "2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00"


@dataclass
class Row:
    """An imported backlink (storage.RowLike)."""

    source_url: str
    target_url: str | None = "https://acme.com/"
    anchor: str | None = None
    line: int = 2
    metrics: dict[str, object] = field(default_factory=dict)


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "t.db"


@pytest.fixture
def db(db_file: Path) -> Iterator[Database]:
    db = database.open_db(db_file)
    storage.save_site(db, SITE, brands=["Acme"])
    storage.save_site(db, BETA, brands=["Beta"])
    yield db
    db.close()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Set the time the store modules write (storage.now has one-second resolution)."""

    def set_time(stamp: str) -> None:
        for module in (mentions, outreach, crawls):
            monkeypatch.setattr(module, "now", lambda: stamp)

    return set_time


def mention(term: str, kind: MentionKind = MentionKind.TEXT, context: str = "") -> Mention:
    return Mention(term, kind, context or f"… {term} …", False, Placement.MAIN)


def page(
    *terms: str,
    url: str = PAGE,
    site: str = SITE,
    source: str = "crawl",
    links: bool = False,
    reason: str | None = None,
    contacts: tuple[Contact, ...] = (),
    contact_url: str | None = None,
    title: str | None = "A post",
) -> PageMentions:
    return PageMentions(
        site=site,
        page_url=url,
        source=source,
        title=title,
        links_to_site=links,
        mentions=[mention(t) for t in terms],
        contacts=list(contacts),
        contact_url=contact_url,
        reason=reason,
    )


def email(value: str, found_on: str = PAGE) -> Contact:
    return Contact(ContactKind.EMAIL, value, found_on)


def mention_rows(db: Database) -> list[tuple[str, str, str]]:
    return [
        (r["page_key"], r["term"], r["context"])
        for r in db.query("select * from mentions order by page_key, term")
    ]


def page_row(db: Database, url: str = PAGE, site: str = SITE) -> dict[str, Any]:
    return db.table("mention_pages").get((site, url))


def status_of(db: Database, url: str = PAGE, site: str = SITE) -> str:
    return str(db.table("outreach").get((site, url))["status"])


# --- mention pages ---------------------------------------------------------------


def test_rereading_a_page_drops_terms_no_longer_there(
    db: Database, clock: Callable[[str], None]
) -> None:
    clock(T1)
    first = page("Acme", "acme.com", "https://acme.com/logo.png")
    first.mentions[2] = mention("https://acme.com/logo.png", MentionKind.IMAGE_USE, "Logo")
    mentions.record_pages(db, 1, [first])
    clock(T2)
    second = page(title="Acme, reviewed")
    second.mentions = [mention("Acme", context="now with new context")]
    mentions.record_pages(db, 2, [second])
    assert mention_rows(db) == [(PAGE, "Acme", "now with new context")]
    [term] = db["mentions"].rows
    assert (term["first_seen"], term["last_seen"]) == (T1, T2)
    row = page_row(db)
    assert (row["first_seen"], row["last_seen"], row["run_id"], row["title"]) == (
        T1,
        T2,
        2,
        "Acme, reviewed",
    )


def test_a_page_read_without_terms_drops_them_all(db: Database) -> None:
    mentions.record_pages(db, 1, [page("Acme", "acme.com")])
    mentions.record_pages(db, 2, [page()])
    assert mention_rows(db) == []
    assert page_row(db)["run_id"] == 2


def test_rereading_touches_only_its_own_page_and_site(db: Database) -> None:
    other = "https://other.zine.org/p"
    mentions.record_pages(
        db,
        1,
        [page("Acme"), page("Acme", url=other), page("Beta", site=BETA)],
    )
    mentions.record_pages(db, 2, [page("acme.com")])
    assert sorted((r["site"], r["page_key"], r["term"]) for r in db["mentions"].rows) == [
        (SITE, PAGE, "acme.com"),
        (SITE, other, "Acme"),
        (BETA, PAGE, "Beta"),
    ]


@pytest.mark.parametrize(
    ("urls", "keys"),
    [
        pytest.param([PAGE, "HTTPS://Blog.Zine.ORG:443/post#comments"], [PAGE], id="same-page"),
        pytest.param([PAGE, "http://blog.zine.org/post"], 2, id="near-miss-http"),
        pytest.param([PAGE, "https://blog.zine.org/post/"], 2, id="near-miss-slash"),
        pytest.param([PAGE, "https://blog.zine.org/post?p=2"], 2, id="near-miss-query"),
    ],
)
def test_pages_are_keyed_by_identity(db: Database, urls: list[str], keys: list[str] | int) -> None:
    for run_id, url in enumerate(urls, start=1):
        mentions.record_pages(db, run_id, [page("Acme", url=url)])
    got = [r["page_key"] for r in db["mention_pages"].rows]
    if isinstance(keys, int):
        assert len(got) == keys
    else:
        assert got == keys
        assert page_row(db)["page_url"] == urls[-1]  # the latest spelling
        assert page_row(db)["domain"] == "zine.org"


@pytest.mark.parametrize(
    ("reads", "first", "accumulated"),
    [
        pytest.param(["verify"], "verify", "verify", id="one"),
        pytest.param(["verify", "crawl"], "verify", "verify,crawl", id="two"),
        pytest.param(["verify", "crawl", "verify", "crawl"], "verify", "verify,crawl", id="again"),
        pytest.param(["crawl", "crawl"], "crawl", "crawl", id="same-twice"),
        pytest.param(["list", "feed", "outreach"], "list", "list,feed,outreach", id="three"),
        pytest.param(["outreach", "reach"], "outreach", "outreach,reach", id="near-miss-suffix"),
        pytest.param(["verify", "ver"], "verify", "verify,ver", id="near-miss-prefix"),
    ],
)
def test_sources_accumulate(db: Database, reads: list[str], first: str, accumulated: str) -> None:
    for source in reads:
        mentions.record_pages(db, 1, [page("Acme", source=source)])
    row = page_row(db)
    assert (row["source"], row["sources"]) == (first, accumulated)


@pytest.mark.parametrize(
    ("reasons", "expected"),
    [
        pytest.param([None], None, id="none"),
        pytest.param(["link_removed"], "link_removed", id="set"),
        pytest.param(["link_removed", None], "link_removed", id="sticks"),
        pytest.param([None, "link_removed"], "link_removed", id="set-later"),
        pytest.param([None, None], None, id="never"),
    ],
)
def test_reason_sticks(db: Database, reasons: list[str | None], expected: str | None) -> None:
    for reason in reasons:
        mentions.record_pages(db, 1, [page("Acme", reason=reason, source="verify")])
    assert page_row(db)["reason"] == expected


@pytest.mark.parametrize(
    ("urls", "expected"),
    [
        pytest.param(["https://zine.org/contact", None], "https://zine.org/contact", id="kept"),
        pytest.param([None, "https://zine.org/contact"], "https://zine.org/contact", id="found"),
        pytest.param(
            ["https://zine.org/contact", "https://zine.org/about"],
            "https://zine.org/about",
            id="replaced",
        ),
    ],
)
def test_contact_url_is_kept_when_not_found_again(
    db: Database, urls: list[str | None], expected: str
) -> None:
    for url in urls:
        mentions.record_pages(db, 1, [page("Acme", contact_url=url)])
    assert page_row(db)["contact_url"] == expected


def test_page_flags_follow_the_latest_read(db: Database) -> None:
    mentions.record_pages(db, 1, [page("Acme")])
    again = page("Acme", links=True)
    again.noindex = True
    mentions.record_pages(db, 2, [again])
    row = page_row(db)
    assert (row["page_links_to_site"], row["page_noindex"]) == (1, 1)


# --- contacts ----------------------------------------------------------------------


def test_contacts_are_deduplicated(db: Database, clock: Callable[[str], None]) -> None:
    author = Contact(ContactKind.AUTHOR, "Ed Writer", PAGE)
    clock(T1)
    mentions.record_pages(
        db, 1, [page("Acme", contacts=(email("ed@zine.org"), email("ed@zine.org"), author))]
    )
    clock(T2)
    mentions.record_pages(
        db,
        2,
        [
            page("Acme", contacts=(email("ed@zine.org"), email("jo@zine.org"))),
            page("Beta", site=BETA, contacts=(email("ed@zine.org"),)),
        ],
    )
    got = [
        (r["page_key"], r["kind"], r["value"], r["first_seen"])
        for r in db.query("select * from contacts order by kind, value")
    ]
    assert got == [
        (PAGE, "author", "Ed Writer", T1),
        (PAGE, "email", "ed@zine.org", T1),
        (PAGE, "email", "jo@zine.org", T2),
    ]


def test_contact_page_addresses_join_their_target(db: Database) -> None:
    contact_page = "https://zine.org/contact"
    mentions.record_pages(db, 1, [page("Acme", contacts=(email("ed@zine.org"),))])
    found = [
        PageContacts(
            "HTTPS://blog.zine.org/post#top",
            (email("ed@zine.org", contact_page), email("desk@zine.org", contact_page)),
        )
    ]
    mentions.record_contacts(db, found)
    mentions.record_contacts(db, found)
    got = [
        (r["page_key"], r["value"], r["found_on"])
        for r in db.query("select * from contacts order by value")
    ]
    assert got == [(PAGE, "desk@zine.org", contact_page), (PAGE, "ed@zine.org", PAGE)]


def test_a_targets_contacts_are_read_again_until_its_contact_page_answers(
    db: Database, clock: Callable[[str], None]
) -> None:
    """New to the queue: read its contacts. Queued with a contact page that never
    answered (no PageContacts came): read them again. Once its contact page was read,
    even without an address: not again."""
    contact_page = "https://zine.org/contact"
    assert outreach.wants_contacts(db, SITE, PAGE)
    clock(T1)
    mentions.record_pages(db, 1, [page("Acme", contact_url=contact_page)])
    assert outreach.wants_contacts(db, SITE, "https://BLOG.zine.org/post#x")  # unread
    assert page_row(db)["contact_read_at"] is None
    clock(T2)
    mentions.record_contacts(db, [PageContacts(PAGE, ())])  # read: no address there
    assert page_row(db)["contact_read_at"] == T2
    assert not outreach.wants_contacts(db, SITE, PAGE)
    assert db.execute("select count(*) from contacts").fetchone()[0] == 0
    # Read again without contacts (not wanted): the contact page stays read.
    mentions.record_pages(db, 2, [page("Acme")])
    assert not outreach.wants_contacts(db, SITE, PAGE)
    # Another site's queue is its own; a target without a contact page has none to read.
    assert outreach.wants_contacts(db, BETA, PAGE)
    other = "https://other.org/p"
    mentions.record_pages(db, 2, [page("Acme", url=other)])
    assert not outreach.wants_contacts(db, SITE, other)


def test_contacts_read_is_what_wants_contacts_says_no_for(
    db: Database, clock: Callable[[str], None]
) -> None:
    """The set a Redis owner hands its workers: every queued target whose contacts need no
    reading, per site, and nothing else."""
    unread, read, bare = PAGE, "https://other.org/p", "https://third.org/p"
    clock(T1)
    mentions.record_pages(db, 1, [page("Acme", contact_url="https://zine.org/contact")])
    mentions.record_pages(db, 1, [page("Acme", url=read, contact_url="https://other.org/c")])
    mentions.record_contacts(db, [PageContacts(read, ())])
    mentions.record_pages(db, 1, [page("Acme", url=bare)])
    got = outreach.contacts_read(db, [SITE, BETA])
    assert got == {(SITE, identity_key(read)), (SITE, identity_key(bare))}
    for url in (unread, read, bare, "https://new.org/p"):
        assert ((SITE, identity_key(url)) not in got) == outreach.wants_contacts(db, SITE, url)
    assert outreach.contacts_read(db, [BETA]) == set()
    assert outreach.contacts_read(db, []) == set()


# --- the outreach queue --------------------------------------------------------------


@pytest.mark.parametrize(
    ("read", "opened"),
    [
        pytest.param(page("Acme"), True, id="unlinked-mention"),
        pytest.param(page("https://acme.com/logo.png"), True, id="image-use"),
        pytest.param(page("Acme", reason="link_removed"), True, id="lost-link"),
        pytest.param(page("Acme", links=True), False, id="near-miss-links-to-site"),
        pytest.param(page(), False, id="near-miss-no-terms"),
    ],
)
def test_outreach_targets_are_opened_as_new(db: Database, read: PageMentions, opened: bool) -> None:
    mentions.record_pages(db, 1, [read])
    got = [(r["site"], r["page_key"], r["status"]) for r in db["outreach"].rows]
    assert got == ([(SITE, PAGE, "new")] if opened else [])


def test_a_target_is_opened_once(db: Database, clock: Callable[[str], None]) -> None:
    clock(T1)
    mentions.record_pages(db, 1, [page("Acme")])
    clock(T2)
    mentions.record_pages(db, 2, [page("Acme", url="https://BLOG.zine.org/post#x")])
    [row] = db["outreach"].rows
    assert (row["status"], row["created_at"], row["updated_at"], row["page_url"]) == (
        "new",
        T1,
        T1,
        PAGE,
    )


@pytest.mark.parametrize("status", outreach.STATUSES)
def test_a_later_read_never_resets_a_status(
    db: Database, clock: Callable[[str], None], status: str
) -> None:
    mentions.record_pages(db, 1, [page("Acme")])
    clock(T2)
    assert outreach.set_status(db, SITE, PAGE, status, "mailed Ed") == 1
    clock(T3)
    mentions.record_pages(db, 2, [page("Acme", source="verify")])
    row = db.table("outreach").get((SITE, PAGE))
    assert (row["status"], row["note"], row["updated_at"]) == (status, "mailed Ed", T2)


def test_set_status_matches_the_page_by_identity_and_keeps_the_note(db: Database) -> None:
    mentions.record_pages(db, 1, [page("Acme")])
    assert outreach.set_status(db, SITE, "https://Blog.Zine.org/post#c", "contacted", "hi") == 1
    assert outreach.set_status(db, SITE, PAGE, "replied", None) == 1
    row = db.table("outreach").get((SITE, PAGE))
    assert (row["status"], row["note"]) == ("replied", "hi")


@pytest.mark.parametrize(
    ("site", "url"),
    [
        pytest.param(SITE, "https://blog.zine.org/other", id="other-page"),
        pytest.param(SITE, "http://blog.zine.org/post", id="other-scheme"),
        pytest.param(BETA, PAGE, id="other-site"),
    ],
)
def test_set_status_on_a_page_not_queued_matches_nothing(db: Database, site: str, url: str) -> None:
    mentions.record_pages(db, 1, [page("Acme")])
    assert outreach.set_status(db, site, url, "contacted", None) == 0
    assert status_of(db) == "new"


@pytest.mark.parametrize("status", ["", "New", "won ", "open", "lost"])
def test_set_status_refuses_unknown_statuses(db: Database, status: str) -> None:
    mentions.record_pages(db, 1, [page("Acme")])
    with pytest.raises(StorageError, match="unknown outreach status"):
        outreach.set_status(db, SITE, PAGE, status, None)
    assert status_of(db) == "new"


def add_backlink(db: Database, url: str, site: str = SITE) -> int:
    storage.add_backlinks(db, site, [Row(url, f"https://{site}/")], "csv", "x.csv")
    [(backlink_id,)] = db.execute(
        "select id from backlinks where site = ? and source_url = ?", [site, url]
    ).fetchall()
    return int(backlink_id)


def set_backlink_status(db: Database, site: str, ids: dict[int, Status]) -> None:
    """Give backlinks a status the way a run does: a check each."""
    found = [
        Check(i, Status.LIVE, follow=True, link_count=1, http_status=200)
        if status is Status.LIVE
        else Check(i, Status.LOST, Reason.LINK_REMOVED, http_status=200)
        for i, status in ids.items()
    ]
    runs.record_checks(db, runs.start_run(db, [site], new_run=True).run_id, found)


LIVE, LOST = Status.LIVE, Status.LOST


@pytest.mark.parametrize(
    ("status", "backlink", "sites", "expected", "settled"),
    [
        pytest.param("new", (SITE, PAGE, LIVE), None, "won", True, id="new"),
        pytest.param("contacted", (SITE, PAGE, LIVE), None, "won", True, id="contacted"),
        pytest.param("replied", (SITE, PAGE, LIVE), None, "won", True, id="replied"),
        pytest.param("new", (SITE, PAGE, LIVE), [SITE], "won", True, id="this-site"),
        pytest.param(
            "new", (SITE, "HTTPS://blog.zine.org/post#x", LIVE), None, "won", True, id="spelling"
        ),
        pytest.param("declined", (SITE, PAGE, LIVE), None, "declined", False, id="declined"),
        pytest.param("ignored", (SITE, PAGE, LIVE), None, "ignored", False, id="ignored"),
        pytest.param("won", (SITE, PAGE, LIVE), None, "won", False, id="won-by-hand"),
        pytest.param("new", None, None, "new", False, id="no-backlink"),
        pytest.param("new", (SITE, PAGE, None), None, "new", False, id="never-checked"),
        pytest.param("new", (SITE, PAGE, LOST), None, "new", False, id="lost-backlink"),
        pytest.param("new", (BETA, PAGE, LIVE), None, "new", False, id="other-sites-backlink"),
        pytest.param(
            "new", (SITE, "http://blog.zine.org/post", LIVE), None, "new", False, id="other-page"
        ),
        pytest.param("new", (SITE, PAGE, LIVE), [BETA], "new", False, id="other-site-settled"),
    ],
)
def test_settle_won(
    db: Database,
    status: str,
    backlink: tuple[str, str, Status | None] | None,
    sites: list[str] | None,
    expected: str,
    settled: bool,
) -> None:
    mentions.record_pages(db, 1, [page("Acme")])
    outreach.set_status(db, SITE, PAGE, status, None)
    backlink_id = None
    if backlink is not None:
        site, url, backlink_status = backlink
        backlink_id = add_backlink(db, url, site)
        if backlink_status is not None:
            set_backlink_status(db, site, {backlink_id: backlink_status})
    assert outreach.settle_won(db, sites) == int(settled)
    row = db.table("outreach").get((SITE, PAGE))
    assert (row["status"], row["backlink_id"]) == (expected, backlink_id if settled else None)


def test_settle_won_takes_the_first_live_backlink_and_settles_once(db: Database) -> None:
    mentions.record_pages(db, 1, [page("Acme")])
    lost_id = add_backlink(db, PAGE)
    storage.add_backlinks(db, SITE, [Row(PAGE, "https://acme.com/b")], "csv", "x.csv")
    storage.add_backlinks(db, SITE, [Row(PAGE, "https://acme.com/c")], "csv", "x.csv")
    first, second = lost_id + 1, lost_id + 2
    set_backlink_status(db, SITE, {lost_id: Status.LOST, first: Status.LIVE, second: Status.LIVE})
    assert outreach.settle_won(db) == 1
    assert db.table("outreach").get((SITE, PAGE))["backlink_id"] == first
    assert outreach.settle_won(db) == 0  # won is no longer open


def test_finishing_a_run_settles_its_sites(db: Database) -> None:
    mentions.record_pages(db, 1, [page("Acme")])
    backlink_id = add_backlink(db, PAGE)
    run_id = runs.start_run(db, [SITE], new_run=True).run_id
    runs.record_checks(db, run_id, [Check(backlink_id, Status.LIVE, follow=True, link_count=1)])
    runs.finish_run(db, run_id, "finished")
    assert status_of(db) == "won"


# --- open target pages ---------------------------------------------------------------


def test_open_target_pages(db: Database) -> None:
    urls = {
        status: f"https://{status}.zine.org/p" for status in outreach.STATUSES
    }  # one target per status
    mentions.record_pages(db, 1, [page("Acme", url=url) for url in urls.values()])
    for status, url in urls.items():
        outreach.set_status(db, SITE, url, status, None)
    backlinked = "https://backlinked.zine.org/p"
    lost = "https://lost.zine.org/p"
    mentions.record_pages(
        db,
        1,
        [
            page("Acme", url=backlinked),
            page("Acme", url=lost, reason="link_removed"),
            page("Beta", url="https://beta-fan.net/p", site=BETA),
        ],
    )
    add_backlink(db, backlinked)
    set_backlink_status(db, SITE, {add_backlink(db, lost): Status.LOST})
    add_backlink(db, urls["new"], BETA)  # another site's backlink does not hide the page
    assert mentions.open_target_pages(db, [SITE]) == [
        (SITE, "https://contacted.zine.org/p"),
        (SITE, "https://new.zine.org/p"),
        (SITE, "https://replied.zine.org/p"),
    ]
    assert mentions.open_target_pages(db, [BETA]) == [(BETA, "https://beta-fan.net/p")]
    assert len(mentions.open_target_pages(db, [SITE, BETA])) == 4
    assert mentions.open_target_pages(db, ["other.com"]) == []


# --- competitor links ----------------------------------------------------------------


def competitor_link(
    target: str = "https://rival.com/",
    url: str = PAGE,
    follow: bool = True,
    anchor: str = "Rival",
    site: str = SITE,
) -> CompetitorLink:
    source = None if follow else NofollowSource.REL
    rel = None if follow else "sponsored"
    return CompetitorLink(site, "rival.com", url, target, follow, rel, source, anchor)


def test_competitor_links_are_refreshed_not_duplicated(
    db: Database, clock: Callable[[str], None]
) -> None:
    clock(T1)
    mentions.record_competitor_links(
        db, [competitor_link(), competitor_link("https://rival.com/p")]
    )
    clock(T2)
    mentions.record_competitor_links(
        db,
        [
            competitor_link("https://RIVAL.com/#top", "https://blog.zine.org/post#c", False, "R"),
            competitor_link(site=BETA),
        ],
    )
    got = [
        (
            r["site"],
            r["target_key"],
            r["domain"],
            r["follow"],
            r["rel"],
            r["nofollow_source"],
            r["anchor"],
            r["first_seen"],
            r["last_seen"],
        )
        for r in db.query("select * from competitor_links order by site, target_key")
    ]
    assert got == [
        (SITE, "https://rival.com/", "zine.org", 0, "sponsored", "rel", "R", T1, T2),
        (SITE, "https://rival.com/p", "zine.org", 1, None, None, "Rival", T1, T1),
        (BETA, "https://rival.com/", "zine.org", 1, None, None, "Rival", T2, T2),
    ]


# --- domain-list crawls --------------------------------------------------------------


def crawl_run(db: Database, started_at: str = T2) -> int:
    run_id = runs.start_run(db, [SITE], kind="crawl", new_run=True).run_id
    db.execute("update runs set started_at = ? where id = ?", [started_at, run_id])
    return run_id


ENTRIES = [
    DomainEntry(2, "news.net", ("https://news.net/",)),
    DomainEntry(1, "zine.org", ("https://zine.org/", "http://zine.org/")),
    DomainEntry(2, "acme-fans.net", ("https://acme-fans.net/",)),
]


def test_add_domains_and_pending_domains(db: Database) -> None:
    run_id = crawl_run(db)
    assert crawls.add_domains(db, run_id, ENTRIES) == 3
    # A resumed crawl adds the list again: rows kept as they were.
    again = [DomainEntry(9, "zine.org", ("https://www.zine.org/",)), ENTRIES[0]]
    assert crawls.add_domains(db, run_id, again) == 0
    assert list(crawls.pending_domains(db, run_id)) == [
        PendingDomain("zine.org", 1, ("https://zine.org/", "http://zine.org/")),
        PendingDomain("acme-fans.net", 2, ("https://acme-fans.net/",)),
        PendingDomain("news.net", 2, ("https://news.net/",)),
    ]
    other_run = runs.start_run(db, [BETA], kind="crawl").run_id
    assert list(crawls.pending_domains(db, other_run)) == []
    assert crawls.add_domains(db, other_run, ENTRIES[:1]) == 1


def test_record_and_fetched_pages(db: Database, clock: Callable[[str], None]) -> None:
    run_id = crawl_run(db)
    crawls.add_domains(db, run_id, ENTRIES)
    home = CrawledPage(
        "zine.org", "https://zine.org/", 0, 200, True, ("https://zine.org/a", "https://zine.org/b")
    )
    missing = CrawledPage("zine.org", "https://zine.org/a", 1, 404, False)
    failed = CrawledPage("zine.org", "https://zine.org/b", 1, None, False)
    news = CrawledPage("news.net", "https://news.net/", 0, 200, True)
    clock(T3)
    crawls.record(db, run_id, [home, missing, news], [DomainDone("news.net", "done")])
    # The same page again (a resumed process) keeps its first row.
    crawls.record(
        db, run_id, [failed, CrawledPage("zine.org", "https://ZINE.org/", 0, 500, False)], []
    )
    assert crawls.fetched_pages(db, run_id, "zine.org") == [home, missing, failed]
    assert crawls.fetched_pages(db, run_id, "news.net") == [news]
    assert crawls.fetched_pages(db, run_id, "acme-fans.net") == []
    assert crawls.fetched_pages(db, run_id + 1, "zine.org") == []
    assert db.table("crawl_pages").get((run_id, "https://zine.org/a"))["links"] is None
    assert [p.domain for p in crawls.pending_domains(db, run_id)] == ["zine.org", "acme-fans.net"]
    done = db.table("crawl_domains").get((run_id, "news.net"))
    assert (done["state"], done["stopped"], done["finished_at"]) == ("done", "done", T3)


def test_summary(db: Database) -> None:
    old, started = "2000-01-01T00:00:00+00:00", "2001-01-01T00:00:00+00:00"
    before = crawl_run(db, old)  # an earlier crawl of the same site
    run_id = crawl_run(db, started)
    crawls.add_domains(db, run_id, ENTRIES)
    crawls.record(
        db,
        run_id,
        [
            CrawledPage("zine.org", "https://zine.org/", 0, 200, True),
            CrawledPage("zine.org", "https://blog.zine.org/post", 1, 200, True),
            CrawledPage("zine.org", "https://zine.org/gone", 1, 404, False),
            CrawledPage("zine.org", "https://zine.org/down", 1, None, False),
            CrawledPage("news.net", "https://news.net/", 0, 200, True),
        ],
        [DomainDone("zine.org", "page_limit"), DomainDone("news.net", "robots")],
    )
    crawls.record(db, before, [CrawledPage("zine.org", "https://zine.org/x", 0, 200, True)], [])
    # backlinks: known ones (imported before the run) and new ones, checked in this run or not
    known = add_backlink(db, "https://zine.org/known")
    unchecked = add_backlink(db, "https://zine.org/unchecked")
    other_run = add_backlink(db, "https://zine.org/other-run")
    beta = add_backlink(db, "https://zine.org/beta", BETA)
    db.execute(
        "update backlinks set imported_at = ? where id in (?, ?, ?, ?)",
        [old, known, unchecked, other_run, beta],
    )
    post, news = "https://blog.zine.org/post", "https://news.net/"
    found = [
        Discovery(SITE, post, "https://acme.com/a", None, Check(0, Status.LIVE), "crawl"),
        Discovery(SITE, post, "https://acme.com/b", None, Check(0, Status.LIVE), "crawl"),
        Discovery(SITE, news, "https://acme.com/", None, Check(0, Status.LIVE), "crawl"),
    ]
    runs.record_checks(db, run_id, [Check(known, Status.LIVE), Check(beta, Status.LIVE)], found)
    runs.record_checks(db, before, [Check(other_run, Status.LIVE)])
    # competitor links: seen since the run started, or only before it
    mentions.record_competitor_links(
        db,
        [
            competitor_link(),
            competitor_link("https://rival.com/old", "https://zine.org/old"),
            competitor_link(url="https://news.net/", site=BETA),
        ],
    )
    db.execute("update competitor_links set last_seen = ? where target_key like '%/old'", [old])
    # mention pages: read in this run without a link, with one, or read by another run
    mentions.record_pages(
        db,
        run_id,
        [
            page("Acme"),
            page("Acme", url="https://zine.org/", links=True),
            page("Acme", url="https://news.net/", site=BETA),
        ],
    )
    mentions.record_pages(db, before, [page("Acme", url="https://zine.org/x")])
    assert crawls.summary(db, run_id) == [
        {
            "domain": "zine.org",
            "pages": 2,
            "backlinks_new": 2,
            "backlinks_known": 1,
            "competitor_links": 1,
            "unlinked_mentions": 1,
            "stopped": "page_limit",
        },
        {
            "domain": "acme-fans.net",
            "pages": 0,
            "backlinks_new": 0,
            "backlinks_known": 0,
            "competitor_links": 0,
            "unlinked_mentions": 0,
            "stopped": "pending",
        },
        {
            "domain": "news.net",
            "pages": 1,
            "backlinks_new": 1,
            "backlinks_known": 0,
            "competitor_links": 0,
            "unlinked_mentions": 0,
            "stopped": "robots",
        },
    ]
    assert crawls.summary(db, run_id + 100) == []


# --- the writer process --------------------------------------------------------------


def test_discovery_batches_land_through_the_writer(db: Database, db_file: Path) -> None:
    run_id = crawl_run(db)
    crawls.add_domains(db, run_id, ENTRIES[:2])
    contact_page = "https://zine.org/contact"
    batches = [
        Batch(
            pages=[page("Acme", contacts=(email("ed@zine.org"),), contact_url=contact_page)],
            competitor_links=[competitor_link()],
        ),
        Batch(contacts=[PageContacts(PAGE, (email("desk@zine.org", contact_page),))]),
        Batch(
            crawled=[
                CrawledPage("zine.org", "https://zine.org/", 0, 200, True, (PAGE,)),
                CrawledPage("zine.org", PAGE, 1, 200, True),
            ],
            domains_done=[DomainDone("zine.org", "done")],
        ),
    ]
    writer = BatchWriter(db_file, run_id)
    for batch in batches:
        writer.submit(batch)
    writer.close()
    assert writer.error is None
    row = page_row(db)
    assert (row["run_id"], row["contact_url"], row["sources"]) == (run_id, contact_page, "crawl")
    assert mention_rows(db) == [(PAGE, "Acme", "… Acme …")]
    assert sorted(r["value"] for r in db["contacts"].rows) == ["desk@zine.org", "ed@zine.org"]
    assert status_of(db) == "new"
    assert [r["target_key"] for r in db["competitor_links"].rows] == ["https://rival.com/"]
    assert [p.url for p in crawls.fetched_pages(db, run_id, "zine.org")] == [
        "https://zine.org/",
        PAGE,
    ]
    assert [p.domain for p in crawls.pending_domains(db, run_id)] == ["news.net"]
    [zine, news] = crawls.summary(db, run_id)
    assert (zine["domain"], zine["pages"], zine["competitor_links"], zine["stopped"]) == (
        "zine.org",
        2,
        1,
        "done",
    )
    assert zine["unlinked_mentions"] == 1 and news["stopped"] == "pending"


def test_a_page_read_again_without_mentions_loses_them(db: Database) -> None:
    mentions.record_pages(
        db,
        1,
        [
            PageMentions(
                SITE,
                "http://gone.org/p",
                "verify",
                mentions=[Mention("Acme", MentionKind.TEXT, "Acme", False, Placement.MAIN)],
                reason="link_removed",
            )
        ],
    )
    mentions.record_pages(
        db, 2, [PageMentions(SITE, "http://gone.org/p", "verify", links_to_site=True)]
    )
    assert db.execute("select count(*) from mentions").fetchone()[0] == 0
    row = db.execute("select reason, page_links_to_site, run_id from mention_pages").fetchone()
    assert row == (None, 1, 2)
    # A page never stored is not created by an empty read.
    mentions.record_pages(db, 3, [PageMentions(SITE, "http://new.org/p", "verify")])
    assert db.execute("select count(*) from mention_pages").fetchone()[0] == 1


def test_landings_are_the_pages_a_backlink_page_last_redirected_to(db: Database) -> None:
    """Where a Redis owner looks for a redirecting page's queued target: by page key, the
    key of the page its last check landed on, per site; not a page that stayed put."""
    moved, stayed, slashed = "http://Blog.org/old", "http://blog.org/same", "http://blog.org/s"
    rows = [Row(moved), Row(stayed), Row(slashed), Row("http://never.org/p")]
    storage.add_backlinks(db, SITE, rows, "csv", "links.csv")
    storage.add_backlinks(db, BETA, [Row(moved, "https://beta.org/")], "csv", "links.csv")
    landed = {moved: "https://blog.org/new", stayed: stayed, slashed: "http://blog.org/s#top"}
    for source, final in landed.items():
        db.execute("update backlinks set final_url = ? where source_url = ?", [final, source])
    got = sorted(outreach.landings(db, [SITE]))
    assert got == [(SITE, identity_key(moved), identity_key("https://blog.org/new"))]
    assert sorted(outreach.landings(db, [SITE, BETA])) == sorted(
        [*got, (BETA, identity_key(moved), identity_key("https://blog.org/new"))]
    )
    assert list(outreach.landings(db, [])) == []
