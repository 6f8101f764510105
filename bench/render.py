"""Benchmark `verify --render auto` against `--render never` on a web with JS-only pages.

    python -m bench.render --pages 2000 --js-share 0.03 [--repeat 3] [--modes never,auto]
                           [--linked 0.30] [--cases all|links] [--processes N]
                           [--server auto|nginx|python]
                           [-s NAME=VALUE] [--keep DIR] [--json-out FILE] [--timeline]

Every mode verifies the same generated web (bench.webgen with `--js-share`), in an
order that alternates from one repeat to the next. CPU time covers the whole process
tree, Chromium's processes included: this process becomes a child subreaper, so a
browser process its parent never waited for is reaped here and counted
(getrusage(RUSAGE_CHILDREN)). bench.proctree samples the tree meanwhile: memory
(PSS) over time and CPU per role. Every verdict, and `found_in`, is checked against
the truth for its mode (bench.truth.expected_row). See bench/README.md, "Rendering".
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import resource
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import clock, measure, proctree, servers, webgen
from bench.cases import SITE
from bench.run import OVERRIDES, Bench, cli, default_cache
from bench.truth import compare, load_truth

MODES = ("never", "auto", "always")
BROWSER_ROLES = ("driver", "browser", "renderer", "gpu", "helper")
PR_SET_CHILD_SUBREAPER = 36
#: The issue's bound: `auto` at most this much slower than `never`.
TARGET = 0.15


@dataclass
class RenderRun:
    repeat: int
    mode: str
    pages: int
    wall: float = 0.0
    crawl: float | None = None
    cpu: float = 0.0  # seconds, the whole tree
    processes: int = 0
    renders: int = 0
    launches: int = 0
    roles: dict[str, float] = field(default_factory=dict)  # CPU seconds per role (sampled)
    timeline: list[tuple[float, float, float]] = field(default_factory=list)  # t, crawler, browser
    verdicts: tuple[int, int] = (0, 0)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.verdicts[0] == self.verdicts[1]

    def row(self) -> dict[str, Any]:
        browser = sum(self.roles.get(role, 0.0) for role in BROWSER_ROLES)
        return {
            "run": self.repeat,
            "mode": self.mode,
            "procs": self.processes,
            "pages": self.pages,
            "rendered": self.renders,
            "wall s": self.wall,
            "crawl s": self.crawl,
            "pages/s": self.pages / self.wall if self.wall else None,
            "pages/s crawl": self.pages / self.crawl if self.crawl else None,
            "CPU ms/page": 1000 * self.cpu / self.pages,
            "browser CPU s": browser,
            "peak crawler MB": max((t[1] for t in self.timeline), default=0.0),
            "peak browser MB": max((t[2] for t in self.timeline), default=0.0),
            "verdicts": f"{self.verdicts[0]}/{self.verdicts[1]}",
        }


def become_subreaper() -> bool:
    """Orphaned descendants (Chromium's helpers) are then reparented here, not to init."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_orphans(keep: set[int], grace: float = 15.0) -> None:
    """Wait for every child but `keep` (the server): their CPU joins RUSAGE_CHILDREN."""
    deadline = time.monotonic() + grace
    while True:
        me = os.getpid()
        children = [p.pid for p in proctree.tree(me) if p.ppid == me and p.pid not in keep]
        if not children:
            return
        for pid in children:
            if time.monotonic() > deadline:
                os.kill(pid, 9)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG if time.monotonic() <= deadline else 0)
        time.sleep(0.1)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_stats(db: Path) -> dict[str, Any]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute("select stats from runs order by id desc limit 1").fetchone()
    return json.loads(row[0]) if row and row[0] else {}


def run_mode(bench: Bench, repeat: int, mode: str, interval: float) -> RenderRun:
    result = RenderRun(repeat, mode, bench.pages)
    name = f"{mode}-{repeat}"
    db = bench.work / f"{name}.db"
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)
    cli("init", "--site", SITE, "--brand", bench.brand, "--db", str(db))
    cli("import", str(bench.data / "backlinks.csv"), "--db", str(db))
    bench.clock_file(name).unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "crawler.cli", "verify", "--new-run", "--json"]
    cmd += ["--render", mode, *bench.settings(name), *bench.verify_extra, "--db", str(db)]
    samplers: list[proctree.Sampler] = []
    before = children_cpu()
    got = measure.run(
        cmd,
        env=bench.env(),
        cwd=Path(__file__).resolve().parents[1],
        logs=bench.work,
        name=name,
        timeout=bench.timeout,
        on_spawn=lambda pid: samplers.append(proctree.Sampler(pid, interval).start()),
    )
    for sampler in samplers:
        sampler.stop()
    reap_orphans({bench.server.process.pid})
    result.cpu = children_cpu() - before
    result.wall = got.wall
    result.crawl = clock.crawl_window(bench.clock_file(name))
    result.processes = clock.processes(bench.clock_file(name))
    if samplers:
        result.roles = samplers[0].cpu_by_role()
        result.timeline = [
            (
                s.at,
                s.rss.get("crawler", 0) / 2**20,
                sum(s.rss.get(r, 0) for r in BROWSER_ROLES) / 2**20,
            )
            for s in samplers[0].samples
        ]
    if got.returncode != 0:
        result.error = f"exit {got.returncode}: {got.stderr_tail()}"
        return result
    stats = run_stats(db)
    result.renders = int(stats.get("backcheck/render/ok", 0)) + int(
        stats.get("backcheck/render/failed", 0)
    )
    result.launches = int(stats.get("playwright/browser_count", 0))
    report = cli("report", "backlinks", "--format", "json", "--db", str(db))
    right, wrong = compare(json.loads(report.stdout), bench.truth, rendered=mode != "never")
    result.verdicts = (right, len(bench.truth))
    if wrong:
        first = wrong[0]
        print(f"  {len(wrong)} wrong, e.g. {first}", file=sys.stderr)
    return result


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarize(runs: list[RenderRun]) -> dict[str, Any]:
    medians: dict[str, dict[str, Any]] = {}
    for mode in dict.fromkeys(r.mode for r in runs):
        rows = [r.row() for r in runs if r.mode == mode and r.ok]
        medians[mode] = (
            {
                key: median([row[key] for row in rows if row[key] is not None])
                for key in rows[0]
                if isinstance(rows[0][key], int | float) and key != "run"
            }
            if rows
            else {}
        )
        medians[mode]["runs"] = len(rows)
    summary: dict[str, Any] = {"median": medians, "ok": bool(runs) and all(r.ok for r in runs)}
    never, auto = medians.get("never"), medians.get("auto")
    if never and auto and never.get("runs") and auto.get("runs"):
        summary["auto_vs_never"] = {
            "wall": auto["wall s"] / never["wall s"] - 1,
            "crawl": auto["crawl s"] / never["crawl s"] - 1 if never.get("crawl s") else None,
            "cpu": auto["CPU ms/page"] / never["CPU ms/page"] - 1,
        }
        renders = auto.get("rendered") or 0
        if renders:
            extra = (auto["CPU ms/page"] - never["CPU ms/page"]) * auto["pages"]
            summary["per_render_cpu_ms"] = extra / renders
    return summary


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def table(rows: list[dict[str, Any]]) -> str:
    heads = list(rows[0])
    cells = [heads] + [[_cell(row.get(h)) for h in heads] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(heads))]
    return "\n".join(
        "  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in cells
    )


def timeline_text(run: RenderRun, points: int = 12) -> str:
    """PSS of the crawler and of the browser at `points` moments of the run."""
    if not run.timeline:
        return "no samples"
    step = max(len(run.timeline) // points, 1)
    shown = run.timeline[::step] + ([run.timeline[-1]] if len(run.timeline) % step else [])
    return ", ".join(f"{t:.0f}s {c:.0f}+{b:.0f}" for t, c, b in shown)


def print_report(runs: list[RenderRun], summary: dict[str, Any], context: dict[str, Any]) -> None:
    spec = context["spec"]
    print(
        f"\nrendering benchmark: {spec['pages']} pages on {spec['hosts']} hosts, js share "
        f"{spec['js_share']:g} ({context['js_pages']} JS-only pages), linked {spec['linked']:g}"
        f" (cases: {spec['cases']}), "
        f"server {context['server']}, {os.cpu_count()} CPUs"
    )
    print(table([r.row() for r in runs]))
    rows = [{"mode": m, **v} for m, v in summary["median"].items()]
    if rows and all(len(r) > 2 for r in rows):
        print("\nmedians\n" + table(rows))
    if ratio := summary.get("auto_vs_never"):
        parts = [f"{100 * v:+.1f} % {k}" for k, v in ratio.items() if v is not None]
        met = "met" if ratio["wall"] <= TARGET else "NOT met"
        print(f"\nauto vs never: {', '.join(parts)} (issue: at most +{TARGET:.0%} : {met})")
    if per := summary.get("per_render_cpu_ms"):
        print(f"one rendered page: {per:.0f} ms of CPU (auto's extra CPU / pages rendered)")
    for run in runs:
        browser = run.row()["browser CPU s"]
        if run.renders:
            roles = ", ".join(
                f"{r} {1000 * run.roles.get(r, 0) / run.renders:.0f}" for r in BROWSER_ROLES
            )
            print(
                f"{run.mode} run {run.repeat}: browser side {1000 * browser / run.renders:.0f} ms"
                f" CPU per render ({roles}); {run.launches} browser start(s)"
            )
        if context["timeline"]:
            print(f"  PSS MB (crawler+browser) over time: {timeline_text(run)}")
        if run.error:
            print(f"{run.mode} run {run.repeat} FAILED: {run.error}", file=sys.stderr)
    if not summary["ok"]:
        print("\n!! THIS BENCHMARK DOES NOT COUNT: wrong verdicts or failed runs", file=sys.stderr)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.render",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    web = parser.add_argument_group("the generated web")
    web.add_argument("--pages", type=int, default=2000)
    web.add_argument("--hosts", type=int, default=200)
    web.add_argument("--seed", type=int, default=1)
    web.add_argument("--pool", type=int, default=2000, help="distinct page bodies")
    web.add_argument("--js-share", type=float, default=0.03, help="JS-only bodies (0.03)")
    web.add_argument("--linked", type=float, default=0.30, help="bodies that link (0.30)")
    web.add_argument(
        "--cases", choices=("all", "links"), default="all", help="links: no not-a-link cases"
    )
    web.add_argument("--cache", type=Path, default=default_cache())
    run = parser.add_argument_group("the runs")
    run.add_argument("--modes", default="never,auto", help="comma-separated (never,auto)")
    run.add_argument("--repeat", type=int, default=3)
    run.add_argument("--server", choices=("auto", "nginx", "python"), default="auto")
    run.add_argument("--processes", type=int, help="verify --processes (default: verify's)")
    run.add_argument("-s", "--set", dest="extra", action="append", default=[], metavar="N=V")
    run.add_argument("--interval", type=float, default=0.5, help="seconds between samples")
    run.add_argument("--timeout", type=float, default=3600)
    out = parser.add_argument_group("output")
    out.add_argument("--keep", type=Path)
    out.add_argument("--json-out", type=Path)
    out.add_argument("--timeline", action="store_true", help="print memory over time")
    args = parser.parse_args(argv)
    args.modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    if not args.modes or any(m not in MODES for m in args.modes):
        parser.error(f"--modes: choose among {', '.join(MODES)}")
    return args


def execute(args: argparse.Namespace, work: Path) -> int:
    spec = webgen.WebSpec(
        args.pages,
        args.hosts,
        args.seed,
        args.pool,
        linked=args.linked,
        js_share=args.js_share,
        cases=args.cases,
    )
    data = webgen.cached(spec, args.cache)
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    if not become_subreaper():
        print(
            "note: not a subreaper: orphaned browser processes' CPU is not counted", file=sys.stderr
        )
    truth = load_truth(data / "truth.csv")
    extra = ["--processes", str(args.processes)] if args.processes else []
    overrides = [o for o in OVERRIDES if not o.startswith("BACKCHECK_RENDER=")] + args.extra
    runs: list[RenderRun] = []
    with servers.start(args.server, data / "web", work / "server") as server:
        bench = Bench(data, work, server, spec.pages, overrides, extra, args.timeout, truth)
        for repeat in range(1, args.repeat + 1):
            shift = (repeat - 1) % len(args.modes)
            for mode in args.modes[shift:] + args.modes[:shift]:
                print(f"repeat {repeat}/{args.repeat}: {mode} ...", file=sys.stderr, flush=True)
                runs.append(run_mode(bench, repeat, mode, args.interval))
    summary = summarize(runs)
    context = {
        "spec": manifest["spec"],
        "js_pages": manifest.get("js_only", 0),
        "server": server.kind,
        "overrides": overrides,
        "timeline": args.timeline,
    }
    print_report(runs, summary, context)
    if args.json_out:
        payload = {
            **context,
            "runs": [{**r.row(), "roles": r.roles, "timeline": r.timeline} for r in runs],
            "summary": summary,
        }
        args.json_out.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0 if summary["ok"] else 1


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    measure.main_in_workdir(args.keep, "backcheck-render-", lambda work: execute(args, work))


if __name__ == "__main__":
    main()
