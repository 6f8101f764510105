"""`crawler.runner.Shard`: the crawler processes a sharded run forks.

Each test forks from a process of its own (a fresh interpreter), since the pytest
process may hold threads that a fork must not copy half-made.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        # Buffered output, as a crawl's is into a file or a pipe.
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
    )


def test_a_shard_exits_with_the_status_its_run_returns_and_writes_once() -> None:
    got = run(
        """
        import sys
        from crawler.runner import Shard
        print("before", flush=False)  # unflushed: the child must not write it again
        shard = Shard.fork(lambda: (print("in the shard"), 3)[1])
        print("status", shard.wait())
        """
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines() == ["before", "in the shard", "status 3"]


def test_a_shard_whose_run_raises_exits_1_and_says_why() -> None:
    got = run(
        """
        import logging
        logging.basicConfig()
        from crawler.runner import Shard
        def boom():
            raise ValueError("no such table")
        print("status", Shard.fork(boom).wait())
        """
    )
    assert got.stdout.strip() == "status 1"
    assert "ValueError: no such table" in got.stderr


def test_a_signal_reaches_a_running_shard() -> None:
    got = run(
        """
        import signal, time
        from crawler.runner import Shard
        shard = Shard.fork(lambda: (time.sleep(30), 0)[1])
        assert shard.poll() is None
        shard.send_signal(signal.SIGTERM)
        print("status", shard.wait())
        shard.send_signal(signal.SIGTERM)  # gone: nothing happens
        """
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == f"status {-15}"


def test_no_fork_once_the_reactor_is_installed() -> None:
    got = run(
        """
        from twisted.internet import reactor
        from crawler.runner import Shard
        try:
            Shard.fork(lambda: 0)
        except RuntimeError as exc:
            print(exc)
        """
    )
    assert got.returncode == 0, got.stderr
    assert "forked before the reactor is installed" in got.stdout


def test_a_library_thread_does_not_stop_the_fork() -> None:
    got = run(
        """
        import threading, time
        threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
        from crawler.runner import Shard
        print("status", Shard.fork(lambda: 4).wait())
        """
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "status 4"
