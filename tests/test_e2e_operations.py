"""End to end: `verify --due` and its budget, and one run at a time per database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FAST, ROOT, proxy_env, run_cli
from tests.test_e2e import link, page

pytestmark = pytest.mark.e2e


def setup_db(
    init_db: Callable[..., str], tmp_path: Path, sources: list[str], name: str = "ops.db"
) -> str:
    db = init_db(tmp_path / name, "--site", "acme.com")
    csv_file = tmp_path / f"{name}.csv"
    csv_file.write_text(
        "source_url,target_url\n" + "".join(f"{s},https://acme.com/pricing\n" for s in sources)
    )
    assert run_cli(["import", str(csv_file), "--db", db]).returncode == 0
    return db


def query(db: str, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def test_due_checks_only_what_is_due_and_nothing_due_starts_no_run(
    web, init_db, tmp_path: Path
) -> None:
    routes = {f"h{i}.blog.com/p": {"body": page(link())} for i in range(3)}
    routes["h3.blog.com/p"] = {"status": 404}
    server = web(routes=routes)
    db = setup_db(init_db, tmp_path, [f"http://h{i}.blog.com/p" for i in range(4)])
    first = run_cli(["verify", "--due", "--json", *FAST, "--db", db], server)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["backlinks"] == 4  # never checked: all due
    started = time.monotonic()
    again = run_cli(["verify", "--due", *FAST, "--db", db], server)
    assert again.returncode == 0 and again.stdout.strip() == "nothing due", again.stderr
    assert time.monotonic() - started < 10
    assert query(db, "select count(*) from runs") == [(1,)]  # no run recorded
    # Live links are due in 3 days, the lost one in 7: move one of them into the past.
    query(db, "update backlinks set next_check_at = '2000-01-01' where source_url like '%h1.%'")
    due = run_cli(["verify", "--due", "--json", *FAST, "--db", db], server)
    assert json.loads(due.stdout)["backlinks"] == 1, due.stderr
    checked = query(
        db,
        "select b.source_url from checks c join backlinks b on b.id = c.backlink_id"
        " where c.run_id = 2",
    )
    assert checked == [("http://h1.blog.com/p",)]
    # `verify` without --due still checks everything.
    everything = run_cli(["verify", "--json", *FAST, "--db", db], server)
    assert json.loads(everything.stdout)["backlinks"] == 4


def test_due_limit_takes_the_most_valuable(web, init_db, tmp_path: Path) -> None:
    routes = {f"h{i}.blog.com/p": {"body": page(link())} for i in range(3)}
    server = web(routes=routes)
    db = init_db(tmp_path / "v.db", "--site", "acme.com")
    export = tmp_path / "ahrefs.csv"
    export.write_text(
        "Referring page URL,Target URL,Domain rating\n"
        "http://h0.blog.com/p,https://acme.com/pricing,10\n"
        "http://h1.blog.com/p,https://acme.com/pricing,80\n"
        "http://h2.blog.com/p,https://acme.com/pricing,40\n"
    )
    imported = run_cli(["import", str(export), "--db", db])
    assert imported.returncode == 0 and "imported 3" in imported.stdout, imported.stdout
    done = run_cli(["verify", "--due", "--limit", "2", "--json", *FAST, "--db", db], server)
    assert json.loads(done.stdout)["backlinks"] == 2, done.stderr
    checked = {
        row[0]
        for row in query(
            db, "select b.source_url from checks c join backlinks b on b.id = c.backlink_id"
        )
    }
    assert checked == {"http://h1.blog.com/p", "http://h2.blog.com/p"}


def test_max_time_stops_cleanly_and_leaves_the_rest_due(web, init_db, tmp_path: Path) -> None:
    # One request at a time (requests handed to the downloader finish), 2 s a page: a
    # 3 s budget cannot reach them all.
    routes = {f"slow.blog.com/p{i}": {"delay": 2, "body": page(link())} for i in range(5)}
    server = web(routes=routes)
    db = setup_db(init_db, tmp_path, [f"http://slow.blog.com/p{i}" for i in range(5)])
    settings = [*FAST, "-s", "DOWNLOAD_TIMEOUT=20", "-s", "CONCURRENT_REQUESTS=1"]
    done = run_cli(["verify", "--due", "--max-time", "3s", "--json", *settings, "--db", db], server)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    # What was in flight when the time was up finished; nothing new started.
    assert summary["state"] == "finished" and summary["pending"] == 0, summary
    assert 1 <= summary["backlinks"] <= 3, summary
    left = query(db, "select count(*) from backlinks where next_check_at is null")[0][0]
    assert left == 5 - summary["backlinks"]
    # The next --due run takes exactly the rest (no budget: the pages need not be slow).
    server.update({key: {"body": rule["body"]} for key, rule in routes.items()})
    after = run_cli(["verify", "--due", "--json", *settings, "--db", db], server, timeout=180)
    assert json.loads(after.stdout)["backlinks"] == left, after.stderr


def test_one_run_at_a_time_and_imports_wait(web, init_db, tmp_path: Path) -> None:
    # 12 pages of 1 s, one at a time: the first run takes 12 s, unless the test lets its
    # pages go sooner (they answer at once once it is done with the run).
    slow = {f"h{i}.slowblog.com/p": {"delay": 1, "body": page(link())} for i in range(12)}
    routes = {**slow, **{f"x{i}.blog.com/p": {"body": page(link())} for i in range(2)}}
    server = web(routes=routes)
    db = setup_db(init_db, tmp_path, [f"http://{key}" for key in slow])
    first = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "verify", *FAST, "-s", "DOWNLOAD_TIMEOUT=30",
         "-s", "CONCURRENT_REQUESTS=1", "--db", db],
        cwd=ROOT, env=proxy_env(server), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not query(db, "select 1 from runs where state = 'running'"):
            assert time.monotonic() < deadline, "the first run never started"
            time.sleep(0.1)
        for command in (["verify"], ["crawl", str(tmp_path / "domains.txt")]):
            (tmp_path / "domains.txt").write_text("x0.blog.com\n")
            began = time.monotonic()
            second = run_cli([*command, *FAST, "--db", db], server)
            # Refused at once, not after waiting for the first run: that one is still going
            # (its pages take 12 s). The bound only catches a hang; start-up is in it.
            assert first.poll() is None
            assert time.monotonic() - began < 10
            assert second.returncode == 1, second.stderr
            assert f"pid {first.pid}" in second.stderr and "already running" in second.stderr
            assert "since 20" in second.stderr and "Traceback" not in second.stderr
        # An import and a report during the run wait for the database instead of failing.
        more = tmp_path / "more.csv"
        more.write_text("source_url,target_url\nhttp://x1.blog.com/p,https://acme.com/pricing\n")
        imported = run_cli(["import", str(more), "--db", db])
        assert imported.returncode == 0 and "imported 1" in imported.stdout, imported.stderr
        assert run_cli(["report", "summary", "--db", db]).returncode == 0
        assert query(db, "select count(*) from runs") == [(1,)]
    finally:
        server.update({key: {"body": rule["body"]} for key, rule in slow.items()})  # let go
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert "finished" in out


def test_a_run_left_by_a_dead_process_is_taken_over(web, init_db, tmp_path: Path) -> None:
    server = web(routes={"h0.blog.com/p": {"body": page(link())}})
    db = setup_db(init_db, tmp_path, ["http://h0.blog.com/p"])
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(gone.stdout)
    query(
        db,
        "insert into runs (started_at, locked_at, state, sites, pid, kind)"
        " values ('2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00', 'running',"
        " '[\"beta.com\"]', ?, 'crawl')",
        pid,
    )
    done = run_cli(["verify", *FAST, "--db", db], server)
    assert done.returncode == 0, done.stderr
    assert f"(pid {pid}) is gone" in done.stderr
    assert query(db, "select state from runs where pid = ?", pid) == [("interrupted",)]


def test_runs_lists_history_and_shows_one_with_scrapy_stats(web, init_db, tmp_path: Path) -> None:
    server = web(routes={"h0.blog.com/p": {"body": page(link())}, "h1.blog.com/p": {"status": 404}})
    db = setup_db(init_db, tmp_path, ["http://h0.blog.com/p", "http://h1.blog.com/p"])
    for _ in range(2):
        assert run_cli(["verify", *FAST, "--db", db], server).returncode == 0
    listed = run_cli(["runs", "--format", "json", "--db", db])
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [row["id"] for row in rows] == [2, 1]  # latest first
    assert list(rows[0]) == [
        "id", "started_at", "finished_at", "duration_s", "pages", "backlinks", "live", "lost",
        "unreachable", "newly_lost", "regained", "state", "notification",
    ]  # fmt: skip
    assert (rows[1]["live"], rows[1]["lost"], rows[1]["state"]) == (1, 1, "finished")
    assert rows[1]["duration_s"] >= 0
    assert (
        len(json.loads(run_cli(["runs", "--limit", "1", "--format", "json", "--db", db]).stdout))
        == 1
    )
    shown = run_cli(["runs", "show", "1", "--format", "json", "--db", db])
    one = json.loads(shown.stdout)
    assert one["id"] == 1 and one["kind"] == "verify" and one["sites"] == ["acme.com"]
    assert one["stats"]["finish_reason"] == "finished"
    assert one["stats"]["downloader/response_status_count/200"] >= 1  # Scrapy's own names
    table = run_cli(["runs", "show", "1", "--db", db])
    assert table.returncode == 0 and "finish_reason" in table.stdout
    missing = run_cli(["runs", "show", "99", "--db", db])
    assert missing.returncode == 1 and "no run 99" in missing.stderr


ANSI = "\x1b["
DUMP = ("Overridden settings", "Enabled extensions", "Dumping Scrapy stats", "Scrapy 2.")


def test_console_is_clean_with_progress_records_and_the_full_log_on_disk(
    web, init_db, tmp_path: Path
) -> None:
    routes = {f"h{i}.blog.com/p": {"delay": 0.6, "body": page(link())} for i in range(6)}
    server = web(routes=routes)
    db = setup_db(init_db, tmp_path, [f"http://h{i}.blog.com/p" for i in range(6)])
    settings = [
        "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "RETRY_ENABLED=0", "-s", "CONCURRENT_REQUESTS=1",
        "-s", "BACKCHECK_PROGRESS_RECORD_S=1",
    ]  # fmt: skip
    done = run_cli(["verify", *settings, "--db", db], server)
    assert done.returncode == 0, done.stderr
    err = done.stderr
    assert ANSI not in err and ANSI not in done.stdout  # not a terminal: no escape codes
    assert not any(marker in err for marker in DUMP), err
    records = [line for line in err.splitlines() if line.startswith("progress: ")]
    assert records and "/6 pages" in records[-1] and "unreachable 0" in records[-1], err
    log = Path(db + ".logs") / "run-1.log"
    text = log.read_text()
    assert all(marker in text for marker in ("Overridden settings", "Dumping Scrapy stats"))
    assert query(db, "select log from runs where id = 1") == [(str(log),)]
    # The verbose run is read for Scrapy's settings dump only: its pages need not be slow.
    server.update({key: {"body": rule["body"]} for key, rule in routes.items()})
    verbose = run_cli(["verify", "-v", *settings, "--db", db], server)
    assert "Overridden settings" in verbose.stderr
    # The quiet run is slow again: progress records would be due, and none is shown.
    server.update(routes)
    quiet = run_cli(["verify", "-q", *settings, "--db", db], server)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    assert "run 3 finished" in quiet.stdout


def test_only_the_last_logs_are_kept(web, init_db, tmp_path: Path) -> None:
    server = web(routes={"h0.blog.com/p": {"body": page(link())}})
    db = setup_db(init_db, tmp_path, ["http://h0.blog.com/p"])
    for _ in range(3):
        done = run_cli(["verify", *FAST, "-s", "BACKCHECK_KEEP_LOGS=2", "--db", db], server)
        assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in Path(db + ".logs").iterdir()) == ["run-2.log", "run-3.log"]


def test_a_terminal_gets_a_live_bar(web, init_db, tmp_path: Path) -> None:
    import os
    import pty

    routes = {f"h{i}.blog.com/p": {"delay": 0.4, "body": page(link())} for i in range(5)}
    server = web(routes=routes)
    db = setup_db(init_db, tmp_path, [f"http://h{i}.blog.com/p" for i in range(5)])
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "verify", *FAST, "-s", "CONCURRENT_REQUESTS=1",
         "--db", db],
        cwd=ROOT, env={**proxy_env(server), "TERM": "xterm", "COLUMNS": "160"},
        stdout=subprocess.PIPE, stderr=terminal, text=True,
    )  # fmt: skip
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    out, _ = child.communicate(timeout=60)
    os.close(controller)
    assert child.returncode == 0
    screen = shown.decode("utf-8", "replace")
    assert "pages" in screen and "/5" in screen and "live " in screen, screen[-2000:]
    assert "progress: " not in screen  # the bar, not the records
    assert "run 1 finished" in out


def test_crawl_console_counts_domains_and_keeps_its_log(web, init_db, tmp_path: Path) -> None:
    routes = {
        f"d{i}blog.com/": {"delay": 0.5, "body": page(link() + '<a href="/next">n</a>')}
        for i in range(3)
    }
    routes.update({f"d{i}blog.com/next": {"delay": 0.5, "body": page("x")} for i in range(3)})
    server = web(routes=routes)
    db = setup_db(init_db, tmp_path, [])
    (tmp_path / "domains.txt").write_text("".join(f"d{i}blog.com\n" for i in range(3)))
    settings = [*FAST, "-s", "CONCURRENT_REQUESTS=1", "-s", "BACKCHECK_PROGRESS_RECORD_S=1"]
    done = run_cli(["crawl", str(tmp_path / "domains.txt"), *settings, "--db", db], server)
    assert done.returncode == 0, done.stderr
    assert not any(marker in done.stderr for marker in DUMP), done.stderr
    records = [line for line in done.stderr.splitlines() if line.startswith("progress: ")]
    assert records and "/3 domains" in records[-1], done.stderr
    log = Path(db + ".logs") / "run-1.log"
    assert "Dumping Scrapy stats" in log.read_text() or "WARNING" in log.read_text()
