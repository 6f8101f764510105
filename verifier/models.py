"""Value objects shared by the verifier and the crawler.

The string values of the enums are stored in the database and printed in JSON
reports: they are a public contract, so add members, never rename them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    LIVE = "live"
    LOST = "lost"
    UNREACHABLE = "unreachable"
    # A backlink candidate from referral traffic (access log, GA4) that was never found
    # live and whose check says lost: referrer spam or a page that never linked. It is
    # never a lost link (verifier.verdict.history.settle decides).
    SPAM = "spam"


class Reason(StrEnum):
    # lost
    PAGE_NOT_FOUND = "page_not_found"
    REDIRECTED_AWAY = "redirected_away"
    NOINDEX = "noindex"
    NOT_CANONICAL = "not_canonical"
    LINK_REMOVED = "link_removed"
    # unreachable (page-error kinds first: they turn into `lost` after N in a row)
    TIMEOUT = "timeout"
    DNS_ERROR = "dns_error"
    CONNECTION_ERROR = "connection_error"
    TLS_ERROR = "tls_error"
    SERVER_ERROR = "server_error"
    HTTP_ERROR = "http_error"
    ROBOTS_BLOCKED = "robots_blocked"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    NOT_HTML = "not_html"
    TOO_LARGE = "too_large"
    CRAWL_ERROR = "crawl_error"


#: Failures of the page itself; N of them in a row make a backlink `lost`.
PAGE_ERRORS = frozenset(
    {
        Reason.TIMEOUT,
        Reason.DNS_ERROR,
        Reason.CONNECTION_ERROR,
        Reason.TLS_ERROR,
        Reason.SERVER_ERROR,
        Reason.HTTP_ERROR,
    }
)


class Change(StrEnum):
    NEW = "new"
    UNCHANGED = "unchanged"
    LOST = "lost"
    REGAINED = "regained"
    NOFOLLOWED = "nofollowed"
    FOLLOWED = "followed"
    ANCHOR_CHANGED = "anchor_changed"
    TARGET_CHANGED = "target_changed"
    MOVED_TO_JS = "moved_to_js"  # a live link now found only after rendering (issue 14)
    UNREACHABLE = "unreachable"


class FoundIn(StrEnum):
    """Where a live link was found: in the HTML as fetched, or only after scripts ran."""

    RAW = "raw"
    RENDERED = "rendered"


class NofollowSource(StrEnum):
    REL = "rel"
    META = "meta"
    HEADER = "header"


@dataclass(frozen=True, slots=True)
class BacklinkRef:
    """What the crawler needs to know about one backlink to check it."""

    id: int
    site: str  # the site's registered domain, e.g. "acme.com"
    source_url: str
    target_url: str | None  # None: any link to the site counts
    expected_anchor: str | None = None


@dataclass(frozen=True, slots=True)
class Fetch:
    """A page as it was fetched: plain values, no framework objects."""

    requested_url: str
    final_url: str
    status: int
    body: bytes
    content_type: str | None = None
    x_robots_tag: tuple[str, ...] = ()
    link_headers: tuple[str, ...] = ()
    redirect_chain: tuple[tuple[str, int | str], ...] = ()  # (url, status or "meta refresh")
    fetch_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Link:
    """One `<a>`/`<area>` on a page that points at the site."""

    url: str  # resolved, absolute
    rel: tuple[str, ...]  # tokens as found (lower-cased), in order
    anchor: str
    position: int  # document order among the page's candidate links (compare within a page)
    element: object = field(default=None, compare=False, repr=False)  # lxml element, for evidence


@dataclass(slots=True)
class Check:
    """The verdict for one backlink in one run, with its evidence.

    `status`/`reason` are the page-level verdict; `verifier.verdict.history.settle`
    later fills `change` and may turn repeated failures into `lost`.
    """

    backlink_id: int
    status: Status
    reason: Reason | None = None
    follow: bool | None = None
    nofollow_source: NofollowSource | None = None
    rel: str | None = None
    anchor: str | None = None
    anchor_changed: bool | None = None
    target_changed: bool | None = None
    observed_target: str | None = None
    link_count: int = 0
    http_status: int | None = None
    final_url: str | None = None
    redirect_chain: list[list[object]] | None = None
    content_type: str | None = None
    size: int | None = None
    fetch_ms: int | None = None
    x_robots_tag: str | None = None
    meta_robots: str | None = None
    canonical: str | None = None
    link_html: str | None = None
    context_before: str | None = None
    context_after: str | None = None
    content_hash: str | None = None
    detail: str | None = None
    mentions: int | None = None  # brand terms on the page; None when it was not read for them
    change: Change | None = None
    consecutive_failures: int = 0
    checked_at: str | None = None
    rendered: bool = False  # the verdict was read from the page rendered in Chromium
    found_in: FoundIn | None = None  # live links only: raw HTML, or only after rendering


@dataclass(frozen=True, slots=True)
class Discovery:
    """A backlink found on a page read for another reason, with its check.

    `discovered`: the page a referring page now redirects to; `crawl`, `list`,
    `feed`: a page read by discovery; `outreach`: an outreach target's page.
    """

    site: str
    source_url: str
    target_url: str
    discovered_from: int | None  # id of the backlink whose page redirected
    check: Check  # checked from the page already fetched; backlink_id is 0 until stored
    source: str = "discovered"


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """How one of our own pages that backlinks point at answered, once per run."""

    site: str
    url: str
    method: str  # HEAD, or GET when the server refused HEAD
    http_status: int | None = None
    final_url: str | None = None
    redirect_chain: tuple[tuple[str, int | str], ...] = ()
    error: str | None = None  # an unreachable reason code when no answer came
    detail: str | None = None


class MentionKind(StrEnum):
    TEXT = "text"  # in the page's body (even if also in its title)
    TITLE = "title"  # only in the page's <title>
    IMAGE_USE = "image_use"  # the page shows an image from the site


class Placement(StrEnum):
    MAIN = "main"
    BOILERPLATE = "boilerplate"  # nav, aside, page-level header/footer, menus, sidebars …


@dataclass(frozen=True, slots=True)
class Mention:
    """One brand term (or one image of the site) on one page."""

    term: str  # the term as configured; for image_use, the image URL
    kind: MentionKind
    context: str  # ~120 chars each side of the first body occurrence; image_use: its alt text
    linked: bool  # every occurrence sits inside a link to the site
    placement: Placement  # main when any occurrence is in main content


class ContactKind(StrEnum):
    EMAIL = "email"
    AUTHOR = "author"
    CONTACT_URL = "contact_url"  # the site's contact (or about) page


@dataclass(frozen=True, slots=True)
class Contact:
    """Who to ask for a link: read on `found_on` (the page itself or its contact page)."""

    kind: ContactKind
    value: str
    found_on: str


@dataclass(frozen=True, slots=True)
class CompetitorLink:
    """A link to a competitor seen on a page read by discovery (never fetched itself)."""

    site: str
    competitor: str  # the competitor's domain as configured
    page_url: str
    target_url: str
    follow: bool
    rel: str | None
    nofollow_source: NofollowSource | None
    anchor: str


@dataclass(slots=True)
class PageMentions:
    """What discovery read on one page for one site: its mentions and who to ask."""

    site: str
    page_url: str
    source: str  # verify, crawl, list, feed
    title: str | None = None
    noindex: bool = False
    links_to_site: bool = False
    mentions: list[Mention] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    contact_url: str | None = None  # the site's contact page, when one was found
    reason: str | None = None  # link_removed: the page of a backlink that lost its link


@dataclass(slots=True)
class PageRead:
    """A page `verify` checked, handed to the writer process to be read for mentions.

    Reading a page for the brand costs more than its link verdict; the writer reads
    it on another core while the crawl goes on, then stores `items` (the page's
    checks, which get their `mentions`, and its discoveries) with what it found.
    """

    fetch: Fetch
    refs: list[BacklinkRef]
    items: list[Any]  # the crawler's items for the page: its checks first, one per ref
    linked_pages: bool = True  # BACKCHECK_MENTIONS_ON_LINKING_PAGES
    #: The crawler proved the page links to none of the sites and holds none of their
    #: terms (it read the head alone): `fetch` comes without its body, nothing to parse.
    cleared: bool = False


@dataclass(frozen=True, slots=True)
class ContactWanted:
    """A target the writer's reading found whose site's contact page the crawler should
    fetch (`crawler.spiders.plumbing.ContactPages.wanted`)."""

    page_url: str
    contact_url: str


@dataclass(frozen=True, slots=True)
class CrawledPage:
    """One page a domain-list crawl requested, kept so that a killed crawl resumes."""

    domain: str  # the crawl's scope (a registered domain)
    url: str
    depth: int
    http_status: int | None
    ok: bool  # an HTML page answered: it counts toward the page cap
    links: tuple[str, ...] = ()  # the internal links it added to the frontier


@dataclass(frozen=True, slots=True)
class DomainDone:
    """A domain of a crawl is finished, and why it stopped."""

    domain: str
    stopped: str  # robots, unreachable, errors, page_limit, depth_limit, done


@dataclass(frozen=True, slots=True)
class PageContacts:
    """Addresses read on a site's contact page, for an outreach target page of that site."""

    page_url: str  # the target page they belong to
    contacts: tuple[Contact, ...]  # found_on: the contact page
