"""`report referrals`, and referral candidates in the other reports: spam is never a lost link."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlite_utils import Database

from tests.test_referrals_logs import line
from tests.test_reports_history import NOW, acme_history
from verifier import database, referrals, reports
from verifier.models import Check, Reason, Status, TargetCheck
from verifier.store import runs, storage, targets

SITE = "acme.com"


def run(db: Database, report: reports.Report, **params: object) -> list[dict]:
    return reports.run(db, report, {"now": NOW, **params})


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Database:
    return acme_history(tmp_path_factory.mktemp("referrals") / "acme.db", referrals=True)


def test_referrals_per_page_and_source_side_by_side(acme: Database) -> None:
    keys = ("referring_page", "period", "visits", "source", "backlink_status", "last_day")
    assert [tuple(r[k] for k in keys) for r in run(acme, reports.REFERRALS)] == [
        ("http://a.com/1", None, 7, "log", "live", "2024-03-12"),
        ("http://a.com/1", None, 5, "ga4", "live", "2024-03-15"),
        ("http://z.example/post", None, 2, "log", "unverified", "2024-03-14"),
    ]
    by_day = run(acme, reports.REFERRALS, by="day")
    assert [(r["period"], r["visits"], r["source"]) for r in by_day] == [
        ("2024-03-01", 5, "ga4"),  # a GA4 export without dates: counted on its first day
        ("2024-03-10", 4, "log"),
        ("2024-03-12", 3, "log"),
        ("2024-03-14", 2, "log"),
    ]
    by_week = run(acme, reports.REFERRALS, by="week", since="2024-03-11")
    assert [(r["period"], r["visits"]) for r in by_week] == [("2024-03-11", 3), ("2024-03-11", 2)]
    [origin] = run(acme, reports.REFERRALS, origins=True)
    assert (origin["referring_page"], origin["referring_domain"], origin["visits"]) == (
        "https://o.example/",
        "o.example",
        3,
    )
    assert origin["backlink_status"] == "unverified"
    assert run(acme, reports.REFERRALS, spam=True) == []


def test_candidates_are_no_backlinks_and_visits_show_beside_them(acme: Database) -> None:
    rows = run(acme, reports.BACKLINKS)
    assert len(rows) == 13 and "http://z.example/post" not in {r["source_url"] for r in rows}
    visits = {r["source_url"]: r["referral_visits"] for r in rows}
    assert visits["http://a.com/1"] == 7  # the larger of log (7) and GA4 (5), never 12
    assert visits["http://b.com/1"] is None


def add_run(db: Database, at: str, checks: list[Check]) -> int:
    run_id = int(
        db["runs"]
        .insert({"started_at": at, "finished_at": at, "state": "finished", "sites": '["acme.com"]'})
        .last_pk
    )
    for check in checks:
        check.checked_at = at
    runs.record_checks(db, run_id, checks)
    return run_id


def ids(db: Database) -> dict[str, int]:
    return {
        f"{row['source_url']} {row['target_url'] or ''}".strip(): row["id"]
        for row in db.query("select id, source_url, target_url from backlinks")
    }


@pytest.fixture
def db(tmp_path: Path) -> Database:
    db = database.open_db(tmp_path / "s.db")
    storage.save_site(db, SITE)
    log = tmp_path / "access.log"
    log.write_text(
        line(ref="https://spam.example/cheap-pills") * 3
        + line(ref="https://blog.example/post") * 2
        + line(ref="https://blog.example/post", path="/old", status=404)
        + line(ref="https://spam.example/other", path="/gone", status=410)
    )
    assert referrals.import_access_log(db, SITE, log).candidates == 4
    return db


def state_of(db: Database, backlink_id: int) -> tuple[str, str, str | None]:
    row = db["backlinks"].get(backlink_id)
    return row["status"], row["change"], row["first_seen"]


def live(backlink_id: int) -> Check:
    return Check(backlink_id, Status.LIVE, follow=True, anchor="Acme", link_count=1)


def removed(backlink_id: int) -> Check:
    return Check(backlink_id, Status.LOST, reason=Reason.LINK_REMOVED, link_count=0)


def test_a_referrer_that_never_links_is_spam_never_a_lost_link(db: Database) -> None:
    spam, post = ids(db)["https://spam.example/cheap-pills"], ids(db)["https://blog.example/post"]
    gone = ids(db)["https://spam.example/other https://acme.com/gone"]
    old = ids(db)["https://blog.example/post https://acme.com/old"]
    first = add_run(db, "2024-10-11T02:00:00+00:00", [removed(spam), live(post), removed(gone)])
    assert runs.summarize(db, first).lost == 0
    state = {r["id"]: (r["status"], r["change"]) for r in db.query("select * from backlinks")}
    assert state[spam] == state[gone] == ("spam", "new") and state[post] == ("live", "new")
    assert state[old] == (None, None)  # not checked yet: unverified
    assert run(db, reports.LOST) == []
    [summary] = run(db, reports.SUMMARY)
    assert (summary["backlinks"], summary["live_links"], summary["lost_links"]) == (1, 1, 0)
    [backlink] = run(db, reports.BACKLINKS)
    assert (backlink["source_url"], backlink["referral_visits"]) == ("https://blog.example/post", 3)
    assert [r["change"] for r in run(db, reports.CHANGES)] == ["new"]
    assert [r["referring_domain"] for r in run(db, reports.REFERRING_DOMAINS)] == ["blog.example"]
    listed = {r["referring_page"]: r["backlink_status"] for r in run(db, reports.REFERRALS)}
    assert listed == {"https://blog.example/post": "live"}
    spammed = run(db, reports.REFERRALS, spam=True)
    assert {r["referring_page"]: r["visits"] for r in spammed} == {
        "https://spam.example/cheap-pills": 3,
        "https://spam.example/other": 1,
    }
    # Still no link a week later: still spam, no change; then it links: a new backlink.
    add_run(db, "2024-10-18T02:00:00+00:00", [removed(spam)])
    assert state_of(db, spam) == ("spam", "unchanged", None)
    add_run(db, "2024-10-25T02:00:00+00:00", [live(spam)])
    assert state_of(db, spam) == ("live", "new", "2024-10-25T02:00:00+00:00")
    # From now on it is a backlink like any other: losing it is a lost link.
    add_run(db, "2024-11-01T02:00:00+00:00", [removed(spam)])
    assert state_of(db, spam)[:2] == ("lost", "lost")
    assert [r["source_url"] for r in run(db, reports.LOST)] == ["https://spam.example/cheap-pills"]


def test_a_404_from_a_verified_referrer_is_a_broken_target_with_its_visits(
    db: Database,
) -> None:
    old = ids(db)["https://blog.example/post https://acme.com/old"]
    gone = ids(db)["https://spam.example/other https://acme.com/gone"]
    run_id = add_run(db, "2024-10-11T02:00:00+00:00", [live(old), removed(gone)])
    targets.record_target_checks(
        db,
        run_id,
        [
            TargetCheck(SITE, "https://acme.com/old", "HEAD", 404),
            TargetCheck(SITE, "https://acme.com/gone", "HEAD", 410),
        ],
    )
    rows = run(db, reports.BROKEN_TARGETS)
    assert [(r["source_url"], r["target_url"], r["referral_visits"]) for r in rows] == [
        ("https://blog.example/post", "https://acme.com/old", 1)
    ]


def test_a_lost_link_that_still_sends_visitors_comes_first(tmp_path: Path) -> None:
    db = database.open_db(tmp_path / "l.db")
    storage.save_site(db, SITE)
    (tmp_path / "links.csv").write_text(
        "source_url,target_url,page_traffic,domain_rating\n"
        "https://big.example/a,https://acme.com/,50000,90\n"
        "https://small.example/b,https://acme.com/,,\n"
    )
    from verifier.importers import read_export

    storage.add_backlinks(
        db, SITE, read_export(tmp_path / "links.csv", SITE).rows, "csv", "links.csv"
    )
    big, small = (
        ids(db)["https://big.example/a https://acme.com/"],
        ids(db)["https://small.example/b https://acme.com/"],
    )
    add_run(db, "2024-10-01T02:00:00+00:00", [live(big), live(small)])
    add_run(db, "2024-10-08T02:00:00+00:00", [removed(big), removed(small)])
    assert run(db, reports.LOST)[0]["source_url"] == "https://big.example/a"
    log = tmp_path / "access.log"
    log.write_text(
        line(ref="https://small.example/b", when="01/Oct/2024:10:00:00 +0000")  # before: no
        + line(ref="https://small.example/b", when="09/Oct/2024:10:00:00 +0000")
    )
    assert referrals.import_access_log(db, SITE, log).candidates == 0  # a known backlink
    lost = run(db, reports.LOST)
    assert [(r["source_url"], r["referral_visits"]) for r in lost] == [
        ("https://small.example/b", 1),
        ("https://big.example/a", None),
    ]
    assert lost[0]["priority"] < lost[1]["priority"]


def test_html_report_shows_referrals(acme: Database) -> None:
    from verifier.reports import html_report

    page = html_report.build_html(acme, SITE, now=NOW)
    assert 'id="referrals"' in page and "z.example/post" in page
    assert json.dumps("unverified")[1:-1] in page


def test_recent_referral_visits_make_a_live_link_valuable_to_recheck(tmp_path: Path) -> None:
    import datetime as dt

    db = database.open_db(tmp_path / "v.db")
    storage.save_site(db, SITE)
    today = dt.datetime.now(dt.UTC)
    log = tmp_path / "access.log"
    stamp = today.strftime("%d/%b/%Y:%H:%M:%S +0000")
    log.write_text(
        line(ref="https://busy.example/a", when=stamp) * 12
        + line(ref="https://quiet.example/b", when=stamp)
    )
    referrals.import_access_log(db, SITE, log)
    busy, quiet = ids(db)["https://busy.example/a"], ids(db)["https://quiet.example/b"]
    at = today.replace(microsecond=0).isoformat()
    add_run(db, at, [live(busy), live(quiet)])
    due = {row["id"]: row["next_check_at"] for row in db.query("select * from backlinks")}
    delay = {k: dt.datetime.fromisoformat(v) - today.replace(microsecond=0) for k, v in due.items()}
    assert (delay[busy].days, delay[quiet].days) == (1, 3)  # BACKCHECK_VALUABLE_VISITS = 10
