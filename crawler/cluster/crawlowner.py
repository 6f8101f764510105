"""The owner of a domain-list crawl over Redis (`crawl FILE --redis`): queue domains, write.

The crawl run is opened (or resumed) as a local `crawl` opens it; then each
pending domain becomes one job (`crawler.cluster.crawljob`) in the shard queue
of its start URL's registered domain. The worker that leases that shard
crawls the domain whole, holding the lease until the domain is done, and sends
every request's results back; they are written with the writer's `write_batch`,
as a local crawl's are. The run ends when every domain is done.

Delivery: a domain whose worker died sends no `DomainDone`. Once the queues
are empty and nothing came for BACKCHECK_REDIS_REQUEUE_AFTER seconds, each
pending domain whose shard nobody leases (the dead worker's lease expired) is
queued again, with the pages already received (the new worker skips them), at
most BACKCHECK_REDIS_MAX_REQUEUES times; then it is done with `stopped`
`errors` (the crawl's word for "answers came, failures stopped it"), and the
run's stats count it under `backcheck/redis/given_up`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from crawler.cluster import profile
from crawler.cluster.crawljob import JobSource, job_request
from crawler.cluster.keys import lease_key, open_key, results_key
from crawler.cluster.owner import COUNT_EVERY, Owner, log_to
from crawler.cluster.shards import shard_of_url
from crawler.spiders.plumbing import site_profiles
from verifier.models import DomainDone
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
    ) -> None:
        super().__init__(db, db_path, run_id, server, settings)
        # A crawl waits for its domains only (no target pages, no outreach targets),
        # and always reads pages for the site's brands.
        self.targets, self.outreach = set(), set()
        self.profiles = site_profiles(db, self.sites)
        self.limits = limits
        [site] = self.sites
        competitors = self.profiles[0].competitors if self.profiles else ()
        self.source = JobSource(db, run_id, site, tuple(competitors))
        self.requeued: Counter[str] = Counter()

    def run(self) -> str:
        self._refresh()
        linked_pages = self.settings.getbool("BACKCHECK_MENTIONS_ON_LINKING_PAGES")
        profile.publish(self.server, self.key, self.profiles, self.sites, linked_pages)
        self.tally.pushed += self.push_domains(list(crawls.pending_domains(self.db, self.run_id)))
        left = self.left()
        counted = quiet_since = time.monotonic()
        while left:
            self._refresh()
            if self.collect():
                quiet_since = time.monotonic()
            now = time.monotonic()
            if now - counted >= COUNT_EVERY:
                left, counted = self.left(), now
            if len(self.queue):  # not drained: workers are behind, or there are none yet
                quiet_since = now
            elif now - quiet_since >= self.requeue_after:
                self.requeue()
                quiet_since = now
        self.collect()
        return "finished"

    def left(self) -> int:
        """Domains of the run not done yet."""
        row = self.db.execute(
            "select count(*) from crawl_domains where run_id = ? and state = 'pending'",
            [self.run_id],
        ).fetchone()
        return int(row[0])

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
        """Queue again the pending domains that nobody crawls (their shard has no lease);
        give up on those queued too often."""
        pending = list(crawls.pending_domains(self.db, self.run_id))
        if not pending:
            return
        holders = self.server.mget([lease_key(self.shard_of(p)) for p in pending])
        orphans = [p for p, holder in zip(pending, holders, strict=True) if holder is None]
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
            self.tally.given_up += len(given_up)
            logger.warning(
                "run %(run)s: no worker finished %(domains)s after %(m)s re-queues: stopped %(s)s",
                {"run": self.run_id, "domains": given_up, "m": self.max_requeues, "s": GIVEN_UP},
            )

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
) -> str:
    """Run the crawl `run_id` over Redis; returns the finish reason.

    Ctrl-C leaves the run interrupted (and its queued domains for the workers).
    """
    log_to(settings)
    owner = CrawlOwner(db, db_path, run_id, server, settings, limits)
    try:
        reason = owner.run()
    except KeyboardInterrupt:
        reason = "shutdown"
    owner.finish(reason)
    return reason
