"""Each report over the hand-made acme history (tests/test_reports_history.py).

The expected values were worked out by hand from the history's comments.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database

from tests.test_reports_history import NOW, R1, R2, R3, acme_history
from verifier import reports


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    # With referral traffic: its unverified candidate must show in no report but referrals.
    return acme_history(tmp_path_factory.mktemp("reports") / "acme.db", referrals=True)


def rows(db: Database, report: reports.Report, **params: object) -> list[dict]:
    return reports.run(db, report, {"now": NOW, **params})


def pick(items: list[dict], *keys: str) -> list[tuple]:
    return [tuple(item[k] for k in keys) for item in items]


def test_summary(db: Database) -> None:
    [row] = rows(db, reports.SUMMARY)
    assert row == {
        "site": "acme.com",
        "backlinks": 13,
        "checked": 13,
        "live_links": 9,
        "referring_domains": 9,
        "followed_links": 4,
        "followed_share": 0.4444,
        "followed_domains": 4,
        "followed_domain_share": 0.4444,
        "lost_links": 3,
        "unreachable_links": 1,
        "lost_last_run": 2,  # a.com/2, k.com/2
        "regained_last_run": 1,  # e.com/1
        "lost_7d": 2,
        "regained_7d": 1,
        "lost_30d": 4,  # and e.com/1, k.com/1 in run 2
        "regained_30d": 1,
        "window_start": None,
        "lost_in_window": None,
        "regained_in_window": None,
        "last_run_id": 3,
        "last_run_state": "finished",
        "last_run_started_at": R3,
        "last_run_finished_at": R3,
    }
    [windowed] = rows(db, reports.SUMMARY, since="2024-03-09")
    assert pick([windowed], "window_start", "lost_in_window", "regained_in_window") == [
        ("2024-03-09", 2, 1)
    ]


def test_referring_domains_lose_a_domain_only_with_its_last_live_link(tmp_path: Path) -> None:
    db = acme_history(tmp_path / "two-runs.db", last_run=2)
    k_com = [r for r in rows(db, reports.REFERRING_DOMAINS) if r["referring_domain"] == "k.com"]
    # After run 2, k.com/1 is lost but k.com/2 still links: the domain is live.
    assert pick(k_com, "status", "live_links", "lost_links", "lost_since") == [("live", 1, 1, None)]


def test_referring_domains(db: Database) -> None:
    got = rows(db, reports.REFERRING_DOMAINS)
    keys = ("referring_domain", "status", "live_links", "followed_links", "lost_links")
    assert pick(got, *keys) == [
        ("a.com", "live", 1, 1, 1),  # a.com/2 is lost, a.com/1 still links
        ("d.blogspot.com", "live", 1, 1, 0),
        ("e.com", "live", 1, 1, 0),
        ("n.com", "live", 1, 1, 0),
        ("b.com", "live", 1, 0, 0),
        ("c.blogspot.com", "live", 1, 0, 0),
        ("f.com", "live", 1, 0, 0),
        ("g.com", "live", 1, 0, 0),
        ("m.com", "live", 1, 0, 0),
        ("h.com", "unreachable", 0, 0, 0),
        ("k.com", "lost", 0, 0, 2),
    ]
    by_domain = {r["referring_domain"]: r for r in got}
    assert pick([by_domain["k.com"]], "backlinks", "first_seen", "last_live", "lost_since") == [
        (2, R1, R2, R3)  # lost when its last live link went, in run 3
    ]
    assert pick([by_domain["a.com"]], "first_seen", "last_live", "lost_since") == [(R1, R3, None)]
    assert by_domain["h.com"]["last_live"] == R1
    since = rows(db, reports.REFERRING_DOMAINS, since="2024-03-10")
    assert pick(since, "referring_domain") == [("k.com",)]


def test_follow_ratio(db: Database) -> None:
    got = rows(db, reports.FOLLOW_RATIO)
    keys = ("basis", "total", "followed", "not_followed", "nofollow", "ugc", "sponsored")
    keys += ("page_level", "followed_share", "ratio", "verdict")
    # b.com and m.com rel=nofollow, c.blogspot.com rel=UGC, g.com "sponsored noopener",
    # f.com a meta nofollow; one live link per domain, so both bases agree.
    assert pick(got, *keys) == [
        ("domains", 9, 4, 5, 2, 1, 1, 1, 0.4444, 0.8, "too_few_followed"),
        ("links", 9, 4, 5, 2, 1, 1, 1, 0.4444, 0.8, "too_few_followed"),
    ]
    assert got[0]["healthy_min"] == 0.6 and got[0]["healthy_max"] == 0.85
    notes = reports.run_report(db, reports.FOLLOW_RATIO, {}).notes
    assert notes == [
        "acme.com: 4 of 9 referring domains followed (0.8:1, 44%); healthy 60%-85% (about 3:1):"
        " below the healthy range: few of your links pass authority"
    ]


def test_follow_ratio_counts_a_domain_followed_when_one_live_link_is(tmp_path: Path) -> None:
    db = acme_history(tmp_path / "x.db")
    db.execute("update backlinks set referring_domain = 'a.com' where id in (3, 4)")
    domains, links = rows(db, reports.FOLLOW_RATIO)
    assert pick([domains], "total", "followed", "nofollow", "ugc") == [(7, 4, 1, 0)]
    assert pick([links], "total", "followed", "nofollow", "ugc") == [(9, 4, 2, 1)]


def test_anchors_one_of_each_category(db: Database) -> None:
    got = rows(db, reports.ANCHORS)
    assert pick(got, "anchor", "category", "image", "live_links", "share") == [
        ("", "empty", False, 1, 0.1111),
        ("Acme", "branded", False, 1, 0.1111),  # an icon beside the text: not an image link
        ("Acme logo", "image", True, 1, 0.1111),
        ("acme.com", "naked_url", False, 1, 0.1111),
        ("best blue widgets shop", "partial", False, 1, 0.1111),
        ("Blue Widgets", "exact", False, 1, 0.1111),
        ("click here", "generic", False, 1, 0.1111),
        ("here", "generic", False, 1, 0.1111),
        ("some shop", "other", False, 1, 0.1111),
    ]


def test_anchors_by_category_and_the_exact_match_warning(db: Database) -> None:
    result = reports.run_report(db, reports.ANCHORS, {"by": "category"})
    assert pick(result.rows, "category", "anchors", "live_links", "share", "over_threshold") == [
        ("generic", 2, 2, 0.2222, False),
        ("branded", 1, 1, 0.1111, False),
        ("empty", 1, 1, 0.1111, False),
        ("exact", 1, 1, 0.1111, True),  # 11% > 10%
        ("image", 1, 1, 0.1111, False),
        ("naked_url", 1, 1, 0.1111, False),
        ("other", 1, 1, 0.1111, False),
        ("partial", 1, 1, 0.1111, False),
    ]
    assert result.notes[0].startswith("acme.com: anchors by category (share of live links): ")
    assert result.notes[1].startswith("warning: acme.com: exact-match anchors are 11% of live")
    relaxed = reports.run_report(db, reports.ANCHORS, {"exact_threshold": 12.5})
    assert not [n for n in relaxed.notes if n.startswith("warning")]


def test_lost_queue_priority_and_actions(db: Database) -> None:
    got = rows(db, reports.LOST)
    keys = ("source_url", "reason", "priority", "anchor", "was_followed", "domain_live_links")
    # priority = 100 x (.3 traffic + .25 authority + .2 followed + .15 only link + .1 recency):
    # k.com/2: .3*1 + .25*.7 + .2 + .15 + .1*(1 - 4.917/90) = .9195
    # a.com/2: .3*.75 + .25*.5 + .2 + 0 + .1*(1 - 4.917/90) = .6445
    # k.com/1: 0 + .25*.2 + .2 + .15 + .1*(1 - 11.917/90) = .4868
    assert pick(got, *keys) == [
        ("http://k.com/2", "page_not_found", 92.0, "Acme", True, 0),
        ("http://a.com/2", "link_removed", 64.5, "blue widgets", True, 1),
        ("http://k.com/1", "link_removed", 48.7, "Acme tools", True, 0),
    ]
    assert pick(got, "mentions_brand", "action") == [
        (None, "ask to restore the page, or find where it moved and ask for the link there"),
        (None, "outreach: ask to restore the link (mentions brand: unknown)"),
        (True, "outreach: ask to restore the link (mentions brand: yes)"),
    ]
    a_com = got[1]
    assert pick([a_com], "context_before", "context_after", "lost_since", "last_live") == [
        ("Our favourite", "are great", R3, R2)  # the context of the last live check
    ]
    assert pick([a_com], "domain_rating", "page_traffic", "http_status") == [(50, 1500, 200)]
    assert [r["source_url"] for r in rows(db, reports.LOST, since="2024-03-10")] == [
        "http://k.com/2",
        "http://a.com/2",
    ]


def test_broken_targets(db: Database) -> None:
    got = rows(db, reports.BROKEN_TARGETS)
    keys = ("target_url", "issue", "target_status", "redirects", "referring_domains")
    keys += ("source_url", "status")
    assert pick(got, *keys) == [
        ("https://acme.com/blog", "redirect", 200, 1, 1, "http://c.blogspot.com/x", "live"),
        ("https://acme.com/old", "client_error", 404, 0, 0, "http://k.com/1", "lost"),
        ("https://acme.com/old", "client_error", 404, 0, 0, "http://k.com/2", "lost"),
    ]
    assert got[0]["action"].startswith("fine as a 301")
    assert got[1]["action"].startswith("fix on our side: 301-redirect")
    assert got[0]["target_final_url"] == "https://acme.com/blog/"
    # /pricing answered 500 in run 2 but 200 in run 3: only the latest check counts.


def test_changes_of_the_last_run_a_given_run_or_since_a_date(db: Database) -> None:
    keys = ("run_id", "change", "reason", "source_url")
    assert pick(rows(db, reports.CHANGES), *keys) == [
        (3, "lost", "link_removed", "http://a.com/2"),
        (3, "lost", "page_not_found", "http://k.com/2"),
        (3, "regained", None, "http://e.com/1"),
    ]
    run2 = rows(db, reports.CHANGES, run=2)
    assert pick(run2, *keys) == [
        (2, "lost", "page_not_found", "http://e.com/1"),
        (2, "lost", "link_removed", "http://k.com/1"),
        (2, "nofollowed", None, "http://m.com/1"),
        (2, "anchor_changed", None, "http://g.com/1"),
    ]
    assert pick(run2, "anchor", "follow", "rel")[2:] == [
        ("here", False, "nofollow"),
        ("some shop", False, "sponsored noopener"),
    ]
    assert len(rows(db, reports.CHANGES, run=1)) == 13  # every backlink is new
    since = rows(db, reports.CHANGES, since="2024-03-08")
    assert sorted(pick(since, "run_id", "change")) == [
        (2, "anchor_changed"),
        (2, "lost"),
        (2, "lost"),
        (2, "nofollowed"),
        (3, "lost"),
        (3, "lost"),
        (3, "regained"),
    ]


def test_unreachable(db: Database) -> None:
    [row] = rows(db, reports.UNREACHABLE)
    assert row == {
        "site": "acme.com",
        "backlink_id": 9,
        "source_url": "http://h.com/1",
        "target_url": "https://acme.com/",
        "referring_domain": "h.com",
        "reason": "timeout",
        "consecutive_failures": 2,
        "counts_toward_lost": True,
        "last_verdict": "live",
        "http_status": None,
        "final_url": None,
        "detail": "timed out after 30 s",
        "last_checked": R3,
        "last_live": R1,
    }
    assert rows(db, reports.UNREACHABLE, since="2024-03-16") == []


def test_backlinks_keeps_its_contract(db: Database) -> None:
    lost = rows(db, reports.BACKLINKS, status="lost")
    assert [r["source_url"] for r in lost] == ["http://a.com/2", "http://k.com/1", "http://k.com/2"]
    assert lost[0]["follow"] is None and rows(db, reports.BACKLINKS)[0]["follow"] is True


@pytest.mark.parametrize("report", reports.BUILTIN, ids=lambda r: r.name)
def test_another_site_sees_nothing_of_acme(db: Database, report: reports.Report) -> None:
    assert rows(db, report, site="other.org") == []
    assert rows(db, report, site="acme.com") == rows(db, report)


@pytest.mark.parametrize("report", reports.BUILTIN, ids=lambda r: r.name)
def test_every_view_shows_the_report_with_no_filter(db: Database, report: reports.Report) -> None:
    # The view has no :now, so reports that depend on it are compared without one.
    view = [dict(row) for row in db.query(f"select * from {report.view}")]
    query = [dict(row) for row in db.query(report.sql, reports.bind(report, {}))]
    assert view == query and view
