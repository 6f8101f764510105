"""CrawlSpider: on-demand verification of a domain list (`backcheck crawl FILE`).

The domains come from the run's list in the database; each is crawled whole by
`crawler.spiders.domaincrawl` (the loop that `crawl --redis` workers run too).
Only a bounded number of domains is open at once, and a domain's frontier is
dropped when it is done, so memory does not grow with the list. What the crawl
fetched is stored (`crawl_pages`), so a killed crawl resumes without fetching
those pages again.

Also runnable by Scrapy/Scrapyd: `scrapy crawl crawl -a db=backcheck.db -a file=domains.txt`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals

from crawler.spiders.domaincrawl import CrawlLimits, DomainCrawl, Job, limits_from
from crawler.spiders.plumbing import (
    BACKOUT_POLL,
    ContactPages,
    backout,
    contacts_wanted,
    is_true,
)
from verifier import database
from verifier.crawl import read_domain_file, set_aside
from verifier.crawl.progress import DomainProgress
from verifier.readers import site_readers
from verifier.store import crawls, runs, storage

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class CrawlSpider(DomainCrawl):
    name = "crawl"

    def __init__(
        self,
        db: str = "backcheck.db",
        file: str | None = None,
        site: str | None = None,
        run_id: str | int | None = None,
        max_pages: str | int = 200,
        max_depth: str | int = 3,
        sitemaps: str | bool = True,
        new_run: str | bool = False,
        shard: str | None = None,
        stats_file: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.db_path = db
        self.db = database.open_db(db)
        if run_id is None:  # started by Scrapy itself: open (or resume) the run here
            if not file:
                raise ValueError("crawl needs -a file=DOMAINS (one domain or URL per line)")
            [domain] = storage.pick_sites(self.db, site, one=True)
            started = runs.start_run(self.db, [domain], new_run=is_true(new_run), kind="crawl")
            entries, bad = read_domain_file(file)
            competitors = storage.load_site(self.db, domain).competitors
            entries, aside = set_aside(entries, domain, competitors)
            for line in [*bad, *aside]:
                self.logger.warning(line.describe(file))
            crawls.add_domains(self.db, started.run_id, entries)
            run_id = started.run_id
        self.run_id = int(run_id)
        [self.site] = runs.run_sites(self.db, self.run_id)
        self.reader = site_readers(self.db, [self.site])[self.site]
        self.max_pages = int(max_pages)
        self.max_depth = int(max_depth)
        self.sitemaps = is_true(sitemaps)
        self.limits = CrawlLimits()  # set from the settings in from_crawler
        self.shard = tuple(int(v) for v in shard.split("/")) if shard else None
        self.stats_file = stats_file
        self.write_failed = False  # set by the pipeline when items could not be stored
        self.active: dict[str, DomainProgress] = {}
        self.jobs: dict[str, Job] = {}
        self.contact_pages = ContactPages(self.db)
        self.wants_contacts = contacts_wanted(self.db)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> CrawlSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.closed_run, signal=signals.spider_closed)
        spider.limits = limits_from(
            crawler.settings, spider.max_pages, spider.max_depth, spider.sitemaps
        )
        return spider

    # --- domains -----------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        at_once = self.settings.getint("BACKCHECK_CRAWL_DOMAINS_AT_ONCE")
        for pending in crawls.pending_domains(self.db, self.run_id):
            if self.shard and runs.shard_of(pending.domain, self.shard[1]) != self.shard[0]:
                continue
            # One slow domain holds only its own slots: others keep being opened.
            while len(self.active) >= at_once:
                await asyncio.sleep(BACKOUT_POLL)
            await backout(self.crawler)
            for output in self.open_job(self.job(pending)):
                yield output

    def job(self, pending: crawls.PendingDomain) -> Job:
        """A domain of the run, read against the database (a resumed one with its pages)."""
        return Job(
            pending.domain,
            pending.start_urls,
            self.limits,
            self.reader,
            known=lambda url: storage.backlinks_on_page(self.db, self.site, url),
            rivals=lambda url: storage.rivals_on_page(self.db, self.reader.competitors, url),
            wants_contacts=self.wants_contacts,
            contact_pages=self.contact_pages,
            fetched=crawls.fetched_pages(self.db, self.run_id, pending.domain),
        )

    # --- the end -------------------------------------------------------------

    def closed_run(self, spider: scrapy.Spider, reason: str) -> None:
        """A shard reports its stats; a single process closes the run."""
        stats = {**self.crawler.stats.get_stats(), "finish_reason": reason}
        if self.write_failed:
            stats["finish_reason"] = "backcheck_write_error"
        if self.shard is not None:
            if self.stats_file:
                Path(self.stats_file).write_text(json.dumps(stats, default=str))
            return
        finished = reason == "finished" and not self.write_failed and not self.active
        runs.finish_run(self.db, self.run_id, "finished" if finished else "interrupted", stats)
