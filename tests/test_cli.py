"""The command line: contracts (names, options, JSON keys), help texts, bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from crawler.cli import cli
from tests.conftest import ROOT

REPORT_KEYS = {
    "source_url",
    "target_url",
    "status",
    "reason",
    "follow",
    "nofollow_source",
    "rel",
    "anchor",
    "anchor_changed",
    "target_changed",
    "observed_target",
    "link_count",
    "http_status",
    "final_url",
    "referring_domain",
    "first_seen",
    "last_checked",
    "change",
}


def invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def all_commands() -> list[tuple[str, click.Command]]:
    found = []

    def walk(prefix: str, command: click.Command) -> None:
        found.append((prefix, command))
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(f"{prefix} {name}".strip(), sub)

    walk("", cli)
    return found


@pytest.mark.parametrize(("name", "command"), all_commands()[1:])
def test_every_command_has_help_with_an_example_and_a_readme_line(
    name: str, command: click.Command
) -> None:
    assert command.help and "Example:" in command.help, name
    result = invoke(*name.split(), "--help")
    assert result.exit_code == 0 and "Example:" in result.output
    assert f"backcheck {name}" in (ROOT / "README.md").read_text(encoding="utf-8"), name


@pytest.mark.parametrize("name", ["init", "import", "verify", "report backlinks"])
def test_every_database_command_takes_db(name: str) -> None:
    assert "--db" in invoke(*name.split(), "--help").output


def test_init_adds_values_and_keeps_old_ones(db_path: Path) -> None:
    invoke("init", "--site", "https://www.Acme.com/", "--brand", "Acme", "--db", str(db_path))
    result = invoke(
        "init",
        "--site",
        "acme.com",
        "--brand",
        "acme",
        "--brand",
        "Acme Widgets",
        "--competitor",
        "https://widgetco.com",
        "--keyword",
        "blue widgets",
        "--db",
        str(db_path),
    )
    assert "site acme.com" in result.output
    assert "['Acme', 'Acme Widgets']" in result.output
    assert "['widgetco.com']" in result.output


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_keeps_good_rows_and_names_bad_ones(tmp_path: Path, db_path: Path) -> None:
    invoke("init", "--site", "acme.com", "--db", str(db_path))
    export = write(
        tmp_path / "links.csv",
        "source_url,target_url,anchor\n"
        "http://blog.com/a,https://acme.com/,Acme\n"
        ",https://acme.com/,no source\n"
        "ftp://blog.com/b,https://acme.com/,bad scheme\n"
        "http://blog.com/c,https://acme.com.evil.net/,lookalike\n"
        "https://www.acme.com/blog,https://acme.com/,internal\n"
        "http://blog.com/d,https://acme.com/x,Acme\n",
    )
    result = CliRunner().invoke(cli, ["import", export, "--db", str(db_path)])
    assert result.exit_code == 0
    assert "imported 2, merged 0, rejected 4" in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith(export)]
    assert [int(line.split(":")[1]) for line in lines] == [3, 4, 5, 6]
    strict = CliRunner().invoke(cli, ["import", export, "--strict", "--db", str(db_path)])
    assert strict.exit_code == 1 and "imported 0, merged 2, rejected 4" in strict.stdout


def test_import_merges_sources_and_dry_run_writes_nothing(tmp_path: Path, db_path: Path) -> None:
    invoke("init", "--site", "acme.com", "--db", str(db_path))
    first = write(
        tmp_path / "a.csv", "source_url,target_url\nhttp://Blog.com:80/a,https://acme.com/\n"
    )
    invoke("import", first, "--db", str(db_path))
    again = write(
        tmp_path / "b.csv",
        "source_url,target_url\nhttp://blog.com/a,https://acme.com/\n"
        "https://blog.com/a,https://acme.com/\n",
    )
    dry = invoke("import", again, "--source", "ahrefs", "--dry-run", "--db", str(db_path))
    assert "would import 1, merged 1" in dry.output
    rows = json.loads(
        invoke("report", "backlinks", "--format", "json", "--db", str(db_path)).output
    )
    assert [r["source_url"] for r in rows] == ["http://Blog.com:80/a"]
    invoke("import", again, "--source", "ahrefs", "--db", str(db_path))
    rows = json.loads(
        invoke("report", "backlinks", "--format", "json", "--db", str(db_path)).output
    )
    assert [(r["source_url"], r["sources"]) for r in rows] == [
        ("http://Blog.com:80/a", "csv,ahrefs"),  # host case and default port: same backlink
        ("https://blog.com/a", "ahrefs"),  # https is another copy of the page
    ]


def test_report_json_has_the_contract_keys_and_null_status_before_a_check(
    tmp_path: Path, db_path: Path
) -> None:
    invoke("init", "--site", "acme.com", "--db", str(db_path))
    invoke(
        "import",
        write(tmp_path / "l.csv", "source_url,target_url\nhttp://b.com/,https://acme.com/\n"),
        "--db",
        str(db_path),
    )
    [row] = json.loads(
        invoke("report", "backlinks", "--format", "json", "--db", str(db_path)).output
    )
    assert set(row) >= REPORT_KEYS
    assert row["status"] is None and row["referring_domain"] == "b.com"
    csv_out = invoke("report", "backlinks", "--format", "csv", "--db", str(db_path)).output
    assert csv_out.splitlines()[0].startswith("id,site,source_url,target_url,status")
    assert (
        invoke(
            "report", "backlinks", "--status", "lost", "--format", "json", "--db", str(db_path)
        ).output.strip()
        == "[]"
    )


def test_several_sites_need_site_for_import(tmp_path: Path, db_path: Path) -> None:
    invoke("init", "--site", "acme.com", "--db", str(db_path))
    invoke("init", "--site", "other.org", "--db", str(db_path))
    export = write(tmp_path / "l.csv", "source_url,target_url\nhttp://b.com/,https://acme.com/\n")
    result = CliRunner().invoke(cli, ["import", export, "--db", str(db_path)])
    assert result.exit_code == 1 and "pick one with --site" in result.stderr
    ok = CliRunner().invoke(cli, ["import", export, "--site", "acme.com", "--db", str(db_path)])
    assert ok.exit_code == 0 and "imported 1" in ok.stdout


def test_db_from_environment(tmp_path: Path) -> None:
    target = tmp_path / "env.db"
    result = CliRunner().invoke(
        cli, ["init", "--site", "acme.com"], env={"BACKCHECK_DB": str(target)}
    )
    assert result.exit_code == 0 and target.exists()


def test_a_database_that_is_not_sqlite_is_a_clear_error(tmp_path: Path) -> None:
    bogus = write(tmp_path / "not.db", "this is not a database" * 100)
    result = CliRunner().invoke(cli, ["init", "--site", "acme.com", "--db", bogus])
    assert result.exit_code == 1 and "cannot open database" in result.stderr


def test_report_path_does_not_import_scrapy() -> None:
    code = (
        "import sys; from crawler.cli import cli; "
        "assert not [m for m in sys.modules if m.startswith(('scrapy', 'twisted'))]"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_readme_starts_with_the_two_setup_commands() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:25])
    assert re.search(r"backcheck demo", first_screen)
    assert re.search(r"pytest", first_screen)
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    assert "pytest" in ci
