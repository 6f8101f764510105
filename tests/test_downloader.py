"""The downloader keeps CONCURRENT_REQUESTS_PER_DOMAIN (Scrapy 2.19 alone does not)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

SCRIPT = textwrap.dedent(
    """
    import sys, time
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from crawler.virtualweb import VirtualWeb

    routes = {f"127.0.0.1/p{i}": {"body": "<p>x</p>", "delay": 0.5} for i in range(4)}
    server = VirtualWeb(None, routes).start()

    class Probe(scrapy.Spider):
        name = "probe"

        async def start(self):
            for i in range(4):
                yield scrapy.Request(f"http://127.0.0.1:{server.port}/p{i}", dont_filter=True)

        def parse(self, response):
            pass

    settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 1, "LOG_LEVEL": "ERROR",
                "TELNETCONSOLE_ENABLED": False}
    if sys.argv[1] == "backcheck":
        settings["DOWNLOADER"] = "crawler.downloader.Downloader"
    began = time.monotonic()
    process = CrawlerProcess(settings)
    process.crawl(Probe)
    process.start()
    print(time.monotonic() - began)
    server.stop()
    """
)


def test_one_request_at_a_time_means_one() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, "backcheck"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # Four answers of 0.5 s each, one at a time, cannot take less than 2 s (a lower
    # bound: a slow machine only makes it longer).
    assert float(done.stdout.strip()) >= 2.0


def test_a_redirected_request_takes_its_own_hosts_slot() -> None:
    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from crawler.downloader import Downloader

    crawler = get_crawler(settings_dict={"DOWNLOADER": "crawler.downloader.Downloader"})
    downloader = Downloader(crawler)
    # What RedirectMiddleware builds: the first host's slot in the copied meta.
    moved = Request("http://b.example/new", meta={"download_slot": "a.example"})
    assert downloader.get_slot_key(moved) == "b.example"
