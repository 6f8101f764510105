"""Hand-made histories for the report tests, and a check that they came out as planned.

`acme_history` is three weekly runs over 13 backlinks of acme.com (brand "Acme",
keyword "blue widgets"); the comment on each backlink says what happens to it.
The right answers in tests/test_reports.py were worked out by hand from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from verifier import database
from verifier.models import (
    Check,
    CompetitorLink,
    Contact,
    ContactKind,
    Mention,
    MentionKind,
    NofollowSource,
    PageMentions,
    Placement,
    Reason,
    Status,
    TargetCheck,
)
from verifier.store import mentions, runs, storage, targets
from verifier.store import referrals as referral_store

SITE = "acme.com"
R1, R2, R3 = "2024-03-01T02:00:00+00:00", "2024-03-08T02:00:00+00:00", "2024-03-15T02:00:00+00:00"
NOW = "2024-03-20T00:00:00+00:00"

#: id: (referring page, target) in insertion order, so ids are 1..13.
LINKS = {
    1: ("http://a.com/1", "https://acme.com/"),  # live "Acme" (text beside an icon)
    2: ("http://a.com/2", "https://acme.com/pricing"),  # "blue widgets", removed in R3
    3: ("http://b.com/1", "https://acme.com/"),  # "acme.com", rel=nofollow
    4: ("http://c.blogspot.com/x", "https://acme.com/blog"),  # "click here", rel=UGC
    5: ("http://d.blogspot.com/y", "https://acme.com/"),  # image link, alt "Acme logo"
    6: ("http://e.com/1", "https://acme.com/shop"),  # 404 in R2, back in R3 (regained)
    7: ("http://f.com/1", "https://acme.com/"),  # no text, page-level meta nofollow
    8: ("http://g.com/1", "https://acme.com/"),  # "a shop" -> "some shop", sponsored
    9: ("http://h.com/1", "https://acme.com/"),  # "Mehr lesen", then two timeouts
    10: ("http://k.com/1", "https://acme.com/old"),  # removed in R2 (page mentions Acme)
    11: ("http://k.com/2", "https://acme.com/old"),  # 404 in R3: k.com lost only then
    12: ("http://m.com/1", "https://acme.com/"),  # "here", nofollowed in R2
    13: ("http://n.com/1", "https://acme.com/"),  # "Blue Widgets" (exact)
}


def add_links(db: Database, links: dict[int, tuple[str, str]], stamp: str = R1) -> None:
    for backlink_id, (source, target) in links.items():
        got, new = storage.upsert_backlink(db, SITE, source, target, None, "csv", stamp)
        assert (got, new) == (backlink_id, True)


def add_run(db: Database, at: str, checks: list[Check]) -> int:
    """A finished run started at `at` whose checks are all made at `at`."""
    run_id = int(
        db["runs"]
        .insert(
            {"started_at": at, "finished_at": at, "state": "finished", "sites": json.dumps([SITE])}
        )
        .last_pk
    )
    for check in checks:
        check.checked_at = at
    runs.record_checks(db, run_id, checks)
    return run_id


def live(backlink_id: int, anchor: str, follow: bool = True, **evidence: Any) -> Check:
    html = evidence.pop("link_html", f'<a href="https://acme.com/">{anchor}</a>')
    return Check(
        backlink_id,
        Status.LIVE,
        follow=follow,
        anchor=anchor,
        link_count=1,
        http_status=200,
        link_html=html,
        **evidence,
    )


def lost(backlink_id: int, reason: Reason, **evidence: Any) -> Check:
    return Check(backlink_id, Status.LOST, reason=reason, **evidence)


def failed(backlink_id: int, reason: Reason, detail: str) -> Check:
    return Check(backlink_id, Status.UNREACHABLE, reason=reason, detail=detail)


def rel(backlink_id: int, anchor: str, tokens: str) -> Check:
    return live(backlink_id, anchor, False, rel=tokens, nofollow_source=NofollowSource.REL)


def unchanged(run: int) -> list[Check]:
    """The checks of backlinks 1, 3, 4, 5, 7 and 13, the same in every run."""
    return [
        live(
            1, "Acme", link_html='<a href="https://acme.com/"><img alt="icon" src="i.png">Acme</a>'
        ),
        rel(3, "acme.com", "nofollow"),
        rel(4, "click here", "UGC"),
        live(5, "Acme logo", link_html='<a href="/"><img src="logo.png" alt="Acme logo"></a>'),
        live(7, "", False, nofollow_source=NofollowSource.META),
        live(13, "Blue Widgets"),
    ]


def acme_run(db: Database, run: int) -> int:
    """Record run 1, 2 or 3 of the acme history."""
    before = {"context_before": "Our favourite", "context_after": "are great"}
    if run == 1:
        return add_run(
            db,
            R1,
            [
                *unchanged(1),
                live(2, "blue widgets", **before),
                live(6, "best blue widgets shop"),
                rel(8, "a shop", "sponsored noopener"),
                live(9, "Mehr lesen"),
                live(10, "Acme tools"),
                live(11, "Acme"),
                live(12, "here"),
            ],
        )
    if run == 2:
        return add_run(
            db,
            R2,
            [
                *unchanged(2),
                live(2, "blue widgets", **before),
                lost(6, Reason.PAGE_NOT_FOUND, http_status=404),
                rel(8, "some shop", "sponsored noopener"),
                failed(9, Reason.TIMEOUT, "timed out after 30 s"),
                lost(10, Reason.LINK_REMOVED, http_status=200, mentions=1),
                live(11, "Acme"),
                rel(12, "here", "nofollow"),
            ],
        )
    return add_run(
        db,
        R3,
        [
            *unchanged(3),
            lost(2, Reason.LINK_REMOVED, http_status=200),
            live(6, "best blue widgets shop"),
            rel(8, "some shop", "sponsored noopener"),
            failed(9, Reason.TIMEOUT, "timed out after 30 s"),
            lost(10, Reason.LINK_REMOVED, http_status=200, mentions=1),
            lost(11, Reason.PAGE_NOT_FOUND, http_status=404, final_url="http://k.com/2"),
            rel(12, "here", "nofollow"),
        ],
    )


def add_metrics(db: Database) -> None:
    rows = [
        {"backlink_id": 2, "source": "ahrefs", "domain_rating": 50, "page_traffic": 1500},
        {"backlink_id": 10, "source": "ahrefs", "domain_rating": 20, "page_traffic": 0},
        {"backlink_id": 11, "source": "moz", "domain_authority": 70, "page_traffic": 20000},
    ]
    db["backlink_sources"].insert_all(rows)


def add_target_checks(db: Database) -> None:
    """Our own pages as runs 2 and 3 found them: /old is gone, /blog redirects."""

    def target(url: str, status: int, chain: tuple = ()) -> TargetCheck:
        final = chain[-1][0] + "/" if chain else url
        return TargetCheck(SITE, url, "HEAD", status, final, chain)

    targets.record_target_checks(db, 2, [target("https://acme.com/pricing", 500)])
    targets.record_target_checks(
        db,
        3,
        [
            target("https://acme.com/pricing", 200),
            target("https://acme.com/old", 404),
            target("https://acme.com/", 200),
            target("https://acme.com/shop", 200),
            target("https://acme.com/blog", 200, (("https://acme.com/blog", 301),)),
        ],
    )


def acme_history(path: Path, last_run: int = 3, referrals: bool = False) -> Database:
    db = database.open_db(path)
    storage.save_site(db, SITE, brands=["Acme"], keywords=["blue widgets"])
    add_links(db, LINKS)
    for run in range(1, last_run + 1):
        assert acme_run(db, run) == run
    add_metrics(db)
    if last_run == 3:
        add_target_checks(db)
        add_discovery(db)
        add_competitors(db)
    if referrals:
        add_referrals(db)
    return db


def add_referrals(db: Database) -> None:
    """Referral visits: backlink 1's page (log and GA4), an unverified candidate, an origin.

    The candidate (http://z.example/post) is no backlink until verified: no other
    report may count it.
    """
    page = ("http://a.com/1", "a.com", False)
    visits = {
        ("http://a.com/1", "2024-03-10", "2024-03-10"): 4,
        ("http://a.com/1", "2024-03-12", "2024-03-12"): 3,
        ("http://z.example/post", "2024-03-14", "2024-03-14"): 2,
        ("https://o.example/", "2024-03-14", "2024-03-14"): 3,
    }
    pages = {
        "http://a.com/1": page,
        "http://z.example/post": ("http://z.example/post", "z.example", False),
        "https://o.example/": ("https://o.example/", "o.example", True),
    }
    with storage.writing(db):
        referral_store.add_visits(db, SITE, "log", visits, pages)
        assert referral_store.settle(db, SITE, "log", "access.log") == 1
        ga4 = {("http://a.com/1", "2024-03-01", "2024-03-15"): 5}
        referral_store.add_visits(db, SITE, "ga4", ga4, {"http://a.com/1": page}, replace=True)
        assert referral_store.settle(db, SITE, "ga4", "ga4.csv") == 0


def add_competitors(db: Database) -> None:
    """Two competitors with live links: m.org links to both (the gap), a.com to both and
    to acme.com (the intersect). Set as checks would leave them, without a run of their
    own (the site's reports must not see them, whatever the last run was)."""
    storage.save_site(db, SITE, competitors=["widgetco.com", "gizmo.io"])
    pages = [
        ("widgetco.com", "http://m.org/review", "https://widgetco.com/", 1),
        ("gizmo.io", "http://m.org/review", "https://gizmo.io/", 0),
        ("widgetco.com", "http://a.com/1", "https://widgetco.com/", 1),
        ("gizmo.io", "http://a.com/3", "https://gizmo.io/", 1),
    ]
    for rival, source, target, follow in pages:
        backlink_id, _ = storage.upsert_backlink(db, rival, source, target, None, "csv", R3)
        db.execute(
            "update backlinks set status = 'live', follow = ?, first_seen = ?, last_live = ?"
            " where id = ?",
            [follow, R3, R3, backlink_id],
        )
    db.conn.commit()


def add_discovery(db: Database) -> None:
    """Mentions on two pages (one an outreach target), a contact, a competitor link."""
    text = Mention("Acme", MentionKind.TEXT, "we use Acme daily", False, Placement.MAIN)
    image = Mention(
        "https://acme.com/logo.png", MentionKind.IMAGE_USE, "Acme logo", False, Placement.MAIN
    )
    linked = Mention("Acme", MentionKind.TEXT, "see Acme", True, Placement.BOILERPLATE)
    mentions.record_pages(
        db,
        3,
        [
            PageMentions(
                SITE,
                "http://m.org/review",
                "crawl",
                title="A review",
                mentions=[text, image],
                contacts=[Contact(ContactKind.EMAIL, "ed@m.org", "http://m.org/contact")],
                contact_url="http://m.org/contact",
            ),
            PageMentions(SITE, "http://a.com/1", "verify", links_to_site=True, mentions=[linked]),
        ],
    )
    mentions.record_competitor_links(
        db,
        [
            CompetitorLink(
                SITE,
                "widgetco.com",
                "http://m.org/review",
                "https://widgetco.com/",
                True,
                None,
                None,
                "WidgetCo",
            )
        ],
    )


def test_the_history_came_out_as_planned(tmp_path: Path) -> None:
    db = acme_history(tmp_path / "h.db")
    state = {
        row["id"]: (row["status"], row["change"], row["consecutive_failures"])
        for row in db.query(
            "select id, status, change, consecutive_failures from backlinks where site = ?",
            [SITE],
        )
    }
    assert state == {
        1: ("live", "unchanged", 0),
        2: ("lost", "lost", 0),
        3: ("live", "unchanged", 0),
        4: ("live", "unchanged", 0),
        5: ("live", "unchanged", 0),
        6: ("live", "regained", 0),
        7: ("live", "unchanged", 0),
        8: ("live", "unchanged", 0),
        9: ("unreachable", "unreachable", 2),
        10: ("lost", "unchanged", 0),
        11: ("lost", "lost", 0),
        12: ("live", "unchanged", 0),
        13: ("live", "unchanged", 0),
    }
    changes = db.execute(
        "select run_id, change, count(*) from checks where change != 'unchanged'"
        " group by 1, 2 order by 1, 2"
    ).fetchall()
    assert changes == [
        (1, "new", 13),
        (2, "anchor_changed", 1),
        (2, "lost", 2),
        (2, "nofollowed", 1),
        (2, "unreachable", 1),
        (3, "lost", 2),
        (3, "regained", 1),
        (3, "unreachable", 1),
    ]
