"""A domain of `crawl --redis` as it travels: one job per domain, in its shard's queue.

The owner turns each pending domain of the run into one request (`job_request`)
whose meta carries all a worker needs to crawl it without the database: the
domain and its start URLs, the crawl's limits, the pages earlier workers
already fetched (a re-queued domain skips them, as a resumed local crawl does:
`verifier.store.crawls.fetched_pages`), the backlinks known on its pages (the
site's and its competitors'), and which of its pages are stored mention pages
or outreach targets already. The request's URL is `data:,<domain>`: Scrapy
answers it without the network, and its callback opens the domain
(`WorkerSpider.open_domain`). It goes to the shard of the domain's start URL,
so the worker that leases that shard crawls the domain.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

import scrapy

from crawler.cluster.pipeline import Result
from crawler.cluster.scheduler import LOCAL, SHARD
from crawler.spiders.domaincrawl import CrawlLimits, Job
from crawler.spiders.plumbing import ContactPages
from verifier.mentions.reading import SiteReader
from verifier.models import BacklinkRef, CrawledPage, PageContacts, PageMentions
from verifier.store import crawls, outreach
from verifier.verdict.urls import host_of, identity_key, registered_domain

if TYPE_CHECKING:
    from scrapy.http import Response
    from sqlite_utils import Database


#: Request meta: the job (see `payload`) and the run it belongs to.
JOB = "backcheck_crawl_job"
RUN = "backcheck_run"


class RunContacts(ContactPages):
    """Contact pages of one domain's crawl on a worker: fetched there, sent to the run."""

    def __init__(self, run: str, shard: int, stored: set[str], site: str) -> None:
        super().__init__(stored=lambda item: _key(item) in stored and item.site == site)
        self.run = run
        self.request_meta = {LOCAL: True, SHARD: shard}

    def parse(self, response: Response, domain: str) -> Iterator[Any]:
        yield Result(self.run, list(super().parse(response, domain)))

    def on_error(self, failure: Any) -> Iterator[Any]:
        yield Result(self.run, list(super().on_error(failure)))


def _key(item: PageMentions | PageContacts) -> str:
    return identity_key(item.page_url)


class JobSource:
    """What the owner reads from the database for each domain's job."""

    def __init__(self, db: Database, run_id: int, site: str, competitors: tuple[str, ...]):
        self.db = db
        self.run_id = run_id
        self.site = site
        self.sites = [site, *competitors]
        self.queued: dict[str, list[str]] = defaultdict(list)
        # Queued targets whose contact page was read: not read for contacts again.
        for _, url, key in outreach.read_targets(db, [site]):
            self.queued[registered_domain(host_of(url))].append(key)

    def payload(self, pending: crawls.PendingDomain, limits: CrawlLimits) -> dict[str, Any]:
        domain = pending.domain
        marks = ",".join("?" * len(self.sites))
        refs = self.db.execute(
            "select id, site, source_url, target_url, expected_anchor from backlinks"
            f" where site in ({marks}) and referring_domain = ? order by id",
            [*self.sites, domain],
        ).fetchall()
        stored = self.db.execute(
            "select page_key from mention_pages where site = ? and domain = ?", [self.site, domain]
        ).fetchall()
        fetched = crawls.fetched_pages(self.db, self.run_id, domain)
        return {
            "domain": domain,
            "start_urls": list(pending.start_urls),
            "site": self.site,
            "limits": limits.to_dict(),
            "fetched": [[p.url, p.depth, p.http_status, p.ok, list(p.links)] for p in fetched],
            "refs": [list(row) for row in refs],
            "stored": [key for (key,) in stored],
            "queued": self.queued.get(domain, []),
        }


class _Opens(Protocol):
    """The spider a job's request is for (`crawler.spiders.worker.WorkerSpider`)."""

    def open_domain(self, response: Response) -> Any: ...


def job_request(payload: dict[str, Any], run: str, shard: int, spider: _Opens) -> Any:
    return scrapy.Request(
        f"data:,{payload['domain']}",
        callback=spider.open_domain,
        meta={JOB: json.dumps(payload), RUN: run, SHARD: shard, "dont_obey_robotstxt": True},
        dont_filter=True,
    )


def job_from(meta: dict[str, Any], readers: dict[str, SiteReader]) -> Job:
    """The job a worker crawls, from its request's meta; its site's reader from `readers`
    (the run's profiles: `crawler.cluster.profile`)."""
    data = json.loads(meta[JOB])
    site = data["site"]
    reader = readers.get(site) or SiteReader.build(site)
    run, shard = meta[RUN], int(meta[SHARD])
    pages: dict[tuple[str, str], list[BacklinkRef]] = defaultdict(list)
    for row in data["refs"]:
        ref = BacklinkRef(int(row[0]), row[1], row[2], row[3], row[4])
        pages[(ref.site, identity_key(ref.source_url))].append(ref)
    queued = set(data["queued"])

    def known(url: str) -> list[BacklinkRef]:
        return pages.get((site, identity_key(url)), [])

    def rivals(url: str) -> list[BacklinkRef]:
        key = identity_key(url)
        return [ref for rival in reader.competitors for ref in pages.get((rival, key), [])]

    def wants_contacts(for_site: str, url: str) -> bool:
        return for_site != site or identity_key(url) not in queued

    fetched = [
        CrawledPage(data["domain"], url, depth, status, bool(ok), tuple(links))
        for url, depth, status, ok, links in data["fetched"]
    ]
    return Job(
        data["domain"],
        tuple(data["start_urls"]),
        CrawlLimits.from_dict(data["limits"]),
        reader,
        known,
        rivals,
        wants_contacts,
        RunContacts(run, shard, set(data["stored"]), site),
        fetched,
        run,
        shard,
    )
