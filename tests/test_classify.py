"""The verdict table (verifier.verdict.classify): hand-made Fetch objects in, Check fields out."""

from __future__ import annotations

from typing import Any

import pytest

from verifier.models import BacklinkRef, Check, Fetch, NofollowSource, Reason, Status
from verifier.verdict import classify
from verifier.verdict import page as pages

SITE = "acme.com"
PAGE = "https://blog.test/post"
TARGET = "https://acme.com/widgets"
LINK = f'<p>Try <a href="{TARGET}">Acme widgets</a> today.</p>'
OTHER = "https://acme.com/pricing"

LIVE = {"status": Status.LIVE, "reason": None}
REL = NofollowSource.REL
META = NofollowSource.META
HEADER = NofollowSource.HEADER


def lost(reason: Reason) -> dict[str, Any]:
    return {"status": Status.LOST, "reason": reason}


def unreachable(reason: Reason) -> dict[str, Any]:
    return {"status": Status.UNREACHABLE, "reason": reason}


def make_fetch(
    body: str | bytes = LINK,
    status: int = 200,
    content_type: str | None = "text/html; charset=utf-8",
    *,
    url: str = PAGE,
    final: str | None = None,
    chain: tuple[tuple[str, int | str], ...] = (),
    x_robots: tuple[str, ...] = (),
    links: tuple[str, ...] = (),
    head: str = "",
) -> Fetch:
    if isinstance(body, str):
        body = f"<!doctype html><html><head>{head}</head><body>{body}</body></html>".encode()
    return Fetch(
        requested_url=url,
        final_url=final or url,
        status=status,
        body=body,
        content_type=content_type,
        x_robots_tag=x_robots,
        link_headers=links,
        redirect_chain=chain,
        fetch_ms=12,
    )


def verdict(fetch: Fetch, target: str | None = TARGET, anchor: str | None = None) -> Check:
    """What the spider does: parse only when the HTTP exchange did not decide."""
    ref = BacklinkRef(1, SITE, fetch.requested_url, target, anchor)
    early = classify.status_reason(fetch)
    page = pages.parse(fetch) if early is None else None
    return classify.check_page(ref, fetch, page)


def away(status: int = 200, how: int | str = 301, **kw: Any) -> dict[str, Any]:
    return {
        "final": "https://newhome.net/post",
        "chain": ((PAGE, how),),
        "status": status,
        **kw,
    }


CASES = [
    # --- HTTP status -------------------------------------------------------
    pytest.param({}, {}, {**LIVE, "follow": True, "link_count": 1}, id="200-live"),
    pytest.param({"status": 404}, {}, lost(Reason.PAGE_NOT_FOUND), id="404"),
    pytest.param({"status": 410}, {}, lost(Reason.PAGE_NOT_FOUND), id="410"),
    pytest.param(
        {"status": 404, "x_robots": ("noindex",)}, {}, lost(Reason.PAGE_NOT_FOUND), id="404-noindex"
    ),
    pytest.param(
        {"status": 404},
        {},
        {"link_count": 0, "follow": None, "anchor": None},
        id="404-body-not-read",
    ),
    pytest.param({"status": 500}, {}, unreachable(Reason.SERVER_ERROR), id="500"),
    pytest.param({"status": 502}, {}, unreachable(Reason.SERVER_ERROR), id="502"),
    pytest.param({"status": 503}, {}, unreachable(Reason.SERVER_ERROR), id="503"),
    pytest.param(
        {"status": 500, "x_robots": ("noindex",)},
        {},
        unreachable(Reason.SERVER_ERROR),
        id="500-beats-noindex",
    ),
    pytest.param({"status": 400}, {}, unreachable(Reason.HTTP_ERROR), id="400"),
    pytest.param({"status": 401}, {}, unreachable(Reason.HTTP_ERROR), id="401"),
    pytest.param({"status": 403}, {}, unreachable(Reason.HTTP_ERROR), id="403"),
    pytest.param({"status": 429}, {}, unreachable(Reason.HTTP_ERROR), id="429"),
    pytest.param({"status": 451}, {}, unreachable(Reason.HTTP_ERROR), id="451"),
    pytest.param({"status": 204, "body": b""}, {}, lost(Reason.LINK_REMOVED), id="204-empty-html"),
    pytest.param({"status": 302}, {}, unreachable(Reason.CRAWL_ERROR), id="302-not-followed"),
    # --- content types -----------------------------------------------------
    pytest.param(
        {"body": b"%PDF-1.4 acme.com", "content_type": "application/pdf"},
        {},
        unreachable(Reason.NOT_HTML),
        id="pdf",
    ),
    pytest.param({"content_type": "text/plain"}, {}, unreachable(Reason.NOT_HTML), id="text-plain"),
    pytest.param({"content_type": "image/png"}, {}, unreachable(Reason.NOT_HTML), id="png"),
    pytest.param({"content_type": "application/xhtml+xml"}, {}, LIVE, id="xhtml-content-type"),
    pytest.param({"content_type": "TEXT/HTML"}, {}, LIVE, id="upper-case-content-type"),
    pytest.param({"content_type": None}, {}, LIVE, id="untyped-html-sniffed"),
    pytest.param(
        {"content_type": None, "body": b"%PDF-1.4"},
        {},
        unreachable(Reason.NOT_HTML),
        id="untyped-pdf",
    ),
    pytest.param(
        {"status": 404, "content_type": "application/pdf"},
        {},
        lost(Reason.PAGE_NOT_FOUND),
        id="404-pdf",
    ),
    # --- redirects ---------------------------------------------------------
    pytest.param(
        {
            "url": "http://blog.test/post",
            "final": "https://blog.test/post",
            "chain": (("http://blog.test/post", 301),),
        },
        {},
        {**LIVE, "final_url": "https://blog.test/post"},
        id="same-domain-http-to-https",
    ),
    pytest.param(
        {
            "url": "https://www.myblog.net/p",
            "final": "https://myblog.net/p",
            "chain": (("x", 301),),
        },
        {},
        LIVE,
        id="same-domain-www-to-apex",
    ),
    pytest.param(
        {
            "url": "https://myblog.co.uk/p",
            "final": "https://news.myblog.co.uk/p",
            "chain": (("https://myblog.co.uk/p", 308),),
        },
        {},
        LIVE,
        id="same-domain-other-subdomain",
    ),
    pytest.param(
        {
            "url": "http://blog.test/a",
            "final": "https://blog.test/b",
            "chain": (("x", 301),),
            "status": 404,
        },
        {},
        lost(Reason.PAGE_NOT_FOUND),
        id="same-domain-then-404",
    ),
    pytest.param(
        {
            "url": "http://blog.test/a",
            "final": "https://blog.test/b",
            "chain": (("x", 301),),
            "status": 500,
        },
        {},
        unreachable(Reason.SERVER_ERROR),
        id="same-domain-then-500",
    ),
    pytest.param(away(), {}, lost(Reason.REDIRECTED_AWAY), id="away-301"),
    pytest.param(away(how=302), {}, lost(Reason.REDIRECTED_AWAY), id="away-302"),
    pytest.param(
        away(how="meta refresh"), {}, lost(Reason.REDIRECTED_AWAY), id="away-meta-refresh"
    ),
    pytest.param(away(500), {}, lost(Reason.REDIRECTED_AWAY), id="away-then-500"),
    pytest.param(away(503), {}, lost(Reason.REDIRECTED_AWAY), id="away-then-503"),
    pytest.param(away(403), {}, lost(Reason.REDIRECTED_AWAY), id="away-then-403"),
    pytest.param(
        away(content_type="application/pdf"), {}, lost(Reason.REDIRECTED_AWAY), id="away-then-pdf"
    ),
    pytest.param(
        away(x_robots=("noindex",)), {}, lost(Reason.REDIRECTED_AWAY), id="away-beats-noindex"
    ),
    pytest.param(away(404), {}, lost(Reason.PAGE_NOT_FOUND), id="away-then-404"),
    pytest.param(away(410), {}, lost(Reason.PAGE_NOT_FOUND), id="away-then-410"),
    pytest.param(
        {
            "url": "https://me.blogspot.com/p",
            "final": "https://you.blogspot.com/p",
            "chain": (("https://me.blogspot.com/p", 301),),
        },
        {},
        lost(Reason.REDIRECTED_AWAY),
        id="away-private-suffix",
    ),
    pytest.param(
        {"final": "https://acme.com/widgets", "chain": ((PAGE, 301),)},
        {},
        lost(Reason.REDIRECTED_AWAY),
        id="away-to-the-site-itself",
    ),
    pytest.param(
        away(),
        {},
        {"final_url": "https://newhome.net/post", "redirect_chain": [[PAGE, 301]]},
        id="away-evidence",
    ),
    # --- robots directives ---------------------------------------------------
    pytest.param(
        {"head": '<meta name="robots" content="noindex">'},
        {},
        {**lost(Reason.NOINDEX), "follow": True, "link_count": 1, "meta_robots": "noindex"},
        id="meta-noindex",
    ),
    pytest.param(
        {"head": '<meta name="googlebot" content="NOINDEX, follow">'},
        {},
        lost(Reason.NOINDEX),
        id="meta-googlebot-noindex",
    ),
    pytest.param(
        {"head": '<meta name="bingbot" content="noindex, nofollow">'},
        {},
        {**LIVE, "follow": True},
        id="meta-other-bot-ignored",
    ),
    pytest.param(
        {"head": '<meta name="robots" content="none">'},
        {},
        {**lost(Reason.NOINDEX), "follow": False, "nofollow_source": META},
        id="meta-none",
    ),
    pytest.param(
        {"head": '<meta name="robots" content="index, nofollow">'},
        {},
        {**LIVE, "follow": False, "nofollow_source": META},
        id="meta-nofollow",
    ),
    pytest.param(
        {"head": '<meta name="googlebot" content="nofollow">'},
        {},
        {**LIVE, "follow": False, "nofollow_source": META},
        id="meta-googlebot-nofollow",
    ),
    pytest.param(
        {"body": '<meta name="robots" content="noindex, nofollow">' + LINK},
        {},
        {**LIVE, "follow": True, "meta_robots": None},
        id="meta-in-body-ignored",
    ),
    pytest.param(
        {"head": '<img src="x.gif"><meta name="robots" content="noindex, nofollow">'},
        {},
        {**LIVE, "follow": True},
        id="meta-after-img-in-head-ignored",
    ),
    pytest.param(
        {"x_robots": ("noindex",)},
        {},
        {**lost(Reason.NOINDEX), "follow": True, "x_robots_tag": "noindex"},
        id="header-noindex",
    ),
    pytest.param(
        {"x_robots": ("googlebot: noindex",)}, {}, lost(Reason.NOINDEX), id="header-googlebot"
    ),
    pytest.param({"x_robots": ("otherbot: noindex",)}, {}, LIVE, id="header-otherbot-noindex"),
    pytest.param(
        {"x_robots": ("none",)},
        {},
        {**lost(Reason.NOINDEX), "follow": False, "nofollow_source": HEADER},
        id="header-none",
    ),
    pytest.param(
        {"x_robots": ("nofollow",)},
        {},
        {**LIVE, "follow": False, "nofollow_source": HEADER},
        id="header-nofollow",
    ),
    pytest.param(
        {"x_robots": ("googlebot: nofollow",)},
        {},
        {**LIVE, "follow": False, "nofollow_source": HEADER},
        id="header-googlebot-nofollow",
    ),
    pytest.param(
        {"x_robots": ("otherbot: nofollow",)},
        {},
        {**LIVE, "follow": True, "nofollow_source": None},
        id="header-otherbot-nofollow",
    ),
    pytest.param(
        {"x_robots": ("noindex, otherbot: nofollow",)},
        {},
        {**lost(Reason.NOINDEX), "follow": True},
        id="header-mixed",
    ),
    pytest.param(
        {"x_robots": ("noarchive", "nofollow")},
        {},
        {
            **LIVE,
            "follow": False,
            "nofollow_source": HEADER,
            "x_robots_tag": "noarchive | nofollow",
        },
        id="header-several-values",
    ),
    pytest.param(
        {"x_robots": ("noindex",), "body": "<p>no link</p>"},
        {},
        {**lost(Reason.NOINDEX), "link_count": 0},
        id="noindex-beats-link-removed",
    ),
    pytest.param(
        {"x_robots": ("noindex",), "head": '<link rel="canonical" href="https://blog.test/x">'},
        {},
        lost(Reason.NOINDEX),
        id="noindex-beats-not-canonical",
    ),
    # --- canonicals --------------------------------------------------------
    pytest.param(
        {"head": f'<link rel="canonical" href="{PAGE}">'},
        {},
        {**LIVE, "canonical": PAGE},
        id="canonical-self",
    ),
    pytest.param(
        {"head": '<link rel="canonical" href="/post">'}, {}, LIVE, id="canonical-relative-self"
    ),
    pytest.param(
        {"head": '<link rel="canonical" href="http://www.blog.test/post/?utm_source=x#top">'},
        {},
        LIVE,
        id="canonical-self-after-normalisation",
    ),
    pytest.param(
        {"head": '<link rel="canonical" href="https://blog.test/other">'},
        {},
        {**lost(Reason.NOT_CANONICAL), "canonical": "https://blog.test/other", "follow": True},
        id="canonical-other",
    ),
    pytest.param(
        {"head": '<link rel="canonical" href="/post?page=2">'},
        {},
        lost(Reason.NOT_CANONICAL),
        id="canonical-other-query",
    ),
    pytest.param(
        {"head": '<link rel="canonical" href="https://blog.test/other">', "body": "<p>x</p>"},
        {},
        lost(Reason.NOT_CANONICAL),
        id="not-canonical-beats-link-removed",
    ),
    pytest.param(
        {"links": ('<https://blog.test/other>; rel="canonical"',)},
        {},
        lost(Reason.NOT_CANONICAL),
        id="link-header-other",
    ),
    pytest.param({"links": (f'<{PAGE}>; rel="canonical"',)}, {}, LIVE, id="link-header-self"),
    pytest.param(
        {"links": ('<https://blog.test/other>; rel="next"',)},
        {},
        LIVE,
        id="link-header-not-canonical",
    ),
    pytest.param(
        {
            "head": '<link rel="canonical" href="https://blog.test/other">',
            "links": ('<https://blog.test/other>; rel="canonical"',),
        },
        {},
        lost(Reason.NOT_CANONICAL),
        id="head-and-header-agree",
    ),
    pytest.param(
        {
            "head": '<link rel="canonical" href="https://blog.test/a">'
            '<link rel="canonical" href="https://blog.test/b">'
        },
        {},
        LIVE,
        id="conflicting-head-canonicals-ignored",
    ),
    pytest.param(
        {
            "head": '<link rel="canonical" href="https://blog.test/other">',
            "links": (f'<{PAGE}>; rel="canonical"',),
        },
        {},
        LIVE,
        id="head-and-header-conflict-ignored",
    ),
    pytest.param(
        {"body": '<link rel="canonical" href="https://blog.test/other">' + LINK},
        {},
        {**LIVE, "canonical": None},
        id="canonical-in-body-ignored",
    ),
    pytest.param(
        {
            "url": "http://blog.test/post",
            "final": "https://blog.test/post?from=old",
            "chain": (("http://blog.test/post", 301),),
            "head": '<link rel="canonical" href="/post?from=old">',
        },
        {},
        LIVE,
        id="canonical-compared-with-final-url",
    ),
    # --- links: none, lookalikes, ignored --------------------------------------
    pytest.param(
        {"body": "<p>nothing here</p>"},
        {},
        {
            **lost(Reason.LINK_REMOVED),
            "link_count": 0,
            "follow": None,
            "anchor": None,
            "observed_target": None,
        },
        id="no-link",
    ),
    pytest.param(
        {"body": '<a href="https://acme.com.evil.net/">a</a><a href="https://notacme.com/">b</a>'},
        {},
        lost(Reason.LINK_REMOVED),
        id="only-lookalikes",
    ),
    pytest.param(
        {
            "body": f'<!-- <a href="{TARGET}">x</a> -->'
            f'<noscript><a href="{TARGET}">n</a></noscript>'
            f'<template><a href="{TARGET}">t</a></template>'
        },
        {},
        lost(Reason.LINK_REMOVED),
        id="only-hidden-links",
    ),
    pytest.param({"status": 200, "body": b""}, {}, lost(Reason.LINK_REMOVED), id="empty-200"),
    pytest.param(
        {"body": '<a href="https://blog.acme.com/">blog</a>'},
        {},
        {**LIVE, "target_changed": True, "observed_target": "https://blog.acme.com/"},
        id="subdomain-link-counts",
    ),
    # --- targets -------------------------------------------------------------
    pytest.param(
        {},
        {},
        {"observed_target": TARGET, "target_changed": False},
        id="target-same",
    ),
    pytest.param(
        {"body": '<a href="https://www.acme.com/widgets/?utm_source=blog#top">w</a>'},
        {},
        {
            **LIVE,
            "target_changed": False,
            "observed_target": "https://www.acme.com/widgets/?utm_source=blog#top",
        },
        id="target-same-after-normalisation",
    ),
    pytest.param(
        {"body": f'<a href="{OTHER}">p</a>'},
        {},
        {**LIVE, "target_changed": True, "observed_target": OTHER},
        id="target-other-page-still-live",
    ),
    pytest.param(
        {"body": '<a href="/widgets">rel</a>', "url": "https://acme.com/blog/post"},
        {},
        {**LIVE, "target_changed": False, "observed_target": TARGET},
        id="relative-link-on-the-sites-own-page",
    ),
    pytest.param(
        {"body": f'<a href="{OTHER}">p</a>'},
        {"target": None},
        {**LIVE, "target_changed": False, "observed_target": OTHER},
        id="no-target-any-link",
    ),
    # --- several links: best one and count -------------------------------------
    pytest.param(
        {"body": f'<a href="{TARGET}" rel="nofollow">t</a><a href="{OTHER}">o</a>'},
        {},
        {
            **LIVE,
            "link_count": 2,
            "follow": True,
            "observed_target": OTHER,
            "target_changed": True,
            "anchor": "o",
        },
        id="followed-beats-nofollow-target",
    ),
    pytest.param(
        {"body": f'<a href="{OTHER}">o</a><a href="{TARGET}">t</a>'},
        {},
        {"link_count": 2, "observed_target": TARGET, "target_changed": False, "anchor": "t"},
        id="target-beats-other-page",
    ),
    pytest.param(
        {"body": f'<a href="{TARGET}">first</a><a href="{TARGET}">second</a>'},
        {},
        {"link_count": 2, "anchor": "first"},
        id="first-in-order",
    ),
    pytest.param(
        {"body": f'<a href="{OTHER}">a</a><a href="https://acme.com/b">b</a>'},
        {},
        {"link_count": 2, "anchor": "a", "target_changed": True},
        id="first-other-page-in-order",
    ),
    pytest.param(
        {
            "body": f'<a href="{TARGET}" rel="ugc">a</a><a href="{TARGET}" rel="sponsored">b</a>'
            f'<a href="{TARGET}" rel="noopener">c</a>'
        },
        {},
        {"link_count": 3, "anchor": "c", "follow": True, "rel": "noopener"},
        id="followed-third",
    ),
    pytest.param(
        {"body": f'<a href="{OTHER}" rel="nofollow">o</a><a href="{TARGET}" rel="nofollow">t</a>'},
        {},
        {"follow": False, "nofollow_source": REL, "anchor": "t"},
        id="both-nofollow-target-wins",
    ),
    pytest.param(
        {
            "head": '<meta name="robots" content="nofollow">',
            "body": f'<a href="{OTHER}">o</a><a href="{TARGET}" rel="ugc">t</a>',
        },
        {},
        {"follow": False, "nofollow_source": REL, "anchor": "t", "link_count": 2},
        id="page-nofollow-then-target-beats-other",
    ),
    pytest.param(
        {"body": f'<a href="{OTHER}" rel="nofollow">o</a><a href="https://acme.com/x">x</a>'},
        {"target": None},
        {"follow": True, "anchor": "x", "target_changed": False},
        id="no-target-followed-beats-first",
    ),
    pytest.param(
        {
            "body": f'<a href="https://other.test/">x</a><a href="{OTHER}">o</a>'
            '<a href="https://blog.acme.com/">b</a>'
        },
        {},
        {"link_count": 2},
        id="count-only-links-to-the-site",
    ),
    # --- rel and nofollow_source -------------------------------------------------
    *[
        pytest.param(
            {"body": f'<a href="{TARGET}" rel="{rel}">t</a>'},
            {},
            {
                **LIVE,
                "follow": follow,
                "nofollow_source": REL if not follow else None,
                "rel": rel_out,
            },
            id=f"rel-{rel_out}",
        )
        for rel, follow, rel_out in [
            ("nofollow", False, "nofollow"),
            ("ugc", False, "ugc"),
            ("sponsored", False, "sponsored"),
            ("NoFollow", False, "NoFollow"),
            ("noopener,UGC", False, "noopener UGC"),
            ("external\tSPONSORED noreferrer", False, "external SPONSORED noreferrer"),
            ("noopener noreferrer", True, "noopener noreferrer"),
            ("nofollowed", True, "nofollowed"),
            ("", True, None),
        ]
    ],
    pytest.param(
        {
            "body": f'<a href="{TARGET}" rel="nofollow">t</a>',
            "head": '<meta name="robots" content="nofollow">',
            "x_robots": ("nofollow",),
        },
        {},
        {"follow": False, "nofollow_source": REL},
        id="source-rel-first",
    ),
    pytest.param(
        {"head": '<meta name="robots" content="nofollow">', "x_robots": ("nofollow",)},
        {},
        {"follow": False, "nofollow_source": META},
        id="source-meta-before-header",
    ),
    # --- anchors ---------------------------------------------------------------
    pytest.param(
        {},
        {"anchor": None},
        {"anchor": "Acme widgets", "anchor_changed": False},
        id="no-expected-anchor",
    ),
    pytest.param({}, {"anchor": ""}, {"anchor_changed": False}, id="empty-expected-anchor"),
    pytest.param({}, {"anchor": "Acme widgets"}, {"anchor_changed": False}, id="anchor-same"),
    pytest.param(
        {},
        {"anchor": "  ACME\n widgets "},
        {"anchor_changed": False},
        id="anchor-case-and-whitespace",
    ),
    pytest.param({}, {"anchor": "Acme gadgets"}, {"anchor_changed": True}, id="anchor-differs"),
    pytest.param(
        {"body": f'<a href="{TARGET}">  Acme&nbsp;<b>Widgets</b>\n</a>'},
        {"anchor": "acme widgets"},
        {"anchor": "Acme Widgets", "anchor_changed": False},
        id="anchor-nbsp-markup",
    ),
    pytest.param(
        {"body": f'<a href="{TARGET}"><img src="l.png" alt="Acme logo"></a>'},
        {"anchor": "ACME LOGO"},
        {"anchor": "Acme logo", "anchor_changed": False},
        id="anchor-image-alt",
    ),
    pytest.param(
        {"body": f'<a href="{TARGET}"><img src="l.png"></a>'},
        {"anchor": "Acme"},
        {**LIVE, "anchor": "", "anchor_changed": True},
        id="anchor-empty",
    ),
    pytest.param(
        {"body": "<p>gone</p>"},
        {"anchor": "Acme"},
        {"anchor": None, "anchor_changed": None},
        id="anchor-none-when-no-link",
    ),
]


@pytest.mark.parametrize(("fetch_kw", "ref_kw", "expected"), CASES)
def test_check_page(
    fetch_kw: dict[str, Any], ref_kw: dict[str, Any], expected: dict[str, Any]
) -> None:
    check = verdict(make_fetch(**fetch_kw), **ref_kw)
    assert {key: getattr(check, key) for key in expected} == expected


# Regression: a relative Link header URL resolves against the page (RFC 8288).
@pytest.mark.parametrize("value", ['</post>; rel="canonical"', '<post>; rel="canonical"'])
def test_relative_link_header_canonical_to_self(value: str) -> None:
    check = verdict(make_fetch(links=(value,)))
    assert (check.status, check.reason) == (Status.LIVE, None)


# A canonical no browser or search engine can read is ignored; it raised before, and the
# page got no verdict.
@pytest.mark.parametrize(
    "fetch_kw",
    [
        pytest.param({"links": ('<http://[bad/>; rel="canonical"',)}, id="header-ipv6"),
        pytest.param({"links": ('<http://blog.test:x/>; rel="canonical"',)}, id="header-port"),
        pytest.param({"head": '<link rel="canonical" href="http://..//0data:,x">'}, id="html"),
    ],
)
def test_an_unreadable_canonical_is_ignored(fetch_kw: dict[str, Any]) -> None:
    check = verdict(make_fetch(**fetch_kw))
    assert (check.status, check.reason) == (Status.LIVE, None)


def test_evidence_of_a_parsed_page() -> None:
    fetch = make_fetch(
        body='<p>before text <a href="https://acme.com/widgets" rel="ugc">Acme</a> after text</p>',
        url="http://blog.test/post",
        final=PAGE,
        chain=(("http://blog.test/post", 301),),
        x_robots=("noarchive",),
    )
    check = verdict(fetch)
    assert check.backlink_id == 1
    assert check.http_status == 200
    assert check.final_url == PAGE
    assert check.redirect_chain == [["http://blog.test/post", 301]]
    assert check.content_type == "text/html; charset=utf-8"
    assert check.size == len(fetch.body)
    assert check.fetch_ms == 12
    assert check.x_robots_tag == "noarchive"
    assert check.rel == "ugc"
    assert check.link_html == '<a href="https://acme.com/widgets" rel="ugc">Acme</a>'
    assert (check.context_before, check.context_after) == ("before text", "after text")
    assert check.content_hash and len(check.content_hash) == 64
    assert check.detail is None


def test_unparsed_page_is_a_crawl_error() -> None:
    fetch = make_fetch()
    ref = BacklinkRef(3, SITE, PAGE, TARGET)
    check = classify.check_page(ref, fetch, None)
    assert (check.status, check.reason) == (Status.UNREACHABLE, Reason.CRAWL_ERROR)
    assert check.detail == "page could not be parsed"


def test_links_given_by_the_caller_are_used() -> None:
    fetch = make_fetch(body=f'<a href="{OTHER}">o</a><a href="{TARGET}">t</a>')
    page = pages.parse(fetch)
    only_first = pages.links_to(page, SITE)[:1]
    check = classify.check_page(BacklinkRef(1, SITE, PAGE, TARGET), fetch, page, only_first)
    assert (check.link_count, check.observed_target) == (1, OTHER)


@pytest.mark.parametrize(
    ("anchor", "expected", "changed"),
    [
        ("Acme", None, False),
        ("Acme", "", False),
        ("Acme", "   ", False),
        ("Acme", "acme", False),
        ("ACME  Widgets", "acme widgets", False),
        ("Straße", "STRASSE", False),  # case-folding, not lower()
        ("Acme", "Acme Inc", True),
        ("", "Acme", True),
    ],
)
def test_anchor_changed(anchor: str, expected: str | None, changed: bool) -> None:
    assert classify.anchor_changed(anchor, expected) is changed


# --- check_failure ---------------------------------------------------------------

REF = BacklinkRef(7, SITE, PAGE, TARGET)
FAILURES = [
    Reason.TIMEOUT,
    Reason.DNS_ERROR,
    Reason.CONNECTION_ERROR,
    Reason.TLS_ERROR,
    Reason.ROBOTS_BLOCKED,
    Reason.TOO_MANY_REDIRECTS,
    Reason.TOO_LARGE,
    Reason.CRAWL_ERROR,
]


@pytest.mark.parametrize("reason", FAILURES)
def test_check_failure_without_response(reason: Reason) -> None:
    check = classify.check_failure(REF, reason, "boom")
    assert (check.backlink_id, check.status, check.reason, check.detail) == (
        7,
        Status.UNREACHABLE,
        reason,
        "boom",
    )
    assert (check.http_status, check.final_url, check.follow, check.link_count) == (
        None,
        None,
        None,
        0,
    )


@pytest.mark.parametrize(
    ("requested", "final", "reason", "expected"),
    [
        (PAGE, "https://newhome.net/post", Reason.TIMEOUT, lost(Reason.REDIRECTED_AWAY)),
        (PAGE, "https://newhome.net/post", Reason.DNS_ERROR, lost(Reason.REDIRECTED_AWAY)),
        (PAGE, "https://newhome.net/post", Reason.ROBOTS_BLOCKED, lost(Reason.REDIRECTED_AWAY)),
        (PAGE, "https://newhome.net/x", Reason.TOO_MANY_REDIRECTS, lost(Reason.REDIRECTED_AWAY)),
        ("http://blog.test/post", PAGE, Reason.TIMEOUT, unreachable(Reason.TIMEOUT)),
        ("http://blog.test/post", PAGE, Reason.TLS_ERROR, unreachable(Reason.TLS_ERROR)),
        (
            "https://myblog.net/p",
            "https://www.myblog.net/p",
            Reason.TOO_LARGE,
            unreachable(Reason.TOO_LARGE),
        ),
        # a host without a public suffix is its own domain: www. of it is another owner
        (PAGE, "https://www.blog.test/post", Reason.TIMEOUT, lost(Reason.REDIRECTED_AWAY)),
    ],
)
def test_check_failure_after_redirects(
    requested: str, final: str, reason: Reason, expected: dict[str, Any]
) -> None:
    fetch = Fetch(requested, final, 0, b"", None, redirect_chain=((requested, 301),))
    check = classify.check_failure(REF, reason, "detail", fetch)
    assert {key: getattr(check, key) for key in expected} == expected
    assert check.final_url == final
    assert check.redirect_chain == [[requested, 301]]
    assert (check.http_status, check.size, check.detail) == (None, None, "detail")


@pytest.mark.parametrize(
    ("fetch", "expected"),
    [
        (make_fetch(), None),
        (make_fetch(status=404), Reason.PAGE_NOT_FOUND),
        (make_fetch(**away()), Reason.REDIRECTED_AWAY),
        (make_fetch(status=503), Reason.SERVER_ERROR),
        (make_fetch(status=429), Reason.HTTP_ERROR),
        (make_fetch(content_type="application/pdf"), Reason.NOT_HTML),
    ],
)
def test_status_reason(fetch: Fetch, expected: Reason | None) -> None:
    assert classify.status_reason(fetch) == expected


# Regression: an upper-case scheme other than the page's still counts.
def test_upper_case_scheme_link_keeps_the_backlink_live() -> None:
    check = verdict(make_fetch(body='<a href="HTTP://ACME.COM/widgets">Acme</a>'))
    assert (check.status, check.reason, check.link_count) == (Status.LIVE, None, 1)


# --- a page of the site itself is never a backlink of the site (issue 14) ----------

OWN_LINKS = f'<a href="{TARGET}">widgets</a> <a href="https://shop.acme.com/">shop</a>'


@pytest.mark.parametrize(
    ("final", "how", "discovered"),
    [
        pytest.param("https://acme.com/welcome", 301, [], id="http-to-site"),
        pytest.param("https://shop.acme.com/", 302, [], id="http-to-subdomain"),
        pytest.param("http://www.acme.com/", "meta refresh", [], id="refresh-to-site"),
        pytest.param("https://xn--fa-hia.acme.com/", 301, [], id="to-idn-subdomain"),
        # Near misses: other owners' pages are still read for new backlinks.
        pytest.param(
            "https://newhome.net/post", 301, ["https://newhome.net/post"], id="to-another-site"
        ),
        pytest.param(
            "https://acme.com.evil.net/", 301, ["https://acme.com.evil.net/"], id="lookalike"
        ),
    ],
)
def test_a_page_that_redirects_to_the_site_is_lost_and_discovers_nothing(
    final: str, how: int | str, discovered: list[str]
) -> None:
    fetch = make_fetch(OWN_LINKS, final=final, chain=((PAGE, how),))
    ref = BacklinkRef(1, SITE, PAGE, TARGET)
    items = classify.check_fetch(fetch, [ref])
    check = items[0]
    assert isinstance(check, Check)
    assert (check.status, check.reason) == (Status.LOST, Reason.REDIRECTED_AWAY)
    assert [item.source_url for item in items[1:]] == discovered  # type: ignore[union-attr]


def test_a_site_among_several_is_skipped_alone() -> None:
    # Landing on acme.com: nothing for acme.com, but rival.net's backlinks there count.
    body = f'{OWN_LINKS} <a href="https://rival.net/x">rival</a>'
    fetch = make_fetch(body, final="https://acme.com/welcome", chain=((PAGE, 301),))
    refs = [BacklinkRef(1, SITE, PAGE, TARGET), BacklinkRef(2, "rival.net", PAGE, None)]
    items = classify.check_fetch(fetch, refs)
    assert [(item.site, item.target_url) for item in items[2:]] == [  # type: ignore[union-attr]
        ("rival.net", "https://rival.net/x")
    ]
