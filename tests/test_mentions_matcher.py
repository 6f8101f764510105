"""Brand mentions (verifier.mentions.matcher, .text, .images): the matching rules, each
with its near misses, the absence proof's exactness, and image uses."""

from __future__ import annotations

import doctest
import importlib
import random

import pytest
from lxml import etree

from verifier.mentions.images import image_uses, srcset_urls
from verifier.mentions.matcher import CONTEXT_CHARS, Matcher, _Fences
from verifier.mentions.text import Folded, fold_text
from verifier.models import Fetch, Mention, MentionKind, Placement
from verifier.verdict.page import decode, parse

PAGE_URL = "https://blog.test/reviews/widgets"
SITE = "acme-widgets.com"
BRANDS = ["Acme Widgets", "AcmeWidgets", "Widgetron"]
MATCHER = Matcher.build(BRANDS, SITE, ["Acme Widgets Bank"])
FIXOMATIC = Matcher.build(["Fixomatic Co"], SITE)


def fetch_of(body: str, url: str = PAGE_URL) -> Fetch:
    return Fetch(url, url, 200, body.encode("utf-8"), "text/html; charset=utf-8")


def found(body: str, matcher: Matcher = MATCHER, url: str = PAGE_URL) -> list[Mention]:
    page = parse(fetch_of(body, url))
    return matcher.mentions(page.root, page.base_url)


def terms(body: str, matcher: Matcher = MATCHER) -> list[str]:
    return [m.term for m in found(body, matcher)]


def page(body: str, title: str = "A review") -> str:
    return f"<html><head><title>{title}</title></head><body>{body}</body></html>"


@pytest.mark.parametrize("name", ["matcher", "text", "images"])
def test_doctests(name: str) -> None:
    assert doctest.testmod(importlib.import_module(f"verifier.mentions.{name}")).failed == 0


def test_terms_are_the_brands_as_configured_then_the_domain() -> None:
    matcher = Matcher.build(
        [" Acme Widgets ", "ACME  widgets", "", "Widgetron"], "Acme-Widgets.com"
    )
    assert matcher.terms == ("Acme Widgets", "Widgetron", "acme-widgets.com")


# --- visible text: what is read, and how words are separated ---


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<p>We tried Acme Widgets.</p>", ["Acme Widgets"]),
        ("<h3>Sponsors</h3><p>Acme Widgets</p>", ["Acme Widgets"]),
        ("<p>Acme <b>Widgets</b></p>", ["Acme Widgets"]),
        ("<p>Acme<b>Widgets</b></p>", ["AcmeWidgets"]),  # inline elements glue
        ("<p>Acme<!-- x -->Widgets</p>", ["AcmeWidgets"]),  # so do comments
        ("<p>Acme</p><p>Widgets</p>", ["Acme Widgets"]),  # a block boundary is a line break
        ("<table><tr><td>Acme</td><td>Widgets</td></tr></table>", ["Acme Widgets"]),
        ("<p>Acme<br>Widgets</p>", ["Acme Widgets"]),
        ("<p>Widget<i>ron</i> rocks</p>", ["Widgetron"]),
        ("<ul><li>Widget</li><li>ron</li></ul>", []),  # near miss: blocks never glue
        ("<p>Widget<script>x</script>ron</p>", []),  # skipped elements separate too
        ("<p>Super</p><p>Widgetron</p>", ["Widgetron"]),  # not "SuperWidgetron"
        ("<script>var brand = 'Acme Widgets';</script><p>x</p>", []),
        ("<style>.acme-widgets{}</style><p>x</p>", []),
        ("<noscript><p>Acme Widgets</p></noscript>", []),
        ("<template><p>Acme Widgets</p></template>", []),
        ("<!-- Acme Widgets --><p>x</p>", []),
        ("<p title='Acme Widgets' data-brand='Widgetron'>x</p>", []),
        ("<iframe>Acme Widgets</iframe>", []),
        ("<p>Acme &lt;Widgets&gt;</p>", []),  # "Acme <Widgets>": not a separator
    ],
)
def test_visible_text(body: str, expected: list[str]) -> None:
    assert terms(page(body)) == expected


@pytest.mark.parametrize(
    ("title", "body", "kind"),
    [
        ("Acme Widgets review", "<p>nothing here</p>", MentionKind.TITLE),
        ("Acme Widgets review", "<p>Acme Widgets</p>", MentionKind.TEXT),  # body wins
        ("A review", "<p>Acme Widgets</p>", MentionKind.TEXT),
    ],
)
def test_title_counts_as_its_own_kind(title: str, body: str, kind: MentionKind) -> None:
    (mention,) = found(page(body, title))
    assert mention.kind is kind


def test_title_only_mention_is_not_linked_main_and_its_context_is_the_title() -> None:
    (mention,) = found(page("<p>x</p>", "  Acme   Widgets:\n a review "))
    assert mention == Mention(
        "Acme Widgets", MentionKind.TITLE, "Acme Widgets: a review", False, Placement.MAIN
    )


def test_an_svg_title_is_no_page_title() -> None:
    body = "<p>x <svg><title>Acme Widgets</title></svg></p>"
    assert terms(f"<html><head></head><body>{body}</body></html>") == []


# --- Unicode: folding, boundaries, separators ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acme widgets", ["Acme Widgets"]),
        ("ACME WIDGETS", ["Acme Widgets"]),
        ("\uff21\uff43\uff4d\uff45 Widgets", ["Acme Widgets"]),  # full-width, NFKC
        ("Acme&nbsp;Widgets", ["Acme Widgets"]),
        ("Acme \n\t  Widgets", ["Acme Widgets"]),
        ("Acme-Widgets", ["Acme Widgets"]),
        ("Acme\u2013Widgets", ["Acme Widgets"]),  # en dash
        ("Acme\u2011Widgets", ["Acme Widgets"]),  # non-breaking hyphen
        ("Acme\u2014Widgets", []),  # near miss: an em dash is not a hyphen
        ("Acme_Widgets", []),
        ("Acme.Widgets", []),
        ("Acme - Widgets", []),  # near miss: a spaced hyphen is punctuation
        ("AcmeWidgets", ["AcmeWidgets"]),  # the term spelled as the page spells it wins
        ("Acme Widgets's shop", ["Acme Widgets"]),
        ("Acme Widgets\u2019 shop", ["Acme Widgets"]),
        ("Acme Widgets' shop", ["Acme Widgets"]),
        ("(Acme Widgets)", ["Acme Widgets"]),
        ("SuperAcme Widgetsmith", []),  # near miss: word boundaries
        ("SuperAcme Widgets", []),
        ("Acme Widgetsmith", []),
        ("\u00e9Acme Widgets", []),  # a letter is a letter, ASCII or not
        ("Acme Widgets2", []),
        ("Wid\u00adgetron", ["Widgetron"]),  # a soft hyphen is invisible
        ("Wid&shy;getron", ["Widgetron"]),
        ("Widget\u200bron", ["Widgetron"]),
        ("Widgetron\u2122 and Acme Widgets\u00ae", ["Acme Widgets", "Widgetron"]),
        ("&#65;cme &#x57;idgets", ["Acme Widgets"]),
    ],
)
def test_unicode_and_separators(text: str, expected: list[str]) -> None:
    assert terms(page(f"<p>{text}</p>")) == expected


def test_case_folding_is_full() -> None:
    matcher = Matcher.build(["Stra\u00dfe Werk"], "strasse.de")
    assert terms(page("<p>STRASSE WERK</p>"), matcher) == ["Stra\u00dfe Werk"]
    assert terms(page("<p>stra\u00dfe werk</p>"), matcher) == ["Stra\u00dfe Werk"]


def test_ligatures_and_compatibility_letters() -> None:
    matcher = Matcher.build(["Fika Kiosk"], "fika.se")
    assert terms(page("<p>\ufb01ka \u212aiosk</p>"), matcher) == ["Fika Kiosk"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Acme Widgets", ["Acme Widgets"]),  # one match of the longer term, not also "Acme"
        ("Acme alone", ["Acme"]),
        ("Acme Widgets and Acme alone", ["Acme Widgets", "Acme"]),
        ("Acme Widgetron", ["Acme", "Widgetron"]),
        ("AcmeWidgetron", []),
    ],
)
def test_longest_match_wins(text: str, expected: list[str]) -> None:
    matcher = Matcher.build(["Acme Widgets", "Acme", "Widgetron"], SITE)
    assert sorted(terms(page(f"<p>{text}</p>"), matcher)) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Acme Widgets Bank", []),
        ("ACME-WIDGETS BANK", []),
        ("Acme Widgets Bank and Acme Widgets", ["Acme Widgets"]),
        ("Acme Widgets Banking", ["Acme Widgets"]),  # near miss: not the excluded phrase
        ("Acme Widgets, Bank of England", ["Acme Widgets"]),
        ("Acme Widgets Bank's Widgetron", ["Widgetron"]),
    ],
)
def test_excluded_phrases(text: str, expected: list[str]) -> None:
    assert terms(page(f"<p>{text}</p>")) == expected


def test_many_excluded_phrases_and_one_real_mention() -> None:
    # Each match was checked against every fence (quadratic: 200,000 "Acme Widgets Bank"
    # would take half an hour); fences now answer in logarithmic time.
    matcher = Matcher.build(["Acme Widgets"], SITE, ["Acme Widgets Bank", "Big Acme Widgets"])
    text = "acme widgets bank " * 3000 + "big acme widgets bank and acme widgets."
    hits = matcher.hits(text)
    assert [(text[hit.start : hit.end], hit.start) for hit in hits] == [
        ("acme widgets", len(text) - len("acme widgets."))
    ]


@pytest.mark.parametrize(
    ("spans", "start", "end", "covered"),
    [
        ([], 0, 1, False),
        ([(0, 10)], 0, 10, True),
        ([(0, 10)], 5, 11, False),
        ([(0, 20), (5, 8)], 6, 15, True),  # the wide span still holds it
        ([(5, 8), (0, 20)], 6, 15, True),  # order does not matter
        ([(2, 4), (6, 9)], 3, 7, False),  # across two: no one span holds it
        ([(4, 9)], 3, 5, False),
    ],
)
def test_fences(spans: list[tuple[int, int]], start: int, end: int, covered: bool) -> None:
    assert _Fences(spans).cover(start, end) is covered


def test_flags_climb_no_further_than_a_known_ancestor() -> None:
    # A mention at each of 1,000 nesting levels climbed 1,000 ancestors each.
    from verifier.mentions import text

    html = page("<div class=menu>" + "<div>Acme Widgets " * 1000)
    root = parse(Fetch(PAGE_URL, PAGE_URL, 200, html.encode(), "text/html")).root
    assert root is not None
    levels = [el for el in root.iter("div") if el.text]
    known: dict[object, int] = {}
    assert {text.flags_of(el, known=known) for el in levels} == {text.BOILERPLATE}
    assert len(known) == len(levels) + 3  # each once: the divs, the menu, <body>, <html>
    assert text.flags_of(levels[-1]) == text.BOILERPLATE  # as without a cache


def test_a_match_partly_outside_an_excluded_phrase_counts() -> None:
    matcher = Matcher.build(["Acme Widgets"], SITE, ["Widgets Bank"])
    assert terms(page("<p>Acme Widgets Bank</p>"), matcher) == ["Acme Widgets"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("press@acme-widgets.com", []),
        ("press@shop.acme-widgets.com", []),
        ("acmewidgets@gmail.com", []),  # a brand inside an address does not count either
        ("widgetron.support@mail.example", []),
        ("Acme Widgets <press@acme-widgets.com>", ["Acme Widgets"]),
        ("write to press @ acme-widgets.com", [SITE]),  # near miss: not an address
        ("@AcmeWidgets on social media", ["AcmeWidgets"]),  # a handle is a mention
    ],
)
def test_email_addresses_are_no_mentions(text: str, expected: list[str]) -> None:
    assert terms(page(f"<p>{text}</p>")) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acme-widgets.com", [SITE]),
        ("www.acme-widgets.com", [SITE]),
        ("shop.acme-widgets.com", [SITE]),
        ("ACME-WIDGETS.COM", [SITE]),
        ("https://acme-widgets.com/pricing", [SITE]),
        ("See acme-widgets.com.", [SITE]),
        ("notacme-widgets.com", []),
        ("x-acme-widgets.com", ["Acme Widgets"]),  # not the domain; the brand, hyphenated
        ("acme-widgets.com.evil.net", ["Acme Widgets"]),  # not the domain; the brand, hyphenated
        ("acme-widgets.company", ["Acme Widgets"]),
        ("acme-widgets.co", ["Acme Widgets"]),
    ],
)
def test_domain_as_text(text: str, expected: list[str]) -> None:
    assert terms(page(f"<p>{text}</p>")) == expected


def test_an_idn_domain_matches_in_both_spellings() -> None:
    matcher = Matcher.build([], "xn--bcher-kva.de")
    assert terms(page("<p>b\u00fccher.de</p>"), matcher) == ["xn--bcher-kva.de"]
    assert terms(page("<p>xn--bcher-kva.de</p>"), matcher) == ["xn--bcher-kva.de"]


# --- the result: context, linked, placement ---


def test_context_is_around_the_first_body_occurrence() -> None:
    before = " ".join(f"w{i}" for i in range(100))
    after = " ".join(f"v{i}" for i in range(100))
    body = f"<p>{before}  Acme\n  Widgets {after}</p><p>and Acme Widgets again</p>"
    (mention,) = found(page(body))
    head, _, tail = mention.context.partition("Acme Widgets")
    assert head.endswith("w98 w99 ") and tail.startswith(" v0 v1")
    assert CONTEXT_CHARS - 5 <= len(head) <= CONTEXT_CHARS + 1
    assert CONTEXT_CHARS - 5 <= len(tail) <= CONTEXT_CHARS + 1
    assert not head.startswith(" ") and head.split()[0].startswith("w")  # no half word


def test_context_reads_across_elements_as_text() -> None:
    (mention,) = found(page("<h3>Sponsors</h3><ul><li>Acme <b>Widgets</b></li><li>Next</li></ul>"))
    assert mention.context == "Sponsors Acme Widgets Next"


@pytest.mark.parametrize(
    ("body", "linked"),
    [
        ('<a href="https://acme-widgets.com/">Acme Widgets</a>', True),
        ('<a href="https://shop.acme-widgets.com/x">Buy <b>Acme Widgets</b></a>', True),
        ('<a href="HTTPS://ACME-WIDGETS.COM">Acme Widgets</a>', True),
        ('<a href="https://acme-widgets.com/">Acme</a> <a href="/x">Widgets</a>', False),
        (
            '<a href="https://acme-widgets.com/">Acme</a> <a href="//acme-widgets.com">Widgets</a>',
            True,
        ),
        ('<a href="https://acme-widgets.com/">Acme Widgets</a> and Acme Widgets', False),
        ('<a href="https://acme-widgets.com.evil.net/">Acme Widgets</a>', False),
        ('<a href="https://other.org/">Acme Widgets</a>', False),
        ('<a name="acme-widgets.com">Acme Widgets</a>', False),
        ("<a>Acme Widgets</a>", False),
        ('<noscript><a href="https://acme-widgets.com/">x</a></noscript> Acme Widgets', False),
    ],
)
def test_linked_means_every_body_occurrence_is_in_a_link_to_the_site(
    body: str, linked: bool
) -> None:
    (mention,) = found(page(f"<p>{body}</p>"))
    assert mention.linked is linked


def test_relative_links_are_on_the_site_when_the_base_is() -> None:
    body = '<html><head><base href="https://acme-widgets.com/"></head><body>'
    body += '<p><a href="docs">Acme Widgets</a></p></body></html>'
    (mention,) = found(body)
    assert mention.linked


def test_a_linked_title_only_mention_does_not_exist() -> None:
    body = page('<p><a href="https://acme-widgets.com/">site</a></p>', "Acme Widgets")
    (mention,) = found(body)
    assert (mention.kind, mention.linked) == (MentionKind.TITLE, False)


@pytest.mark.parametrize(
    ("body", "placement"),
    [
        ("<p>Acme Widgets</p>", Placement.MAIN),
        ("<nav>Acme Widgets</nav>", Placement.BOILERPLATE),
        ("<aside><p>Acme Widgets</p></aside>", Placement.BOILERPLATE),
        ("<header>Acme Widgets</header>", Placement.BOILERPLATE),
        ("<footer><p>\u00a9 Acme Widgets</p></footer>", Placement.BOILERPLATE),
        ("<article><header><h1>Acme Widgets</h1></header></article>", Placement.MAIN),
        ("<main><footer>Acme Widgets</footer></main>", Placement.MAIN),
        ("<section><footer>Acme Widgets</footer></section>", Placement.MAIN),
        ("<div id='sidebar'>Acme Widgets</div>", Placement.BOILERPLATE),
        ("<div class='side-bar'>Acme Widgets</div>", Placement.BOILERPLATE),
        ("<div class='mainNav'>Acme Widgets</div>", Placement.BOILERPLATE),
        ("<ul class='menu'><li>Acme Widgets</li></ul>", Placement.BOILERPLATE),
        ("<li class='menuitem'>Acme Widgets</li>", Placement.BOILERPLATE),
        ("<div class='cookie-banner'>Acme Widgets</div>", Placement.BOILERPLATE),
        ("<div id='gdpr-consent'>Acme Widgets</div>", Placement.BOILERPLATE),
        ("<div class='widget widget_text'>Acme Widgets</div>", Placement.BOILERPLATE),
        ("<ol class='comment-list'><li>Acme Widgets</li></ol>", Placement.BOILERPLATE),
        ("<div id='comments'>Acme Widgets</div>", Placement.BOILERPLATE),
        ("<div role='navigation'>Acme Widgets</div>", Placement.BOILERPLATE),
        ("<div id='footer'>Acme Widgets</div>", Placement.BOILERPLATE),
        ("<article><div class='entry-footer'>Acme Widgets</div></article>", Placement.MAIN),
        # furniture words run together with a word of place or kind
        *[
            (f"<div id='{name}'>Acme Widgets</div><p>x</p>", Placement.BOILERPLATE)
            for name in (
                "cookiebar",
                "cookiebanner",
                "cookieconsent",
                "cookienotice",
                "mainmenu",
                "topmenu",
                "navmenu",
                "leftsidebar",
                "sidebarleft",
                "widgetarea",
                "commentsection",
                "footermenu",
                "sharebar",
            )
        ],
        # near misses: words of an id/class, not substrings of them
        ("<div class='navigator'>Acme Widgets</div>", Placement.MAIN),
        ("<div class='commentators'>Acme Widgets</div>", Placement.MAIN),
        ("<div class='menucard'>Acme Widgets</div>", Placement.MAIN),
        ("<div class='socialism-essay'>Acme Widgets</div>", Placement.MAIN),
        ("<div class='commentary-body'>Acme Widgets</div>", Placement.MAIN),
        ("<div class='documentation'>Acme Widgets</div>", Placement.MAIN),
        ("<div class='navigator-guide'>Acme Widgets</div>", Placement.MAIN),
        ("<div class='content has-sidebar'>Acme Widgets</div>", Placement.MAIN),
        ("<div class='no-comments'>Acme Widgets</div>", Placement.MAIN),
        # … and a whole word is taken at its word, even where it means a biscuit
        ("<div class='cookies-recipe'>Acme Widgets</div>", Placement.BOILERPLATE),
    ],
)
def test_placement(body: str, placement: Placement) -> None:
    (mention,) = found(page(body))
    assert mention.placement is placement


def test_layout_classes_on_body_do_not_make_everything_boilerplate() -> None:
    body = "<html><body class='has-sidebar menu-open widget-area'><p>Acme Widgets</p></body></html>"
    (mention,) = found(body)
    assert mention.placement is Placement.MAIN


def test_placement_is_main_when_any_occurrence_is() -> None:
    (mention,) = found(page("<nav>Acme Widgets</nav><p>I like Acme Widgets</p>"))
    assert mention.placement is Placement.MAIN
    assert mention.context.startswith("Acme Widgets I like")  # still the first occurrence


def test_one_mention_per_term_in_term_order() -> None:
    body = page("<p>acme-widgets.com, Widgetron, Acme Widgets, Widgetron, acme-widgets.com</p>")
    assert terms(body) == ["Acme Widgets", "Widgetron", SITE]


def test_no_root_no_mentions() -> None:
    assert MATCHER.mentions(None, PAGE_URL) == []


# --- folding keeps its map back to the raw text ---


@pytest.mark.parametrize(
    "raw",
    ["plain ASCII Acme", "caf\u00e9 \uff21cme \u00e9", "Stra\u00dfe Acme \ufb01x", "e\u0301 Acme"],
)
def test_folded_spans_map_back(raw: str) -> None:
    folded = Folded.of(raw)
    start = folded.text.index("acme")
    begin, end = folded.raw_span(start, start + 4)
    assert fold_text(raw[begin:end]).strip() == "acme"


def test_folded_spans_map_back_across_parts() -> None:
    parts = ["Stra\u00dfe ", "\u00e9t\u00e9 ", "and ", "\uff21cme", " x\ufb01"]
    raw = "".join(parts)
    folded = Folded.of(raw, parts)
    assert folded.text == fold_text(raw)
    start = folded.text.index("acme")
    assert folded.raw_span(start, start + 4) == (raw.index("\uff21"), raw.index(" x"))


# --- the absence proof ---


@pytest.mark.parametrize(
    "body",
    [
        "<p>Acme Widgets</p>",
        "<p>&#65;cme &#x57;idgets</p>",
        "<p>Acme &#87idgets</p>",  # numeric reference without ";"
        "<p>Acme Widget&#115;</p>",
        "<p>Widge&#x74;ron</p>",
        "<p>Widgetr&#111;n</p>",
        "<p>Acme Wid&shy;gets</p>",
        "<p>Acme Wid\u00adgets</p>",
        "<p>Widget\u200bron</p>",
        "<p>\uff21\uff23\uff2d\uff25 \uff37\uff49\uff44\uff47\uff45\uff54\uff53</p>",
        "<p>ACME WIDGETS</p>",
        "<p>Acme<b>Widgets</b></p>",
        "<p>W<i>i</i>d<i>g</i>e<i>t</i>r<i>o</i>n</p>",
        "<p>Widg<!-- x -->etron</p>",
        "<p>Widget<span\nclass='x>y'>ron</span></p>",
        "<p>acme-widgets&period;com</p>",
        "<p>acme&#45;widgets.com</p>",
        "<p>acme\uff0dwidgets.com</p>",
        "<html><head><title>Widgetron</title></head><body></body></html>",
        "Widgetron",  # no markup at all
        "<p>Widgetro<b>n</b></p>",
        "<p>Widget<b>ron",  # the last piece ends the page
        "<p>I like Fix<b>omatic</b> Co.</p>",  # a first word split: seen from its start
    ],
)
def test_may_mention_keeps_every_disguise(body: str) -> None:
    matcher = FIXOMATIC if "Fix" in body else MATCHER
    assert found(body, matcher), f"not a mention after all: {body!r}"
    assert matcher.may_mention(decode(body.encode(), "text/html; charset=utf-8"))


@pytest.mark.parametrize(
    "body",
    [
        "<p>Best gadgets of 2024</p>",
        "<p>widget reviews: the best widget money can buy</p>",
        '<p><a href="https://acme.org/">Acme</a> and &amp; &nbsp; &#8217;</p>',
        "<p>caf\u00e9 \u201cquoted\u201d \u2014 na\u00efve r\u00e9sum\u00e9</p>",
        "<p>\u30a6\u30a3\u30b8\u30a7\u30c3\u30c8</p>",
        "<p>widge<b>t</b> ron</p>",
    ],
)
def test_may_mention_clears_pages_without_a_term(body: str) -> None:
    assert not MATCHER.may_mention(body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<p>&#xff37;idgets</p>", True),  # a reference to a full-width W: W is in "widgets"
        ("<p>&Wopf;idgets</p>", True),  # a named one, to a double-struck W
        ("<p>&#x2122;</p>", False),  # a trade mark sign folds into "®", not into letters
        ("<p>x\u212a</p>", False),  # a Kelvin sign is a k, in no core: it changes nothing
        ("<p>x\u0175</p>", False),  # w with a circumflex stays itself when folded
        ("<p>x\uff57</p>", True),  # a full-width w folds into w
    ],
)
def test_references_and_letters_that_may_fold_into_a_core(body: str, expected: bool) -> None:
    assert MATCHER.may_mention(body) is expected


def test_may_mention_on_parsed_text_clears_a_domain_named_only_in_hrefs() -> None:
    body = page('<p>Read <a href="https://acme-widgets.com/guide">this guide</a>.</p>')
    root = parse(fetch_of(body)).root
    assert MATCHER.may_mention(body)  # the source names the domain …
    assert not MATCHER.may_mention(etree.tostring(root, method="text", encoding="unicode"))


def test_a_term_without_ascii_letters_is_never_proven_absent() -> None:
    matcher = Matcher.build(["\u963f\u514b\u7c73"], "akemi.cn")
    assert matcher.may_mention("<p>nothing</p>")
    assert [
        m.term for m in matcher.mentions(parse(fetch_of("<p>\u963f\u514b\u7c73</p>")).root, "")
    ] == ["\u963f\u514b\u7c73"]


# Pieces for the randomised exactness test: each term's letters in many disguises.
_FULL_WIDTH = {
    c: chr(ord(c) - 0x21 + 0xFF01) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
}
_SPECIAL = {"k": "\u212a", "s": "\u017f", "-": "\uff0d", ".": "&period;"}
_GLUE = [
    "<b>",
    "</b>",
    "<span class='a>b'>",
    "<!-- c -->",
    "<i></i>",
    "&shy;",
    "\u00ad",
    "\u200b",
    "<wbr>",
]
_BREAK = ["<p>", "</div><div>", "<br>", "<script>x</script>", "<td>", "&mdash;"]
_SEPARATE = [" ", "  \n ", "&nbsp;", "\u00a0", "-", "\u2013", "", "</p><p>", "<b> </b>", "\u2014"]
_AROUND = ["", " ", "x", "é", "_", ">", "\u00e9", "&amp;", "'s ", "\u2019", "@", ".", "-"]
_WRAP = [
    "<p>{}</p>",
    "<nav>{}</nav>",
    "<a href='https://acme-widgets.com/x'>{}</a>",
    "<script>{}</script>",
    "<p title='{}'>x</p>",
    "<!-- {} -->",
    "<noscript>{}</noscript>",
    "<div class='sidebar'>{}</div>",
    "{}",
]


def _disguise(rng: random.Random, text: str) -> str:
    """`text` with each letter maybe re-cased, full-width, a reference, a look-alike,
    and markup, references or invisible characters maybe glued in between.

    Half the time only case and markup change: a reference or a full-width
    letter anywhere makes the proof give up, so those alone would rarely test
    how it finds a word split by tags.
    """
    out = []
    i = 0
    markup_only = rng.random() < 0.5
    while i < len(text):
        char, roll = text[i], rng.random()
        if markup_only:
            roll = roll * 0.15 if roll < 0.3 else 1.0
        i += 1
        if char == " ":
            out.append(rng.choice(_SEPARATE))
            continue
        if roll < 0.15:
            char = char.upper() if rng.random() < 0.5 else char.swapcase()
        elif roll < 0.22 and char in _FULL_WIDTH:
            char = _FULL_WIDTH[char]
        elif roll < 0.28:
            char = f"&#{ord(char)};" if rng.random() < 0.5 else f"&#x{ord(char):X}"
        elif roll < 0.32 and char in _SPECIAL:
            char = _SPECIAL[char]
        elif roll < 0.40 and text[i - 1 : i + 1].lower() == "fi":
            char, i = "\ufb01", i + 1  # a ligature stands for two letters
        if len(out) > 1 and rng.random() < 0.12:
            glue = _GLUE[:5] if markup_only else _GLUE
            out.append(rng.choice(glue if rng.random() < 0.85 else _BREAK))
        out.append(char)
    return "".join(out)


def _random_page(rng: random.Random, spellings: list[str]) -> str:
    parts = []
    for _ in range(rng.randint(0, 3)):
        words = " ".join(
            rng.choice(["widget", "acme", "review", "fixed", "kiosk"]) for _ in range(3)
        )
        occurrence = _disguise(rng, rng.choice(spellings)) if rng.random() < 0.7 else words
        text = rng.choice(_AROUND) + occurrence + rng.choice(_AROUND)
        parts.append(rng.choice(_WRAP).format(text))
    title = _disguise(rng, rng.choice(spellings)) if rng.random() < 0.1 else "A page"
    return f"<html><head><title>{title}</title></head><body>{''.join(parts)}</body></html>"


def test_may_mention_is_exact_on_random_disguises() -> None:
    # "Fixomatic Co" is proven absent from its first word, the others from their last.
    brands = ["Acme Widgets", "Fix Kiosks", "Widgetron", "Fixomatic Co"]
    spellings = [*brands, "AcmeWidgets", SITE]
    matcher = Matcher.build(brands, SITE, ["Acme Widgets Bank"])
    rng = random.Random(20240611)
    mentioned = cleared = 0
    for _ in range(3000):
        body = _random_page(rng, spellings)
        fetch = fetch_of(body)
        parsed = parse(fetch)
        source = decode(fetch.body, fetch.content_type)
        assert parsed.root is not None
        if matcher.mentions(parsed.root, parsed.base_url):
            mentioned += 1
            text = etree.tostring(parsed.root, method="text", encoding="unicode")
            assert matcher.may_mention(source), body
            assert matcher.may_mention(text), body
        elif not matcher.may_mention(source):
            cleared += 1
    assert mentioned > 500 and cleared > 500, (mentioned, cleared)  # both sides are exercised


# --- image uses ---


def uses(body: str, url: str = PAGE_URL, domain: str = SITE) -> list[tuple[str, str, Placement]]:
    parsed = parse(fetch_of(body, url))
    return [
        (m.term, m.context, m.placement) for m in image_uses(parsed.root, parsed.base_url, domain)
    ]


MAIN, BOILER = Placement.MAIN, Placement.BOILERPLATE
LOGO = "https://acme-widgets.com/logo.png"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f'<p><img src="{LOGO}" alt=" Acme  logo "></p>', [(LOGO, "Acme logo", MAIN)]),
        (f'<img src="{LOGO}"><img src="{LOGO}" alt="again">', [(LOGO, "again", MAIN)]),
        (
            '<img src="https://cdn.acme-widgets.com/a.png">',
            [("https://cdn.acme-widgets.com/a.png", "", MAIN)],
        ),
        ('<img src="//acme-widgets.com/a.png">', [("https://acme-widgets.com/a.png", "", MAIN)]),
        # as a browser resolves it: host case folded, a backslash a slash, one row for both
        (
            '<img src="HTTPS://CDN.Acme-Widgets.COM/U.png">'
            '<img src="https:\\cdn.acme-widgets.com\\U.png">',
            [("https://cdn.acme-widgets.com/U.png", "", MAIN)],
        ),
        (
            '<img src=" https://acme-widgets.com/a\n.png ">',
            [("https://acme-widgets.com/a.png", "", MAIN)],
        ),
        (
            '<img src="/local.png" srcset="https://acme-widgets.com/a.png 1x,'
            ' https://acme-widgets.com/b.png 2x">',
            [
                ("https://acme-widgets.com/a.png", "", MAIN),
                ("https://acme-widgets.com/b.png", "", MAIN),
            ],
        ),
        (
            '<picture><source srcset="https://acme-widgets.com/a.webp">'
            '<img src="/x.png" alt="A"></picture>',
            [("https://acme-widgets.com/a.webp", "A", MAIN)],
        ),
        (
            '<img data-src="https://acme-widgets.com/lazy.png">',
            [("https://acme-widgets.com/lazy.png", "", MAIN)],
        ),
        (f'<noscript><img src="{LOGO}"></noscript>', [(LOGO, "", MAIN)]),
        (f'<footer><img src="{LOGO}"></footer>', [(LOGO, "", BOILER)]),
        (f'<footer><img src="{LOGO}"></footer><p><img src="{LOGO}"></p>', [(LOGO, "", MAIN)]),
        # near misses
        (f'<template><img src="{LOGO}"></template>', []),
        ('<img src="https://acme-widgets.com.evil.net/a.png">', []),
        ('<img src="https://notacme-widgets.com/a.png">', []),
        ('<img src="/acme-widgets.com/a.png">', []),
        ('<img src="data:image/png;base64,acme-widgets.com">', []),
        ('<video><source src="https://acme-widgets.com/v.mp4"></video>', []),
        (
            '<picture><source srcset="/a.webp"><source srcset="https://acme-widgets.com/b.avif">'
            '<img src="/c.png" alt="B"></picture>',
            [("https://acme-widgets.com/b.avif", "B", MAIN)],
        ),
        ('<img alt="https://acme-widgets.com/a.png">', []),
    ],
)
def test_image_uses(body: str, expected: list[tuple[str, str, Placement]]) -> None:
    assert uses(page(body)) == expected


def test_relative_images_are_the_sites_when_the_base_is() -> None:
    body = '<html><head><base href="https://www.acme-widgets.com/"></head>'
    body += '<body><img src="img/a.png"></body></html>'
    assert uses(body) == [("https://www.acme-widgets.com/img/a.png", "", MAIN)]


@pytest.mark.parametrize(
    ("srcset", "expected"),
    [
        ("a.png", ["a.png"]),
        ("a.png 1x, b.png 2x", ["a.png", "b.png"]),
        ("a.png 100w,b.png 200w", ["a.png", "b.png"]),
        ("https://x.test/a,b.png 1x", ["https://x.test/a,b.png"]),
        ("a.png,, b.png", ["a.png", "b.png"]),
        (" , ", []),
    ],
)
def test_srcset_urls(srcset: str, expected: list[str]) -> None:
    assert srcset_urls(srcset) == expected


def test_text_doctests() -> None:
    from verifier.mentions import text

    assert doctest.testmod(text).failed == 0
