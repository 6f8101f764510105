"""The verdict for one backlink from one fetch: an ordered rule table.

Precedence, first match wins (issue #2): page_not_found; redirected_away; the
unreachable reasons; noindex; not_canonical; link_removed; else live.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection

from verifier.models import (
    BacklinkRef,
    Check,
    Discovery,
    Fetch,
    FoundIn,
    Link,
    NofollowSource,
    Reason,
    Status,
)
from verifier.verdict import absence, context
from verifier.verdict import page as pages
from verifier.verdict.directives import (
    Directives,
    header_canonicals,
    header_directives,
    meta_directives,
)
from verifier.verdict.urls import compare_key, is_on_site, same_owner

NOFOLLOW_RELS = frozenset({"nofollow", "ugc", "sponsored"})
NOT_FOUND_STATUSES = frozenset({404, 410})


def redirected_away(fetch: Fetch) -> bool:
    """True when the page now redirects (HTTP or meta refresh) to another registered domain."""
    return bool(fetch.redirect_chain) and not same_owner(fetch.requested_url, fetch.final_url)


def status_reason(fetch: Fetch) -> Reason | None:
    """The verdict that the HTTP exchange alone decides, before the body is read."""
    if fetch.status in NOT_FOUND_STATUSES:
        return Reason.PAGE_NOT_FOUND
    if redirected_away(fetch):
        return Reason.REDIRECTED_AWAY
    if fetch.status >= 500:
        return Reason.SERVER_ERROR
    if fetch.status >= 400:
        return Reason.HTTP_ERROR
    if fetch.status >= 300:
        return Reason.CRAWL_ERROR  # a redirect the crawler could not follow (no Location)
    if not pages.is_html(fetch.content_type, fetch.body):
        return Reason.NOT_HTML
    return None


LOST_REASONS = frozenset(
    {
        Reason.PAGE_NOT_FOUND,
        Reason.REDIRECTED_AWAY,
        Reason.NOINDEX,
        Reason.NOT_CANONICAL,
        Reason.LINK_REMOVED,
    }
)


def _status_for(reason: Reason) -> Status:
    return Status.LOST if reason in LOST_REASONS else Status.UNREACHABLE


def _link_nofollow(link: Link) -> bool:
    return any(token.lower() in NOFOLLOW_RELS for token in link.rel)


def nofollow_source(link: Link, meta: Directives, header: Directives) -> NofollowSource | None:
    """Which hint makes the link not followed (link-level first), or None."""
    if _link_nofollow(link):
        return NofollowSource.REL
    if meta.nofollow:
        return NofollowSource.META
    if header.nofollow:
        return NofollowSource.HEADER
    return None


def best_link(links: list[Link], target_url: str | None, page_nofollow: bool) -> Link:
    """Followed beats not followed; then the expected target; then document order."""
    target = compare_key(target_url) if target_url else None

    def rank(link: Link) -> tuple[bool, bool, int]:
        followed = not page_nofollow and not _link_nofollow(link)
        return (not followed, compare_key(link.url) != target, link.position)

    return min(links, key=rank)


def anchor_changed(anchor: str, expected: str | None) -> bool:
    """True when the anchor differs from the imported one (case and whitespace folded)."""
    expected = pages.fold(expected or "")
    return bool(expected) and pages.fold(anchor).casefold() != expected.casefold()


def _evidence(ref: BacklinkRef, fetch: Fetch) -> Check:
    return Check(
        backlink_id=ref.id,
        status=Status.LIVE,
        http_status=fetch.status,
        final_url=fetch.final_url,
        redirect_chain=[[url, status] for url, status in fetch.redirect_chain] or None,
        content_type=fetch.content_type,
        size=len(fetch.body),
        fetch_ms=fetch.fetch_ms,
        x_robots_tag=" | ".join(fetch.x_robots_tag) or None,
    )


def _verdict(check: Check, reason: Reason | None) -> Check:
    check.reason = reason
    check.status = Status.LIVE if reason is None else _status_for(reason)
    check.found_in = FoundIn.RAW if reason is None else None
    return check


def check_page(
    ref: BacklinkRef, fetch: Fetch, page: pages.Page | None, links: list[Link] | None = None
) -> Check:
    """The verdict for `ref` from a fetched page.

    `page` is the parsed page (None when `status_reason` decided without the
    body); `links` are its links to the site, when the caller has them already.
    """
    check = _evidence(ref, fetch)
    early = status_reason(fetch)
    if page is None or early is not None:
        if early is None:
            early = Reason.CRAWL_ERROR
            check.detail = "page could not be parsed"
        return _verdict(check, early)
    check.content_hash = page.content_hash
    check.meta_robots = " | ".join(page.meta_robots) or None
    meta = meta_directives(page.meta_robots)
    header = header_directives(fetch.x_robots_tag)
    canonicals = _by_key(
        [*page.canonicals, *header_canonicals(fetch.link_headers, fetch.final_url)]
    )
    check.canonical = " | ".join(canonicals.values()) or None
    if links is None:
        links = pages.links_to(page, ref.site)
    check.link_count = len(links)
    if links:
        _describe_link(check, ref, links, meta, header)
    if meta.noindex or header.noindex:
        return _verdict(check, Reason.NOINDEX)
    # Conflicting canonicals are ignored by Google, so only a single one can disown the page.
    if len(canonicals) == 1 and next(iter(canonicals)) != compare_key(fetch.final_url):
        return _verdict(check, Reason.NOT_CANONICAL)
    return _verdict(check, None if links else Reason.LINK_REMOVED)


def _describe_link(
    check: Check, ref: BacklinkRef, links: list[Link], meta: Directives, header: Directives
) -> None:
    link = best_link(links, ref.target_url, meta.nofollow or header.nofollow)
    source = nofollow_source(link, meta, header)
    check.follow = source is None
    check.nofollow_source = source
    check.rel = " ".join(link.rel) or None
    check.anchor = link.anchor
    check.anchor_changed = anchor_changed(link.anchor, ref.expected_anchor)
    check.observed_target = link.url
    check.target_changed = bool(ref.target_url) and compare_key(link.url) != compare_key(
        ref.target_url or ""
    )
    check.link_html = context.link_html(link)
    check.context_before, check.context_after = context.link_context(link)


def _by_key(canonicals: list[str]) -> dict[str, str]:
    """Canonical URLs by `compare_key`; one no key can be made of (a host such as `..`,
    a port that is no number) is ignored, as search engines ignore an invalid canonical."""
    found: dict[str, str] = {}
    for url in canonicals:
        try:
            found[compare_key(url)] = url
        except ValueError:
            continue
    return found


def check_failure(
    ref: BacklinkRef, reason: Reason, detail: str | None = None, fetch: Fetch | None = None
) -> Check:
    """The verdict for `ref` when no usable response arrived (the page did not load)."""
    check = Check(ref.id, Status.UNREACHABLE)
    if fetch is not None:  # the redirects that happened before the failure
        check = _evidence(ref, fetch)
        check.http_status = check.size = None
        if redirected_away(fetch):
            reason = Reason.REDIRECTED_AWAY  # whatever the final page answers
    check.detail = detail
    return _verdict(check, reason)


def check_fetch(fetch: Fetch, refs: list[BacklinkRef]) -> list[Check | Discovery]:
    """Everything one fetched page says: a check per backlink on it, and discoveries.

    The page is parsed once for all of `refs`. When it now redirects to another
    domain, its links to the sites are backlinks too (`Discovery`).
    """
    return read_fetch(fetch, refs)[1]


def read_fetch(
    fetch: Fetch,
    refs: list[BacklinkRef],
    needs_body: Callable[[absence.Source], bool] | None = None,
    also: Collection[str] = (),
) -> tuple[pages.Page | None, list[Check | Discovery]]:
    """`check_fetch`, also handing back the parsed page (None when the body was not read).

    `needs_body` is passed to `page.parse`: a reader that needs more than the head;
    `also`, domains besides the refs' sites whose links will be asked of the page.
    """
    early = status_reason(fetch)
    sites = {ref.site for ref in refs} | set(also)
    parsed = pages.parse(fetch, sites, needs_body) if early is None else None
    found: list[Check | Discovery] = [check_page(ref, fetch, parsed) for ref in refs]
    if early is Reason.REDIRECTED_AWAY and fetch.status == 200:
        found.extend(_discoveries(fetch, refs))
    return parsed, found


def _discoveries(fetch: Fetch, refs: list[BacklinkRef]) -> list[Discovery]:
    here = dataclasses.replace(fetch, requested_url=fetch.final_url, redirect_chain=())
    if status_reason(here) is not None:
        return []
    # A page of the site itself is never its backlink: a page that redirects to the
    # site is lost (`redirected_away`), and nothing is discovered on the site's page.
    sites = [
        site
        for site in dict.fromkeys(ref.site for ref in refs)
        if not is_on_site(here.final_url, site)
    ]
    if not sites:
        return []
    parsed = pages.parse(here, set(sites))
    found = []
    for site in sites:
        links = pages.links_to(parsed, site)
        if not links:
            continue
        target = best_link(links, None, False).url
        ref = BacklinkRef(0, site, fetch.final_url, target)
        check = check_page(ref, here, parsed, links)
        found.append(Discovery(site, fetch.final_url, target, refs[0].id, check))
    return found
