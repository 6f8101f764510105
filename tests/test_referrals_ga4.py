"""GA4 exports: the CSV GA writes (preamble, totals, (not set)), with or without a Date column."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest
from sqlite_utils import Database

from verifier import referrals
from verifier.importers import ImportRefused, ga4
from verifier.importers.ga4 import read_ga4
from verifier.store import storage

SITE = "acme.com"

PREAMBLE = """# ----------------------------------------
# Referral traffic
# Property: Acme (123456789)
# ----------------------------------------
#
# All users
# Start date: 20240301
# End date: 20240331
"""

DAILY = (
    PREAMBLE
    + """Page referrer,Date,Sessions,Views
,,"1,310",2000
https://blog.example/post?utm_source=news,20240305,"1,204",1500
https://blog.example/post,20240305,6,9
https://blog.example/post,20240306,4,5
https://other.example/,20240305,3,3
(not set),20240305,50,60
,20240306,7,8
https://www.google.com/,20240305,20,22
https://www.acme.com/pricing,20240305,9,9
https://blog.example/bad,2024-13-45,1,1
Grand total,,1310,2000
"""
)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    db = storage.open_db(tmp_path / "g.db")
    storage.save_site(db, SITE)
    return db


def test_doctests() -> None:
    assert doctest.testmod(ga4).failed == 0


def test_a_daily_export_with_preamble_totals_and_not_set(tmp_path: Path) -> None:
    path = tmp_path / "ga4.csv"
    path.write_text(DAILY, encoding="utf-8")
    export = read_ga4(path, SITE)
    assert export.metric == "Sessions"
    assert dict(export.visits) == {
        ("https://blog.example/post", "2024-03-05", "2024-03-05"): 1210,
        ("https://blog.example/post", "2024-03-06", "2024-03-06"): 4,
        ("https://other.example/", "2024-03-05", "2024-03-05"): 3,
    }
    assert (export.ignored, export.internal, dict(export.excluded)) == (4, 9, {"search": 20})
    assert [(r.line, r.reason) for r in export.rejects] == [
        (19, "'2024-13-45' is not a date (YYYYMMDD)")
    ]


def test_without_a_date_column_the_visits_cover_the_export_range(tmp_path: Path) -> None:
    path = tmp_path / "ga4.csv"
    path.write_text(PREAMBLE + "Page referrer,Views\nhttps://blog.example/post,12\n")
    export = read_ga4(path, SITE)
    assert export.metric == "Views"
    assert dict(export.visits) == {("https://blog.example/post", "2024-03-01", "2024-03-31"): 12}


def test_without_a_date_column_or_range_each_row_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "ga4.csv"
    path.write_text("Page referrer,Sessions\nhttps://blog.example/post,12\n")
    export = read_ga4(path, SITE)
    assert not export.visits and export.rejects[0].line == 2


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (PREAMBLE + "Session source,Sessions\ngoogle,5\n", "needs the columns 'Page referrer'"),
        (PREAMBLE, "no table found"),
    ],
)
def test_other_files_are_refused_naming_what_is_missing(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "ga4.csv"
    path.write_text(text)
    with pytest.raises(ImportRefused, match=problem):
        read_ga4(path, SITE)


def days(db: Database) -> list[tuple]:
    return [
        tuple(row)
        for row in db.execute(
            "select page_key, source, day, until, visits from referral_days order by 1, 3"
        ).fetchall()
    ]


def test_reimport_adds_nothing_and_a_later_export_replaces_its_days(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "ga4.csv"
    path.write_text(DAILY)
    first = referrals.import_ga4(db, SITE, path)
    assert first.candidates == 1  # blog.example/post; other.example/ is only an origin
    before = days(db)
    assert referrals.import_ga4(db, SITE, path).candidates == 0
    assert days(db) == before
    later = tmp_path / "ga4-later.csv"
    later.write_text("Page referrer,Date,Sessions\nhttps://blog.example/post,20240306,5\n")
    referrals.import_ga4(db, SITE, later)
    assert days(db) == [
        ("https://blog.example/post", "ga4", "2024-03-05", "2024-03-05", 1210),
        ("https://blog.example/post", "ga4", "2024-03-06", "2024-03-06", 5),
        ("https://other.example/", "ga4", "2024-03-05", "2024-03-05", 3),
    ]
    [candidate] = db.query("select source_url, target_url, candidate, sources from backlinks")
    assert candidate == {
        "source_url": "https://blog.example/post",
        "target_url": None,
        "candidate": 1,
        "sources": "ga4",
    }
