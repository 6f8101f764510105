"""One page of a domain-list crawl: what it says about the site, and where to go next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from verifier.mentions.contacts import contact_page_url
from verifier.mentions.reading import (
    Item,
    SiteReader,
    WantsContacts,
    always,
    read_discovered,
)
from verifier.models import BacklinkRef, Fetch
from verifier.verdict import classify
from verifier.verdict import page as pages
from verifier.verdict.urls import host_of, host_on_domain


@dataclass(slots=True)
class Visit:
    items: list[Item] = field(default_factory=list)  # checks, backlinks, mentions, …
    links: list[str] = field(default_factory=list)  # internal links, in document order
    ok: bool = False  # an HTML page answered: it counts toward the domain's page cap
    contact_page: str | None = None  # its link to the site's contact page, when asked


def visit(
    fetch: Fetch,
    reader: SiteReader,
    scope: str,
    known: Sequence[BacklinkRef] = (),
    wants_contacts: WantsContacts = always,
    rivals: Sequence[BacklinkRef] = (),
    find_contact_page: bool = False,
) -> Visit:
    """Read a crawled page once: discovery's items, and its links within `scope`.

    An error answer, a page that is not HTML, or one that redirected off the
    scope's registered domain is no page of the crawl: only its known backlinks
    get their checks (`known` the site's, `rivals` its competitors'). With
    `find_contact_page`, also the page's link to its site's contact page
    (`contact_page_url`: by its text or its URL).
    """
    if classify.status_reason(fetch) is not None:
        return Visit(
            read_discovered(
                fetch, reader, "crawl", known, wants_contacts=wants_contacts, rivals=rivals
            )
        )
    page = pages.parse(fetch)
    items = read_discovered(
        fetch, reader, "crawl", known, page, wants_contacts=wants_contacts, rivals=rivals
    )
    if not host_on_domain(host_of(fetch.final_url), scope):
        return Visit(items)
    links = list(dict.fromkeys(link.url for link in pages.links_to(page, scope)))
    contact = contact_page_url(page.root, page.base_url) if find_contact_page else None
    return Visit(items, links, True, contact)
