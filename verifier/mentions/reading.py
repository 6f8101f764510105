"""Discovery's reading of one fetched page: mentions, image uses, contacts, links.

Two entry points, one per way a page is met:
- `read_verified` for a page `verify` fetched for its known backlinks: the
  checks as always, plus the page's mentions, at a bounded cost (the body is
  walked only when a term may be in it);
- `read_discovered` for a page read by discovery (`crawl`, `mentions`, an
  outreach target): every link to the site becomes a backlink with a full
  check, links to competitors are kept, and mentions are recorded.
Pages on the site itself and pages that answer an error are never mentions; a page
that is gone (404, 410, moved to another site) loses those stored for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from lxml import etree

from verifier.mentions.contacts import contact_page_url, page_contacts
from verifier.mentions.matcher import Matcher, image_uses
from verifier.models import (
    BacklinkRef,
    Check,
    CompetitorLink,
    Discovery,
    Fetch,
    Link,
    MentionKind,
    PageMentions,
    Reason,
)
from verifier.verdict import classify
from verifier.verdict import page as pages
from verifier.verdict.absence import Source
from verifier.verdict.directives import header_directives, meta_directives
from verifier.verdict.urls import compare_key, host_of, host_on_domain, identity_key

Item = Check | Discovery | PageMentions | CompetitorLink
#: Asked with (site, page URL) for an outreach target: read its contacts? (A target
#: already in the queue had them read when it entered: reading them costs more than
#: the rest of the page, so a nightly run does not read them again.)
WantsContacts = Callable[[str, str], bool]


def always(site: str, url: str) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class SiteReader:
    """What discovery looks for on a page for one site."""

    domain: str
    matcher: Matcher
    competitors: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        domain: str,
        brands: Sequence[str] = (),
        excludes: Sequence[str] = (),
        competitors: Sequence[str] = (),
    ) -> SiteReader:
        return cls(domain, Matcher.build(brands, domain, excludes), tuple(competitors))


def needs_body(readers: Iterable[SiteReader]) -> Callable[[Source], bool]:
    """For `page.parse`: True when some site's terms may be in the page's visible text."""
    matchers = [reader.matcher for reader in readers]
    return lambda source: any(matcher.may_mention(source) for matcher in matchers)


def title_of(page: pages.Page) -> str | None:
    if page.root is None:
        return None
    title = page.root.find(".//title")
    text = pages.fold(title.text or "") if title is not None else ""
    return text or None


def noindex(page: pages.Page, fetch: Fetch) -> bool:
    return (
        meta_directives(page.meta_robots).noindex or header_directives(fetch.x_robots_tag).noindex
    )


def _visible_text(root: etree._Element) -> str:
    # C-fast and a superset of the visible text (scripts included): a second absence
    # proof once parsed, for pages that name the domain only in their hrefs.
    text: str = etree.tostring(root, method="text", encoding="unicode")
    return text


def mentions_on(
    reader: SiteReader,
    fetch: Fetch,
    page: pages.Page,
    source: str,
    links_to_site: bool,
    reason: str | None = None,
    wants_contacts: WantsContacts = always,
) -> tuple[int | None, PageMentions | None]:
    """How many terms the page mentions (None: not read), and its row.

    A page that may not mention the site (head-only, or a failed proof) counts 0.
    A row without mentions only refreshes a page stored before (`store.mentions`):
    one that stopped mentioning the site loses its terms.
    """
    if host_on_domain(host_of(fetch.final_url), reader.domain):
        return None, None  # our own page
    root = page.root
    if root is None:
        if page.unlinked is None:
            return None, None  # no markup at all: not read
        return 0, PageMentions(reader.domain, fetch.final_url, source)  # proven: no term
    found = []
    if reader.matcher.may_mention(_visible_text(root)):
        found = reader.matcher.mentions(root, page.base_url, page)
    terms = sum(1 for mention in found if mention.kind is not MentionKind.IMAGE_USE)
    if not links_to_site:
        found += image_uses(root, page.base_url, reader.domain)
    row = PageMentions(
        site=reader.domain,
        page_url=fetch.final_url,
        source=source,
        title=title_of(page),
        noindex=noindex(page, fetch),
        links_to_site=links_to_site,
        mentions=found,
        reason=reason if terms else None,
    )
    if not found:
        return terms, row  # read, nothing found: refreshes a page stored before, if any
    if not links_to_site and wants_contacts(reader.domain, fetch.final_url):
        row.contacts = page_contacts(root, fetch.final_url, page.base_url)
        row.contact_url = contact_page_url(root, page.base_url)
    return terms, row


#: What an answer says of the mentions stored for its page before: it is gone (404, 410)
#: or moved to another site, so they go; any other error (a 500, a refusal) says nothing.
GONE = frozenset({Reason.PAGE_NOT_FOUND, Reason.REDIRECTED_AWAY})


def forgotten(fetch: Fetch, sites: Iterable[str], source: str) -> list[PageMentions]:
    """A reading without mentions of the page, per site, when the answer says it is
    `GONE`: what was stored for it goes (its row stays, for its history)."""
    if classify.status_reason(fetch) not in GONE:
        return []
    return [PageMentions(site, fetch.requested_url, source) for site in sites]


def read_verified(
    fetch: Fetch,
    refs: list[BacklinkRef],
    readers: dict[str, SiteReader],
    linked_pages: bool = True,
    wants_contacts: WantsContacts = always,
    rivals: Mapping[str, Sequence[SiteReader]] | None = None,
) -> list[Item]:
    """`classify.check_fetch` plus mentions: each check says how many terms its page holds.

    With `linked_pages` False, a page that links to the site is not read for
    mentions (its checks say None): what verify needs mentions for (lost links,
    outreach) is on the pages that do not link. A competitor's backlink (`rivals`:
    competitor -> the readers of the sites it competes with) has its page read for
    each of those sites' brands (a mention is stored per site); its check holds the
    most terms one of them found (not None: the page was read).
    """
    rivals = rivals or {}
    wanted = _wanted(refs, readers, rivals)
    also = _linked_sites(refs, readers, rivals)
    proof = needs_body(wanted) if wanted else None
    page, found = classify.read_fetch(fetch, refs, proof, also)
    return read_mentions(
        fetch, refs, list(found), page, readers, linked_pages, wants_contacts, rivals
    )


#: What `check_for_later` says of a page: nothing to read for mentions (no site is read
#: for it, or it answered an error), read later with its body, or cleared (no body needed).
NOTHING, BODY, CLEARED = "nothing", "body", "cleared"


def check_for_later(
    fetch: Fetch,
    refs: list[BacklinkRef],
    readers: Mapping[str, SiteReader],
    rivals: Mapping[str, Sequence[SiteReader]] | None = None,
) -> tuple[list[Item], str]:
    """The page's checks, as without mentions, and what `read_later` needs of the page:
    `NOTHING`, its `BODY`, or nothing but its URL when `CLEARED` (the head alone was read:
    no link to a site, no term of one, proven on the page's bytes)."""
    rivals = rivals or {}
    wanted = _wanted(refs, readers, rivals)
    if not wanted:
        return list(classify.read_fetch(fetch, refs)[1]), NOTHING
    proof = needs_body(wanted)
    said: list[bool] = []

    def probe(source: Source) -> bool:
        said.append(proof(source))
        return False  # the checks need no more than the head: the writer reads the rest

    also = _linked_sites(refs, readers, rivals)
    page, found = classify.read_fetch(fetch, refs, probe, also)
    if page is None:
        return [*found, *forgotten(fetch, [r.domain for r in wanted], "verify")], NOTHING
    cleared = page.root is None and page.unlinked is not None and said == [False]
    return list(found), CLEARED if cleared else BODY


def read_later(
    fetch: Fetch,
    refs: list[BacklinkRef],
    items: list[Item],
    readers: dict[str, SiteReader],
    linked_pages: bool = True,
    wants_contacts: WantsContacts = always,
    rivals: Mapping[str, Sequence[SiteReader]] | None = None,
    cleared: bool = False,
) -> list[Item]:
    """`read_verified`'s mentions for a page whose checks (`items`, one per ref first)
    were made already, without them: the page is parsed here again (`PageRead`), unless
    `cleared` (`check_for_later`). Items read for mentions already (a row among them)
    are returned as they are."""
    rivals = rivals or {}
    wanted = _wanted(refs, readers, rivals)
    if not wanted or any(isinstance(item, PageMentions) for item in items):
        return items  # read once only: a second reading would store everything twice
    also = _linked_sites(refs, readers, rivals)
    sites = {ref.site for ref in refs} | also
    if cleared:  # as `page.parse` leaves a page read to its head
        page = pages.Page(fetch.final_url, fetch.final_url, None, unlinked=frozenset(sites))
    elif classify.status_reason(fetch) is not None:
        return items
    else:
        # The checks say whether the page links to their sites: no need to prove it again,
        # unless links to other sites will be asked (a competitor's page, for the site's).
        links = any(isinstance(c, Check) and c.link_count for c in items[: len(refs)])
        known = links if links or not also else None
        page = pages.parse(fetch, sites, needs_body(wanted), links=known)
    return read_mentions(fetch, refs, items, page, readers, linked_pages, wants_contacts, rivals)


def _linked_sites(
    refs: list[BacklinkRef],
    readers: Mapping[str, SiteReader],
    rivals: Mapping[str, Sequence[SiteReader]],
) -> set[str]:
    """The sites a page is read for only through a competitor's backlink: its links to
    them are asked too (a new backlink of the site), so the page is parsed for them."""
    own = {ref.site for ref in refs}
    return {
        reader.domain
        for site in own
        if site not in readers
        for reader in rivals.get(site, ())
        if reader.domain not in own
    }


def _wanted(
    refs: list[BacklinkRef],
    readers: Mapping[str, SiteReader],
    rivals: Mapping[str, Sequence[SiteReader]],
) -> list[SiteReader]:
    groups = (_readers_of(site, readers, rivals) for site in {ref.site for ref in refs})
    return list({r.domain: r for group in groups for r in group}.values())


def read_mentions(
    fetch: Fetch,
    refs: list[BacklinkRef],
    items: list[Item],
    page: pages.Page | None,
    readers: Mapping[str, SiteReader],
    linked_pages: bool = True,
    wants_contacts: WantsContacts = always,
    rivals: Mapping[str, Sequence[SiteReader]] | None = None,
) -> list[Item]:
    """The page's `items` (its checks first, one per ref), the checks given their
    `mentions`, and what reading `page` for mentions found (see `read_verified`)."""
    rivals = rivals or {}
    if page is None:
        sites = [reader.domain for reader in _wanted(refs, readers, rivals)]
        return items + forgotten(fetch, sites, "verify")
    readers_of = {ref.site: _readers_of(ref.site, readers, rivals) for ref in refs}
    # Per site read for: its own checks, and its competitors' (read for the site's brand).
    groups: dict[str, tuple[SiteReader, list[Check], list[Check]]] = {}
    for ref, check in zip(refs, items, strict=False):
        owners = readers_of[ref.site]
        if not isinstance(check, Check):
            continue
        for reader in owners:
            own, others = groups.setdefault(reader.domain, (reader, [], []))[1:]
            (own if ref.site == reader.domain else others).append(check)
    for reader, own, others in groups.values():
        removed = any(c.reason is Reason.LINK_REMOVED for c in own)
        links = any(c.link_count for c in own)
        if not own and not host_on_domain(host_of(fetch.final_url), reader.domain):
            # Read for a competitor's backlinks only: a link to the site there is a new
            # backlink of the site (so `report gap` does not pitch a domain that links).
            found_links = pages.links_to(page, reader.domain)
            items.extend(_discoveries(reader.domain, fetch, page, found_links, (), "verify"))
            links = bool(found_links)
        if links and not linked_pages:
            continue
        terms, row = mentions_on(
            reader,
            fetch,
            page,
            "verify",
            links,
            "link_removed" if removed else None,
            wants_contacts,
        )
        for check in own:
            check.mentions = terms
        for check in others:  # read for each site it competes with: the most terms found
            check.mentions = max(terms or 0, check.mentions or 0) if terms is not None else None
        if row is not None:
            items.append(row)
    return items


def _readers_of(
    site: str, readers: Mapping[str, SiteReader], rivals: Mapping[str, Sequence[SiteReader]]
) -> Sequence[SiteReader]:
    reader = readers.get(site)
    return (reader,) if reader is not None else rivals.get(site, ())


def _discoveries(
    domain: str,
    fetch: Fetch,
    page: pages.Page,
    links: Sequence[Link],
    known: Sequence[BacklinkRef],
    source: str,
) -> list[Item]:
    """New backlinks of `domain` (the site or a competitor) on the page: one per target
    that no known backlink of the page covers. A known backlink that takes any link to
    the domain (no target) covers the page: nothing is added beside it."""
    if not links or any(ref.target_url is None for ref in known):
        return []
    # A known backlink's target as the verdict compares it (scheme, www., slash …).
    known_targets = {compare_key(ref.target_url) for ref in known if ref.target_url}
    by_target: dict[str, list[Link]] = {}
    for link in links:
        by_target.setdefault(identity_key(link.url), []).append(link)
    found: list[Item] = []
    for same in by_target.values():
        if compare_key(same[0].url) in known_targets:
            continue
        ref = BacklinkRef(0, domain, fetch.final_url, same[0].url)
        check = classify.check_page(ref, fetch, page, same)
        found.append(Discovery(domain, fetch.final_url, same[0].url, None, check, source))
    return found


def _competitor_links(
    reader: SiteReader,
    fetch: Fetch,
    page: pages.Page,
    source: str,
    rivals: Sequence[BacklinkRef],
) -> list[Item]:
    """Links to competitors: a row per target for `report competitor-links`, and the
    competitors' backlinks (`report gap`): new ones with a full check, beside the checks
    of those already known on the page (`rivals`)."""
    meta = meta_directives(page.meta_robots)
    header = header_directives(fetch.x_robots_tag)
    items: list[Item] = []
    page_host = host_of(fetch.final_url)
    for competitor in reader.competitors:
        if host_on_domain(page_host, competitor):
            continue  # a competitor's own page: its internal links are not links to it
        links = pages.links_to(page, competitor)
        rows: dict[str, CompetitorLink] = {}
        for link in links:
            key = identity_key(link.url)
            if key in rows:
                continue
            nofollow = classify.nofollow_source(link, meta, header)
            rows[key] = CompetitorLink(
                site=reader.domain,
                competitor=competitor,
                page_url=fetch.final_url,
                target_url=link.url,
                follow=nofollow is None,
                rel=" ".join(link.rel) or None,
                nofollow_source=nofollow,
                anchor=link.anchor,
            )
        items.extend(rows.values())
        known = [ref for ref in rivals if ref.site == competitor]
        items.extend(_discoveries(competitor, fetch, page, links, known, source))
    return items


def read_discovered(
    fetch: Fetch,
    reader: SiteReader,
    source: str,
    known: Sequence[BacklinkRef] = (),
    page: pages.Page | None = None,
    follow_redirects: bool = False,
    wants_contacts: WantsContacts = always,
    rivals: Sequence[BacklinkRef] = (),
) -> list[Item]:
    """A page read by discovery: checks of its known backlinks, new backlinks, competitor
    links and mentions. `known` are the site's backlinks already on this page, `rivals`
    its competitors'; `page` the page parsed whole, when the caller has it already. With
    `follow_redirects`, a page that redirects to another site is read where it landed
    (lists, feeds).

    A known backlink that takes any link to the site (no target) covers the page:
    no other backlink is added beside it.
    """
    early = classify.status_reason(fetch)
    if early is Reason.REDIRECTED_AWAY and fetch.status == 200 and follow_redirects:
        # A listed page that moved to another site (a shortener, a feed proxy, a site
        # move): its known backlinks are lost as always, and the page it became is read.
        moved: list[Item] = [classify.check_page(ref, fetch, None) for ref in (*known, *rivals)]
        here = dataclasses.replace(fetch, requested_url=fetch.final_url, redirect_chain=())
        moved += forgotten(fetch, [reader.domain], source)  # the listed URL's, if any
        return moved + read_discovered(here, reader, source, wants_contacts=wants_contacts)
    if early is not None:
        checks = [classify.check_page(ref, fetch, None) for ref in (*known, *rivals)]
        return [*checks, *forgotten(fetch, [reader.domain], source)]
    if page is None:
        page = pages.parse(fetch)
    items: list[Item] = [classify.check_page(ref, fetch, page) for ref in known]
    known_checks = [item for item in items if isinstance(item, Check)]
    rival_checks = [classify.check_page(ref, fetch, page) for ref in rivals]
    items.extend(rival_checks)
    links = pages.links_to(page, reader.domain)
    if not host_on_domain(host_of(fetch.final_url), reader.domain):
        items.extend(_discoveries(reader.domain, fetch, page, links, known, source))
        competitor_items = _competitor_links(reader, fetch, page, source, rivals)
        items.extend(competitor_items)
        rival_checks += [i.check for i in competitor_items if isinstance(i, Discovery)]
    removed = any(check.reason is Reason.LINK_REMOVED for check in known_checks)
    terms, row = mentions_on(
        reader,
        fetch,
        page,
        source,
        bool(links),
        "link_removed" if removed else None,
        wants_contacts,
    )
    for check in known_checks + rival_checks:
        check.mentions = terms  # competitors' pages too: read for the site's brand
    if row is not None:
        items.append(row)
    return items
