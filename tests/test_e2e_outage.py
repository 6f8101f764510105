"""End to end: a `verify` on a machine whose network is down is a degraded run, not a
night of lost links. The real CLI against the virtual web; "down" is an http_proxy on
a closed port of 127.0.0.1, so every request (target pages too) fails to connect."""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import FAST, report, run_cli
from tests.test_e2e import link, page
from tests.test_notify_e2e import Hook

pytestmark = pytest.mark.e2e

DOMAINS = 12  # referring domains: over BACKCHECK_OUTAGE_MIN_DOMAINS (10)
ROUTES: dict[str, dict] = {
    **{f"site{i}.com/post": {"body": page(link())} for i in range(DOMAINS)},
    "gone.net/post": {"status": 404},
    "acme.com/pricing": {"body": page("Pricing")},
}
LINKS = [f"http://site{i}.com/post" for i in range(DOMAINS)] + ["http://gone.net/post"]


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def network_down() -> dict[str, str]:
    proxy = f"http://127.0.0.1:{closed_port()}"
    return {name: proxy for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}


def cli_json(db: str, *args: str) -> list[dict]:
    done = run_cli([*args, "--format", "json", "--db", db])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def run_states(db: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("select state from runs order by id")]


def test_a_network_outage_is_a_degraded_run(web, init_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, hook = web(routes=ROUTES), Hook()
    db = str(tmp_path / "outage.db")
    notify = ["--notify", hook.url()]
    try:
        init_db(db, "--site", "acme.com")
        (tmp_path / "links.csv").write_text(
            "source_url,target_url,anchor\n"
            + "".join(f"{url},https://acme.com/pricing,Blue Widgets\n" for url in LINKS)
        )
        assert run_cli(["import", str(tmp_path / "links.csv"), "--db", db]).returncode == 0
        first = run_cli(["verify", *FAST, *notify, "--db", db], server)
        assert first.returncode == 0, first.stderr
        good = report(Path(db))
        [summary] = cli_json(db, "report", "summary")
        assert (summary["live_links"], summary["referring_domains"]) == (DOMAINS, DOMAINS)

        # The network is down: every page and the site's own target page fail to connect.
        down = run_cli(["verify", *FAST, *notify, "--db", db], server, extra_env=network_down())
        assert down.returncode == 1, down.stderr
        assert "Error: run 2 degraded: the crawler could not reach the web" in down.stderr
        assert "run 2 degraded:" in down.stdout and f"unreachable {DOMAINS + 1}" in down.stdout
        assert run_states(db) == ["finished", "degraded"]
        [run2] = [r for r in cli_json(db, "runs") if r["id"] == 2]
        assert (run2["state"], run2["newly_lost"], run2["unreachable"]) == ("degraded", 0, 13)
        # One alert, the fixed message, no per-link digest (run 1, all new, sent nothing).
        [post] = hook.posts
        assert post["body"]["title"] == "backcheck: run 2 (acme.com) degraded"
        assert post["body"]["message"].strip() == (
            "run degraded: the crawler could not reach the web"
        )
        # Every report still shows what the good run saw.
        assert report(Path(db)) == good
        [summary] = cli_json(db, "report", "summary")
        assert (summary["live_links"], summary["referring_domains"]) == (DOMAINS, DOMAINS)
        assert (summary["lost_links"], summary["unreachable_links"]) == (1, 0)
        assert (summary["last_run_id"], summary["last_run_state"]) == (1, "finished")
        assert {row["run_id"] for row in cli_json(db, "report", "changes")} == {1}
        with sqlite3.connect(db) as conn:  # the outage's checks stay in history
            kept = conn.execute("select count(*), count(change) from checks where run_id = 2")
            assert kept.fetchone() == (DOMAINS + 1, 0)

        # Back online, one link removed meanwhile: a new run (not a resumed one) that
        # compares with run 1. One loss, no `regained` or `lost` noise from the outage.
        server.update({"site0.com/post": {"body": page("<p>The link is gone.</p>")}})
        again = run_cli(["verify", "--fail-on-lost", *FAST, *notify, "--db", db], server)
        assert again.returncode == 3, again.stderr
        assert "starting run 3" in again.stderr
        assert "lost 2 (1 newly), regained 0" in again.stdout
        changes = cli_json(db, "report", "changes")
        assert [(r["run_id"], r["change"], r["source_url"]) for r in changes] == [
            (3, "lost", "http://site0.com/post")
        ]
        rows = {row["source_url"]: row for row in report(Path(db))}
        assert {rows[url]["change"] for url in LINKS[1:]} == {"unchanged"}
        assert {row["consecutive_failures"] for row in rows.values()} == {0}
        assert hook.posts[-1]["body"]["title"] == "backcheck: run 3 (acme.com): 1 lost"

        # Down again, with crawler processes sharing the pages (the sharded close).
        sharded = run_cli(
            ["verify", "--processes", "2", *FAST, "--db", db], server, extra_env=network_down()
        )
        assert sharded.returncode == 1, sharded.stderr
        assert "Error: run 4 degraded: the crawler could not reach the web" in sharded.stderr
        assert run_states(db) == ["finished", "degraded", "finished", "degraded"]
        [summary] = cli_json(db, "report", "summary")
        assert (summary["live_links"], summary["referring_domains"]) == (11, 11)
        assert summary["last_run_id"] == 3
    finally:
        hook.stop()
