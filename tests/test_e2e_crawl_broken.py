"""End to end: a domain whose robots.txt and sitemaps are broken is still crawled to its end.

A `Sitemap:` line with a port out of range, and a /sitemap.xml that is an XML
declaration and nothing else, each stopped the domain's crawl: the first raised in
the home page's callback, the second in Scrapy's sitemap reader, and the domain
never finished. The real CLI against the virtual web on 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FAST, run_cli

pytestmark = pytest.mark.e2e

PAGE = "<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>"
ROUTES = {
    "broken-maps.org/robots.txt": {
        "body": "User-agent: *\nDisallow:\nSitemap: http://broken-maps.org:99999/map.xml\n"
        "Sitemap: http://broken-maps.org/empty.xml\n",
        "content_type": "text/plain",
    },
    "broken-maps.org/empty.xml": {
        "body": "<?xml version='1.0' encoding='UTF-8'?>",
        "content_type": "application/xml",
    },
    "broken-maps.org/sitemap.xml": {"body": "< this is no XML", "content_type": "application/xml"},
    "broken-maps.org/": {
        "body": PAGE.format(title="Home", body='<a href="/post">A post</a>'),
    },
    "broken-maps.org/post": {
        "body": PAGE.format(
            title="Post", body='<p>We use <a href="https://acme-widgets.com/">Acme Widgets</a>.</p>'
        ),
    },
}


def test_broken_sitemaps_do_not_stop_the_domain(web, tmp_path: Path) -> None:
    server = web(routes=ROUTES)
    db = str(tmp_path / "b.db")
    init = run_cli(["init", "--site", "acme-widgets.com", "--brand", "Acme Widgets", "--db", db])
    assert init.returncode == 0, init.stderr
    domains = tmp_path / "domains.txt"
    domains.write_text("http://broken-maps.org/\n", encoding="utf-8")
    done = run_cli(["crawl", str(domains), "--json", *FAST, "--db", db], server, timeout=120)
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)
    assert (row["domain"], row["pages"], row["backlinks_new"], row["stopped"]) == (
        "broken-maps.org",
        2,
        1,
        "done",
    )
    assert server.hits("broken-maps.org", "/empty.xml") == 1
    assert server.hits("broken-maps.org", "/sitemap.xml") == 1
    assert "Traceback" not in done.stderr


def test_robots_txt_is_read_for_its_first_500_kib_as_google_reads_it(web, tmp_path: Path) -> None:
    # Each rule is tried for every request to the host: a 10 MB robots.txt cost each
    # request a quarter of a second. Google ignores what follows the first 500 KiB.
    filler = "".join(f"Disallow: /nothing-{i}/\n" for i in range(30000))  # ~700 KB
    link = '<a href="https://acme-widgets.com/">Acme Widgets</a>'
    routes = {
        "big-robots.org/robots.txt": {
            "body": f"User-agent: *\nDisallow: /early\n{filler}Disallow: /late\n",
            "content_type": "text/plain",
        },
        "big-robots.org/early": {"body": PAGE.format(title="Early", body=link)},
        "big-robots.org/late": {"body": PAGE.format(title="Late", body=link)},
    }
    server = web(routes=routes)
    db = str(tmp_path / "r.db")
    assert run_cli(["init", "--site", "acme-widgets.com", "--db", db]).returncode == 0
    export = tmp_path / "links.csv"
    export.write_text(
        "source_url,target_url\nhttp://big-robots.org/early,https://acme-widgets.com/\n"
        "http://big-robots.org/late,https://acme-widgets.com/\n",
        encoding="utf-8",
    )
    assert run_cli(["import", str(export), "--db", db]).returncode == 0
    done = run_cli(["verify", "--json", *FAST, "--db", db], server, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = json.loads(run_cli(["report", "backlinks", "--format", "json", "--db", db]).stdout)
    verdicts = {row["source_url"]: (row["status"], row["reason"]) for row in rows}
    assert verdicts == {
        "http://big-robots.org/early": ("unreachable", "robots_blocked"),
        "http://big-robots.org/late": ("live", None),
    }
    assert server.hits("big-robots.org", "/late") == 1
