"""`report gap`, `intersect` and `competitors` over a hand-made history of three rivals.

acme.com (brand "Acme") has the competitors w2.com, w1.com and w3.com, configured in
that order. Backlinks are written by the import path (`storage.add_backlinks`, with
vendor metrics) and checked by two runs (`runs.start_run` + `runs.record_checks`):
run 1 finds the links that later go as live, run 2 gives every link its final state.
The expected rows below were worked out by hand from the comments on LINKS.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from verifier import database, reports
from verifier.importers.models import ImportRow
from verifier.models import (
    Check,
    Mention,
    MentionKind,
    PageMentions,
    Placement,
    Reason,
    Status,
)
from verifier.store import mentions, runs, storage

SITE = "acme.com"
RIVALS = ["w2.com", "w1.com", "w3.com"]  # as configured: report competitors keeps this order
ALL = ["w1.com", "w2.com", "w3.com"]  # the `competitors` key: sorted
W12, W13, W23 = ["w1.com", "w2.com"], ["w1.com", "w3.com"], ["w2.com", "w3.com"]

F, N = True, False  # followed, nofollow
LIVE, LOST, UNREACHABLE = "live", "lost", "unreachable"

#: id: (site, referring page, follow, final status, vendor metrics {source: metrics}).
LINKS: dict[int, tuple[str, str, bool, str, dict[str, dict[str, float]]]] = {
    # d1.com: all three rivals, two followed; a page read there mentions Acme.
    1: ("w1.com", "http://d1.com/a", F, LIVE, {"ahrefs": {"domain_rating": 40}}),
    2: ("w2.com", "http://d1.com/a", F, LIVE, {"moz": {"domain_authority": 55}}),
    3: ("w3.com", "http://d1.com/b", N, LIVE, {}),
    # bp.com: /many has three nofollow links and TF 90, /followed one followed link: the
    # followed page is the one to pitch.
    4: ("w1.com", "http://bp.com/many", N, LIVE, {"majestic": {"trust_flow": 90}}),
    5: ("w2.com", "http://bp.com/many", N, LIVE, {}),
    6: ("w3.com", "http://bp.com/many", N, LIVE, {}),
    7: ("w1.com", "http://bp.com/followed", F, LIVE, {"ahrefs": {"domain_rating": 10}}),
    # cnt.com: /b has two links, /a one with more authority: the count wins. Backlink 9
    # has DR 5 (Ahrefs) and AS 50 (Semrush): its authority is 50 AS. An image use only.
    8: ("w1.com", "http://cnt.com/a", F, LIVE, {"ahrefs": {"domain_rating": 60}}),
    9: (
        "w1.com",
        "http://cnt.com/b",
        F,
        LIVE,
        {"ahrefs": {"domain_rating": 5}, "semrush": {"page_ascore": 50}},
    ),
    10: ("w2.com", "http://cnt.com/b", F, LIVE, {}),
    # auth.com: one followed link per page, AS 20 on /a, TF 30 on /z: authority wins over
    # the URL. Both pages were read for mentions and hold none (check mentions = 0).
    11: ("w1.com", "http://auth.com/a", F, LIVE, {"semrush": {"page_ascore": 20}}),
    12: ("w2.com", "http://auth.com/z", F, LIVE, {"majestic": {"trust_flow": 30}}),
    # lost.com: the w2 link was live in run 1, removed in run 2: only w1 counts.
    13: ("w1.com", "http://lost.com/1", F, LIVE, {}),
    14: ("w2.com", "http://lost.com/1", F, LOST, {}),
    # unr.com: the w2 page timed out: w1 and w3 count, not w2.
    15: ("w1.com", "http://unr.com/1", F, LIVE, {}),
    16: ("w2.com", "http://unr.com/2", F, UNREACHABLE, {}),
    17: ("w3.com", "http://unr.com/3", N, LIVE, {}),
    # ours.com links to acme.com too: never in the gap, in the intersect.
    18: ("acme.com", "http://ours.com/p", F, LIVE, {}),
    19: ("w1.com", "http://ours.com/p", F, LIVE, {}),
    20: ("w2.com", "http://ours.com/q", F, LIVE, {}),
    21: ("w3.com", "http://ours.com/q", F, LIVE, {}),
    # sitelost.com linked to acme.com and removed it: in the gap again.
    22: ("acme.com", "http://sitelost.com/p", F, LOST, {}),
    23: ("w1.com", "http://sitelost.com/p", F, LIVE, {}),
    24: ("w2.com", "http://sitelost.com/p", N, LIVE, {}),
    # Two blogspot.com blogs: two referring domains, not one with three rivals.
    25: ("w1.com", "http://a.blogspot.com/post", F, LIVE, {"semrush": {"page_ascore": 70}}),
    26: ("w2.com", "http://a.blogspot.com/post", F, LIVE, {}),
    27: ("w2.com", "http://b.blogspot.com/x", N, LIVE, {}),
    28: ("w3.com", "http://b.blogspot.com/x", F, LIVE, {"moz": {"domain_authority": 15}}),
    # one.com: one rival only.
    29: ("w3.com", "http://one.com/", F, LIVE, {}),
    # nf.com: two rivals, both nofollow, DR 80.
    30: ("w1.com", "http://nf.com/1", N, LIVE, {"ahrefs": {"domain_rating": 80}}),
    31: ("w2.com", "http://nf.com/1", N, LIVE, {}),
    # gone.com: both links removed (live in run 1): in no report.
    32: ("w1.com", "http://gone.com/1", F, LOST, {}),
    33: ("w3.com", "http://gone.com/1", F, LOST, {}),
    # x.com: the site's own nofollow link.
    34: ("acme.com", "http://x.com/1", N, LIVE, {}),
}
#: Imported after the runs, never checked (status NULL): they count nowhere.
UNCHECKED = {35: ("w1.com", "http://new.com/1"), 36: ("w2.com", "http://new.com/1")}
READ_NO_MENTION = {11, 12}  # checks that read their page for Acme and found none


def target(site: str, backlink_id: int) -> str:
    return f"https://{site}/" if backlink_id != 9 else f"https://{site}/p"


def import_link(db: Database, backlink_id: int, site: str, page: str, metrics: dict) -> None:
    for source, values in (metrics or {"csv": {}}).items():
        row = ImportRow(backlink_id, page, target(site, backlink_id), "anchor", dict(values))
        storage.add_backlinks(db, site, [row], source, f"{source}.csv")
    assert db.execute("select max(id) from backlinks").fetchone() == (backlink_id,)


def check(backlink_id: int, follow: bool, status: str) -> Check:
    if status == LIVE:
        return Check(
            backlink_id,
            Status.LIVE,
            follow=follow,
            anchor="anchor",
            link_count=1,
            http_status=200,
            mentions=0 if backlink_id in READ_NO_MENTION else None,
        )
    if status == LOST:
        return Check(backlink_id, Status.LOST, reason=Reason.LINK_REMOVED, http_status=200)
    return Check(backlink_id, Status.UNREACHABLE, reason=Reason.TIMEOUT, detail="timed out")


def run(db: Database, sites: list[str], checks: list[Check], **kwargs: Any) -> runs.RunSummary:
    started = runs.start_run(db, sites, **kwargs)
    runs.record_checks(db, started.run_id, checks)
    return runs.finish_run(db, started.run_id, "finished")


def rival_history(path: Path) -> tuple[Database, runs.RunSummary]:
    """The history above; returns the database and run 2's summary."""
    db = database.open_db(path)
    storage.save_site(db, SITE, brands=["Acme"], competitors=RIVALS)
    for backlink_id, (site, page, _follow, _status, metrics) in LINKS.items():
        import_link(db, backlink_id, site, page, metrics)
    sites = storage.with_competitors(db, [SITE])
    assert sites == [SITE, *RIVALS]
    gone = [i for i, link in LINKS.items() if link[3] == LOST]
    run(db, sites, [check(i, LINKS[i][2], LIVE) for i in gone], backlinks=gone)
    summary = run(db, sites, [check(i, link[2], link[3]) for i, link in LINKS.items()])
    for backlink_id, (site, page) in UNCHECKED.items():
        import_link(db, backlink_id, site, page, {})
    text = Mention("Acme", MentionKind.TEXT, "we like Acme", False, Placement.MAIN)
    logo = Mention(
        "https://acme.com/logo.png", MentionKind.IMAGE_USE, "logo", False, Placement.MAIN
    )
    mentions.record_pages(
        db,
        summary.run_id,
        [
            PageMentions(SITE, "http://d1.com/review", "crawl", mentions=[text]),
            PageMentions(SITE, "http://cnt.com/gallery", "crawl", mentions=[logo]),
        ],
    )
    return db, summary


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    return rival_history(tmp_path_factory.mktemp("gap") / "gap.db")[0]


def gap(db: Database, report: reports.Report = reports.GAP, **params: Any) -> list[dict]:
    named = params.pop("competitor", None)
    params = {"site": SITE, **params, "competitor": json.dumps(named) if named else None}
    return reports.run(db, report, params)


KEYS = (
    "referring_domain",
    "competitors",
    "competitor_count",
    "followed_competitors",
    "links",
    "followed_links",
    "best_page",
    "authority",
    "authority_source",
    "mentions_brand",
)


def pick(rows: list[dict], *keys: str) -> list[tuple]:
    return [tuple(row[key] for key in keys) for row in rows]


#: `report gap` with the defaults (K = 2 of 3 rivals), in report order: most rivals, most
#: followed links, highest authority, most links, then the domain.
GAP_K2 = [
    ("d1.com", ALL, 3, 2, 3, 2, "http://d1.com/a", 55.0, "DA", True),
    ("bp.com", ALL, 3, 1, 4, 1, "http://bp.com/followed", 90.0, "TF", None),
    ("cnt.com", W12, 2, 2, 3, 3, "http://cnt.com/b", 60.0, "DR", False),
    ("a.blogspot.com", W12, 2, 2, 2, 2, "http://a.blogspot.com/post", 70.0, "AS", None),
    ("auth.com", W12, 2, 2, 2, 2, "http://auth.com/z", 30.0, "TF", False),
    ("b.blogspot.com", W23, 2, 1, 2, 1, "http://b.blogspot.com/x", 15.0, "DA", None),
    ("sitelost.com", W12, 2, 1, 2, 1, "http://sitelost.com/p", None, None, None),
    ("unr.com", W13, 2, 1, 2, 1, "http://unr.com/1", None, None, None),
    ("nf.com", W12, 2, 0, 2, 0, "http://nf.com/1", 80.0, "DR", None),
]
#: One rival is enough: lost.com (w2 lost, w1 live) and one.com join, after the others.
ONE_RIVAL = [
    ("lost.com", ["w1.com"], 1, 1, 1, 1, "http://lost.com/1", None, None, None),
    ("one.com", ["w3.com"], 1, 1, 1, 1, "http://one.com/", None, None, None),
]


def test_the_history_came_out_as_planned(tmp_path: Path) -> None:
    db, summary = rival_history(tmp_path / "h.db")
    state = {
        row[0]: (row[1], row[2], row[3])
        for row in db.execute("select id, site, status, follow from backlinks")
    }
    assert state == {
        **{
            i: (site, status, None if status != LIVE else int(follow))
            for i, (site, _page, follow, status, _metrics) in LINKS.items()
        },
        35: ("w1.com", None, None),
        36: ("w2.com", None, None),
    }
    assert [(r["domain"], r["role"]) for r in db.query("select * from sites order by domain")] == [
        ("acme.com", "site"),
        ("w1.com", "competitor"),
        ("w2.com", "competitor"),
        ("w3.com", "competitor"),
    ]
    # The same link from two exports is one backlink with both sources.
    assert db.execute("select sources from backlinks where id = 9").fetchone() == (
        "ahrefs,semrush",
    )
    assert db.execute(
        "select source from backlink_sources where backlink_id = 9 order by source"
    ).fetchall() == [("ahrefs",), ("semrush",)]
    assert summary.run_id == 2


def authority(db: Database) -> dict[int, tuple[float, str]]:
    sql = "select id, authority, authority_source from backlinks where authority is not null"
    return {row[0]: (row[1], row[2]) for row in db.execute(sql)}


def test_authority_is_kept_on_the_backlink_by_triggers(tmp_path: Path) -> None:
    db, _ = rival_history(tmp_path / "a.db")
    assert authority(db) == {
        1: (40.0, "DR"),
        2: (55.0, "DA"),
        4: (90.0, "TF"),
        7: (10.0, "DR"),
        8: (60.0, "DR"),
        9: (50.0, "AS"),  # Semrush's 50 over Ahrefs' 5
        11: (20.0, "AS"),
        12: (30.0, "TF"),
        25: (70.0, "AS"),
        28: (15.0, "DA"),
        30: (80.0, "DR"),
    }
    # A new Ahrefs export of backlink 9 (an update of its source row): DR 65 now leads.
    row = ImportRow(2, "http://cnt.com/b", "https://w1.com/p", "anchor", {"domain_rating": 65})
    storage.add_backlinks(db, "w1.com", [row], "ahrefs", "ahrefs-2.csv")
    assert authority(db)[9] == (65.0, "DR")
    db.execute("delete from backlink_sources where backlink_id = 9 and source = 'ahrefs'")
    assert authority(db)[9] == (50.0, "AS")


def test_gap_defaults_to_two_of_three_competitors(db: Database) -> None:
    got = gap(db)
    assert set(got[0]) == {"site", *KEYS}
    assert {row["site"] for row in got} == {SITE}
    assert pick(got, *KEYS) == GAP_K2


def test_gap_min_competitors(db: Database) -> None:
    assert pick(gap(db, min_competitors=2), *KEYS) == GAP_K2
    assert pick(gap(db, min_competitors=1), *KEYS) == GAP_K2 + ONE_RIVAL
    assert pick(gap(db, min_competitors=3), *KEYS) == GAP_K2[:2]
    # unr.com would have three with its unreachable w2 link; gone.com and new.com none
    assert gap(db, min_competitors=4) == []


def test_gap_followed_only(db: Database) -> None:
    # Only followed competitor links count toward K: bp.com has one (w1), nf.com none.
    got = gap(db, followed_only=True)
    assert pick(got, "referring_domain", "followed_competitors") == [
        ("d1.com", 2),
        ("cnt.com", 2),
        ("a.blogspot.com", 2),
        ("auth.com", 2),
    ]
    got = gap(db, followed_only=True, min_competitors=1)
    assert pick(got, "referring_domain") == [
        ("d1.com",),
        ("bp.com",),
        ("cnt.com",),
        ("a.blogspot.com",),
        ("auth.com",),
        ("b.blogspot.com",),
        ("sitelost.com",),
        ("unr.com",),
        ("lost.com",),
        ("one.com",),
    ]


def test_gap_of_named_competitors(db: Database) -> None:
    # w1 and w2 only: K is 2 of the two; w3's links (and authority) are out of scope.
    got = gap(db, competitor=["w1.com", "w2.com"])
    assert pick(got, *KEYS) == [
        ("cnt.com", W12, 2, 2, 3, 3, "http://cnt.com/b", 60.0, "DR", False),
        ("a.blogspot.com", W12, 2, 2, 2, 2, "http://a.blogspot.com/post", 70.0, "AS", None),
        ("d1.com", W12, 2, 2, 2, 2, "http://d1.com/a", 55.0, "DA", True),
        ("auth.com", W12, 2, 2, 2, 2, "http://auth.com/z", 30.0, "TF", False),
        ("bp.com", W12, 2, 1, 3, 1, "http://bp.com/followed", 90.0, "TF", None),
        ("sitelost.com", W12, 2, 1, 2, 1, "http://sitelost.com/p", None, None, None),
        ("nf.com", W12, 2, 0, 2, 0, "http://nf.com/1", 80.0, "DR", None),
    ]
    # One named competitor: K is 1.
    got = gap(db, competitor=["w3.com"])
    assert pick(got, "referring_domain", "competitors", "links", "best_page") == [
        ("b.blogspot.com", ["w3.com"], 1, "http://b.blogspot.com/x"),
        ("one.com", ["w3.com"], 1, "http://one.com/"),
        ("bp.com", ["w3.com"], 1, "http://bp.com/many"),
        ("d1.com", ["w3.com"], 1, "http://d1.com/b"),
        ("unr.com", ["w3.com"], 1, "http://unr.com/3"),
    ]


def test_gap_with_one_competitor_defaults_to_one(tmp_path: Path) -> None:
    db = database.open_db(tmp_path / "solo.db")
    storage.save_site(db, "solo.com", competitors=["rival.com"])
    pages = {1: "http://p.com/1", 2: "http://q.com/1", 3: "http://r.com/1", 4: "http://r.com/2"}
    for backlink_id, page in pages.items():
        site = "solo.com" if backlink_id == 4 else "rival.com"
        import_link(db, backlink_id, site, page, {})
    # p.com links to the rival; q.com did (lost); r.com links to the rival and to solo.com.
    checks = [check(1, F, LIVE), check(2, F, LOST), check(3, N, LIVE), check(4, F, LIVE)]
    run(db, storage.with_competitors(db, ["solo.com"]), checks)
    got = reports.run(db, reports.GAP, {"site": "solo.com"})
    assert pick(got, *KEYS) == [
        ("p.com", ["rival.com"], 1, 1, 1, 1, "http://p.com/1", None, None, None)
    ]
    assert reports.run(db, reports.GAP, {"site": "solo.com", "min_competitors": 2}) == []
    got = reports.run(db, reports.INTERSECT, {"site": "solo.com"})
    assert pick(got, "referring_domain", "links_to_site") == [("p.com", False), ("r.com", True)]


def test_intersect(db: Database) -> None:
    got = gap(db, reports.INTERSECT)
    assert set(got[0]) == {"site", "links_to_site", *KEYS}
    assert pick(got, "links_to_site", *KEYS) == [
        (False, "d1.com", ALL, 3, 2, 3, 2, "http://d1.com/a", 55.0, "DA", True),
        (False, "bp.com", ALL, 3, 1, 4, 1, "http://bp.com/followed", 90.0, "TF", None),
        (True, "ours.com", ALL, 3, 3, 3, 3, "http://ours.com/q", None, None, None),
    ]
    # w1 and w3: w2's DA 55 on d1.com is out of scope, so is its followed link.
    got = gap(db, reports.INTERSECT, competitor=["w1.com", "w3.com"])
    assert pick(got, "links_to_site", *KEYS) == [
        (False, "bp.com", W13, 2, 1, 3, 1, "http://bp.com/followed", 90.0, "TF", None),
        (False, "d1.com", W13, 2, 1, 2, 1, "http://d1.com/a", 40.0, "DR", True),
        (False, "unr.com", W13, 2, 1, 2, 1, "http://unr.com/1", None, None, None),
        # one followed link on each page: the URL decides
        (True, "ours.com", W13, 2, 2, 2, 2, "http://ours.com/p", None, None, None),
    ]


def test_competitors(db: Database) -> None:
    got = reports.run(db, reports.COMPETITORS, {"site": SITE})
    keys = ("site", "domain", "is_site", "live_links", "lost_links", "referring_domains")
    keys += ("followed_domain_share", "followed_link_share")
    assert [set(row) for row in got] == [set(keys)] * 4
    assert pick(got, *keys) == [
        # ours.com (followed), x.com (nofollow); sitelost.com lost
        (SITE, "acme.com", True, 2, 1, 2, 0.5, 0.5),
        # live: d1, bp, cnt, auth, a.blogspot, ours, sitelost (followed); bp, nf
        # (nofollow); lost.com/1 lost; unr.com/2 unreachable
        (SITE, "w2.com", False, 9, 1, 9, 0.5556, 0.5556),
        # live: d1, bp/followed, cnt x2, auth, lost, unr, ours, sitelost, a.blogspot
        # (followed); bp/many, nf (nofollow); gone.com lost; new.com never checked
        (SITE, "w1.com", False, 12, 1, 10, 0.9, 0.8333),
        # live: ours, b.blogspot, one (followed); d1, bp, unr (nofollow); gone.com lost
        (SITE, "w3.com", False, 6, 1, 6, 0.5, 0.5),
    ]


def test_views_answer_as_the_reports_with_every_parameter_null(db: Database) -> None:
    def normal(rows: list[dict]) -> list[dict]:
        for row in rows:
            if isinstance(row.get("competitors"), str):
                row["competitors"] = sorted(json.loads(row["competitors"]))
            for key in ("mentions_brand", "links_to_site", "is_site"):
                if row.get(key) is not None:
                    row[key] = bool(row[key])
        return rows

    for report in (reports.GAP, reports.INTERSECT, reports.COMPETITORS):
        view = normal(list(db.query(f"select * from {report.view}")))
        assert view == reports.run(db, report, {}), report.name
        assert view == reports.run(db, report, {"site": SITE}), report.name
    assert pick(normal(list(db.query("select * from report_gap"))), *KEYS) == GAP_K2


def test_competitor_links_stay_out_of_the_site_reports(db: Database) -> None:
    for params in ({}, {"site": SITE}):
        backlinks = reports.run(db, reports.get("backlinks"), params)
        assert [(b["id"], b["site"], b["status"]) for b in backlinks] == [
            (18, SITE, "live"),
            (22, SITE, "lost"),
            (34, SITE, "live"),
        ]
        [summary] = reports.run(db, reports.get("summary"), params)
        assert (summary["site"], summary["backlinks"], summary["live_links"]) == (SITE, 3, 2)
        assert (summary["referring_domains"], summary["lost_links"]) == (2, 1)
        assert summary["last_run_id"] == 2
        domains = reports.run(db, reports.get("referring-domains"), params)
        assert sorted(d["referring_domain"] for d in domains) == [
            "ours.com",
            "sitelost.com",
            "x.com",
        ]
    # gone.com and lost.com lost competitor links in run 2: not the site's lost links.
    lost = reports.run(db, reports.get("lost"), {})
    assert [row["source_url"] for row in lost] == ["http://sitelost.com/p"]
    rivals_only = ("w1.com", "w2.com", "w3.com", "d1.com", "bp.com", "gone.com", "lost.com")
    for name in ("follow-ratio", "anchors", "velocity", "changes", "unreachable"):
        text = json.dumps(reports.run(db, reports.get(name), {}), default=str)
        found = [d for d in rivals_only if re.search(rf"(?<![\w.-]){re.escape(d)}", text)]
        assert not found, name
    view = db.execute("select id from report_backlinks order by id").fetchall()
    assert view == [(18,), (22,), (34,)]
    assert storage.site_domains(db) == [SITE]
    with pytest.raises(storage.StorageError, match=re.escape("w1.com is a competitor, not a site")):
        storage.pick_sites(db, "w1.com", one=False)


def test_the_run_summary_counts_competitors_apart(tmp_path: Path) -> None:
    _, summary = rival_history(tmp_path / "s.db")
    assert (summary.state, summary.pages, summary.backlinks) == ("finished", 3, 3)
    assert (summary.live, summary.followed, summary.lost, summary.unreachable) == (2, 1, 1, 0)
    # sitelost.com's link to acme.com went in run 2; lost.com's and gone.com's competitor
    # links did too, but they are not the site's
    assert (summary.newly_lost, summary.regained) == (1, 0)
    assert (summary.competitor_links, summary.competitor_live) == (31, 27)


def test_pick_competitor(db: Database) -> None:
    assert storage.pick_competitor(db, SITE, "W1.com") == "w1.com"
    assert storage.pick_competitor(db, SITE, "https://www.w3.com/") == "w3.com"
    with pytest.raises(
        storage.StorageError, match=re.escape("'w9.com' is not a competitor of acme.com")
    ):
        storage.pick_competitor(db, SITE, "w9.com")
