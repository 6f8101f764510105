"""Smoke test of the benchmark's web generator (the benchmark itself is not run here)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bench import webgen
from bench.cases import LINKED, NO_LINK, SITE, Verdict, expected

SPEC = webgen.WebSpec(pages=30, hosts=4, seed=7, pool=30, missing=0.1, redirects=0.1)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "web30"
    webgen.generate(SPEC, out)
    return out


def test_files_truth_and_backlinks_line_up(generated: Path) -> None:
    web = generated / "web"
    links, truth = rows(generated / "backlinks.csv"), rows(generated / "truth.csv")
    routes = json.loads((web / "_routes.json").read_text())
    assert len(links) == len(truth) == 30
    kinds = set()
    for link, want in zip(links, truth, strict=True):
        assert (link["source_url"], link["target_url"]) == (want["source_url"], want["target_url"])
        assert link["target_url"].startswith(f"https://{SITE}/")
        host, path = link["source_url"].removeprefix("http://").split("/")
        file = web / host / f"{path}.html"
        kind = want["case"].partition(":")[0] if ":" in want["case"] else want["case"]
        kinds.add(kind if kind in ("missing", "redirect") else "page")
        if kind == "missing":
            assert not file.exists() and f"{host}/{path}" not in routes
            assert (want["status"], want["reason"]) == ("lost", "page_not_found")
        elif kind == "redirect":
            rule = routes[f"{host}/{path}"]
            assert rule["status"] == 301 and rule["location"].startswith(f"http://{host}/p")
            target = rule["location"].removeprefix(f"http://{host}/")
            assert (web / host / f"{target}.html").is_file() and not file.exists()
        else:
            assert file.stat().st_nlink >= 2  # a hard link into the pool, not a copy
            if want["status"] == "live":
                assert SITE in file.read_text().lower()
    assert kinds == {"page", "missing", "redirect"}
    manifest = json.loads((generated / "manifest.json").read_text())
    assert sum(manifest["expected"].values()) == 30


def test_generation_is_deterministic(generated: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    webgen.generate(SPEC, again)
    for name in ("backlinks.csv", "truth.csv", "web/_routes.json", "web/_pool/b00003.html"):
        assert (again / name).read_bytes() == (generated / name).read_bytes(), name


@pytest.mark.parametrize(
    ("name", "verdict"),
    [
        ("plain", Verdict("live", "", "true", "")),
        ("ugc_sponsored", Verdict("live", "", "false", "rel")),
        ("nofollow_then_followed", Verdict("live", "", "true", "")),
        ("meta_nofollow", Verdict("live", "", "false", "meta")),
        ("meta_none", Verdict("lost", "noindex", "false", "meta")),
        ("noscript_only", Verdict("lost", "link_removed")),
        ("lookalike_only", Verdict("lost", "link_removed")),
    ],
)
def test_expected_verdicts(name: str, verdict: Verdict) -> None:
    assert expected(next(c for c in LINKED if c.name == name)) == verdict
    assert expected(NO_LINK) == Verdict("lost", "link_removed")


def test_baselines_settings() -> None:
    """The no-op spider's two set-ups: backcheck's settings, or Scrapy's own components."""
    from scrapy.settings import Settings

    from bench.noop import REQUEST_SETTINGS, build_settings

    ours = build_settings(["CONCURRENT_REQUESTS=7"])
    shipped = build_settings(["CONCURRENT_REQUESTS=7"], scrapy_defaults=True)
    default = Settings()
    # Both fetch the same way, as verify does, with the overrides on top.
    for name in REQUEST_SETTINGS:
        assert shipped[name] == ours[name], name
    assert shipped.getint("CONCURRENT_REQUESTS") == ours.getint("CONCURRENT_REQUESTS") == 7
    assert shipped["USER_AGENT"] != default["USER_AGENT"]
    # Neither stores anything; only `ours` has backcheck's component choices.
    assert ours.getdict("ITEM_PIPELINES") == shipped.getdict("ITEM_PIPELINES") == {}
    for name in (
        "CONCURRENT_ITEMS",
        "LOG_FORMATTER",
        "SPIDER_MIDDLEWARES",
        "DOWNLOADER_MIDDLEWARES",
    ):
        assert shipped[name] == default[name], name
        assert ours[name] != default[name], name


def test_planted_mentions_are_listed(generated: Path) -> None:
    """mentions.csv: the pages that answer 200 and show the brand or the domain as text."""
    from bench.cases import BRAND, MENTION_SENTENCES, SHOWS_TERM

    truth = {row["source_url"]: row for row in rows(generated / "truth.csv")}
    listed = rows(generated / "mentions.csv")
    assert listed and len({row["page_url"] for row in listed}) == len(listed)
    for row in listed:
        want = truth[row["page_url"]]
        assert want["case"] in SHOWS_TERM or row["planted"] in MENTION_SENTENCES
        host, path = row["page_url"].removeprefix("http://").split("/")
        text = (generated / "web" / host / f"{path}.html").read_text().lower()
        assert BRAND.lower().replace(" ", "") in text.replace(" ", "").replace("-", "") or (
            SITE in text
        )
    # Pages that show neither are not listed, and a planted sentence changes no verdict.
    plain = [u for u, r in truth.items() if r["case"] == "no_link"]
    assert set(plain) - {row["page_url"] for row in listed}
    assert all(truth[r["page_url"]]["case"] != "missing" for r in listed)


CRAWL_SPEC_ARGS = {"pages": 80, "per_host": 20, "seed": 3, "pool": 38}


@pytest.fixture(scope="module")
def crawl_web(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bench import crawlweb

    out = tmp_path_factory.mktemp("crawl") / "web80"
    crawlweb.generate(crawlweb.CrawlSpec(**CRAWL_SPEC_ARGS), out)
    return out


def test_crawl_web_layout_and_truth(crawl_web: Path) -> None:
    import gzip

    from bench.crawlplan import HOST_KINDS, CrawlSpec, host_kind, host_name

    spec = CrawlSpec(**CRAWL_SPEC_ARGS)
    web = crawl_web / "web"
    truth = json.loads((crawl_web / "crawl_truth.json").read_text())
    assert (crawl_web / "domains.txt").read_text().split() == [
        f"http://{host_name(k)}/" for k in range(4)
    ]
    routes = json.loads((web / "_routes.json").read_text())
    for k, row in enumerate(truth["hosts"]):
        host, folder = host_name(k), web / host_name(k)
        assert row["pages"] == spec.per_host and row["stopped"] == "done"
        assert (folder / "index.html").is_file()
        assert len(list(folder.glob("p*.html"))) == spec.articles
        assert (folder / "robots.txt").exists() == (host_kind(k) != "sitemap")
        for gz in folder.rglob("*.gz"):
            assert gzip.decompress(gz.read_bytes()).startswith(b"<?xml")
            assert routes[f"{host}/{gz.relative_to(folder)}"]["content_type"] == "application/gzip"
    assert {host_kind(k) for k in range(4)} == set(HOST_KINDS)
    backlinks = rows(crawl_web / "crawl_backlinks.csv")
    assert len(backlinks) == sum(row["backlinks_new"] for row in truth["hosts"]) > 0
    for link in backlinks:
        host, path = link["source_url"].removeprefix("http://").split("/")
        assert SITE in (web / host / f"{path}.html").read_text().lower()
        assert (
            link["target_url"].lower().removeprefix("https://").removeprefix("http://")[: len(SITE)]
            == SITE
        )


def test_crawl_links_reach_pages_in_tree_order() -> None:
    """Each article links only to its children and to pages met before it, within depth 3."""
    from bench.crawlplan import (
        CrawlSpec,
        body_links,
        children,
        expected_pages,
        home_links,
        parent,
    )

    for per_host in (20, 200, 300):
        spec = CrawlSpec(pages=per_host, per_host=per_host)
        depth = expected_pages("links", spec)
        assert len(depth) == per_host and max(depth.values()) <= 3
        assert set(home_links("links", spec)) > {f"/p{h}" for h in range(spec.branching)}
        for i in range(spec.articles):
            up = parent(i, spec)
            assert depth[f"/p{i}"] == 1 + (0 if up is None else depth[f"/p{up}"])
            links = body_links(i, spec)
            for href, _ in (*links.nav, *links.breadcrumb, *links.related):
                kids = {f"/p{c}" for c in children(i, spec)}
                assert href in kids or depth[href] <= max(1, depth[f"/p{i}"] - 1), (i, href)
        # Sitemap hosts reach the hub their home leaves out only through the sitemap.
        assert f"/p{spec.branching - 1}" not in home_links("index", spec)
        assert len(expected_pages("index", spec)) == per_host


def test_js_only_pages_and_the_truth_of_each_render_mode(tmp_path: Path) -> None:
    """`js_share`: some links exist only after scripts run; the truth follows the mode."""
    import lxml.html

    from bench.cases import JS_PREFIX, case_named, js_only
    from bench.truth import compare, expected_row

    spec = webgen.WebSpec(pages=40, hosts=4, seed=7, pool=40, js_share=0.25, missing=0)
    assert spec.key() == webgen.WebSpec(40, 4, 7, 40, missing=0).key().replace("-v", "-j0.25-v")
    manifest = webgen.generate(spec, tmp_path / "js")
    truth = {row["source_url"]: row for row in rows(tmp_path / "js" / "truth.csv")}
    js = [
        row for row in truth.values() if row["case"].removeprefix("redirect:").startswith(JS_PREFIX)
    ]
    assert len(js) == manifest["js_only"] >= 8
    for row in js:
        assert (row["status"], row["reason"]) == ("lost", "link_removed")  # the raw verdict
        after = expected_row(row, rendered=True)
        assert (after["status"], after["found_in"]) == ("live", "rendered")
        assert expected_row(row, rendered=False)["found_in"] == ""
        if row["case"].startswith("redirect:"):
            continue
        host, path = row["source_url"].removeprefix("http://").split("/")
        page = lxml.html.parse(str(tmp_path / "js" / "web" / host / f"{path}.html")).getroot()
        hrefs = [a.get("href", "").strip().lower() for a in page.iter("a")]
        assert not any(SITE in href for href in hrefs)  # no raw link to the site at all
    # document.write runs in a browser: script_only is live once rendered
    raw = {"case": "script_only", "status": "lost", "reason": "link_removed"}
    after = expected_row({**raw, "follow": "", "nofollow_source": ""}, rendered=True)
    assert (after["status"], after["found_in"]) == ("live", "rendered")
    assert case_named("redirect:js:plain") == js_only(case_named("plain"), 0)
    # a report that got every rendered verdict right, checked against the truth
    report = [{"source_url": u, **expected_row(r, rendered=True)} for u, r in truth.items()]
    for row in report:
        row["found_in"] = row["found_in"] or None
    assert compare(report, truth, rendered=True) == (len(truth), [])
    assert compare(report, truth, rendered=False)[0] < len(truth)


def test_paired_ratios_compare_the_runs_of_one_repeat(tmp_path: Path) -> None:
    # The machine's speed drifts between repeats: each repeat's pair is compared on its own.
    from bench.measure import Measured
    from bench.report import Result, paired, summarize

    def result(repeat: int, spider: str, cpu: float, error: str | None = None) -> Result:
        measured = Measured(0, cpu, cpu, 0.0, 1024, "", tmp_path / "err")
        return Result(repeat, spider, 1000, measured, 0.0, crawl=cpu, error=error)

    results = [
        result(1, "backcheck", 5.0),
        result(1, "backcheck-nomentions", 4.0),  # 1.25
        result(2, "backcheck-nomentions", 8.0),
        result(2, "backcheck", 8.8),  # 1.10
        result(3, "backcheck", 6.0),
        result(3, "backcheck-nomentions", 4.0),  # 1.50
        result(4, "backcheck", 1.0),
        result(4, "backcheck-nomentions", 1.0, error="failed"),  # no pair
    ]
    found = paired(results, "backcheck-nomentions", "backcheck")
    assert found is not None
    assert [round(v, 2) for v in found["pairs"]["cpu_ms_per_page"]] == [1.25, 1.1, 1.5]
    assert round(found["median"]["cpu_ms_per_page"], 2) == 1.25
    assert round(found["median"]["pages_per_s"], 2) == 0.8
    assert summarize(results)["ratio_mentions_paired"] == found
    assert paired(results, "noop", "backcheck") is None
