"""An outage on the crawler's side: the rule (a table), then a degraded run in the store."""

from __future__ import annotations

import doctest
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from tests.test_runs import SITE, TARGET, Row, backlink, failed, live, lost
from verifier import database as db_module
from verifier import reports
from verifier.models import PAGE_ERRORS, Check, Reason, TargetCheck
from verifier.reports import digest
from verifier.store import outage, runs, storage, targets
from verifier.verdict import outage as rules
from verifier.verdict.outage import NETWORK_ERRORS, OutageRule, Page, judge

# --- the rule ---------------------------------------------------------------------------


def down(n: int, reason: str = "connection_error", domains: int | None = None) -> list[Page]:
    """n failed pages over `domains` referring domains (default: one each)."""
    return [Page(f"d{i % (domains or n)}.com", reason) for i in range(n)]


def fine(n: int) -> list[Page]:
    return [Page(f"ok{i}.com", None) for i in range(n)]


@pytest.mark.parametrize(
    ("pages", "target_errors", "rule", "degraded"),
    [
        pytest.param(down(10), [], OutageRule(), True, id="ten-domains-all-down"),
        pytest.param(down(9), [], OutageRule(), False, id="nine-domains-too-narrow"),
        pytest.param(down(10) + fine(10), [], OutageRule(), True, id="exactly-half"),
        pytest.param(down(10) + fine(11), [], OutageRule(), False, id="under-half"),
        pytest.param(down(40, domains=9), [], OutageRule(), False, id="many-pages-few-domains"),
        pytest.param(down(12, "dns_error"), [], OutageRule(), True, id="dns"),
        pytest.param(down(12, "timeout"), [], OutageRule(), True, id="timeout"),
        pytest.param(down(12, "tls_error"), [], OutageRule(), True, id="tls"),
        pytest.param(down(12, "server_error"), [], OutageRule(), False, id="5xx-is-an-answer"),
        pytest.param(down(12, "http_error"), [], OutageRule(), False, id="4xx-is-an-answer"),
        pytest.param(down(12, "robots_blocked"), [], OutageRule(), False, id="robots"),
        pytest.param(down(12, "crawl_error"), [], OutageRule(), False, id="crawl-error"),
        pytest.param(down(12, "link_removed"), [], OutageRule(), False, id="lost-pages"),
        # Small profiles: the site's own target pages failing too make it broad enough.
        pytest.param(down(2), ["connection_error"], OutageRule(), True, id="targets-down-too"),
        pytest.param(down(2), ["dns_error", "timeout"], OutageRule(), True, id="targets-mixed"),
        pytest.param(down(2), [None], OutageRule(), False, id="target-answered"),
        pytest.param(down(2), ["timeout"] * 9 + [None], OutageRule(), True, id="9-of-10-targets"),
        pytest.param(down(2), ["timeout"] * 8 + [None] * 2, OutageRule(), False, id="8-of-10"),
        # ... but only when (nearly) every page failed too: one dead page of two is just that.
        pytest.param(down(1) + fine(1), ["tls_error"], OutageRule(), False, id="half-small"),
        pytest.param(down(9) + fine(1), ["timeout"], OutageRule(), True, id="9-of-10-pages"),
        pytest.param(down(8) + fine(2), ["timeout"], OutageRule(), False, id="8-of-10-pages"),
        pytest.param(down(2), ["server_error"], OutageRule(), False, id="target-5xx"),
        # The share always holds: our own server down while the web answers is no outage.
        pytest.param(down(1) + fine(5), ["connection_error"], OutageRule(), False, id="site-down"),
        pytest.param([], ["connection_error"], OutageRule(), False, id="no-pages"),
        pytest.param([], [], OutageRule(), False, id="empty-run"),
        pytest.param(down(20), [], OutageRule(enabled=False), False, id="disabled"),
        pytest.param(down(3), [], OutageRule(min_domains=3), True, id="min-domains-setting"),
        pytest.param(
            down(8) + fine(2), [], OutageRule(share=0.9, min_domains=1), False, id="share-setting"
        ),
    ],
)
def test_rule(
    pages: list[Page], target_errors: list[str | None], rule: OutageRule, degraded: bool
) -> None:
    assert judge(pages, target_errors, rule).degraded is degraded


def test_rule_counts_and_explains() -> None:
    seen = judge(down(12, domains=11) + fine(4), ["dns_error", None])
    assert (seen.pages, seen.failed_pages, seen.failed_domains) == (16, 12, 11)
    assert (seen.targets, seen.failed_targets, seen.degraded) == (2, 1, True)
    assert seen.explain() == (
        "network errors on 12 of 16 pages (11 referring domains) and 1 of 2 target pages"
    )


def test_doctests() -> None:
    assert doctest.testmod(rules).failed == 0


def test_network_errors_are_page_errors() -> None:
    # A page's network failure is also one toward the N-failures rule, which the
    # degraded run must take back.
    assert NETWORK_ERRORS < PAGE_ERRORS


# --- a degraded run in the store ------------------------------------------------------

T1, T2, T3, T4, T5 = (f"2024-03-0{day}T02:00:00+00:00" for day in (1, 2, 3, 4, 5))
FILLER = 12  # referring domains whose pages are fine, then all down in the outage


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = db_module.open_db(tmp_path / "outage.db")
    storage.save_site(database, SITE)
    yield database
    database.close()


def add_links(db: Database, urls: list[str]) -> list[int]:
    rows = [Row(url, metrics={"domain_rating": 60}) for url in urls]
    storage.add_backlinks(db, SITE, rows, "ahrefs", "ahrefs.csv")
    return [
        db.execute("select id from backlinks where source_url = ?", [url]).fetchone()[0]
        for url in urls
    ]


def run(
    db: Database, at: str, checks: list[Check], target_error: str | None = None, target: int = 200
) -> str:
    """A whole run at time `at`, closed as `verify` closes it; returns its state.

    The site's target page answers `target`, or fails with `target_error`.
    """
    run_id = runs.start_run(db, [SITE]).run_id
    db.execute("update runs set started_at = ? where id = ?", [at, run_id])  # in step
    for check in checks:
        check.checked_at = at
    runs.record_checks(db, run_id, checks)
    status = None if target_error else target
    targets.record_target_checks(
        db, run_id, [TargetCheck(SITE, TARGET, "HEAD", status, error=target_error)]
    )
    return outage.settle_run(db, run_id, {"pages": len(checks)}).state


def filler(ids: list[int], ok: bool) -> list[Check]:
    return [live(i) if ok else failed(i, Reason.CONNECTION_ERROR) for i in ids]


STATE_COLUMNS = (
    "status",
    "reason",
    "change",
    "follow",
    "anchor",
    "observed_target",
    "http_status",
    "consecutive_failures",
    "link_count",
    "last_checked",
    "last_check_id",
    "first_seen",
    "last_live",
    "lost_since",
    "baseline_status",
    "baseline_follow",
    "baseline_anchor",
    "baseline_target",
)


def state(db: Database, backlink_id: int) -> dict[str, object]:
    row = backlink(db, backlink_id)
    return {column: row[column] for column in STATE_COLUMNS}


def test_a_degraded_run_leaves_no_trace_on_the_backlinks(db: Database) -> None:
    fill = add_links(db, [f"https://f{i}.test/p" for i in range(FILLER)])
    keep, gone, streak, fresh, back, never_live = add_links(
        db,
        [
            "https://keep.test/p",  # live, live: unchanged after the outage
            "https://gone.test/p",  # lost (link removed), still lost
            "https://streak.test/p",  # two timeouts before: the outage must not be the third
            "https://fresh.test/p",  # first checked in the outage: never-checked again
            "https://back.test/p",  # lost (404); answers live in the outage; 404 again
            "https://never.test/p",  # lost at first check; live only in the outage
        ],
    )
    assert run(db, T1, [*filler(fill, True), live(keep), lost(gone), live(streak)]) == "finished"
    run(
        db,
        T2,
        [
            *filler(fill, True),
            live(keep),
            lost(gone),
            failed(streak),
            lost(back, Reason.PAGE_NOT_FOUND),
            lost(never_live, Reason.PAGE_NOT_FOUND),
        ],
    )
    run(db, T3, [*filler(fill, True), failed(streak)])
    before = {i: state(db, i) for i in (*fill, keep, gone, streak, fresh, back, never_live)}
    assert before[streak]["consecutive_failures"] == 2
    assert before[back]["lost_since"] == T2 and before[back]["last_live"] is None

    # The outage: every page down but two (one of them answers live), targets down too.
    outage_checks = [
        *filler(fill, False),
        failed(keep, Reason.DNS_ERROR),
        failed(gone, Reason.TIMEOUT),
        failed(streak, Reason.CONNECTION_ERROR),
        failed(fresh, Reason.CONNECTION_ERROR),
        live(back),
        live(never_live),
    ]
    assert run(db, T4, outage_checks, target_error="connection_error") == "degraded"
    after = {i: state(db, i) for i in before}
    assert after == before
    assert backlink(db, fresh)["status"] is None
    # Every backlink the run checked is due at the next run.
    assert all(backlink(db, i)["next_check_at"] is None for i in before)
    assert set(runs.due_backlinks(db, [SITE], T4)) >= set(before)

    # Its checks stay in history with what the crawler saw, but without a judgement.
    degraded_id = 4
    checks = {
        row["backlink_id"]: row
        for row in db.query("select * from checks where run_id = ?", [degraded_id])
    }
    assert len(checks) == FILLER + 6
    assert {row["change"] for row in checks.values()} == {None}
    assert (checks[streak]["status"], checks[streak]["reason"]) == (
        "unreachable",
        "connection_error",
    )  # the N-failures rule had made it lost: taken back
    assert checks[streak]["consecutive_failures"] == 2
    assert checks[back]["status"] == "live"
    run_row = db["runs"].get(degraded_id)
    assert run_row["state"] == "degraded" and run_row["finished_at"]
    assert (run_row["newly_lost"], run_row["regained"], run_row["lost"]) == (0, 0, 0)
    assert run_row["error"].startswith(f"network errors on {FILLER + 4} of {FILLER + 6} pages")

    # A degraded run is not resumed: the next verify starts a new run.
    assert runs.resumable(db, [SITE]) is None

    # The next good run carries on from run 3, as if run 4 had not happened.
    assert (
        run(
            db,
            T5,
            [
                *filler(fill, True),
                live(keep),
                lost(gone),
                failed(streak),
                live(fresh),
                lost(back, Reason.PAGE_NOT_FOUND),
                lost(never_live, Reason.PAGE_NOT_FOUND),
            ],
        )
        == "finished"
    )
    changes = {i: backlink(db, i)["change"] for i in before}
    assert changes[keep] == changes[fill[0]] == changes[gone] == "unchanged"
    assert changes[back] == changes[never_live] == "unchanged"  # not lost again: no noise
    assert changes[fresh] == "new"
    row = backlink(db, streak)  # the third page error in a row, not counting the outage
    assert (row["status"], row["change"], row["consecutive_failures"]) == ("lost", "lost", 3)
    assert backlink(db, back)["lost_since"] == T2
    assert backlink(db, never_live)["first_seen"] is None
    assert backlink(db, fresh)["first_seen"] == T5


def test_reports_skip_the_degraded_run(db: Database) -> None:
    fill = add_links(db, [f"https://f{i}.test/p" for i in range(FILLER)])
    (watch,) = add_links(db, ["https://watch.test/p"])
    run(db, T1, [*filler(fill, True), live(watch)])
    run(db, T2, [*filler(fill, True), lost(watch)], target=404)  # a real loss, a broken target
    run(db, T3, [*filler(fill, False), live(watch)], "dns_error")  # an outage: "regained"
    params = {"now": "2024-03-04T00:00:00+00:00"}
    [summary] = reports.run(db, reports.SUMMARY, params)
    assert (summary["live_links"], summary["referring_domains"]) == (FILLER, FILLER)
    assert (summary["lost_links"], summary["unreachable_links"]) == (1, 0)
    assert (summary["last_run_id"], summary["last_run_state"]) == (2, "finished")
    assert (summary["lost_last_run"], summary["regained_last_run"]) == (1, 0)
    assert (summary["lost_30d"], summary["regained_30d"]) == (1, 0)
    changed = reports.run(db, reports.CHANGES, params)
    assert [(r["run_id"], r["change"]) for r in changed] == [(2, "lost")]
    assert reports.run(db, reports.CHANGES, {**params, "run": 3}) == []
    since = reports.run(db, reports.CHANGES, {**params, "since": T1})
    assert {r["run_id"] for r in since} == {1, 2}
    velocity = reports.run(db, reports.VELOCITY, {**params, "by": "day"})
    assert [(r["period"], r["lost_links"], r["regained_links"]) for r in velocity] == [
        ("2024-03-01", 0, 0),
        ("2024-03-02", 1, 0),
    ]
    assert [r["source_url"] for r in reports.run(db, reports.LOST, params)] == [
        "https://watch.test/p"
    ]
    assert reports.run(db, reports.UNREACHABLE, params) == []
    # The target check of run 3 failed: the latest one that counts answered 404.
    broken = reports.run(db, reports.BROKEN_TARGETS, params)
    assert {(r["target_run_id"], r["target_status"]) for r in broken} == {(2, 404)}


def test_digest_after_a_degraded_run_compares_with_the_last_good_one(db: Database) -> None:
    fill = add_links(db, [f"https://f{i}.test/p" for i in range(FILLER)])
    watch, moved = add_links(db, ["https://watch.test/p", "https://moved.test/p"])
    run(db, T1, [*filler(fill, True), live(watch), live(moved, anchor="Acme")])
    outage_checks = [*filler(fill, False), failed(watch), live(moved, anchor="Acme tools")]
    run(db, T2, outage_checks, "timeout")
    facts = digest.run_facts(db, 2)
    assert facts is not None and facts.state == "degraded"
    sent = digest.build(facts, digest.collect(db, 2))
    assert sent is not None and sent.body == digest.DEGRADED + "\n"
    # Run 3 against run 1: `watch` is newly unreachable (its last good check was live),
    # `moved`'s anchor changed from run 1's, not from what the outage run saw.
    run(
        db,
        T3,
        [*filler(fill, True), failed(watch, Reason.SERVER_ERROR), live(moved, anchor="Acme tools")],
    )
    items = digest.collect(db, 3)
    assert [(i.kind, i.page_url, i.before) for i in items] == [
        ("anchor_changed", "https://moved.test/p", "Acme"),
        ("unreachable", "https://watch.test/p", None),
    ]


def test_a_run_with_some_failures_is_not_degraded(db: Database) -> None:
    fill = add_links(db, [f"https://f{i}.test/p" for i in range(FILLER)])
    run(db, T1, filler(fill, True))
    half = FILLER // 2 - 1  # under half of the pages fail
    checks = filler(fill[:half], False) + filler(fill[half:], True)
    assert run(db, T2, checks, "connection_error") == "finished"
    assert backlink(db, fill[0])["status"] == "unreachable"
    assert backlink(db, fill[0])["consecutive_failures"] == 1
    assert db["checks"].get(FILLER + 1)["change"] == "unreachable"


def test_restore_is_safe_to_repeat(db: Database) -> None:
    fill = add_links(db, [f"https://f{i}.test/p" for i in range(FILLER)])
    run(db, T1, filler(fill, True))
    run(db, T2, filler(fill, True))
    run(db, T3, filler(fill[:1], True) + filler(fill[1:], False))
    once = [state(db, i) for i in fill]
    assert outage.restore(db, 3) == FILLER
    assert [state(db, i) for i in fill] == once
    assert once[0]["last_check_id"] == FILLER + 1  # run 2's check of it
