"""Checking a benchmark's database against the generator's truth: verdicts and mentions.

The truth always comes from what the generator wrote (`bench.cases`), never
from running backcheck. Shared by `bench.run` (verify) and `bench.crawl`.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.cases import BRAND, LINKED, case_named
from bench.cases import expected as cases_expected

VERDICT_COLUMNS = ("status", "reason", "follow", "nofollow_source")

#: Pages with at least one brand or domain mention recorded for the site.
MENTION_PAGES_SQL = """
    select distinct mp.page_url from mention_pages mp
    join mentions m on m.site = mp.site and m.page_key = mp.page_key
    where mp.site = ? and m.kind != 'image_use'
"""


def load_truth(path: Path, key: str = "source_url") -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return {row[key]: row for row in csv.DictReader(file)}


def shown(value: object) -> str:
    """A report value as truth.csv writes it."""
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def expected_row(want: dict[str, str], rendered: bool | None) -> dict[str, str]:
    """The columns a truth.csv row expects; with `rendered` (False: `verify --render never`,
    True: auto or always) also `found_in`, and the verdict after scripts ran when True.

    truth.csv holds the raw verdict; the rendered one comes from the row's case.
    """
    expected = {c: want[c] for c in VERDICT_COLUMNS}
    if rendered is None or want["case"] == "missing":
        return expected if rendered is None else {**expected, "found_in": ""}
    case = case_named(want["case"])
    if rendered:
        expected = asdict(cases_expected(case, rendered=True))
    live = expected["status"] == "live"
    expected["found_in"] = ("raw" if case.rels else "rendered") if live else ""
    return expected


def compare(
    rows: list[dict[str, Any]], truth: dict[str, dict[str, str]], rendered: bool | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """(right, mismatches): each truth row against the report row of its source URL.

    `rendered`: see `expected_row` (None: the verdict columns only, as before rendering).
    """
    got = {row["source_url"]: row for row in rows}
    right, wrong = 0, []
    for source, want in truth.items():
        row = got.get(source, {})
        expected = expected_row(want, rendered)
        actual = {c: shown(row.get(c)) for c in expected} if row else {"missing": "row"}
        if expected == actual:
            right += 1
        else:
            wrong.append(
                {"source_url": source, "case": want["case"], "expected": expected, "got": actual}
            )
    return right, wrong


@dataclass(frozen=True, slots=True)
class SetCheck:
    """A set of pages the database must hold exactly: how many were found, missed, extra."""

    right: int
    expected: int
    missing: tuple[str, ...]
    extra: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.extra

    def shown(self) -> str:
        extra = f"+{len(self.extra)}" if self.extra else ""
        return f"{self.right}/{self.expected}{extra}"

    def describe(self, what: str, examples: int = 3) -> str:
        parts = [f"{what}: {self.right} of {self.expected} expected pages found"]
        if self.missing:
            parts.append(f"missing {len(self.missing)}, e.g. {list(self.missing[:examples])}")
        if self.extra:
            parts.append(f"unexpected {len(self.extra)}, e.g. {list(self.extra[:examples])}")
        return "; ".join(parts)


def check_set(got: Iterable[str], expected: Iterable[str]) -> SetCheck:
    have, want = set(got), set(expected)
    return SetCheck(
        len(have & want), len(want), tuple(sorted(want - have)), tuple(sorted(have - want))
    )


def mention_pages(db: Path, site: str) -> set[str]:
    """The pages the database records a text or title mention of `site` for."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {url for (url,) in conn.execute(MENTION_PAGES_SQL, [site])}


def expected_mentions(path: Path, brand: str, linked_pages: bool = True) -> set[str] | None:
    """The pages of mentions.csv that must hold a mention when the site's brand is `brand`.

    Planted sentences and anchor texts name BRAND; with no brand at all only the
    domain written as text (`mention_only`) is a term. Any other brand: None (unknown).
    Without `linked_pages` (`BACKCHECK_MENTIONS_ON_LINKING_PAGES=0`), pages with a link
    to the site are not read for mentions.
    """
    if brand not in (BRAND, ""):
        return None
    linking = {case.name for case in LINKED if case.rels}
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    return {
        r["page_url"]
        for r in rows
        if (brand or r["case"] == "mention_only") and (linked_pages or r["case"] not in linking)
    }
