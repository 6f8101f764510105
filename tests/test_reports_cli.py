"""`backcheck report NAME` in every format, and the registry behind it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crawler.cli import cli
from tests.test_reports_history import acme_history
from verifier import database, reports
from verifier.store import storage

NAMES = [report.name for report in reports.BUILTIN]


@pytest.fixture(scope="module")
def db_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli") / "acme.db"
    acme_history(path, referrals=True).close()
    return str(path)


def report(db_file: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["report", *args, "--db", db_file], catch_exceptions=False)


@pytest.mark.parametrize("name", NAMES)
def test_json_is_an_array_of_objects(db_file: str, name: str) -> None:
    result = report(db_file, name, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(isinstance(row, dict) for row in rows)
    assert all(key == key.lower() and " " not in key for key in rows[0])


@pytest.mark.parametrize("name", NAMES)
def test_csv_has_every_json_key(db_file: str, name: str) -> None:
    rows = json.loads(report(db_file, name, "--format", "json").stdout)
    table = list(csv.DictReader(io.StringIO(report(db_file, name, "--format", "csv").stdout)))
    assert len(table) == len(rows) and list(table[0]) == list(rows[0])


@pytest.mark.parametrize("name", NAMES)
def test_markdown_and_table(db_file: str, name: str) -> None:
    markdown = report(db_file, name, "--format", "markdown")
    assert markdown.exit_code == 0 and markdown.stdout.startswith("| ")
    table = report(db_file, name)
    assert table.exit_code == 0 and table.stdout.strip()


def test_summary_table_is_one_key_value_table_per_site(db_file: str) -> None:
    out = report(db_file, "summary").stdout
    assert "Link profile summary: acme.com" in out and "referring_domains" in out


def test_notes_go_to_stderr_for_json_and_under_the_table_otherwise(db_file: str) -> None:
    as_json = report(db_file, "anchors", "--format", "json")
    json.loads(as_json.stdout)  # nothing but the data on stdout
    assert "warning: acme.com: exact-match anchors are 11%" in as_json.stderr
    assert "exact-match anchors are 11%" in report(db_file, "anchors").stdout
    markdown = report(db_file, "anchors", "--format", "markdown").stdout
    assert "> warning: acme.com: exact-match" in markdown
    quiet = report(db_file, "anchors", "--exact-threshold", "20", "--format", "json")
    assert "warning" not in quiet.stderr


def test_report_options(db_file: str) -> None:
    by_category = json.loads(
        report(db_file, "anchors", "--by", "category", "--format", "json").stdout
    )
    assert by_category[0]["category"] == "generic"
    assert "category" in report(db_file, "anchors", "--by", "category").stdout
    run2 = json.loads(report(db_file, "changes", "--run", "2", "--format", "json").stdout)
    assert {row["run_id"] for row in run2} == {2}
    months = json.loads(report(db_file, "velocity", "--by", "month", "--format", "json").stdout)
    assert [row["period"] for row in months] == ["2024-03-01"]
    lost = report(db_file, "backlinks", "--status", "lost", "--format", "json").stdout
    assert len(json.loads(lost)) == 3


def test_since_takes_a_date_or_a_time(db_file: str) -> None:
    day = json.loads(report(db_file, "changes", "--since", "2024-03-15", "--format", "json").stdout)
    time = report(db_file, "changes", "--since", "2024-03-15T02:00:01", "--format", "json")
    assert len(day) == 3 and json.loads(time.stdout) == []
    bad = CliRunner().invoke(cli, ["report", "lost", "--since", "last week", "--db", db_file])
    assert bad.exit_code == 2


def test_unknown_site_is_an_error(db_file: str) -> None:
    result = CliRunner().invoke(cli, ["report", "summary", "--site", "nope.org", "--db", db_file])
    assert result.exit_code == 1 and "no site 'nope.org'" in result.stderr


@pytest.mark.parametrize("name", NAMES)
def test_a_fresh_database_gives_empty_reports(tmp_path: Path, name: str) -> None:
    db_file = str(tmp_path / "fresh.db")
    storage.save_site(database.open_db(db_file), "acme.com")
    result = report(db_file, name, "--format", "json")
    assert result.exit_code == 0 and isinstance(json.loads(result.stdout), list)


# --- the registry ------------------------------------------------------------


def test_register_is_idempotent_and_refuses_a_different_report_of_the_same_name() -> None:
    assert reports.register(reports.SUMMARY) is reports.SUMMARY
    with pytest.raises(ValueError, match="summary"):
        reports.register(reports.Report("summary", "Other", "select 1"))


def test_reports_of_other_modules_are_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "extra_reports_mod.py").write_text(
        "from verifier.reports import Report\n"
        "EXTRA = Report(name='extra', title='Extra', sql='select :site as site')\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(reports.REPORTS, "extra", None)  # removed again after the test
    del reports.REPORTS["extra"]
    reports.load_extensions(["extra_reports_mod", "no_such_module_here"])
    extra = reports.get("extra")
    assert extra.title == "Extra" and "Example:" in extra.help
    assert reports.run(database.open_db(tmp_path / "x.db"), extra, {"site": "a.com"}) == [
        {"site": "a.com"}
    ]


def test_an_option_default_applies_when_a_caller_passes_none() -> None:
    assert reports.bind(reports.VELOCITY, {"by": None, "site": "a.com"}) == {
        "site": "a.com",
        "since": None,
        "now": None,
        "by": "week",
        "vendor": None,
    }


def test_views_can_be_recreated(tmp_path: Path) -> None:
    db = database.open_db(tmp_path / "v.db")
    reports.create_views(db, reports.BUILTIN)
    assert {f"report_{n.replace('-', '_')}" for n in NAMES} <= set(db.view_names())
    assert "NULL is null" in reports.view_sql(reports.LOST)
    assert ":site" not in reports.view_sql(reports.LOST)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("Acme\x1b]0;pwned\x07\x1b[2J", "Acme\\x1b]0;pwned\\x07\\x1b[2J"),  # title, clear screen
        ("a\x9bb\x7fc", "a\\x9bb\\x7fc"),  # C1 CSI and DEL
        ("two\nlines\tand tab", "two lines and tab"),
        ("café ✓", "café ✓"),
    ],
)
def test_a_table_cell_writes_control_characters_out(value: str, shown: str) -> None:
    # Anchors, titles and contexts come from the web: a terminal acts on escape sequences.
    assert reports.cell(value) == shown
