"""Benchmark results: one row per measured run, medians per spider, and the printed report."""

from __future__ import annotations

import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.measure import Measured

if TYPE_CHECKING:
    from bench.truth import SetCheck

#: The baselines and backcheck; see bench.noop for what each baseline runs with.
#: backcheck-nomentions is verify with `-s BACKCHECK_READ_MENTIONS=0`.
SPIDERS = ("noop", "noop-defaults", "backcheck", "backcheck-nomentions")
#: (key in summarize()'s output, baseline, spider measured against it).
RATIOS = (
    ("ratio", "noop", "backcheck"),
    ("ratio_defaults", "noop-defaults", "backcheck"),
    ("ratio_mentions", "backcheck-nomentions", "backcheck"),
)
#: (key, heading, format) of the table's columns.
COLUMNS = (
    ("repeat", "run", "{}"),
    ("spider", "spider", "{}"),
    ("processes", "procs", "{}"),
    ("pages", "pages", "{}"),
    ("wall", "wall s", "{:.2f}"),
    ("crawl", "crawl s", "{:.2f}"),
    ("pages_per_s", "pages/s", "{:.1f}"),
    ("crawl_pages_per_s", "pages/s crawl", "{:.1f}"),
    ("cpu_ms_per_page", "CPU ms/page", "{:.2f}"),
    ("server_cpu_ms_per_page", "server CPU ms/page", "{:.3f}"),
    ("rss_mb", "peak RSS MB", "{:.0f}"),
    ("verdicts_shown", "verdicts", "{}"),
    ("mentions_shown", "mention pages", "{}"),
)
MEDIAN_KEYS = (
    "wall",
    "crawl",
    "pages_per_s",
    "crawl_pages_per_s",
    "cpu_ms_per_page",
    "server_cpu_ms_per_page",
    "rss_mb",
)


@dataclass
class Result:
    """One measured run of one spider."""

    repeat: int
    spider: str
    pages: int
    measured: Measured
    server_cpu: float  # seconds the web server spent meanwhile
    crawl: float | None = None  # Scrapy's elapsed_time_seconds: spider opened to closed
    processes: int = 0  # crawler processes seen by bench.clock
    verdicts: tuple[int, int] | None = None  # (right, total), backcheck only
    mentions: SetCheck | None = None  # pages with a mention, against the truth
    error: str | None = None  # the run does not count
    warning: str | None = None  # the run counts, but something looked wrong

    def failed(self, error: str) -> Result:
        self.error = error
        return self

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and (self.verdicts is None or self.verdicts[0] == self.verdicts[1])
            and (self.mentions is None or self.mentions.ok)
        )

    def metrics(self) -> dict[str, Any]:
        m, pages = self.measured, self.pages
        return {
            "repeat": self.repeat,
            "spider": self.spider,
            "processes": self.processes,
            "pages": pages,
            "wall": m.wall,
            "crawl": self.crawl,
            "pages_per_s": pages / m.wall,
            "crawl_pages_per_s": pages / self.crawl if self.crawl else None,
            "cpu_ms_per_page": 1000 * m.cpu / pages,
            "server_cpu_ms_per_page": 1000 * self.server_cpu / pages,
            "rss_mb": m.max_rss_kb / 1024,
            "verdicts_shown": f"{self.verdicts[0]}/{self.verdicts[1]}" if self.verdicts else "",
            "mentions_shown": self.mentions.shown() if self.mentions else "",
        }

    def as_dict(self) -> dict[str, Any]:
        m = self.measured
        return {
            **self.metrics(),
            "cpu_user": m.user,
            "cpu_system": m.system,
            "max_rss_kb": m.max_rss_kb,
            "server_cpu": self.server_cpu,
            "returncode": m.returncode,
            "verdicts_right": self.verdicts[0] if self.verdicts else None,
            "verdicts_total": self.verdicts[1] if self.verdicts else None,
            "mention_pages_right": self.mentions.right if self.mentions else None,
            "mention_pages_expected": self.mentions.expected if self.mentions else None,
            "mention_pages_extra": len(self.mentions.extra) if self.mentions else None,
            "error": self.error,
            "warning": self.warning,
            "ok": self.ok,
        }


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return b / a if a and b is not None else None


def _ratios(baseline: dict[str, float | None], backcheck: dict[str, float | None]) -> dict:
    return {
        key: _ratio(baseline[key], backcheck[key])
        for key in ("pages_per_s", "crawl_pages_per_s", "cpu_ms_per_page")
    }


def paired(results: list[Result], baseline: str, spider: str) -> dict[str, Any] | None:
    """The b/a ratios of each repeat where both ran and counted, and their medians.

    Both run one after the other in every repeat: on a machine whose speed drifts, the
    median of these pairs is steadier than the ratio of two medians.
    """
    by_repeat: dict[int, dict[str, dict[str, Any]]] = {}
    for result in results:
        if result.ok and result.spider in (baseline, spider):
            by_repeat.setdefault(result.repeat, {})[result.spider] = result.metrics()
    pairs = [runs for runs in by_repeat.values() if len(runs) == 2]
    if not pairs:
        return None
    keys = ("pages_per_s", "crawl_pages_per_s", "cpu_ms_per_page")
    each = {key: [_ratio(runs[baseline][key], runs[spider][key]) for runs in pairs] for key in keys}
    return {"median": {key: _median(values) for key, values in each.items()}, "pairs": each}


def summarize(
    results: list[Result], ratios: tuple[tuple[str, str, str], ...] = RATIOS
) -> dict[str, Any]:
    """Medians per spider over the runs that count, the b/a ratios, and the verdict tally.

    A run counts when it succeeded and, for backcheck, every verdict (and mention
    page) was right. A spider that did not run has no medians and no ratios.
    """
    medians: dict[str, dict[str, float | None]] = {}
    for spider in dict.fromkeys(r.spider for r in results):
        rows = [r.metrics() for r in results if r.spider == spider and r.ok]
        medians[spider] = {key: _median([row[key] for row in rows]) for key in MEDIAN_KEYS}
        medians[spider]["runs"] = len(rows)
    checked = [r.verdicts for r in results if r.verdicts]
    worst = min(checked, key=lambda v: v[0] - v[1]) if checked else None
    found = {
        key: _ratios(medians[base], medians[spider])
        for key, base, spider in ratios
        if base in medians and spider in medians
    }
    pairs = {
        f"{key}_paired": found_pairs
        for key, base, spider in ratios
        if (found_pairs := paired(results, base, spider)) is not None
    }
    return {
        "median": medians,
        **found,
        **pairs,
        "verdicts": {"right": worst[0], "total": worst[1]} if worst else None,
        "ok": bool(results) and all(r.ok for r in results) and worst is not None,
    }


def slower_text(ratio: dict[str, float | None]) -> str:
    """`+12.3 % wall time, +11.0 % crawl time, +15.2 % CPU` from a pages/s and CPU ratio."""
    parts = []
    for key, what in (("pages_per_s", "wall time"), ("crawl_pages_per_s", "crawl time")):
        if value := ratio.get(key):
            parts.append(f"{100 * (1 / value - 1):+.1f} % {what}")
    if value := ratio.get("cpu_ms_per_page"):
        parts.append(f"{100 * (value - 1):+.1f} % CPU")
    return ", ".join(parts) or "no figures"


def _cell(fmt: str, value: object) -> str:
    return "-" if value is None or value == "" else fmt.format(value)


def table(rows: list[dict[str, Any]]) -> str:
    cells = [[heading for _, heading, _ in COLUMNS]]
    cells += [[_cell(fmt, row.get(key)) for key, _, fmt in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in cells
    )


def print_ratios(summary: dict[str, Any], ratios: tuple[tuple[str, str, str], ...]) -> None:
    for key, baseline, spider in ratios:
        ratio = summary.get(key)
        if ratio is None:
            continue
        print(
            f"ratio {spider}/{baseline}: pages/s {_cell('{:.2f}', ratio['pages_per_s'])} (wall), "
            f"{_cell('{:.2f}', ratio['crawl_pages_per_s'])} (crawl); "
            f"CPU per page {_cell('{:.2f}', ratio['cpu_ms_per_page'])}x"
        )


def verdict_text(verdict: dict[str, str]) -> str:
    """`lost/noindex follow=false (meta)`, or `no verdict` for a backlink never checked."""
    if not verdict.get("status"):
        return "no verdict"
    text = verdict["status"] + (f"/{verdict['reason']}" if verdict["reason"] else "")
    if verdict["follow"]:
        text += f" follow={verdict['follow']}"
    return text + (f" ({verdict['nofollow_source']})" if verdict["nofollow_source"] else "")


def print_mismatches(mismatches: list[dict], shown: int) -> None:
    """Wrong verdicts grouped by case, then the first `shown` of them one by one."""
    if not mismatches:
        return
    groups = Counter(
        (row["case"], verdict_text(row["expected"]), verdict_text(row["got"])) for row in mismatches
    )
    print(f"\nwrong verdicts: {len(mismatches)} (all runs), by case:")
    for (case, want, got), count in groups.most_common():
        print(f"  {count:6d}  {case}: expected {want}, got {got}")
    for row in mismatches[:shown]:
        print(
            f"  run {row['repeat']} {row['source_url']} [{row['case']}]: "
            f"expected {verdict_text(row['expected'])}, got {verdict_text(row['got'])}"
        )
    if len(mismatches) > shown:
        print(f"  ... and {len(mismatches) - shown} more (see --json-out)")


def print_report(
    results: list[Result],
    summary: dict[str, Any],
    mismatches: list[dict],
    context: dict[str, Any],
    shown: int,
) -> None:
    spec = context["spec"]
    print(
        f"\nbackcheck benchmark: {spec['pages']} pages on {spec['hosts']} hosts, "
        f"server {context['server']}, {context['machine']['cpus']} CPUs"
    )
    print(f"overrides: {' '.join(context['overrides'])} {' '.join(context['verify_extra'])}")
    print(table([r.metrics() for r in results]))
    medians = [
        {**m, "spider": s, "repeat": f"median of {m['runs']}"} for s, m in summary["median"].items()
    ]
    print("\n" + table(medians))
    print()
    print_ratios(summary, RATIOS)
    if mentions := summary.get("ratio_mentions"):
        print(f"mention matching: {slower_text(mentions)} than without (issue: at most 10 %)")
    if pairs := summary.get("ratio_mentions_paired"):
        cpu = ", ".join(_cell("{:.2f}", v) for v in pairs["pairs"]["cpu_ms_per_page"])
        print(
            f"  median of the {len(pairs['pairs']['cpu_ms_per_page'])} pairs (each repeat runs "
            f"both, one after the other): {slower_text(pairs['median'])}; CPU ratios {cpu}"
        )
    verdicts = summary["verdicts"]
    if verdicts:
        print(f"verdicts: {verdicts['right']}/{verdicts['total']} right (worst run)")
    for result in results:
        if result.warning:
            print(f"warning: {result.spider} run {result.repeat}: {result.warning}")
        if result.error:
            print(f"\n{result.spider} run {result.repeat} FAILED: {result.error}", file=sys.stderr)
    print_mismatches(mismatches, shown)
    if not summary["ok"]:
        print(
            "\n" + "!" * 72 + "\n!! THIS BENCHMARK DOES NOT COUNT: wrong verdicts or failed runs"
            "\n" + "!" * 72,
            file=sys.stderr,
        )
