"""Run one child process and measure it: wall time, CPU time and peak RSS from `os.wait4`.

`os.wait4` returns the child's resource usage including every descendant the
child itself waited for. So CPU time covers a whole process tree (e.g.
worker processes of `verify --processes N`), but `ru_maxrss` is the peak of
the *largest single process* in that tree, not the sum: for a multi-process
child the real memory footprint can be up to N times larger.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

POLL_SECONDS = 0.01


@dataclass(frozen=True, slots=True)
class Measured:
    returncode: int
    wall: float  # seconds from spawn to exit
    user: float  # CPU seconds, the child and its waited-for descendants
    system: float
    max_rss_kb: int  # the largest single process's peak (Linux reports KiB)
    stdout: str
    stderr_path: Path

    @property
    def cpu(self) -> float:
        return self.user + self.system

    def stderr_tail(self, chars: int = 3000) -> str:
        return self.stderr_path.read_text(errors="replace")[-chars:]


def run(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    logs: Path,
    name: str,
    timeout: float,
    on_spawn: Callable[[int], object] | None = None,
) -> Measured:
    """Run `cmd` to completion (killed after `timeout` seconds); stdout/stderr go to `logs`.

    `on_spawn` gets the child's pid as soon as it runs (e.g. to sample its tree)."""
    out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(cmd), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        if on_spawn is not None:
            on_spawn(process.pid)
        deadline = started + timeout
        try:
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    process.kill()
                    _, status, usage = os.wait4(process.pid, 0)
                    break
                time.sleep(POLL_SECONDS)
        except BaseException:  # Ctrl-C: never leave a crawler running behind us
            process.kill()
            os.wait4(process.pid, 0)
            raise
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return Measured(
        returncode=process.returncode,
        wall=wall,
        user=usage.ru_utime,
        system=usage.ru_stime,
        max_rss_kb=usage.ru_maxrss,
        stdout=out_path.read_text(errors="replace"),
        stderr_path=err_path,
    )


def main_in_workdir(keep: Path | None, prefix: str, execute: Callable[[Path], int]) -> None:
    """Run `execute` in `keep` (kept) or in a temporary folder, and exit with its status."""
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        sys.exit(execute(keep.resolve()))
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        sys.exit(execute(Path(tmp)))
