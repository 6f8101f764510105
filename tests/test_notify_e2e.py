"""Alerts end to end: the real CLI sends digests to a JSON webhook and an SMTP server,
both served by the test on 127.0.0.1, while the crawl goes through the virtual web's proxy."""

from __future__ import annotations

import email
import json
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from crawler.virtualweb import VirtualWeb
from tests.conftest import FAST, copy_db, run_cli
from tests.test_e2e import link, page

pytestmark = pytest.mark.e2e

TOKEN = "s3cret-token-42"
ENV = {"HOOK_TOKEN": TOKEN}
LOST_LINE = (
    'http://a.blog.com/live -> https://acme.com/pricing: link_removed, anchor "Blue Widgets"'
)


class Hook:
    """A JSON webhook on 127.0.0.1: answers each POST with the next planned status (the
    last one repeats), or, with `hang`, accepts it and never answers."""

    def __init__(self, plan: tuple[int, ...] = (200,), hang: bool = False) -> None:
        self.plan, self.hang = list(plan), hang
        self.posts: list[dict[str, Any]] = []
        self.release = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(size))
                hook.posts.append({"body": body, "headers": dict(self.headers), "path": self.path})
                if hook.hang:
                    hook.release.wait(60)
                    return
                status = hook.plan.pop(0) if len(hook.plan) > 1 else hook.plan[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, query: str = "") -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook{query}"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Inbox:
    """aiosmtpd handler: keeps every message delivered."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def hooks() -> Iterator[Callable[..., Hook]]:
    started: list[Hook] = []

    def start(*plan: int, hang: bool = False) -> Hook:
        started.append(Hook(plan or (200,), hang))
        return started[-1]

    yield start
    for hook in started:
        hook.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:  # a free port: Controller checks readiness on its port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def notification(db: str, run_id: int) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        row = conn.execute("select notification from runs where id = ?", [run_id]).fetchone()
    return json.loads(row[0])


ROUTES = {"a.blog.com/live": {"body": page(link())}, "b.blog.com/keep": {"body": page(link())}}


def checked_once(
    init_db: Callable[..., str], server: Any, folder: Path, *notify: str
) -> tuple[str, subprocess.CompletedProcess[str]]:
    """A site's database after its first run (`notify`: its alert options)."""
    db = init_db(folder / "alerts.db", "--site", "acme.com")
    (folder / "links.txt").write_text("http://a.blog.com/live\nhttp://b.blog.com/keep\n")
    assert run_cli(["import", str(folder / "links.txt"), "--db", db]).returncode == 0
    first = run_cli(["verify", *FAST, *notify, "--db", db], server, extra_env=ENV)
    assert first.returncode == 0, first.stderr
    return db, first


@pytest.fixture
def lost_next(web, init_db, once, tmp_path: Path, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A site checked once; the web then changes so that the next run loses one link."""

    def alone() -> tuple[str, subprocess.CompletedProcess[str]]:
        with VirtualWeb(routes=ROUTES) as server:
            return checked_once(init_db, server, tmp_path_factory.mktemp("checked-once"))

    def prepare(*notify: str) -> tuple[Any, str, subprocess.CompletedProcess[str]]:
        server = web(routes=ROUTES)
        if notify:
            db, first = checked_once(init_db, server, tmp_path, *notify)
        else:  # the same first run for every test: made once, each test goes on from a copy
            template, first = once("notify: checked once", alone)
            db = copy_db(template, tmp_path / "alerts.db")
        server.update({"a.blog.com/live": {"body": page("<p>The link is gone.</p>")}})
        return server, db, first

    return prepare


def test_digest_to_webhook_and_email_then_resent(lost_next, hooks, smtp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hook, (inbox, smtp_port) = hooks(), smtp
    mail = f"mailto://127.0.0.1:{smtp_port}?from=backcheck@acme.test&to=seo@acme.test"
    notify = ["--notify", hook.url("?+X-Token=${HOOK_TOKEN}"), "--notify", mail]
    server, db, first = lost_next(*notify)
    # A first run: every backlink is `new`, nothing is sent.
    assert hook.posts == [] and inbox.messages == []
    assert notification(db, 1)["status"] == "nothing_to_send"
    assert "run 1: no notification: nothing changed" in first.stderr

    second = run_cli(["verify", *FAST, *notify, "--db", db], server, extra_env=ENV)
    assert second.returncode == 0, second.stderr
    # The webhook was reached directly, not through the virtual web's http_proxy.
    [post] = hook.posts
    assert post["headers"]["X-Token"] == TOKEN
    assert post["body"]["title"] == "backcheck: run 2 (acme.com): 1 lost"
    assert LOST_LINE in post["body"]["message"]
    assert "Run 2 (verify) finished: 2 backlinks checked; live 1, lost 1" in post["body"]["message"]
    [message] = inbox.messages
    assert message["Subject"] == "backcheck: run 2 (acme.com): 1 lost"
    assert message["To"] == "seo@acme.test"
    text = message.get_payload(decode=True) if not message.is_multipart() else None
    if text is None:
        text = next(p.get_payload(decode=True) for p in message.walk() if not p.is_multipart())
    assert LOST_LINE in text.decode()
    entry = notification(db, 2)
    assert (entry["status"], entry["targets"], entry["counts"]["lost"]) == ("sent", 2, 1)
    assert "run 2: notification sent to 2 targets (1 lost)" in second.stderr
    stored = json.dumps(entry)
    assert TOKEN not in second.stderr + stored and "127.0.0.1" not in stored

    # `backcheck notify --run 2` re-sends, here to URLs from BACKCHECK_NOTIFY.
    other = hooks()
    env = {"BACKCHECK_NOTIFY": f"{hook.url()}\n  {other.url()}"}
    again = run_cli(["notify", "--run", "2", "--db", db], server, extra_env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == "run 2: notification sent to 2 targets (1 lost)\n"
    assert len(hook.posts) == 2 and len(other.posts) == 1
    assert LOST_LINE in other.posts[0]["body"]["message"]

    # An Apprise config file fills its ${NAME} templates from APPRISE_TEMPLATE_<NAME>.
    config = tmp_path / "alerts.yml"
    config.write_text(
        "version: 1\ntemplate:\n  - HOOK_TOKEN\nurls:\n"
        f"  - {other.url('?+X-Token=${HOOK_TOKEN}')}\n"
    )
    env = {"APPRISE_TEMPLATE_HOOK_TOKEN": TOKEN}
    resent = run_cli(
        ["notify", "--run", "2", "--notify-config", str(config), "--db", db], server, extra_env=env
    )
    assert resent.returncode == 0, resent.stderr
    assert other.posts[-1]["headers"]["X-Token"] == TOKEN


def test_retry_after_a_500_then_failures_are_recorded(lost_next, hooks) -> None:  # type: ignore[no-untyped-def]
    flaky = hooks(500, 200)
    server, db, _ = lost_next()
    notify = ["--notify", flaky.url("?retry=1&wait=0.1")]
    done = run_cli(["verify", *FAST, *notify, "--db", db], server)
    assert done.returncode == 0, done.stderr
    assert len(flaky.posts) == 2  # the 500, then Apprise's retry
    assert notification(db, 2)["status"] == "sent"

    # A receiver that keeps failing: logged, recorded, and `notify` exits 1.
    broken, fine = hooks(500), hooks()
    both = ["--notify", broken.url("?+X-Token=${HOOK_TOKEN}"), "--notify", fine.url()]
    again = run_cli(["notify", "--run", "2", *both, "--db", db], server, extra_env=ENV)
    assert again.returncode == 1
    assert again.stderr.splitlines()[-1] == (
        "Error: run 2: notification partly sent to 2 targets (1 lost): JSON: failure"
    )
    port = broken.server.server_address[1]
    assert f"notification to json://127.0.0.1:{port}/hook failed (failure)" in again.stderr
    assert TOKEN not in again.stderr and "Traceback" not in again.stderr
    entry = notification(db, 2)
    assert (entry["status"], entry["error"]) == ("partial", "JSON: failure")
    alone = run_cli(["notify", "--run", "2", "--notify", broken.url(), "--db", db], server)
    assert alone.returncode == 1 and notification(db, 2)["status"] == "failed"


def test_a_receiver_that_never_answers_cannot_hold_the_run(lost_next, hooks) -> None:  # type: ignore[no-untyped-def]
    silent = hooks(hang=True)
    server, db, _ = lost_next()
    started = time.monotonic()
    done = run_cli(
        ["verify", *FAST, "--json", "--notify", silent.url("?rto=60&retry=3"), "--db", db],
        server,
        extra_env={"BACKCHECK_NOTIFY_TIMEOUT": "2"},
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["lost"] == 1
    assert len(silent.posts) == 1  # the POST arrived; no answer ever came
    assert elapsed < 20, elapsed  # Apprise alone would wait 60 s, and retry
    entry = notification(db, 2)
    assert (entry["status"], entry["error"], entry["counts"]["lost"]) == (
        "failed",
        "no answer within 2s",
        1,
    )
    port = silent.server.server_address[1]
    assert f"no answer within 2s from json://127.0.0.1:{port}/hook; given up" in done.stderr
    assert "rto=60" not in done.stderr  # logged URLs lose their query


def test_bad_alert_options_are_one_line_errors(init_db, tmp_path: Path) -> None:
    db = init_db(tmp_path / "bad.db", "--site", "acme.com")
    empty = tmp_path / "empty.yml"
    empty.write_text("version: 1\nurls:\n")
    cases = [
        (["verify", "--notify", "notaurl"], 2, "--notify: not a URL Apprise can send to: notaurl"),
        (
            ["verify", "--notify", "json://127.0.0.1:9/${NOPE}"],
            2,
            "--notify: environment variable NOPE is not set (used as ${NOPE})",
        ),
        (["crawl", str(empty), "--notify-config", str(empty)], 2, "no notification URL"),
        (["notify", "--run", "1"], 2, "no notification target: give --notify URL"),
        (["notify", "--run", "9", "--notify", "json://127.0.0.1:9/x"], 1, "run 9: no such run"),
        (["verify", "--notify-timeout", "0"], 2, "--notify-timeout"),
    ]
    for args, code, message in cases:
        done = run_cli([*args, "--db", db], extra_env={"BACKCHECK_NOTIFY": ""})
        assert done.returncode == code, (args, done.stderr)
        assert message in done.stderr.splitlines()[-1], (args, done.stderr)
        assert "Traceback" not in done.stderr
    bad_env = run_cli(["verify", "--db", db], extra_env={"BACKCHECK_NOTIFY_TIMEOUT": "soon"})
    assert bad_env.returncode == 2 and "'soon' is not a valid float" in bad_env.stderr
