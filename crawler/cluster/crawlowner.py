"""The owner of a domain-list crawl over Redis (`crawl FILE --redis`): queue domains, write.

The crawl run is opened (or resumed) as a local `crawl` opens it; then each
pending domain becomes one job (`crawler.cluster.crawljob`) in the shard queue
of its start URL's registered domain. The worker that leases that shard
crawls the domain whole, holding the lease until the domain is done, and sends
every request's results back; they are written with the writer's `write_batch`,
as a local crawl's are. The run ends when every domain is done.

Window: at most BACKCHECK_REDIS_WINDOW domains are out at once (queued, or being
crawled); the owner queues the next ones as domains are done, so Redis holds the
window, not the list (a job carries the domain's known backlinks and fetched pages).

Resume: a resumed run first takes its jobs still queued out of the queues (they go
back in with the window, once each); a domain with pages stored whose shard is
leased is being crawled by a worker still, and is waited for, not queued again.

Delivery: a domain whose worker died sends no `DomainDone`. Once the queues
are empty and nothing came for BACKCHECK_REDIS_REQUEUE_AFTER seconds, each
domain out whose shard nobody leases (the dead worker's lease expired) is
queued again, with the pages already received (the new worker skips them), at
most BACKCHECK_REDIS_MAX_REQUEUES times; then it is done with `stopped`
`errors` (the crawl's word for "answers came, failures stopped it"), and the
run's stats count it under `backcheck/redis/given_up`.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler import progress
from crawler.cluster import message, profile, serializer
from crawler.cluster.crawljob import JOB, RUN, JobSource, job_request
from crawler.cluster.foreground import log_to, shown
from crawler.cluster.keys import lease_key, open_key, results_key
from crawler.cluster.owner import COUNT_EVERY, Owner
from crawler.cluster.shards import shard_of_url
from crawler.progress import STATUSES
from verifier.models import CrawledPage, DomainDone
from verifier.readers import site_profiles
from verifier.store import crawls, runs
from verifier.store.writer import Batch

if TYPE_CHECKING:
    from redis import Redis
    from scrapy.settings import Settings
    from sqlite_utils import Database

    from crawler.spiders.domaincrawl import CrawlLimits

logger = logging.getLogger(__name__)

#: `stopped` of a domain no worker finished after the last re-queue.
GIVEN_UP = "errors"


class CrawlOwner(Owner):
    """Runs one crawl run over Redis to its end; `run()` returns the finish reason."""

    def __init__(
        self,
        db: Database,
        db_path: str,
        run_id: int,
        server: Redis,
        settings: Settings,
        limits: CrawlLimits,
        progress_file: Path | None = None,
    ) -> None:
        super().__init__(db, db_path, run_id, server, settings, progress_file)
        # A crawl waits for its domains only (no target pages, no outreach targets),
        # and always reads pages for the site's brands.
        self.targets, self.outreach = set(), set()
        self.profiles = site_profiles(db, self.sites)
        self.limits = limits
        [site] = self.sites
        competitors = self.profiles[0].competitors if self.profiles else ()
        self.source = JobSource(db, run_id, site, tuple(competitors))
        self.requeued: Counter[str] = Counter()
        #: The run's domains not queued yet (None: all were), those out (queued or being
        #: crawled) by name, and those done while this owner runs.
        self.domains: Iterator[crawls.PendingDomain] | None = None
        self.domains_out: dict[str, crawls.PendingDomain] = {}
        self.done: set[str] = set()
        self.pages_read = 0  # HTML pages the workers read, for the progress
        self.total_domains = self.pending()

    def run(self) -> str:
        self._refresh()
        linked_pages = self.settings.getbool("BACKCHECK_MENTIONS_ON_LINKING_PAGES")
        profile.publish(self.server, self.key, self.profiles, self.sites, linked_pages)
        self.resume()
        self.top_up()
        left = self.left()
        counted = quiet_since = time.monotonic()
        while left:
            self._refresh()
            if self.collect():
                quiet_since = time.monotonic()
                self.top_up()
            now = time.monotonic()
            if now - counted >= COUNT_EVERY:
                left, counted = self.left(), now
            if len(self.queue):  # not drained: workers are behind, or there are none yet
                quiet_since = now
            elif now - quiet_since >= self.requeue_after:
                self.requeue()
                left, quiet_since = self.left(), now
        self.collect()
        self.left()  # the last progress
        return "finished"

    def pending(self) -> int:
        """Domains of the run not done yet (one count over the run's list)."""
        row = self.db.execute(
            "select count(*) from crawl_domains where run_id = ? and state = 'pending'",
            [self.run_id],
        ).fetchone()
        return int(row[0])

    def left(self) -> int:
        """Domains of the run not done yet; shows the progress."""
        pending = self.pending()
        if self.progress_file is not None:
            counts = {"pages": self.pages_read, "domains": self.total_domains - pending}
            statuses = {status: self.tally.statuses.get(status, 0) for status in STATUSES}
            progress.write_counts(self.progress_file, counts | statuses)
        return pending

    def resume(self) -> None:
        """Take the run's jobs still queued out of the queues (a resumed run's: they are
        queued again with the window, each once), and wait for the domains that a worker
        is still crawling instead of queueing them again."""
        # First what workers sent while no owner ran: a domain done then is not pending.
        while self.server.llen(results_key(self.key)) and self.collect():
            pass
        needle = json.dumps({RUN: self.key}, separators=(",", ":"))[1:-1]
        taken = [serializer.loads(raw).get("meta", {}) for raw in self.queue.withdraw(needle)]
        withdrawn = {json.loads(meta[JOB])["domain"] for meta in taken if JOB in meta}
        pending = list(crawls.pending_domains(self.db, self.run_id))
        started = {
            domain
            for (domain,) in self.db.execute(
                "select distinct domain from crawl_pages where run_id = ?", [self.run_id]
            ).fetchall()
        }
        maybe = [p for p in pending if p.domain in started and p.domain not in withdrawn]
        if maybe:
            holders = self.server.mget([lease_key(self.shard_of(p)) for p in maybe])
            self.domains_out = {
                p.domain: p for p, h in zip(maybe, holders, strict=True) if h is not None
            }
        self.domains = (p for p in pending if p.domain not in self.domains_out)
        if taken or self.domains_out:
            logger.info(
                "run %(run)s resumed: %(queued)s queued domains queued again, %(busy)s being"
                " crawled",
                {"run": self.run_id, "queued": len(withdrawn), "busy": len(self.domains_out)},
            )

    def top_up(self) -> None:
        """Queue the run's next domains until BACKCHECK_REDIS_WINDOW of them are out."""
        batch: list[crawls.PendingDomain] = []
        while self.domains is not None and len(self.domains_out) < self.window:
            pending = next(self.domains, None)
            if pending is None:
                self.domains = None
            elif pending.domain not in self.done:
                batch.append(pending)
                self.domains_out[pending.domain] = pending
        if batch:
            self.tally.pushed += self.push_domains(batch)

    def shard_of(self, pending: crawls.PendingDomain) -> int:
        return shard_of_url(pending.start_urls[0], self.queue.shards)

    def push_domains(self, domains: list[crawls.PendingDomain]) -> int:
        """One job per domain, to its shard's queue; returns how many."""
        with self.queue.pushing() as queue:
            for pending in domains:
                shard = self.shard_of(pending)
                payload = self.source.payload(pending, self.limits)
                queue.queues[shard].push(job_request(payload, self.key, shard, self.spider))
        return len(domains)

    def requeue(self) -> None:
        """Queue again the domains out that nobody crawls (their shard has no lease); give
        up on those queued too often."""
        if self.domains is None and not self.domains_out:  # domains missed (none should be)
            self.domains = crawls.pending_domains(self.db, self.run_id)
            self.top_up()
            return
        out = list(self.domains_out.values())
        if not out:
            return
        holders = self.server.mget([lease_key(self.shard_of(p)) for p in out])
        orphans = [p for p, holder in zip(out, holders, strict=True) if holder is None]
        again = [p for p in orphans if self.requeued[p.domain] < self.max_requeues]
        given_up = [p.domain for p in orphans if self.requeued[p.domain] >= self.max_requeues]
        for pending_domain in again:
            self.requeued[pending_domain.domain] += 1
        if again:
            self.tally.requeues += 1
            self.tally.pushed += self.push_domains(again)
            logger.warning(
                "run %(run)s: %(n)s domains not done after %(s)ss of silence; re-queued",
                {"run": self.run_id, "n": len(again), "s": self.requeue_after},
            )
        if given_up:
            self._record(Batch(domains_done=[DomainDone(d, GIVEN_UP) for d in given_up]))
            for domain in given_up:
                self._finished(domain)
            self.tally.given_up += len(given_up)
            logger.warning(
                "run %(run)s: no worker finished %(domains)s after %(m)s re-queues: stopped %(s)s",
                {"run": self.run_id, "domains": given_up, "m": self.max_requeues, "s": GIVEN_UP},
            )
        self.top_up()

    def _add(self, batch: Batch, item: message.Item) -> None:
        super()._add(batch, item)
        if isinstance(item, DomainDone):
            self._finished(item.domain)
        elif isinstance(item, CrawledPage) and item.ok:
            self.pages_read += 1

    def _finished(self, domain: str) -> None:
        self.domains_out.pop(domain, None)
        self.done.add(domain)

    def stats(self, reason: str) -> dict[str, Any]:
        stats = super().stats(reason)
        stats["backcheck/redis/domains_pushed"] = stats.pop("backcheck/redis/pages_pushed")
        return stats

    def finish(self, reason: str) -> None:
        """Close the run as a local crawl closes it, then forget it on the Redis server."""
        stats = self.stats(reason)
        if reason == "finished":
            runs.finish_run(self.db, self.run_id, "finished", stats)
            self.server.delete(open_key(self.key), results_key(self.key))
            profile.forget(self.server, self.key)
        else:  # the next `crawl --redis` resumes it; queued domains stay for the workers
            runs.finish_run(self.db, self.run_id, "interrupted", stats)


def crawl(
    db: Database,
    db_path: str,
    run_id: int,
    server: Redis,
    settings: Settings,
    limits: CrawlLimits,
    quiet: bool = False,
) -> str:
    """Run the crawl `run_id` over Redis with the progress shown; returns the finish reason.

    Ctrl-C leaves the run interrupted (and its queued domains for the workers).
    """
    log_to(settings)
    with tempfile.TemporaryDirectory(prefix="backcheck-progress-") as scratch:
        path = Path(scratch) / "progress.json"
        owner = CrawlOwner(db, db_path, run_id, server, settings, limits, path)
        return shown(owner, path, owner.total_domains, "domains", settings, quiet)
