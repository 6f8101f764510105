"""CSV output is safe to open in a spreadsheet: page text never runs as a formula.

OWASP's CSV injection advice: a cell that starts with = + - @, a tab or a
carriage return gets a leading `'`; `--raw-csv` writes the values as stored.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from crawler.cli import cli
from tests.conftest import FAST, run_cli
from tests.test_e2e import link, page
from tests.test_reports_history import acme_history
from verifier.reports.render import csv_cell, render_csv, write_csv

HYPERLINK = '=HYPERLINK("http://evil.test","x")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("\tjust a tab", "'\tjust a tab"),
        ("  =1+1", "'  =1+1"),  # whitespace in front of the formula
        ("\n@x", "'\n@x"),
        ("＝HYPERLINK(1)", "'＝HYPERLINK(1)"),  # fullwidth forms
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠x", "'＠x"),
        ("-", "'-"),
        # text that is just a number is no formula: left as it is
        ("-5", "-5"),
        ("+1.5", "+1.5"),
        ("-0.25e3", "-0.25e3"),
        # harmless text, and values that are not text
        ("Blue Widgets", "Blue Widgets"),
        ("a=b", "a=b"),
        ("x @y -z", "x @y -z"),
        ("'=already", "'=already"),
        ("", ""),
        (-5, -5),
        (-0.5, -0.5),
        (True, True),
        (None, None),
    ],
)
def test_csv_cell(value: object, expected: object) -> None:
    assert csv_cell(value) == expected


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_write_csv_neutralises_and_quotes_data_cells() -> None:
    rows = [["http://a.test/", HYPERLINK, -3, None], ["x;=1+1", "plain", 4.5, True]]
    out = io.StringIO()
    write_csv(out, ["url", "anchor", "n", "flag"], rows)
    text = out.getvalue()
    assert text.splitlines()[0] == "url,anchor,n,flag"  # our own names: as they were
    assert text.splitlines()[2] == '"x;=1+1","plain","4.5","True"'  # one cell after a ; split
    assert read(text)[1:] == [
        ["http://a.test/", "'" + HYPERLINK, "-3", ""],
        ["x;=1+1", "plain", "4.5", "True"],
    ]
    raw = io.StringIO()
    write_csv(raw, ["url", "anchor", "n", "flag"], rows, raw=True)
    assert read(raw.getvalue())[1:] == [
        ["http://a.test/", HYPERLINK, "-3", ""],
        ["x;=1+1", "plain", "4.5", "True"],
    ]


def test_raw_render_csv_is_the_plain_dictwriter_output() -> None:
    rows = [{"a": HYPERLINK, "b": 1, "c": None}, {"a": "x,y", "b": -2, "c": False}]
    expected = io.StringIO()
    writer = csv.DictWriter(expected, fieldnames=["a", "b", "c"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    assert render_csv(rows, raw=True) == expected.getvalue()
    assert read(render_csv(rows))[1] == ["'" + HYPERLINK, "1", ""]


@pytest.mark.e2e
def test_a_hostile_anchor_through_verify_and_report(web, init_db, tmp_path: Path) -> None:
    server = web(routes={"evil.blog.com/p": {"body": page(link(text=HYPERLINK))}})
    db = init_db(tmp_path / "csv.db", "--site", "acme.com")
    links = tmp_path / "links.csv"
    links.write_text("source_url,target_url\nhttp://evil.blog.com/p,https://acme.com/pricing\n")
    assert run_cli(["import", str(links), "--db", db]).returncode == 0
    done = run_cli(["verify", *FAST, "--db", db], server)
    assert done.returncode == 0, done.stderr

    base = ["report", "backlinks", "--db", db]
    [as_json] = json.loads(run_cli([*base, "--format", "json"]).stdout)
    assert as_json["anchor"] == HYPERLINK  # stored exactly as the page has it

    safe = run_cli([*base, "--format", "csv"])
    assert safe.returncode == 0, safe.stderr
    [row] = list(csv.DictReader(io.StringIO(safe.stdout)))
    assert row["anchor"] == "'" + HYPERLINK
    assert row["source_url"] == "http://evil.blog.com/p" and row["status"] == "live"

    raw = run_cli([*base, "--format", "csv", "--raw-csv"])
    assert raw.returncode == 0, raw.stderr
    [row] = list(csv.DictReader(io.StringIO(raw.stdout)))
    assert row["anchor"] == HYPERLINK


def test_outreach_list_and_export_neutralise_page_text(tmp_path: Path) -> None:
    db_file = tmp_path / "acme.db"
    acme_history(db_file).close()
    db = Database(db_file)
    db.execute("update mention_pages set title = ?", ["@SUM(1+1)*cmd|' /C calc'!A0"])
    db.execute("update mentions set context = ?", [HYPERLINK])
    db.conn.commit()
    db.close()
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, [*args, "--db", str(db_file)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    for raw in (False, True):
        flag = ["--raw-csv"] if raw else []
        quote = "" if raw else "'"
        out = tmp_path / f"targets-{raw}.csv"
        run("outreach", "export", "--out", str(out), *flag)
        with out.open(newline="", encoding="utf-8") as handle:
            [header, row] = list(csv.reader(handle))
        assert (row[header.index("title")], row[header.index("context")]) == (
            quote + "@SUM(1+1)*cmd|' /C calc'!A0",
            quote + HYPERLINK,
        )
        assert row[header.index("page_url")] == "http://m.org/review"
        [listed] = list(
            csv.DictReader(io.StringIO(run("outreach", "list", "--format", "csv", *flag)))
        )
        assert (listed["title"], listed["context"]) == (
            quote + "@SUM(1+1)*cmd|' /C calc'!A0",
            quote + HYPERLINK,
        )
