"""Robots directives (meta, X-Robots-Tag) and canonical Link headers: tables."""

from __future__ import annotations

import pytest

from verifier.verdict.directives import (
    Directives,
    header_canonicals,
    header_directives,
    meta_directives,
)

NONE = Directives(noindex=False, nofollow=False)
NOINDEX = Directives(noindex=True, nofollow=False)
NOFOLLOW = Directives(noindex=False, nofollow=True)
BOTH = Directives(noindex=True, nofollow=True)


@pytest.mark.parametrize(
    ("contents", "expected"),
    [
        ([], NONE),
        ([""], NONE),
        (["index, follow"], NONE),
        (["all"], NONE),
        (["noarchive, nosnippet"], NONE),
        (["noindex"], NOINDEX),
        (["NoIndex, follow"], NOINDEX),
        (["NOINDEX"], NOINDEX),
        (["nofollow"], NOFOLLOW),
        (["NOFOLLOW,NOARCHIVE"], NOFOLLOW),
        (["noindex, nofollow"], BOTH),
        (["noindex,nofollow"], BOTH),
        (["noindex nofollow"], BOTH),  # spaces tolerated, as Google does
        (["  noindex ,\tnofollow  "], BOTH),
        (["none"], BOTH),
        (["NONE"], BOTH),
        # robots and googlebot metas add up; the most restrictive wins
        (["index", "nofollow"], NOFOLLOW),
        (["noindex", "follow"], NOINDEX),
        (["noindex", "nofollow"], BOTH),
        (["max-snippet:-1, nofollow"], NOFOLLOW),
        (["nofollowing"], NONE),
    ],
)
def test_meta_directives(contents: list[str], expected: Directives) -> None:
    assert meta_directives(contents) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], NONE),
        ([""], NONE),
        (["all"], NONE),
        (["noarchive"], NONE),
        (["noindex"], NOINDEX),
        (["NOINDEX"], NOINDEX),
        (["nofollow"], NOFOLLOW),
        (["NoFollow"], NOFOLLOW),
        (["noindex, nofollow"], BOTH),
        (["none"], BOTH),
        (["None"], BOTH),
        ([" , noindex ,"], NOINDEX),
        # googlebot: prefix applies
        (["googlebot: noindex"], NOINDEX),
        (["GoogleBot:nofollow"], NOFOLLOW),
        (["googlebot: none"], BOTH),
        (["googlebot: noindex, nofollow"], BOTH),
        # spaces separate directives, as in meta content
        (["noindex nofollow"], BOTH),
        (["googlebot: noindex nofollow"], BOTH),
        (["otherbot: noindex nofollow"], NONE),
        (["noarchive nofollow, otherbot: noindex"], NOFOLLOW),
        # another bot's directives do not apply
        (["otherbot: noindex"], NONE),
        (["bingbot: none"], NONE),
        (["googlebot-news: noindex"], NONE),
        (["otherbot: noindex, nofollow"], NONE),
        # a prefix scopes the rest of its value only
        (["noindex, otherbot: nofollow"], NOINDEX),
        (["otherbot: nofollow, noindex"], NONE),
        (["otherbot: noindex", "nofollow"], NOFOLLOW),
        (["googlebot: nofollow", "otherbot: noindex"], NOFOLLOW),
        (["otherbot: noindex, googlebot: nofollow"], NOFOLLOW),
        # several header values add up
        (["noarchive", "nofollow"], NOFOLLOW),
        (["noindex", "nofollow"], BOTH),
        # valued directives are not bot names
        (["unavailable_after: 25 Jun 2010 15:00:00 PST"], NONE),
        (["unavailable_after: 2010-06-25T15:00:00+00:00, noindex"], NOINDEX),
        (["max-snippet: 20, nofollow"], NOFOLLOW),
        (["max-image-preview: large, noindex"], NOINDEX),
        (["googlebot: unavailable_after: 25 Jun 2010 15:00:00 PST, nofollow"], NOFOLLOW),
    ],
)
def test_header_directives(values: list[str], expected: Directives) -> None:
    assert header_directives(values) == expected


# Regression: an RFC 822/850 date holds a comma; its second half is no bot prefix.
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["unavailable_after: Sun, 06 Nov 1994 08:49:37 GMT, nofollow"], NOFOLLOW),
        (["unavailable_after: Sunday, 06-Nov-94 08:49:37 GMT, noindex"], NOINDEX),
    ],
)
def test_header_directives_after_a_date_with_a_comma(
    values: list[str], expected: Directives
) -> None:
    assert header_directives(values) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], []),
        (['<https://acme.com/a>; rel="canonical"'], ["https://acme.com/a"]),
        (["<https://acme.com/a>; rel=canonical"], ["https://acme.com/a"]),
        (["<https://acme.com/a>; rel='canonical'"], ["https://acme.com/a"]),
        (['<https://acme.com/a>;rel="canonical"'], ["https://acme.com/a"]),
        (['<https://acme.com/a>; rel="Canonical"'], ["https://acme.com/a"]),
        (['<https://acme.com/a>; type="text/html"; rel="canonical"'], ["https://acme.com/a"]),
        (['<https://acme.com/a>; rel="alternate canonical"'], ["https://acme.com/a"]),
        (
            ['<https://x.com/>; rel="next", <https://acme.com/b>; rel="canonical"'],
            ["https://acme.com/b"],
        ),
        (['<https://acme.com/a,b>; rel="canonical"'], ["https://acme.com/a,b"]),
        (
            ['<https://acme.com/1>; rel="canonical"', '<https://acme.com/2>; rel="canonical"'],
            ["https://acme.com/1", "https://acme.com/2"],
        ),
        (['<https://acme.com/a>; rel="next"'], []),
        (['<https://acme.com/a>; rel="noncanonical"'], []),
        (['<https://acme.com/a.pdf>; rel="preload"; as="style"'], []),
    ],
)
def test_header_canonicals(values: list[str], expected: list[str]) -> None:
    assert header_canonicals(values) == expected


@pytest.mark.parametrize(
    ("value", "base_url", "expected"),
    [
        ('</b>; rel="canonical"', "https://acme.com/a/", ["https://acme.com/b"]),
        ('<b>; rel="canonical"', "https://acme.com/a/", ["https://acme.com/a/b"]),
        ('<//cdn.acme.com/x>; rel="canonical"', "https://acme.com/", ["https://cdn.acme.com/x"]),
        ('<https://other.test/x>; rel="canonical"', "https://acme.com/a", ["https://other.test/x"]),
    ],
)
def test_header_canonicals_resolve_against_the_page(
    value: str, base_url: str, expected: list[str]
) -> None:
    assert header_canonicals([value], base_url) == expected
