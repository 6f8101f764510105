"""The alert digest of a run (pure builder, read from a real database) and its record."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from crawler.notify import NotifyError, describe, expand
from tests.test_runs import Row, failed, live, lost
from verifier import database as db_module
from verifier import reports
from verifier.models import Check, FoundIn, Reason
from verifier.reports import digest
from verifier.reports.digest import Item, RunFacts
from verifier.store import notifications, outreach, runs, storage

SITE = "acme.com"
TARGET = "https://acme.com/widgets"
OTHER = "https://acme.com/pricing"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = db_module.open_db(tmp_path / "n.db")
    storage.save_site(database, SITE)
    yield database
    database.close()


def add(db: Database, page: str, authority: float | None = None) -> int:
    metrics = {} if authority is None else {"domain_rating": authority}
    storage.add_backlinks(db, SITE, [Row(page, TARGET, metrics=metrics)], "ahrefs", "a.csv")
    return int(db.execute("select id from backlinks where source_url = ?", [page]).fetchone()[0])


def run(db: Database, checks: list[Check]) -> int:
    started = runs.start_run(db, [SITE], new_run=True)
    runs.record_checks(db, started.run_id, checks)
    runs.finish_run(db, started.run_id, "finished")
    return started.run_id


def news(
    db: Database,
    run_id: int,
    min_authority: float = digest.DEFAULT_MIN_AUTHORITY,
    always: bool = False,
) -> digest.Digest | None:
    facts = digest.run_facts(db, run_id)
    assert facts is not None
    return digest.build(facts, digest.collect(db, run_id, min_authority), always=always)


def test_first_run_and_unchanged_runs_send_nothing_unless_always(db: Database) -> None:
    a, b = add(db, "http://a.blog/1"), add(db, "http://b.blog/1", 90)
    first = run(db, [live(a), failed(b)])  # all new, and b unreachable from the start
    assert news(db, first) is None
    second = run(db, [live(a), failed(b)])  # unchanged, and b unreachable again
    assert news(db, second) is None
    always = news(db, second, always=True)
    assert always is not None and not always.changed
    assert always.title == f"backcheck: run {second} (acme.com): nothing changed"
    assert "Nothing changed since the last checks." in always.body
    assert "2 backlinks checked; live 1, lost 0, unreachable 1" in always.body


def test_every_kind_of_change_is_counted_and_listed(db: Database) -> None:
    ids = {name: add(db, f"http://{name}.blog/p", 55) for name in "ABCDEFGJ"}
    ids["H"] = add(db, "http://H.blog/p", 10)  # low authority
    ids["K"] = add(db, "http://K.blog/p")  # no vendor metrics at all
    ids["I"] = add(db, "http://I.blog/p", 90)  # unreachable twice in a row
    i = ids
    run(
        db,
        [
            live(i["A"]),
            lost(i["B"]),
            live(i["C"]),
            live(i["D"], follow=False),
            live(i["E"]),
            live(i["F"]),
            live(i["G"]),
            live(i["H"]),
            live(i["K"]),
            failed(i["I"]),
            live(i["J"]),
        ],
    )
    second = run(
        db,
        [
            lost(i["A"]),
            live(i["B"], anchor="Back again"),
            live(i["C"], follow=False),
            live(i["D"]),
            live(i["E"], anchor="Acme Widgets"),
            live(i["F"], target=OTHER),
            failed(i["G"], Reason.SERVER_ERROR),
            failed(i["H"]),
            failed(i["K"]),
            failed(i["I"]),
            live(i["J"]),
        ],
    )
    sent = news(db, second)
    assert sent is not None and sent.changed
    assert sent.counts == {
        "lost": 1,
        "regained": 1,
        "nofollowed": 1,
        "followed": 1,
        "anchor_changed": 1,
        "target_changed": 1,
        "moved_to_js": 0,
        "unreachable": 1,  # G only: H and K are below the threshold, I was not live before
        "unlinked_mentions": 0,
    }
    assert sent.title == (
        f"backcheck: run {second} (acme.com): 1 lost, 1 regained, 1 now nofollow, "
        "1 now followed, 1 anchor changed, 1 target changed, 1 newly unreachable (high value)"
    )
    body = sent.body
    assert f'Lost (1):\n- http://A.blog/p -> {TARGET}: link_removed, anchor "Acme"\n' in body
    assert f'Regained (1):\n- http://B.blog/p -> {TARGET}: anchor "Back again"\n' in body
    assert f'Anchor changed (1):\n- http://E.blog/p -> {TARGET}: "Acme" -> "Acme Widgets"' in body
    assert f'Target changed (1):\n- http://F.blog/p -> {TARGET}: "{TARGET}" -> "{OTHER}"' in body
    assert "- http://G.blog/p -> " + TARGET + ": server_error, authority 55\n" in body
    assert body.index("Lost (1)") < body.index("Regained (1)") < body.index("Newly unreachable")
    assert "H.blog" not in body and "I.blog" not in body and "J.blog" not in body

    # The threshold is a setting: 0 counts every newly unreachable link, even without metrics.
    everything = news(db, second, min_authority=0)
    assert everything is not None and everything.counts["unreachable"] == 3
    assert "http://K.blog/p -> " + TARGET + ": timeout, authority 0" not in everything.body
    assert "http://K.blog/p -> " + TARGET + ": timeout\n" in everything.body

    # Run 3: G unreachable again is no news.
    third = run(db, [failed(i["G"], Reason.SERVER_ERROR)])
    assert news(db, third) is None


def test_a_link_found_only_after_scripts_is_news_and_in_report_changes(db: Database) -> None:
    """Some crawlers never run scripts: a live link that moved into JavaScript is news."""
    moved, stays = add(db, "http://js.blog/p", 55), add(db, "http://raw.blog/p", 55)
    run(db, [live(moved), live(stays)])
    rendered = dataclasses.replace(live(moved), rendered=True, found_in=FoundIn.RENDERED)
    raw = dataclasses.replace(live(stays), rendered=True, found_in=FoundIn.RAW)
    second = run(db, [rendered, raw])
    sent = news(db, second)
    assert sent is not None and sent.counts["moved_to_js"] == 1
    assert sum(sent.counts.values()) == 1
    assert sent.title == f"backcheck: run {second} (acme.com): 1 found only after scripts run"
    assert (
        f'Found only after scripts run (1):\n- http://js.blog/p -> {TARGET}: anchor "Acme"\n'
        in (sent.body)
    )
    changes = reports.run(db, reports.CHANGES, {"run": second})
    assert [(r["change"], r["source_url"], r["status"]) for r in changes] == [
        ("moved_to_js", "http://js.blog/p", "live")
    ]
    # still only after scripts in the next run: no news again
    third = run(db, [dataclasses.replace(rendered), dataclasses.replace(raw)])
    assert news(db, third) is None


def test_lists_are_capped_with_a_count_of_the_rest() -> None:
    items = [Item("lost", f"http://p{n:02}.blog/", TARGET, "page_not_found") for n in range(25)]
    sent = digest.build(RunFacts(7, "finished", sites=(SITE,)), items, cap=20)
    assert sent is not None and sent.counts["lost"] == 25
    assert sent.body.count("\n- http://") == 20
    assert "- http://p19.blog/" in sent.body and "p20.blog" not in sent.body
    assert "- ... and 5 more\n" in sent.body


def test_a_degraded_run_sends_one_fixed_message() -> None:
    items = [Item("lost", "http://a.blog/", TARGET, "link_removed")]
    sent = digest.build(RunFacts(3, "degraded", sites=(SITE,)), items)
    assert sent is not None
    assert sent.body == "run degraded: the crawler could not reach the web\n"
    assert sent.title == "backcheck: run 3 (acme.com) degraded" and sent.counts == {}


def test_new_unlinked_mentions_count_after_the_first_run(db: Database) -> None:
    a = add(db, "http://a.blog/1")
    first = run(db, [live(a)])
    started = runs.start_run(db, [SITE], new_run=True)
    with storage.writing(db):
        outreach.open_target(db, SITE, "k1", "http://talk.blog/acme", storage.now())
    runs.record_checks(db, started.run_id, [live(a)])
    runs.finish_run(db, started.run_id, "finished")
    sent = news(db, started.run_id)
    assert sent is not None and sent.counts["unlinked_mentions"] == 1
    assert "New unlinked mentions (1):\n- http://talk.blog/acme" in sent.body
    assert news(db, first) is None  # seen after run 1 ended: not its news
    # In a first run every mention is new: the starting point, not news.
    facts = RunFacts(1, "finished", first=True)
    assert digest.build(facts, [Item("unlinked_mentions", "http://talk.blog/acme")]) is None


def test_the_record_never_keeps_a_url(db: Database) -> None:
    run_id = run(db, [])
    entry = notifications.record(
        db, run_id, "failed", targets=1, error="POST json://u:pw@hook.example/x?t=s3 failed"
    )
    stored = notifications.recorded(db, run_id)
    assert stored == entry and stored["error"] == "POST <url> failed"
    assert json.loads(db.execute("select notification from runs").fetchone()[0])["targets"] == 1
    assert describe(stored) == "notification failed to 1 target: POST <url> failed"
    with pytest.raises(ValueError):
        notifications.record(db, run_id, "done")


def test_templates_come_from_the_environment() -> None:
    assert expand("json://h/x?+X-Token=${TOKEN}&a=$b", {"TOKEN": "s3"}) == (
        "json://h/x?+X-Token=s3&a=$b"
    )
    with pytest.raises(NotifyError, match=r"environment variable MISSING is not set"):
        expand("json://h/${MISSING}", {})
