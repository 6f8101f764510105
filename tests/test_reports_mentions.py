"""Discovery reports over the hand-made acme history: mentions, outreach, competitor links."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from crawler.cli import cli
from tests.test_reports_history import NOW, acme_history
from verifier import reports


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    acme_history(tmp_path / "acme.db").close()
    return tmp_path / "acme.db"


@pytest.fixture
def db(db_file: Path) -> Database:
    return Database(db_file)


def test_mentions_one_row_per_page_and_term(db: Database) -> None:
    got = reports.run(db, reports.MENTIONS, {"now": NOW})
    keys = ("page_url", "term", "kind", "linked", "page_links_to_site", "priority", "reason")
    # m.org/review: .25 main + .15 competitor link + .15 recency (first seen now) + .10 body
    # a.com/1: .35 * DR 50 / 100 + .15 recency + .10 body (its only mention is boilerplate)
    assert [tuple(row[k] for k in keys) for row in got] == [
        ("http://m.org/review", "Acme", "text", False, False, 65.0, "unlinked_mention"),
        (
            "http://m.org/review",
            "https://acme.com/logo.png",
            "image_use",
            False,
            False,
            65.0,
            "image_use",  # the row's own reason: ask for a credit for the image
        ),
        ("http://a.com/1", "Acme", "text", True, True, 42.5, None),
    ]
    assert got[0]["emails"] == ["ed@m.org"] and got[0]["contact_url"] == "http://m.org/contact"
    assert got[0]["outreach_status"] == "new" and got[2]["outreach_status"] is None
    unlinked = reports.run(db, reports.MENTIONS, {"now": NOW, "unlinked": True})
    assert {row["page_url"] for row in unlinked} == {"http://m.org/review"}


def test_outreach_list_set_and_export(db_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, [*args, "--db", str(db_file)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    listed = json.loads(run("outreach", "list", "--format", "json"))
    assert [(r["page_url"], r["term"], r["status"], r["emails"]) for r in listed] == [
        ("http://m.org/review", "Acme", "new", ["ed@m.org"])
    ]
    assert set(listed[0]) >= {
        "page_url",
        "domain",
        "title",
        "term",
        "kind",
        "status",
        "priority",
        "reason",
        "emails",
        "contact_url",
        "author",
        "note",
        "updated_at",
    }
    run("outreach", "set", "http://M.org/review", "contacted", "--note", "mailed Ed")
    assert json.loads(run("outreach", "list", "--status", "new", "--format", "json")) == []
    [row] = json.loads(run("outreach", "list", "--status", "contacted", "--format", "json"))
    assert row["note"] == "mailed Ed"
    out = tmp_path / "targets.csv"
    run("outreach", "export", "--out", str(out))
    with out.open(newline="", encoding="utf-8") as handle:
        exported = list(csv.reader(handle))
    assert ",".join(exported[0]) == (
        "page_url,domain,title,term,kind,context,placement,emails,contact_url,author,status,"
        "priority,reason"
    )
    assert exported[1][:5] == ["http://m.org/review", "m.org", "A review", "Acme", "text"]
    assert exported[1][7] == "ed@m.org" and exported[1][10] == "contacted"


def test_outreach_set_refuses_unknown_pages_and_statuses(db_file: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["outreach", "set", "http://x.org/", "won", "--db", str(db_file)])
    assert missing.exit_code == 1 and "not in the outreach queue" in missing.output
    bad = runner.invoke(
        cli, ["outreach", "set", "http://m.org/review", "maybe", "--db", str(db_file)]
    )
    assert bad.exit_code == 2


def test_competitor_links(db: Database) -> None:
    got = reports.run(db, reports.COMPETITOR_LINKS, {"competitor": "widgetco.com"})
    assert [(r["page_url"], r["target_url"], r["follow"], r["anchor"]) for r in got] == [
        ("http://m.org/review", "https://widgetco.com/", True, "WidgetCo")
    ]
    assert reports.run(db, reports.COMPETITOR_LINKS, {"competitor": "other.com"}) == []


def test_lost_says_whether_the_page_still_mentions_the_brand(db: Database) -> None:
    got = {r["source_url"]: r for r in reports.run(db, reports.LOST, {"now": NOW})}
    assert got["http://k.com/1"]["mentions_brand"] is True
    assert got["http://a.com/2"]["mentions_brand"] is None  # not read for mentions
