"""WorkerSpider: `backcheck worker`'s crawl, fed by the shared scrapy-redis queue.

Its requests are pushed by the owner of a run (`verify --redis`) and popped by
scrapy-redis's scheduler; each carries the page's backlinks and its run in
`meta`, so a worker needs no database. Pages are read as a local `verify`
reads them (`verifier.mentions.reading`: checks, then mentions of the run's
brands, whose profiles the owner shares once per run: `crawler.cluster.profile`),
and rendered in this process's Chromium when the run's render mode asks
(`crawler.spiders.rendering`; the result waits for the render);
the site's own target pages, open outreach targets and new targets' contact pages
(`crawler.cluster.contacts`) are fetched as a local `verify` fetches them. Everything
goes back through Redis (`crawler.cluster.pipeline`).

A `crawl --redis` owner queues domains instead of pages (`crawler.cluster.crawljob`):
the worker that pops one crawls the whole domain in this process, with the loop
of a local `crawl` (`crawler.spiders.domaincrawl`), and sends what each of its
requests gave as one result, ending with the domain's `DomainDone`.

scrapy-redis 0.9.1 feeds idle spiders from `spider_idle` and its spiders define
only `start_requests`, which Scrapy 2.16+ never calls; this spider instead has
an empty `start()` and keeps itself open with `DontCloseSpider`. Its requests
come from the shard queues this worker leases (`crawler.cluster.scheduler`,
which also wakes an idle engine when requests arrive).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet import task

from crawler import render
from crawler.cluster import message
from crawler.cluster.contacts import HeldContacts
from crawler.cluster.crawljob import job_from
from crawler.cluster.keys import OPEN_PREFIX
from crawler.cluster.pipeline import Result
from crawler.cluster.profile import Readings
from crawler.cluster.scheduler import LOCAL, SHARD
from crawler.cluster.shards import queued, shard_count, shard_of_url
from crawler.failures import reason_for
from crawler.progress import PAGES_STAT
from crawler.spiders.domaincrawl import DomainCrawl, Job
from crawler.spiders.plumbing import HANDLED_STATUSES, failed_fetch, fetch_from, unread
from crawler.spiders.rendering import Renders, missing_browser
from verifier.mentions import reading
from verifier.models import TargetCheck
from verifier.verdict import classify
from verifier.verdict.render import RenderMode
from verifier.verdict.urls import browser_url, identity_key

if TYPE_CHECKING:
    from redis import Redis
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from verifier.crawl.progress import DomainProgress

#: Request meta: the page's backlinks (crawler.cluster.message.refs_to_meta), its run;
#: for the site's own pages and the open outreach targets `[site, url]`.
REFS = "backcheck_refs"
RUN = "backcheck_run"
TARGET = "backcheck_target"
OUTREACH = "backcheck_outreach"
#: Meta key of an outreach request: read the target's contacts again (bool).
CONTACTS = "backcheck_outreach_contacts"
#: Meta key of a page request: [site, page key] of the outreach targets with their
#: contacts read that reading the page may meet (not read again).
CONTACTS_READ = "backcheck_contacts_read"
#: Render request meta: the page the render's result is for.
PAGE = "backcheck_page"
#: Why a worker started with BACKCHECK_RENDER=never leaves its pages unrendered.
NOT_RENDERING = "not rendered: this worker runs with BACKCHECK_RENDER=never"
#: Seconds between looks at Redis while the worker has nothing to do.
POLL = 0.5


class WorkerSpider(DomainCrawl, Renders):
    name = "verify-worker"
    # Pages that answer 4xx/5xx reach `parse` to be classified (3xx still redirect).
    handle_httpstatus_list = HANDLED_STATUSES

    def __init__(self, exit_when_idle: str | float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exit_when_idle = None if exit_when_idle in (None, "") else float(exit_when_idle)
        self.idle_since: float | None = None
        self.server: Redis | None = None
        self.readings: Readings | None = None
        self.poller = task.LoopingCall(self.poll)
        self.closing: asyncio.Future[None] | None = None
        self.jobs: dict[str, Job] = {}
        self.active: dict[str, DomainProgress] = {}
        self.at_once = 64  # BACKCHECK_CRAWL_DOMAINS_AT_ONCE, set in from_crawler
        self.held_contacts: HeldContacts | None = None
        # Pages being rendered, per shard: the shard's lease is held until they are sent.
        self.rendering: Counter[int] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> WorkerSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.server = get_redis_from_settings(crawler.settings)
        spider.readings = Readings(spider.server)
        spider.at_once = crawler.settings.getint("BACKCHECK_CRAWL_DOMAINS_AT_ONCE")
        # The run's owner says whether to render; this worker's own setting, whether it
        # can (`never`: no browser here).
        if render.mode_of(crawler.settings) is RenderMode.NEVER:
            spider.render_missing = NOT_RENDERING
        else:
            spider.render_missing = missing_browser(crawler, RenderMode.AUTO)
        crawler.signals.connect(spider.opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.stay_open, signal=signals.spider_idle)
        crawler.signals.connect(spider.stopped, signal=signals.spider_closed)
        return spider

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        render.configure(settings)  # the browser handler, unless BACKCHECK_RENDER is never

    async def start(self) -> AsyncIterator[Any]:
        """Nothing: every request comes from the Redis queue."""
        return
        yield

    def opened(self) -> None:
        self.poller.start(POLL, now=False)

    def stopped(self) -> None:
        if self.poller.running:
            self.poller.stop()

    def stay_open(self) -> None:
        if self.closing is None:
            raise DontCloseSpider

    def has_work(self) -> bool:
        """Requests are queued, or a run's owner is still collecting (it may re-queue)."""
        assert self.server is not None
        if queued(self.server):
            return True
        return (
            next(iter(self.server.scan_iter(match=OPEN_PREFIX + "*", count=1000)), None) is not None
        )

    def poll(self) -> None:
        """While idle: leave after exit_when_idle if there is no work anywhere."""
        engine = self.crawler.engine
        if engine is None or self.closing is not None or not engine.spider_is_idle():
            self.idle_since = None
            return
        if self.has_work():
            self.idle_since = None
            return
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        if self.exit_when_idle is not None and now - self.idle_since >= self.exit_when_idle:
            self.logger.info("idle for %(s)ss: leaving", {"s": self.exit_when_idle})
            # Keep a reference: the loop only holds tasks weakly.
            self.closing = asyncio.ensure_future(engine.close_spider_async(reason="finished"))

    # --- domains of a `crawl --redis` run -------------------------------------

    def open_domain(self, response: Response) -> Iterator[Any]:
        """A domain job (`crawler.cluster.crawljob`): crawl the domain here, whole."""
        run = response.meta[RUN]
        assert self.readings is not None
        job = job_from(response.meta, self.readings.of(run).readers)
        if job.domain in self.jobs:  # queued again while this worker still crawls it
            return
        self.crawler.stats.inc_value("backcheck/redis/domains_opened")
        yield from self.results(job, self.open_job(job))

    def results(self, job: Job, outputs: Iterable[Any]) -> Iterator[Any]:
        """Requests as they come; the items of one callback as one result, to the run."""
        items: list[message.Item] = []
        for output in outputs:
            if isinstance(output, scrapy.Request):
                yield output
            else:
                items.append(output)
        if items:
            yield Result(job.run, items)

    def request_meta(self, job: Job) -> dict[str, Any]:
        return {LOCAL: True, SHARD: job.shard}

    def domains_full(self) -> bool:
        """As many domains open as BACKCHECK_CRAWL_DOMAINS_AT_ONCE: pop no more requests."""
        return len(self.jobs) >= self.at_once

    def open_shards(self) -> Counter[int]:
        """The shards of the open domains and of the pages being rendered: their leases
        are held until they are done."""
        return Counter(job.shard for job in self.jobs.values()) + self.rendering

    # --- pages of a `verify --redis` run --------------------------------------

    def parse(self, response: Response) -> Iterator[Result | scrapy.Request]:
        self.crawler.stats.inc_value(PAGES_STAT)
        run = response.meta[RUN]
        assert self.readings is not None
        found = self.readings.of(run)
        refs = message.refs_from_meta(response.meta[REFS])
        fetch = fetch_from(response)
        # Contacts are read where a local run reads them: not for a target queued with its
        # contacts read, at this page or where it last landed (the owner's (site, key)s).
        read = {(site, key) for site, key in response.meta.get(CONTACTS_READ) or ()}
        try:
            items = reading.read_verified(
                fetch,
                refs,
                found.readers,
                found.linked_pages,
                wants_contacts=lambda site, url: (site, identity_key(url)) not in read,
                rivals=found.rivals,
            )
        except Exception as exc:  # a page that brings out a bug still gets its checks
            items = list(unread(self.logger, fetch, refs, exc))
        shard = shard_of_url(response.url, self.contacts().shards)
        meta = {RUN: run, PAGE: response.url, LOCAL: True, SHARD: shard}
        rendered = self.render_or_items(found.render, fetch, refs, items, meta)
        if isinstance(rendered, scrapy.Request):
            self.rendering[shard] += 1  # the page's result waits for its render
            yield rendered
            return
        yield from self.contacts().send(run, response.url, rendered)

    def rendered(self, request_meta: dict[str, Any], items: list[Any]) -> Iterator[Any]:
        """A rendered page's result (with its contact page, as an unrendered one's)."""
        shard = request_meta[SHARD]
        self.rendering[shard] -= 1
        if self.rendering[shard] <= 0:
            del self.rendering[shard]
        return self.contacts().send(request_meta[RUN], request_meta[PAGE], items)

    def contacts(self) -> HeldContacts:
        """The contact pages of the runs' pages on this worker (made at the first page)."""
        if self.held_contacts is None:
            assert self.server is not None
            shards = shard_count(self.server, self.settings.getint("BACKCHECK_REDIS_SHARDS"))
            self.held_contacts = HeldContacts(shards)
        return self.held_contacts

    def on_error(self, failure: Failure) -> Iterator[Result]:
        request = failure.request
        reason, detail = reason_for(failure)
        self.crawler.stats.inc_value(PAGES_STAT)
        self.crawler.stats.inc_value(f"backcheck/failure/{reason.value}")
        fetch = failed_fetch(request.url, request.meta)
        refs = message.refs_from_meta(request.meta[REFS])
        checks = [classify.check_failure(ref, reason, detail, fetch) for ref in refs]
        yield Result(request.meta[RUN], list(checks))

    def parse_target(self, response: Response) -> Iterator[Result | scrapy.Request]:
        """One of the site's own pages: how it answers (HEAD, or GET if HEAD is refused)."""
        site, url = response.meta[TARGET]
        fetch = fetch_from(response)
        method = response.request.method if response.request else "HEAD"
        if method == "HEAD" and response.status in (405, 501):
            yield target_request(site, url, "GET", response.meta[RUN], self)
            return
        found = TargetCheck(site, url, method, fetch.status, fetch.final_url, fetch.redirect_chain)
        yield Result(response.meta[RUN], [found])

    def on_target_error(self, failure: Failure) -> Iterator[Result]:
        request = failure.request
        reason, detail = reason_for(failure)
        site, url = request.meta[TARGET]
        found = TargetCheck(site, url, request.method, error=reason.value, detail=detail)
        yield Result(request.meta[RUN], [found])

    def parse_outreach(self, response: Response) -> Iterator[Result | scrapy.Request]:
        """An open outreach target: a link to the site now makes it won (and a backlink)."""
        run, (site, url) = response.meta[RUN], response.meta[OUTREACH]
        assert self.readings is not None
        reader = self.readings.of(run).readers.get(site)
        items: list[Any] = []
        if reader is not None:
            # As a local verify: the target's contacts were read when it entered the queue,
            # unless its contact page never answered (the owner says so).
            key, again = identity_key(url), bool(response.meta.get(CONTACTS))
            fetch = fetch_from(response)
            try:
                items += reading.read_discovered(
                    fetch,
                    reader,
                    "outreach",
                    wants_contacts=lambda _, page: again or identity_key(page) != key,
                )
            except Exception as exc:  # nothing to check on a target: say so
                items += unread(self.logger, fetch, (), exc)
        items.append(message.OutreachRead(site, url))
        yield from self.contacts().send(run, response.url, items)

    def on_outreach_error(self, failure: Failure) -> Iterator[Result]:
        request = failure.request
        reason, detail = reason_for(failure)
        self.crawler.stats.inc_value(f"backcheck/outreach_failure/{reason.value}")
        self.logger.info("outreach target %s: %s", request.url, detail)
        yield Result(request.meta[RUN], [message.OutreachRead(*request.meta[OUTREACH])])


def target_request(
    site: str, url: str, method: str, run: str, spider: WorkerSpider
) -> scrapy.Request:
    """A request for one of the site's own pages (`verifier.store.targets`)."""
    return scrapy.Request(
        browser_url(url),  # a Unicode host as browsers encode it
        method=method,
        callback=spider.parse_target,
        errback=spider.on_target_error,
        meta={TARGET: [site, url], RUN: run},
        dont_filter=True,
    )


def outreach_request(
    site: str, url: str, run: str, spider: WorkerSpider, contacts: bool = False
) -> scrapy.Request:
    """A request for an open outreach target of `site` (`mentions.open_target_pages`);
    `contacts`: its contact page was never read, read it this time."""
    return scrapy.Request(
        browser_url(url),
        callback=spider.parse_outreach,
        errback=spider.on_outreach_error,
        meta={OUTREACH: [site, url], RUN: run, CONTACTS: contacts},
        dont_filter=True,
    )
