"""VerifySpider: fetch each referring page once and hand it to the verifier.

Runnable by the CLI (`backcheck verify`) and by Scrapy/Scrapyd directly:
`scrapy crawl verify -a db=backcheck.db [-a site=acme.com] [-a limit=N] [-a new_run=1]
[-a due=1] [-a competitors=1]` (`due=1`: only the backlinks due for a check, as
`backcheck verify --due`; `competitors=1`: the competitors' backlinks too).

Every page read is also read for brand mentions (`verifier.mentions.reading`),
and the open outreach targets are fetched again: one that now links to the site
is won and becomes a backlink (source `outreach`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals

from crawler import outage, recheck, render
from crawler.failures import reason_for
from crawler.progress import PAGES_STAT
from crawler.spiders.plumbing import (
    HANDLED_STATUSES,
    ContactPages,
    backout,
    contacts_wanted,
    failed_fetch,
    fetch_from,
    is_true,
    unread,
)
from crawler.spiders.rendering import Renders, missing_browser
from verifier import database
from verifier.mentions import reading
from verifier.models import BacklinkRef, Check, Fetch, PageRead, Reason, TargetCheck
from verifier.readers import rival_readers, site_readers
from verifier.store import mentions, runs, storage, targets
from verifier.verdict import classify
from verifier.verdict.render import RenderMode
from verifier.verdict.urls import browser_url

#: Meta key of a render request: the raw page and its refs, for `VerifySpider.later`.
READ_LATER = "backcheck_read_later"

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure


def reads_in_writer(setting: object, processes: int, cores: int | None = None) -> bool:
    """BACKCHECK_READ_MENTIONS_IN_WRITER for a run of `processes` crawler processes: in
    `auto`, the writers read when the machine has a core to spare for them.

    >>> [reads_in_writer("auto", 1, 2), reads_in_writer("auto", 2, 2), reads_in_writer("0", 1, 8)]
    [True, False, False]
    """
    value = str(setting).strip().lower()
    if value != "auto":
        return is_true(value)
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) > processes


class VerifySpider(Renders):
    name = "verify"

    def __init__(
        self,
        db: str = "backcheck.db",
        site: str | None = None,
        limit: str | int | None = None,
        new_run: str | bool = False,
        run_id: str | int | None = None,
        shard: str | None = None,
        stats_file: str | None = None,
        due: str | bool = False,
        competitors: str | bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.db_path = db
        self.db = database.open_db(db)
        # Without a run id (Scrapy or Scrapyd), `from_crawler` starts or resumes one: the
        # settings (BACKCHECK_VERIFY_COMPETITORS) are known only there.
        count = None if limit in (None, "") else int(limit)
        self.start_args = (site, count, is_true(new_run), is_true(due), is_true(competitors))
        # None: `due=1` found nothing due; the crawl then ends at once, without a run.
        self.run_id = None if run_id is None else int(run_id)
        self.sites: list[str] = []
        self.readers: dict[str, reading.SiteReader] = {}  # set in from_crawler
        self.rivals: dict[str, tuple[reading.SiteReader, ...]] = {}
        self.linked_pages = True
        self.reads_later = False  # PageReads for the writer instead of reading here
        self.contact_pages = ContactPages(self.db)
        self.wants_contacts = contacts_wanted(self.db)
        # "i/n": this process checks the pages of shard i of n (see verifier.store.runs.shard_of).
        self.shard = tuple(int(v) for v in shard.split("/")) if shard else None
        self.stats_file = stats_file
        self.write_failed = False  # set by the pipeline when checks could not be stored
        self.render_mode = RenderMode.NEVER  # set in from_crawler (BACKCHECK_RENDER)

    def _start_run(
        self,
        site: str | None,
        limit: int | None,
        new_run: bool,
        due: bool,
        competitors: bool,
    ) -> int | None:
        """Start or resume a run as `backcheck verify [--due] [--competitors]` does; None:
        nothing is due."""
        sites = storage.pick_sites(self.db, site, one=False)
        if competitors:
            sites = storage.with_competitors(self.db, sites)
        picked = None
        if due and (new_run or runs.resumable(self.db, sites) is None):
            picked = runs.due_backlinks(self.db, sites, storage.now(), limit)
            if not picked:
                self.logger.info("nothing due")
                return None
        return runs.start_run(self.db, sites, limit=limit, new_run=new_run, backlinks=picked).run_id

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> VerifySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.run_id is None:
            site, limit, new_run, due, competitors = spider.start_args
            competitors |= crawler.settings.getbool("BACKCHECK_VERIFY_COMPETITORS")
            spider.run_id = spider._start_run(site, limit, new_run, due, competitors)
        if spider.run_id is not None:
            spider.sites = runs.run_sites(spider.db, spider.run_id)
        crawler.signals.connect(spider.closed_run, signal=signals.spider_closed)
        if crawler.settings.getbool("BACKCHECK_READ_MENTIONS"):
            spider.readers = site_readers(spider.db, spider.sites)
            spider.rivals = rival_readers(spider.readers, spider.sites)
        spider.linked_pages = crawler.settings.getbool("BACKCHECK_MENTIONS_ON_LINKING_PAGES")
        # The writer process reads the pages for mentions, on another core.
        processes = spider.shard[1] if spider.shard else 1
        spider.reads_later = bool(spider.readers) and reads_in_writer(
            crawler.settings.get("BACKCHECK_READ_MENTIONS_IN_WRITER"), processes
        )
        if spider.readers:
            where = "the writer process" if spider.reads_later else "the crawler"
            spider.logger.info("pages are read for mentions by %s", where)
        spider.render_mode = render.mode_of(crawler.settings)
        spider.render_missing = missing_browser(crawler, spider.render_mode)
        if spider.render_missing:
            spider.logger.warning("%s; pages keep their raw verdict", spider.render_missing)
        return spider

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        render.configure(settings)  # the browser handler, unless BACKCHECK_RENDER is never

    async def start(self) -> AsyncIterator[Any]:
        if self.run_id is None:
            return
        for refs in runs.pending_pages(self.db, self.run_id, self.shard):
            await backout(self.crawler)
            try:
                request = scrapy.Request(
                    browser_url(refs[0].source_url),  # a Unicode host as browsers encode it
                    callback=self.parse,
                    errback=self.on_error,
                    cb_kwargs={"refs": refs},
                    meta={"handle_httpstatus_list": HANDLED_STATUSES},
                    # Many pages redirect to one URL; the dupefilter would drop those silently.
                    dont_filter=True,
                )
            except ValueError as exc:
                for ref in refs:
                    yield classify.check_failure(ref, Reason.CRAWL_ERROR, f"bad URL: {exc}")
                continue
            yield request
        # Our own site is one domain: one process checks its pages, at its politeness.
        first_shard = (self.shard or (0,))[0] == 0
        if self.settings.getbool("BACKCHECK_CHECK_TARGETS") and first_shard:
            for site, url in targets.pending_targets(self.db, self.run_id):
                await backout(self.crawler)
                yield self._target_request(site, url, "HEAD")
        if first_shard and self.readers:
            for site, url in mentions.open_target_pages(self.db, self.sites):
                await backout(self.crawler)
                yield self._outreach_request(site, url)

    def _outreach_request(self, site: str, url: str) -> scrapy.Request:
        return scrapy.Request(
            browser_url(url),
            callback=self.parse_outreach,
            errback=self.on_outreach_error,
            cb_kwargs={"site": site},
            meta={"handle_httpstatus_list": HANDLED_STATUSES},
            dont_filter=True,
        )

    def parse_outreach(self, response: Response, site: str) -> Iterator[Any]:
        """An open outreach target: a link to the site now makes it won (and a backlink)."""
        fetch = fetch_from(response)
        try:
            items = reading.read_discovered(
                fetch, self.readers[site], "outreach", wants_contacts=self.wants_contacts
            )
        except Exception as exc:  # nothing to check on a target: say so, read it next run
            items = list(unread(self.logger, fetch, (), exc))
        return self.contact_pages.follow(items)

    def on_outreach_error(self, failure: Failure) -> None:
        reason, detail = reason_for(failure)
        self.crawler.stats.inc_value(f"backcheck/outreach_failure/{reason.value}")
        self.logger.info("outreach target %s: %s", failure.request.url, detail)

    def _target_request(self, site: str, url: str, method: str) -> scrapy.Request:
        return scrapy.Request(
            browser_url(url),
            method=method,
            callback=self.parse_target,
            errback=self.on_target_error,
            cb_kwargs={"site": site, "url": url},
            meta={"handle_httpstatus_list": HANDLED_STATUSES},
            dont_filter=True,
        )

    def parse_target(
        self, response: Response, site: str, url: str
    ) -> Iterator[TargetCheck | scrapy.Request]:
        """One of our own pages: record how it answers (HEAD, or GET if HEAD is refused)."""
        fetch = fetch_from(response)
        method = response.request.method if response.request else "HEAD"
        if method == "HEAD" and response.status in (405, 501):
            yield self._target_request(site, url, "GET")
            return
        yield TargetCheck(site, url, method, fetch.status, fetch.final_url, fetch.redirect_chain)

    def on_target_error(self, failure: Failure) -> Iterator[TargetCheck]:
        request = failure.request
        reason, detail = reason_for(failure)
        site, url = request.cb_kwargs["site"], request.cb_kwargs["url"]
        yield TargetCheck(site, url, request.method, error=reason.value, detail=detail)

    def parse(self, response: Response, refs: list[BacklinkRef]) -> Iterator[Any]:
        # In the event loop's thread: a parse thread was measured slower
        # (GIL hand-offs cost more than the GIL-free lxml parse saves).
        self.crawler.stats.inc_value(PAGES_STAT)
        fetch = fetch_from(response)
        state = reading.NOTHING
        try:
            if self.reads_later:  # the checks here, the mentions in the writer
                items, state = reading.check_for_later(fetch, refs, self.readers, self.rivals)
            else:
                items = reading.read_verified(
                    fetch, refs, self.readers, self.linked_pages, self.wants_contacts, self.rivals
                )
        except Exception as exc:  # a page that brings out a bug still gets its checks
            items = list(unread(self.logger, fetch, refs, exc))
        found = self.render_or_items(self.render_mode, fetch, refs, items)
        if isinstance(found, scrapy.Request):
            found.meta[READ_LATER] = (fetch, refs, state)
            return iter([found])
        return self.contact_pages.follow(self.later(fetch, refs, found, state))

    def rendered(self, request_meta: dict[str, Any], items: list[Any]) -> Iterator[Any]:
        fetch, refs, state = request_meta[READ_LATER]
        return self.contact_pages.follow(self.later(fetch, refs, items, state))

    def later(
        self, fetch: Fetch, refs: list[BacklinkRef], items: list[Any], state: str
    ) -> list[Any]:
        """The page's items, handed to the writer to be read for mentions there (its
        contact pages come back through the pipeline: `SQLitePipeline.idle`); a page
        cleared here goes without its body (`reading.check_for_later`)."""
        if state == reading.NOTHING:
            return items
        if state == reading.CLEARED:
            fetch = dataclasses.replace(fetch, body=b"")
        return [PageRead(fetch, refs, items, self.linked_pages, state == reading.CLEARED)]

    def on_error(self, failure: Failure) -> Iterator[Check]:
        request = failure.request
        reason, detail = reason_for(failure)
        self.crawler.stats.inc_value(PAGES_STAT)
        self.crawler.stats.inc_value(f"backcheck/failure/{reason.value}")
        fetch = failed_fetch(request.url, request.meta)
        for ref in request.cb_kwargs["refs"]:
            yield classify.check_failure(ref, reason, detail, fetch)

    def closed_run(self, spider: scrapy.Spider, reason: str) -> None:
        """Give every backlink the crawl dropped a check, then close the run.

        A shard only reports its stats: the parent process closes the run once
        every shard is done.
        """
        if self.run_id is None:
            return
        # CoreStats may record finish_reason only after this handler has run.
        stats = {**self.crawler.stats.get_stats(), "finish_reason": reason}
        if self.write_failed:
            stats["finish_reason"] = "backcheck_write_error"
        if self.shard is not None:
            if self.stats_file:
                Path(self.stats_file).write_text(json.dumps(stats, default=str))
            return
        finished = reason in runs.DONE_REASONS and not self.write_failed
        if finished and reason == runs.BUDGET_SPENT:
            runs.drop_pending(self.db, self.run_id)  # `--max-time` is up: the rest stays due
        max_failures = self.settings.getint("BACKCHECK_MAX_FAILURES")
        policy = recheck.policy(self.settings)
        if finished and runs.close_dropped(self.db, self.run_id, max_failures, policy):
            self.logger.warning("some backlinks got no answer from the crawl: crawl_error")
        if finished:  # or `degraded`, when the crawler could not reach the web
            outage.settle_run(self.db, self.run_id, stats, self.settings)
        else:
            runs.finish_run(self.db, self.run_id, "interrupted", stats)
