"""Benchmark `verify --redis` with 1, 2 and 4 worker processes beside a local `verify`.

    python -m bench.cluster --pages 2000 [--hosts 200] [--workers 1,2,4]
                            [--server auto|nginx|python] [--keep DIR] [--json-out FILE]

On the bench web (`bench.webgen`, served by `bench.servers` on 127.0.0.1) and a
redis-server started here on a free loopback port, for each N:

- **local**: `verify --new-run --json --processes N` (spawn to exit);
- **cluster**: N `backcheck worker` processes and the owner, `verify --redis`,
  started together; the owner's spawn to exit (the run is done when it exits);
  CPU is the owner's plus every worker's.

Both runs' verdicts are compared with truth.csv (a wrong run fails the bench).
Then, once: Redis memory per queued page (INFO memory around an owner that
pushed the run and was killed before any worker came), and the owner's write
ceiling: the workers fill the run's result list while no owner collects, then
`Owner.collect()` writes them all in this process, timed. Not part of the test
suite. See bench/README.md, "Scale-out over Redis".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import measure, servers, webgen
from bench.cases import BRAND, SITE
from bench.run import REPO, cli, default_cache
from bench.truth import compare, load_truth

#: Every run: no politeness delays on loopback, no target checks (as bench.run).
OVERRIDES = ["AUTOTHROTTLE_ENABLED=0", "BACKCHECK_CHECK_TARGETS=0", "LOG_LEVEL=WARNING"]
#: Seconds a worker waits, once the run is closed, before it leaves.
WORKER_IDLE = "1"


@dataclass
class Row:
    mode: str  # local | cluster
    processes: int
    wall: float
    cpu: float
    verdicts: int
    pages: int

    @property
    def rate(self) -> float:
        return self.pages / self.wall

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"pages_per_s": self.rate}


class Redis:
    """A redis-server on a free 127.0.0.1 port, with its append-only file (as the README
    recommends), in `folder`."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed (apt-get install redis-server)")
        folder.mkdir(parents=True, exist_ok=True)
        self.port = servers.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                *[binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(folder)],
                *["--save", "", "--appendonly", "yes", "--logfile", "redis.log"],
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        from redis import Redis as Client
        from redis.exceptions import RedisError

        self.client = Client.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                break
            except RedisError:  # not up yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def used_memory(self) -> int:
        return int(self.client.info("memory")["used_memory"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@dataclass
class Bench:
    data: Path
    work: Path
    server: servers.Server
    redis: Redis
    pages: int
    truth: dict[str, dict[str, str]]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "all_proxy")}
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            env[name] = self.server.proxy_url
        env.pop("BACKCHECK_DB", None)
        env.pop("BACKCHECK_REDIS_URL", None)
        return env

    def fresh_db(self, name: str) -> Path:
        db = self.work / f"{name}.db"
        for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            stale.unlink(missing_ok=True)
        cli("init", "--site", SITE, "--brand", BRAND, "--db", str(db))
        cli("import", str(self.data / "backlinks.csv"), "--db", str(db))
        return db

    def backcheck(self, *args: str) -> list[str]:
        settings = [arg for value in OVERRIDES for arg in ("-s", value)]
        return [sys.executable, "-m", "crawler.cli", *args, *settings]

    def spawn(self, cmd: list[str], name: str) -> subprocess.Popen[bytes]:
        err = (self.work / f"{name}.err").open("wb")
        return subprocess.Popen(
            cmd, cwd=REPO, env=self.env(), stdin=subprocess.DEVNULL, stdout=err, stderr=err
        )

    def right(self, db: Path) -> int:
        report = cli("report", "backlinks", "--format", "json", "--db", str(db))
        right, _ = compare(json.loads(report.stdout), self.truth)
        return right


def run_local(bench: Bench, processes: int) -> Row:
    db = bench.fresh_db(f"local-{processes}")
    cmd = bench.backcheck("verify", "--new-run", "--json", "--processes", str(processes))
    got = measure.run(
        [*cmd, "--db", str(db)],
        env=bench.env(),
        cwd=REPO,
        logs=bench.work,
        name=f"local-{processes}",
        timeout=3600,
    )
    if got.returncode != 0:
        raise SystemExit(f"local verify failed: {got.stderr_tail()}")
    return Row("local", processes, got.wall, got.cpu, bench.right(db), bench.pages)


def wait(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    """(exit code, CPU seconds of the process and what it waited for)."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def run_cluster(bench: Bench, workers: int) -> Row:
    bench.redis.client.flushall()
    db = bench.fresh_db(f"cluster-{workers}")
    redis = ["--redis", bench.redis.url]
    worker = bench.backcheck("worker", *redis, "--exit-when-idle", WORKER_IDLE)
    started = time.perf_counter()
    crew = [bench.spawn(worker, f"worker-{workers}-{i}") for i in range(workers)]
    owner = bench.spawn(
        bench.backcheck("verify", "--new-run", "--json", *redis, "--db", str(db)),
        f"owner-{workers}",
    )
    code, cpu = wait(owner)
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"the owner failed: see {bench.work}/owner-{workers}.err")
    for child in crew:
        cpu += wait(child)[1]
    return Row("cluster", workers, wall, cpu, bench.right(db), bench.pages)


def queued_run(bench: Bench, name: str) -> tuple[Path, subprocess.Popen[bytes]]:
    """An owner that has pushed the whole run (no worker yet), still running: its window
    is the run, so that Redis holds every page at once."""
    from crawler.cluster.shards import queued

    db = bench.fresh_db(name)
    window = ["-s", f"BACKCHECK_REDIS_WINDOW={bench.pages}"]
    owner = bench.spawn(
        bench.backcheck(
            "verify", "--new-run", "--redis", bench.redis.url, *window, "--db", str(db)
        ),
        name,
    )
    deadline = time.monotonic() + 120
    while queued(bench.redis.client) < bench.pages:
        if time.monotonic() > deadline or owner.poll() is not None:
            raise SystemExit(f"the owner did not queue the run: see {bench.work}/{name}.err")
        time.sleep(0.05)
    return db, owner


def redis_memory(bench: Bench) -> dict[str, float]:
    """Bytes of Redis memory per queued page request."""
    bench.redis.client.flushall()
    before = bench.redis.used_memory()
    _, owner = queued_run(bench, "memory")
    after = bench.redis.used_memory()
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    return {"before": before, "after": after, "per_page": (after - before) / bench.pages}


def write_ceiling(bench: Bench, workers: int) -> dict[str, float]:
    """Checks per second the owner writes when every result is already in Redis."""
    from crawler import runner
    from crawler.cluster.owner import Owner
    from crawler.cluster.shards import queued
    from verifier.store.storage import open_db

    bench.redis.client.flushall()
    db_path, owner = queued_run(bench, "ceiling")
    owner.send_signal(signal.SIGKILL)  # its run stays open (OPEN_TTL) for the workers
    owner.wait()
    worker = bench.backcheck("worker", "--redis", bench.redis.url)
    crew = [bench.spawn(worker, f"ceiling-worker-{i}") for i in range(workers)]
    [results] = list(bench.redis.client.scan_iter(match="backcheck:results:*")) or [b"?"]
    while queued(bench.redis.client) or bench.redis.client.llen(results) < bench.pages:
        time.sleep(0.2)
        results = next(bench.redis.client.scan_iter(match="backcheck:results:*"), results)
    for child in crew:
        child.send_signal(signal.SIGINT)
    for child in crew:
        wait(child)
    db = open_db(db_path)
    run_id = db.execute("select max(id) from runs").fetchone()[0]
    settings = runner.build_settings(dict(value.split("=", 1) for value in OVERRIDES))
    collector = Owner(db, str(db_path), run_id, bench.redis.client, settings)
    messages = bench.redis.client.llen(results)
    started = time.perf_counter()
    while collector.tally.results < messages:
        collector.collect()
    elapsed = time.perf_counter() - started
    checks = db.execute("select count(*) from checks where run_id = ?", [run_id]).fetchone()[0]
    return {"messages": messages, "checks": checks, "seconds": elapsed, "per_s": checks / elapsed}


def print_table(rows: list[Row], memory: dict[str, float], ceiling: dict[str, float]) -> None:
    print("| run | processes | wall s | pages/s | pages/s per process | CPU ms/page | verdicts |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        name = "local `verify --processes N`" if r.mode == "local" else "owner + N workers"
        print(
            f"| {name} | {r.processes} | {r.wall:.1f} | {r.rate:.0f} | {r.rate / r.processes:.0f}"
            f" | {1000 * r.cpu / r.pages:.1f} | {r.verdicts}/{r.pages} |"
        )
    print(f"\nRedis memory per queued page: {memory['per_page']:.0f} bytes")
    print(
        f"Owner write ceiling: {ceiling['checks']} checks from {ceiling['messages']} messages"
        f" in {ceiling['seconds']:.2f} s = {ceiling['per_s']:.0f} checks/s"
    )


def execute(args: argparse.Namespace, work: Path) -> int:
    spec = webgen.WebSpec(args.pages, args.hosts, args.seed, args.pool)
    data = webgen.cached(spec, args.cache)
    truth = load_truth(data / "truth.csv")
    redis = Redis(work / "redis")
    rows: list[Row] = []
    try:
        with servers.start(args.server, data / "web", work / "server") as server:
            bench = Bench(data, work, server, redis, spec.pages, truth)
            for n in args.workers:
                for run in (run_local, run_cluster):
                    print(f"{run.__name__} {n} ...", file=sys.stderr, flush=True)
                    rows.append(run(bench, n))
            memory = redis_memory(bench)
            ceiling = write_ceiling(bench, max(args.workers))
    finally:
        redis.stop()
    print_table(rows, memory, ceiling)
    ok = all(r.verdicts == r.pages for r in rows)
    if not ok:
        print("\nWRONG VERDICTS: see the rows above", file=sys.stderr)
    if args.json_out:
        payload = {
            "spec": asdict(spec),
            "server": server.kind,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "rows": [r.as_dict() for r in rows],
            "redis_memory": memory,
            "write_ceiling": ceiling,
        }
        args.json_out.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0 if ok else 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pool", type=int, default=2000)
    parser.add_argument(
        "--workers",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2, 4],
        help="worker (and local) process counts, comma-separated (default 1,2,4)",
    )
    parser.add_argument("--server", choices=("auto", "nginx", "python"), default="auto")
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--keep", type=Path, help="keep databases and logs here")
    parser.add_argument("--json-out", type=Path)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    measure.main_in_workdir(args.keep, "backcheck-cluster-", lambda work: execute(args, work))


if __name__ == "__main__":
    main()
