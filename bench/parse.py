"""Benchmark the page reading of `verify` (parse, links to the site), across revisions.

For each revision given (a git revision, or `.` for the work tree), a checkout under a
temporary worktree reads every distinct body of the bench web's pool as `verify` reads
a referring page: `verifier.verdict.page.parse` with the site, then `links_to` for
it when the page may link. Revisions alternate within each round, one subprocess a
revision a round, and the best round counts (the least disturbed by the rest of the
machine). Prints ms per page and each revision's ratio to the first.

    python -m bench.parse --revs 3ab7dbe,. [--pages 2000] [--rounds 7]

The web comes from `bench.webgen`'s cache (generated first if missing), so the bodies
are those of `bench.run` for the same `--pages`, `--hosts` and `--seed`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import webgen

ROOT = Path(__file__).resolve().parent.parent
SITE = "acme-bench.com"  # bench.cases: the site every linking body links to


def read_all(pool: Path, repeat: int) -> dict[str, float]:
    """Read every body of `pool` `repeat` times with the code on sys.path; ms per page."""
    from verifier.models import Fetch
    from verifier.verdict import page as pages

    bodies = [path.read_bytes() for path in sorted(pool.glob("*.html"))]
    url = "http://bench-host-0.test/p.html"
    rereads = 0
    began = time.perf_counter()
    for _ in range(repeat):
        for body in bodies:
            page = pages.parse(Fetch(url, url, 200, body, "text/html"), [SITE])
            if page.unlinked is None:
                pages.links_to(page, SITE)
                rereads += getattr(page, "reread", None) is not None
    elapsed = time.perf_counter() - began
    return {
        "ms_per_page": elapsed / (len(bodies) * repeat) * 1000,
        "pages": len(bodies),
        "rereads": rereads / repeat,
    }


def _inner(argv: list[str]) -> None:
    pool, repeat = Path(argv[0]), int(argv[1])
    print(json.dumps(read_all(pool, repeat)))


def _checkout(rev: str, scratch: Path) -> Path:
    if rev == ".":
        return ROOT
    tree = scratch / rev.replace("/", "_")
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
        check=True,
        capture_output=True,
    )
    return tree


#: Run in a revision's checkout: its `verifier` first on the path, this file's reader
#: (an older revision may have no bench/parse.py).
_INNER = """
import importlib.util, sys
sys.path.insert(0, sys.argv[1])
spec = importlib.util.spec_from_file_location("bench_parse_reader", sys.argv[2])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module._inner(sys.argv[3:])
"""


def _run(tree: Path, pool: Path, repeat: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", _INNER, str(tree), __file__, str(pool), str(repeat)],
        check=True, capture_output=True, text=True, env=env, cwd=tree,
    )  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--revs", default=".", help="comma-separated git revisions, `.` = work tree"
    )
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="passes over the pool a round")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "backcheck-bench")
    args = parser.parse_args(argv)
    spec = webgen.WebSpec(pages=args.pages, hosts=args.hosts, seed=args.seed)
    pool = webgen.cached(spec, args.cache) / "web" / "_pool"
    revs = args.revs.split(",")
    best: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="backcheck-parse-") as scratch:
        trees = {rev: _checkout(rev, Path(scratch)) for rev in revs}
        try:
            for round_ in range(args.rounds):
                order = revs if round_ % 2 == 0 else list(reversed(revs))
                for rev in order:
                    got = _run(trees[rev], pool, args.repeat)
                    if rev not in best or got["ms_per_page"] < best[rev]["ms_per_page"]:
                        best[rev] = got
        finally:
            for rev, tree in trees.items():
                if rev != ".":
                    subprocess.run(
                        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                        check=False,
                        capture_output=True,
                    )
    first = best[revs[0]]["ms_per_page"]
    print(
        f"{'revision':<12} {'ms/page':>8} {'ratio':>6} {'re-read':>8}  ({args.rounds} rounds, best)"
    )
    for rev in revs:
        got = best[rev]
        print(
            f"{rev:<12} {got['ms_per_page']:8.4f} {got['ms_per_page'] / first:6.3f}"
            f" {got['rereads']:8.0f}  of {got['pages']:.0f} bodies"
        )


if __name__ == "__main__":
    main()
