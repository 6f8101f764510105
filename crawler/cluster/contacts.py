"""Contact pages on a `verify --redis` worker: a page's result waits for its contact page.

A local `verify` fetches the contact page of a new outreach target's site once
(`crawler.spiders.plumbing.ContactPages`) and stores the e-mail addresses found
there with the target. A worker does the same, but holds the page's result until
that contact page is read, then sends both as one message: the owner counts the
page as answered only then, so a run never ends with a contact page still out,
and a worker killed meanwhile loses nothing (the page is queued again).

The contact page is fetched in this process (meta LOCAL) and counted in the shard
of the page, which this worker holds: it is on the page's registered domain
(`verifier.mentions.contacts.contact_page_url`), so the shard's lease covers it.
One on another shard (a `<base href>` elsewhere) is not fetched: another worker
may hold that host.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import scrapy

from crawler.cluster.pipeline import Result
from crawler.cluster.scheduler import LOCAL, SHARD
from crawler.cluster.shards import shard_of_url
from crawler.spiders.plumbing import ContactPages
from verifier.models import PageContacts, PageMentions
from verifier.verdict.urls import host_of, registered_domain


@dataclass(slots=True)
class _Held:
    """A page's result waiting for contact pages: their domains, and the pages they serve."""

    run: str
    items: list[Any]
    waiting: dict[str, list[str]] = field(default_factory=dict)


def _contact_domain(item: Any) -> str | None:
    """The domain whose contact page `item` would have read (None: it reads none)."""
    wants = isinstance(item, PageMentions) and item.mentions and not item.links_to_site
    if not wants or not item.contact_url:
        return None
    return registered_domain(host_of(item.contact_url))


class HeldContacts(ContactPages):
    """`ContactPages` for the pages of `verify --redis` runs on one worker."""

    def __init__(self, shards: int) -> None:
        # Everything read goes to the owner, which has the database and decides.
        super().__init__(stored=lambda item: True)
        self.shards = shards
        self.held: dict[str, list[_Held]] = defaultdict(list)

    def send(self, run: str, page_url: str, items: Iterable[Any]) -> Iterator[Any]:
        """The page's result (now, or once its contact page is read) and the contact page
        request, if this page is the first of its site to need it."""
        shard = shard_of_url(page_url, self.shards)
        self.request_meta = {LOCAL: True, SHARD: shard}
        found: list[Any] = []
        requests: list[scrapy.Request] = []
        held = _Held(run, found)
        for item in items:
            domain = _contact_domain(item)
            if domain is not None and shard_of_url(item.contact_url, self.shards) != shard:
                found.append(item)  # not this worker's host to fetch
                continue
            for output in self.follow([item]):
                (requests if isinstance(output, scrapy.Request) else found).append(output)
            if domain is not None and domain in self.waiting:
                held.waiting.setdefault(domain, []).append(item.page_url)
        if held.waiting:
            for domain in held.waiting:
                self.held[domain].append(held)
        else:
            yield Result(run, found)
        yield from requests

    def _done(self, domain: str, contacts: tuple[Any, ...] | None) -> Iterator[Any]:
        # The held results say which pages waited: ContactPages' own list is only emptied.
        for _ in super()._done(domain, contacts):
            pass
        for held in self.held.pop(domain, []):
            pages = held.waiting.pop(domain)
            if contacts is not None:  # read, even without an address: the owner notes it
                held.items += [PageContacts(url, contacts) for url in pages]
            if not held.waiting:
                yield Result(held.run, held.items)
