"""CrawlSpider: on-demand verification of a domain list (`backcheck crawl FILE`).

Per domain: the home page (https, falling back to http), robots.txt's sitemaps
and /sitemap.xml, then internal links breadth-first within the page and depth
caps. Only a bounded number of domains is open at once, and a domain's frontier
is dropped when it is done, so memory does not grow with the list. Every page
goes through `verifier.crawl.visit`; what the crawl fetched is stored
(`crawl_pages`), so a killed crawl resumes without fetching those pages again.

Also runnable by Scrapy/Scrapyd: `scrapy crawl crawl -a db=backcheck.db -a file=domains.txt`.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scrapy
from protego import Protego
from scrapy import signals
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap

from crawler.failures import reason_for
from crawler.progress import DOMAINS_STAT, PAGES_STAT
from crawler.spiders.plumbing import (
    BACKOUT_POLL,
    HANDLED_STATUSES,
    ContactPages,
    backout,
    contacts_wanted,
    fetch_from,
    is_true,
    site_readers,
)
from verifier import database
from verifier.crawl import (
    SITEMAP_MAX_BYTES,
    SITEMAP_MAX_URLS,
    DomainEntry,
    DomainFrontier,
    TrapLimits,
    read_domain_file,
    sitemap_start_urls,
    sitemap_url_allowed,
)
from verifier.crawl.progress import DomainProgress
from verifier.crawl.visit import visit
from verifier.models import CrawledPage, DomainDone, Reason
from verifier.store import crawls, runs, storage
from verifier.verdict import classify

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure


class CrawlSpider(scrapy.Spider):
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
            for line in bad:
                self.logger.warning(line.describe(file))
            crawls.add_domains(self.db, started.run_id, entries)
            run_id = started.run_id
        self.run_id = int(run_id)
        [self.site] = json.loads(
            self.db.execute("select sites from runs where id = ?", [self.run_id]).fetchone()[0]
        )
        self.reader = site_readers(self.db, [self.site])[self.site]
        self.max_pages = int(max_pages)
        self.max_depth = int(max_depth)
        self.sitemaps = is_true(sitemaps)
        self.limits: TrapLimits = TrapLimits()  # set from the settings in from_crawler
        self.shard = tuple(int(v) for v in shard.split("/")) if shard else None
        self.stats_file = stats_file
        self.write_failed = False  # set by the pipeline when items could not be stored
        self.active: dict[str, DomainProgress] = {}
        self.contact_pages = ContactPages(self.db)
        self.wants_contacts = contacts_wanted(self.db)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> CrawlSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.closed_run, signal=signals.spider_closed)
        settings = crawler.settings
        spider.limits = TrapLimits(
            max_url_length=settings.getint("BACKCHECK_CRAWL_MAX_URL_LENGTH"),
            max_segment_repeats=settings.getint("BACKCHECK_CRAWL_MAX_SEGMENT_REPEATS"),
            max_query_variants=settings.getint("BACKCHECK_CRAWL_MAX_QUERY_VARIANTS"),
            session_params=frozenset(
                name.lower() for name in settings.getlist("BACKCHECK_CRAWL_SESSION_PARAMS")
            ),
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
            for output in self._open(pending):
                yield output

    def _open(self, pending: crawls.PendingDomain) -> Iterator[Any]:
        frontier = DomainFrontier(
            pending.domain, max_pages=self.max_pages, max_depth=self.max_depth, limits=self.limits
        )
        progress = DomainProgress(frontier)
        # A resumed run: what an earlier process fetched is seen, its links queued again.
        home = None
        for page in crawls.fetched_pages(self.db, self.run_id, pending.domain):
            frontier.mark_seen(page.url, ok=page.ok)
            progress.answers += page.http_status is not None
            if page.depth == 0 and page.ok and home is None:
                home = page.url
            for link in page.links:
                frontier.add(link, page.depth + 1)
        for url, fallback in _attempts(pending.start_urls):
            if frontier.add(url, 0) is None and fallback:
                progress.fallbacks[url] = fallback
        self.active[pending.domain] = progress
        if home is not None:  # its sitemaps' URLs were not stored: read them again
            yield from self._start_sitemaps(progress, home)
        yield from self._advance(progress)

    def _advance(self, progress: DomainProgress) -> Iterator[Any]:
        """Request what the frontier allows now; close the domain once nothing is left."""
        while (popped := progress.frontier.pop()) is not None:
            url, depth = popped
            yield self._page_request(progress.domain, url, depth)
        if progress.idle and self.active.get(progress.domain) is progress:
            del self.active[progress.domain]
            stopped = progress.stop()
            self.crawler.stats.inc_value(f"backcheck/crawl/stopped/{stopped.value}")
            self.crawler.stats.inc_value(DOMAINS_STAT)
            yield DomainDone(progress.domain, stopped.value)

    def _page_request(self, domain: str, url: str, depth: int) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_page,
            errback=self.on_page_error,
            cb_kwargs={"domain": domain, "depth": depth},
            meta={"handle_httpstatus_list": HANDLED_STATUSES},
            # The frontier already fetches each URL once; redirects to one URL are all read.
            dont_filter=True,
        )

    # --- pages -------------------------------------------------------------

    def parse_page(self, response: Response, domain: str, depth: int) -> Iterator[Any]:
        progress = self.active[domain]
        fetch = fetch_from(response)
        progress.answers += 1
        if progress.frontier.fetched_elsewhere(fetch.requested_url, fetch.final_url):
            # A redirect to a page this crawl fetches on its own: read and counted once.
            progress.frontier.redirected(fetch.requested_url)
            yield CrawledPage(domain, fetch.requested_url, depth, fetch.status, False)
            yield from self._advance(progress)
            return
        known = storage.backlinks_on_page(self.db, self.site, fetch.final_url)
        rivals = storage.rivals_on_page(self.db, self.reader.competitors, fetch.final_url)
        seen = visit(fetch, self.reader, domain, known, self.wants_contacts, rivals)
        yield from self.contact_pages.follow(seen.items)
        # Links past the depth cap are refused, and remembered as `depth_limit`.
        added = [link for link in seen.links if progress.frontier.add(link, depth + 1) is None]
        if not seen.ok:
            progress.failures += 1
        progress.frontier.fetched(fetch.requested_url, ok=seen.ok, final_url=fetch.final_url)
        if seen.ok:
            self.crawler.stats.inc_value(PAGES_STAT)
        yield CrawledPage(domain, fetch.requested_url, depth, fetch.status, seen.ok, tuple(added))
        if depth == 0 and not progress.started:
            yield from self._start_sitemaps(progress, fetch.final_url)
        yield from self._advance(progress)

    def on_page_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request
        domain, depth = request.cb_kwargs["domain"], request.cb_kwargs["depth"]
        progress = self.active[domain]
        reason, detail = reason_for(failure)
        self.crawler.stats.inc_value(f"backcheck/crawl/failure/{reason.value}")
        url = request.meta.get("redirect_urls", [request.url])[0]
        progress.frontier.fetched(url, ok=False)
        fallback = progress.fallbacks.pop(url, None)
        if reason is Reason.ROBOTS_BLOCKED:
            progress.robots_blocked_home |= depth == 0
        elif fallback is not None and progress.frontier.add(fallback, 0) is None:
            pass  # https gave no answer: the http twin is next, no failure yet
        else:
            progress.failures += 1
        for ref in storage.backlinks_on_page(self.db, self.site, url):
            yield classify.check_failure(ref, reason, detail)
        yield CrawledPage(domain, url, depth, None, False)
        yield from self._advance(progress)

    # --- robots.txt and sitemaps ----------------------------------------------

    def _start_sitemaps(self, progress: DomainProgress, home_url: str) -> Iterator[Any]:
        progress.started = True
        if not self.sitemaps:
            return
        progress.other_requests += 1
        yield scrapy.Request(
            _robots_url(home_url),
            callback=self.parse_robots,
            errback=self.on_robots_error,
            cb_kwargs={"domain": progress.domain, "home_url": home_url},
            meta={"dont_obey_robotstxt": True, "handle_httpstatus_all": True},
            dont_filter=True,
        )

    def parse_robots(self, response: Response, domain: str, home_url: str) -> Iterator[Any]:
        progress = self.active[domain]
        progress.other_requests -= 1
        named: list[str] = []
        if response.status == 200:
            text = response.body.decode("utf-8", "replace")
            named = list(Protego.parse(text).sitemaps)
        yield from self._sitemap_requests(progress, sitemap_start_urls(home_url, named))
        yield from self._advance(progress)

    def on_robots_error(self, failure: Failure) -> Iterator[Any]:
        kwargs = failure.request.cb_kwargs
        progress = self.active[kwargs["domain"]]
        progress.other_requests -= 1
        yield from self._sitemap_requests(progress, sitemap_start_urls(kwargs["home_url"]))
        yield from self._advance(progress)

    def _sitemap_requests(self, progress: DomainProgress, urls: list[str]) -> Iterator[Any]:
        limit = self.settings.getint("BACKCHECK_CRAWL_MAX_SITEMAPS")
        for url in urls:
            if progress.sitemaps_read >= limit:
                self.logger.warning("%s: more than %d sitemaps; the rest skipped", url, limit)
                return
            progress.sitemaps_read += 1
            progress.other_requests += 1
            yield scrapy.Request(
                url,
                callback=self.parse_sitemap,
                errback=self.on_sitemap_error,
                cb_kwargs={"domain": progress.domain},
                meta={"download_maxsize": SITEMAP_MAX_BYTES},
                dont_filter=True,
            )

    def parse_sitemap(self, response: Response, domain: str) -> Iterator[Any]:
        progress = self.active[domain]
        progress.other_requests -= 1
        body = _sitemap_body(response)
        if body is None:
            self.logger.info("%s: not a sitemap", response.url)
        else:
            sitemap = Sitemap(body)
            if sitemap.type == "sitemapindex":
                locs = [entry["loc"] for entry in sitemap if "loc" in entry]
                allowed = [u for u in locs if sitemap_url_allowed(u, domain)]
                yield from self._sitemap_requests(progress, allowed)
            elif sitemap.type == "urlset":
                for count, entry in enumerate(sitemap):
                    if count >= SITEMAP_MAX_URLS:
                        break
                    loc = entry.get("loc")
                    if loc and sitemap_url_allowed(loc, domain):
                        progress.frontier.add(loc, 0)
        yield from self._advance(progress)

    def on_sitemap_error(self, failure: Failure) -> Iterator[Any]:
        progress = self.active[failure.request.cb_kwargs["domain"]]
        progress.other_requests -= 1
        yield from self._advance(progress)

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


def _attempts(start_urls: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """Each start URL with its http:// twin to fall back on (see DomainEntry.attempts)."""
    return list(DomainEntry(0, "", start_urls).attempts)


def _robots_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/robots.txt"


def _sitemap_body(response: Response) -> bytes | None:
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
