"""Sample a process tree from /proc: CPU time and resident memory of a crawler and its browser.

`os.wait4` (bench.measure) sums the CPU of every descendant its parent waited for, but
gives only the largest single process's peak RSS, and nothing while the run goes on.
`Sampler` reads the tree of a running child every `interval` seconds: the summed RSS
over time (is memory flat?) and, per process, its last seen CPU time, grouped by role
(the crawler, Playwright's driver, Chromium's browser, renderer and helper processes).
A process that ends between two samples loses its last interval of CPU here; the
wait4 total does not.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class Proc:
    pid: int
    ppid: int
    role: str
    cpu: float  # seconds, user + system, this process only
    rss: int  # bytes: proportional set size where the kernel gives it


def role_of(cmdline: list[str]) -> str:
    """What a process of a verify tree is: crawler, driver, browser, renderer, gpu or helper."""
    if len(cmdline) == 1:  # Chromium rewrites its title: one string, spaces between
        cmdline = cmdline[0].split()
    if not cmdline:
        return "?"
    exe = Path(cmdline[0]).name
    if "chrom" in exe:
        kind = next((a.split("=", 1)[1] for a in cmdline if a.startswith("--type=")), "")
        return {"": "browser", "renderer": "renderer", "gpu-process": "gpu"}.get(kind, "helper")
    if exe in ("node", "playwright") or any("playwright" in a and "driver" in a for a in cmdline):
        return "driver"
    return "crawler"


def _memory(pid: int) -> int:
    """Proportional set size (shared pages split among their users), else RSS, in bytes.

    Chromium's processes share most of their pages (the binary, the zygote's heap):
    summed RSS would count them once per process.
    """
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE


def _read(pid: int) -> Proc | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        memory = _memory(pid)
    except (OSError, ValueError, IndexError):
        return None  # gone meanwhile
    fields = raw[raw.rindex(")") + 2 :].split()
    args = [part.decode("utf-8", "replace") for part in cmdline if part]
    return Proc(
        pid,
        int(fields[1]),
        role_of(args),
        (int(fields[11]) + int(fields[12])) / _TICKS,
        memory,
    )


def tree(root: int) -> list[Proc]:
    """`root` and every live descendant."""
    procs = [p for name in os.listdir("/proc") if name.isdigit() if (p := _read(int(name)))]
    children: dict[int, list[Proc]] = defaultdict(list)
    for proc in procs:
        children[proc.ppid].append(proc)
    found = [p for p in procs if p.pid == root]
    for proc in found:  # grows while iterated: a breadth-first walk
        found.extend(children.get(proc.pid, ()))
    return found


@dataclass
class Sample:
    at: float  # seconds since the sampler started
    rss: dict[str, int]  # bytes per role
    processes: int

    @property
    def total_mb(self) -> float:
        return sum(self.rss.values()) / 2**20


@dataclass
class Sampler:
    """Samples the tree of `root` in a thread until `stop()`."""

    root: int
    interval: float = 0.5
    samples: list[Sample] = field(default_factory=list)
    cpu: dict[int, tuple[str, float]] = field(default_factory=dict)  # pid: (role, seconds)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        started = time.perf_counter()
        while not self._stop.is_set():
            procs = tree(self.root)
            rss: dict[str, int] = defaultdict(int)
            for proc in procs:
                rss[proc.role] += proc.rss
                # An exiting process has no command line left: keep the role it had.
                role = self.cpu.get(proc.pid, (proc.role, 0.0))[0]
                self.cpu[proc.pid] = (proc.role if role == "?" else role, proc.cpu)
            if procs:
                self.samples.append(Sample(time.perf_counter() - started, dict(rss), len(procs)))
            self._stop.wait(self.interval)

    def cpu_by_role(self) -> dict[str, float]:
        """CPU seconds per role, from the last sample of each process."""
        total: dict[str, float] = defaultdict(float)
        for role, seconds in self.cpu.values():
            total[role] += seconds
        return dict(total)

    def peak_mb(self, *roles: str) -> float:
        """The highest summed RSS of `roles` (all when none) in one sample."""
        return (
            max(
                (sum(v for r, v in s.rss.items() if not roles or r in roles) for s in self.samples),
                default=0,
            )
            / 2**20
        )
