"""MentionsSpider: read a given list of pages (or an alerts feed) for mentions.

No crawling beyond the list: each page is read once with the same reader as
`crawl` (`verifier.mentions.reading.read_discovered`), a page that links to the
site becomes a backlink with a full check (source `list` or `feed`), and a page
already known is re-checked, not duplicated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals

from crawler.failures import reason_for
from crawler.progress import PAGES_STAT
from crawler.spiders.plumbing import (
    HANDLED_STATUSES,
    ContactPages,
    backout,
    contacts_wanted,
    fetch_from,
    unread,
)
from verifier import database
from verifier.mentions import reading, sources
from verifier.readers import site_readers
from verifier.store import runs, storage
from verifier.verdict import classify
from verifier.verdict.urls import browser_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure


class MentionsSpider(scrapy.Spider):
    name = "mentions"

    def __init__(
        self,
        db: str = "backcheck.db",
        run_id: str | int | None = None,
        file: str | None = None,
        feed: str | None = None,
        site: str | None = None,
        shard: str | None = None,
        stats_file: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if bool(file) == bool(feed):
            raise ValueError("mentions needs one of -a file=URLS or -a feed=URL")
        self.db_path = db
        self.db = database.open_db(db)
        if run_id is None:
            sites = storage.pick_sites(self.db, site, one=True)
            run_id = runs.start_run(self.db, sites, new_run=True, kind="mentions").run_id
        self.run_id = int(run_id)
        [self.site] = runs.run_sites(self.db, self.run_id)
        self.reader = site_readers(self.db, [self.site])[self.site]
        self.file, self.feed = file, feed
        self.write_failed = False
        self.contact_pages = ContactPages(self.db)
        self.wants_contacts = contacts_wanted(self.db)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> MentionsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.closed_run, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        if self.feed:
            yield scrapy.Request(
                browser_url(self.feed),
                callback=self.parse_feed,
                errback=self.on_feed_error,
                meta={"handle_httpstatus_all": True},
                dont_filter=True,
            )
            return
        assert self.file is not None
        pages, bad = sources.read_page_file(self.file)
        pages, aside = sources.set_aside(pages, self.site, self.reader.competitors)
        for line in [*bad, *aside]:  # `backcheck mentions` said so on the console already
            self.logger.info("%s:%d: %s", self.file, line.line, line.reason)
        for page in pages:
            await backout(self.crawler)
            yield self._page_request(page.url, "list")

    def _page_request(self, url: str, source: str) -> scrapy.Request:
        return scrapy.Request(
            browser_url(url),  # a Unicode host as browsers encode it
            callback=self.parse_page,
            errback=self.on_page_error,
            cb_kwargs={"source": source},
            meta={"handle_httpstatus_list": HANDLED_STATUSES},
            dont_filter=True,
        )

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status >= 400:
            self.logger.error("%s: the feed answered %d", response.url, response.status)
            self.crawler.stats.set_value(
                "backcheck/feed_error", f"{response.url} answered {response.status}"
            )
            return
        try:
            pages, bad = sources.read_feed(response.body)
        except sources.SourceError as exc:
            self.logger.error("%s: %s", response.url, exc)
            self.crawler.stats.set_value("backcheck/feed_error", f"{response.url}: {exc}")
            return
        for line in bad:
            self.logger.warning("%s: entry %d: %s", response.url, line.line, line.reason)
        pages, aside = sources.set_aside(pages, self.site, self.reader.competitors)
        for line in aside:  # an alert about a competitor's or the site's own page
            self.logger.info("%s: entry %d: %s", response.url, line.line, line.reason)
        for page in pages:
            yield self._page_request(page.url, "feed")

    def on_feed_error(self, failure: Failure) -> None:
        reason, detail = reason_for(failure)
        self.logger.error("%s: the feed could not be read: %s", failure.request.url, detail)
        self.crawler.stats.set_value(
            "backcheck/feed_error", f"{failure.request.url}: {reason.value} ({detail})"
        )

    def parse_page(self, response: Response, source: str) -> Iterator[Any]:
        fetch = fetch_from(response)
        self.crawler.stats.inc_value("backcheck/pages_read")
        self.crawler.stats.inc_value(PAGES_STAT)  # the progress shown
        known = storage.backlinks_on_page(self.db, self.site, fetch.requested_url)
        rivals = storage.rivals_on_page(self.db, self.reader.competitors, fetch.requested_url)
        try:
            items = reading.read_discovered(
                fetch,
                self.reader,
                source,
                known,
                follow_redirects=True,
                wants_contacts=self.wants_contacts,
                rivals=rivals,
            )
        except Exception as exc:  # a page that brings out a bug still gets its checks
            items = list(unread(self.logger, fetch, [*known, *rivals], exc))
        return self.contact_pages.follow(items)

    def on_page_error(self, failure: Failure) -> Iterator[Any]:
        reason, detail = reason_for(failure)
        self.crawler.stats.inc_value(f"backcheck/failure/{reason.value}")
        self.crawler.stats.inc_value(PAGES_STAT)
        self.logger.info("%s: %s", failure.request.url, detail)
        for ref in storage.backlinks_on_page(self.db, self.site, failure.request.url):
            yield classify.check_failure(ref, reason, detail)

    def closed_run(self, spider: scrapy.Spider, reason: str) -> None:
        stats = {**self.crawler.stats.get_stats(), "finish_reason": reason}
        if self.write_failed:
            stats["finish_reason"] = "backcheck_write_error"
        feed_error = stats.get("backcheck/feed_error")
        state = "finished" if reason == "finished" and not self.write_failed else "interrupted"
        if feed_error is not None:
            state = "failed"
        runs.finish_run(
            self.db, self.run_id, state, stats, error=f"feed: {feed_error}" if feed_error else None
        )
