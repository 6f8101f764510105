"""VerifySpider: fetch each referring page once and hand it to the verifier.

Runnable by the CLI (`backcheck verify`) and by Scrapy/Scrapyd directly:
`scrapy crawl verify -a db=backcheck.db [-a site=acme.com] [-a limit=N] [-a new_run=1]`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals

from crawler.failures import reason_for
from verifier import database
from verifier.models import BacklinkRef, Check, Discovery, Fetch, Reason, TargetCheck
from verifier.store import runs, storage, targets
from verifier.verdict import classify

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

#: Statuses delivered to the callback instead of being dropped (3xx still redirect).
HANDLED_STATUSES = list(range(400, 600))
#: Seconds between looks at a saturated crawl: a freed download slot waits at most this.
BACKOUT_POLL = 0.01
_TRUE = {"1", "true", "yes", "on"}


def _header(response: Response, name: str) -> tuple[str, ...]:
    return tuple(v.decode("latin-1") for v in response.headers.getlist(name))


def fetch_from(response: Response) -> Fetch:
    """The plain-value view of a Scrapy response that the verifier works on."""
    chain_urls = response.meta.get("redirect_urls", [])
    chain = tuple(zip(chain_urls, response.meta.get("redirect_reasons", []), strict=False))
    latency = response.meta.get("download_latency")
    content_type = _header(response, "Content-Type")
    return Fetch(
        requested_url=chain_urls[0] if chain_urls else response.url,
        final_url=response.url,
        status=response.status,
        body=response.body,
        content_type=content_type[0] if content_type else None,
        x_robots_tag=_header(response, "X-Robots-Tag"),
        link_headers=_header(response, "Link"),
        redirect_chain=chain,
        fetch_ms=None if latency is None else int(latency * 1000),
    )


class VerifySpider(scrapy.Spider):
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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.db_path = db
        self.db = database.open_db(db)
        if run_id is None:
            sites = storage.pick_sites(self.db, site, one=False)
            started = runs.start_run(
                self.db,
                sites,
                limit=None if limit in (None, "") else int(limit),
                new_run=str(new_run).lower() in _TRUE,
            )
            run_id = started.run_id
        self.run_id = int(run_id)
        # "i/n": this process checks the pages of shard i of n (see verifier.store.runs.shard_of).
        self.shard = tuple(int(v) for v in shard.split("/")) if shard else None
        self.stats_file = stats_file
        self.write_failed = False  # set by the pipeline when checks could not be stored

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> VerifySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.closed_run, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for refs in runs.pending_pages(self.db, self.run_id, self.shard):
            await self._backout()
            try:
                request = scrapy.Request(
                    refs[0].source_url,
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
        if self.settings.getbool("BACKCHECK_CHECK_TARGETS") and (self.shard or (0,))[0] == 0:
            for site, url in targets.pending_targets(self.db, self.run_id):
                await self._backout()
                yield self._target_request(site, url, "HEAD")

    async def _backout(self) -> None:
        """Hold start() while the crawl is saturated: memory stays flat however long the run.

        Scrapy keeps pulling start() regardless, and waiting for `scheduler_empty`
        (its docs' pattern) deadlocks when the backout comes from a full
        downloader while the scheduler is already empty, so poll instead.
        """
        while self.crawler.engine.needs_backout():
            await asyncio.sleep(BACKOUT_POLL)

    def _target_request(self, site: str, url: str, method: str) -> scrapy.Request:
        return scrapy.Request(
            url,
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

    def parse(self, response: Response, refs: list[BacklinkRef]) -> list[Check | Discovery]:
        # In the event loop's thread: a parse thread was measured slower
        # (GIL hand-offs cost more than the GIL-free lxml parse saves).
        return classify.check_fetch(fetch_from(response), refs)

    def on_error(self, failure: Failure) -> Iterator[Check]:
        request = failure.request
        reason, detail = reason_for(failure)
        self.crawler.stats.inc_value(f"backcheck/failure/{reason.value}")
        chain = request.meta.get("redirect_urls")
        fetch = None
        if chain:
            fetch = Fetch(
                requested_url=chain[0],
                final_url=request.url,
                status=0,
                body=b"",
                redirect_chain=tuple(
                    zip(chain, request.meta.get("redirect_reasons", []), strict=False)
                ),
            )
        for ref in request.cb_kwargs["refs"]:
            yield classify.check_failure(ref, reason, detail, fetch)

    def closed_run(self, spider: scrapy.Spider, reason: str) -> None:
        """Give every backlink the crawl dropped a check, then close the run.

        A shard only reports its stats: the parent process closes the run once
        every shard is done.
        """
        # CoreStats may record finish_reason only after this handler has run.
        stats = {**self.crawler.stats.get_stats(), "finish_reason": reason}
        if self.write_failed:
            stats["finish_reason"] = "backcheck_write_error"
        if self.shard is not None:
            if self.stats_file:
                Path(self.stats_file).write_text(json.dumps(stats, default=str))
            return
        finished = reason == "finished" and not self.write_failed
        max_failures = self.settings.getint("BACKCHECK_MAX_FAILURES")
        if finished and runs.close_dropped(self.db, self.run_id, max_failures):
            self.logger.warning("some backlinks got no answer from the crawl: crawl_error")
        runs.finish_run(self.db, self.run_id, "finished" if finished else "interrupted", stats)
