"""Time `report referrals`, and the cost of referral candidates in the other reports, at scale.

    python -m bench.referrals_scale DB [--lines 100000000] [--reuse] [--json-out FILE]

Issue #11: `report referrals` answers in under 2 s on the 1M-backlink / 10M-check database
of bench/reports_scale.py with 100M log lines' worth of daily aggregates. This script

1. builds DB with `bench.reports_scale.build` (1,000,000 backlinks, 10 runs) unless
   `--reuse` finds it;
2. adds the referral traffic of `--lines` log lines as `import --format access-log` would
   store it (see `add_referrals`): daily counts per referring page for a year, from logs
   and, for a fifth of the pages, from GA4 too; 404 hits; backlink candidates added by
   `verifier.store.referrals.settle`, then given the verdicts `verify` would (spam, live,
   or not checked yet);
3. times every variant of `report referrals` as `bench.reports_scale` times a report
   (fresh connection, `run_report`, `render_json`, best of 3), and each report that leaves
   candidates out as shipped and with that filter emptied (A/B, alternated, best of 6
   each), to price it.

The exit status is 1 when a `report referrals` variant that is not output-bound takes 2 s
or more. Not part of the test suite. See bench/README.md ("Referral reports at scale").
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sqlite3
import sys
import time
from pathlib import Path
from random import Random
from typing import Any

from bench.reports_scale import (
    SITE,
    Variant,
    build,
    ours,
    progress,
    time_variant,
)
from verifier import reports
from verifier.reports.referrals import CANDIDATE_IDS
from verifier.store import referrals, storage

SEED = 11
DAYS = 365
#: Of a log's lines, the share that are referral visits (bench/logs.py's mix: 30 % page
#: views, 15 % of them from another site's page or an origin).
VISIT_SHARE = 0.045
PAGES, ORIGINS, KNOWN_SHARE, GA4_SHARE = 60_000, 8_000, 0.5, 0.2


def _zipf_counts(rng: Random, total: int, n: int) -> list[int]:
    weights = [1 / (rank**1.1) for rank in range(1, n + 1)]
    scale = total / sum(weights)
    counts = [max(1, int(w * scale)) for w in weights]
    rng.shuffle(counts)
    return counts


def _days(rng: Random, visits: int, end: int) -> dict[str, int]:
    """`visits` spread over the days of the last year (one row per day with visits)."""
    spread: dict[str, int] = {}
    for _ in range(min(visits, 600)):
        day = time.strftime("%Y-%m-%d", time.gmtime(end - rng.randrange(DAYS) * 86400))
        spread[day] = spread.get(day, 0) + 1
    if visits > 600:  # the rest in proportion
        extra = visits - 600
        for day in list(spread):
            spread[day] += extra * spread[day] // 600
    return spread


def add_referrals(path: Path, lines: int) -> dict[str, int]:
    """Store the referral traffic of `lines` log lines; returns what was added."""
    rng = Random(SEED)
    db = storage.open_db(path)
    known = [
        row[0]
        for row in db.execute(
            "select source_url from backlinks where site = ? and candidate is null", [SITE]
        )
    ]
    pages = rng.sample(known, min(len(known), int(PAGES * KNOWN_SHARE)))
    pages += [f"https://ref{n % 9000}.example/post-{n}" for n in range(PAGES - len(pages))]
    origins = [f"https://origin{n}.example/" for n in range(ORIGINS)]
    visits = _zipf_counts(rng, int(lines * VISIT_SHARE), len(pages) + len(origins))
    end = int(time.time())
    from verifier.importers.referrers import classify

    rows = 0
    with storage.writing(db):
        for number, url in enumerate(pages + origins):
            ref = classify(url, SITE)
            meta = {ref.key: (ref.url, ref.domain, ref.kind.value == "origin")}
            for source, share in (("log", 1.0), ("ga4", 0.8)):
                if source == "ga4" and rng.random() >= GA4_SHARE:
                    continue
                days = _days(rng, max(1, int(visits[number] * share)), end)
                counts = {(ref.key, day, day): n for day, n in days.items()}
                broken = {}
                if source == "log" and number < len(pages) and rng.random() < 0.03:
                    target = f"https://{SITE}/old/page-{number % 40}"
                    day = min(days)
                    broken = {(ref.key, target, target): (1 + number % 5, day, day)}
                referrals.add_visits(db, SITE, source, counts, meta, broken)
                rows += len(counts)
        added = referrals.settle(db, SITE, "log", "bench.log")
        added += referrals.settle(db, SITE, "ga4", "bench-ga4.csv")
        # What verify would make of them: 40 % spam, 30 % live, the rest not checked yet.
        ids = [r[0] for r in db.execute("select id from backlinks where candidate = 1")]
        checked_at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(end))
        for backlink_id in ids:
            draw = rng.random()
            if draw < 0.4:
                db.execute("update backlinks set status = 'spam' where id = ?", [backlink_id])
            elif draw < 0.7:
                db.execute(
                    "update backlinks set status = 'live', follow = 1, first_seen = ?,"
                    " last_live = ? where id = ?",
                    [checked_at, checked_at, backlink_id],
                )
    db.close()
    return {"daily_rows": rows, "pages": len(pages), "origins": ORIGINS, "candidates": added}


REFERRAL_VARIANTS = [
    ("default", {}),
    ("--by day", {"by": "day"}),
    ("--by week", {"by": "week"}),
    ("--by month", {"by": "month"}),
    ("--spam", {"spam": True}),
    ("--origins", {"origins": True}),
]

#: Reports that leave referral candidates out, with the variant to time.
FILTERED = [
    ("summary", "default", {}),
    ("referring-domains", "default", {}),
    ("backlinks", "--status lost", {"status": "lost"}),
    ("backlinks", "--status unreachable", {"status": "unreachable"}),
    ("lost", "default", {}),
    ("broken-targets", "default", {}),
    ("unreachable", "default", {}),
    ("changes", "default", {}),
]


def time_referrals(path: Path, since: str) -> list[dict[str, Any]]:
    report = reports.get("referrals")
    out = []
    for label, params in [*REFERRAL_VARIANTS, (f"--since {since}", {"since": since})]:
        bound = label.startswith("--by")  # a row per page and period: output-bound
        timing = time_variant(path, report, Variant("referrals", label, params, bound))
        out.append({**dataclasses.asdict(timing), "verdict": timing.verdict})
        progress(f"referrals {label}: {timing.rows:,} rows, best {timing.best_s:.2f} s")
    return out


def time_filtered(path: Path) -> list[dict[str, Any]]:
    """Each report as shipped, then with the candidate filter emptied (never true)."""
    out = []
    for name, label, params in FILTERED:
        shipped = reports.get(name)
        # NOT IN an empty list: every backlink passes, as before the filter (not "(null)":
        # `x not in (null)` is null, which no row passes)
        empty = "(select 0 where 0)"
        emptied = dataclasses.replace(shipped, sql=shipped.sql.replace(CANDIDATE_IDS, empty))
        row: dict[str, Any] = {"report": name, "variant": label}
        # alternated, twice each, best kept: neither side gets the cold cache alone
        for key, report in (("shipped", shipped), ("without_filter", emptied)) * 2:
            timing = time_variant(path, report, Variant(name, label, params))
            best = min(row.get(f"{key}_s", timing.best_s), timing.best_s)
            row[f"{key}_s"], row[f"{key}_rows"] = round(best, 3), timing.rows
        progress(f"{name} {label}: {row}")
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--lines", type=int, default=100_000_000)
    parser.add_argument("--backlinks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    if args.db.exists() and not args.reuse:
        if not ours(args.db):
            raise SystemExit(f"{args.db}: not a database bench.reports_scale built; refused")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.db}{suffix}").unlink(missing_ok=True)
    if not args.db.exists():
        build(args.db, args.backlinks, args.runs)
    with sqlite3.connect(args.db) as con:
        filled = con.execute("select count(*) from referral_days").fetchone()[0]
    added: dict[str, int] = {}
    if not filled:
        clock = time.perf_counter()
        added = add_referrals(args.db, args.lines)
        progress(
            f"referrals of {args.lines:,} lines: {added} ({time.perf_counter() - clock:.0f} s)"
        )
    with sqlite3.connect(args.db) as con:
        last = con.execute("select max(day) from referral_days").fetchone()[0]
        since = con.execute("select date(?, '-30 days')", [last]).fetchone()[0]
    timings = time_referrals(args.db, since)
    filtered = time_filtered(args.db)
    print("| report referrals | rows | first s | best s | verdict |\n|---|---:|---:|---:|---|")
    for t in timings:
        cells = f"{t['rows']:,} | {t['first_s']:.2f} | {t['best_s']:.2f}"
        rate = f" ({t['rows'] / t['best_s']:,.0f} rows/s)" if t["output_bound"] else ""
        print(f"| {t['variant']} | {cells} | {t['verdict']}{rate} |")
    print(
        "\n| report | variant | rows | as shipped s | filter emptied s |\n|---|---|---:|---:|---:|"
    )
    for f in filtered:
        cells = f"{f['shipped_rows']:,} | {f['shipped_s']:.2f} | {f['without_filter_s']:.2f}"
        print(f"| {f['report']} | {f['variant']} | {cells} |")
    if args.json_out:
        args.json_out.write_text(
            json.dumps({"added": added, "referrals": timings, "filtered": filtered}, indent=2)
        )
    slow = [t for t in timings if t["verdict"] == "FAIL"]
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
