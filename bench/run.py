"""Benchmark `backcheck verify` against a no-op Scrapy spider on a generated web.

    python -m bench.run --pages 2000 [--hosts 200] [--repeat 3] [--server auto|nginx|python]
                        [--processes N] [--spiders LIST] [--brand TERM]
                        [--keep DIR] [--json-out FILE]

Each repeat runs (a) `python -m bench.noop`, with backcheck's settings, (a')
`python -m bench.noop --scrapy-defaults`, Scrapy as shipped with backcheck's
request settings (the issue's "framework ceiling"), (b) `python -m
crawler.cli verify`, which also reads every page for the brand's mentions, and
(b') the same with `-s BACKCHECK_READ_MENTIONS=0`, on the same pages and
overrides, rotating which goes first. Every backcheck run's verdicts are checked
against the generator's truth.csv and its mention pages against mentions.csv: a
fast run that is wrong does not count (exit status 1). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import clock, measure, servers, webgen
from bench.cases import BRAND, SITE
from bench.report import SPIDERS, Result, print_report, summarize
from bench.truth import check_set, compare, expected_mentions, load_truth, mention_pages

REPO = Path(__file__).resolve().parents[1]
#: The overrides every spider gets: no politeness delays on loopback, no target checks,
#: raw HTML only (rendering is bench.render's to measure; `-s BACKCHECK_RENDER=auto` here
#: measures it too, and the truth follows).
OVERRIDES = [
    "AUTOTHROTTLE_ENABLED=0",
    "BACKCHECK_CHECK_TARGETS=0",
    "LOG_LEVEL=WARNING",
    "BACKCHECK_RENDER=never",
]
#: What the verify variants add to the overrides.
VERIFY_SETTINGS = {"backcheck": [], "backcheck-nomentions": ["BACKCHECK_READ_MENTIONS=0"]}
SHOWN_MISMATCHES = 20


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "backcheck-bench"


@dataclass
class Bench:
    data: Path  # the generated folder: web/, backlinks.csv, truth.csv
    work: Path  # databases, logs, server config
    server: servers.Server
    pages: int
    overrides: list[str]
    verify_extra: list[str]
    timeout: float
    truth: dict[str, dict[str, str]] = field(default_factory=dict)
    brand: str = BRAND
    mentions: set[str] | None = None  # the pages that must hold a mention (None: unknown)

    def env(self) -> dict[str, str]:
        """The children's environment: every request goes to the loopback server."""
        env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "all_proxy")}
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            env[name] = self.server.proxy_url
        env.pop("BACKCHECK_DB", None)
        return env

    def settings(self, name: str, extra: list[str] | None = None) -> list[str]:
        """`-s` arguments: the overrides, plus the crawl clock writing to NAME.clock."""
        timed = [
            *self.overrides,
            *(extra or []),
            f"EXTENSIONS={json.dumps(clock_extensions())}",
            f"BENCH_CLOCK_FILE={self.clock_file(name)}",
        ]
        return [arg for value in timed for arg in ("-s", value)]

    def clock_file(self, name: str) -> Path:
        return self.work / f"{name}.clock"


def clock_extensions() -> dict[str, int]:
    """The project's EXTENSIONS plus bench.clock.CrawlClock (an override replaces the dict)."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    return {**settings.getdict("EXTENSIONS"), "bench.clock.CrawlClock": 0}


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """backcheck's CLI for the unmeasured steps (init, import, report)."""
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise SystemExit(f"backcheck {args[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done


def verify_has_option(option: str) -> bool:
    return option in cli("verify", "--help").stdout


def measured(bench: Bench, repeat: int, spider: str, cmd: list[str]) -> Result:
    """Run a measured child; the server's CPU time and the crawl window come along."""
    name = f"{spider}-{repeat}"
    bench.clock_file(name).unlink(missing_ok=True)  # the clock appends; --keep may reuse DIR
    before = bench.server.cpu_seconds()
    got = measure.run(
        cmd, env=bench.env(), cwd=REPO, logs=bench.work, name=name, timeout=bench.timeout
    )
    result = Result(repeat, spider, bench.pages, got, bench.server.cpu_seconds() - before)
    result.crawl = clock.crawl_window(bench.clock_file(name))
    result.processes = clock.processes(bench.clock_file(name))
    if errors := bench.server.new_errors():
        return result.failed(f"the server failed {len(errors)} times, first: {errors[0][:300]}")
    return result


def run_noop(bench: Bench, repeat: int, spider: str = "noop") -> Result:
    sources = str(bench.data / "backlinks.csv")
    cmd = [sys.executable, "-m", "bench.noop", sources, *bench.settings(f"{spider}-{repeat}")]
    if spider == "noop-defaults":
        cmd.append("--scrapy-defaults")
    result = measured(bench, repeat, spider, cmd)
    got = result.measured
    if result.error:
        return result
    if got.returncode != 0:
        return result.failed(f"exit {got.returncode}: {got.stderr_tail()}")
    summary = json.loads(got.stdout.strip().splitlines()[-1])
    if summary["failures"] or summary["stats"]["finish_reason"] != "finished":
        return result.failed(f"{summary['failures']} failed requests: {summary['stats']}")
    return result


def run_backcheck(
    bench: Bench, repeat: int, spider: str = "backcheck"
) -> tuple[Result, list[dict]]:
    db = bench.work / f"{spider}-{repeat}.db"
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)  # a fresh database for every repeat
    brand = ["--brand", bench.brand] if bench.brand else []
    cli("init", "--site", SITE, *brand, "--db", str(db))
    imported = cli("import", str(bench.data / "backlinks.csv"), "--db", str(db))
    if f"imported {bench.pages}," not in imported.stdout:
        raise SystemExit(f"import did not take every backlink: {imported.stdout}")
    cmd = [
        sys.executable,
        "-m",
        "crawler.cli",
        "verify",
        "--new-run",
        "--json",
        *bench.settings(f"{spider}-{repeat}", VERIFY_SETTINGS[spider]),
        *bench.verify_extra,
        "--db",
        str(db),
    ]
    result = measured(bench, repeat, spider, cmd)
    got = result.measured
    if result.error:
        return result, []
    if got.returncode != 0:
        return result.failed(f"exit {got.returncode}: {got.stderr_tail()}"), []
    summary = json.loads(got.stdout.strip().splitlines()[-1])
    if summary["state"] != "finished":  # verdicts decide; a wrong run state is worth a word
        result.warning = f"the run ended {summary['state']!r} ({summary['pending']} pending)"
    report = cli("report", "backlinks", "--format", "json", "--db", str(db))
    right, wrong = compare(json.loads(report.stdout), bench.truth, renders(bench.overrides))
    result.verdicts = (right, len(bench.truth))
    want = set() if VERIFY_SETTINGS[spider] else bench.mentions
    if want is not None:
        result.mentions = check_set(mention_pages(db, SITE), want)
        if not result.mentions.ok:
            result.failed(result.mentions.describe("mention pages"))
    return result, wrong


def run_all(
    bench: Bench, repeats: int, spiders: tuple[str, ...] = SPIDERS
) -> tuple[list[Result], list[dict]]:
    results: list[Result] = []
    mismatches: list[dict] = []
    for repeat in range(1, repeats + 1):
        shift = (repeat - 1) % len(spiders)
        for spider in spiders[shift:] + spiders[:shift]:
            print(f"repeat {repeat}/{repeats}: {spider} ...", file=sys.stderr, flush=True)
            if spider not in VERIFY_SETTINGS:
                results.append(run_noop(bench, repeat, spider))
                continue
            result, wrong = run_backcheck(bench, repeat, spider)
            results.append(result)
            mismatches += [{"repeat": repeat, **row} for row in wrong]
    return results, mismatches


def smoke_test(server: servers.Server, truth: dict[str, dict[str, str]]) -> None:
    """A page answers 200, a missing page 404 and a redirect 301, or nothing is measured."""
    first: dict[str, str] = {}
    for source, row in truth.items():
        kind = row["case"] if row["case"] == "missing" else row["case"].partition(":")[0]
        first.setdefault(kind if kind in ("missing", "redirect") else "page", source)
    for kind, source in first.items():
        want = {"page": 200, "missing": 404, "redirect": 301}[kind]
        if (got := server.get(source)) != want:
            raise servers.ServerError(f"{source} ({kind}): the server answered {got}, not {want}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    web = parser.add_argument_group("the generated web")
    web.add_argument("--pages", type=int, default=2000, help="pages to verify (default 2000)")
    web.add_argument("--hosts", type=int, default=200, help="host names (default 200)")
    web.add_argument("--seed", type=int, default=1)
    web.add_argument("--pool", type=int, default=2000, help="distinct page bodies (default 2000)")
    web.add_argument(
        "--mentions", type=float, default=0.10, help="bodies with a brand sentence (default 0.10)"
    )
    web.add_argument("--cache", type=Path, default=default_cache(), help="where webs are kept")
    run = parser.add_argument_group("the runs")
    run.add_argument("--repeat", type=int, default=3, help="runs of each spider (default 3)")
    run.add_argument("--server", choices=("auto", "nginx", "python"), default="auto")
    run.add_argument("--processes", type=int, help="passed to verify if it has --processes")
    run.add_argument(
        "--spiders",
        type=spider_list,
        default=SPIDERS,
        help=f"which to run, comma-separated (default {','.join(SPIDERS)})",
    )
    run.add_argument(
        "--brand",
        default=BRAND,
        help=f"the site's brand for `init --brand` (default {BRAND!r}; '' for none)",
    )
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


def linked_pages(overrides: list[str]) -> bool:
    """BACKCHECK_MENTIONS_ON_LINKING_PAGES as verify will see it with these overrides."""
    from crawler import runner

    settings = runner.build_settings(runner.parse_overrides(overrides))
    return settings.getbool("BACKCHECK_MENTIONS_ON_LINKING_PAGES", True)


def renders(overrides: list[str]) -> bool:
    """Whether verify renders pages (BACKCHECK_RENDER not `never`) with these overrides."""
    from crawler import runner

    settings = runner.build_settings(runner.parse_overrides(overrides))
    return str(settings.get("BACKCHECK_RENDER") or "never").strip().lower() != "never"


def spider_list(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    unknown = [name for name in names if name not in SPIDERS]
    if unknown or not any(name in VERIFY_SETTINGS for name in names):
        raise argparse.ArgumentTypeError(
            f"choose among {', '.join(SPIDERS)}, at least one backcheck variant: {text!r}"
        )
    return names


def verify_extra(processes: int | None) -> tuple[list[str], str | None]:
    if processes is None:
        return [], None
    if verify_has_option("--processes"):
        return ["--processes", str(processes)], None
    return [], f"`verify` has no --processes option: --processes {processes} ignored"


def execute(args: argparse.Namespace, work: Path) -> int:
    spec = webgen.WebSpec(args.pages, args.hosts, args.seed, args.pool, mentions=args.mentions)
    print(f"web {spec.key()} in {args.cache} ...", file=sys.stderr, flush=True)
    data = webgen.cached(spec, args.cache)
    extra, note = verify_extra(args.processes)
    if note:
        print(f"note: {note}", file=sys.stderr)
    truth = load_truth(data / "truth.csv")
    mentions = expected_mentions(data / "mentions.csv", args.brand, linked_pages(args.extra))
    if mentions is None:
        note = (note + "; " if note else "") + "brand differs from the planted one: "
        note += "mention pages not checked"
        print(f"note: {note}", file=sys.stderr)
    with servers.start(args.server, data / "web", work / "server") as server:
        smoke_test(server, truth)
        overrides = [*OVERRIDES, *args.extra]
        bench = Bench(
            data, work, server, spec.pages, overrides, extra, args.timeout, truth, args.brand
        )
        bench.mentions = mentions
        results, mismatches = run_all(bench, args.repeat, args.spiders)
    summary = summarize(results)
    context = {
        "spec": asdict(spec),
        "web": str(data),
        "server": server.kind,
        "overrides": bench.overrides,
        "verify_extra": extra,
        "brand": args.brand,
        "expected_mention_pages": None if mentions is None else len(mentions),
        "note": note,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    print_report(results, summary, mismatches, context, SHOWN_MISMATCHES)
    if args.json_out:
        payload = {
            **context,
            "runs": [r.as_dict() for r in results],
            "summary": summary,
            "mismatches": mismatches,
        }
        args.json_out.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0 if summary["ok"] else 1


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    measure.main_in_workdir(args.keep, "backcheck-bench-", lambda work: execute(args, work))


if __name__ == "__main__":
    main()
