"""Shared fixtures: a fresh database, a virtual web, and the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from crawler.virtualweb import VirtualWeb
from verifier import database

ROOT = Path(__file__).resolve().parents[1]

#: Settings for crawls of the local virtual web: no politeness delays, fail fast.
FAST = [
    "-s",
    "AUTOTHROTTLE_ENABLED=0",
    "-s",
    "RETRY_ENABLED=0",
    "-s",
    "DOWNLOAD_TIMEOUT=3",
    "-s",
    "LOG_LEVEL=WARNING",
]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "backcheck.db"


@pytest.fixture
def fresh_db(db_path: Path):  # type: ignore[no-untyped-def]
    return database.open_db(db_path)


def copy_db(source: str | Path, target: str | Path) -> str:
    """Copy a database as SQLite reads it: what its -wal file holds is copied too."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return str(target)


@pytest.fixture(scope="session")
def init_db(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., str]:
    """`init_db(db, *options)`: make `db` the database `backcheck init *options --db db`
    makes. The real CLI runs once per option list in the session; each test gets a copy
    (the end-to-end tests' common set-up, not what they test: test_cli tests `init`)."""
    built: dict[tuple[str, ...], Path] = {}

    def make(db: str | Path, *options: str) -> str:
        if options not in built:
            template = tmp_path_factory.mktemp("init") / "template.db"
            done = run_cli(["init", *options, "--db", str(template)])
            assert done.returncode == 0, done.stderr
            built[options] = template
        return copy_db(built[options], db)

    return make


@pytest.fixture(scope="session")
def once() -> Callable[[str, Callable[[], Any]], Any]:
    """`once(key, build)`: what `build()` returns, built by the first test that asks for
    `key` in the session. For a costly run several tests only read: never change it."""
    results: dict[str, Any] = {}

    def get(key: str, build: Callable[[], Any]) -> Any:
        if key not in results:
            results[key] = build()
        return results[key]

    return get


@pytest.fixture
def web() -> Iterator[Callable[..., VirtualWeb]]:
    """Start virtual webs (root folder and/or routes); all are stopped after the test."""
    started: list[VirtualWeb] = []

    def start(root: Path | None = None, routes: dict | None = None) -> VirtualWeb:
        server = VirtualWeb(root, routes).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def proxy_env(server: VirtualWeb) -> dict[str, str]:
    """The child's environment: every http(s) request goes to the loopback virtual web."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "all_proxy")}
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env[name] = server.proxy_url
    assert server.proxy_url.startswith("http://127.0.0.1:")
    env.pop("BACKCHECK_DB", None)
    return env


def run_cli(
    args: list[str],
    server: VirtualWeb | None = None,
    timeout: float = 120,
    extra_env: dict[str, str] | None = None,
    **kwargs: object,
) -> subprocess.CompletedProcess[str]:
    """Run `backcheck ARGS` as a user would: a separate process, real entry point."""
    env = proxy_env(server) if server is not None else dict(os.environ)
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,  # type: ignore[arg-type]
    )


def report(db: Path, *extra: str) -> list[dict]:
    done = run_cli(["report", "backlinks", "--format", "json", "--db", str(db), *extra])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
