"""Discovery's reading of one page (verifier.mentions.reading): hand-made Fetch objects in,
checks, discoveries, competitor links and mentions out."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from verifier.mentions.reading import (
    CLEARED,
    NOTHING,
    Item,
    SiteReader,
    check_for_later,
    read_discovered,
    read_later,
    read_verified,
)
from verifier.models import (
    BacklinkRef,
    Check,
    CompetitorLink,
    Contact,
    ContactKind,
    Discovery,
    Fetch,
    MentionKind,
    NofollowSource,
    PageMentions,
    Reason,
    Status,
)
from verifier.verdict import page as pages

SITE = "acme.com"
PAGE = "https://blog.zine.org/post"
TARGET = "https://acme.com/widgets"
REL, META, HEADER = NofollowSource.REL, NofollowSource.META, NofollowSource.HEADER
READER = SiteReader.build(SITE, ["Acme"], ["Acme Bank"], ["rival.com"])
READERS = {SITE: READER}
LINK = f'<a href="{TARGET}">widgets</a>'
CONTACTS = '<a href="mailto:ed@zine.org">Write to Ed</a> <a href="/contact">Contact us</a>'


def make_fetch(
    body: str | bytes = "",
    status: int = 200,
    content_type: str | None = "text/html; charset=utf-8",
    *,
    url: str = PAGE,
    final: str | None = None,
    chain: tuple[tuple[str, int | str], ...] = (),
    x_robots: tuple[str, ...] = (),
    head: str = "",
    title: str = "A post",
) -> Fetch:
    if isinstance(body, str):
        html = f"<!doctype html><html><head><title>{title}</title>{head}</head>"
        body = f"{html}<body><article>{body}</article></body></html>".encode()
    return Fetch(
        requested_url=url,
        final_url=final or url,
        status=status,
        body=body,
        content_type=content_type,
        x_robots_tag=x_robots,
        redirect_chain=chain,
    )


def ref(
    target: str | None = TARGET, id_: int = 1, site: str = SITE, source: str = PAGE
) -> BacklinkRef:
    return BacklinkRef(id_, site, source, target)


def checks(items: list[Item]) -> list[Check]:
    return [item for item in items if isinstance(item, Check)]


def rows(items: list[Item]) -> list[PageMentions]:
    """The rows that hold mentions (a row without any only refreshes a stored page)."""
    return [item for item in items if isinstance(item, PageMentions) and item.mentions]


def test_a_page_read_without_mentions_gives_an_empty_refresh_row() -> None:
    items = read_verified(make_fetch("<p>Nothing here.</p>"), [ref(TARGET, 7)], {SITE: READER})
    [row] = [item for item in items if isinstance(item, PageMentions)]
    assert (row.mentions, row.contacts, row.reason) == ([], [], None)


def found(items: list[Item]) -> list[Discovery]:
    return [item for item in items if isinstance(item, Discovery)]


def competitor_links(items: list[Item]) -> list[CompetitorLink]:
    return [item for item in items if isinstance(item, CompetitorLink)]


def terms(row: PageMentions) -> list[tuple[str, str]]:
    return [(mention.term, mention.kind.value) for mention in row.mentions]


# --- read_verified: each check says how many terms its page holds ------------------

VERIFIED = [
    # page read: an int
    pytest.param(
        {"body": f"<p>Acme makes {LINK}.</p>"},
        (Status.LIVE, None, 1),
        (True, None, [("Acme", "text")]),
        id="live-and-mentions",
    ),
    pytest.param(
        {"body": "<p>Acme makes widgets, see acme.com.</p>"},
        (Status.LOST, Reason.LINK_REMOVED, 2),
        (False, "link_removed", [("Acme", "text"), ("acme.com", "text")]),
        id="link-removed-still-mentions",
    ),
    pytest.param(
        {"body": "<p>Nothing about widgets here.</p>"},
        (Status.LOST, Reason.LINK_REMOVED, 0),
        None,
        id="proven-not-to-mention",
    ),
    pytest.param(
        {"body": f"<p>Nothing here but {LINK}.</p>"},
        (Status.LIVE, None, 0),
        None,
        id="link-without-mention",
    ),
    pytest.param(
        {"body": "<p>Widgets.</p><script>var brand = 'Acme';</script>"},
        (Status.LOST, Reason.LINK_REMOVED, 0),
        None,
        id="near-miss-script-only",
    ),
    pytest.param(
        {"body": "<p>Open an account at Acme Bank.</p>"},
        (Status.LOST, Reason.LINK_REMOVED, 0),
        None,
        id="near-miss-excluded-phrase",
    ),
    pytest.param(
        {"body": "<p>Try notacme.com or Acmeland.</p>"},
        (Status.LOST, Reason.LINK_REMOVED, 0),
        None,
        id="near-miss-glued-words",
    ),
    pytest.param(
        {"body": "<p>Widgets.</p>", "title": "Acme review"},
        (Status.LOST, Reason.LINK_REMOVED, 1),
        (False, "link_removed", [("Acme", "title")]),
        id="title-only",
    ),
    pytest.param(
        {"body": '<p>Widgets <img src="https://cdn.acme.com/logo.png" alt="Logo"></p>'},
        (Status.LOST, Reason.LINK_REMOVED, 0),
        (False, None, [("https://cdn.acme.com/logo.png", "image_use")]),
        id="image-only-no-reason",
    ),
    pytest.param(
        {"body": f'<p>Acme {LINK} <img src="https://acme.com/logo.png"></p>'},
        (Status.LIVE, None, 1),
        (True, None, [("Acme", "text")]),
        id="image-not-a-mention-when-linked",
    ),
    pytest.param(
        {"body": "<p>Acme</p>", "head": '<meta name="robots" content="noindex">'},
        (Status.LOST, Reason.NOINDEX, 1),
        (False, None, [("Acme", "text")]),
        id="noindex",
    ),
    # page answered an error (or was not a page): None
    pytest.param(
        {"body": f"<p>Acme {LINK}</p>", "status": 404},
        (Status.LOST, Reason.PAGE_NOT_FOUND, None),
        None,
        id="404",
    ),
    pytest.param(
        {"body": f"<p>Acme {LINK}</p>", "status": 410},
        (Status.LOST, Reason.PAGE_NOT_FOUND, None),
        None,
        id="410",
    ),
    pytest.param(
        {"body": f"<p>Acme {LINK}</p>", "status": 500},
        (Status.UNREACHABLE, Reason.SERVER_ERROR, None),
        None,
        id="500",
    ),
    pytest.param(
        {"body": f"<p>Acme {LINK}</p>", "status": 403},
        (Status.UNREACHABLE, Reason.HTTP_ERROR, None),
        None,
        id="403",
    ),
    pytest.param(
        {"body": b"Acme at acme.com", "content_type": "text/plain"},
        (Status.UNREACHABLE, Reason.NOT_HTML, None),
        None,
        id="not-html",
    ),
    pytest.param(
        {
            "body": f"<p>Acme {LINK}</p>",
            "final": "https://elsewhere.net/post",
            "chain": ((PAGE, 301),),
        },
        (Status.LOST, Reason.REDIRECTED_AWAY, None),
        None,
        id="redirected-away",
    ),
    # our own page: not read for mentions
    pytest.param(
        {"body": f"<p>Acme {LINK}</p>", "url": "https://blog.acme.com/post"},
        (Status.LIVE, None, None),
        None,
        id="own-domain",
    ),
]


@pytest.mark.parametrize(("fetch", "verdict", "mentioned"), VERIFIED)
def test_read_verified(
    fetch: dict[str, Any],
    verdict: tuple[Status, Reason | None, int | None],
    mentioned: tuple[bool, str | None, list[tuple[str, str]]] | None,
) -> None:
    page = make_fetch(**fetch)
    items = read_verified(page, [ref(source=page.requested_url)], READERS)
    [check] = checks(items)
    assert (check.status, check.reason, check.mentions) == verdict
    got = rows(items)
    if mentioned is None:
        assert got == []
        return
    [row] = got
    assert (row.links_to_site, row.reason, terms(row)) == mentioned
    assert (row.site, row.page_url, row.source) == (SITE, PAGE, "verify")
    assert row.noindex == (verdict[1] is Reason.NOINDEX)
    assert not [item for item in items if isinstance(item, Discovery | CompetitorLink)]


@pytest.mark.parametrize(
    ("opening", "closing"),
    [pytest.param("<div>", "</div>", id="nested-divs"), pytest.param("<b>", "", id="unclosed-b")],
)
def test_read_verified_a_page_nested_thousands_deep(opening: str, closing: str) -> None:
    # The visible-text walk is a loop: a recursion of this depth raised RecursionError,
    # and the page got no check at all.
    deep = f"{opening * 1800}<p>We love Acme. {LINK} Acme <b>again</b></p>{closing * 1800}"
    items = read_verified(make_fetch(deep), [ref()], READERS)
    [check] = checks(items)
    assert (check.status, check.reason, check.mentions) == (Status.LIVE, None, 1)
    [row] = rows(items)
    assert [(m.term, m.kind, m.linked) for m in row.mentions] == [("Acme", MentionKind.TEXT, False)]
    assert row.mentions[0].context == "We love Acme. widgets Acme again"


@pytest.mark.parametrize(
    ("opening", "closing"),
    [pytest.param("<div>", "</div>", id="nested-divs"), pytest.param("<b>", "", id="unclosed-b")],
)
def test_read_verified_a_page_nested_past_libxml2s_limit(opening: str, closing: str) -> None:
    # libxml2 stops at 2,048 levels: the link and the mention after were lost (a false
    # `link_removed`). The tree is now built as Chromium builds it, 512 levels at most.
    deep = f"{opening * 3000}We love Acme. {LINK} {closing * 3000}<p>Acme again</p>"
    items = read_verified(make_fetch(deep), [ref()], READERS)
    [check] = checks(items)
    assert (check.status, check.reason, check.mentions) == (Status.LIVE, None, 1)
    [row] = rows(items)
    assert [(m.term, m.kind, m.linked) for m in row.mentions] == [("Acme", MentionKind.TEXT, False)]


def test_read_verified_every_check_of_a_site_gets_the_count() -> None:
    page = make_fetch('<p>Acme and <a href="https://beta.org/">Beta</a>, Beta again.</p>')
    refs = [ref(), ref(None, 2, "beta.org"), ref("https://acme.com/other", 3)]
    readers = {**READERS, "beta.org": SiteReader.build("beta.org", ["Beta"])}
    items = read_verified(page, refs, readers)
    got = [(c.backlink_id, c.status, c.mentions) for c in checks(items)]
    assert got == [(1, Status.LOST, 1), (2, Status.LIVE, 1), (3, Status.LOST, 1)]
    assert [(r.site, r.links_to_site, r.reason, terms(r)) for r in rows(items)] == [
        (SITE, False, "link_removed", [("Acme", "text")]),
        ("beta.org", True, None, [("Beta", "text")]),
    ]


def test_read_verified_site_without_a_reader_is_not_read() -> None:
    page = make_fetch('<p>Acme and <a href="https://beta.org/">Beta</a>.</p>')
    items = read_verified(page, [ref(), ref(None, 2, "beta.org")], READERS)
    assert [(c.backlink_id, c.mentions) for c in checks(items)] == [(1, 1), (2, None)]
    assert [r.site for r in rows(items)] == [SITE]


def test_read_verified_without_any_reader_is_check_fetch() -> None:
    items = read_verified(make_fetch(f"<p>Acme {LINK}</p>"), [ref()], {})
    [check] = items
    assert isinstance(check, Check) and check.status is Status.LIVE and check.mentions is None


@pytest.mark.parametrize(
    ("body", "contacts", "contact_url"),
    [
        pytest.param(
            f"<p>Acme rocks. {CONTACTS}</p>",
            [Contact(ContactKind.EMAIL, "ed@zine.org", PAGE)],
            "https://blog.zine.org/contact",
            id="target-gets-contacts",
        ),
        pytest.param(f"<p>Acme rocks. {CONTACTS} {LINK}</p>", [], None, id="linking-page-none"),
    ],
)
def test_read_verified_contacts_only_on_targets(
    body: str, contacts: list[Contact], contact_url: str | None
) -> None:
    [row] = rows(read_verified(make_fetch(body), [ref()], READERS))
    assert (row.contacts, row.contact_url) == (contacts, contact_url)


# --- read_discovered: new backlinks ------------------------------------------------

LINKS = (
    '<p><a href="https://acme.com/a">A</a> <a href="https://acme.com/b" rel="nofollow">B</a>'
    ' <a href="https://acme.com/a#reviews">A again</a> <a href="/local">local</a>'
    ' <a href="https://shop.acme.com/">shop</a> <a href="https://acme.com.evil.net/">evil</a>'
    ' <a href="https://notacme.com/">not</a> <a href="mailto:hi@acme.com">mail</a></p>'
    '<!-- <a href="https://acme.com/commented">c</a> -->'
    "<script>document.write('<a href=\"https://acme.com/scripted\">s</a>')</script>"
    '<noscript><a href="https://acme.com/noscript">n</a></noscript>'
)


def test_new_backlinks_one_discovery_per_distinct_target() -> None:
    items = read_discovered(make_fetch(LINKS), READER, "crawl")
    got = [(d.target_url, d.check.link_count, d.check.follow) for d in found(items)]
    assert got == [
        ("https://acme.com/a", 2, True),
        ("https://acme.com/b", 1, False),
        ("https://shop.acme.com/", 1, True),
    ]
    for discovery in found(items):
        assert (discovery.site, discovery.source_url, discovery.source) == (SITE, PAGE, "crawl")
        assert discovery.discovered_from is None and discovery.check.backlink_id == 0
        assert discovery.check.status is Status.LIVE
    assert checks(items) == []


@pytest.mark.parametrize("source", ["crawl", "list", "feed", "outreach"])
def test_discoveries_and_mentions_carry_the_source(source: str) -> None:
    items = read_discovered(make_fetch(f"<p>Acme {LINK}</p>"), READER, source)
    assert [d.source for d in found(items)] == [source]
    assert [r.source for r in rows(items)] == [source]


def test_discovery_is_the_final_page_of_a_same_owner_redirect() -> None:
    fetch = make_fetch(
        f"<p>{LINK}</p>",
        url="http://zine.org/post",
        final=PAGE,
        chain=(("http://zine.org/post", 301),),
    )
    [discovery] = found(read_discovered(fetch, READER, "crawl"))
    assert discovery.source_url == PAGE


def test_a_known_backlink_without_target_covers_the_page() -> None:
    body = f'<p>Acme {LINK} <a href="https://acme.com/b">b</a></p>'
    items = read_discovered(make_fetch(body), READER, "crawl", [ref(None, 7)])
    assert [(c.backlink_id, c.status, c.link_count) for c in checks(items)] == [(7, Status.LIVE, 2)]
    assert found(items) == []
    [row] = rows(items)
    assert row.links_to_site


@pytest.mark.parametrize(
    "known",
    [
        pytest.param(TARGET, id="same"),
        pytest.param(TARGET + "#buy", id="fragment"),
        pytest.param("HTTPS://ACME.COM:443/widgets", id="case-and-default-port"),
    ],
)
def test_a_known_backlink_with_the_same_target_is_checked_not_duplicated(known: str) -> None:
    body = f'<p>{LINK} <a href="https://acme.com/b">b</a></p>'
    items = read_discovered(make_fetch(body), READER, "crawl", [ref(known, 7)])
    [check] = checks(items)
    assert (check.backlink_id, check.status, check.target_changed) == (7, Status.LIVE, False)
    assert [d.target_url for d in found(items)] == ["https://acme.com/b"]


@pytest.mark.parametrize(
    "known",
    [
        pytest.param(TARGET + "/", id="trailing-slash"),
        pytest.param("http://acme.com/widgets", id="http"),
        pytest.param("https://www.acme.com/widgets", id="www"),
        pytest.param(TARGET + "?utm_source=ahrefs", id="tracking-param"),
    ],
)
def test_a_known_backlink_spelled_otherwise_is_not_duplicated(known: str) -> None:
    items = read_discovered(make_fetch(f"<p>{LINK}</p>"), READER, "crawl", [ref(known, 7)])
    [check] = checks(items)
    assert check.status is Status.LIVE and check.target_changed is False
    assert found(items) == []


def test_a_known_lost_backlink_is_checked_beside_nothing() -> None:
    items = read_discovered(make_fetch("<p>Widgets.</p>"), READER, "crawl", [ref(TARGET, 7)])
    assert [(c.backlink_id, c.reason) for c in items if isinstance(c, Check)] == [
        (7, Reason.LINK_REMOVED)
    ]
    assert [i for i in items if not isinstance(i, PageMentions) or i.mentions] == checks(items)


def test_read_discovered_marks_a_lost_backlinks_page_like_read_verified() -> None:
    items = read_discovered(make_fetch("<p>Acme widgets.</p>"), READER, "crawl", [ref(TARGET, 7)])
    [check] = checks(items)
    [row] = rows(items)
    assert check.mentions == 1
    assert row.reason == "link_removed"


# --- read_discovered: pages that give only their known checks ----------------------


@pytest.mark.parametrize(
    ("fetch", "reason"),
    [
        pytest.param({"status": 404}, Reason.PAGE_NOT_FOUND, id="404"),
        pytest.param({"status": 410}, Reason.PAGE_NOT_FOUND, id="410"),
        pytest.param({"status": 500}, Reason.SERVER_ERROR, id="500"),
        pytest.param({"status": 503}, Reason.SERVER_ERROR, id="503"),
        pytest.param({"status": 403}, Reason.HTTP_ERROR, id="403"),
        pytest.param({"status": 429}, Reason.HTTP_ERROR, id="429"),
        pytest.param({"status": 302}, Reason.CRAWL_ERROR, id="302-unfollowed"),
        pytest.param({"content_type": "application/pdf"}, Reason.NOT_HTML, id="pdf"),
        pytest.param(
            {"final": "https://elsewhere.net/post", "chain": ((PAGE, 301),)},
            Reason.REDIRECTED_AWAY,
            id="redirected-away",
        ),
    ],
)
@pytest.mark.parametrize("known", [0, 1, 2])
def test_early_verdict_pages_give_only_known_checks(
    fetch: dict[str, Any], reason: Reason, known: int
) -> None:
    body = (
        f'<p>Acme {LINK} <a href="https://rival.com/">rival</a>'
        ' <img src="https://acme.com/logo.png"></p>'
    )
    refs = [ref(TARGET, 1), ref(None, 2)][:known]
    items = read_discovered(make_fetch(body, **fetch), READER, "feed", refs)
    assert [(c.backlink_id, c.reason) for c in checks(items)] == [(r.id, reason) for r in refs]
    # Nothing more, but for a page that is gone: an empty row (what was stored for it goes).
    gone = reason in (Reason.PAGE_NOT_FOUND, Reason.REDIRECTED_AWAY)
    assert items == checks(items) + [PageMentions(SITE, PAGE, "feed")] * gone


def test_a_page_of_the_site_itself_is_no_discovery() -> None:
    body = f'<p>Acme {LINK} <a href="https://rival.com/">rival</a> {CONTACTS}</p>'
    own = "https://blog.acme.com/post"
    items = read_discovered(make_fetch(body, url=own), READER, "crawl")
    assert items == []
    items = read_discovered(make_fetch(body, url=own), READER, "crawl", [ref(None, 3, source=own)])
    assert [(c.backlink_id, c.status) for c in items if isinstance(c, Check)] == [(3, Status.LIVE)]
    assert items == checks(items)


# --- read_discovered: links to competitors -----------------------------------------

COMPETITOR_CASES = [
    pytest.param(
        {"body": '<a href="https://rival.com/">Rival</a>'},
        [("https://rival.com/", True, None, None, "Rival")],
        id="followed",
    ),
    pytest.param(
        {"body": '<a href="https://rival.com/" rel="nofollow">Rival</a>'},
        [("https://rival.com/", False, "nofollow", REL, "Rival")],
        id="rel-nofollow",
    ),
    pytest.param(
        {"body": '<a href="https://rival.com/" rel="sponsored">Rival</a>'},
        [("https://rival.com/", False, "sponsored", REL, "Rival")],
        id="rel-sponsored",
    ),
    pytest.param(
        {"body": '<a href="https://rival.com/" rel="UGC noopener">Rival</a>'},
        [("https://rival.com/", False, "UGC noopener", REL, "Rival")],
        id="rel-ugc-as-written",
    ),
    pytest.param(
        {"body": '<a href="https://rival.com/" rel="nofollow,noopener">Rival</a>'},
        [("https://rival.com/", False, "nofollow noopener", REL, "Rival")],
        id="rel-comma-separated",
    ),
    pytest.param(
        {"body": '<a href="https://rival.com/" rel="noopener noreferrer">Rival</a>'},
        [("https://rival.com/", True, "noopener noreferrer", None, "Rival")],
        id="near-miss-rel-without-nofollow",
    ),
    pytest.param(
        {
            "body": '<a href="https://rival.com/">Rival</a>',
            "head": '<meta name="robots" content="index, nofollow">',
        },
        [("https://rival.com/", False, None, META, "Rival")],
        id="meta-nofollow",
    ),
    pytest.param(
        {
            "body": '<a href="https://rival.com/">Rival</a>',
            "head": '<meta name="googlebot" content="nofollow">',
        },
        [("https://rival.com/", False, None, META, "Rival")],
        id="meta-googlebot-nofollow",
    ),
    pytest.param(
        {"body": '<a href="https://rival.com/">Rival</a>', "x_robots": ("nofollow",)},
        [("https://rival.com/", False, None, HEADER, "Rival")],
        id="header-nofollow",
    ),
    pytest.param(
        {
            "body": '<a href="https://rival.com/" rel="sponsored">Rival</a>',
            "head": '<meta name="robots" content="nofollow">',
            "x_robots": ("nofollow",),
        },
        [("https://rival.com/", False, "sponsored", REL, "Rival")],
        id="rel-beats-meta-and-header",
    ),
    pytest.param(
        {
            "body": '<a href="https://rival.com/">Rival</a>',
            "head": '<meta name="bingbot" content="nofollow">',
        },
        [("https://rival.com/", True, None, None, "Rival")],
        id="near-miss-meta-for-another-bot",
    ),
    pytest.param(
        {
            "body": '<a href="HTTPS://Shop.Rival.com/x"><img src="/r.png" alt="Rival shop"></a>'
            '<map name="m"><area href="https://rival.com/map" alt="Map"></map>'
        },
        [
            ("https://shop.rival.com/x", True, None, None, "Rival shop"),
            ("https://rival.com/map", True, None, None, "Map"),
        ],
        id="subdomain-image-alt-and-area",
    ),
    pytest.param(
        {
            "body": '<a href="https://rival.com/">first</a>'
            ' <a href="https://rival.com/#pricing" rel="nofollow">again</a>'
            ' <a href="https://rival.com/p">page</a>'
        },
        [
            ("https://rival.com/", True, None, None, "first"),
            ("https://rival.com/p", True, None, None, "page"),
        ],
        id="one-per-target-first-wins",
    ),
    pytest.param(
        {
            "body": '<a href="https://rival.com.evil.net/">evil</a>'
            ' <a href="https://evilrival.com/">glued</a>'
            ' <a href="https://evil.net/?u=https://rival.com/">param</a>'
            ' <a href="mailto:sales@rival.com">mail</a>'
            " <a href=\"javascript:go('https://rival.com/')\">js</a>"
        },
        [],
        id="near-miss-lookalikes",
    ),
    pytest.param(
        {
            "body": '<!-- <a href="https://rival.com/c">c</a> -->'
            "<script>var a = '<a href=\"https://rival.com/s\">s</a>';</script>"
            '<noscript><a href="https://rival.com/n">n</a></noscript>'
            '<template><a href="https://rival.com/t">t</a></template>'
        },
        [],
        id="hidden-from-google",
    ),
]


@pytest.mark.parametrize(("fetch", "expected"), COMPETITOR_CASES)
def test_competitor_links(fetch: dict[str, Any], expected: list[tuple[Any, ...]]) -> None:
    links = competitor_links(read_discovered(make_fetch(**fetch), READER, "crawl"))
    got = [(c.target_url, c.follow, c.rel, c.nofollow_source, c.anchor) for c in links]
    assert got == expected
    for link in links:
        assert (link.site, link.competitor, link.page_url) == (SITE, "rival.com", PAGE)


def test_competitor_links_per_competitor_as_configured() -> None:
    reader = SiteReader.build(SITE, ["Acme"], (), ["rival.com", "other.io"])
    body = '<a href="https://other.io/">o</a> <a href="https://rival.com/">r</a>'
    links = competitor_links(read_discovered(make_fetch(body), reader, "crawl"))
    assert [(c.competitor, c.target_url) for c in links] == [
        ("rival.com", "https://rival.com/"),
        ("other.io", "https://other.io/"),
    ]


def test_a_competitors_own_pages_do_not_link_to_it() -> None:
    body = '<a href="/pricing">pricing</a> <a href="https://www.rival.com/about">about</a>'
    fetch = make_fetch(body, url="https://blog.rival.com/post")
    assert competitor_links(read_discovered(fetch, READER, "crawl")) == []


def test_no_competitors_configured_no_competitor_links() -> None:
    reader = SiteReader.build(SITE, ["Acme"])
    body = '<a href="https://rival.com/">r</a>'
    assert competitor_links(read_discovered(make_fetch(body), reader, "crawl")) == []


# --- read_discovered: mentions, image uses and contacts ----------------------------

IMAGE = '<img src="https://cdn.acme.com/logo.png" alt="Acme logo">'


@pytest.mark.parametrize(
    ("body", "links_to_site", "expected"),
    [
        pytest.param(
            f"<p>Acme. {IMAGE}</p>",
            False,
            [("Acme", "text"), ("https://cdn.acme.com/logo.png", "image_use")],
            id="target-text-and-image",
        ),
        pytest.param(
            f"<p>Widgets. {IMAGE}</p>",
            False,
            [("https://cdn.acme.com/logo.png", "image_use")],
            id="target-image-only",
        ),
        pytest.param(
            f"<p>Acme. {IMAGE} {LINK}</p>", True, [("Acme", "text")], id="linking-no-image-use"
        ),
        pytest.param(f"<p>Widgets. {IMAGE} {LINK}</p>", True, None, id="linking-image-only"),
        pytest.param(
            '<p>Widgets. <img src="https://acme.com.evil.net/logo.png"></p>',
            False,
            None,
            id="near-miss-lookalike-image",
        ),
        pytest.param("<p>Widgets.</p>", False, None, id="nothing"),
    ],
)
def test_image_uses_only_when_the_page_does_not_link(
    body: str, links_to_site: bool, expected: list[tuple[str, str]] | None
) -> None:
    items = read_discovered(make_fetch(body), READER, "list")
    assert bool(found(items)) == links_to_site
    if expected is None:
        assert rows(items) == []
        return
    [row] = rows(items)
    assert (row.links_to_site, terms(row)) == (links_to_site, expected)


@pytest.mark.parametrize(
    ("body", "contacts", "contact_url"),
    [
        pytest.param(
            f"<p>Acme rocks. {CONTACTS}</p>",
            [
                Contact(ContactKind.AUTHOR, "Ed Writer", PAGE),
                Contact(ContactKind.EMAIL, "ed@zine.org", PAGE),
            ],
            "https://blog.zine.org/contact",
            id="target",
        ),
        pytest.param(
            f"<p>Widgets. {IMAGE} {CONTACTS}</p>",
            [
                Contact(ContactKind.AUTHOR, "Ed Writer", PAGE),
                Contact(ContactKind.EMAIL, "ed@zine.org", PAGE),
            ],
            "https://blog.zine.org/contact",
            id="image-use-target",
        ),
        pytest.param(
            "<p>Acme rocks.</p>", [Contact(ContactKind.AUTHOR, "Ed Writer", PAGE)], None, id="bare"
        ),
        pytest.param(f"<p>Acme rocks. {CONTACTS} {LINK}</p>", [], None, id="linking"),
    ],
)
def test_contacts_only_on_targets(
    body: str, contacts: list[Contact], contact_url: str | None
) -> None:
    head = '<meta name="author" content="Ed Writer">'
    [row] = rows(read_discovered(make_fetch(body, head=head), READER, "crawl"))
    assert (row.contacts, row.contact_url) == (contacts, contact_url)


def test_mention_row_fields() -> None:
    head = '<meta name="robots" content="noindex">'
    fetch = make_fetch("<p>Acme.</p>", head=head, title="  Acme\n review ")
    [row] = rows(read_discovered(fetch, READER, "feed"))
    assert (row.site, row.page_url, row.source, row.title, row.noindex, row.reason) == (
        SITE,
        PAGE,
        "feed",
        "Acme review",
        True,
        None,
    )


def test_noindex_header_marks_the_mention_row() -> None:
    [row] = rows(
        read_discovered(make_fetch("<p>Acme.</p>", x_robots=("noindex",)), READER, "crawl")
    )
    assert row.noindex


def test_a_page_the_caller_parsed_reads_the_same() -> None:
    fetch = make_fetch(f"<p>Acme {LINK}</p>")
    parsed = pages.parse(fetch)
    assert read_discovered(fetch, READER, "crawl", (), parsed) == read_discovered(
        fetch, READER, "crawl"
    )


def test_a_listed_page_that_moved_to_another_site_is_read_where_it_landed() -> None:
    fetch = make_fetch(
        "<p>Acme is great.</p>",
        url="https://t.example.co/abc",
        final="https://moved.example.org/post",
        chain=(("https://t.example.co/abc", 301),),
    )
    assert rows(read_discovered(fetch, READER, "list")) == []
    [row] = rows(read_discovered(fetch, READER, "list", follow_redirects=True))
    assert (row.page_url, row.source) == ("https://moved.example.org/post", "list")


def test_linking_pages_can_be_left_out_of_mention_reading() -> None:
    body = f'<p>We use <a href="{TARGET}">Acme</a> daily.</p>'
    read = read_verified(make_fetch(body), [ref(TARGET, 7)], READERS)
    assert [c.mentions for c in checks(read)] == [1] and rows(read)
    skipped = read_verified(make_fetch(body), [ref(TARGET, 7)], READERS, linked_pages=False)
    assert [c.mentions for c in checks(skipped)] == [None]
    assert not [i for i in skipped if isinstance(i, PageMentions)]
    # A page without the link is read either way: that is where mentions serve.
    lost = read_verified(make_fetch("<p>Acme</p>"), [ref(TARGET, 7)], READERS, linked_pages=False)
    assert [c.mentions for c in checks(lost)] == [1] and rows(lost)


def test_read_verified_reads_a_competitors_page_for_the_sites_brand_and_links() -> None:
    """`verify --competitors`: a page fetched for a competitor's backlink only is read for
    the site's brand (the check counts the terms) and a link to the site there is a new
    backlink of the site; a page already checked for the site's own backlink is not."""
    rival = '<a href="https://rival.com/">Rival</a>'
    page = make_fetch(f"<p>Acme beats Rival: {rival} {LINK}</p>")
    rivals = {"rival.com": (READER,)}
    items = read_verified(page, [ref("https://rival.com/", 7, "rival.com")], READERS, rivals=rivals)
    assert [(c.backlink_id, c.status, c.mentions) for c in checks(items)] == [(7, Status.LIVE, 1)]
    [new] = found(items)
    assert (new.site, new.target_url, new.source, new.check.status) == (
        SITE,
        TARGET,
        "verify",
        Status.LIVE,
    )
    both = read_verified(
        page, [ref(), ref("https://rival.com/", 7, "rival.com")], READERS, rivals=rivals
    )
    assert found(both) == []
    assert [(c.backlink_id, c.mentions) for c in checks(both)] == [(1, 1), (7, 1)]


def test_read_verified_a_shared_competitor_is_read_for_each_sites_brand() -> None:
    beta = SiteReader.build("beta.org", ["Beta"], (), ["rival.com"])
    page = make_fetch('<p>Beta likes <a href="https://rival.com/">Rival</a>.</p>')
    rivals = {"rival.com": (READER, beta)}
    items = read_verified(page, [ref("https://rival.com/", 7, "rival.com")], READERS, rivals=rivals)
    assert [(c.backlink_id, c.mentions) for c in checks(items)] == [(7, 1)]
    assert [(r.site, terms(r)) for r in rows(items)] == [("beta.org", [("Beta", "text")])]


# --- a page of the site itself is never a backlink of the site (issue 14) ----------

OWN = f'<p>Acme {LINK} <a href="https://blog.acme.com/">blog</a></p>'


@pytest.mark.parametrize(
    ("url", "final", "chain", "discovered"),
    [
        pytest.param("https://acme.com/about", None, (), 0, id="site-page"),
        pytest.param("https://blog.acme.com/post", None, (), 0, id="subdomain-page"),
        pytest.param("https://ACME.com./x", None, (), 0, id="spelled-otherwise"),
        pytest.param(
            "https://short.test/a",
            "https://acme.com/about",
            (("https://short.test/a", 301),),
            0,
            id="listed-page-redirects-to-site",
        ),
        pytest.param("https://acme.community/x", None, (), 2, id="near-miss-lookalike"),
        pytest.param(
            "https://short.test/a",
            "https://zine.org/x",
            (("https://short.test/a", 301),),
            2,
            id="near-miss-redirect-elsewhere",
        ),
    ],
)
def test_discovery_never_finds_the_site_on_its_own_pages(
    url: str, final: str | None, chain: tuple[tuple[str, int], ...], discovered: int
) -> None:
    fetch = make_fetch(OWN, url=url, final=final, chain=chain)
    items = read_discovered(fetch, READER, "crawl", follow_redirects=True)
    assert len(found(items)) == discovered


def test_a_crawl_visit_of_the_site_itself_discovers_nothing() -> None:
    from verifier.crawl.visit import visit

    seen = visit(make_fetch(OWN, url="https://acme.com/"), READER, SITE)
    assert found(seen.items) == [] and seen.ok
    assert seen.links == [TARGET, "https://blog.acme.com/"]  # still crawled onwards


def _read_both_ways(
    fetch: Fetch, refs: list[BacklinkRef], **kwargs: Any
) -> tuple[list[Item], list[Item]]:
    """read_verified's items, and the same page checked as `verify` checks it when its
    writer reads the mentions (`check_for_later`) and then read by `read_later`: with
    its body, or without it when the crawler cleared it."""
    readers = kwargs.pop("readers", READERS)
    here = read_verified(fetch, refs, readers, **kwargs)
    plain, state = check_for_later(fetch, refs, readers, kwargs.get("rivals"))
    assert [c.mentions for c in checks(plain)] == [None] * len(refs)
    if state == NOTHING:
        return here, plain
    if state == CLEARED:
        fetch = dataclasses.replace(fetch, body=b"")
    return here, read_later(fetch, refs, plain, readers, **kwargs, cleared=state == CLEARED)


LATER_CASES = [
    pytest.param(make_fetch("<p>Nothing here.</p>"), [ref()], {}, id="no-mention"),
    pytest.param(make_fetch(f"<p>Acme {CONTACTS}</p>"), [ref()], {}, id="unlinked-contacts"),
    pytest.param(make_fetch(f"<p>We use {LINK} by Acme.</p>"), [ref()], {}, id="linked"),
    pytest.param(
        make_fetch(f"<p>We use {LINK} by Acme.</p>"),
        [ref()],
        {"linked_pages": False},
        id="linked-not-read",
    ),
    pytest.param(make_fetch("<p>Acme Bank and Acme</p>"), [ref()], {}, id="excluded"),
    pytest.param(make_fetch("<p>Acme</p>", status=404), [ref()], {}, id="error-page"),
    pytest.param(
        make_fetch("<p>Acme</p>", head='<meta name="robots" content="noindex">'),
        [ref()],
        {},
        id="noindex",
    ),
    pytest.param(
        make_fetch('<p>Acme beats <a href="https://rival.com/">Rival</a> ' + LINK + "</p>"),
        [ref("https://rival.com/", 7, "rival.com")],
        {"rivals": {"rival.com": (READER,)}},
        id="competitor-page",
    ),
    pytest.param(
        make_fetch("<p>Nothing about anyone.</p>"),
        [ref("https://rival.com/", 7, "rival.com")],
        {"rivals": {"rival.com": (READER,)}},
        id="competitor-page-lost-no-mention",
    ),
    pytest.param(
        make_fetch("<b>" * 2100 + "<p>Acme</p>" + LINK), [ref(), ref(None, 2)], {}, id="deep"
    ),
    pytest.param(
        make_fetch(
            "<p>Acme</p>",
            url="http://old.zine.org/post",
            final="https://acme.com/",
            chain=(("http://old.zine.org/post", 301),),
        ),
        [ref(source="http://old.zine.org/post")],
        {},
        id="redirected-to-the-site",
    ),
]


@pytest.mark.parametrize(("fetch", "refs", "kwargs"), LATER_CASES)
def test_a_page_read_later_gives_what_reading_it_at_once_gives(
    fetch: Fetch, refs: list[BacklinkRef], kwargs: dict[str, Any]
) -> None:
    here, later = _read_both_ways(fetch, refs, **kwargs)
    assert later == here


def test_a_page_read_already_is_not_read_again_later() -> None:
    fetch = make_fetch(f"<p>Acme {CONTACTS}</p>")
    read = read_verified(fetch, [ref()], READERS)
    assert read_later(fetch, [ref()], list(read), READERS) == read


def test_a_competitors_page_without_its_link_or_the_brand_is_read_without_error() -> None:
    """It is read only up to its head (no link to the competitor, no term of the site): the
    check counts 0 terms and no link to the site is looked for in a body never read (this
    raised "was read for links to ['rival.com'] only", and the page went unread)."""
    items = read_verified(
        make_fetch("<p>Nothing about anyone.</p>"),
        [ref("https://rival.com/", 7, "rival.com")],
        READERS,
        rivals={"rival.com": (READER,)},
    )
    assert [(c.backlink_id, c.status, c.mentions) for c in checks(items)] == [(7, Status.LOST, 0)]
    assert found(items) == [] and rows(items) == []


def test_the_crawler_clears_a_page_that_can_hold_no_term_and_no_link() -> None:
    nothing = make_fetch("<p>Nothing here.</p>")
    assert check_for_later(nothing, [ref()], READERS)[1] == CLEARED
    assert check_for_later(make_fetch("<p>Acme</p>"), [ref()], READERS)[1] == "body"
    assert check_for_later(make_fetch(f"<p>{LINK}</p>"), [ref()], READERS)[1] == "body"
    assert check_for_later(make_fetch("x", status=404), [ref()], READERS)[1] == NOTHING
    assert check_for_later(nothing, [ref()], {})[1] == NOTHING


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<a href='/team'>Contact</a>", "https://blog.example/team"),  # by its text alone
        ("<a href='/kontakt'>Schreiben</a>", "https://blog.example/kontakt"),  # by its URL
        ("<a href='/about'>About us</a>", "https://blog.example/about"),  # else about
        ("<a href='https://other.org/contact'>Contact</a>", None),  # another domain's
        ("<a href='/p'>A post</a>", None),
    ],
)
def test_a_crawl_visit_finds_the_sites_contact_page_when_asked(
    body: str, expected: str | None
) -> None:
    from verifier.crawl.visit import visit

    fetch = make_fetch(body, url="https://blog.example/")
    assert visit(fetch, READER, "blog.example", find_contact_page=True).contact_page == expected
    assert visit(fetch, READER, "blog.example").contact_page is None  # not asked: not looked


def test_domain_progress_knows_the_contact_page_a_link_named() -> None:
    from verifier.crawl.frontier import DomainFrontier
    from verifier.crawl.progress import CONTACT_LOOKS, DomainProgress

    progress = DomainProgress(DomainFrontier("blog.example"))
    assert progress.is_contact_page("https://blog.example/contact-us")  # its URL says so
    assert not progress.is_contact_page("https://blog.example/team")
    for _ in range(CONTACT_LOOKS):
        assert progress.wants_contact_link()
        progress.contact_looks += 1
    assert not progress.wants_contact_link()  # a site without one costs no more
    progress.contact_links.add(progress.key("https://blog.example/team") or "")
    assert progress.is_contact_page("https://BLOG.example/team#desk")
    assert not progress.is_contact_page("https://blog.example/other")
    # Addresses read already: a page's own, else (this domain) the contact page's, once read.
    team, people = progress.key("https://blog.example/team"), progress.key("http://blog.example/p")
    assert progress.known_contacts(people, "blog.example") is None  # /team not read yet
    progress.contact_pages[team or ""] = ("desk",)
    assert progress.known_contacts(people, "blog.example") == ("desk",)
    assert progress.known_contacts(people, "other.example") is None  # another site's page
    assert progress.known_contacts(None, "blog.example") is None
    progress.contact_pages[people or ""] = ()
    assert progress.known_contacts(people, "blog.example") == ()  # its own, even empty


# --- a page that is gone loses the mentions stored for it ---------------------------

GONE_CASES = [
    pytest.param(make_fetch("", 404, None), True, id="404"),
    pytest.param(make_fetch("", 410, None), True, id="410"),
    pytest.param(
        make_fetch("<p>Acme</p>", final="https://elsewhere.net/p", chain=((PAGE, 301),)),
        True,
        id="moved-to-another-site",
    ),
    pytest.param(make_fetch("", 500, None), False, id="server-error-says-nothing"),
    pytest.param(make_fetch("", 429, None), False, id="rate-limited-says-nothing"),
    pytest.param(make_fetch("", 403, None), False, id="refused-says-nothing"),
]


def empty_rows(items: list[Item]) -> list[tuple[str, str, str]]:
    return [
        (item.site, item.page_url, item.source)
        for item in items
        if isinstance(item, PageMentions) and not item.mentions
    ]


@pytest.mark.parametrize(("fetch", "gone"), GONE_CASES)
def test_a_gone_page_gives_an_empty_row_for_each_way_it_is_read(fetch: Fetch, gone: bool) -> None:
    """An empty row clears what was stored for the page (it stays unstored if nothing
    was); only an answer that the page is gone does so, not a passing error."""
    want = [(SITE, PAGE, "verify")] if gone else []
    assert empty_rows(read_verified(fetch, [ref()], READERS)) == want
    assert empty_rows(check_for_later(fetch, [ref()], READERS)[0]) == want
    listed = [(SITE, PAGE, "list")] if gone else []
    assert empty_rows(read_discovered(fetch, READER, "list")) == listed
    assert not rows(read_verified(fetch, [ref()], READERS))


def test_a_listed_page_that_moved_is_read_where_it_landed_and_forgotten_where_it_was() -> None:
    fetch = make_fetch("<p>Acme again.</p>", final="https://elsewhere.net/p", chain=((PAGE, 301),))
    items = read_discovered(fetch, READER, "list", follow_redirects=True)
    assert empty_rows(items) == [(SITE, PAGE, "list")]
    [row] = rows(items)
    assert row.page_url == "https://elsewhere.net/p"
