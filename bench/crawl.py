"""Benchmark `backcheck crawl` against a no-op Scrapy spider that follows the same links.

    python -m bench.crawl --pages 2000 [--per-host 200] [--repeat 3] [--processes 1,2]
                          [--spiders noop-follow,crawl] [--server auto|nginx|python]
                          [--keep DIR] [--json-out FILE]

The web is `bench.crawlweb`'s (hosts with robots.txt, sitemaps and internal links).
Each repeat runs, in an order that rotates from one repeat to the next,
`python -m bench.crawlnoop` (Scrapy's default components following the same links:
the noop-follow baseline) and `python -m crawler.cli crawl --processes N` for each N
of --processes. Every run is checked against the generator's truth: the baseline's
HTML pages per host, and for backcheck its `--json` line per domain and every
backlink of `report backlinks` with its verdict. A fast run that is wrong does not
count (exit status 1). See bench/README.md, "Crawl benchmark".
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import crawlplan, crawlweb, measure, servers
from bench.cases import BRAND, COMPETITOR, SITE
from bench.report import Result, print_ratios, summarize, table
from bench.run import OVERRIDES, Bench, cli, default_cache, measured
from bench.truth import VERDICT_COLUMNS, shown
from verifier.verdict.urls import identity_key

BASELINE = "noop-follow"
#: The leaner baseline (`bench.crawlnoop --extractor xpath`), run only when asked for.
LEAN = "noop-follow-xpath"
SHOWN_MISMATCHES = 10


@dataclass
class CrawlBench(Bench):
    """`bench.run.Bench` (server, environment, settings) plus the crawl web's truth."""

    spec: crawlplan.CrawlSpec = field(default_factory=crawlplan.CrawlSpec)
    hosts: list[dict[str, Any]] = field(default_factory=list)  # crawl_truth.json's rows
    backlinks: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)


def variants(spiders: list[str], processes: list[int]) -> list[str]:
    names = [name for name in (BASELINE, LEAN) if name in spiders]
    return names + ([f"crawl-p{n}" for n in processes] if "crawl" in spiders else [])


def ratios(names: list[str]) -> tuple[tuple[str, str, str], ...]:
    """crawl-p1 against the baselines, and every other process count against crawl-p1."""
    found = [("ratio", BASELINE, "crawl-p1"), ("ratio_lean", LEAN, "crawl-p1")]
    found += [
        (f"ratio_{n}", "crawl-p1", n) for n in names if n.startswith("crawl-p") and n != "crawl-p1"
    ]
    return tuple(found)


def load_backlinks(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    return {(identity_key(r["source_url"]), identity_key(r["target_url"])): r for r in rows}


def check_domains(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> list[str]:
    """The domains whose `--json` line differs from the truth, described."""
    rows = {row["domain"]: row for row in got}
    wrong = []
    for expected in want:
        row = rows.pop(expected["domain"], None)
        if row != expected:
            wrong.append(f"{expected['domain']}: expected {expected}, got {row}")
    return wrong + [f"{domain}: not in the list, got {row}" for domain, row in rows.items()]


def check_backlinks(
    rows: list[dict[str, Any]], truth: dict[tuple[str, str], dict[str, str]]
) -> tuple[int, list[str]]:
    """(right, problems): every expected backlink with its verdict, and nothing else."""
    got = {(identity_key(r["source_url"]), identity_key(r["target_url"] or "")): r for r in rows}
    right, problems = 0, []
    for key, want in truth.items():
        row = got.pop(key, None)
        expected = {c: want[c] for c in VERDICT_COLUMNS}
        actual = {c: shown(row.get(c)) for c in VERDICT_COLUMNS} if row else None
        if actual == expected:
            right += 1
        else:
            problems.append(f"{key[0]} -> {key[1]} [{want['case']}]: {expected}, got {actual}")
    problems += [f"unexpected backlink {key[0]} -> {key[1]}" for key in got]
    return right, problems


def run_noop(bench: CrawlBench, repeat: int, name: str = BASELINE) -> Result:
    limits = ["--max-pages", str(bench.spec.max_pages), "--max-depth", str(crawlplan.MAX_DEPTH)]
    cmd = [sys.executable, "-m", "bench.crawlnoop", str(bench.data / "domains.txt"), *limits]
    cmd += ["--extractor", "xpath" if name == LEAN else "linkextractor"]
    result = measured(bench, repeat, name, [*cmd, *bench.settings(f"{name}-{repeat}")])
    got = result.measured
    if result.error:
        return result
    if got.returncode != 0:
        return result.failed(f"exit {got.returncode}: {got.stderr_tail()}")
    summary = json.loads(got.stdout.strip().splitlines()[-1])
    if summary["failures"] or summary["stats"]["finish_reason"] != "finished":
        return result.failed(f"{summary['failures']} failed requests: {summary['stats']}")
    want = {row["domain"]: row["pages"] for row in bench.hosts}
    if summary["per_host"] != want:
        wrong = [h for h in want if summary["per_host"].get(h) != want[h]]
        return result.failed(
            f"HTML pages per host differ on {len(wrong)} hosts, e.g. "
            + ", ".join(f"{h}: {summary['per_host'].get(h)} not {want[h]}" for h in wrong[:3])
        )
    return result


def run_crawl(
    bench: CrawlBench, repeat: int, name: str, processes: int
) -> tuple[Result, list[str]]:
    db = bench.work / f"{name}-{repeat}.db"
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)  # a fresh database for every repeat
    cli("init", "--site", SITE, "--brand", BRAND, "--competitor", COMPETITOR, "--db", str(db))
    cmd = [
        *(sys.executable, "-m", "crawler.cli", "crawl", str(bench.data / "domains.txt")),
        *("--max-pages", str(bench.spec.max_pages), "--max-depth", str(crawlplan.MAX_DEPTH)),
        *("--json", "--new-run", "--processes", str(processes)),
        *bench.settings(f"{name}-{repeat}"),
        *("--db", str(db)),
    ]
    result = measured(bench, repeat, name, cmd)
    got = result.measured
    if result.error:
        return result, []
    if got.returncode != 0:
        return result.failed(f"exit {got.returncode}: {got.stderr_tail()}"), []
    problems = check_domains(json.loads(got.stdout), bench.hosts)
    report = cli("report", "backlinks", "--format", "json", "--db", str(db))
    right, wrong = check_backlinks(json.loads(report.stdout), bench.backlinks)
    result.verdicts = (right, len(bench.backlinks))
    problems += wrong
    if problems:
        result.failed(f"{len(problems)} differences from the truth, first: {problems[0]}")
    return result, problems


def run_all(
    bench: CrawlBench, repeats: int, names: list[str]
) -> tuple[list[Result], list[dict[str, Any]]]:
    results: list[Result] = []
    problems: list[dict[str, Any]] = []
    for repeat in range(1, repeats + 1):
        shift = (repeat - 1) % len(names)
        for name in names[shift:] + names[:shift]:
            print(f"repeat {repeat}/{repeats}: {name} ...", file=sys.stderr, flush=True)
            if name in (BASELINE, LEAN):
                results.append(run_noop(bench, repeat, name))
                continue
            result, wrong = run_crawl(bench, repeat, name, int(name.removeprefix("crawl-p")))
            results.append(result)
            problems += [{"repeat": repeat, "spider": name, "problem": p} for p in wrong]
    return results, problems


def smoke_test(server: servers.Server, spec: crawlplan.CrawlSpec) -> None:
    """A host of each kind answers its pages, robots.txt and sitemaps with sensible types."""
    for k in range(min(spec.hosts, len(crawlplan.HOST_KINDS))):
        host, kind = crawlplan.host_name(k), crawlplan.host_kind(k)
        robots = (404, "") if kind == "sitemap" else (200, "text/plain")
        paths = {"/": (200, "text/html"), crawlplan.GONE: (404, ""), "/robots.txt": robots}
        for path in crawlplan.sitemap_files(host, kind, spec):
            paths["/" + path] = (200, "application/gzip" if path.endswith(".gz") else "xml")
        for path, (status, ctype) in paths.items():
            got, got_type = server.answer(f"http://{host}{path}")
            if got != status or ctype not in got_type:
                raise servers.ServerError(
                    f"http://{host}{path}: the server answered {got} {got_type!r}, "
                    f"not {status} {ctype!r}"
                )


def process_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected a list such as 1,2: {text!r}")
    return sorted(set(values))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.crawl",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    web = parser.add_argument_group("the generated web")
    web.add_argument("--pages", type=int, default=2000, help="pages in all (default 2000)")
    web.add_argument("--per-host", type=int, default=200, help="pages per host (default 200)")
    web.add_argument("--seed", type=int, default=1)
    web.add_argument("--pool", type=int, default=2000, help="distinct page bodies (default 2000)")
    web.add_argument("--cache", type=Path, default=default_cache(), help="where webs are kept")
    run = parser.add_argument_group("the runs")
    run.add_argument("--repeat", type=int, default=3, help="runs of each spider (default 3)")
    run.add_argument("--processes", type=process_list, default=[1, 2], help="default 1,2")
    run.add_argument(
        "--spiders",
        type=lambda text: [s.strip() for s in text.split(",") if s.strip()],
        default=[BASELINE, "crawl"],
        help=f"among {BASELINE}, {LEAN}, crawl (default {BASELINE},crawl)",
    )
    run.add_argument("--server", choices=("auto", "nginx", "python"), default="auto")
    run.add_argument(
        "-s",
        "--set",
        dest="extra",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another Scrapy override for every spider",
    )
    run.add_argument("--timeout", type=float, default=3600, help="seconds per child (killed)")
    out = parser.add_argument_group("output")
    out.add_argument("--keep", type=Path, help="keep databases, logs and server config here")
    out.add_argument("--json-out", type=Path, help="also write the results as JSON")
    return parser.parse_args(argv)


def print_report(
    results: list[Result],
    summary: dict[str, Any],
    problems: list[dict[str, Any]],
    context: dict[str, Any],
) -> None:
    spec = context["spec"]
    print(
        f"\nbackcheck crawl benchmark: {context['pages']} pages on {context['hosts']} hosts "
        f"({spec['per_host']} each), server {context['server']}, {context['machine']['cpus']} CPUs"
    )
    print(f"overrides: {' '.join(context['overrides'])}")
    print(table([r.metrics() for r in results]))
    medians = [
        {**m, "spider": s, "repeat": f"median of {m['runs']}"} for s, m in summary["median"].items()
    ]
    print("\n" + table(medians) + "\n")
    print_ratios(summary, context["ratios"])
    if verdicts := summary["verdicts"]:
        print(f"backlinks: {verdicts['right']}/{verdicts['total']} right (worst run)")
    for result in results:
        if result.error:
            print(f"\n{result.spider} run {result.repeat} FAILED: {result.error}", file=sys.stderr)
    for problem in problems[:SHOWN_MISMATCHES]:
        print(
            f"  run {problem['repeat']} {problem['spider']}: {problem['problem']}", file=sys.stderr
        )
    if not summary["ok"]:
        print(
            "\n" + "!" * 72 + "\n!! THIS BENCHMARK DOES NOT COUNT: wrong results or failed runs"
            "\n" + "!" * 72,
            file=sys.stderr,
        )


def execute(args: argparse.Namespace, work: Path) -> int:
    spec = crawlplan.CrawlSpec(args.pages, args.per_host, args.seed, args.pool)
    print(f"web {spec.key()} in {args.cache} ...", file=sys.stderr, flush=True)
    data = crawlweb.cached(spec, args.cache)
    truth = json.loads((data / "crawl_truth.json").read_text(encoding="utf-8"))
    names = variants(args.spiders, args.processes)
    if not names:
        raise SystemExit(f"--spiders: choose among {BASELINE}, {LEAN}, crawl")
    with servers.start(args.server, data / "web", work / "server") as server:
        smoke_test(server, spec)
        overrides = [*OVERRIDES, *args.extra]
        pages = sum(row["pages"] for row in truth["hosts"])
        bench = CrawlBench(data, work, server, pages, overrides, [], args.timeout)
        bench.spec, bench.hosts = spec, truth["hosts"]
        bench.backlinks = load_backlinks(data / "crawl_backlinks.csv")
        results, problems = run_all(bench, args.repeat, names)
    found = ratios(names)
    summary = summarize(results, found)
    summary["ok"] = bool(results) and all(r.ok for r in results)
    context = {
        "spec": asdict(spec),
        "web": str(data),
        "pages": bench.pages,
        "hosts": spec.hosts,
        "server": server.kind,
        "overrides": bench.overrides,
        "ratios": found,
        "load_average": os.getloadavg(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    print_report(results, summary, problems, context)
    if args.json_out:
        payload = {
            **context,
            "runs": [r.as_dict() for r in results],
            "summary": summary,
            "problems": problems,
        }
        args.json_out.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0 if summary["ok"] else 1


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    measure.main_in_workdir(args.keep, "backcheck-crawl-bench-", lambda work: execute(args, work))


if __name__ == "__main__":
    main()
