"""Where one domain of a crawl stands: its frontier and what its requests gave."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verifier.crawl.frontier import DomainFrontier, Stop, crawl_key, stop_reason
from verifier.mentions.contacts import names_contact_page

#: The first pages of a domain on which a crawl looks for its contact page link.
CONTACT_LOOKS = 5


@dataclass(slots=True)
class DomainProgress:
    """Counts of one domain while it is crawled; dropped once it is done."""

    frontier: DomainFrontier
    fallbacks: dict[str, str] = field(default_factory=dict)  # start URL -> its http:// twin
    other_requests: int = 0  # robots.txt and sitemaps in flight (not pages)
    answers: int = 0  # HTTP responses to page requests
    failures: int = 0  # page requests that gave no usable page
    robots_blocked_home: bool = False
    sitemaps_read: int = 0
    started: bool = False  # robots.txt / sitemaps requested
    #: Pages in flight as crawl pages that are also a contact page: crawl key -> the
    #: domain whose contact page it is (fetched once, read for both).
    contacts_due: dict[str, str] = field(default_factory=dict)
    #: Addresses on the pages crawled whose URL names a contact or about page, or that
    #: the domain's pages link to as their contact page, by crawl key: a target found
    #: later that points there is served without a second fetch.
    contact_pages: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    #: Crawl keys of the pages the domain's pages link to as their contact page (by the
    #: link's text alone, say "Contact" on /team), looked for on its first pages.
    contact_links: set[str] = field(default_factory=set)
    contact_looks: int = 0

    def wants_contact_link(self) -> bool:
        """Look for the domain's contact page on this page: none found yet, and not
        looked on CONTACT_LOOKS pages already (a site without one costs no more)."""
        return not self.contact_links and self.contact_looks < CONTACT_LOOKS

    def known_contacts(self, key: str | None, domain: str | None) -> tuple[Any, ...] | None:
        """Addresses read already for the contact page `key` (of `domain`) that the crawl
        will not fetch again: its own, or, for a page of this domain read for none (its
        URL and the first pages' links did not say contact), those of the domain's contact
        page if the crawl read it. None: not known."""
        if key is None:
            return None
        known = self.contact_pages.get(key)
        if known is None and domain == self.domain:
            read = (
                self.contact_pages[link]
                for link in self.contact_links
                if link in self.contact_pages
            )
            known = next(read, None)  # the page the first pages name, when read
        return known

    def contact_key(self, url: str) -> str | None:
        """`url`'s crawl key when it is a page whose addresses a target may want: its URL
        says contact or about, or the domain's pages link to it as their contact page."""
        if names_contact_page(url):
            return self.key(url)
        key = self.key(url) if self.contact_links else None
        return key if key in self.contact_links else None

    def is_contact_page(self, url: str) -> bool:
        return self.contact_key(url) is not None

    @property
    def domain(self) -> str:
        return self.frontier.domain

    def key(self, url: str) -> str | None:
        """`url`'s crawl key in this domain's crawl (None: not a URL it could fetch)."""
        try:
            return crawl_key(url, self.frontier.limits)
        except ValueError:
            return None

    def take_due(self, url: str) -> str | None:
        """The domain whose contact page the crawl page `url` also is, if any (then no more)."""
        if not self.contacts_due:
            return None
        key = self.key(url)
        return self.contacts_due.pop(key, None) if key else None

    @property
    def idle(self) -> bool:
        """Nothing in flight and nothing left to fetch: the domain is done."""
        return self.other_requests == 0 and self.frontier.finished

    def stop(self) -> Stop:
        return stop_reason(
            self.frontier.stopped,
            pages_ok=self.frontier.pages,
            answers=self.answers,
            failures=self.failures,
            robots_blocked_home=self.robots_blocked_home,
        )
