"""The pure logic of a domain-list crawl (`backcheck crawl FILE`).

* `domainlist`: read the input file, one domain or URL per line, into
  `DomainEntry`s (scope, start URLs) and `BadLine`s (`FILE:LINE: reason`).
* `frontier`: canonical crawl keys, URL-trap guards and the bounded
  breadth-first `DomainFrontier` of one domain, plus the sitemap rules and the
  end-of-crawl `stop_reason`.

The Scrapy side (robots.txt, fetching, sitemap parsing) lives in crawler/ and
only asks these functions what to do.
"""

from __future__ import annotations

from verifier.crawl.domainlist import (
    BadLine,
    DomainEntry,
    DomainListError,
    read_domain_file,
    read_domain_list,
    set_aside,
)
from verifier.crawl.frontier import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_PAGES,
    QUEUE_FACTOR,
    SESSION_PARAMS,
    SITEMAP_MAX_BYTES,
    SITEMAP_MAX_URLS,
    DomainFrontier,
    Refusal,
    Stop,
    TrapLimits,
    clean_url,
    crawl_key,
    idna_host,
    sitemap_start_urls,
    sitemap_url_allowed,
    stop_reason,
    trap_reason,
)

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_PAGES",
    "QUEUE_FACTOR",
    "SESSION_PARAMS",
    "SITEMAP_MAX_BYTES",
    "SITEMAP_MAX_URLS",
    "BadLine",
    "DomainEntry",
    "DomainFrontier",
    "DomainListError",
    "Refusal",
    "Stop",
    "TrapLimits",
    "clean_url",
    "crawl_key",
    "idna_host",
    "read_domain_file",
    "read_domain_list",
    "set_aside",
    "sitemap_start_urls",
    "sitemap_url_allowed",
    "stop_reason",
    "trap_reason",
]
