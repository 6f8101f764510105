"""What a user can get wrong, command by command: one clear line, no traceback, nothing written.

Exit 2 when an option or its value is wrong, 1 when a file or the database is.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.e2e

BINARY = b"\x00\x01\x02PK\xff\xfe\x00binary\x07\x08" * 20


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with one site and one backlink, and the files the cases hand over."""
    folder = tmp_path_factory.mktemp("bad")
    db = folder / "good.db"
    assert run_cli(["init", "--site", "acme.com", "--db", str(db)]).returncode == 0
    (folder / "one.csv").write_text("source_url,target_url\nhttp://a.test/,https://acme.com/\n")
    assert run_cli(["import", str(folder / "one.csv"), "--db", str(db)]).returncode == 0
    (folder / "binary.csv").write_bytes(BINARY)
    (folder / "empty.csv").write_bytes(b"")
    (folder / "header.csv").write_text("source_url,target_url\n")
    (folder / "notsqlite.db").write_text("this is not a database\n" * 50)
    (folder / "domains.txt").write_text("a.test\n")
    return folder


def counts(db: Path) -> tuple[int, ...]:
    with sqlite3.connect(db) as conn:
        return tuple(
            conn.execute(f"select count(*) from {table}").fetchone()[0]
            for table in ("sites", "backlinks", "runs", "checks")
        )


# (args, exit code, what the one line must say). GOOD is the prepared database, NEW a
# path where no database exists (and none may be created), F(name) a prepared file.
GOOD, NEW = "<good>", "<new>"
CASES: list[tuple[list[str], int, str]] = [
    # init --site
    (["init", "--site", "exa mple", "--db", NEW], 2, "'exa mple' is not a domain"),
    (["init", "--site", "com", "--db", NEW], 2, "'com' is a public suffix"),
    (["init", "--site", "co.uk", "--db", NEW], 2, "'co.uk' is a public suffix"),
    (["init", "--site", "-bad-.com", "--db", NEW], 2, "the label '-bad-'"),
    (["init", "--site", "a..com", "--db", NEW], 2, "an empty label"),
    (["init", "--site", "acme.com", "--competitor", "com", "--db", NEW], 2, "'com'"),
    # import
    (["import", "<binary.csv>", "--db", GOOD], 1, "not a text file"),
    (["import", "<empty.csv>", "--db", GOOD], 1, "the file is empty"),
    (["import", "<missing.csv>", "--db", GOOD], 2, "does not exist"),
    (["import", "<one.csv>", "--db", NEW], 1, "no such database"),
    (["import", "<one.csv>", "--db", "<notsqlite.db>"], 1, "not a database"),
    # -s settings, durations, dates
    (["verify", "-s", "NOEQUALS", "--db", GOOD], 2, "-s expects NAME=VALUE"),
    (["verify", "-s", "DOWNLOAD_TIMEOUT=ten", "--db", GOOD], 2, "DOWNLOAD_TIMEOUT='ten'"),
    (["verify", "-s", "CONCURRENT_REQUESTS=many", "--db", GOOD], 2, "expected a whole number"),
    (["verify", "--max-time", "soon", "--db", GOOD], 2, "'soon' is not a duration"),
    (["verify", "--limit", "0", "--db", GOOD], 2, "--limit"),
    (["verify", "--db", NEW], 1, "no such database"),
    (["verify", "--db", "<notsqlite.db>"], 1, "not a database"),
    (["crawl", "<domains.txt>", "-s", "DOWNLOAD_TIMEOUT=x", "--db", GOOD], 2, "DOWNLOAD_TIMEOUT"),
    (["mentions", "<domains.txt>", "-s", "LOG_ENABLED=perhaps", "--db", GOOD], 2, "LOG_ENABLED"),
    (["report", "summary", "--since", "yesterday", "--db", GOOD], 2, "'yesterday'"),
    (["report", "backlinks", "--format", "xml", "--db", GOOD], 2, "'xml'"),
    (["report", "summary", "--db", NEW], 1, "no such database"),
    (["report", "summary", "--db", "<notsqlite.db>"], 1, "not a database"),
    (["runs", "show", "42", "--db", GOOD], 1, "no run 42"),
    (["runs", "--limit", "x", "--db", GOOD], 2, "'x'"),
    # --out
    (["report", "html", "--db", GOOD], 2, "Missing option '--out'"),
    (["report", "html", "--out", "/nonexistent/dir/r.html", "--db", GOOD], 1, "cannot write"),
    (["outreach", "export", "--out", "/nonexistent/dir/x.csv", "--db", GOOD], 1, "cannot write"),
    (["outreach", "set", "http://a.test/", "maybe", "--db", GOOD], 2, "'maybe'"),
]


def resolve(args: list[str], folder: Path) -> list[str]:
    out = []
    for arg in args:
        if arg == GOOD:
            arg = str(folder / "good.db")
        elif arg == NEW:
            arg = str(folder / "never.db")
        elif arg.startswith("<") and arg.endswith(">"):
            arg = str(folder / arg[1:-1])
        out.append(arg)
    return out


@pytest.mark.parametrize(("args", "code", "says"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_input_is_one_clear_line_and_writes_nothing(
    workdir: Path, args: list[str], code: int, says: str
) -> None:
    before = counts(workdir / "good.db")
    logs_before = set(os.listdir(workdir))
    done = run_cli(resolve(args, workdir))
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    assert says in lines[0], lines[0]
    assert done.stdout == ""
    assert counts(workdir / "good.db") == before  # no row
    assert set(os.listdir(workdir)) == logs_before  # no database, lock or log file


def test_a_url_with_a_path_is_reduced_to_its_host_and_says_so(tmp_path: Path) -> None:
    db = str(tmp_path / "u.db")
    done = run_cli(["init", "--site", "https://WWW.Acme.com/blog/", "--db", db])
    assert done.returncode == 0, done.stderr
    assert "read as acme.com" in done.stderr and "site acme.com" in done.stdout
    for allowed in ("127.0.0.1", "localhost"):
        kept = run_cli(["init", "--site", allowed, "--db", db])
        assert kept.returncode == 0 and f"site {allowed}:" in kept.stdout, kept.stderr


def test_a_header_only_export_imports_nothing(workdir: Path) -> None:
    done = run_cli(["import", str(workdir / "header.csv"), "--db", str(workdir / "good.db")])
    assert done.returncode == 0 and "imported 0" in done.stdout, done.stderr


def _read_only_copy(source: Path, target: Path) -> bool:
    """`target`, a copy of `source` that nobody may write, not even root (chattr +i);
    False where that cannot be made (another file system, no privileges)."""
    import shutil
    import subprocess

    shutil.copy(source, target)
    if os.geteuid() != 0:
        target.chmod(0o444)
        return True
    made = subprocess.run(["chattr", "+i", str(target)], capture_output=True)
    return made.returncode == 0


def test_a_read_only_database_is_one_line_and_nothing_written(
    workdir: Path, tmp_path: Path
) -> None:
    import subprocess

    frozen = tmp_path / "frozen.db"
    if not _read_only_copy(workdir / "good.db", frozen):
        pytest.skip("cannot make a read-only file here (chattr +i refused)")
    try:
        for args in (["init", "--site", "acme.com"], ["report", "summary"], ["verify"]):
            done = run_cli([*args, "--db", str(frozen)])
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            assert done.returncode == 1 and len(lines) == 1, done.stderr
            assert "the database is read-only" in lines[0] and "Traceback" not in done.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["frozen.db"]  # no -wal, -shm, logs
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(frozen)], check=False)


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("DOWNLOAD_DELAY", "0.5", True),  # Scrapy's default is 0, read with getfloat
        ("DOWNLOAD_DELAY", "2", True),
        ("DOWNLOAD_DELAY", "soon", False),
        ("CONCURRENT_REQUESTS_PER_DOMAIN", "1.5", False),
    ],
)
def test_numeric_settings_take_what_scrapy_reads(name: str, value: str, ok: bool) -> None:
    from crawler import runner

    if ok:
        assert runner.build_settings({name: value}).getfloat(name) == float(value)
    else:
        with pytest.raises(runner.SettingError, match=name):
            runner.build_settings({name: value})
