"""`backcheck serve`: Datasette metadata (pure) and a real server on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from crawler.commands import serve as serve_module
from tests.conftest import ROOT
from verifier import database, reports
from verifier.reports.metadata import Relation, build_metadata, relations, wrap_params
from verifier.store import storage


@dataclass
class Row:
    line: int
    source_url: str
    target_url: str | None = "https://acme.example/"
    anchor: str | None = None
    metrics: dict[str, object] = field(default_factory=dict)


@pytest.fixture
def db(db_path: Path) -> Database:
    db = database.open_db(db_path)
    storage.save_site(db, "acme.example")
    urls = ["https://blog.example/post", "https://news.example/story"]
    storage.add_backlinks(db, "acme.example", [Row(n, u) for n, u in enumerate(urls)], "csv", "f")
    db.execute("update backlinks set status = 'lost' where source_url like '%news%'")
    db.create_view(
        "report_lost_links", "select source_url, status from backlinks where status = 'lost'"
    )
    return db


# --- metadata --------------------------------------------------------------


def test_wrap_params_leaves_literals_and_comments_alone() -> None:
    sql = "select ':x', \":y\" -- :z\nfrom t where (:site is null or s = :site) and k = :kind_2"
    wrapped, names = wrap_params(sql)
    assert names == ["site", "kind_2"]
    assert wrapped == (
        "select ':x', \":y\" -- :z\nfrom t where (nullif(:site, '') is null or s = "
        "nullif(:site, '')) and k = nullif(:kind_2, '')"
    )


def test_every_table_and_view_is_described(db: Database) -> None:
    metadata = build_metadata("backcheck", relations(db), reports.all_reports())
    tables = metadata["databases"]["backcheck"]["tables"]
    names = {r.name for r in relations(db)}
    assert set(tables) == names
    for name in (
        "sites", "backlinks", "backlink_sources", "runs", "run_items", "checks",
        "target_checks", "disavow_entries",
    ):  # fmt: skip
        assert tables[name]["title"] and tables[name]["description"], name
        assert set(tables[name]["columns"]) <= set(db[name].columns_dict), name
    assert "disavowed_at" in tables["backlinks"]["columns"]
    assert tables["_sqlite_migrations"]["hidden"] is True
    assert tables["report_lost_links"]["title"] == "Report: lost links"  # not a known report


def test_views_of_known_reports_carry_their_titles(db: Database) -> None:
    reports.create_views(db, reports.all_reports())
    tables = build_metadata("b", relations(db), reports.all_reports())["databases"]["b"]["tables"]
    for report in reports.all_reports():
        assert tables[report.view]["title"] == f"Report: {report.title}"
    assert tables["report_disavowed"]["description"].startswith("Backlinks that the imported")


def test_reports_become_canned_queries_that_treat_empty_as_no_filter(db: Database) -> None:
    metadata = build_metadata("backcheck", relations(db), reports.all_reports())
    queries = metadata["databases"]["backcheck"]["queries"]
    tables = {r.name for r in relations(db)}
    assert not set(queries) & tables  # a canned query would hide the table of its name
    for report in reports.all_reports():
        query = queries[report.name.replace("-", "_") + "_report"]
        assert query["title"] == report.title
        # Datasette sends '' for every empty field: the query must then filter nothing.
        blank = dict.fromkeys(query["params"], "")
        assert len(list(db.query(query["sql"], blank))) == len(
            reports.run(db, report, dict.fromkeys(query["params"]))
        )
    lost = queries["backlinks_report"]
    params = {**dict.fromkeys(lost["params"], ""), "status": "lost"}
    assert [r["source_url"] for r in db.query(lost["sql"], params)] == [
        "https://news.example/story"
    ]
    assert queries["report_lost_links_all"]["sql"] == 'select * from "report_lost_links"'


def test_query_names_never_hide_a_table() -> None:
    report = reports.Report(name="x", title="X", sql="select 1")
    tables = [Relation("x_report", "table", ("a",))]
    queries = build_metadata("db", tables, [report])["databases"]["db"]["queries"]
    assert list(queries) == ["x_report_query"]


# --- the command -----------------------------------------------------------


def test_without_datasette_it_says_what_to_install(
    db: Database, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve_module, "datasette_installed", lambda: False)
    result = CliRunner().invoke(serve_module.serve, ["--db", str(db_path)])
    assert result.exit_code == 1
    assert "pip install 'backcheck[ui]'" in result.stderr


def test_a_missing_database_is_not_created(tmp_path: Path) -> None:
    result = CliRunner().invoke(serve_module.serve, ["--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and not (tmp_path / "none.db").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wired() -> bool:
    from crawler.cli import cli

    return "serve" in cli.commands


CLI = ["-m", "crawler.cli", "serve"]
ENTRY_POINTS = [
    pytest.param(CLI, id="backcheck-serve"),
    pytest.param(["-m", "crawler.commands.serve"], id="module"),
]


@pytest.mark.e2e
@pytest.mark.skipif(importlib.util.find_spec("datasette") is None, reason="needs backcheck[ui]")
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_serve_answers_on_loopback_and_stops_on_ctrl_c(
    db: Database, db_path: Path, entry: list[str]
) -> None:
    if entry == CLI and not _wired():
        pytest.skip("serve is not in crawler/cli.py yet")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "BACKCHECK_DB"}
    process = subprocess.Popen(
        [sys.executable, *entry, "--port", str(port), "--db", str(db_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so a failed test can still stop the whole group
    )
    base = f"http://127.0.0.1:{port}/{db_path.stem}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    try:
        rows = _wait_for_json(
            process, opener, f"{base}/backlinks_report.json?_shape=array&status=lost"
        )
        assert [(r["source_url"], r["status"]) for r in rows] == [
            ("https://news.example/story", "lost")
        ]
        rows = _wait_for_json(process, opener, f"{base}/backlinks.json?_shape=array")
        assert len(rows) == 2
        view = _wait_for_json(process, opener, f"{base}/report_lost_links_all.json?_shape=array")
        assert view == [{"source_url": "https://news.example/story", "status": "lost"}]
        process.send_signal(signal.SIGINT)  # Ctrl-C
        _, stderr = process.communicate(timeout=20)
        assert process.returncode == 0, stderr
        assert f"http://127.0.0.1:{port}/{db_path.stem}" in stderr
        with pytest.raises(urllib.error.URLError):  # Datasette went with it
            opener.open(f"http://127.0.0.1:{port}/", timeout=2)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for_json(
    process: subprocess.Popen[str], opener: urllib.request.OpenerDirector, url: str
) -> list[dict[str, object]]:
    assert url.startswith("http://127.0.0.1:")
    deadline = time.monotonic() + 30
    while True:
        try:
            with opener.open(url, timeout=5) as response:
                return json.loads(response.read())  # type: ignore[no-any-return]
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None:
                pytest.fail(f"serve exited with {process.returncode}: {process.communicate()[1]}")
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
