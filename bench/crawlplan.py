"""The plan of the crawl web (`bench.crawlweb`): its hosts, their links, robots.txt and
sitemaps, and what a crawl of it must find (`expected_pages`, `host_truth`).

Pure functions of a `CrawlSpec`: `bench.crawlweb` writes the files from them and
`bench.crawl` checks its server against them.
"""

from __future__ import annotations

import gzip
import random
import re
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urljoin

from bench import pagegen, webgen
from bench.cases import Case, expected
from bench.webgen import WebSpec, mentions_brand

#: Bumped whenever the output for a given spec changes (invalidates cached webs).
GENERATOR_VERSION = 1
HOST_KINDS = ("sitemap", "robots-gzindex", "index", "links")
MAX_DEPTH = 3
PRIVATE = "/private/archive"
GONE = "/gone"
BACKLINK_COLUMNS = ("source_url", "target_url", "status", "reason", "follow", "nofollow_source")
_HREF = re.compile(r'href="([^"]*)"')
HOST_PLACEHOLDER = "__HOST__"  # in a <base href> body's links, replaced by its host when written


@dataclass(frozen=True, slots=True)
class CrawlSpec:
    """What to generate; the same spec always gives byte-identical output."""

    pages: int = 2000  # rounded down to whole hosts of per_host pages
    per_host: int = 200  # the home page and per_host - 1 articles
    seed: int = 1
    pool: int = 2000  # distinct page bodies (at most)
    linked: float = 0.30
    mentions: float = 0.10
    competitors: float = 0.10

    @property
    def hosts(self) -> int:
        return max(1, self.pages // self.per_host)

    @property
    def articles(self) -> int:
        return self.per_host - 1

    @property
    def branching(self) -> int:
        """The smallest b whose tree of depth 3 under the home holds every article."""
        b = 2
        while b + b**2 + b**3 < self.articles:
            b += 1
        return b

    @property
    def blocks(self) -> int:
        """Bodies per article index: body n serves article n mod articles only."""
        return max(1, self.pool // self.articles)

    @property
    def pool_size(self) -> int:
        return self.blocks * self.articles

    @property
    def max_pages(self) -> int:
        """The crawl's --max-pages: a quarter above a host's pages, so none stops at it."""
        return self.per_host + self.per_host // 4

    def key(self) -> str:
        shares = (self.linked, self.mentions, self.competitors)
        extra = "" if shares == (0.30, 0.10, 0.10) else "-l{:g}-n{:g}-c{:g}".format(*shares)
        return (
            f"crawl-p{self.hosts * self.per_host}-h{self.per_host}-s{self.seed}"
            f"-b{self.pool_size}{extra}-v{GENERATOR_VERSION}"
        )


def host_name(k: int) -> str:
    return f"crawl-host-{k}.test"


def host_kind(k: int) -> str:
    return HOST_KINDS[k % len(HOST_KINDS)]


def children(i: int, spec: CrawlSpec) -> list[int]:
    b = spec.branching
    return [c for c in range(b + b * i, b + b * i + b) if c < spec.articles]


def parent(i: int, spec: CrawlSpec) -> int | None:
    return None if i < spec.branching else (i - spec.branching) // spec.branching


def body_links(i: int, spec: CrawlSpec, absolute: bool = False) -> pagegen.Links:
    """Article i's own links: relative, or absolute on HOST_PLACEHOLDER (a <base href> body)."""
    at = f"http://{HOST_PLACEHOLDER}" if absolute else ""
    up = parent(i, spec)
    hubs = range(spec.branching - 1)
    return pagegen.Links(
        nav=[(f"{at}/", "Home"), *((f"{at}/p{h}", f"Section {h + 1}") for h in hubs)],
        breadcrumb=[] if up is None else [(f"{at}/p{up}", f"Up: article {up}")],
        related=[(f"{at}/p{c}", f"Article {c}") for c in children(i, spec)],
    )


def home_links(kind: str, spec: CrawlSpec) -> list[str]:
    hubs = spec.branching if kind == "links" else spec.branching - 1
    return [*(f"/p{h}" for h in range(min(hubs, spec.articles))), PRIVATE, GONE]


def home_page(host: str, kind: str, spec: CrawlSpec) -> str:
    names = {PRIVATE: "Archive", GONE: "Old page"}
    items = "".join(
        f'<li><a href="{href}">{names.get(href) or "Section " + href[2:]}</a></li>'
        for href in home_links(kind, spec)
    )
    external = "".join(
        f'<li><a href="https://partner{n}.bench-network.test/">Partner {n}</a></li>'
        for n in range(12)
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{host}: home</title>\n</head>\n<body>\n<header><h1>{host}</h1>"
        f"<nav><ul>{items}</ul></nav></header>\n<main><p>Welcome to this host of the crawl"
        f" benchmark.</p>\n<h2>Partners</h2>\n<ul>{external}</ul></main>\n</body>\n</html>\n"
    )


def robots_txt(host: str, kind: str) -> str | None:
    if kind == "sitemap":
        return None
    lines = ["User-agent: *", "Disallow: /private/"]
    if kind == "links":
        lines.append("Disallow: /search")
    if kind == "robots-gzindex":
        lines += ["", f"Sitemap: http://{host}/sitemap_index.xml.gz"]
    return "\n".join(lines) + "\n"


def _xml(tag: str, inner: str, locs: list[str]) -> bytes:
    entries = "".join(f"<{inner}><loc>{loc}</loc></{inner}>\n" for loc in locs)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}</{tag}>\n'
    ).encode()


def sitemap_files(host: str, kind: str, spec: CrawlSpec) -> dict[str, bytes]:
    """Path -> bytes of the host's sitemap files (gzip where the name says .gz)."""
    urls = [f"http://{host}/", *(f"http://{host}/p{i}" for i in range(spec.articles))]
    half = len(urls) // 2
    files: dict[str, bytes] = {}
    if kind == "sitemap":
        files["sitemap.xml"] = _xml("urlset", "url", urls)
    elif kind in ("robots-gzindex", "index"):
        parts = ["sitemaps/pages-1.xml.gz"]
        parts.append(
            "sitemaps/pages-2.xml" if kind == "robots-gzindex" else "sitemaps/pages-2.xml.gz"
        )
        for part, chunk in zip(parts, (urls[:half], urls[half:]), strict=True):
            files[part] = _xml("urlset", "url", chunk)
        index = _xml("sitemapindex", "sitemap", [f"http://{host}/{p}" for p in parts])
        files["sitemap_index.xml.gz" if kind == "robots-gzindex" else "sitemap.xml"] = index
    return {p: gzip.compress(b, mtime=0) if p.endswith(".gz") else b for p, b in files.items()}


def expected_pages(kind: str, spec: CrawlSpec) -> dict[str, int]:
    """Path -> depth of every page a crawl must fetch as HTML (breadth-first, as planned)."""
    links = {"/": home_links(kind, spec)}
    for i in range(spec.articles):
        own = body_links(i, spec)
        links[f"/p{i}"] = [href for href, _ in (*own.nav, *own.breadcrumb, *own.related)]
    listed = ["/", *(f"/p{i}" for i in range(spec.articles))] if kind != "links" else []
    depth = dict.fromkeys(["/", *listed], 0)
    queue = deque(depth)
    fetched: dict[str, int] = {}
    while queue:
        path = queue.popleft()
        if path not in links or (kind != "sitemap" and path.startswith("/private/")):
            continue  # 404 (GONE, PRIVATE without a file) or disallowed
        fetched[path] = depth[path]
        for link in links[path]:
            if link not in depth and depth[path] + 1 <= MAX_DEPTH:
                depth[link] = depth[path] + 1
                queue.append(link)
    return fetched


@dataclass(frozen=True, slots=True)
class Body:
    case: Case
    mention: str  # planted brand sentence, or ""
    competitor: bool


def plan_bodies(spec: CrawlSpec) -> list[Body]:
    size = spec.pool_size
    like = WebSpec(pages=size, pool=size, seed=spec.seed, linked=spec.linked)
    cases = webgen.pool_cases(like, random.Random(spec.seed))
    planted = webgen.pool_mentions(WebSpec(size, pool=size, seed=spec.seed, mentions=spec.mentions))
    rng = random.Random(f"{spec.seed}:competitors")
    rivals = set(rng.sample(range(size), round(spec.competitors * size)))
    return [Body(cases[n], planted[n], n in rivals) for n in range(size)]


def host_bodies(spec: CrawlSpec) -> list[list[int]]:
    """Per host, the body of each article: one of the bodies that serve its index."""
    rng = random.Random(f"{spec.seed}:hosts")
    return [
        [i + spec.articles * rng.randrange(spec.blocks) for i in range(spec.articles)]
        for _ in range(spec.hosts)
    ]


def link_target(case: Case, page_url: str) -> str:
    """Where the first real link of `case` points from `page_url` (case.rels non-empty)."""
    found = _HREF.search(case.snippet)
    assert found is not None, case.name
    return str(urljoin(case.base_href or page_url, found.group(1).strip()))


def host_truth(
    k: int, spec: CrawlSpec, bodies: list[Body], own: list[int]
) -> tuple[dict[str, Any], list[list[str]]]:
    """(summary row the crawl's --json must print, backlink rows) for host k."""
    host, kind = host_name(k), host_kind(k)
    pages = expected_pages(kind, spec)
    backlinks, competitors, unlinked = [], 0, 0
    for path in pages:
        if not path.startswith("/p"):
            continue
        body = bodies[own[int(path[2:])]]
        url = f"http://{host}{path}"
        competitors += body.competitor
        if body.case.rels:
            verdict = list(asdict(expected(body.case)).values())
            backlinks.append([url, link_target(body.case, url), *verdict, body.case.name])
        elif mentions_brand(body.case, body.mention):
            unlinked += 1
    row = {"domain": host, "pages": len(pages), "backlinks_new": len(backlinks),
           "backlinks_known": 0, "competitor_links": competitors, "unlinked_mentions": unlinked,
           "stopped": "done"}  # fmt: skip
    return row, backlinks
