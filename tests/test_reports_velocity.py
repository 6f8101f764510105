"""`report velocity` over a hand-made history of weekly runs, with a spike in week 4.

Runs on Mondays (2024-01-01 is one): week 1 finds x.com/1 and y.com/1 (the
baseline), week 2 z.com/1, week 3 z.com/2, week 4 six new domains at once;
week 5 loses z.com/1 (z.com keeps z.com/2) and x.com/1 (x.com's only link);
no run in the week of 02-05; week 7 (02-12) regains x.com/1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database

from tests.test_reports_history import SITE, add_links, add_run, live, lost
from verifier import database, reports
from verifier.models import Reason
from verifier.reports.velocity import COUNTS, fill_gaps, is_spike
from verifier.store import storage

LINKS = {
    1: ("http://x.com/1", "https://acme.com/"),
    2: ("http://y.com/1", "https://acme.com/"),
    3: ("http://z.com/1", "https://acme.com/"),
    4: ("http://z.com/2", "https://acme.com/"),
    **{n: (f"http://s{n - 4}.com/", "https://acme.com/") for n in range(5, 11)},
}
WEEKS = {
    "2024-01-01": {1: "live", 2: "live"},
    "2024-01-08": {1: "live", 2: "live", 3: "live"},
    "2024-01-15": {1: "live", 2: "live", 3: "live", 4: "live"},
    "2024-01-22": {n: "live" for n in range(1, 11)},
    "2024-01-29": {n: "lost" if n in (1, 3) else "live" for n in range(1, 11)},
    "2024-02-12": {n: "lost" if n == 3 else "live" for n in range(1, 11)},
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    db = database.open_db(tmp_path_factory.mktemp("velocity") / "v.db")
    storage.save_site(db, SITE)
    add_links(db, LINKS, "2024-01-01T00:00:00+00:00")
    for day, states in WEEKS.items():
        add_run(
            db,
            f"{day}T02:00:00+00:00",
            [
                live(n, "Acme") if state == "live" else lost(n, Reason.LINK_REMOVED)
                for n, state in states.items()
            ],
        )
    db["backlink_sources"].insert_all(
        [
            {"backlink_id": 5, "source": "ahrefs", "vendor_first_seen": "2023-12-20"},
            {"backlink_id": 6, "source": "ahrefs", "vendor_first_seen": "2024-01-03"},
            {"backlink_id": 6, "source": "semrush", "vendor_first_seen": "2024-01-05"},
        ]
    )
    return db


KEYS = (
    "period",
    "new_links",
    "lost_links",
    "regained_links",
    "net_links",
    "new_domains",
    "lost_domains",
    "regained_domains",
    "net_domains",
    "vendor_new_links",
    "vendor_new_domains",
    "baseline",
    "new_spike",
    "lost_spike",
)


def table(db: Database, **params: object) -> list[tuple]:
    params = {"vendor": True, **params}
    return [tuple(row[k] for k in KEYS) for row in reports.run(db, reports.VELOCITY, params)]


def test_weeks(db: Database) -> None:
    F, T = False, True
    assert table(db) == [
        # vendor first-seen dates are counted apart, never as our own "new"
        ("2023-12-18", 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, F, F, F),
        ("2024-01-01", 2, 0, 0, 2, 2, 0, 0, 2, 1, 1, T, F, F),
        ("2024-01-08", 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, F, F, F),
        ("2024-01-15", 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, F, F, F),  # z.com is not new again
        ("2024-01-22", 6, 0, 0, 6, 6, 0, 0, 6, 0, 0, F, T, F),  # 6 > 3 x median 0.5
        ("2024-01-29", 0, 2, 0, -2, 0, 1, 0, -1, 0, 0, F, F, F),  # only x.com is lost
        ("2024-02-05", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, F, F, F),  # no run: filled in
        ("2024-02-12", 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, F, F, F),
    ]


def test_vendor_dates_only_on_request(db: Database) -> None:
    got = reports.run(db, reports.VELOCITY, {})
    assert got[0]["period"] == "2024-01-01" and len(got) == 7
    assert {(row["vendor_new_links"], row["vendor_new_domains"]) for row in got} == {(None, None)}


def test_months(db: Database) -> None:
    assert [row[:11] for row in table(db, by="month")] == [
        ("2023-12-01", 0, 0, 0, 0, 0, 0, 0, 0, 1, 1),
        ("2024-01-01", 10, 2, 0, 8, 9, 1, 0, 8, 1, 1),
        ("2024-02-01", 0, 0, 1, 1, 0, 0, 1, 1, 0, 0),
    ]


def test_days_are_continuous_over_our_history(db: Database) -> None:
    days = table(db, by="day")
    assert days[0][0] == "2023-12-20" and days[-1][0] == "2024-02-12"
    assert len(days) == 1 + 43  # the vendor's day, then every day from 01-01 to 02-12
    assert days[22][:2] == ("2024-01-22", 6) and days[22][-2] is True


def test_since_keeps_the_domain_state_from_before(db: Database) -> None:
    got = table(db, since="2024-01-20")
    assert [(row[0], row[1], row[2], row[6], row[7]) for row in got] == [
        ("2024-01-22", 6, 0, 0, 0),
        ("2024-01-29", 0, 2, 1, 0),  # x.com was found before --since; still lost here
        ("2024-02-05", 0, 0, 0, 0),
        ("2024-02-12", 0, 0, 0, 1),
    ]
    assert got[0][-3:] == (False, True, False)  # not the baseline: judged, and a spike


def test_spike_notes(db: Database) -> None:
    notes = reports.run_report(db, reports.VELOCITY, {}).notes
    assert notes == ["acme.com 2024-01-22: spike of 6 new links"]


@pytest.mark.parametrize(
    ("value", "others", "spike"),
    [
        (6, [1, 1, 0, 0], True),
        (5, [1, 2, 1], True),  # the minimum, and over 3 x the median 1
        (5, [2, 2, 1], False),  # not over 3 x 2
        (4, [0, 0, 0], False),  # under the minimum of 5
        (7, [2, 2, 3], True),
        (6, [2, 2, 3], False),
        (9, [0], False),  # one other period is not enough to judge
    ],
)
def test_spike_rule(value: int, others: list[int], spike: bool) -> None:
    assert is_spike(value, others) is spike


def test_fill_gaps_leaves_vendor_only_periods_alone() -> None:
    def row(period: str, new: int = 0, vendor: int = 0) -> dict:
        counts = dict.fromkeys(COUNTS, 0) | {"new_links": new}
        return {"site": "s", "period": period, **counts, "vendor_new_links": vendor}

    got = fill_gaps(
        [row("2020-01-06", vendor=3), row("2024-01-01", 1), row("2024-01-22", 2)], "week"
    )
    assert [r["period"] for r in got] == [
        "2020-01-06",
        "2024-01-01",
        "2024-01-08",
        "2024-01-15",
        "2024-01-22",
    ]


def test_an_empty_database(tmp_path: Path) -> None:
    db = database.open_db(tmp_path / "empty.db")
    storage.save_site(db, SITE)
    assert reports.run(db, reports.VELOCITY, {}) == []
