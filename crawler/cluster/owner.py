"""The owner of a run over Redis (`verify --redis`): push its pages, collect its checks.

The owner is the only process that opens the SQLite database. It shares the
profiles of the run's sites (what pages are read for: `crawler.cluster.profile`),
pushes every page of the run that lacks a check into the scrapy-redis queue of
its referring domain's shard (`crawler.cluster.shards`), then, as a local
`verify` does, the site's own target pages (BACKCHECK_CHECK_TARGETS) and the
open outreach targets. It writes what workers
send back in batches through the writer's `write_batch` (checks, discoveries,
mentions, target checks …; `runs.record_checks` keeps the first check of a
backlink in a run: a result that arrives twice is written once), and ends the
run when every backlink has its check, every target page its answer and every
outreach target was read.

Window: at most BACKCHECK_REDIS_WINDOW pages of the run are out at once (queued,
or popped and not answered); the owner tops the queues up as checks come back, so
Redis holds the window, not the run. Target pages and outreach targets (bounded by
the site) are pushed at the start.

Delivery: a worker killed mid-page loses the requests it had popped. Once the
queue is empty and no result came for BACKCHECK_REDIS_REQUEUE_AFTER seconds,
the pages out without an answer are pushed again (target pages and outreach
targets with them); a page pushed again BACKCHECK_REDIS_MAX_REQUEUES times
without an answer is given up: its backlinks get a `crawl_error` check that
says so. A killed owner leaves the run `running`: the next `verify --redis`
resumes it and pushes what still lacks a check.

Budget: with `--max-time` (CLOSESPIDER_TIMEOUT) the owner withdraws the run's
queued requests when the time is up, waits for those workers hold, and ends the
run as a local run ends on its budget (`runs.BUDGET_SPENT`: the rest stays due).

The module is over 400 lines because the run's loop, its window and its
re-queues share one state (what is out, and since when): split, each part
would reach into the others'.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scrapy

from crawler import outage, progress, recheck, render
from crawler.cluster import message, profile, serializer
from crawler.cluster.keys import open_key, results_key, run_key
from crawler.cluster.shards import ShardQueues, shard_count
from crawler.progress import STATUSES
from crawler.spiders.worker import (
    CONTACTS_READ,
    REFS,
    RUN,
    WorkerSpider,
    outreach_request,
    target_request,
)
from verifier.models import (
    BacklinkRef,
    Check,
    Reason,
    TargetCheck,
)
from verifier.readers import site_profiles
from verifier.store import mentions, outreach, runs, targets
from verifier.store.writer import Batch, write_batch
from verifier.verdict import classify
from verifier.verdict.render import RenderMode
from verifier.verdict.urls import browser_url, identity_key

if TYPE_CHECKING:
    from redis import Redis
    from scrapy.settings import Settings
    from sqlite_utils import Database

logger = logging.getLogger(__name__)

#: Results written per transaction, and seconds to wait for the first of a batch.
BATCH = 500
WAIT = 0.5
#: Seconds between counts of what the run still lacks (a query over the run).
COUNT_EVERY = 1.0
#: Seconds the open-run key outlives its owner's last refresh (workers then may leave).
OPEN_TTL = 120


@dataclass(slots=True)
class Out:
    """A page queued and not answered yet, and how often it was queued again."""

    refs: list[BacklinkRef]
    requeues: int = 0


@dataclass(slots=True)
class Tally:
    """What the owner has collected so far (for progress and the run's stats)."""

    results: int = 0
    requeues: int = 0
    given_up: int = 0
    pushed: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


class Owner:
    """Runs one run over Redis to its end; `run()` returns the finish reason."""

    def __init__(
        self,
        db: Database,
        db_path: str,
        run_id: int,
        server: Redis,
        settings: Settings,
        progress_file: Path | None = None,
    ) -> None:
        self.db = db
        self.run_id = run_id
        self.server = server
        self.settings = settings
        self.progress_file = progress_file
        started = db.execute("select started_at from runs where id = ?", [run_id]).fetchone()[0]
        self.key = run_key(db_path, run_id, started)
        self.spider = WorkerSpider()  # requests name its callbacks, as scrapy-redis stores them
        shards = shard_count(server, settings.getint("BACKCHECK_REDIS_SHARDS"))
        self.queue = ShardQueues(server, self.spider, shards)
        self.requeue_after = settings.getfloat("BACKCHECK_REDIS_REQUEUE_AFTER")
        self.max_requeues = settings.getint("BACKCHECK_REDIS_MAX_REQUEUES")
        self.max_failures = settings.getint("BACKCHECK_MAX_FAILURES")
        self.policy = recheck.policy(settings)
        self.tally = Tally()
        self.window = max(1, settings.getint("BACKCHECK_REDIS_WINDOW"))
        budget = settings.getfloat("CLOSESPIDER_TIMEOUT")
        self.deadline = time.monotonic() + budget if budget > 0 else None
        #: The run's pages not queued yet (None: all were); those queued and not answered,
        #: by their first backlink's id, and the page of each of their backlinks.
        self.pages: Iterator[list[BacklinkRef]] | None = runs.pending_pages(db, run_id)
        self.out: dict[int, Out] = {}
        self.page_of: dict[int, int] = {}
        self.total_pages = runs.pending_page_count(db, run_id)
        sites = runs.run_sites(db, run_id)
        read_mentions = settings.getbool("BACKCHECK_READ_MENTIONS")
        self.profiles = site_profiles(db, sites) if read_mentions else []
        self.sites: list[str] = sites
        #: The site's own pages without an answer in the run, as a local run takes them
        #: (at its start), and the open outreach targets not read yet: (site, url) each.
        self.targets: set[tuple[str, str]] = set()
        if settings.getbool("BACKCHECK_CHECK_TARGETS"):
            self.targets = set(targets.pending_targets(db, run_id))
        self.outreach: set[tuple[str, str]] = set()
        if self.profiles:
            readers = {p.domain for p in self.profiles}
            self.outreach = {
                (site, url)
                for site, url in mentions.open_target_pages(db, sites)
                if site in readers
            }
        #: Queued targets whose contacts were read: a worker reading their page (a lost
        #: backlink's, say) does not read them again, as a local run does not.
        readers = [p.domain for p in self.profiles]
        self.contacts_read = outreach.contacts_read(db, readers)
        #: The same for a page that redirects: by its key, (site, key) of the targets with
        #: their contacts read where it last landed.
        self.landed: dict[str, set[tuple[str, str]]] = {}
        for site, page, landing in outreach.landings(db, readers):
            if (site, landing) in self.contacts_read:
                self.landed.setdefault(page, set()).add((site, landing))
        # Targets whose contact page was never read: the worker reads it this time.
        self.outreach_contacts = {
            (site, url)
            for site, url in self.outreach
            if (site, identity_key(url)) not in self.contacts_read
        }

    def run(self) -> str:
        """Queue, collect and re-queue until the run is complete (`finished`) or its
        time budget is spent (`runs.BUDGET_SPENT`)."""
        self._refresh()
        linked_pages = self.settings.getbool("BACKCHECK_MENTIONS_ON_LINKING_PAGES")
        mode = render.mode_of(self.settings)
        timeout = self.settings.getfloat("BACKCHECK_RENDER_TIMEOUT")
        if mode is not RenderMode.NEVER and self.requeue_after <= timeout:
            logger.warning(
                "BACKCHECK_REDIS_REQUEUE_AFTER (%(after)g s) is not above"
                " BACKCHECK_RENDER_TIMEOUT (%(timeout)g s): a page whose render is under way"
                " may be queued again (its result is still written once)",
                {"after": self.requeue_after, "timeout": timeout},
            )
        profile.publish(self.server, self.key, self.profiles, self.sites, linked_pages, mode)
        self.push_extras()
        self.top_up()
        left = self.left()
        counted = quiet_since = time.monotonic()
        while left:
            self._refresh()
            if self.collect():
                quiet_since = time.monotonic()
                self.top_up()
            now = time.monotonic()
            if self.deadline is not None and now >= self.deadline:
                self.withdraw()
                return runs.BUDGET_SPENT
            if now - counted >= COUNT_EVERY:
                left, counted = self.left(), now
            if len(self.queue):  # not drained: workers are behind, or there are none yet
                quiet_since = now
            elif now - quiet_since >= self.requeue_after:
                self.requeue()
                left, quiet_since = self.left(), now
        self.collect()
        return "finished"

    def left(self) -> int:
        """Pages still lacking checks, target pages their answer, outreach targets a read;
        shows the progress."""
        pages = runs.pending_page_count(self.db, self.run_id)
        self._progress(pages)
        return pages + len(self.targets) + len(self.outreach)

    def top_up(self) -> None:
        """Queue the run's next pages until BACKCHECK_REDIS_WINDOW of them are out."""
        failed: list[Check] = []
        with self.queue.pushing() as queue:  # to each page's shard queue, in batches
            while self.pages is not None and len(self.out) < self.window:
                refs = next(self.pages, None)
                if refs is None:
                    self.pages = None
                    break
                try:
                    request = self._request(refs)
                except ValueError as exc:
                    failed += [
                        classify.check_failure(r, Reason.CRAWL_ERROR, f"bad URL: {exc}")
                        for r in refs
                    ]
                    continue
                queue.push(request)
                self.out[refs[0].id] = Out(refs)
                self.page_of.update((r.id, refs[0].id) for r in refs)
                self.tally.pushed += 1
        if failed:
            self._record(Batch(checks=failed))

    def push_extras(self) -> None:
        """Queue the target pages still lacking an answer and the outreach targets not read
        yet (a site's own pages and its queue: bounded, so not windowed)."""
        with self.queue.pushing() as queue:
            for site, url in sorted(self.targets):
                queue.push(target_request(site, url, "HEAD", self.key, self.spider))
            for site, url in sorted(self.outreach):
                contacts = (site, url) in self.outreach_contacts
                queue.push(outreach_request(site, url, self.key, self.spider, contacts))
        self.tally.pushed += len(self.targets) + len(self.outreach)

    def requeue(self) -> None:
        """Nothing came for BACKCHECK_REDIS_REQUEUE_AFTER s with the queues drained: queue
        the pages out without an answer again, or give them up after MAX_REQUEUES."""
        stuck = list(self.out.values())
        retry = [out for out in stuck if out.requeues < self.max_requeues]
        self.give_up([out for out in stuck if out.requeues >= self.max_requeues])
        extras = self.tally.requeues < self.max_requeues and bool(self.targets or self.outreach)
        if not retry and not extras:
            self.targets.clear()  # as before windows: the run ends without their answer
            self.outreach.clear()
        else:
            self.tally.requeues += 1
            with self.queue.pushing() as queue:
                for out in retry:
                    queue.push(self._request(out.refs))
                    out.requeues += 1
            if extras:
                self.push_extras()
            self.tally.pushed += len(retry)
            logger.warning(
                "run %(run)s: no check for %(n)s pages after %(s)ss; re-queued (%(i)s of %(m)s)",
                {
                    "run": self.run_id,
                    "n": len(retry) + len(self.targets) + len(self.outreach),
                    "s": self.requeue_after,
                    "i": self.tally.requeues,
                    "m": self.max_requeues,
                },
            )
        if self.pages is None and not self.out:  # pages missed (a resumed run's, say)
            self.pages = runs.pending_pages(self.db, self.run_id)
        self.top_up()

    def withdraw(self) -> None:
        """The time budget is spent: take the run's requests out of the shard queues, then
        wait for the pages workers already hold, as a local run lets requests under way
        finish (until REQUEUE_AFTER seconds pass without a result)."""
        taken = self.queue.withdraw(json.dumps({RUN: self.key}, separators=(",", ":"))[1:-1])
        for raw in taken:
            refs = serializer.loads(raw).get("meta", {}).get(REFS)
            if refs:
                self.out.pop(int(refs[0][0]), None)
        self.pages = None
        logger.warning(
            "run %(run)s: --max-time is up: %(n)s queued requests withdrawn",
            {"run": self.run_id, "n": len(taken)},
        )
        quiet_since = time.monotonic()
        while self.out and time.monotonic() - quiet_since < self.requeue_after:
            self._refresh()
            if self.collect():
                quiet_since = time.monotonic()

    def _request(self, refs: list[BacklinkRef]) -> scrapy.Request:
        meta: dict[str, Any] = {REFS: message.refs_to_meta(refs), RUN: self.key}
        key = identity_key(refs[0].source_url)
        read = [(site, key) for site in self.sites if (site, key) in self.contacts_read]
        if read := read + sorted(self.landed.get(key, ())):
            meta[CONTACTS_READ] = read
        return scrapy.Request(
            browser_url(refs[0].source_url),  # a Unicode host as browsers encode it
            callback=self.spider.parse,
            errback=self.spider.on_error,
            meta=meta,
            # Many pages redirect to one URL, and a page is fetched again in every run
            # and re-queue: the shared dupefilter must not drop any of them.
            dont_filter=True,
        )

    def collect(self) -> int:
        """Write the results that have arrived (waiting up to WAIT s for the first)."""
        key = results_key(self.key)
        first = self.server.blpop([key], timeout=WAIT)
        if first is None:
            return 0
        data = [first[1], *(self.server.lpop(key, BATCH - 1) or [])]
        batch = Batch()
        for raw in data:
            try:
                items = message.loads(raw)
            except message.MessageError as exc:
                logger.warning("run %(run)s: %(error)s", {"run": self.run_id, "error": exc})
                continue
            for item in items:
                self._add(batch, item)
        self._record(batch)
        self.tally.results += len(data)
        return len(data)

    def _add(self, batch: Batch, item: message.Item) -> None:
        if isinstance(item, message.OutreachRead):  # a target read: nothing to store
            self.outreach.discard((item.site, item.url))
            return
        batch.add(item)
        if isinstance(item, Check):
            self._answered(item.backlink_id)
        elif isinstance(item, TargetCheck):
            self.targets.discard((item.site, item.url))

    def _record(self, batch: Batch) -> None:
        """Write as a local run's writer process writes (`verifier.store.writer`)."""
        statuses = write_batch(self.db, self.run_id, batch, self.max_failures, self.policy)
        for status, count in statuses.items():
            self.tally.statuses[status] = self.tally.statuses.get(status, 0) + count

    def give_up(self, stuck: list[Out]) -> None:
        """After the last re-queue: a `crawl_error` check for every backlink of `stuck`."""
        if not stuck:
            return
        detail = (
            f"no worker returned a check over Redis after {self.max_requeues} re-queues"
            f" ({self.requeue_after:g}s apart)"
        )
        dropped = [
            classify.check_failure(ref, Reason.CRAWL_ERROR, detail)
            for out in stuck
            for ref in out.refs
        ]
        self._record(Batch(checks=dropped))
        for out in stuck:
            self._answered(out.refs[0].id)
        self.tally.given_up += len(dropped)
        logger.warning(
            "run %(run)s: %(n)s backlinks got no check from any worker: crawl_error",
            {"run": self.run_id, "n": len(dropped)},
        )

    def _answered(self, backlink_id: int) -> None:
        """A check of the page that `backlink_id` is on came back: it is no longer out."""
        out = self.out.pop(self.page_of.pop(backlink_id, backlink_id), None)
        if out is not None:
            for ref in out.refs:
                self.page_of.pop(ref.id, None)

    def stats(self, reason: str) -> dict[str, Any]:
        return {
            "finish_reason": reason,
            "backcheck/redis/pages_pushed": self.tally.pushed,
            "backcheck/redis/results": self.tally.results,
            "backcheck/redis/requeues": self.tally.requeues,
            "backcheck/redis/given_up": self.tally.given_up,
        } | {f"backcheck/status_count/{k}": v for k, v in self.tally.statuses.items()}

    def finish(self, reason: str) -> None:
        """Close the run as a local run closes it, then forget it on the Redis server."""
        stats = self.stats(reason)
        if reason in runs.DONE_REASONS:
            if reason == runs.BUDGET_SPENT:  # `--max-time` is up: the rest stays due
                runs.drop_pending(self.db, self.run_id)
            runs.close_dropped(self.db, self.run_id, self.max_failures, self.policy)
            outage.settle_run(self.db, self.run_id, stats, self.settings)  # or degraded
            self.server.delete(open_key(self.key), results_key(self.key))
            profile.forget(self.server, self.key)
        else:  # the next `verify --redis` resumes it; queued pages stay for the workers
            runs.finish_run(self.db, self.run_id, "interrupted", stats)

    def _refresh(self) -> None:
        self.server.set(open_key(self.key), self.run_id, ex=OPEN_TTL)

    def _progress(self, pending: int) -> None:
        if self.progress_file is None:
            return
        counts = {"pages": self.total_pages - pending} | {
            status: self.tally.statuses.get(status, 0) for status in STATUSES
        }
        progress.write_counts(self.progress_file, counts)
