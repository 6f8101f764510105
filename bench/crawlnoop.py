"""The crawl benchmark's baseline: a Scrapy spider that follows the same links and does nothing.

`python -m bench.crawlnoop domains.txt --max-pages N --max-depth D [-s NAME=VALUE]...`

Scrapy as shipped (`bench.noop.build_settings(..., scrapy_defaults=True)`: Scrapy's
default components, only backcheck's REQUEST_SETTINGS and the `-s` overrides), plus
`DEPTH_LIMIT = D`. Per host of domains.txt (one `http://host/` line each) it starts at
the home page, and reads robots.txt's `Sitemap:` lines and /sitemap.xml with Scrapy's
own `SitemapSpider` machinery (sitemap indexes, gzip). Every HTML page is handed to a
`LinkExtractor(allow_domains=[host])` and its links are followed, up to D links from
where they started (Scrapy's DepthMiddleware) and N HTML pages per host (counted here).
Nothing else is done with a page. Prints a JSON summary: the HTML pages per host.

`--extractor xpath` takes the links with one XPath (`//a/@href | //area/@href`),
`response.urljoin` and a host comparison instead: the same links on the bench web,
without LinkExtractor's per-link URL cleaning (a leaner spider than Scrapy's idiom).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import SitemapSpider

from bench.noop import REPORTED_STATS, build_settings

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure


XPATH_LINKS = "//a/@href | //area/@href"
EXTRACTORS = ("linkextractor", "xpath")


def read_homes(path: Path) -> list[str]:
    """The start URLs of a domain list of URL lines (comments and blank lines skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class NoopFollowSpider(SitemapSpider):
    name = "bench-noop-follow"

    def __init__(
        self,
        domains: str,
        max_pages: int | str = 200,
        extractor: str = "linkextractor",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.homes = read_homes(Path(domains))
        self.max_pages = int(max_pages)
        self.xpath = extractor == "xpath"
        self.pages: Counter[str] = Counter()  # HTML pages per host
        self.failures: Counter[str] = Counter()  # per exception class
        self.extractors: dict[str, LinkExtractor] = {}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for home in self.homes:
            yield scrapy.Request(home, callback=self.parse, errback=self.on_error)
            for path in ("/robots.txt", "/sitemap.xml"):
                yield scrapy.Request(urljoin(home, path), callback=self._parse_sitemap)

    def _room(self, url: str) -> bool:
        return self.pages[host_of(url)] < self.max_pages

    def _parse_sitemap(self, response: Response) -> Iterable[scrapy.Request]:
        """SitemapSpider's own reading, without the pages of a host at its cap."""
        return [r for r in super()._parse_sitemap(response) if self._room(r.url)]

    def parse(self, response: Response, **kwargs: Any) -> Iterator[scrapy.Request]:
        """Count the page and follow its links on the same host; nothing else."""
        if not isinstance(response, HtmlResponse):
            return
        host = host_of(response.url)
        self.pages[host] += 1
        if not self._room(response.url):
            return
        for url in self._links(response, host):
            yield scrapy.Request(url, callback=self.parse, errback=self.on_error)

    def _links(self, response: HtmlResponse, host: str) -> Iterable[str]:
        if self.xpath:
            urls = (response.urljoin(h.strip()) for h in response.xpath(XPATH_LINKS).getall())
            return dict.fromkeys(u for u in urls if host_of(u) == host)
        extractor = self.extractors.get(host)
        if extractor is None:
            extractor = self.extractors[host] = LinkExtractor(allow_domains=[host])
        return (link.url for link in extractor.extract_links(response))

    def on_error(self, failure: Failure) -> None:
        """HttpError (404s) and IgnoreRequest (robots.txt) are answers; the rest failures."""
        self.failures[failure.type.__name__ if failure.type else "unknown"] += 1


def crawl(
    domains: Path,
    overrides: list[str],
    max_pages: int,
    max_depth: int,
    extractor: str = "linkextractor",
) -> dict[str, Any]:
    """Run the spider in this process; returns the summary that main() prints."""
    from scrapy.crawler import AsyncCrawlerProcess

    settings = build_settings(overrides, scrapy_defaults=True)
    settings.set("DEPTH_LIMIT", max_depth, priority="cmdline")
    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(NoopFollowSpider)
    process.crawl(crawler, domains=str(domains), max_pages=max_pages, extractor=extractor)
    process.start()
    stats = crawler.stats.get_stats()
    spider = crawler.spider
    assert isinstance(spider, NoopFollowSpider)
    answers = ("HttpError", "IgnoreRequest")
    return {
        "pages": sum(spider.pages.values()),
        "per_host": dict(sorted(spider.pages.items())),
        "failures": sum(n for name, n in spider.failures.items() if name not in answers),
        "errback": dict(spider.failures),
        "stats": {key: stats.get(key) for key in (*REPORTED_STATS, "request_depth_max")},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.crawlnoop", description=__doc__)
    parser.add_argument("domains", type=Path, help="one http://host/ line per host")
    parser.add_argument("--max-pages", type=int, default=200, help="HTML pages per host")
    parser.add_argument("--max-depth", type=int, default=3, help="Scrapy's DEPTH_LIMIT")
    parser.add_argument("--extractor", choices=EXTRACTORS, default=EXTRACTORS[0])
    parser.add_argument(
        "-s",
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a Scrapy setting (repeatable)",
    )
    args = parser.parse_args(argv)
    summary = crawl(args.domains, args.overrides, args.max_pages, args.max_depth, args.extractor)
    print(json.dumps(summary, default=str))


if __name__ == "__main__":
    main()
