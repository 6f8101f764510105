"""The baseline: a spider that fetches the same pages as backcheck and does nothing with them.

It runs with backcheck's own settings (crawler/settings.py and the same `-s`
overrides, through `crawler.runner.build_settings`), minus the item pipeline,
and builds its requests the way `VerifySpider.start` does. What backcheck
spends on top of this is the cost of verifying: parsing, classifying, storing.

With `--scrapy-defaults` it is the issue's "framework ceiling" instead: Scrapy
as shipped (its default middlewares, extensions and CONCURRENT_ITEMS), with
only the settings of backcheck's that decide what is fetched and how politely
(REQUEST_SETTINGS) and the `-s` overrides. backcheck's trimming of Scrapy's
components then counts for backcheck, not for the baseline.

`python -m bench.noop backlinks.csv [--scrapy-defaults] [-s NAME=VALUE]...` prints
a JSON summary (pages requested, Scrapy's elapsed time and response counts) on stdout.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.settings import Settings

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

#: As in crawler/spiders/verify.py: error statuses reach the callback.
HANDLED_STATUSES = list(range(400, 600))
REPORTED_STATS = (
    "elapsed_time_seconds",
    "response_received_count",
    "downloader/request_count",
    "downloader/response_bytes",
    "downloader/exception_count",
    "downloader/response_status_count/200",
    "downloader/response_status_count/301",
    "downloader/response_status_count/404",
    "log_count/ERROR",
    "finish_reason",
)


#: backcheck's settings that shape the crawl itself: who asks, how many at once, how
#: politely, what is followed and kept. Everything else is a component choice.
REQUEST_SETTINGS = (
    "USER_AGENT",
    "ROBOTSTXT_OBEY",
    "AUTOTHROTTLE_ENABLED",
    "AUTOTHROTTLE_MAX_DELAY",
    "AUTOTHROTTLE_START_DELAY",
    "AUTOTHROTTLE_TARGET_CONCURRENCY",
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_TIMEOUT",
    "DOWNLOAD_MAXSIZE",
    "DOWNLOAD_WARNSIZE",
    "REDIRECT_MAX_TIMES",
    "RETRY_ENABLED",
    "RETRY_TIMES",
    "COOKIES_ENABLED",
    "LOG_LEVEL",
)


def read_sources(path: Path) -> list[str]:
    """The distinct `source_url`s of a backlinks CSV, in file order."""
    with path.open(newline="", encoding="utf-8") as file:
        return list(dict.fromkeys(row["source_url"] for row in csv.DictReader(file)))


class NoopSpider(scrapy.Spider):
    name = "bench-noop"

    def __init__(self, sources: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = read_sources(Path(sources))

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            if self.crawler.engine.needs_backout():  # the same flow control as VerifySpider
                await self.crawler.signals.wait_for(signals.scheduler_empty)
            yield scrapy.Request(
                url,
                callback=self.parse,
                errback=self.on_error,
                meta={"handle_httpstatus_list": HANDLED_STATUSES},
                dont_filter=True,
            )

    def parse(self, response: Response) -> None:
        """The body is not looked at."""

    def on_error(self, failure: Failure) -> None:
        self.crawler.stats.inc_value("bench/failure")


def build_settings(overrides: list[str], scrapy_defaults: bool = False) -> Settings:
    """backcheck's settings without its pipeline, or Scrapy's with its REQUEST_SETTINGS."""
    from crawler import runner

    given = runner.parse_overrides(overrides)
    settings = runner.build_settings(given)
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    if not scrapy_defaults:
        return settings
    shipped = Settings()
    for name in REQUEST_SETTINGS:
        shipped.set(name, settings[name], priority="project")
    for name, value in given.items():
        shipped.set(name, value, priority="cmdline")
    return shipped


def crawl(sources: Path, overrides: list[str], scrapy_defaults: bool = False) -> dict[str, Any]:
    """Run the spider in this process; returns the summary that main() prints."""
    from scrapy.crawler import AsyncCrawlerProcess

    settings = build_settings(overrides, scrapy_defaults)
    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(NoopSpider)
    process.crawl(crawler, sources=str(sources))
    process.start()
    stats = crawler.stats.get_stats()
    spider = crawler.spider
    return {
        "pages": len(spider.urls) if isinstance(spider, NoopSpider) else None,
        "failures": stats.get("bench/failure", 0),
        "stats": {key: stats.get(key) for key in REPORTED_STATS},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.noop", description=__doc__)
    parser.add_argument("sources", type=Path, help="a CSV with a source_url column")
    parser.add_argument(
        "-s",
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a Scrapy setting, as `backcheck verify -s` does (repeatable)",
    )
    parser.add_argument(
        "--scrapy-defaults",
        action="store_true",
        help="Scrapy's own components, with only backcheck's REQUEST_SETTINGS",
    )
    args = parser.parse_args(argv)
    print(json.dumps(crawl(args.sources, args.overrides, args.scrapy_defaults), default=str))


if __name__ == "__main__":
    main()
