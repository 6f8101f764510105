"""Sites, imported backlinks and verification runs on a temporary file database."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlite_utils import Database

from verifier import database as db_module
from verifier.models import Change, Check, Discovery, Reason, Status
from verifier.store import runs, storage
from verifier.verdict.urls import identity_key

SITE = "acme.com"
TARGET = "https://acme.com/widgets"
OTHER = "https://acme.com/pricing"
BETA = "https://beta.com/"


@dataclass
class Row:
    """An imported row, as the importers hand it over (storage.RowLike)."""

    source_url: str
    target_url: str | None = TARGET
    anchor: str | None = None
    line: int = 2
    metrics: dict[str, object] = field(default_factory=dict)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = db_module.open_db(tmp_path / "t.db")
    storage.save_site(database, SITE)
    yield database
    database.close()


def add(db: Database, *urls: str, target: str | None = TARGET, source: str = "csv") -> list[int]:
    storage.add_backlinks(db, SITE, [Row(u, target) for u in urls], source, f"{source}.csv")
    return [backlink_id(db, u, target) for u in urls]


def backlink_id(db: Database, source_url: str, target: str | None = TARGET) -> int:
    rows = db.execute(
        "select id from backlinks where source_url = ? and target_url is ?", [source_url, target]
    ).fetchall()
    assert len(rows) == 1, rows
    return int(rows[0][0])


def backlink(db: Database, id_: int) -> dict:
    return db["backlinks"].get(id_)


def live(id_: int, follow: bool = True, anchor: str = "Acme", target: str = TARGET) -> Check:
    return Check(
        id_,
        Status.LIVE,
        follow=follow,
        anchor=anchor,
        observed_target=target,
        link_count=1,
        http_status=200,
    )


def lost(id_: int, reason: Reason = Reason.LINK_REMOVED) -> Check:
    return Check(id_, Status.LOST, reason, http_status=200)


def failed(id_: int, reason: Reason = Reason.TIMEOUT) -> Check:
    return Check(id_, Status.UNREACHABLE, reason, detail="boom")


def one_run(db: Database, checks: list[Check], max_failures: int = 3) -> runs.RunSummary:
    """A whole run: start, record, finish."""
    run_id = runs.start_run(db, [SITE]).run_id
    runs.record_checks(db, run_id, checks, max_failures=max_failures)
    return runs.finish_run(db, run_id, "finished")


# --- sites ------------------------------------------------------------------------


def test_save_site_merges_profiles(db: Database) -> None:
    first = storage.save_site(
        db,
        "https://WWW.Beta.com/about",
        brands=["Beta"],
        competitors=["https://www.rival.com/x"],
        keywords=["widgets"],
    )
    created = db["sites"].get("beta.com")["created_at"]
    second = storage.save_site(
        db,
        "beta.com",
        brands=["BETA", " Beta Corp "],
        competitors=["rival.com", "shop.other.co.uk"],
        keywords=["gadgets", "Widgets"],
    )
    assert first.domain == second.domain == "beta.com"
    assert second.brands == ("Beta", "Beta Corp")
    assert second.competitors == ("rival.com", "other.co.uk")
    assert second.keywords == ("widgets", "gadgets")
    assert db["sites"].get("beta.com")["created_at"] == created
    assert storage.site_domains(db) == ["acme.com", "beta.com"]


@pytest.mark.parametrize(
    "spelling", ["acme.com", "ACME.COM", "https://www.acme.com/", "shop.acme.com"]
)
def test_save_site_spellings_are_one_site(db: Database, spelling: str) -> None:
    storage.save_site(db, spelling, brands=["Acme"])
    assert storage.site_domains(db) == ["acme.com"]
    assert storage.load_site(db, "acme.com").brands == ("Acme",)


def test_save_site_rejects_empty(db: Database) -> None:
    with pytest.raises(storage.StorageError):
        storage.save_site(db, "  ")


# --- imported backlinks -------------------------------------------------------


@pytest.mark.parametrize(
    ("imports", "counts", "sources"),
    [
        pytest.param(
            [("csv", ["https://a.test/1", "https://a.test/2"])],
            [(2, 0)],
            {"https://a.test/1": "csv", "https://a.test/2": "csv"},
            id="fresh",
        ),
        pytest.param(
            [
                ("csv", ["https://a.test/1", "https://a.test/2"]),
                ("ahrefs", ["https://a.test/2", "https://a.test/3"]),
            ],
            [(2, 0), (1, 1)],
            {
                "https://a.test/1": "csv",
                "https://a.test/2": "csv,ahrefs",
                "https://a.test/3": "ahrefs",
            },
            id="second-vendor-merges",
        ),
        pytest.param(
            [("csv", ["https://a.test/1"]), ("csv", ["https://a.test/1"])],
            [(1, 0), (0, 1)],
            {"https://a.test/1": "csv"},
            id="same-vendor-again",
        ),
        pytest.param(
            [("csv", ["https://a.test/1", "https://a.test/1"])],
            [(1, 1)],
            {"https://a.test/1": "csv"},
            id="duplicate-row-in-one-file",
        ),
        pytest.param(
            [
                ("csv", ["https://a.test/1"]),
                ("ahrefs", ["https://a.test/1"]),
                ("gsc", ["https://a.test/1"]),
                ("ahrefs", ["https://a.test/1"]),
            ],
            [(1, 0), (0, 1), (0, 1), (0, 1)],
            {"https://a.test/1": "csv,ahrefs,gsc"},
            id="three-vendors",
        ),
    ],
)
def test_add_backlinks_counts_and_sources(
    db: Database,
    imports: list[tuple[str, list[str]]],
    counts: list[tuple[int, int]],
    sources: dict[str, str],
) -> None:
    got = []
    for source, urls in imports:
        result = storage.add_backlinks(db, SITE, [Row(u) for u in urls], source, "f.csv")
        got.append((result.imported, result.merged))
    assert got == counts
    assert {r["source_url"]: r["sources"] for r in db["backlinks"].rows} == sources


def test_add_backlinks_keeps_first_anchor_and_vendor_metrics(db: Database) -> None:
    storage.add_backlinks(
        db,
        SITE,
        [Row("https://a.test/1", anchor=None, line=5, metrics={"domain_rating": 40})],
        "csv",
        "a.csv",
    )
    storage.add_backlinks(
        db,
        SITE,
        [Row("https://a.test/1", anchor="Acme", metrics={"page_traffic": 7})],
        "ahrefs",
        "b.csv",
    )
    storage.add_backlinks(db, SITE, [Row("https://a.test/1", anchor="Changed")], "gsc", "c.csv")
    (row,) = db["backlinks"].rows
    assert row["expected_anchor"] == "Acme"
    assert row["referring_domain"] == "a.test"
    sources = {r["source"]: r for r in db["backlink_sources"].rows}
    assert set(sources) == {"csv", "ahrefs", "gsc"}
    assert (sources["csv"]["line"], sources["csv"]["domain_rating"]) == (5, 40)
    assert sources["ahrefs"]["page_traffic"] == 7
    assert json.loads(sources["ahrefs"]["metrics"]) == {"page_traffic": 7}


P = "https://blog.test/p"


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        (("http://blog.test/p", TARGET), ("https://blog.test/p", TARGET), False),
        (("https://www.blog.test/p", TARGET), ("https://blog.test/p", TARGET), False),
        (("https://blog.test/p", TARGET), ("https://blog.test/P", TARGET), False),
        (("https://blog.test/p", TARGET), ("https://blog.test/p?x=1", TARGET), False),
        (("https://blog.test/p", TARGET), ("https://BLOG.Test/p", TARGET), True),
        (("https://blog.test/p", TARGET), ("https://blog.test:443/p", TARGET), True),
        (("http://blog.test/p", TARGET), ("http://blog.test:80/p", TARGET), True),
        (("https://blog.test/p", TARGET), ("https://blog.test/p#comments", TARGET), True),
        (("https://blog.test/p", TARGET), ("  https://blog.test/p  ", TARGET), True),
        ((P, TARGET), (P, "https://ACME.com:443/widgets"), True),
        ((P, TARGET), (P, "https://acme.com/widgets#x"), True),
        ((P, TARGET), (P, "http://acme.com/widgets"), False),
        ((P, TARGET), (P, "https://acme.com/other"), False),
        ((P, TARGET), (P, None), False),
        ((P, None), (P, None), True),
    ],
)
def test_backlink_identity(
    db: Database, first: tuple[str, str | None], second: tuple[str, str | None], same: bool
) -> None:
    counts = [
        storage.add_backlinks(db, SITE, [Row(url, target)], "csv", "f.csv")
        for url, target in (first, second)
    ]
    assert (counts[1].merged == 1) is same
    assert db["backlinks"].count == (1 if same else 2)


# --- starting and resuming runs ---------------------------------------------------


def test_start_run_new(db: Database) -> None:
    add(db, "https://a.test/1", "https://a.test/2", "https://a.test/3")
    started = runs.start_run(db, [SITE])
    assert (started.resumed, started.pending) == (False, 3)
    run = db["runs"].get(started.run_id)
    assert (run["state"], json.loads(run["sites"])) == ("running", [SITE])
    assert db["run_items"].count == 3


def test_start_run_limit(db: Database) -> None:
    add(db, "https://a.test/1", "https://a.test/2", "https://a.test/3")
    assert runs.start_run(db, [SITE], limit=2).pending == 2


def test_start_run_resumes_unfinished(db: Database) -> None:
    ids = add(db, "https://a.test/1", "https://a.test/2", "https://a.test/3")
    first = runs.start_run(db, [SITE])
    runs.record_checks(db, first.run_id, [live(ids[0])])
    add(db, "https://a.test/4")  # imported after the run started: not part of it
    again = runs.start_run(db, [SITE])
    assert (again.run_id, again.resumed, again.pending) == (first.run_id, True, 2)


def test_start_run_resumes_interrupted(db: Database) -> None:
    add(db, "https://a.test/1")
    first = runs.start_run(db, [SITE])
    runs.finish_run(db, first.run_id, "interrupted")
    again = runs.start_run(db, [SITE])
    assert (again.run_id, again.resumed) == (first.run_id, True)
    assert db["runs"].get(first.run_id)["state"] == "running"


def test_start_run_after_finished_is_new(db: Database) -> None:
    add(db, "https://a.test/1")
    first = one_run(db, [])
    again = runs.start_run(db, [SITE])
    assert again.run_id != first.run_id
    assert (again.resumed, again.pending) == (False, 1)


def test_start_run_new_run_starts_fresh(db: Database) -> None:
    ids = add(db, "https://a.test/1", "https://a.test/2")
    first = runs.start_run(db, [SITE])
    runs.record_checks(db, first.run_id, [live(ids[0])])
    fresh = runs.start_run(db, [SITE], new_run=True)
    assert fresh.run_id != first.run_id
    assert (fresh.resumed, fresh.pending) == (False, 2)
    assert db["runs"].get(first.run_id)["state"] == "interrupted"


def test_abandoned_run_is_not_resumed_after_a_newer_run(db: Database) -> None:
    add(db, "https://a.test/1")
    abandoned = runs.start_run(db, [SITE])
    newer = runs.start_run(db, [SITE], new_run=True)
    runs.finish_run(db, newer.run_id, "finished")
    latest = runs.start_run(db, [SITE])
    assert latest.run_id not in (abandoned.run_id, newer.run_id)
    assert latest.resumed is False


def test_start_run_per_site_set(db: Database) -> None:
    storage.save_site(db, "beta.com")
    add(db, "https://a.test/1")
    storage.add_backlinks(db, "beta.com", [Row("https://a.test/1", BETA)], "csv", "b")
    acme = runs.start_run(db, [SITE])
    both = runs.start_run(db, ["beta.com", SITE])
    assert acme.run_id != both.run_id
    assert (acme.pending, both.pending) == (1, 2)
    assert runs.start_run(db, [SITE, "beta.com"]).run_id == both.run_id


def test_start_run_refuses_a_run_held_by_a_live_process(db: Database) -> None:
    add(db, "https://a.test/1")
    run_id = runs.start_run(db, [SITE]).run_id
    db.execute("update runs set pid = 1 where id = ?", [run_id])  # pid 1 always exists
    with pytest.raises(runs.RunInProgress):
        runs.start_run(db, [SITE])


def test_start_run_takes_over_a_dead_process(db: Database) -> None:
    add(db, "https://a.test/1")
    run_id = runs.start_run(db, [SITE]).run_id
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    db.execute("update runs set pid = ? where id = ?", [int(gone.stdout), run_id])
    assert runs.start_run(db, [SITE]).run_id == run_id


# --- pending pages ------------------------------------------------------------------

# source page -> number of backlinks on it (distinct targets)
LAYOUT = {
    "https://a.test/1": 1,
    "https://b.test/many": 5,
    "https://c.test/2": 2,
    "https://d.test/3": 3,
    "https://e.test/1": 1,
    "https://f.test/4": 4,
}


def _fill(db: Database) -> None:
    for page, n in LAYOUT.items():
        rows = [Row(page, f"https://acme.com/t{i}") for i in range(n)]
        storage.add_backlinks(db, SITE, rows, "csv", "f.csv")


def _groups(db: Database, run_id: int) -> list[tuple[str, int]]:
    groups = []
    for group in runs.pending_pages(db, run_id):
        assert len({ref.source_url for ref in group}) == 1
        groups.append((group[0].source_url, len(group)))
    return groups


def in_spread_order(layout: dict[str, int]) -> list[tuple[str, int]]:
    """Pages come in a pseudo-random order (hosts interleave), the same every time."""
    return sorted(layout.items(), key=lambda kv: (runs.spread(identity_key(kv[0])), kv[0]))


@pytest.mark.parametrize("batch", [1, 2, 3, 4, 5, 6, 7, 2000])
def test_pending_pages_groups_across_batches(
    db: Database, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(runs, "PAGE_BATCH", batch)
    _fill(db)
    run_id = runs.start_run(db, [SITE]).run_id
    assert _groups(db, run_id) == in_spread_order(LAYOUT)


def test_pending_pages_leave_no_snapshot_behind(db: Database) -> None:
    _fill(db)
    run_id = runs.start_run(db, [SITE]).run_id
    stopped = runs.pending_pages(db, run_id)
    next(stopped)
    nested = list(runs.pending_pages(db, run_id))  # close_dropped reads while start() pauses
    assert [(g[0].source_url, len(g)) for g in nested] == in_spread_order(LAYOUT)
    stopped.close()  # the crawl stopped early
    temp = "select count(*) from temp.sqlite_master where type = 'table'"
    assert db.execute(temp).fetchone()[0] == 0


def test_pending_pages_refs(db: Database) -> None:
    storage.add_backlinks(db, SITE, [Row("https://a.test/1", anchor="Acme")], "csv", "f")
    storage.add_backlinks(db, SITE, [Row("https://a.test/1", None)], "csv", "f")
    run_id = runs.start_run(db, [SITE]).run_id
    (group,) = runs.pending_pages(db, run_id)
    assert [(r.site, r.source_url, r.target_url, r.expected_anchor) for r in group] == [
        (SITE, "https://a.test/1", TARGET, "Acme"),
        (SITE, "https://a.test/1", None, None),
    ]


@pytest.mark.parametrize("batch", [1, 2, 3, 2000])
def test_pending_pages_skip_checked_backlinks(
    db: Database, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(runs, "PAGE_BATCH", batch)
    _fill(db)
    run_id = runs.start_run(db, [SITE]).run_id
    many = [backlink_id(db, "https://b.test/many", f"https://acme.com/t{i}") for i in (0, 2, 4)]
    two = [backlink_id(db, "https://c.test/2", f"https://acme.com/t{i}") for i in (0, 1)]
    done = many + two
    runs.record_checks(db, run_id, [live(i) for i in done])
    expected = dict(LAYOUT, **{"https://b.test/many": 2})
    del expected["https://c.test/2"]
    assert _groups(db, run_id) == in_spread_order(expected)
    assert runs.pending_count(db, run_id) == sum(expected.values())


@pytest.mark.parametrize("batch", [1, 2, 2000])
def test_pending_pages_while_the_crawl_records(
    db: Database, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(runs, "PAGE_BATCH", batch)
    _fill(db)
    run_id = runs.start_run(db, [SITE]).run_id
    seen = []
    for group in runs.pending_pages(db, run_id):
        seen.append((group[0].source_url, len(group)))
        runs.record_checks(db, run_id, [live(ref.id) for ref in group])
    assert seen == in_spread_order(LAYOUT)
    assert list(runs.pending_pages(db, run_id)) == []


def test_pending_pages_one_group_for_several_sites(db: Database) -> None:
    storage.save_site(db, "beta.com")
    add(db, "https://a.test/1")
    storage.add_backlinks(db, "beta.com", [Row("https://a.test/1", BETA)], "csv", "b")
    run_id = runs.start_run(db, [SITE, "beta.com"]).run_id
    (group,) = runs.pending_pages(db, run_id)
    assert sorted(ref.site for ref in group) == ["acme.com", "beta.com"]


def test_pending_pages_group_http_and_https_separately(db: Database) -> None:
    urls = ["http://a.test/1", "https://a.test/1", "https://A.test:443/1#x"]
    storage.add_backlinks(db, SITE, [Row(u) for u in urls], "csv", "f.csv")
    run_id = runs.start_run(db, [SITE]).run_id
    assert sorted(_groups(db, run_id)) == [("http://a.test/1", 1), ("https://a.test/1", 1)]


# --- recording checks ---------------------------------------------------------------


def test_record_checks_insert_or_ignore(db: Database) -> None:
    (bid,) = add(db, "https://a.test/1")
    run_id = runs.start_run(db, [SITE]).run_id
    assert runs.record_checks(db, run_id, [live(bid, anchor="first")]) == 1
    assert runs.record_checks(db, run_id, [lost(bid)]) == 0
    assert runs.record_checks(db, run_id, [live(bid, anchor="x"), live(bid, anchor="y")]) == 0
    (check,) = db["checks"].rows
    assert (check["status"], check["anchor"]) == ("live", "first")
    row = backlink(db, bid)
    assert (row["status"], row["anchor"], row["last_check_id"]) == ("live", "first", check["id"])


def test_record_checks_duplicate_in_one_batch(db: Database) -> None:
    (bid,) = add(db, "https://a.test/1")
    run_id = runs.start_run(db, [SITE]).run_id
    assert runs.record_checks(db, run_id, [live(bid), lost(bid)]) == 1
    assert db["checks"].count == 1
    assert backlink(db, bid)["status"] == "live"


def test_record_checks_empty(db: Database) -> None:
    add(db, "https://a.test/1")
    run_id = runs.start_run(db, [SITE]).run_id
    assert runs.record_checks(db, run_id, []) == 0


def test_record_checks_stores_verdict_and_evidence(db: Database) -> None:
    (bid,) = add(db, "https://a.test/1")
    run_id = runs.start_run(db, [SITE]).run_id
    check = live(bid, follow=False, anchor="Acme")
    check.nofollow_source = None
    check.rel = "nofollow ugc"
    check.redirect_chain = [["http://a.test/1", 301]]
    check.content_hash = "abc"
    runs.record_checks(db, run_id, [check])
    (row,) = db["checks_full"].rows  # the check with its evidence (verifier.store.evidence)
    assert row["run_id"] == run_id and row["backlink_id"] == bid
    assert (row["status"], row["reason"], row["change"], row["follow"]) == ("live", None, "new", 0)
    assert (row["rel"], row["content_hash"]) == ("nofollow ugc", "abc")
    assert json.loads(row["redirect_chain"]) == [["http://a.test/1", 301]]
    assert row["checked_at"]


# Each step is one whole run; the backlink's columns after it:
# (status, reason, change, consecutive_failures, follow, baseline_status, baseline_anchor)
A, U = "Acme", "unreachable"


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(
            [lambda i: live(i, anchor="Acme")],
            [("live", None, "new", 0, 1, "live", A)],
            id="first-live",
        ),
        pytest.param(
            [lambda i: lost(i)],
            [("lost", "link_removed", "new", 0, None, "lost", None)],
            id="first-lost",
        ),
        pytest.param(
            [lambda i: failed(i)],
            [(U, "timeout", U, 1, None, None, None)],
            id="first-unreachable",
        ),
        pytest.param(
            [lambda i: live(i), lambda i: failed(i), lambda i: live(i, follow=False)],
            [
                ("live", None, "new", 0, 1, "live", A),
                (U, "timeout", U, 1, None, "live", A),
                ("live", None, "nofollowed", 0, 0, "live", A),
            ],
            id="unreachable-keeps-baseline",
        ),
        pytest.param(
            [lambda i: live(i), lost, lost, lambda i: live(i, anchor="B")],
            [
                ("live", None, "new", 0, 1, "live", A),
                ("lost", "link_removed", "lost", 0, None, "lost", None),
                ("lost", "link_removed", "unchanged", 0, None, "lost", None),
                ("live", None, "regained", 0, 1, "live", "B"),
            ],
            id="lost-and-regained",
        ),
        pytest.param(
            [
                lambda i: live(i),
                lambda i: live(i, anchor="New"),
                lambda i: live(i, anchor="New", target=OTHER),
            ],
            [
                ("live", None, "new", 0, 1, "live", A),
                ("live", None, "anchor_changed", 0, 1, "live", "New"),
                ("live", None, "target_changed", 0, 1, "live", "New"),
            ],
            id="anchor-and-target-changes",
        ),
        pytest.param(
            [lambda i: live(i)] + [lambda i: failed(i, Reason.SERVER_ERROR)] * 4,
            [
                ("live", None, "new", 0, 1, "live", A),
                (U, "server_error", U, 1, None, "live", A),
                (U, "server_error", U, 2, None, "live", A),
                ("lost", "server_error", "lost", 3, None, "lost", None),
                ("lost", "server_error", "unchanged", 4, None, "lost", None),
            ],
            id="three-failures-lost",
        ),
        pytest.param(
            [lambda i: live(i)] + [lambda i: failed(i, Reason.ROBOTS_BLOCKED)] * 3,
            [("live", None, "new", 0, 1, "live", A)]
            + [(U, "robots_blocked", U, 0, None, "live", A)] * 3,
            id="robots-blocked-never-lost",
        ),
        pytest.param(
            [lambda i: live(i), failed, failed, lambda i: failed(i, Reason.NOT_HTML), failed],
            [
                ("live", None, "new", 0, 1, "live", A),
                (U, "timeout", U, 1, None, "live", A),
                (U, "timeout", U, 2, None, "live", A),
                (U, "not_html", U, 0, None, "live", A),
                (U, "timeout", U, 1, None, "live", A),
            ],
            id="not-html-resets-streak",
        ),
    ],
)
def test_record_checks_history_across_runs(
    db: Database, steps: list[Callable[[int], Check]], expected: list[tuple]
) -> None:
    (bid,) = add(db, "https://a.test/1")
    columns = (
        "status",
        "reason",
        "change",
        "consecutive_failures",
        "follow",
        "baseline_status",
        "baseline_anchor",
    )
    got = []
    for step in steps:
        one_run(db, [step(bid)])
        row = backlink(db, bid)
        got.append(tuple(row[c] for c in columns))
    assert got == expected


def test_record_checks_timestamps(db: Database) -> None:
    (bid,) = add(db, "https://a.test/1")
    one_run(db, [live(bid)])
    first_seen = backlink(db, bid)["first_seen"]
    one_run(db, [lost(bid)])
    lost_since = backlink(db, bid)["lost_since"]
    one_run(db, [lost(bid)])
    row = backlink(db, bid)
    assert (row["first_seen"], row["lost_since"]) == (first_seen, lost_since)
    assert row["last_live"] == first_seen
    one_run(db, [live(bid)])
    row = backlink(db, bid)
    assert (row["first_seen"], row["lost_since"]) == (first_seen, None)
    assert row["last_checked"] == row["last_live"]


def test_record_checks_max_failures(db: Database) -> None:
    (bid,) = add(db, "https://a.test/1")
    one_run(db, [live(bid)])
    one_run(db, [failed(bid, Reason.DNS_ERROR)], max_failures=2)
    assert backlink(db, bid)["status"] == "unreachable"
    one_run(db, [failed(bid, Reason.DNS_ERROR)], max_failures=2)
    row = backlink(db, bid)
    assert (row["status"], row["reason"], row["change"]) == ("lost", "dns_error", "lost")


# --- discoveries ----------------------------------------------------------------------


def _discovery(from_id: int, url: str = "https://newhome.net/post") -> Discovery:
    return Discovery(SITE, url, "https://acme.com/new", from_id, live(0, anchor="Found"))


def test_discovery_adds_a_backlink_to_the_run(db: Database) -> None:
    (bid,) = add(db, "https://a.test/1")
    run_id = runs.start_run(db, [SITE]).run_id
    written = runs.record_checks(db, run_id, [lost(bid, Reason.REDIRECTED_AWAY)], [_discovery(bid)])
    assert written == 2
    new_id = backlink_id(db, "https://newhome.net/post", "https://acme.com/new")
    row = backlink(db, new_id)
    assert (row["sources"], row["discovered_from"], row["status"], row["anchor"]) == (
        "discovered",
        bid,
        "live",
        "Found",
    )
    assert row["referring_domain"] == "newhome.net"
    assert db["run_items"].count_where("run_id = ? and backlink_id = ?", [run_id, new_id]) == 1
    assert runs.pending_count(db, run_id) == 0


def test_discovery_of_a_known_backlink_merges(db: Database) -> None:
    (bid,) = add(db, "https://a.test/1")
    (known,) = add(db, "https://newhome.net/post", target="https://acme.com/new")
    run_id = runs.start_run(db, [SITE]).run_id
    runs.record_checks(db, run_id, [lost(bid, Reason.REDIRECTED_AWAY)], [_discovery(bid)])
    row = backlink(db, known)
    assert (row["sources"], row["status"], row["discovered_from"]) == (
        "csv,discovered",
        "live",
        None,
    )
    assert db["backlinks"].count == 2
    # the same discovery again in the same run adds nothing
    assert runs.record_checks(db, run_id, [], [_discovery(bid)]) == 0


# --- finishing runs ---------------------------------------------------------------------


def test_finish_run_counts(db: Database) -> None:
    pages = [f"https://p{i}.test/" for i in range(7)]
    ids = add(db, *pages)
    # p5 carries two backlinks: one page, two checks
    (extra,) = add(db, "https://p5.test/", target="https://acme.com/other")
    one_run(db, [live(ids[1]), live(ids[2]), lost(ids[3]), live(ids[5]), live(extra)])

    summary = one_run(
        db,
        [
            live(ids[0]),  # new, live, followed
            live(ids[1], follow=False),  # live, not followed
            lost(ids[2]),  # newly lost
            live(ids[3]),  # regained, followed
            failed(ids[4], Reason.TIMEOUT),  # unreachable
            lost(ids[5], Reason.NOINDEX),  # newly lost
            lost(extra),  # newly lost
            failed(ids[6], Reason.ROBOTS_BLOCKED),
        ],
    )
    assert (
        summary.pages,
        summary.backlinks,
        summary.live,
        summary.followed,
        summary.lost,
        summary.newly_lost,
        summary.regained,
        summary.unreachable,
        summary.pending,
    ) == (7, 8, 3, 2, 3, 3, 1, 2, 0)
    row = db["runs"].get(summary.run_id)
    assert row["state"] == summary.state == "finished"
    assert (
        row["pages"],
        row["backlinks"],
        row["live"],
        row["followed"],
        row["lost"],
        row["newly_lost"],
        row["regained"],
        row["unreachable"],
    ) == (7, 8, 3, 2, 3, 3, 1, 2)
    assert row["finished_at"] and summary.seconds >= 0


def test_finish_run_partial_keeps_pending_and_stats(db: Database) -> None:
    ids = add(db, "https://a.test/1", "https://a.test/2", "https://b.test/1")
    run_id = runs.start_run(db, [SITE]).run_id
    runs.record_checks(db, run_id, [live(ids[0])])
    summary = runs.finish_run(db, run_id, "interrupted", {"pages": 1}, "killed")
    assert (summary.state, summary.backlinks, summary.live, summary.pending) == (
        "interrupted",
        1,
        1,
        2,
    )
    row = db["runs"].get(run_id)
    assert (json.loads(row["stats"]), row["error"]) == ({"pages": 1}, "killed")


def test_newly_lost_only_counts_change_lost(db: Database) -> None:
    (bid,) = add(db, "https://a.test/1")
    summary = one_run(db, [lost(bid)])  # lost at its first check: change is "new"
    assert (summary.lost, summary.newly_lost) == (1, 0)
    assert db["checks"].get(1)["change"] == Change.NEW.value
