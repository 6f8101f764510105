"""Disavow files (issue #3): parsing, Google's limits, export/import, covered backlinks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlite_utils import Database

from crawler.commands.disavow import disavow
from verifier import database, reports
from verifier.reports import disavow as dv
from verifier.store import storage

FIXTURES = Path(__file__).parent / "fixtures" / "disavow"


@dataclass
class Row:
    line: int
    source_url: str
    target_url: str | None = "https://acme.example/"
    anchor: str | None = None
    metrics: dict[str, object] = field(default_factory=dict)


SOURCES = {
    "https://spam.example/a": "lost",
    "https://blog.spam.example/b": "lost",
    "https://notspam.example/c": "lost",
    "https://links.example/page?id=1": "unreachable",
    "https://links.example/other": "live",
    "https://friend.example/x": "live",
}


@pytest.fixture
def db(db_path: Path) -> Database:
    db = database.open_db(db_path)
    storage.save_site(db, "acme.example")
    rows = [Row(n, url) for n, url in enumerate(SOURCES, 2)]
    storage.add_backlinks(db, "acme.example", rows, "csv", "links.csv")
    for url, status in SOURCES.items():
        db.execute("update backlinks set status = ? where source_url = ?", [status, url])
    return db


def invoke(*args: str) -> Result:
    return CliRunner().invoke(disavow, list(args), catch_exceptions=False)


def disavowed(db: Database) -> dict[str, bool]:
    rows = db.query("select source_url, disavowed_at from backlinks order by id")
    return {row["source_url"]: row["disavowed_at"] is not None for row in rows}


# --- parsing ---------------------------------------------------------------


def test_google_help_example_parses() -> None:
    parsed = dv.parse_disavow((FIXTURES / "google-example.txt").read_bytes())
    assert parsed.problems == ()
    assert [(e.kind, e.value, e.line) for e in parsed.entries] == [
        ("url", "http://spam.example.com/stuff/comments.html", 2),
        ("url", "http://spam.example.com/stuff/paid-links.html", 3),
        ("domain", "shadyseo.com", 5),
    ]


MALFORMED = [
    (3, "domain: without a domain"),
    (4, "domain: takes a bare host, not a URL"),
    (5, "sub-path"),
    (6, "no wildcards"),
    (7, "not a valid host name"),
    (8, "not a URL or domain: entry"),
    (9, "not an http(s) URL (ftp:)"),
    (10, "URL longer than 2,048 characters (2,049)"),
    (11, "URL contains whitespace"),
    (12, "not UTF-8"),
    (13, "URL without a host"),
    (14, "duplicate of line 2"),
]


def test_every_malformed_kind_is_reported_with_its_line() -> None:
    parsed = dv.parse_disavow((FIXTURES / "malformed.txt").read_bytes())
    assert len(parsed.problems) == len(MALFORMED)
    for problem, (line, reason) in zip(parsed.problems, MALFORMED, strict=True):
        assert (problem.line, reason in problem.reason) == (line, True), problem
    assert [e.text for e in parsed.entries] == [
        "domain:good.example",
        "https://good.example/page",
    ]


def test_windows_files_are_read_leniently_but_we_never_write_one() -> None:
    data = (
        "\ufeff# saved by Notepad\r\nDomain: Spam.Example\r\n"
        "  https://links.example/page?id=1  \r\ndomain:bücher.example\r\n"
    ).encode()
    parsed = dv.parse_disavow(data)
    assert parsed.problems == ()
    assert [e.text for e in parsed.entries] == [
        "domain:spam.example",
        "https://links.example/page?id=1",
        "domain:xn--bcher-kva.example",
    ]
    reasons = [p.reason for p in dv.validate(data)]
    assert any("byte-order mark" in r for r in reasons)
    assert any("\\n line endings" in r for r in reasons)
    assert any("write 'domain:spam.example'" in r for r in reasons)


@pytest.mark.parametrize(
    ("value", "host"),
    [
        ("spam.example", "spam.example"),
        ("WWW.Spam.Example.", "www.spam.example"),  # www. kept as given
        ("bücher.example", "xn--bcher-kva.example"),
        ("spam.example/", None),
        ("spam.example/en/", None),
        ("http://spam.example", None),
        ("spam.example:8080", None),
        ("localhost", None),
        ("", None),
    ],
)
def test_domain_values(value: str, host: str | None) -> None:
    if host is None:
        with pytest.raises(dv.DisavowError):
            dv.parse_domain(value)
    else:
        assert dv.parse_domain(value) == host


# --- limits and rendering --------------------------------------------------


def test_line_limit() -> None:
    assert dv.validate("#\n" * dv.MAX_LINES) == []
    [problem] = dv.validate("#\n" * (dv.MAX_LINES + 1))
    assert problem.reason == "100,001 lines; Google accepts at most 100,000"


def test_size_limit() -> None:
    url = "https://spam.example/" + "a" * 1979 + "\n"  # 2,000 bytes a line
    assert dv.validate(url[:-5] + "\n") == []
    text = "".join(url[:-6] + f"{n:04}\n" for n in range(1001))
    assert len(text.encode()) == 2_002_000
    assert [p.reason for p in dv.validate(text)] == [
        "2,002,000 bytes; Google accepts at most 2 MB (2,000,000 bytes)"
    ]


def test_url_length_limit() -> None:
    base = "https://spam.example/"
    assert dv.validate(base + "a" * (2048 - len(base)) + "\n") == []
    [problem] = dv.validate(base + "a" * (2049 - len(base)) + "\n")
    assert (problem.line, problem.reason) == (1, "URL longer than 2,048 characters (2,049)")


def test_render_deduplicates_and_writes_google_format() -> None:
    entries = [
        dv.Entry("url", "https://spam.example/b"),
        dv.Entry("domain", "spam.example"),
        dv.Entry("url", "HTTPS://Spam.Example:443/b#top"),  # same page as the first
        dv.Entry("domain", "spam.example"),
    ]
    text = dv.render(entries, ["written today", "2 entries"])
    assert text == "# written today\n# 2 entries\ndomain:spam.example\nhttps://spam.example/b\n"
    assert dv.validate(text) == []
    assert dv.validate(text.encode()) == []


def test_coverage_of_domains_subdomains_and_urls() -> None:
    coverage = dv.Coverage(
        [dv.Entry("domain", "spam.example"), dv.Entry("url", "https://links.example/p")]
    )
    assert coverage.covering("https://blog.spam.example/x") == dv.Entry("domain", "spam.example")
    assert coverage.covering("https://notspam.example/x") is None
    assert coverage.covering("https://spam.example.evil.example/") is None
    assert coverage.covering("HTTPS://Links.Example:443/p#a") == dv.Entry(
        "url", "https://links.example/p"
    )
    assert coverage.covering("http://links.example/p") is None  # another backlink


# --- import ----------------------------------------------------------------


def test_import_marks_covered_backlinks_and_unmarks_them_later(
    db: Database, db_path: Path, tmp_path: Path
) -> None:
    first = tmp_path / "first.txt"
    first.write_text("domain:spam.example\nhttps://links.example/page?id=1\n")
    result = invoke("import", str(first), "--db", str(db_path))
    assert result.exit_code == 0, result.output
    assert "manual action" in result.stderr
    assert "2 added, 0 removed" in result.stdout
    assert "3 backlinks disavowed (3 newly), 0 no longer disavowed" in result.stdout
    assert disavowed(db) == {
        "https://spam.example/a": True,
        "https://blog.spam.example/b": True,
        "https://notspam.example/c": False,
        "https://links.example/page?id=1": True,
        "https://links.example/other": False,
        "https://friend.example/x": False,
    }
    second = tmp_path / "second.txt"
    second.write_text("https://links.example/page?id=1\nhttps://friend.example/x\n")
    result = invoke("import", str(second), "--db", str(db_path))
    assert "1 added, 1 removed" in result.stdout
    assert "2 backlinks disavowed (1 newly), 2 no longer disavowed" in result.stdout
    assert [k for k, v in disavowed(db).items() if v] == [
        "https://links.example/page?id=1",
        "https://friend.example/x",
    ]
    stored = db.query("select kind, value, file, line from disavow_entries order by id")
    assert [tuple(r.values()) for r in stored] == [
        ("url", "https://links.example/page?id=1", str(second), 1),
        ("url", "https://friend.example/x", str(second), 2),
    ]


def test_import_reports_bad_lines_and_keeps_good_ones(db: Database, db_path: Path) -> None:
    file = FIXTURES / "malformed.txt"
    result = invoke("import", str(file), "--db", str(db_path))
    assert result.exit_code == 0
    for line, reason in MALFORMED:
        assert f"{file}:{line}: " in result.stderr and reason in result.stderr
    assert "imported 2 entries (1 domain, 1 URL)" in result.stdout
    assert "skipped 12 lines" in result.stdout


def test_import_of_a_file_without_any_valid_entry_changes_nothing(
    db: Database, db_path: Path, tmp_path: Path
) -> None:
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("domain:spam.example\n")
    bad.write_bytes(b"\x89PNG\r\n\x1a\n")
    invoke("import", str(good), "--db", str(db_path))
    result = CliRunner().invoke(disavow, ["import", str(bad), "--db", str(db_path)])
    assert result.exit_code == 1 and "nothing imported" in result.stderr
    assert db["disavow_entries"].count == 1


def test_disavowed_report_names_the_covering_entry(
    db: Database, db_path: Path, tmp_path: Path
) -> None:
    file = tmp_path / "d.txt"
    file.write_text("# c\ndomain:spam.example\nhttps://links.example/page?id=1\n")
    invoke("import", str(file), "--db", str(db_path))
    rows = reports.run(db, dv.DISAVOWED_REPORT, {"site": "acme.example"})
    assert [(r["source_url"], r["disavowed_by"], r["disavow_line"], r["status"]) for r in rows] == [
        ("https://blog.spam.example/b", "domain:spam.example", 2, "lost"),
        ("https://links.example/page?id=1", "https://links.example/page?id=1", 3, "unreachable"),
        ("https://spam.example/a", "domain:spam.example", 2, "lost"),
    ]
    # .example is no public suffix, so each host is its own registered domain
    assert [r["referring_domain"] for r in rows] == [
        "blog.spam.example",
        "links.example",
        "spam.example",
    ]
    assert all(r["disavowed_at"] for r in rows)
    assert reports.run(db, dv.DISAVOWED_REPORT, {"site": "other.example"}) == []


# --- export ----------------------------------------------------------------


def test_export_to_stdout(db: Database, db_path: Path, tmp_path: Path) -> None:
    domains = tmp_path / "domains.txt"
    domains.write_text("# spam networks\nSpam.Example  # all of it\ndomain:www.seo.example\n")
    result = invoke(
        "export", "--domains-from", str(domains), "--status", "lost,unreachable",
        "--db", str(db_path),
    )  # fmt: skip
    assert result.exit_code == 0
    assert "manual action" in result.stderr.splitlines()[0]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("# Disavow file for acme.example, written by backcheck on 20")
    assert [line for line in lines if not line.startswith("#")] == [
        "domain:spam.example",
        "domain:www.seo.example",
        "https://links.example/page?id=1",
        "https://notspam.example/c",
    ]
    assert "# 2 domains, 2 URLs:" in result.stdout
    assert "no imported disavow file" in result.stderr


def test_export_after_import_shows_the_diff(db: Database, db_path: Path, tmp_path: Path) -> None:
    imported = tmp_path / "uploaded.txt"
    imported.write_text("domain:old.example\nhttps://seo.example/paid-post\n")
    invoke("import", str(imported), "--db", str(db_path))
    domains = tmp_path / "domains.txt"
    domains.write_text("spam.example\nseo.example\nlinks.example\n")
    out = tmp_path / "disavow.txt"
    result = invoke(
        "export", "--domains-from", str(domains), "--status", "unreachable",
        "--out", str(out), "--diff", "--db", str(db_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"+3 domains, -1 url vs the imported file ({imported}," in result.stderr
    assert "left out 2 URLs that a domain: line covers" in result.stderr
    assert result.stdout.splitlines()[:2] == [f"--- {imported} (imported)", f"+++ {out}"]
    assert "-https://seo.example/paid-post\n" in result.stdout
    assert "+domain:spam.example\n" in result.stdout and " domain:old.example\n" in result.stdout
    data = out.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data and data.endswith(b"\n")
    assert [line for line in data.decode().splitlines() if not line.startswith("#")] == [
        "domain:links.example",
        "domain:old.example",
        "domain:seo.example",
        "domain:spam.example",
    ]
    again = invoke("export", "--out", str(out), "--db", str(db_path))
    assert "no change vs the imported file" in again.stderr


def refused(args: list[str], out: Path) -> Result:
    result = CliRunner().invoke(disavow, ["export", *args, "--out", str(out)])
    assert result.exit_code != 0
    assert not out.exists()
    assert list(out.parent.glob(".disavow-*")) == []
    return result


def test_export_refuses_more_than_100000_lines(db: Database, db_path: Path, tmp_path: Path) -> None:
    domains = tmp_path / "domains.txt"
    domains.write_text("".join(f"d{n}.example\n" for n in range(dv.MAX_LINES)))
    result = refused(["--domains-from", str(domains), "--db", str(db_path)], tmp_path / "d.txt")
    assert "100,003 lines; Google accepts at most 100,000" in result.stderr
    assert "nothing written" in result.stderr


def test_export_refuses_an_over_long_url(db: Database, db_path: Path, tmp_path: Path) -> None:
    long_url = "https://long.example/" + "a" * (2049 - len("https://long.example/"))
    storage.add_backlinks(db, "acme.example", [Row(9, long_url)], "csv", "more.csv")
    db.execute("update backlinks set status = 'lost' where source_url = ?", [long_url])
    result = refused(["--status", "lost", "--db", str(db_path)], tmp_path / "d.txt")
    assert "URL longer than 2,048 characters (2,049)" in result.stderr


def test_export_refuses_a_sub_path(db: Database, db_path: Path, tmp_path: Path) -> None:
    domains = tmp_path / "domains.txt"
    domains.write_text("spam.example\ndomain:seo.example/en/\n")
    result = refused(["--domains-from", str(domains), "--db", str(db_path)], tmp_path / "d.txt")
    assert "line 2: sub-path" in result.stderr


@pytest.mark.parametrize("name", ["disavow.csv", "disavow", "disavow.txt.bak"])
def test_export_refuses_a_name_without_txt(db_path: Path, tmp_path: Path, name: str) -> None:
    result = refused(["--db", str(db_path)], tmp_path / name)
    assert result.exit_code == 2 and "ends in .txt" in result.stderr


def test_export_rejects_an_unknown_status(db_path: Path) -> None:
    result = CliRunner().invoke(disavow, ["export", "--status", "lost,gone", "--db", str(db_path)])
    assert result.exit_code == 2 and "gone: not a status" in result.stderr


@pytest.mark.parametrize("name", ["export", "import"])
def test_help_says_manual_action_and_gives_an_example(name: str) -> None:
    command = disavow.commands[name]
    assert command.help and "manual action" in command.help and "Example:" in command.help
