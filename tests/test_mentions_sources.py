"""Pages to read for mentions (verifier.mentions.sources): URL lists, alert feeds, wrappers."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from verifier.mentions import sources
from verifier.mentions.sources import (
    BadLine,
    ListedPage,
    SourceError,
    read_feed,
    read_page_file,
    read_page_list,
    unwrap,
)

#: A Google Alerts redirect around `inner` (as the alert feeds and e-mails write them).
GA = "https://www.google.com/url?rct=j&sa=t&url={}&ct=ga&cd=CAIyGjE4&usg=AOvVaw3x"


def test_doctests() -> None:
    assert doctest.testmod(sources).failed == 0


# --- unwrap ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # Google Alerts, the inner URL raw or percent-encoded
        pytest.param(
            GA.format("https://blog.example.org/acme-review"),
            "https://blog.example.org/acme-review",
            id="ga-raw",
        ),
        pytest.param(
            GA.format("https%3A%2F%2Fblog.example.org%2Fa%3Fx%3D1%26y%3D2"),
            "https://blog.example.org/a?x=1&y=2",
            id="ga-percent-encoded",
        ),
        pytest.param(
            GA.format("https://blog.example.org/a%3Fx%3D1"),
            "https://blog.example.org/a?x=1",
            id="ga-encoded-query-only",
        ),
        pytest.param(
            GA.format("http://old.example.org/p"), "http://old.example.org/p", id="ga-inner-http"
        ),
        pytest.param(
            "http://www.google.com/url?sa=t&url=https://x.example.org/p",
            "https://x.example.org/p",
            id="ga-plain-http-wrapper",
        ),
        pytest.param(
            "https://GOOGLE.COM/url?url=https://x.example.org/p",
            "https://x.example.org/p",
            id="wrapper-host-any-case",
        ),
        pytest.param(
            "https://www.google.com/url?q=https://x.example.org/p&sa=D",
            "https://x.example.org/p",
            id="google-q-param",
        ),
        pytest.param(
            "https://www.google.com/url?url=&q=https://x.example.org/p",
            "https://x.example.org/p",
            id="empty-url-param-falls-to-q",
        ),
        # other known wrappers
        pytest.param(
            "https://l.facebook.com/l.php?u=https%3A%2F%2Fx.example.org%2Fp&h=AT0",
            "https://x.example.org/p",
            id="facebook-u",
        ),
        pytest.param(
            "https://www.bing.com/ck/a?!&&p=abc&u=https%3A%2F%2Fx.example.org%2Fp&ntb=1",
            "https://x.example.org/p",
            id="bing-u",
        ),
        pytest.param(
            "https://redirect.talkwalker.com/r?target=https%3A%2F%2Fx.example.org%2Fp",
            "https://x.example.org/p",
            id="talkwalker-target",
        ),
        # a wrapper inside a wrapper (three levels at most)
        pytest.param(
            GA.format(
                "https%3A%2F%2Fwww.bing.com%2Fck%2Fa%3Fu%3Dhttps%253A%252F%252Fx.example.org%252Fp"
            ),
            "https://x.example.org/p",
            id="nested-google-bing",
        ),
        pytest.param(
            "https://www.google.com/url?url=https://a.google.com/url?url=https://x.example.org/",
            "https://x.example.org/",
            id="nested-google-google",
        ),
        pytest.param(
            "https://www.google.com/url?url=https://a.google.com/url?url="
            "https://b.google.com/url?url=https://c.google.com/url?url=https://x.example.org/",
            "https://x.example.org/",
            id="four-levels",
        ),
        # google.com without an inner URL, or with one that is not http(s): untouched
        pytest.param(
            "https://www.google.com/search?q=acme",
            "https://www.google.com/search?q=acme",
            id="search",
        ),
        pytest.param(
            "https://www.google.com/alerts", "https://www.google.com/alerts", id="no-query"
        ),
        pytest.param(
            "https://www.google.com/url?rct=j&sa=t&ct=ga",
            "https://www.google.com/url?rct=j&sa=t&ct=ga",
            id="no-url-param",
        ),
        pytest.param(
            "https://www.google.com/url?url=",
            "https://www.google.com/url?url=",
            id="empty-url-param",
        ),
        pytest.param(
            "https://www.google.com/url?url=javascript:alert(1)",
            "https://www.google.com/url?url=javascript:alert(1)",
            id="inner-javascript",
        ),
        pytest.param(
            "https://www.google.com/url?url=ftp://files.example.org/f",
            "https://www.google.com/url?url=ftp://files.example.org/f",
            id="inner-ftp",
        ),
        pytest.param(
            "https://www.google.com/url?url=/relative/path",
            "https://www.google.com/url?url=/relative/path",
            id="inner-relative",
        ),
        pytest.param(
            "https://www.google.com/url?url=https://",
            "https://www.google.com/url?url=https://",
            id="inner-without-host",
        ),
        # other hosts: untouched, lookalikes included
        pytest.param(
            "https://blog.example.org/post?url=https://x.example.org/",
            "https://blog.example.org/post?url=https://x.example.org/",
            id="other-host-with-url-param",
        ),
        pytest.param(
            "https://notgoogle.com/url?url=https://x.example.org/",
            "https://notgoogle.com/url?url=https://x.example.org/",
            id="suffix-lookalike",
        ),
        pytest.param(
            "https://google.com.evil.net/url?url=https://x.example.org/",
            "https://google.com.evil.net/url?url=https://x.example.org/",
            id="prefix-lookalike",
        ),
        pytest.param(
            "https://blog.example.org/post", "https://blog.example.org/post", id="plain-page"
        ),
        pytest.param("not a url", "not a url", id="not-a-url"),
    ],
)
def test_unwrap(url: str, expected: str) -> None:
    assert unwrap(url) == expected


# --- read_page_list ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "pages", "bad"),
    [
        pytest.param([], [], [], id="empty"),
        pytest.param(
            ["", "   ", "# pages to read", "  # indented comment", "\t"], [], [], id="only-skipped"
        ),
        pytest.param(
            ["# header", "", "https://a.example.org/1", "  https://b.example.org/2  "],
            [(3, "https://a.example.org/1"), (4, "https://b.example.org/2")],
            [],
            id="line-numbers-count-skipped-lines",
        ),
        pytest.param(
            ["\ufeffhttps://a.example.org/1"],
            [(1, "https://a.example.org/1")],
            [],
            id="bom",
        ),
        pytest.param(["\ufeff# comment after a BOM"], [], [], id="bom-then-comment"),
        pytest.param(["\ufeff"], [], [], id="bom-only"),
        pytest.param(["https://a.example.org/1\r"], [(1, "https://a.example.org/1")], [], id="cr"),
        pytest.param(
            [
                "https://a.example.org/1",
                "https://A.Example.ORG:443/1#comments",
                "https://a.example.org/1",
            ],
            [(1, "https://a.example.org/1")],
            [],
            id="duplicates-by-identity-key",
        ),
        pytest.param(
            ["https://a.example.org/1", GA.format("https%3A%2F%2Fa.example.org%2F1")],
            [(1, "https://a.example.org/1")],
            [],
            id="wrapped-duplicate",
        ),
        pytest.param(
            [GA.format("https%3A%2F%2Fa.example.org%2F1%3Fx%3D1")],
            [(1, "https://a.example.org/1?x=1")],
            [],
            id="wrapper-unwrapped",
        ),
        # near misses: not the same page
        pytest.param(
            ["https://a.example.org/1", "http://a.example.org/1"],
            [(1, "https://a.example.org/1"), (2, "http://a.example.org/1")],
            [],
            id="other-scheme-is-another-page",
        ),
        pytest.param(
            ["https://a.example.org/1", "https://www.a.example.org/1"],
            [(1, "https://a.example.org/1"), (2, "https://www.a.example.org/1")],
            [],
            id="www-is-another-page",
        ),
        pytest.param(
            ["https://a.example.org/1", "https://a.example.org/1?page=2"],
            [(1, "https://a.example.org/1"), (2, "https://a.example.org/1?page=2")],
            [],
            id="query-is-another-page",
        ),
        # bad lines, with their line numbers
        pytest.param(
            [
                "https://a.example.org/1",
                "not a url",
                "ftp://files.example.org/f",
                "",
                "a.example.org/no-scheme",
                "https://",
                "https://a.example.org/with space",
                "mailto:ed@example.org",
                "https://b.example.org/2",
            ],
            [(1, "https://a.example.org/1"), (9, "https://b.example.org/2")],
            [2, 3, 5, 6, 7, 8],
            id="bad-lines",
        ),
        pytest.param(["not a url", "not a url"], [], [1, 2], id="bad-duplicates-each-reported"),
    ],
)
def test_read_page_list(lines: list[str], pages: list[tuple[int, str]], bad: list[int]) -> None:
    got_pages, got_bad = read_page_list(lines)
    assert got_pages == [ListedPage(line, url) for line, url in pages]
    assert [b.line for b in got_bad] == bad


def test_read_page_list_bad_line_reason_quotes_the_line() -> None:
    _, bad = read_page_list(["", "ftp://files.example.org/f"])
    assert bad == [BadLine(2, "not an http(s) URL: 'ftp://files.example.org/f'")]


def test_read_page_list_a_malformed_url_or_port_is_a_bad_line() -> None:
    lines = [
        "https://blog.example.org/a",
        "https://[broken/x",
        "http://b.example:99999/",
        "http://[::1",
    ]
    pages, bad = read_page_list(lines)
    assert pages == [ListedPage(1, "https://blog.example.org/a")]
    assert bad == [
        BadLine(2, "malformed URL or port: 'https://[broken/x'"),
        BadLine(3, "malformed URL or port: 'http://b.example:99999/'"),
        BadLine(4, "malformed URL or port: 'http://[::1'"),
    ]


def test_a_feed_entry_with_a_malformed_link_is_a_bad_line() -> None:
    feed = (
        b"<rss><channel><item><link>https://[broken/x</link></item>"
        b"<item><link>https://blog.example.org/a</link></item></channel></rss>"
    )
    pages, bad = read_feed(feed)
    assert pages == [ListedPage(2, "https://blog.example.org/a")]
    assert bad == [BadLine(1, "entry with a malformed link or port: 'https://[broken/x'")]


def test_read_page_list_bad_line_reason_is_bounded() -> None:
    _, [bad] = read_page_list(["x" * 5000])
    assert bad.line == 1 and len(bad.reason) < 300


def test_read_page_file(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_bytes("\ufeff# found by hand\r\nhttps://a.example.org/1\r\n\r\nnope\r\n".encode())
    assert read_page_file(path) == (
        [ListedPage(2, "https://a.example.org/1")],
        [BadLine(4, "not an http(s) URL: 'nope'")],
    )


def test_read_page_file_missing(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read the URL list"):
        read_page_file(tmp_path / "missing.txt")


# --- read_feed ---------------------------------------------------------------------

GOOGLE_ALERTS = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:idx="urn:atom-extension:indexing">
<id>tag:google.com,2005:reference/feed/06848252415619144186/1193421306563066436</id>
<title>Google Alert - Acme Widgets</title>
<link href="https://www.google.com/alerts/feeds/06848252415619144186/1193421306563066436"
 rel="self"></link>
<updated>2024-05-02T10:00:00Z</updated>
<entry>
<id>tag:google.com,2013:googlealerts/feed:11235566453</id>
<title type="html">Why &lt;b&gt;Acme Widgets&lt;/b&gt; win</title>
<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://blog.example.org/acme-review%3Futm_source%3Dalerts&amp;ct=ga&amp;cd=CAIyGjE4&amp;usg=AOvVaw1"></link>
<published>2024-05-02T09:00:00Z</published>
<updated>2024-05-02T09:00:00Z</updated>
<content type="html">A review of &lt;b&gt;Acme Widgets&lt;/b&gt; ...</content>
<author><name></name></author>
</entry>
<entry>
<id>tag:google.com,2013:googlealerts/feed:11235566454</id>
<title type="html">Acme in the news</title>
<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://news.example.net/2024/acme&amp;ct=ga&amp;cd=CAIyGjE5&amp;usg=AOvVaw2"></link>
<published>2024-05-02T08:00:00Z</published>
<updated>2024-05-02T08:00:00Z</updated>
<content type="html">...</content>
<author><name></name></author>
</entry>
<entry>
<id>tag:google.com,2013:googlealerts/feed:11235566455</id>
<title type="html">The same review, alerted again</title>
<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://blog.example.org/acme-review%3Futm_source%3Dalerts&amp;ct=ga&amp;cd=CAIyGjIw&amp;usg=AOvVaw3"></link>
<updated>2024-05-02T07:00:00Z</updated>
</entry>
</feed>
"""

TALKWALKER = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>Talkwalker Alerts for Acme</title>
<link>https://alerts.talkwalker.com</link>
<description>Acme</description>
<item>
<title>Acme on a forum</title>
<link>https://forum.example.com/t/acme-thread/42</link>
<guid isPermaLink="false">tw-1</guid>
<pubDate>Thu, 02 May 2024 09:00:00 +0000</pubDate>
<description>Talk about Acme</description>
</item>
<item>
<title>No link at all</title>
<guid isPermaLink="false">tw-2</guid>
<description>Nothing to read</description>
</item>
<item>
<title>A wrapped story</title>
<link>https://www.google.com/url?rct=j&amp;sa=t&amp;url=https%3A%2F%2Fnews.example.net%2Fstory%3Fid%3D7&amp;ct=ga</link>
<guid isPermaLink="false">tw-3</guid>
</item>
<item>
<title>Not a web page</title>
<link>ftp://files.example.com/acme.txt</link>
<guid isPermaLink="false">tw-4</guid>
</item>
<item>
<title>Padded link</title>
<link>
   https://padded.example.com/p
</link>
<guid isPermaLink="false">tw-5</guid>
</item>
</channel>
</rss>
"""


def test_google_alerts_atom() -> None:
    assert read_feed(GOOGLE_ALERTS) == (
        [
            ListedPage(1, "https://blog.example.org/acme-review?utm_source=alerts"),
            ListedPage(2, "https://news.example.net/2024/acme"),
        ],
        [],
    )


def test_talkwalker_rss() -> None:
    pages, bad = read_feed(TALKWALKER)
    assert pages == [
        ListedPage(1, "https://forum.example.com/t/acme-thread/42"),
        ListedPage(3, "https://news.example.net/story?id=7"),
        ListedPage(5, "https://padded.example.com/p"),
    ]
    assert bad == [
        BadLine(2, "entry without an http(s) link: ''"),
        BadLine(4, "entry without an http(s) link: 'ftp://files.example.com/acme.txt'"),
    ]


ATOM_LINKS = b"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>only related</title><link rel="related" href="https://rel.example.org/p"/></entry>
<entry><title>no link</title><id>urn:uuid:1225c695</id></entry>
<entry><title>alternate</title>
 <link rel="enclosure" href="https://cdn.example.org/p.mp3"/>
 <link rel="alternate" href="https://alt.example.org/p"/></entry>
</feed>"""


def test_atom_entries_without_an_alternate_link() -> None:
    pages, bad = read_feed(ATOM_LINKS)
    # A "related" link is another page than the entry's: only alternate links count.
    assert pages == [ListedPage(3, "https://alt.example.org/p")]  # not the enclosure
    assert [b.line for b in bad] == [1, 2]


def test_a_wrapper_without_a_page_url_is_refused_not_fetched() -> None:
    pages, bad = read_page_list(["https://www.google.com/url?sa=t&url=ftp://x.example.org/f"])
    assert pages == [] and "redirect wrapper" in bad[0].reason


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            TALKWALKER[: TALKWALKER.index(b"<item>\n<title>A wrapped")],
            [ListedPage(1, "https://forum.example.com/t/acme-thread/42")],
            id="rss-cut-mid-channel",
        ),
        pytest.param(
            GOOGLE_ALERTS.replace(b"</feed>", b""),
            [
                ListedPage(1, "https://blog.example.org/acme-review?utm_source=alerts"),
                ListedPage(2, "https://news.example.net/2024/acme"),
            ],
            id="atom-unclosed",
        ),
        pytest.param(
            GOOGLE_ALERTS.replace(b"&amp;sa=", b"&sa="),
            [
                ListedPage(1, "https://blog.example.org/acme-review?utm_source=alerts"),
                ListedPage(2, "https://news.example.net/2024/acme"),
            ],
            id="atom-bare-ampersand",
        ),
    ],
)
def test_malformed_feed_keeps_what_parsed(data: bytes, expected: list[ListedPage]) -> None:
    pages, _ = read_feed(data)
    assert pages == expected


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(GOOGLE_ALERTS[: GOOGLE_ALERTS.index(b"<entry>")] + b"</feed>", id="atom"),
        pytest.param(TALKWALKER[: TALKWALKER.index(b"<item>")] + b"</channel></rss>", id="rss"),
        pytest.param(b"<rss version='2.0'><channel></channel></rss>", id="bare-rss"),
    ],
)
def test_a_feed_without_entries_is_empty_not_an_error(data: bytes) -> None:
    assert read_feed(data) == ([], [])


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"not a feed at all", id="text"),
        pytest.param(b'{"entries": [{"link": "https://x.example.org/"}]}', id="json"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", id="png"),
    ],
)
def test_bytes_that_are_no_feed(data: bytes) -> None:
    with pytest.raises(SourceError, match="not an RSS or Atom feed"):
        read_feed(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<!doctype html><html><body><p>Sign in</p></body></html>", id="html"),
        pytest.param(
            b"<html><head><title>Sign in</title></head><body><p>Sign in</p></body></html>",
            id="html-well-formed",
        ),
        pytest.param(b"<?xml version='1.0'?><sitemap/>", id="other-xml"),
    ],
)
def test_markup_or_nothing_that_is_no_feed(data: bytes) -> None:
    with pytest.raises(SourceError, match="not an RSS or Atom feed"):
        read_feed(data)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.google.co.uk/url?q=http://news.example.net/a&sa=U",
            "http://news.example.net/a",
        ),
        ("https://www.google.com/search?q=http://news.example.net/a", None),
        ("https://news.google.com/url?url=http://news.example.net/b", "http://news.example.net/b"),
    ],
)
def test_google_redirectors_only(url: str, expected: str | None) -> None:
    assert unwrap(url) == (expected or url)


def test_a_comment_after_a_url_and_whitespace_inside_one() -> None:
    pages, bad = read_page_list(
        ["http://a.example.net/x  # from the SERP export", "http://b.example.net/y\tz"]
    )
    assert [p.url for p in pages] == ["http://a.example.net/x"]
    assert [b.line for b in bad] == [2]


def test_pages_of_the_site_or_a_competitor_are_set_aside_saying_why() -> None:
    pages = [
        ListedPage(1, "https://blog.example.org/acme"),
        ListedPage(2, "https://www.widgetco.com/vs-acme"),  # a competitor's subdomain
        ListedPage(3, "http://shop.acme.com/review"),  # the site itself
        ListedPage(4, "https://widgetco.com.evil.org/acme"),  # a lookalike is not one
    ]
    kept, bad = sources.set_aside(pages, "acme.com", ["widgetco.com"])
    assert [page.line for page in kept] == [1, 4]
    assert bad == [
        sources.BadLine(
            2,
            "a competitor of acme.com (init --competitor): its pages are never fetched:"
            " https://www.widgetco.com/vs-acme",
        ),
        sources.BadLine(
            3,
            "the site itself: its pages are never its backlinks or mentions:"
            " http://shop.acme.com/review",
        ),
    ]
