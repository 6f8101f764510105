"""A sitemap's answer as `crawl` reads it: Scrapy's sitemap reader, and its guards."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from lxml import etree
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap

from verifier.crawl import SITEMAP_MAX_BYTES

if TYPE_CHECKING:
    from scrapy.http import Response


def sitemap_body(response: Response) -> bytes | None:
    """The sitemap's XML, gunzipped when needed (as Scrapy's SitemapSpider reads it)."""
    body = response.body
    if response.status != 200:
        return None
    if gzip_magic_number(response):
        try:
            return gunzip(body, max_size=SITEMAP_MAX_BYTES)
        except (OSError, ValueError, zlib.error, EOFError):
            return None
    if body.lstrip()[:1] == b"<":
        return body
    return None


def read_sitemap(body: bytes) -> Sitemap | None:
    """Scrapy's reading of a sitemap; None for XML without a root element (an XML
    declaration alone, markup that is no XML), where Scrapy's reader raises."""
    try:
        return Sitemap(body)
    except (StopIteration, ValueError, etree.LxmlError):
        return None
