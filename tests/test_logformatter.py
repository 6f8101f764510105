"""crawler.logformatter: no per-page DEBUG records unless DEBUG is shown."""

from __future__ import annotations

import pytest
from scrapy import Spider
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.logformatter import LogFormatter


class Quiet(Spider):
    name = "quiet"


@pytest.mark.parametrize(
    ("level", "logged"), [("DEBUG", True), (10, True), ("INFO", False), ("WARNING", False)]
)
def test_per_page_records_only_at_debug(level: object, logged: bool) -> None:
    crawler = get_crawler(Quiet, {"LOG_LEVEL": level})
    formatter = LogFormatter.from_crawler(crawler)
    request = Request("http://x.test/")
    response = HtmlResponse("http://x.test/", body=b"<p>x</p>", request=request)
    spider = crawler._create_spider()
    assert (formatter.crawled(request, response, spider) is not None) is logged
    assert (formatter.scraped({"a": 1}, response, spider) is not None) is logged
    # Everything else is Scrapy's as it was.
    assert formatter.item_error({"a": 1}, ValueError("x"), response, spider)["level"] > 10
