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
