"""URL keys and domain matching (verifier.verdict.urls): tables, no network."""

from __future__ import annotations

import pytest

from verifier.verdict.urls import (
    compare_key,
    host_on_domain,
    identity_key,
    is_on_site,
    registered_domain,
    site_domain,
)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("acme.com", "acme.com"),
        ("www.acme.com", "acme.com"),
        ("a.b.c.acme.com", "acme.com"),
        ("acme.co.uk", "acme.co.uk"),
        ("blog.acme.co.uk", "acme.co.uk"),
        # blogspot.com is a private suffix: every blog is its own owner.
        ("me.blogspot.com", "me.blogspot.com"),
        ("www.me.blogspot.com", "me.blogspot.com"),
        ("blogspot.com", "blogspot.com"),
        # No public suffix: the host is its own domain.
        ("127.0.0.8", "127.0.0.8"),
        ("192.168.1.20", "192.168.1.20"),
        ("intranet", "intranet"),
        ("wiki.intranet", "wiki.intranet"),
        ("localhost", "localhost"),
        # IDN: the Unicode and the punycode spelling are the same owner.
        ("bücher.de", "xn--bcher-kva.de"),
        ("shop.bücher.de", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("BÜCHER.de", "xn--bcher-kva.de"),
        # Trailing dot and upper case are folded.
        ("acme.com.", "acme.com"),
        ("Blog.ACME.com.", "acme.com"),
        ("WWW.ACME.CO.UK", "acme.co.uk"),
    ],
)
def test_registered_domain(host: str, expected: str) -> None:
    assert registered_domain(host) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acme.com", "acme.com"),
        ("https://WWW.Acme.com/about", "acme.com"),
        ("shop.acme.com", "acme.com"),
        ("acme.com/path", "acme.com"),
        ("https://me.blogspot.com/", "me.blogspot.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("  Acme.COM.  ", "acme.com"),
    ],
)
def test_site_domain(value: str, expected: str) -> None:
    assert site_domain(value) == expected


@pytest.mark.parametrize(
    ("host", "domain", "expected"),
    [
        ("acme.com", "acme.com", True),
        ("blog.acme.com", "acme.com", True),
        ("a.b.acme.com", "acme.com", True),
        ("acme.com.evil.net", "acme.com", False),
        ("notacme.com", "acme.com", False),
        ("xacme.com", "acme.com", False),
        ("acme.co", "acme.com", False),
        ("com", "acme.com", False),
        ("", "acme.com", False),
        ("you.blogspot.com", "me.blogspot.com", False),
        ("www.me.blogspot.com", "me.blogspot.com", True),
        ("127.0.0.8", "127.0.0.8", True),
        ("127.0.0.80", "127.0.0.8", False),
        ("intranet", "intranet", True),
        ("xn--bcher-kva.de", "xn--bcher-kva.de", True),
    ],
)
def test_host_on_domain(host: str, domain: str, expected: bool) -> None:
    assert host_on_domain(host, domain) is expected


@pytest.mark.parametrize(
    ("url", "domain", "expected"),
    [
        ("https://acme.com/", "acme.com", True),
        ("http://acme.com", "acme.com", True),
        ("https://www.acme.com/pricing", "acme.com", True),
        ("https://blog.acme.com/x", "acme.com", True),
        ("HTTPS://ACME.COM/X", "acme.com", True),
        ("https://Blog.Acme.Com./x", "acme.com", True),
        ("https://acme.com:8443/x", "acme.com", True),
        ("https://user:pw@acme.com/", "acme.com", True),
        ("  https://acme.com/  ", "acme.com", True),
        # lookalikes
        ("https://acme.com.evil.net/", "acme.com", False),
        ("https://notacme.com/", "acme.com", False),
        ("https://acme.co/", "acme.com", False),
        ("https://acme.com@evil.net/", "acme.com", False),
        ("https://evil.net/acme.com", "acme.com", False),
        ("https://evil.net/?u=https://acme.com/", "acme.com", False),
        # not absolute http URLs
        ("/relative", "acme.com", False),
        ("", "acme.com", False),
        # private suffix
        ("https://me.blogspot.com/post", "me.blogspot.com", True),
        ("https://you.blogspot.com/post", "me.blogspot.com", False),
        ("https://blogspot.com/", "me.blogspot.com", False),
        # IP addresses and intranet names are their own domain
        ("http://127.0.0.8:8080/x", "127.0.0.8", True),
        ("http://127.0.0.9/x", "127.0.0.8", False),
        ("http://intranet/x", "intranet", True),
        ("http://wiki.intranet/x", "intranet", True),
        # IDN: the site's domain is the registered (punycode) domain
        ("https://bücher.de/x", registered_domain("bücher.de"), True),
        ("https://xn--bcher-kva.de/x", registered_domain("bücher.de"), True),
        ("https://shop.BÜCHER.de/x", registered_domain("bücher.de"), True),
        ("https://bucher.de/x", registered_domain("bücher.de"), False),
    ],
)
def test_is_on_site(url: str, domain: str, expected: bool) -> None:
    assert is_on_site(url, domain) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://acme.com/page", "https://acme.com/page"),
        ("  HTTPS://Acme.COM:443/Page?a=1#top ", "https://acme.com/Page?a=1"),
        ("http://acme.com:80", "http://acme.com/"),
        ("http://acme.com", "http://acme.com/"),
        ("https://acme.com:8443/", "https://acme.com:8443/"),
        ("https://acme.com.:443/x", "https://acme.com/x"),
        ("https://bücher.de/x", "https://xn--bcher-kva.de/x"),
        ("https://acme.com/x/?b=2&a=1", "https://acme.com/x/?b=2&a=1"),
    ],
)
def test_identity_key(url: str, expected: str) -> None:
    assert identity_key(url) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        # folded: host case, default port, fragment
        ("https://Acme.COM/page", "https://acme.com/page", True),
        ("https://acme.com:443/page", "https://acme.com/page", True),
        ("http://acme.com:80/page", "http://acme.com/page", True),
        ("https://acme.com/page#top", "https://acme.com/page", True),
        ("https://acme.com", "https://acme.com/", True),
        # kept apart: vendors list these as separate backlinks
        ("http://acme.com/page", "https://acme.com/page", False),
        ("https://www.acme.com/page", "https://acme.com/page", False),
        ("https://acme.com/page/", "https://acme.com/page", False),
        ("https://acme.com/Page", "https://acme.com/page", False),
        ("https://acme.com/page?a=1", "https://acme.com/page", False),
        ("https://acme.com:8443/page", "https://acme.com/page", False),
    ],
)
def test_identity_key_pairs(a: str, b: str, same: bool) -> None:
    assert (identity_key(a) == identity_key(b)) is same


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://acme.com/pricing", "https://acme.com/pricing", True),
        ("https://www.acme.com/pricing", "https://acme.com/pricing", True),
        ("https://WWW.ACME.COM/pricing", "https://acme.com/pricing", True),
        ("https://acme.com:443/pricing", "https://acme.com/pricing", True),
        ("http://acme.com:80/pricing", "https://acme.com/pricing", True),
        ("https://acme.com/pricing/", "https://acme.com/pricing", True),
        ("https://acme.com/", "https://acme.com", True),
        ("https://acme.com/pricing#plans", "https://acme.com/pricing", True),
        ("https://acme.com/pricing?utm_source=x", "https://acme.com/pricing", True),
        ("https://acme.com/pricing?UTM_Medium=y&utm_campaign=z", "https://acme.com/pricing", True),
        ("https://acme.com/pricing?utm_source=x&b=2", "https://acme.com/pricing?b=2", True),
        ("https://acme.com/pricing?gclid=1&fbclid=2", "https://acme.com/pricing", True),
        ("https://acme.com/?msclkid=1", "https://acme.com/", True),
        (
            "https://www.Acme.com:443/pricing/?utm_source=x&b=2#f",
            "http://acme.com/pricing?b=2",
            True,
        ),
        # a different page stays different
        ("https://acme.com/pricing", "https://acme.com/about", False),
        ("https://acme.com/pricing", "https://acme.com/Pricing", False),
        ("https://acme.com/pricing", "https://acme.com/pricing/annual", False),
        ("https://acme.com/p?id=1", "https://acme.com/p?id=2", False),
        ("https://acme.com/p?id=1", "https://acme.com/p", False),
        ("https://acme.com/p?ref=partner", "https://acme.com/p", False),
        ("https://acme.com:8080/p", "https://acme.com/p", False),
        ("https://blog.acme.com/p", "https://acme.com/p", False),
        ("https://www2.acme.com/p", "https://acme.com/p", False),
        ("https://acme.co.uk/p", "https://acme.com/p", False),
    ],
)
def test_compare_key_pairs(a: str, b: str, same: bool) -> None:
    assert (compare_key(a) == compare_key(b)) is same


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.Acme.com:443/pricing/?utm_source=x&b=2#f", "acme.com/pricing?b=2"),
        ("http://acme.com", "acme.com"),
        ("https://acme.com/a/b/", "acme.com/a/b"),
    ],
)
def test_compare_key_values(url: str, expected: str) -> None:
    assert compare_key(url) == expected


# --- internationalised host names as browsers encode them (issue 14) ---------------
# UTS #46 non-transitional, as Chromium and Firefox: `ß` and `ς` are kept; Python's
# `idna` codec (IDNA 2003) maps them to `ss` and `σ`, which is another host.


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("faß.de", "xn--fa-hia.de", id="eszett-kept"),
        pytest.param("FAẞ.de", "xn--fa-hia.de", id="capital-eszett"),
        pytest.param("βόλος.gr", "xn--nxasmm1c.gr", id="final-sigma-kept"),
        pytest.param("Bücher.DE.", "xn--bcher-kva.de", id="umlaut-dot"),
        pytest.param("ＡＣＭＥ．com", "acme.com", id="full-width"),
        pytest.param("acme。com", "acme.com", id="ideographic-dot"),
        pytest.param("I♥NY.example", "xn--iny-zx5a.example", id="symbol-uts46-allows"),
        pytest.param("xn--fa-hia.de", "xn--fa-hia.de", id="already-ascii"),
        # Near misses: the old codec's answers are other hosts.
        pytest.param("fass.de", "fass.de", id="near-miss-ss"),
    ],
)
def test_hosts_are_encoded_as_browsers_encode_them(host: str, expected: str) -> None:
    from verifier.verdict.urls import normalize_host

    assert normalize_host(host) == expected


def test_the_old_codec_disagrees() -> None:
    assert "faß.de".encode("idna") == b"fass.de"  # why the idna package is used


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://faß.example/p", "http://xn--fa-hia.example/p", True),
        ("http://FAß.example:80/p#x", "http://xn--fa-hia.example/p", True),
        ("http://faß.example/p", "http://fass.example/p", False),
        ("http://βόλος.gr/", "http://βόλοσ.gr/", False),
    ],
)
def test_identity_keys_of_idn_hosts(a: str, b: str, same: bool) -> None:
    from verifier.verdict.urls import compare_key

    assert (identity_key(a) == identity_key(b)) is same
    assert (compare_key(a) == compare_key(b)) is same


@pytest.mark.parametrize(
    ("href", "site", "matches"),
    [
        ("https://faß.example/x", "xn--fa-hia.example", True),
        ("https://shop.faß.example/x", "xn--fa-hia.example", True),
        ("https://xn--fa-hia.example/x", "xn--fa-hia.example", True),
        ("https://fass.example/x", "xn--fa-hia.example", False),
        ("https://faß.example/x", "fass.example", False),
    ],
)
def test_links_to_an_idn_site(href: str, site: str, matches: bool) -> None:
    from verifier.models import Fetch
    from verifier.verdict.page import links_to, parse

    url = "https://blog.test/p"
    body = f'<a href="{href}">x</a>'.encode()
    for sites in (None, {site}):  # with and without the byte-level absence proof
        page = parse(Fetch(url, url, 200, body, "text/html"), sites)
        assert bool(links_to(page, site)) is matches


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://faß.example/p", "http://xn--fa-hia.example/p"),
        ("https://u:p@Faß.example:8443/ü?q=ß#f", "https://u:p@xn--fa-hia.example:8443/ü?q=ß#f"),
        ("http://faß.example./", "http://xn--fa-hia.example./"),
        ("http://acme.com/ß", "http://acme.com/ß"),  # ASCII host: left to Scrapy
        ("http://[::1]/ß", "http://[::1]/ß"),
        ("http://[bad/ß", "http://[bad/ß"),  # unparseable: left to Scrapy's refusal
    ],
)
def test_browser_url(url: str, expected: str) -> None:
    from verifier.verdict.urls import browser_url

    assert browser_url(url) == expected


def test_scrapy_fetches_the_browser_host() -> None:
    from scrapy import Request

    from verifier.verdict.urls import browser_url

    assert Request("http://faß.example/p").url == "http://fass.example/p"  # IDNA 2003
    assert Request(browser_url("http://faß.example/p")).url == "http://xn--fa-hia.example/p"


# --- URLs as browsers read them: the WHATWG URL standard, via ada-url (issue 14) -----


@pytest.mark.parametrize(
    ("href", "base", "expected"),
    [
        ("https:acme.com/x", "http://b.test/p", "https://acme.com/x"),
        ("https:acme.com/x", "https://b.test/d/p", "https://b.test/d/acme.com/x"),  # a path
        ("https:\\\\acme.com\\x", "https://b.test/p", "https://acme.com/x"),
        ("https://evil.test\\@acme.com/", "http://b.test/", "https://evil.test/@acme.com/"),
        ("https://evil.test@acme.com/", "http://b.test/", "https://evil.test@acme.com/"),
        ("ht\ttp://ac\nme.com/a\rb", "http://b.test/", "http://acme.com/ab"),
        ("  /with space ", "http://b.test/d/p", "http://b.test/with%20space"),
        ("x|y^z", "http://b.test/d/p", "http://b.test/d/x|y%5Ez"),
        ("https://Faß.example/", "http://b.test/", "https://xn--fa-hia.example/"),
        ("https://%61cme.com/", "http://b.test/", "https://acme.com/"),
        ("javascript:void(0)", "http://b.test/", "javascript:void(0)"),
        # Browsers refuse these too.
        ("http://[bad/", "http://b.test/", None),
        ("http://acme.com:65536/", "http://b.test/", None),
        ("http://ac me.com/", "http://b.test/", None),
        ("http://", "http://b.test/", None),
    ],
)
def test_resolve(href: str, base: str, expected: str | None) -> None:
    from verifier.verdict.urls import resolve

    assert resolve(href, base) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://b.test/with space", "http://b.test/with%20space"),
        ("http://B.test/ü?q=ü#ü", "http://b.test/%C3%BC?q=%C3%BC#%C3%BC"),
        ("http://b.test/a|b^c", "http://b.test/a|b%5Ec"),
        ("http://b.test:80/", "http://b.test/"),
        ("http://b.test:65535/", "http://b.test:65535/"),
        ("http://b.test:65536/", None),
        ("http://b te.st/", None),
        ("/relative", None),
    ],
)
def test_browser_href(url: str, expected: str | None) -> None:
    from verifier.verdict.urls import browser_href

    assert browser_href(url) == expected
