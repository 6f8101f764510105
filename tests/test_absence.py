"""verifier.verdict.absence and the head-only read: a page cleared without a full parse
must get exactly the verdict the full parse gives."""

from __future__ import annotations

import random

import pytest

import verifier.verdict.head as head_module
from verifier.models import BacklinkRef, Fetch
from verifier.verdict import absence, classify
from verifier.verdict.page import Page, links_to, parse

PAGE_URL = "https://blog.test/dir/post"
SITE = "acme.com"


def fetch_of(body: str, url: str = PAGE_URL) -> Fetch:
    return Fetch(url, url, 200, body.encode("utf-8"), "text/html")


def may_link(body: str, url: str = PAGE_URL, domain: str = SITE) -> bool:
    return absence.may_link(absence.Source.of(body), url, domain)


def full_links(body: str, url: str = PAGE_URL) -> list[str]:
    return [link.url for link in links_to(parse(fetch_of(body, url)), SITE)]


def page_with(href: str) -> str:
    return f'<html><head><title>t</title></head><body><p><a href="{href}">x</a></p></body></html>'


# Each of these is a real link to the site that the page's bytes do not spell
# as "acme.com": the full parse finds it, so the proof must not clear the page.
DISGUISED_LINKS = [
    "https://ACME.com/",
    "https://ac\tme.com/",
    "https://acme\n.com/",
    "https://acme.\r\ncom/",
    "https://&#97;cme.com/",
    "https://&#x61;cme.com/",
    "https://&#65;CME.com/",
    "https://acme&#46;com/",
    "https://acme&period;com/",
    "https://acme&Tab;.com/",
    "https://acme.&NewLine;com/",
    "https://ac&shy;me.com/",
    "https://ac\u00adme.com/",
    "https://\uff41\uff43\uff4d\uff45.com/",
    "https://acm&#xFF45;.com/",
    "https://acme\u3002com/",
    "https://acme\uff0ecom/",
    "https://\u212a.acme.com/",
    "https://a\u339de.com/",  # the square "cm" sign is "cm" in a host
    "https://a&#x339d;e.com/",
    # Browsers decode percent-escapes in a host before IDNA (WHATWG URL standard).
    "https://%61cme.com/",
    "https://acme%2Ecom/",
    "https://ac%4De.com/",
    "https://%EF%BD%81cme.com/",  # an escaped full-width a
    "https://&#37;61cme.com/",  # the % itself a reference
    "https://%&#54;1cme.com/",  # a hex digit of the escape a reference
    "https://%6\t1cme.com/",  # a tab inside the escape
]


@pytest.mark.parametrize("href", DISGUISED_LINKS)
def test_disguised_links_are_never_cleared(href: str) -> None:
    body = page_with(href)
    assert full_links(body), f"not a link after all: {href!r}"
    assert may_link(body)


@pytest.mark.parametrize(
    "href", ["https://\u2122.com/", "https://&trade;.com/", "https://&#153;.com/"]
)
def test_characters_that_idna_turns_into_several_letters(href: str) -> None:
    # "™" is "tm" in a host; &#153; is "™" too (HTML maps C1 references as windows-1252).
    body = page_with(href)
    assert [link.url for link in links_to(parse(fetch_of(body)), "tm.com")]
    assert may_link(body, domain="tm.com")


@pytest.mark.parametrize(
    "body",
    [
        # Spellings the parser may or may not decode (legacy names without ";"):
        # the proof stays on the safe side.
        page_with("https://ac&shyme.com/"),
        page_with("https://acme&periodcom/"),
        # Relative links on a page of the site itself, or under a base on it.
        page_with("/pricing"),
        '<html><head><base href="https://acme.com/"></head><body><a href="x">x</a></body></html>',
        # The domain anywhere at all, even as text, in a comment or a script.
        "<html><body><p>we love acme.com</p></body></html>",
        "<html><body><!-- https://acme.com/ --></body></html>",
    ],
)
def test_uncertain_pages_go_to_the_full_parse(body: str) -> None:
    url = "https://www.acme.com/blog/x" if "/pricing" in body else PAGE_URL
    assert may_link(body, url)


@pytest.mark.parametrize(
    "body",
    [
        page_with("https://other.org/?a=1&amp;b=2"),
        "<p>&copy; 2026 &nbsp;&mdash; &rsquo;quoted&rsquo; &eacute;t&eacute; &#39;x&#39;</p>",
        "<p>\u00a9 \u2014 \u2019 caf\u00e9 \u041f\u0440\u0438\u0432\u0435\u0442 \u4e2d\u6587</p>",
        # Several letters or dots in a host, but never ones that can join "acme.com".
        "<p>Read more\u2026 &hellip; Acme\u2122 &trade; \u2025</p>",
        page_with("https://acme\u2026com/"),
        page_with("https://other.org/\u2122"),
        "<p>acme is great, acme-com is not us, nor is acme . com</p>",
        page_with("https://acme.co/"),
        # Percent-escapes that cannot become part of "acme.com" (space, /, é, invalid UTF-8).
        page_with("https://other.org/caf%C3%A9?q=a%20b%2Fc&r=%E9"),
    ],
)
def test_ordinary_pages_without_the_domain_are_cleared(body: str) -> None:
    assert not may_link(body)
    assert full_links(body) == []


def test_idn_sites_always_get_the_full_parse() -> None:
    assert may_link("<p>nothing here</p>", domain="xn--bcher-kva.de")


# Random pages of tricky links and text: whenever the proof clears a page,
# the full parse must find no link on it.
HREFS = [
    *DISGUISED_LINKS,
    "https://acme.com/a",
    "//acme.com/e",
    "https://blog.acme.com/d",
    "https://%61cme.com/j",
    "https://acme.com.evil.net/k",
    "https://notacme.com/l",
    "https://evil.net/?u=https%3A%2F%2Facme.com",
    "/relative",
    "mailto:x@acme.com",
    "https://other.net/\u00fcmlaut",
    "https://other.net/?a=1&amp;b=2&copy",
    "https://ac.me.com/",
    "https://acm.e/",
    "https://a&#99;me.org/",
    "https://x.test/&#8217;&hellip;",
    "https://acme\u2026com/",
    "https://x\u2026acme.com/",
    "https://\u2122acme.com/",
    "https://a\u339d\u2122e.com/",
]
TEXT = [
    "\u339d",
    "\ufb01",
    "caf\u00e9",
    "&copy;",
    "&hellip;",
    "\u2026",
    "&trade;",
    "\u2122",
    "&ordf;",
    "\ufb01",
    "acme",
    ".com",
    "&#8212;",
    "\u00ad",
    "&#150;",
]


@pytest.mark.parametrize("seed", range(300))
def test_cleared_pages_have_no_link_to_the_site(seed: int) -> None:
    rng = random.Random(seed)
    parts = [f'<a href="{href}">x</a>' for href in rng.sample(HREFS, rng.randint(0, 3))]
    parts += rng.sample(TEXT, rng.randint(0, 4))
    rng.shuffle(parts)
    body = "<html><body><p>" + " ".join(parts) + "</p></body></html>"
    if not may_link(body):
        assert full_links(body) == [], body


def test_random_pages_are_cleared_and_not_cleared() -> None:
    # The property test above means something only if both outcomes occur.
    outcomes = set()
    for seed in range(300):
        rng = random.Random(seed)
        parts = [f'<a href="{h}">x</a>' for h in rng.sample(HREFS, rng.randint(0, 3))]
        parts += rng.sample(TEXT, rng.randint(0, 4))
        outcomes.add(may_link("<p>" + " ".join(parts) + "</p>"))
    assert outcomes == {True, False}


# --- the head-only read ------------------------------------------------------------

HEAD_PIECES = [
    '<meta name="robots" content="noindex">',
    '<meta name=ROBOTS content="nofollow, noarchive">',
    '<meta name=" googlebot " content=none>',
    "<meta name=description content=robots>",
    '<meta name="robots" content="a" content="b">',
    "<META NAME=ROBOTS CONTENT=UPPER>",
    "<meta name=robots content='self-closed' / >",
    '<meta name="robots" content="&#110;oindex">',
    "<meta name=robots>",
    '<link rel="canonical" href="https://blog.test/c">',
    "<link rel=CANONICAL href='/rel'>",
    '<link rel="canonical alternate" href="https://x.test/">',
    "<link rel=canonical href>",
    '<link rel="canonical" href="  //cdn.test/p ">',
    "<link rel=canonical href='https://q.test/?a=1&amp;b=2'>",
    '<script rel="canonical" href="https://script.test/"></script>',
    "<title>t &amp; </head><body><meta name=robots content=title></title>",
    '<script>document.write("</head><body><meta name=robots content=script>")</script>',
    "<style>/* </head><body> */ p{}</style>",
    '<!-- </head><body><meta name="robots" content="comment"> -->',
    '<noscript><link rel="canonical" href="https://ns.test/"><img src=x></noscript>',
    "<template><meta name=robots content=tpl></template>",
    "<base href='https://base.test/b/'>",
    "stray text",
    "<div>d</div>",
    "<input>",
    "<svg><title>s</title></svg>",
    "<img src=x>",
    "<![CDATA[ </head> ]]>",
    "<?php echo 1 ?>",
    "<textarea></head></textarea>",
    "<xmp></head><body></xmp>",
    "<!---->",
    "<!-->",
    "<head>",
    "</head>",
    "<body>",
    "<html>",
]
PREFIXES = [
    "",
    "<!DOCTYPE html>",
    "<html>",
    "<html><head>",
    "<!doctype html>\n<html lang=en><head>",
    '<?xml version="1.0" encoding="ISO-8859-1"?>\n<html xmlns="http://www.w3.org/1999/xhtml">',
    "\ufeff<html><head><meta charset=shift_jis>",
    "<!-- <head></head><body> --><html>",
]
SUFFIXES = [
    "</head><body><p>x</p></body></html>",
    "<body><meta name=robots content=body><link rel=canonical href=/b><p>x",
    "</head><body><base href='https://late.test/'><p>x</p>",
    "",
    "<p>" + "filler " * 700 + "</p>",
]


def _head_page(body: str) -> tuple[Page, Page]:
    fetch = fetch_of(body)
    return parse(fetch), parse(fetch, {SITE})


@pytest.mark.parametrize("seed", range(400))
def test_head_only_read_matches_the_full_parse(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    monkeypatch.setattr(head_module, "HEAD_CHUNK", rng.choice([1, 2, 3, 7, 64, 1024, 4096]))
    body = (
        rng.choice(PREFIXES)
        + "".join(rng.choice(HEAD_PIECES) for _ in range(rng.randint(0, 8)))
        + rng.choice(SUFFIXES)
    )
    full, head_only = _head_page(body)
    assert (head_only.meta_robots, head_only.canonicals) == (full.meta_robots, full.canonicals)
    ref = BacklinkRef(1, SITE, PAGE_URL, "https://acme.com/")
    assert classify.check_page(ref, fetch_of(body), head_only) == classify.check_page(
        ref, fetch_of(body), full
    )


def test_head_only_read_is_used_for_most_generated_heads() -> None:
    used = 0
    for seed in range(400):
        rng = random.Random(seed)
        body = (
            rng.choice(PREFIXES)
            + "".join(rng.choice(HEAD_PIECES) for _ in range(rng.randint(0, 8)))
            + rng.choice(SUFFIXES)
        )
        used += parse(fetch_of(body), {SITE}).unlinked is not None
    assert used > 200


def test_relative_canonical_with_a_base_later_in_the_page_gets_the_full_parse() -> None:
    body = (
        "<html><head><link rel=canonical href='c'></head>"
        "<body><base href='https://cdn.test/x/'><p>x</p></body></html>"
    )
    full, head_only = _head_page(body)
    assert head_only.unlinked is None
    assert head_only.canonicals == full.canonicals == ["https://cdn.test/x/c"]


def test_page_read_for_other_sites_refuses_questions_about_this_one() -> None:
    page = parse(fetch_of(page_with("https://other.org/")), {"other.net"})
    assert page.unlinked == frozenset({"other.net"})
    assert links_to(page, "other.net") == []
    with pytest.raises(ValueError, match=r"other\.net"):
        links_to(page, SITE)


def test_pages_that_may_link_are_parsed_in_full() -> None:
    page = parse(fetch_of(page_with("https://acme.com/x")), {SITE})
    assert page.unlinked is None
    assert [link.url for link in links_to(page, SITE)] == ["https://acme.com/x"]


def _rss_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4


def test_head_only_read_does_not_leak() -> None:
    # Stopping lxml by raising from a parser target leaked ~0.5 KB a page
    # (50 MB over a 100,000-page crawl); the reader must stop by not feeding.
    body = (
        "<html><head><title>t</title><meta name=robots content=noindex></head><body>"
        + "<p>text</p>" * 400
        + "</body></html>"
    ).encode()
    head_page = lambda: head_module.read_head(Page(PAGE_URL, PAGE_URL, None), body)  # noqa: E731
    for _ in range(500):
        assert head_page()
    before = _rss_kb()
    for _ in range(6000):
        head_page()
    assert _rss_kb() - before < 1024
