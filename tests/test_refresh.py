"""Meta refresh as a browser acts on it (verifier.verdict.refresh, issue 14)."""

from __future__ import annotations

import pytest
from lxml import etree

from verifier.verdict.refresh import Refresh, find_refresh, page_refresh, parse_content, resolve

PAGE = "https://blog.test/dir/refresh.sub.html"

# The HTML standard's own cases: web-platform-tests (BSD-3-Clause),
# html/semantics/document-metadata/the-meta-element/pragma-directives/
# attr-meta-http-equiv-refresh/parsing.html. () = ignored; (delay, url as resolved
# relative to the page); "refresh.sub.html" there is the page reloading itself.
WPT: list[tuple[str, tuple[int, str] | tuple[()]]] = [
    ("", ()),
    ("1", (1, "refresh.sub.html")),
    ("1 ", (1, "refresh.sub.html")),
    ("1\t", (1, "refresh.sub.html")),
    ("1\r", (1, "refresh.sub.html")),
    ("1\n", (1, "refresh.sub.html")),
    ("1\f", (1, "refresh.sub.html")),
    ("1;", (1, "refresh.sub.html")),
    ("1,", (1, "refresh.sub.html")),
    ("1; url=foo", (1, "foo")),
    ("1, url=foo", (1, "foo")),
    ("1 url=foo", (1, "foo")),
    ("1;\turl=foo", (1, "foo")),
    ("1,\turl=foo", (1, "foo")),
    ("1\turl=foo", (1, "foo")),
    ("1;\rurl=foo", (1, "foo")),
    ("1,\rurl=foo", (1, "foo")),
    ("1\rurl=foo", (1, "foo")),
    ("1;\nurl=foo", (1, "foo")),
    ("1,\nurl=foo", (1, "foo")),
    ("1\nurl=foo", (1, "foo")),
    ("1;\furl=foo", (1, "foo")),
    ("1,\furl=foo", (1, "foo")),
    ("1\furl=foo", (1, "foo")),
    ("1url=foo", ()),
    ("1x;url=foo", ()),
    ("1 x;url=foo", (1, "x;url=foo")),
    ("1;;url=foo", (1, ";url=foo")),
    ("  1  ;  url  =  foo", (1, "foo")),
    ("  1  ,  url  =  foo", (1, "foo")),
    ("  1  ;  foo", (1, "foo")),
    ("  1  ,  foo", (1, "foo")),
    ("  1  url  =  foo", (1, "foo")),
    ("1; url=foo ", (1, "foo")),
    ("1; url=f\to\no", (1, "foo")),
    ('1; url="foo"bar', (1, "foo")),
    ("1; url='foo'bar", (1, "foo")),
    ("1; url=\"foo'bar", (1, "foo'bar")),
    ("1; url foo", (1, "url foo")),
    ("1; urlfoo", (1, "urlfoo")),
    ("1; urfoo", (1, "urfoo")),
    ("1; ufoo", (1, "ufoo")),
    ('1; "foo"bar', (1, "foo")),
    ("; foo", ()),
    (", foo", ()),
    ("foo", ()),
    ("+1; url=foo", ()),
    ("-1; url=foo", ()),
    ("+0; url=foo", ()),
    ("-0; url=foo", ()),
    ("0; url=foo", (0, "foo")),
    ("+1; foo", ()),
    ("-1; foo", ()),
    ("+0; foo", ()),
    ("-0; foo", ()),
    ("0; foo", (0, "foo")),
    ("+1", ()),
    ("-1", ()),
    ("+0", ()),
    ("-0", ()),
    ("0", (0, "refresh.sub.html")),
    ("1.9; url=foo", (1, "foo")),
    ("1.9..5.; url=foo", (1, "foo")),
    (".9; url=foo", (0, "foo")),
    ("0.9; url=foo", (0, "foo")),
    ("1e0; url=foo", ()),
    ("1e1; url=foo", ()),
    ("10e-1; url=foo", ()),
    ("-0.1; url=foo", ()),
]


@pytest.mark.parametrize(("content", "expected"), WPT, ids=[repr(c) for c, _ in WPT])
def test_content_parsed_as_the_standard_says(
    content: str, expected: tuple[int, str] | tuple[()]
) -> None:
    parsed = parse_content(content)
    if not expected:
        assert parsed is None
        return
    assert parsed is not None
    delay, url = parsed
    # Both sides as the URL standard serialises them ("url foo" is url%20foo).
    assert (delay, resolve(url, PAGE)) == (expected[0], resolve(expected[1], PAGE))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("0;URL=https://spam.net/x", (0, "https://spam.net/x"), id="upper-url"),
        pytest.param("0; UrL = 'https://spam.net/x'", (0, "https://spam.net/x"), id="mixed-case"),
        pytest.param("3,https://spam.net/x", (3, "https://spam.net/x"), id="comma-no-url="),
        pytest.param("0 https://spam.net/x", (0, "https://spam.net/x"), id="space-only"),
        pytest.param("0; url=//spam.net/x", (0, "https://spam.net/x"), id="scheme-relative"),
        pytest.param(r"0; url=https:\\spam.net\x", (0, "https://spam.net/x"), id="backslashes"),
        pytest.param("0; url=", (0, PAGE), id="empty-url-reloads"),
        pytest.param("0; url=''", (0, PAGE), id="empty-quoted-url-reloads"),
        pytest.param("0; url=http://[bad/", None, id="unparseable-url"),
    ],
)
def test_refresh_spellings_and_resolution(content: str, expected: tuple[int, str] | None) -> None:
    parsed = parse_content(content)
    assert parsed is not None
    url = resolve(parsed[1], PAGE)
    assert (None if url is None else (parsed[0], url)) == expected


def _found(body: str) -> Refresh | None:
    whole = body if body.startswith(("<html", "<head")) else f"<html><body>{body}</body></html>"
    root = etree.fromstring(whole.encode(), etree.HTMLParser())
    return find_refresh(root, PAGE)


REFRESH = '<meta http-equiv="refresh" content="0; url=https://spam.net/new">'
AWAY = Refresh(0, "https://spam.net/new")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(f"<html><head>{REFRESH}</head><body>x</body></html>", AWAY, id="head"),
        pytest.param(f"<body><p>text</p>{REFRESH}</body>", AWAY, id="in-body"),
        pytest.param(
            f"<head><title>t</title></head><body>{'<p>filler</p>' * 2000}{REFRESH}</body>",
            AWAY,
            id="after-4kb",
        ),
        pytest.param(
            '<meta HTTP-EQUIV="Refresh" content="0;URL=https://spam.net/new">', AWAY, id="case"
        ),
        pytest.param(
            '<meta http-equiv="refresh" content="nonsense">' + REFRESH, AWAY, id="first-valid-wins"
        ),
        pytest.param(
            REFRESH + '<meta http-equiv="refresh" content="0; url=https://other.net/">',
            AWAY,
            id="first-wins",
        ),
        pytest.param(
            '<base href="https://cdn.test/a/"><meta http-equiv="refresh" content="0; url=b">',
            Refresh(0, "https://cdn.test/a/b"),
            id="base-before",
        ),
        pytest.param(
            '<meta http-equiv="refresh" content="0; url=b"><base href="https://cdn.test/a/">',
            Refresh(0, "https://blog.test/dir/b"),
            id="base-after-ignored",
        ),
        pytest.param('<meta http-equiv="refresh" content="30">', Refresh(30, PAGE), id="reload"),
        # Near misses: where a browser does not act on it.
        pytest.param(f"<noscript>{REFRESH}</noscript>", None, id="noscript-body"),
        pytest.param(f"<head><noscript>{REFRESH}</noscript></head>", None, id="noscript-head"),
        pytest.param(f"<template>{REFRESH}</template>", None, id="template"),
        pytest.param(f"<svg>{REFRESH}</svg>", AWAY, id="svg-pops-a-meta-out"),
        pytest.param(f"<p><math>{REFRESH}</math></p>", AWAY, id="math-pops-a-meta-out"),
        pytest.param(
            "<svg><base href='https://cdn.test/a/'></svg>"
            '<meta http-equiv="refresh" content="0; url=b">',
            Refresh(0, "https://blog.test/dir/b"),
            id="an-svg-base-is-no-base",
        ),
        pytest.param(f"<script>document.write('{REFRESH}')</script>", None, id="script"),
        pytest.param(f"<!-- {REFRESH} -->", None, id="comment"),
        pytest.param(f"<textarea>{REFRESH}</textarea>", None, id="textarea"),
        pytest.param('<meta name="refresh" content="0; url=https://spam.net/">', None, id="name"),
        pytest.param('<meta http-equiv="refresh">', None, id="no-content"),
        pytest.param('<meta http-equiv=" refresh" content="0; url=x">', None, id="padded-equiv"),
        pytest.param('<meta http-equiv="refresh" content="-1; url=x">', None, id="bad-delay"),
        pytest.param("<p>refresh http-equiv</p>", None, id="just-words"),
    ],
)
def test_where_a_refresh_counts(body: str, expected: Refresh | None) -> None:
    assert _found(body) == expected


CP1252_REFRESH = (
    '<meta charset="windows-1252"><meta http-equiv="refresh" content="0; url=/caf\xe9">'
)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        pytest.param(REFRESH.encode(), "text/html", AWAY, id="plain"),
        pytest.param(
            CP1252_REFRESH.encode("cp1252"),
            None,
            Refresh(0, "https://blog.test/caf%C3%A9"),  # é, encoded as browsers send it
            id="decoded-as-the-page",
        ),
        pytest.param(b"<p>no refresh here</p>", "text/html", None, id="no-words-no-parse"),
        pytest.param(
            b"<html><body><p>x</p></body></html>" + REFRESH.encode(),
            "text/html",
            AWAY,
            id="after-a-stray-html-end-tag",
        ),
        pytest.param(b"", "text/html", None, id="empty"),
        pytest.param(  # past libxml2's nesting limit: a browser still acts on it
            ("<div>" * 3000 + REFRESH).encode(), "text/html", AWAY, id="after-3000-divs"
        ),
    ],
)
def test_page_refresh(body: bytes, content_type: str | None, expected: Refresh | None) -> None:
    assert page_refresh(body, content_type, PAGE) == expected


# --- the crawler's middleware (Scrapy glue around page_refresh) --------------------


def _middleware(**settings: object):  # type: ignore[no-untyped-def]
    from scrapy import Spider
    from scrapy.utils.misc import build_from_crawler
    from scrapy.utils.test import get_crawler

    from crawler.middlewares import MetaRefreshMiddleware

    return build_from_crawler(MetaRefreshMiddleware, get_crawler(Spider, settings))


@pytest.mark.parametrize(
    ("body", "method", "redirected_to"),
    [
        pytest.param(REFRESH, "GET", "https://spam.net/new", id="head-refresh"),
        pytest.param(
            "<p>filler</p>" * 1000 + '<meta http-equiv=refresh content="0, url = spam.net/new">',
            "GET",
            "http://blog.test/spam.net/new",
            id="late-and-unusual",
        ),
        pytest.param(
            "<meta http-equiv=refresh content=\"0; URL='https://spam.net/q?a=1&amp;b=2'\">",
            "GET",
            "https://spam.net/q?a=1&b=2",
            id="quoted-and-escaped",
        ),
        pytest.param(f"<noscript>{REFRESH}</noscript>", "GET", None, id="noscript"),
        pytest.param(f"<script>x = '{REFRESH}'</script>", "GET", None, id="script"),
        pytest.param('<meta http-equiv="refresh" content="5">', "GET", None, id="self-reload"),
        pytest.param(
            '<meta http-equiv="refresh" content="100; url=https://spam.net/">',
            "GET",
            None,
            id="over-maxdelay",
        ),
        pytest.param(REFRESH, "HEAD", None, id="head-request"),
        pytest.param(
            '<meta http-equiv="refresh" content="0; url=mailto:a@b.test">', "GET", None, id="mailto"
        ),
    ],
)
def test_middleware_follows_refreshes_browsers_follow(
    body: str, method: str, redirected_to: str | None
) -> None:
    from scrapy import Request
    from scrapy.http import HtmlResponse

    request = Request("http://blog.test/p", method=method)
    response = HtmlResponse(
        "http://blog.test/p",
        body=f"<html><head><title>t</title></head><body>{body}</body></html>".encode(),
        headers={"Content-Type": "text/html"},
        request=request,
    )
    out = _middleware().process_response(request, response)
    if redirected_to is None:
        assert out is response
    else:
        assert out.url == redirected_to
        assert out.meta["redirect_reasons"] == ["meta refresh"]
        assert out.meta["redirect_urls"] == ["http://blog.test/p"]


def test_the_project_settings_install_the_refresh_middleware() -> None:
    from crawler import settings

    middlewares = settings.DOWNLOADER_MIDDLEWARES
    assert middlewares["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert middlewares["crawler.middlewares.MetaRefreshMiddleware"] == 580
