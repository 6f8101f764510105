"""Generate a crawlable web for `bench.crawl`: hosts with home pages, robots.txt, sitemaps
and internal links, built from the same page bodies as the verify web (`bench.pagegen`).

Layout of OUT (the web root is OUT/web, served like the verify web):

* `web/crawl-host-K.test/`: `index.html` (the home page), `pI.html` for the host's
  articles I = 0 .. per_host - 2 (hard links into `web/_pool/`), and by the host's kind
  (K mod 4, `HOST_KINDS`) its robots.txt and sitemaps. `sitemap`: no robots.txt (404),
  /sitemap.xml a plain urlset. `robots-gzindex`: robots.txt disallows /private/ and
  names a gzip sitemap index, of one gzip and one plain urlset. `index`: robots.txt
  disallows /private/; /sitemap.xml is a plain index of two gzip urlsets. `links`:
  robots.txt disallows /private/ and /search; no sitemap, links reach every page.
* The articles form a tree breadth-first from the home page: the home links to the
  `hubs` (articles 0 .. b-1, depth 1), article I links to its children b + b·I .. b + b·I
  + b-1 ("read next"), its parent (a breadcrumb), the home and hubs 0 .. b-2 (the nav),
  so every article is within depth 3 of the home (b, the branching, is the smallest that
  allows it). A page links only to its children and to pages found before it, so the
  depth at which a crawler first meets a page is its depth in the tree, whatever the
  order of answers. On the three sitemap kinds the home does not link hub b-1: its
  subtree is found only through the sitemap, which lists every page. The home also
  links `/private/archive` (a page, disallowed by robots.txt; no file on `sitemap`
  hosts, so 404 there) and `/gone` (404). Bodies keep their 100-300 external links;
  their other "internal" links point at www.bench-network.test, which no crawl follows.
* Bodies carry the cases of `bench.cases` as in the verify web; a `mentions` share
  name the brand in a sentence, a `competitors` share link to `bench.cases.COMPETITOR`.
  A body with `<base href>` on the site gets absolute links to its host (it is written
  per host instead of hard-linked).
* `domains.txt` (the crawl's input, one `http://host/` line each), `crawl_truth.json`
  (per host: pages, backlinks_new, backlinks_known, competitor_links,
  unlinked_mentions, stopped), `crawl_backlinks.csv` (every backlink the crawl must
  find, with its verdict) and `manifest.json` (written last). The truth comes from the
  plan (`bench.crawlplan.expected_pages` walks it as a crawler would), never from
  running backcheck.

`python -m bench.crawlweb OUT --pages N [--per-host P] [--seed S]`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import pagegen, webgen
from bench.cases import competitor_snippet
from bench.crawlplan import (
    BACKLINK_COLUMNS,
    GENERATOR_VERSION,
    HOST_KINDS,
    HOST_PLACEHOLDER,
    MAX_DEPTH,
    Body,
    CrawlSpec,
    body_links,
    home_page,
    host_bodies,
    host_kind,
    host_name,
    host_truth,
    plan_bodies,
    robots_txt,
    sitemap_files,
)
from bench.webgen import WebSpec

__all__ = ["GENERATOR_VERSION", "CrawlSpec", "cached", "generate"]


def _link_or_copy(source: Path, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:  # another filesystem, or too many links: a copy serves the same
        shutil.copyfile(source, dest)


def write_pool(spec: CrawlSpec, pool: Path, bodies: list[Body]) -> None:
    """Every body, for the article index it serves; a <base href> body is a template."""
    like = WebSpec(pages=spec.pool_size, pool=spec.pool_size, seed=spec.seed)
    sizes = webgen.body_sizes(like, random.Random(f"{spec.seed}:sizes"))
    pool.mkdir(parents=True)
    writer = pagegen.BodyWriter(spec.seed)
    for n, (body, size) in enumerate(zip(bodies, sizes, strict=True)):
        extras = [body.mention] if body.mention else []
        if body.competitor:
            extras.append(competitor_snippet(n))
        links = body_links(n % spec.articles, spec, absolute=bool(body.case.base_href))
        html = writer.body(n, body.case, size, extras, links)
        (pool / f"b{n:05d}.html").write_text(html, encoding="utf-8")


def write_host(
    web: Path, k: int, spec: CrawlSpec, bodies: list[Body], own: list[int]
) -> dict[str, dict[str, str]]:
    """One host's files; returns the content-type routes of its gzip files."""
    host, kind = host_name(k), host_kind(k)
    folder = web / host
    folder.mkdir()
    (folder / "index.html").write_text(home_page(host, kind, spec), encoding="utf-8")
    if (robots := robots_txt(host, kind)) is not None:
        (folder / "robots.txt").write_text(robots, encoding="utf-8")
        (folder / "private").mkdir()
        (folder / "private" / "archive.html").write_text(
            f"<!DOCTYPE html><html><head><title>{host} archive</title></head>"
            "<body><p>Not for crawlers.</p></body></html>\n",
            encoding="utf-8",
        )
    routes = {}
    for path, data in sitemap_files(host, kind, spec).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
        if path.endswith(".gz"):  # a gzip file, not XML sent with Content-Encoding
            routes[f"{host}/{path}"] = {"content_type": "application/gzip"}
    pool = web / "_pool"
    for i, n in enumerate(own):
        dest = folder / f"p{i}.html"
        if bodies[n].case.base_href:
            text = (pool / f"b{n:05d}.html").read_text(encoding="utf-8")
            dest.write_text(text.replace(HOST_PLACEHOLDER, host), encoding="utf-8")
        else:
            _link_or_copy(pool / f"b{n:05d}.html", dest)
    return routes


def generate(spec: CrawlSpec, out: Path) -> dict[str, Any]:
    """Write the web, domains.txt, the truth files and manifest.json into `out` (new)."""
    if spec.articles < 1:
        raise ValueError("--per-host must be at least 2 (the home page and one article)")
    out.mkdir(parents=True)
    web = out / "web"
    bodies = plan_bodies(spec)
    write_pool(spec, web / "_pool", bodies)
    routes: dict[str, dict[str, str]] = {}
    rows, backlinks = [], []
    for k, own in enumerate(host_bodies(spec)):
        routes.update(write_host(web, k, spec, bodies, own))
        row, found = host_truth(k, spec, bodies, own)
        rows.append(row)
        backlinks += found
    (web / "_routes.json").write_text(json.dumps(routes, indent=1), encoding="utf-8")
    hosts = [row["domain"] for row in rows]
    (out / "domains.txt").write_text("".join(f"http://{h}/\n" for h in hosts), encoding="utf-8")
    with (out / "crawl_backlinks.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([*BACKLINK_COLUMNS, "case"])
        writer.writerows(backlinks)
    truth = {"max_pages": spec.max_pages, "max_depth": MAX_DEPTH, "hosts": rows}
    (out / "crawl_truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    manifest = {
        "spec": asdict(spec),
        "generator_version": GENERATOR_VERSION,
        "hosts": spec.hosts,
        "pages": sum(row["pages"] for row in rows),
        "branching": spec.branching,
        "pool": spec.pool_size,
        "kinds": {
            kind: sum(host_kind(k) == kind for k in range(spec.hosts)) for kind in HOST_KINDS
        },
        "backlinks": len(backlinks),
        "competitor_links": sum(row["competitor_links"] for row in rows),
        "unlinked_mentions": sum(row["unlinked_mentions"] for row in rows),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def cached(spec: CrawlSpec, cache: Path) -> Path:
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
    parser = argparse.ArgumentParser(prog="python -m bench.crawlweb", description=__doc__)
    parser.add_argument("out", type=Path, help="folder to create (must not exist)")
    parser.add_argument("--pages", type=int, required=True, help="pages in all (whole hosts)")
    parser.add_argument("--per-host", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pool", type=int, default=2000, help="distinct page bodies")
    args = parser.parse_args(argv)
    spec = CrawlSpec(args.pages, args.per_host, args.seed, args.pool)
    print(json.dumps(generate(spec, args.out), indent=2))


if __name__ == "__main__":
    main()
