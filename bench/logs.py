"""Benchmark `import --format access-log` on a generated combined log of 10,000,000 lines.

    python -m bench.logs DIR [--lines 10000000] [--small 1000000] [--reuse] [--json-out FILE]

Issue #11 asks for at least 200,000 lines per second of CPU time on one core for the
combined format, start-up excluded, and a peak RSS at 10M lines of at most 1.2x that at 1M
and under 300 MB. This script

1. writes DIR/access-10M.log (and its first `--small` lines as DIR/access-1M.log), a
   deterministic log of acme.com (see `generate`), unless `--reuse` finds them;
2. imports each file in a fresh child process (`python -m bench.logs --measure FILE DB`)
   twice: `import` is what `backcheck import FILE --format access-log` does (read, count,
   store in a new database, add the backlink candidates), `read` only reads and counts.
   The child measures the CPU time (user + system, `resource.getrusage`) of the import
   alone, after its modules are imported and the database is created, and reports its
   peak RSS (`ru_maxrss`: start-up included);
3. prints a table, and exits 1 when a target is missed.

Not part of the test suite. See bench/README.md ("Access-log import").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from random import Random
from typing import Any

SITE = "acme.com"
SEED = 1
LINES_PER_SECOND = 200_000  # issue #11, per CPU second
RSS_RATIO = 1.2
RSS_LIMIT_MB = 300
DAYS = 30  # the 10M-line log spans 30 days (about 3.9 lines a second)

# --- the generated log ---------------------------------------------------------------------

BROWSERS = [
    *(
        f"Mozilla/5.0 ({os_}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.0"
        " Safari/537.36"
        for os_ in (
            "Windows NT 10.0; Win64; x64",
            "Macintosh; Intel Mac OS X 10_15_7",
            "X11; Linux x86_64",
        )
        for v in range(100, 131)
        for b in range(0, 6000, 300)
    ),
    *(
        f"Mozilla/5.0 ({os_}; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"
        for os_ in (
            "Windows NT 10.0; Win64; x64",
            "X11; Linux x86_64",
            "Macintosh; Intel Mac OS X 14.5",
        )
        for v in range(90, 131)
    ),
    *(
        f"Mozilla/5.0 (iPhone; CPU iPhone OS {m}_{n} like Mac OS X) AppleWebKit/605.1.15"
        f" (KHTML, like Gecko) Version/{m}.{n} Mobile/15E148 Safari/604.1"
        for m in range(14, 19)
        for n in range(0, 8)
    ),
]
BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "Wget/1.21.4",
    "-",
]
PAGES = ["/", "/pricing", "/about", "/contact", *(f"/blog/post-{n}" for n in range(400))]
PAGES += [f"/products/widget-{n}" for n in range(200)]
BROKEN = [f"/old/page-{n}" for n in range(40)]
ASSETS = [
    *(f"/static/app.{n}.js" for n in range(5)),
    *(f"/static/site.{n}.css" for n in range(5)),
    *(f"/img/photo-{n}.jpg" for n in range(300)),
    "/favicon.ico",
    "/fonts/inter.woff2",
    "/feed/",
    "/robots.txt",
]
SEARCH = [
    "https://www.google.com/",
    "https://www.google.co.uk/",
    "https://www.google.de/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://search.yahoo.com/",
]
SOCIAL = [
    "https://t.co/",
    "https://l.facebook.com/",
    "https://www.reddit.com/",
    "https://www.linkedin.com/",
]


def _pools(rng: Random) -> dict[str, list[str]]:
    domains = [f"{rng.choice(('blog', 'news', 'www', 'dev'))}.site{n}.example" for n in range(1500)]
    pages = [
        f"https://{rng.choice(domains)}/{rng.choice(('post', 'a', 'review'))}-{n}"
        for n in range(5000)
    ]
    origins = [f"https://origin{n}.example/" for n in range(800)]
    clients = [f"203.0.{n // 250}.{n % 250}" for n in range(20000)]
    clients += [f"2001:db8:{n:x}::{n % 97:x}" for n in range(2000)]
    return {"pages": pages, "origins": origins, "clients": clients}


def generate(big: Path, small: Path, lines: int, small_lines: int) -> None:
    """Write `lines` combined-format lines to `big`, the first `small_lines` also to `small`.

    About 55 % asset requests by browsers (referrer: one of our pages), 30 % page views
    (referrer: none 35 %, internal 30 %, search 15 %, social 5 %, another site's page
    10 %, an origin 5 %; 3 % of them hit a page that answers 404), 15 % bots; 10 % of
    clients are IPv6; 1 line in 2,000 has Apache-escaped quotes in its user agent.
    """
    rng = Random(SEED)
    pools = _pools(rng)
    pages, origins, clients = pools["pages"], pools["origins"], pools["clients"]
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    start = 1_725_148_800  # 2024-09-01T00:00:00Z
    step = DAYS * 86400 / lines
    stamp_cache: dict[int, str] = {}
    random = rng.random
    choice = rng.choice
    with big.open("w", buffering=1 << 20) as out, small.open("w", buffering=1 << 20) as first:
        for number in range(lines):
            second = int(start + number * step)
            stamp = stamp_cache.get(second)
            if stamp is None:
                stamp_cache.clear()
                moment = time.gmtime(second + 3600)  # logged in +0100
                stamp = stamp_cache[second] = (
                    f"{moment.tm_mday:02d}/{months[moment.tm_mon - 1]}/{moment.tm_year}:"
                    f"{moment.tm_hour:02d}:{moment.tm_min:02d}:{moment.tm_sec:02d} +0100"
                )
            draw = random()
            method, status = "GET", 200
            if draw < 0.55:
                path, ua = choice(ASSETS), choice(BROWSERS)
                ref = "https://acme.com" + choice(PAGES)
                status = 304 if random() < 0.3 else 200
            elif draw < 0.85:
                ua = choice(BROWSERS)
                path = choice(BROKEN) if random() < 0.03 else choice(PAGES)
                status = 404 if path.startswith("/old/") else 200
                kind = random()
                if kind < 0.35:
                    ref = "-"
                elif kind < 0.65:
                    ref = "https://acme.com" + choice(PAGES)
                elif kind < 0.80:
                    ref = choice(SEARCH)
                elif kind < 0.85:
                    ref = choice(SOCIAL)
                elif kind < 0.95:
                    ref = choice(pages)
                else:
                    ref = choice(origins)
                odd = random()
                if odd < 0.02:
                    method = "POST"
                elif odd < 0.03:
                    method = "HEAD"
                elif odd < 0.06 and status == 200:
                    status = choice((301, 304))
            else:
                path, ua, ref = (
                    choice(PAGES),
                    choice(BOTS),
                    "-" if random() < 0.9 else choice(pages),
                )
            if number % 2000 == 1999:
                ua = r"Mozilla/5.0 (compatible; \"quoted\" agent)"
            text = (
                f'{choice(clients)} - - [{stamp}] "{method} {path} HTTP/1.1" {status}'
                f' {int(random() * 50000)} "{ref}" "{ua}"\n'
            )
            out.write(text)
            if number < small_lines:
                first.write(text)


# --- the measurement (in a child process) --------------------------------------------------


def measure(log: Path, db_path: Path, mode: str) -> dict[str, Any]:
    """Import `log` into a new database; the import's CPU time and the process's peak RSS."""
    from verifier import database, referrals
    from verifier.importers.accesslog import read_access_log
    from verifier.store import storage

    db = database.open_db(db_path)
    storage.save_site(db, SITE)
    before = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter()
    if mode == "import":
        done = referrals.import_access_log(db, SITE, log)
        tally, candidates = done.result.tally, done.candidates
    else:
        tally, candidates = read_access_log(log, SITE, lambda head: None, lambda b: None).tally, 0
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "mode": mode,
        "file": log.name,
        "lines": tally.lines,
        "visits": tally.visits,
        "malformed": tally.malformed,
        "candidates": candidates,
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "lines_per_cpu_s": round(tally.lines / cpu) if cpu else None,
        "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
    }


def _child(log: Path, work: Path, mode: str) -> dict[str, Any]:
    db = work / f"bench-{mode}-{log.stem}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "bench.logs", "--measure", str(log), str(db), mode],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.splitlines()[-1]))


def _size(lines: int) -> str:
    """A line count for a file name: 10M, 1M, 200k, 150.

    >>> _size(10_000_000), _size(200_000), _size(150)
    ('10M', '200k', '150')
    """
    for unit, size in (("M", 1_000_000), ("k", 1000)):
        if lines >= size and lines % size == 0:
            return f"{lines // size}{unit}"
    return str(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", type=Path, nargs="?")
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--small", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep logs already generated")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--measure", nargs=3, metavar=("LOG", "DB", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        log, db, mode = args.measure
        print(json.dumps(measure(Path(log), Path(db), mode)))
        return 0
    if args.dir is None:
        parser.error("DIR is required")
    args.dir.mkdir(parents=True, exist_ok=True)
    big, small = (args.dir / f"access-{_size(n)}.log" for n in (args.lines, args.small))
    if not (args.reuse and big.exists() and small.exists()):
        started = time.perf_counter()
        generate(big, small, args.lines, args.small)
        print(f"generated {big} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    results = [_child(log, args.dir, mode) for mode in ("import", "read") for log in (small, big)]
    print("| mode | file | lines | visits | candidates | CPU s | lines / CPU s | peak RSS MB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['mode']} | {r['file']} | {r['lines']:,} | {r['visits']:,} | {r['candidates']:,}"
            f" | {r['cpu_s']} | {r['lines_per_cpu_s']:,} | {r['peak_rss_mb']} |"
        )
    imports = [r for r in results if r["mode"] == "import"]
    ratio = imports[1]["peak_rss_mb"] / imports[0]["peak_rss_mb"]
    slowest = min(r["lines_per_cpu_s"] for r in results)
    ok = (
        slowest >= LINES_PER_SECOND
        and ratio <= RSS_RATIO
        and imports[1]["peak_rss_mb"] < RSS_LIMIT_MB
    )
    print(
        f"\nslowest {slowest:,} lines/CPU s (target {LINES_PER_SECOND:,}); peak RSS 10M/1M"
        f" {ratio:.2f} (target <= {RSS_RATIO}), {imports[1]['peak_rss_mb']} MB (< {RSS_LIMIT_MB});"
        f" {'PASS' if ok else 'FAIL'}; {platform.python_version()}, {os.cpu_count()} cores"
    )
    if args.json_out:
        args.json_out.write_text(json.dumps({"results": results, "rss_ratio": ratio}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
