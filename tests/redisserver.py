"""A real `redis-server` on a free 127.0.0.1 port, for the scale-out tests.

`redis_url` (a pytest fixture; import it into a test module) starts one per test
with its own directory and append-only persistence, waits until it answers
PING, and stops it afterwards. Tests skip only when the binary is missing
(`.ci/run` installs the distribution's package, so CI never skips).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

BINARY = "redis-server"
START_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which(BINARY)
        assert binary is not None
        self.process = subprocess.Popen(
            [
                *[binary, "--port", str(self.port), "--bind", "127.0.0.1"],
                *["--dir", str(self.folder), "--save", "", "--appendonly", "yes"],
                *["--protected-mode", "yes", "--daemonize", "no", "--logfile", "redis.log"],
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not answers_ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.folder / "redis.log"
                self.stop()
                raise RuntimeError(
                    f"redis-server did not start: {log.read_text() if log.exists() else ''}"
                )
            time.sleep(0.05)
        return self

    def restart(self) -> None:
        """Stop the server (it writes its append-only file) and start it again on the
        same port and directory: it comes back with what it held."""
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which(BINARY) is None:
        pytest.skip(f"{BINARY} is not installed (apt-get install redis-server; .ci/run does)")
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder).start()
    try:
        yield server
    finally:
        server.stop()
