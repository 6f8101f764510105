"""One domain's crawl, whoever hands the domains out: `crawl`'s loop, shared by two spiders.

`CrawlSpider` (crawler/spiders/crawl.py) opens the domains of a run from the
database; `WorkerSpider` (crawler/spiders/worker.py) opens those a `crawl
--redis` owner queued. Either way a domain is crawled here, whole, in one
process: the home page (https, falling back to http), robots.txt's sitemaps and
/sitemap.xml, then internal links breadth-first within the page and depth caps,
all in an in-memory `DomainFrontier`. What a spider must say about a domain (its
limits, what is known of its pages, where its results go) is its `Job`.

A little over the style guide's 400 lines: pages, robots.txt and sitemaps, and
the domain's contact page are steps of one loop over the same `DomainProgress`;
what stands alone lives in `crawler.sitemaps` and `verifier.crawl`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import scrapy
from protego import Protego

from crawler.failures import reason_for
from crawler.middlewares import RobotsTxtMiddleware
from crawler.progress import DOMAINS_STAT, PAGES_STAT
from crawler.sitemaps import read_sitemap, sitemap_body
from crawler.spiders.plumbing import (
    CONTACT_PAGE,
    HANDLED_STATUSES,
    ContactPages,
    addresses,
    contact_reading,
    fetch_from,
    unread,
)
from verifier.crawl import (
    SITEMAP_MAX_BYTES,
    SITEMAP_MAX_URLS,
    DomainEntry,
    DomainFrontier,
    TrapLimits,
    sitemap_start_urls,
    sitemap_url_allowed,
)
from verifier.crawl.progress import DomainProgress
from verifier.crawl.visit import Visit, visit
from verifier.mentions.reading import SiteReader, WantsContacts
from verifier.models import BacklinkRef, CrawledPage, DomainDone, Fetch, Reason
from verifier.verdict import classify
from verifier.verdict.urls import browser_url

if TYPE_CHECKING:
    from scrapy.http import Response
    from scrapy.settings import Settings
    from twisted.python.failure import Failure


@dataclass(frozen=True, slots=True)
class CrawlLimits:
    """How far a domain is crawled (`crawl --max-pages/--max-depth/--no-sitemaps`, settings)."""

    max_pages: int = 200
    max_depth: int = 3
    sitemaps: bool = True
    max_sitemaps: int = 20
    traps: TrapLimits = field(default_factory=TrapLimits)

    def to_dict(self) -> dict[str, Any]:
        traps = self.traps
        return {
            "max_pages": self.max_pages,
            "max_depth": self.max_depth,
            "sitemaps": self.sitemaps,
            "max_sitemaps": self.max_sitemaps,
            "max_url_length": traps.max_url_length,
            "max_segment_repeats": traps.max_segment_repeats,
            "max_query_variants": traps.max_query_variants,
            "session_params": sorted(traps.session_params),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CrawlLimits:
        traps = TrapLimits(
            max_url_length=int(data["max_url_length"]),
            max_segment_repeats=int(data["max_segment_repeats"]),
            max_query_variants=int(data["max_query_variants"]),
            session_params=frozenset(data["session_params"]),
        )
        return cls(
            int(data["max_pages"]),
            int(data["max_depth"]),
            bool(data["sitemaps"]),
            int(data["max_sitemaps"]),
            traps,
        )


def limits_from(settings: Settings, max_pages: int, max_depth: int, sitemaps: bool) -> CrawlLimits:
    """The limits of a crawl: its options, and the BACKCHECK_CRAWL_* settings."""
    traps = TrapLimits(
        max_url_length=settings.getint("BACKCHECK_CRAWL_MAX_URL_LENGTH"),
        max_segment_repeats=settings.getint("BACKCHECK_CRAWL_MAX_SEGMENT_REPEATS"),
        max_query_variants=settings.getint("BACKCHECK_CRAWL_MAX_QUERY_VARIANTS"),
        session_params=frozenset(
            name.lower() for name in settings.getlist("BACKCHECK_CRAWL_SESSION_PARAMS")
        ),
    )
    max_sitemaps = settings.getint("BACKCHECK_CRAWL_MAX_SITEMAPS")
    return CrawlLimits(max_pages, max_depth, sitemaps, max_sitemaps, traps)


Lookup = Callable[[str], Sequence[BacklinkRef]]


@dataclass(slots=True)
class Job:
    """One domain to crawl, and what its pages are read against."""

    domain: str
    start_urls: tuple[str, ...]
    limits: CrawlLimits
    reader: SiteReader
    known: Lookup  # url -> the site's known backlinks on that page
    rivals: Lookup  # url -> the competitors' known backlinks on that page
    wants_contacts: WantsContacts
    contact_pages: ContactPages
    fetched: Sequence[CrawledPage] = ()  # what earlier processes fetched (a resumed domain)
    run: str = ""  # over Redis: the run its results go to
    shard: int = 0  # over Redis: the shard queue it came from


class DomainCrawl(scrapy.Spider):
    """The per-domain loop; subclasses open jobs (`open_job`) and may wrap the outputs."""

    jobs: dict[str, Job]
    active: dict[str, DomainProgress]

    def results(self, job: Job, outputs: Iterable[Any]) -> Iterator[Any]:
        """What a callback of `job`'s crawl gives (requests and items), as the spider yields
        it: here unchanged."""
        yield from outputs

    def request_meta(self, job: Job) -> dict[str, Any]:
        """Extra meta of every request of `job`'s crawl."""
        return {}

    # --- domains -----------------------------------------------------------

    def open_job(self, job: Job) -> Iterator[Any]:
        frontier = DomainFrontier(
            job.domain,
            max_pages=job.limits.max_pages,
            max_depth=job.limits.max_depth,
            limits=job.limits.traps,
        )
        progress = DomainProgress(frontier)
        # A resumed domain: what an earlier process fetched is seen, its links queued again.
        home = None
        for page in job.fetched:
            frontier.mark_seen(page.url, ok=page.ok)
            progress.answers += page.http_status is not None
            if page.depth == 0 and page.ok and home is None:
                home = page.url
            for link in page.links:
                frontier.add(link, page.depth + 1)
        for url, fallback in _attempts(job.start_urls):
            if frontier.add(url, 0) is None and fallback:
                progress.fallbacks[url] = fallback
        self.active[job.domain] = progress
        self.jobs[job.domain] = job
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
            del self.jobs[progress.domain]
            stopped = progress.stop()
            self.crawler.stats.inc_value(f"backcheck/crawl/stopped/{stopped.value}")
            self.crawler.stats.inc_value(DOMAINS_STAT)
            yield DomainDone(progress.domain, stopped.value)

    def _request(self, domain: str, url: str, callback: Any, errback: Any, **kw: Any) -> Any:
        meta = {**kw.pop("meta", {}), **self.request_meta(self.jobs[domain])}
        return scrapy.Request(
            browser_url(url),  # a Unicode host as browsers encode it
            callback=callback,
            errback=errback,
            meta=meta,
            # The frontier already fetches each URL once; redirects to one URL are all read.
            dont_filter=True,
            **kw,
        )

    def _page_request(self, domain: str, url: str, depth: int) -> scrapy.Request:
        return self._request(
            domain,
            url,
            self.parse_page,
            self.on_page_error,
            cb_kwargs={"domain": domain, "depth": depth},
            meta={"handle_httpstatus_list": HANDLED_STATUSES},
        )

    # --- pages -------------------------------------------------------------

    def parse_page(self, response: Response, domain: str, depth: int) -> Iterator[Any]:
        job = self.jobs[domain]
        yield from self.results(job, self._parse_page(job, response, depth))

    def _parse_page(self, job: Job, response: Response, depth: int) -> Iterator[Any]:
        domain = job.domain
        progress = self.active[domain]
        fetch = fetch_from(response)
        progress.answers += 1
        contact_domain = progress.take_due(fetch.requested_url)
        found: tuple[Any, ...] | None = None  # its addresses, read once when needed
        if contact_domain is not None:  # also the contact page that targets wait for
            found = contact_reading(fetch)
            yield from job.contact_pages.deliver(contact_domain, found)
        if progress.frontier.fetched_elsewhere(fetch.requested_url, fetch.final_url):
            # A redirect to a page this crawl fetches on its own: read and counted once.
            progress.frontier.redirected(fetch.requested_url)
            yield CrawledPage(domain, fetch.requested_url, depth, fetch.status, False)
            yield from self._advance(progress)
            return
        # A page that left for another registered domain is the page the crawl asked for:
        # its backlinks are lost (redirected away). Those known where it landed are another
        # domain's, and were never this fetch's to judge (a crawl worker does not have them).
        page_url = fetch.requested_url if classify.redirected_away(fetch) else fetch.final_url
        known = job.known(page_url)
        rivals = job.rivals(page_url)
        # The domain's contact page, named by a link's text alone (/team as "Contact"),
        # is known before the crawl fetches it: then read for its addresses once.
        look = progress.wants_contact_link()
        try:
            seen = visit(
                fetch, job.reader, domain, known, job.wants_contacts, rivals, find_contact_page=look
            )
        except Exception as exc:  # a page that brings out a bug: its checks, nothing more
            seen = Visit(list(unread(self.logger, fetch, [*known, *rivals], exc)))
        if look and seen.ok:
            progress.contact_looks += 1
            if seen.contact_page and (link_key := progress.key(seen.contact_page)):
                progress.contact_links.add(link_key)
        url = fetch.requested_url
        if seen.ok and (key := progress.contact_key(url)):
            progress.contact_pages[key] = addresses(fetch) if found is None else found
        # Links past the depth cap are refused, and remembered as `depth_limit`.
        added = [link for link in seen.links if progress.frontier.add(link, depth + 1) is None]
        yield from self._follow_contacts(job, progress, fetch, seen.items)
        if not seen.ok:
            progress.failures += 1
        progress.frontier.fetched(fetch.requested_url, ok=seen.ok, final_url=fetch.final_url)
        if seen.ok:
            self.crawler.stats.inc_value(PAGES_STAT)
        yield CrawledPage(domain, fetch.requested_url, depth, fetch.status, seen.ok, tuple(added))
        if depth == 0 and not progress.started:
            # Where the home page landed, unless that is another domain's (a site sold
            # or moved): its sitemaps list none of this domain's pages.
            on_domain = sitemap_url_allowed(fetch.final_url, domain)
            yield from self._start_sitemaps(progress, fetch.final_url if on_domain else url)
        yield from self._advance(progress)

    def _follow_contacts(
        self, job: Job, progress: DomainProgress, fetch: Fetch, items: Iterable[Any]
    ) -> Iterator[Any]:
        """Items and contact page requests of `fetch`'s targets (`ContactPages.follow`); a
        contact page the crawl has queued is fetched once, as a crawl page read for both."""
        for output in job.contact_pages.follow(items):
            contact_domain = (
                output.meta.get(CONTACT_PAGE) if isinstance(output, scrapy.Request) else None
            )
            key = progress.key(output.url) if contact_domain else None
            claimed = progress.frontier.claim(output.url) if key else False
            if claimed is False:
                known = progress.known_contacts(key, contact_domain)
                if known is not None:  # crawled before a target pointed there
                    yield from job.contact_pages.deliver(contact_domain, known)
                else:
                    yield output
                continue
            if key == progress.key(fetch.requested_url):
                yield from job.contact_pages.read(fetch, contact_domain)  # this very page
                continue
            assert key is not None  # claimed
            progress.contacts_due[key] = contact_domain
            if claimed is not True:  # else in flight as a crawl page already
                url, depth = claimed
                yield self._page_request(job.domain, url, depth)

    def on_page_error(self, failure: Failure) -> Iterator[Any]:
        job = self.jobs[failure.request.cb_kwargs["domain"]]
        yield from self.results(job, self._on_page_error(job, failure))

    def _on_page_error(self, job: Job, failure: Failure) -> Iterator[Any]:
        request = failure.request
        domain, depth = job.domain, request.cb_kwargs["depth"]
        progress = self.active[domain]
        reason, detail = reason_for(failure)
        self.crawler.stats.inc_value(f"backcheck/crawl/failure/{reason.value}")
        url = request.meta.get("redirect_urls", [request.url])[0]
        progress.frontier.fetched(url, ok=False)
        contact_domain = progress.take_due(url)
        if contact_domain is not None:
            yield from job.contact_pages.failed(contact_domain)
        fallback = progress.fallbacks.pop(url, None)
        if reason is Reason.ROBOTS_BLOCKED:
            progress.robots_blocked_home |= depth == 0
            if depth == 0 and not progress.started:
                # The home page is shut out, perhaps not the domain (`Allow: /blog/`):
                # its sitemaps may list pages robots.txt allows.
                yield from self._start_sitemaps(progress, url)
        elif fallback is not None and progress.frontier.add(fallback, 0) is None:
            pass  # https gave no answer: the http twin is next, no failure yet
        else:
            progress.failures += 1
        for ref in job.known(url):
            yield classify.check_failure(ref, reason, detail)
        yield CrawledPage(domain, url, depth, None, False)
        yield from self._advance(progress)

    # --- robots.txt and sitemaps ----------------------------------------------

    def _start_sitemaps(self, progress: DomainProgress, home_url: str) -> Iterator[Any]:
        progress.started = True
        if not self.jobs[progress.domain].limits.sitemaps:
            return
        named = self._robots_sitemaps(home_url)
        if named is not None:  # robots.txt was read for the home page: not fetched again
            yield from self._sitemap_requests(progress, sitemap_start_urls(home_url, named))
            return
        progress.other_requests += 1
        yield self._request(
            progress.domain,
            _robots_url(home_url),
            self.parse_robots,
            self.on_robots_error,
            cb_kwargs={"domain": progress.domain, "home_url": home_url},
            meta={"dont_obey_robotstxt": True, "handle_httpstatus_all": True},
        )

    def _robots_sitemaps(self, url: str) -> list[str] | None:
        """What the robots.txt middleware read for `url`'s host names as sitemaps (None:
        it read nothing there: robots.txt not obeyed, or a resumed domain)."""
        engine = self.crawler.engine
        middlewares = engine.downloader.middleware.middlewares if engine else ()
        for middleware in middlewares:
            if isinstance(middleware, RobotsTxtMiddleware):
                return middleware.sitemaps(url)
        return None

    def parse_robots(self, response: Response, domain: str, home_url: str) -> Iterator[Any]:
        job = self.jobs[domain]
        progress = self.active[domain]
        progress.other_requests -= 1
        named: list[str] = []
        if response.status == 200:
            text = response.body.decode("utf-8", "replace")
            named = list(Protego.parse(text).sitemaps)
        urls = sitemap_start_urls(home_url, named)
        outputs = [*self._sitemap_requests(progress, urls), *self._advance(progress)]
        yield from self.results(job, outputs)

    def on_robots_error(self, failure: Failure) -> Iterator[Any]:
        kwargs = failure.request.cb_kwargs
        job = self.jobs[kwargs["domain"]]
        progress = self.active[job.domain]
        progress.other_requests -= 1
        urls = sitemap_start_urls(kwargs["home_url"])
        outputs = [*self._sitemap_requests(progress, urls), *self._advance(progress)]
        yield from self.results(job, outputs)

    def _sitemap_requests(self, progress: DomainProgress, urls: list[str]) -> Iterator[Any]:
        limit = self.jobs[progress.domain].limits.max_sitemaps
        for url in urls:
            if progress.sitemaps_read >= limit:
                self.logger.warning("%s: more than %d sitemaps; the rest skipped", url, limit)
                return
            progress.sitemaps_read += 1
            progress.other_requests += 1
            yield self._request(
                progress.domain,
                url,
                self.parse_sitemap,
                self.on_sitemap_error,
                cb_kwargs={"domain": progress.domain},
                meta={"download_maxsize": SITEMAP_MAX_BYTES},
            )

    def parse_sitemap(self, response: Response, domain: str) -> Iterator[Any]:
        job = self.jobs[domain]
        yield from self.results(job, list(self._parse_sitemap(response, domain)))

    def _parse_sitemap(self, response: Response, domain: str) -> Iterator[Any]:
        progress = self.active[domain]
        progress.other_requests -= 1
        body = sitemap_body(response)
        sitemap = read_sitemap(body) if body is not None else None
        if sitemap is None:
            self.logger.info("%s: not a sitemap", response.url)
        elif sitemap.type == "sitemapindex":
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
        job = self.jobs[failure.request.cb_kwargs["domain"]]
        progress = self.active[job.domain]
        progress.other_requests -= 1
        yield from self.results(job, list(self._advance(progress)))


def _attempts(start_urls: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """Each start URL with its http:// twin to fall back on (see DomainEntry.attempts)."""
    return list(DomainEntry(0, "", start_urls).attempts)


def _robots_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/robots.txt"
