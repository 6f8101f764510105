"""What every backcheck spider shares: Scrapy responses as plain values, flow control,
and the site profiles that discovery reads pages for.

Spiders stay thin: they translate between Scrapy and `verifier`, and this module
holds the translation they have in common.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from verifier.mentions import reading
from verifier.mentions.contacts import page_contacts
from verifier.models import (
    BacklinkRef,
    Check,
    Contact,
    ContactKind,
    Discovery,
    Fetch,
    PageContacts,
    PageMentions,
    Reason,
)
from verifier.store import mentions as mentions_store
from verifier.store import outreach
from verifier.verdict import classify
from verifier.verdict import page as pages
from verifier.verdict.classify import status_reason
from verifier.verdict.urls import browser_url, host_of, registered_domain

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

#: Statuses delivered to the callback instead of being dropped (3xx still redirect).
HANDLED_STATUSES = list(range(400, 600))
#: Seconds between looks at a saturated crawl: a freed download slot waits at most this.
BACKOUT_POLL = 0.01
TRUE_WORDS = {"1", "true", "yes", "on"}


def is_true(value: Any) -> bool:
    """A spider argument (`-a name=1`) or a flag from the CLI, as a bool."""
    return str(value).lower() in TRUE_WORDS


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


def failed_fetch(request_url: str, meta: dict[str, Any]) -> Fetch | None:
    """The redirects that happened before a request failed, as a Fetch (None: none)."""
    chain = meta.get("redirect_urls")
    if not chain:
        return None
    return Fetch(
        requested_url=chain[0],
        final_url=request_url,
        status=0,
        body=b"",
        redirect_chain=tuple(zip(chain, meta.get("redirect_reasons", []), strict=False)),
    )


async def backout(crawler: Crawler) -> None:
    """Hold start() while the crawl is saturated: memory stays flat however long the run.

    Scrapy keeps pulling start() regardless, and waiting for `scheduler_empty`
    (its docs' pattern) deadlocks when the backout comes from a full
    downloader while the scheduler is already empty, so poll instead.
    """
    engine = crawler.engine
    assert engine is not None
    while engine.needs_backout():
        await asyncio.sleep(BACKOUT_POLL)


#: Meta key of a contact page request: the domain whose contact page it is.
CONTACT_PAGE = "backcheck_contact_page"


class ContactPages:
    """Fetch each site's contact page once per run, for the outreach targets found on it.

    Spiders pass their items through `follow`: an outreach target with a contact
    page gets that page's addresses (`PageContacts`), fetched at the first target
    of its domain (same politeness as any request) and remembered for the rest.
    """

    #: Domains whose contact page is remembered; beyond this the oldest are forgotten,
    #: so a long crawl stays flat in memory (a forgotten one is fetched again).
    REMEMBERED = 10_000
    #: Extra meta of the contact page requests.
    request_meta: dict[str, Any] = {}  # noqa: RUF012 (read only)

    def __init__(
        self, db: Database | None = None, stored: Callable[[PageMentions], bool] | None = None
    ) -> None:
        # Whether a page read without mentions was stored: in `db`, or as `stored` says.
        self.stored = stored or (lambda item: db is not None and mentions_store.is_stored(db, item))
        # domain -> contacts of its contact page (None: it gave no answer this run)
        self.found: dict[str, tuple[Any, ...] | None] = {}
        self.waiting: dict[str, list[str]] = {}  # domain -> target pages awaiting its fetch

    def follow(self, items: Iterable[Any]) -> Iterator[Any]:
        for item in items:
            if isinstance(item, PageMentions) and not item.mentions:
                # A page read without mentions only matters if it was stored before.
                if self.stored(item):
                    yield item
                continue
            yield item
            if not isinstance(item, PageMentions) or item.links_to_site or not item.contact_url:
                continue
            if not item.mentions:
                continue
            yield from self.wanted(item.page_url, item.contact_url)

    def wanted(self, page_url: str, contact_url: str) -> Iterator[Any]:
        """The target `page_url`'s contacts from `contact_url`: known already (its
        `PageContacts`), or awaited from a request (yielded at its domain's first).
        A contact page that gave no answer this run is not asked for again in it."""
        domain = registered_domain(host_of(contact_url))
        if domain in self.found:
            known = self.found[domain]
            if known is not None:
                yield PageContacts(page_url, known)
        elif domain in self.waiting:
            self.waiting[domain].append(page_url)
        else:
            self.waiting[domain] = [page_url]
            yield self._request(contact_url, domain)

    def _request(self, url: str, domain: str) -> Any:
        import scrapy

        return scrapy.Request(
            browser_url(url),  # a Unicode host as browsers encode it
            callback=self.parse,
            errback=self.on_error,
            cb_kwargs={"domain": domain},
            meta={**self.request_meta, CONTACT_PAGE: domain},
            dont_filter=True,
        )

    def parse(self, response: Response, domain: str) -> Iterator[Any]:
        yield from self.read(fetch_from(response), domain)

    def on_error(self, failure: Failure) -> Iterator[Any]:
        domain = failure.request.cb_kwargs["domain"]
        response = getattr(failure.value, "response", None)
        if response is not None:  # an answer Scrapy passes as an error (HttpError: a 404)
            yield from self.read(fetch_from(response), domain)
        else:
            yield from self.failed(domain)

    def read(self, fetch: Fetch, domain: str) -> Iterator[PageContacts]:
        """`domain`'s contact page answered `fetch` (a crawl may fetch it as one of its
        pages): its addresses go to the targets that wait for them."""
        yield from self.deliver(domain, contact_reading(fetch))

    def failed(self, domain: str) -> Iterator[PageContacts]:
        """`domain`'s contact page gave no answer: its targets get no address from it this
        run, and stay unread (`outreach.wants_contacts`): a later run asks again."""
        yield from self.deliver(domain, None)

    def deliver(self, domain: str, contacts: tuple[Any, ...] | None) -> Iterator[PageContacts]:
        """`domain`'s contact page holds `contacts` (read from it already; None: it gave
        no answer). A `PageContacts` per waiting target, even without an address: it
        records that the target's contact page was read."""
        yield from self._done(domain, contacts)

    def _done(self, domain: str, contacts: tuple[Any, ...] | None) -> Iterator[PageContacts]:
        if len(self.found) >= self.REMEMBERED:
            self.found.pop(next(iter(self.found)))
        self.found[domain] = contacts
        for page_url in self.waiting.pop(domain, []):
            if contacts is not None:
                yield PageContacts(page_url, contacts)


def unread(
    logger: logging.Logger | logging.LoggerAdapter[Any],
    fetch: Fetch,
    refs: Sequence[BacklinkRef],
    error: Exception,
) -> list[Check | Discovery]:
    """The checks of `refs` when reading `fetch` raised `error` (a page that brought out a
    bug): the verdict alone, without mentions or discoveries, else `crawl_error` saying
    why. The page's backlinks are never dropped without a word.
    """
    logger.error("reading %s failed: %r", fetch.final_url, error, exc_info=error)
    try:
        return classify.read_fetch(fetch, list(refs))[1]
    except Exception:
        detail = f"backcheck could not read the page: {type(error).__name__}: {error}"
        failed = classify.check_failure
        return [failed(ref, Reason.CRAWL_ERROR, detail[:300], fetch) for ref in refs]


def addresses(fetch: Fetch) -> tuple[Contact, ...]:
    """The e-mail addresses a contact page's answer gives (none for an error)."""
    if status_reason(fetch) is not None:
        return ()
    found = page_contacts(pages.parse(fetch).root, fetch.final_url)
    return tuple(contact for contact in found if contact.kind is ContactKind.EMAIL)


def contact_reading(fetch: Fetch) -> tuple[Contact, ...] | None:
    """What a contact page's answer says: its addresses (none for a 404: there is no
    such page), or None when it said nothing yet (a server error, 429): a later run
    asks again."""
    if fetch.status >= 500 or fetch.status == 429:
        return None
    return addresses(fetch)


def contacts_wanted(db: Database) -> reading.WantsContacts:
    """Read an outreach target's contacts when it is new to the queue, or when its
    contact page was never read (`outreach.wants_contacts`)."""
    return functools.partial(outreach.wants_contacts, db)
