"""Time `report gap`, `intersect` and `competitors` with three competitors of 1M links each.

    python -m bench.gap_scale DB [--links 1000000] [--reuse] [--json-out FILE]

Issue #11: `report gap` answers in under 2 s on the 1M-backlink / 10M-check database of
bench/reports_scale.py with 3 competitors of 1M links each. This script

1. builds DB with `bench.reports_scale.build` (1,000,000 backlinks, 10 runs) unless
   `--reuse` finds it;
2. adds a third competitor to the site's two and `--links` backlinks per competitor as
   `import --competitor` and one `verify --competitors` run leave them: a vendor row each
   (Ahrefs DR, Moz DA, Semrush page AS: the authority triggers run), one check each
   (85 % live, 10 % lost, 5 % unreachable; 65 % of live links followed; the page read for
   the brand as `verify --competitors` reads it, except half of the failed fetches), on
   ~40,000 referring domains each (25 links per domain on average, skewed), half of them
   among the site's own 100,000, half among 100,000 that only competitors have, popular
   ones shared; a brand mention on 2,000 domains;
3. times each variant as `bench.reports_scale` times a report (fresh connection,
   `run_report`, `render_json`, best of 3).

The exit status is 1 when a variant takes 2 s or more. Not part of the test suite.
See bench/README.md ("Competitor gap at scale").
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

from bench.reports_scale import SITE, Profile, Variant, build, ours, progress, time_variant
from verifier import reports
from verifier.store import storage
from verifier.verdict.urls import identity_key

SEED = 13
BATCH = 20_000
THIRD = "initech.com"
#: Each competitor's vendor and the column its authority is in.
VENDORS = (("ahrefs", "domain_rating"), ("moz", "domain_authority"), ("semrush", None))


def _domains(count: int) -> list[tuple[str, str]]:
    """The site's referring domains (bench.reports_scale's), then as many again."""
    return [Profile._domain(d) for d in range(2 * count)]


def add_competitors(path: Path, links: int) -> dict[str, int]:
    """Store `links` backlinks for each of the site's three competitors; returns counts."""
    rng = Random(SEED)
    db = storage.open_db(path)
    profile = storage.save_site(db, SITE, competitors=[THIRD])
    rivals = profile.competitors
    con = db.conn
    ours_count = con.execute("select count(distinct referring_domain) from backlinks").fetchone()
    pool = _domains(max(1000, ours_count[0]))
    half = len(pool) // 2  # the site's referring domains, then as many that only rivals have
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    run_id = con.execute(
        "insert into runs (started_at, finished_at, state, sites, kind, stats)"
        " values (?, ?, 'finished', ?, 'verify', ?)",
        [stamp, stamp, json.dumps(sorted([SITE, *rivals])), json.dumps({"bench": "gap"})],
    ).lastrowid
    next_id = con.execute("select coalesce(max(id), 0) + 1 from backlinks").fetchone()[0]
    check_id = con.execute("select coalesce(max(id), 0) + 1 from checks").fetchone()[0]
    added = 0
    for number, rival in enumerate(rivals):
        vendor, column = VENDORS[number % len(VENDORS)]
        seen: set[tuple[str, str]] = set()
        backlinks, sources, checks = [], [], []
        # A big site's profile: ~25 links per referring domain (Ahrefs' figures for sites
        # with a million backlinks), half of the domains also the site's; popular domains
        # are shared by the competitors (drawn with a skew from both halves).
        count = max(10, links // 25)
        chosen = list(
            dict.fromkeys(
                pool[int(half * rng.random() ** 2) + (half if k % 2 else 0)]
                for k in range(count * 3)
            )
        )[:count]
        while len(seen) < links:
            # skewed again: a few domains carry many links, most carry a handful
            host, domain = chosen[int(len(chosen) * rng.random() ** 2.5)]
            url = f"https://{host}/p/{rng.randrange(40)}-{len(seen) % 97}"
            target = f"https://{rival}/{'' if rng.random() < 0.5 else 'product'}"
            key = (identity_key(url), identity_key(target))
            if key in seen:
                continue
            seen.add(key)
            draw = rng.random()
            status = "live" if draw < 0.85 else "lost" if draw < 0.95 else "unreachable"
            follow = int(status == "live" and rng.random() < 0.65)
            authority = round(rng.random() ** 2 * 90, 1) if rng.random() < 0.6 else None
            backlinks.append(
                (
                    next_id,
                    rival,
                    url,
                    target,
                    *key,
                    domain,
                    vendor,
                    stamp,
                    status,
                    follow,
                    stamp if status == "live" else None,
                    check_id,
                )
            )
            metrics: dict[str, Any] = {}
            if authority is not None:
                metrics[column or "page_ascore"] = authority
            sources.append(
                (
                    next_id,
                    vendor,
                    f"{rival}.csv",
                    len(seen),
                    stamp,
                    json.dumps(metrics),
                    authority if column == "domain_rating" else None,
                    authority if column == "domain_authority" else None,
                )
            )
            # verify --competitors reads each page for the brand (None: a failed read)
            mentions = None if status != "live" and rng.random() < 0.5 else 0
            checks.append((check_id, run_id, next_id, stamp, status, follow, mentions))
            next_id += 1
            check_id += 1
            if len(backlinks) == BATCH or len(seen) == links:
                _flush(con, backlinks, sources, checks)
                added += len(backlinks)
                backlinks, sources, checks = [], [], []
        progress(f"competitor {rival}: {links:,} backlinks ({vendor})")
    with con:
        sample = rng.sample(pool, 2000)
        con.executemany(
            "insert or ignore into mention_pages (site, page_key, page_url, domain, source,"
            " first_seen, last_seen) values (?, ?, ?, ?, 'crawl', ?, ?)",
            [
                (SITE, f"https://{h}/about", f"https://{h}/about", d, stamp, stamp)
                for h, d in sample
            ],
        )
        con.executemany(
            "insert or ignore into mentions (site, page_key, term, kind, placement, linked)"
            " values (?, ?, 'Acme', 'text', 'main', 0)",
            [(SITE, f"https://{h}/about") for h, _ in sample],
        )
    db.close()
    return {"competitors": len(rivals), "backlinks": added}


def _flush(con: sqlite3.Connection, backlinks: list, sources: list, checks: list) -> None:
    with con:
        con.executemany(
            "insert into backlinks (id, site, source_url, target_url, source_key, target_key,"
            " referring_domain, sources, imported_at, status, follow, first_seen, last_check_id,"
            " consecutive_failures, link_count) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0,"
            " 1)",
            backlinks,
        )
        con.executemany(
            "insert into backlink_sources (backlink_id, source, file, line, imported_at,"
            " metrics, domain_rating, domain_authority) values (?, ?, ?, ?, ?, ?, ?, ?)",
            sources,
        )
        con.executemany(
            "insert into checks (id, run_id, backlink_id, checked_at, status, follow, mentions)"
            " values (?, ?, ?, ?, ?, ?, ?)",
            checks,
        )


VARIANTS = [
    ("gap", "default (K=2)", {}),
    ("gap", "--min-competitors 1", {"min_competitors": 1}),
    ("gap", "--min-competitors 3", {"min_competitors": 3}),
    ("gap", "--followed-only", {"followed_only": True}),
    ("intersect", "default (all 3)", {}),
    ("intersect", "--competitor x2", {"competitor": json.dumps(["widgetco.com", THIRD])}),
    ("competitors", "default", {}),
]


def time_all(path: Path) -> list[dict[str, Any]]:
    out = []
    for name, label, params in VARIANTS:
        timing = time_variant(path, reports.get(name), Variant(name, label, params))
        out.append({**dataclasses.asdict(timing), "verdict": timing.verdict})
        progress(
            f"{name} {label}: {timing.rows:,} rows, first {timing.first_s:.2f} s,"
            f" best {timing.best_s:.2f} s"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--links", type=int, default=1_000_000)
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
        have = con.execute("select count(*) from sites where domain = ?", [THIRD]).fetchone()[0]
    added = {}
    if not have:
        started = time.perf_counter()
        added = add_competitors(args.db, args.links)
        progress(f"competitors added in {time.perf_counter() - started:.0f} s: {added}")
    timings = time_all(args.db)
    if args.json_out:
        args.json_out.write_text(json.dumps({"added": added, "timings": timings}, indent=2))
    return 1 if any(t["verdict"] == "FAIL" for t in timings) else 0


if __name__ == "__main__":
    sys.exit(main())
