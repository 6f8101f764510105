"""Shared fixtures: a fresh database, a virtual web, and the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

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
