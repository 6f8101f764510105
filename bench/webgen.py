"""Generate a virtual web for the benchmark: realistic pages on many hosts, plus their truth.

Layout of OUT (the web root is OUT/web, served by nginx or crawler.virtualweb):

* `web/_pool/bNNNNN.html`: a pool of distinct page bodies (lognormal sizes,
  10 KB to 300 KB, median about 60 KB; navigation and footer boilerplate,
  inline scripts, 100 to 300 links, paragraphs of text). About 30% link to the
  site in one of the forms of `bench.cases`; the rest never mention it.
* `web/bench-host-K.test/pI.html`: page I, a *hard link* to a pool body, so
  100,000 pages cost no more disk than the pool. (Not a symlink: the virtual
  web refuses files that resolve outside the host's folder.)
* `web/_routes.json`: the redirects (`301` to another page of the same host).
  Pages listed as missing have no file at all, so they answer 404.
* A `mentions` share of the bodies, chosen apart from their case, name the
  brand (`bench.cases.BRAND`) in a sentence of their article.
* `cases="links"` leaves the not-a-link cases out of the rotation (every linked body
  really links), so `1 - linked` is the share of lost pages.
* A `js_share` of the bodies (default none) are JS-only: their link is inserted by an
  inline script after load (`bench.cases.js_only`); truth.csv gives the raw verdict,
  `bench.cases.expected(case, rendered=True)` the one after rendering.
* `backlinks.csv` (backcheck's generic import format), `truth.csv` (the
  verdict each backlink must get, from `bench.cases.expected`), `mentions.csv`
  (the pages `verify` must record a brand mention for) and `manifest.json`
  (the spec and counts; written last, so it marks a complete web).

`python -m bench.webgen OUT --pages N [--hosts H] [--seed S]`.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import pagegen
from bench.cases import (
    JS_CAPABLE,
    JS_PREFIX,
    LINKED,
    MENTION_SENTENCES,
    NO_LINK,
    NOT_FOUND,
    SHOWS_TERM,
    Case,
    Verdict,
    expected,
    js_only,
)

#: Bumped whenever the output for a given spec changes (invalidates cached webs).
#: 2: brand mentions planted on `WebSpec.mentions` of the bodies; mentions.csv.
GENERATOR_VERSION = 2
TRUTH_COLUMNS = ("source_url", "target_url", "status", "reason", "follow", "nofollow_source")


@dataclass(frozen=True, slots=True)
class WebSpec:
    """What to generate; the same spec always gives byte-identical output."""

    pages: int
    hosts: int = 200
    seed: int = 1
    pool: int = 2000  # distinct page bodies
    linked: float = 0.30  # share of bodies that carry a `bench.cases.LINKED` case
    missing: float = 0.02  # share of pages with no file (404)
    redirects: float = 0.02  # share of pages that redirect to another page of their host
    mentions: float = 0.10  # share of bodies that name the brand in a sentence (any case)
    js_share: float = 0.0  # share of bodies whose link a script inserts (`bench.cases.js_only`)
    cases: str = "all"  # "links": linked bodies get only cases with a real link (no lost ones)

    @property
    def host_count(self) -> int:
        return max(1, min(self.hosts, self.pages))

    @property
    def pool_size(self) -> int:
        return max(1, min(self.pool, self.pages))

    def key(self) -> str:
        """A folder name that changes with anything that changes the output."""
        extra = (
            ""
            if (self.linked, self.missing, self.redirects, self.mentions)
            == (0.30, 0.02, 0.02, 0.10)
            else (f"-l{self.linked:g}-m{self.missing:g}-r{self.redirects:g}-n{self.mentions:g}")
        )
        if self.js_share:
            extra += f"-j{self.js_share:g}"
        if self.cases != "all":
            extra += f"-c{self.cases}"
        return (
            f"p{self.pages}-h{self.host_count}-s{self.seed}-b{self.pool_size}{extra}"
            f"-v{GENERATOR_VERSION}"
        )


@dataclass(frozen=True, slots=True)
class Page:
    index: int
    host: str
    body: int  # pool index of its body (for a redirect: of the page it redirects to)
    kind: str  # "page", "missing" or "redirect"
    redirect_to: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}/p{self.index}"


def host_name(k: int) -> str:
    return f"bench-host-{k}.test"


def pool_cases(spec: WebSpec, rng: random.Random) -> list[Case]:
    """The case of each pool body: LINKED cases in turn on a random `linked` share."""
    size = spec.pool_size
    chosen = sorted(rng.sample(range(size), round(spec.linked * size)))
    cases = [NO_LINK] * size
    turn = LINKED if spec.cases == "all" else tuple(case for case in LINKED if case.rels)
    for n, body in enumerate(chosen):
        cases[body] = turn[n % len(turn)]
    return cases


def pool_js(spec: WebSpec, cases: list[Case]) -> list[Case]:
    """`cases` with a `js_share` of the pool's bodies made JS-only: drawn among the bodies
    with a real link (`bench.cases.JS_CAPABLE`), with a random stream of their own, so
    no other draw moves and a share of 0 changes nothing."""
    capable = {case.name for case in JS_CAPABLE}
    candidates = [n for n, case in enumerate(cases) if case.name in capable]
    count = min(round(spec.js_share * len(cases)), len(candidates))
    if not count:
        return cases
    chosen = set(random.Random(f"{spec.seed}:js").sample(candidates, count))
    return [js_only(case, n) if n in chosen else case for n, case in enumerate(cases)]


def pool_mentions(spec: WebSpec, size: int | None = None) -> list[str]:
    """Per pool body, the brand sentence planted in it ("" for none): a `mentions` share,
    drawn with a random stream of its own (the other draws do not move)."""
    size = spec.pool_size if size is None else size
    rng = random.Random(f"{spec.seed}:mentions")
    chosen = sorted(rng.sample(range(size), round(spec.mentions * size)))
    planted = [""] * size
    for n, body in enumerate(chosen):
        planted[body] = MENTION_SENTENCES[n % len(MENTION_SENTENCES)]
    return planted


def mentions_brand(case: Case, planted: str) -> bool:
    """True when a body carrying `case` and `planted` names the brand or domain visibly."""
    return case.name in SHOWS_TERM or bool(planted)


def body_sizes(spec: WebSpec, rng: random.Random) -> list[int]:
    """Lognormal sizes (median 60 KB), clipped to 10 KB .. 300 KB."""
    mu = math.log(60_000)
    return [
        int(min(300_000, max(10_000, rng.lognormvariate(mu, 0.75)))) for _ in range(spec.pool_size)
    ]


def plan_pages(spec: WebSpec, rng: random.Random) -> list[Page]:
    """Each page's host, body and kind; redirects go to a plain page of the same host."""
    hosts, size = spec.host_count, spec.pool_size
    pages: list[Page] = []
    for i in range(spec.pages):
        roll = rng.random()
        kind = "missing" if roll < spec.missing else "page"
        if spec.missing <= roll < spec.missing + spec.redirects:
            kind = "redirect"
        body = i if i < size else rng.randrange(size)
        pages.append(Page(i, host_name(i % hosts), body, kind))
    plain_on: dict[str, list[int]] = {}
    for page in pages:
        if page.kind == "page":
            plain_on.setdefault(page.host, []).append(page.index)
    for n, page in enumerate(pages):
        if page.kind != "redirect":
            continue
        targets = plain_on.get(page.host)
        if not targets:  # nowhere to go on this host: keep it a plain page
            pages[n] = Page(page.index, page.host, page.body, "page")
            continue
        to = rng.choice(targets)
        pages[n] = Page(page.index, page.host, pages[to].body, "redirect", to)
    return pages


def verdict_for(page: Page, cases: list[Case]) -> tuple[Verdict, str]:
    """The expected verdict and a label for truth.csv's `case` column."""
    case = cases[page.body]
    if page.kind == "missing":
        return NOT_FOUND, "missing"
    if page.kind == "redirect":
        return expected(case), f"redirect:{case.name}"
    return expected(case), case.name


def _link_or_copy(source: Path, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:  # another filesystem, or too many links: a copy serves the same
        shutil.copyfile(source, dest)


def write_web(
    spec: WebSpec, web: Path, cases: list[Case], planted: list[str], pages: list[Page]
) -> None:
    rng = random.Random(f"{spec.seed}:sizes")
    sizes = body_sizes(spec, rng)
    pool = web / "_pool"
    pool.mkdir(parents=True)
    writer = pagegen.BodyWriter(spec.seed)
    for n, (case, size) in enumerate(zip(cases, sizes, strict=True)):
        html = writer.body(n, case, size, (planted[n],) if planted[n] else ())
        (pool / f"b{n:05d}.html").write_text(html, encoding="utf-8")
    for k in range(spec.host_count):
        (web / host_name(k)).mkdir()
    routes = {}
    for page in pages:
        if page.kind == "page":
            _link_or_copy(pool / f"b{page.body:05d}.html", web / page.host / f"p{page.index}.html")
        elif page.kind == "redirect":
            location = f"http://{page.host}/p{page.redirect_to}"
            routes[f"{page.host}/p{page.index}"] = {"status": 301, "location": location}
    (web / "_routes.json").write_text(json.dumps(routes, indent=1), encoding="utf-8")


def _rows(pages: list[Page], cases: list[Case]) -> Iterator[tuple[Page, Case, Verdict, str]]:
    for page in pages:
        verdict, label = verdict_for(page, cases)
        yield page, cases[page.body], verdict, label


def write_lists(out: Path, pages: list[Page], cases: list[Case]) -> dict[str, int]:
    """backlinks.csv and truth.csv, one row per page in page order; returns status counts."""
    counts: dict[str, int] = {}
    with (
        (out / "backlinks.csv").open("w", newline="", encoding="utf-8") as links_file,
        (out / "truth.csv").open("w", newline="", encoding="utf-8") as truth_file,
    ):
        links, truth = csv.writer(links_file), csv.writer(truth_file)
        links.writerow(["source_url", "target_url", "anchor"])
        truth.writerow([*TRUTH_COLUMNS, "case"])
        for page, case, verdict, label in _rows(pages, cases):
            links.writerow([page.url, case.target, case.anchor])
            truth.writerow([page.url, case.target, *asdict(verdict).values(), label])
            key = f"{verdict.status}/{verdict.reason}" if verdict.reason else verdict.status
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def write_mentions(out: Path, pages: list[Page], cases: list[Case], planted: list[str]) -> int:
    """mentions.csv: every page that answers 200 and names the brand or the domain in its
    visible text (a redirect's mention is its target's, which is such a page itself)."""
    count = 0
    with (out / "mentions.csv").open("w", newline="", encoding="utf-8") as file:
        rows = csv.writer(file)
        rows.writerow(["page_url", "case", "planted"])
        for page in pages:
            if page.kind == "page" and mentions_brand(cases[page.body], planted[page.body]):
                rows.writerow([page.url, cases[page.body].name, planted[page.body]])
                count += 1
    return count


def generate(spec: WebSpec, out: Path) -> dict:
    """Write the web, backlinks.csv, truth.csv, mentions.csv and manifest.json into `out`
    (must not exist)."""
    out.mkdir(parents=True)
    rng = random.Random(spec.seed)
    cases = pool_cases(spec, rng)
    pages = plan_pages(spec, rng)
    cases = pool_js(spec, cases)
    planted = pool_mentions(spec)
    write_web(spec, out / "web", cases, planted, pages)
    counts = write_lists(out, pages, cases)
    mention_pages = write_mentions(out, pages, cases, planted)
    manifest = {
        "spec": asdict(spec),
        "generator_version": GENERATOR_VERSION,
        "pages": spec.pages,
        "hosts": spec.host_count,
        "pool": spec.pool_size,
        "missing": sum(p.kind == "missing" for p in pages),
        "redirects": sum(p.kind == "redirect" for p in pages),
        "expected": counts,
        "js_only": sum(
            cases[p.body].name.startswith(JS_PREFIX) for p in pages if p.kind != "missing"
        ),
        "mention_pages": mention_pages,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def cached(spec: WebSpec, cache: Path) -> Path:
    """The generated web for `spec` under `cache`, generated first if not there yet."""
    final = cache / spec.key()
    if (final / "manifest.json").is_file():
        return final
    if final.exists():  # an interrupted generation: start over
        shutil.rmtree(final)
    partial = cache / f".{spec.key()}.{os.getpid()}"
    if partial.exists():
        shutil.rmtree(partial)
    generate(spec, partial)
    partial.rename(final)
    return final


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webgen", description=__doc__)
    parser.add_argument("out", type=Path, help="folder to create (must not exist)")
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pool", type=int, default=2000, help="distinct page bodies")
    parser.add_argument("--mentions", type=float, default=0.10, help="bodies with a brand sentence")
    parser.add_argument(
        "--js-share", type=float, default=0.0, help="bodies whose link a script inserts"
    )
    parser.add_argument("--linked", type=float, default=0.30, help="bodies that link")
    parser.add_argument(
        "--cases", choices=("all", "links"), default="all", help="links: no not-a-link cases"
    )
    args = parser.parse_args(argv)
    spec = WebSpec(
        args.pages,
        args.hosts,
        args.seed,
        args.pool,
        linked=args.linked,
        mentions=args.mentions,
        js_share=args.js_share,
        cases=args.cases,
    )
    print(json.dumps(generate(spec, args.out), indent=2))


if __name__ == "__main__":
    main()
