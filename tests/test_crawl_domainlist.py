"""Reading the domain list of `backcheck crawl` (verifier.crawl.domainlist): tables, no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifier.crawl.domainlist import (
    BadLine,
    DomainEntry,
    DomainListError,
    read_domain_file,
    read_domain_list,
    set_aside,
)
from verifier.crawl.frontier import TrapLimits


def _one(line: str) -> DomainEntry:
    entries, bad = read_domain_list([line])
    assert bad == []
    assert len(entries) == 1
    return entries[0]


@pytest.mark.parametrize(
    ("line", "domain", "start_urls"),
    [
        ("acme.com", "acme.com", ("https://acme.com/", "http://acme.com/")),
        ("ACME.Com.", "acme.com", ("https://acme.com/", "http://acme.com/")),
        ("  acme.com  ", "acme.com", ("https://acme.com/", "http://acme.com/")),
        ("acme.com\r\n", "acme.com", ("https://acme.com/", "http://acme.com/")),
        # A host starts there; the scope is its registered domain.
        ("blog.acme.co.uk", "acme.co.uk", ("https://blog.acme.co.uk/", "http://blog.acme.co.uk/")),
        ("www.acme.com", "acme.com", ("https://www.acme.com/", "http://www.acme.com/")),
        # A private suffix: each blog is its own owner.
        (
            "me.blogspot.com",
            "me.blogspot.com",
            ("https://me.blogspot.com/", "http://me.blogspot.com/"),
        ),
        # A bare host may carry a port and a path.
        ("acme.com:8080", "acme.com", ("https://acme.com:8080/", "http://acme.com:8080/")),
        (
            "acme.com/blog?p=1",
            "acme.com",
            ("https://acme.com/blog?p=1", "http://acme.com/blog?p=1"),
        ),
        # A URL line starts where it says: fragment and session ids dropped.
        ("https://acme.com/blog", "acme.com", ("https://acme.com/blog",)),
        ("http://shop.acme.com/", "acme.com", ("http://shop.acme.com/",)),
        ("HTTPS://acme.com/x#top", "acme.com", ("https://acme.com/x",)),
        ("https://acme.com/x;jsessionid=1?sid=2", "acme.com", ("https://acme.com/x",)),
        ("https://acme.com/a#b # note", "acme.com", ("https://acme.com/a",)),
        ("https://user:pw@acme.org/", "acme.org", ("https://user:pw@acme.org/",)),
        # IDN: IDNA 2008 with UTS #46 (faß.de is not fass.de; full-width folds).
        (
            "bücher.de",
            "xn--bcher-kva.de",
            ("https://xn--bcher-kva.de/", "http://xn--bcher-kva.de/"),
        ),
        (
            "BÜCHER.de",
            "xn--bcher-kva.de",
            ("https://xn--bcher-kva.de/", "http://xn--bcher-kva.de/"),
        ),
        (
            "xn--bcher-kva.de",
            "xn--bcher-kva.de",
            ("https://xn--bcher-kva.de/", "http://xn--bcher-kva.de/"),
        ),
        ("faß.de", "xn--fa-hia.de", ("https://xn--fa-hia.de/", "http://xn--fa-hia.de/")),
        ("ＡＣＭＥ.com", "acme.com", ("https://acme.com/", "http://acme.com/")),
        ("https://bücher.de/ü", "xn--bcher-kva.de", ("https://xn--bcher-kva.de/ü",)),
        # Underscores occur in real host names.
        ("my_blog.acme.com", "acme.com", ("https://my_blog.acme.com/", "http://my_blog.acme.com/")),
        # No known suffix: the host is its own scope (test and intranet names).
        ("acme.test", "acme.test", ("https://acme.test/", "http://acme.test/")),
        ("wiki.intranet", "wiki.intranet", ("https://wiki.intranet/", "http://wiki.intranet/")),
        # Addresses and localhost are accepted.
        ("127.0.0.5", "127.0.0.5", ("https://127.0.0.5/", "http://127.0.0.5/")),
        ("127.0.0.1:8080", "127.0.0.1", ("https://127.0.0.1:8080/", "http://127.0.0.1:8080/")),
        ("[::1]:8080", "::1", ("https://[::1]:8080/", "http://[::1]:8080/")),
        ("http://[::1]/x", "::1", ("http://[::1]/x",)),
        ("localhost", "localhost", ("https://localhost/", "http://localhost/")),
        (
            "a" * 63 + ".com",
            "a" * 63 + ".com",
            (f"https://{'a' * 63}.com/", f"http://{'a' * 63}.com/"),
        ),
    ],
)
def test_good_lines(line: str, domain: str, start_urls: tuple[str, ...]) -> None:
    entry = _one(line)
    assert (entry.line, entry.domain, entry.start_urls) == (1, domain, start_urls)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("acme .com", "contains spaces"),
        ("acme.com\tnote", "contains spaces"),
        ("me@acme.com", "an email address, not a domain"),
        ("mailto:me@acme.com", "an email address, not a domain"),
        ("ftp://acme.com/", "not an http(s) URL"),
        ("file:///etc/hosts", "not an http(s) URL"),
        ("javascript:void(0)", "not an http(s) URL"),
        ("http:acme.com", "not an http(s) URL"),
        ("http://", "no host"),
        ("https:///path", "no host"),
        ("acme.com:99999", "malformed URL or port"),
        ("https://acme.com:port/", "malformed URL or port"),
        ("https://[::1/", "malformed URL or port"),
        ("-bad-.com", "invalid host name"),
        ("bad-.com", "invalid host name"),
        ("-bad.com", "invalid host name"),
        ("a..com", "invalid host name"),
        (".acme.com", "invalid host name"),
        ("acme!.com", "invalid host name"),
        ("a" * 64 + ".com", "invalid host name"),
        (".".join(["a" * 60] * 5) + ".com", "invalid host name"),  # over 253
        ("1.2.3", "invalid host name"),
        ("999.1.1.1", "invalid host name"),
        ("xn--zz.com", "invalid host name"),
        ("i♥ny.com", "invalid host name"),
        ("com", "a public suffix, not a domain"),
        ("COM.", "a public suffix, not a domain"),
        ("co.uk", "a public suffix, not a domain"),
        ("github.io", "a public suffix, not a domain"),
        ("https://co.uk/", "a public suffix, not a domain"),
        ("intranet", "no dot: not a domain"),
        ("https://" + "acme.com/" + "x" * 2080, "longer than 2083 characters"),
    ],
)
def test_bad_lines(line: str, reason: str) -> None:
    entries, bad = read_domain_list(["acme.net", line])
    assert [entry.domain for entry in entries] == ["acme.net"]
    assert bad == [BadLine(2, reason, line.strip())]


def test_url_length_limit_is_the_crawls() -> None:
    limits = TrapLimits(max_url_length=20)
    entries, bad = read_domain_list(["acme.com", "acme.com/long/enough"], limits=limits)
    assert [entry.start_urls for entry in entries] == [("https://acme.com/", "http://acme.com/")]
    assert bad == [BadLine(2, "longer than 20 characters", "acme.com/long/enough")]


def test_comments_blanks_and_line_numbers() -> None:
    lines = [
        "\ufeff# my list",
        "",
        "   ",
        "acme.com   # our main site",
        "#acme.org",
        "  # indented comment",
        "ftp://nope.com",
        "https://acme.org/x#frag",
    ]
    entries, bad = read_domain_list(lines)
    assert [(e.line, e.domain, e.start_urls) for e in entries] == [
        (4, "acme.com", ("https://acme.com/", "http://acme.com/")),
        (8, "acme.org", ("https://acme.org/x",)),
    ]
    assert bad == [BadLine(7, "not an http(s) URL", "ftp://nope.com")]


def test_duplicates_merge_into_the_first_line() -> None:
    lines = [
        "acme.com",
        "ACME.com",  # same scope, same start: nothing added
        "https://acme.com/",  # already a start URL (by crawl key)
        "https://www.acme.com/blog",  # same scope: one more start URL
        "shop.acme.com",
        "other.net",
        "https://acme.com/blog#x",
        "https://acme.com/blog",
    ]
    entries, bad = read_domain_list(lines)
    assert bad == []
    assert entries == [
        DomainEntry(
            1,
            "acme.com",
            (
                "https://acme.com/",
                "http://acme.com/",
                "https://www.acme.com/blog",
                "https://shop.acme.com/",
                "http://shop.acme.com/",
                "https://acme.com/blog",
            ),
        ),
        DomainEntry(6, "other.net", ("https://other.net/", "http://other.net/")),
    ]


def test_two_urls_on_one_domain_make_one_entry() -> None:
    entries, _ = read_domain_list(["https://acme.com/a", "http://blog.acme.com/b"])
    assert entries == [DomainEntry(1, "acme.com", ("https://acme.com/a", "http://blog.acme.com/b"))]


@pytest.mark.parametrize(
    ("start_urls", "attempts"),
    [
        (("https://acme.com/", "http://acme.com/"), (("https://acme.com/", "http://acme.com/"),)),
        (("https://acme.com/a",), (("https://acme.com/a", None),)),
        (("http://acme.com/a",), (("http://acme.com/a", None),)),
        (
            ("https://acme.com/", "http://acme.com/", "https://acme.com/b"),
            (("https://acme.com/", "http://acme.com/"), ("https://acme.com/b", None)),
        ),
        # An http URL written first still waits for its https twin.
        (
            ("http://acme.com/a", "https://acme.com/a"),
            (("https://acme.com/a", "http://acme.com/a"),),
        ),
        # Near miss: not the same page, so no fallback.
        (
            ("https://acme.com/a", "http://acme.com/b"),
            (("https://acme.com/a", None), ("http://acme.com/b", None)),
        ),
    ],
)
def test_attempts(
    start_urls: tuple[str, ...], attempts: tuple[tuple[str, str | None], ...]
) -> None:
    assert DomainEntry(1, "acme.com", start_urls).attempts == attempts


def test_bad_line_describe() -> None:
    assert BadLine(7, "not an http(s) URL", "ftp://x.com").describe("list.txt") == (
        "list.txt:7: not an http(s) URL: ftp://x.com"
    )
    assert BadLine(3, "odd").describe(Path("d/list.txt")) == "d/list.txt:3: odd"


# --- files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"# list\nacme.com\n\nbad domain\nhttps://acme.org/\n",
        b"# list\r\nacme.com\r\n\r\nbad domain\r\nhttps://acme.org/\r\n",
        b"\xef\xbb\xbf# list\nacme.com\n\nbad domain\nhttps://acme.org/",
        b"\xef\xbb\xbf# list\r\nacme.com\r\n\r\nbad domain\r\nhttps://acme.org/\r\n",
        b"# list\racme.com\r\rbad domain\rhttps://acme.org/\r",
    ],
    ids=["lf", "crlf", "bom-no-final-newline", "bom-crlf", "cr"],
)
def test_read_domain_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "domains.txt"
    path.write_bytes(data)
    entries, bad = read_domain_file(path)
    assert [(e.line, e.domain) for e in entries] == [(2, "acme.com"), (5, "acme.org")]
    assert bad == [BadLine(4, "contains spaces", "bad domain")]


def test_read_domain_file_line_numbers_ignore_other_unicode_breaks(tmp_path: Path) -> None:
    # str.splitlines would split on U+2028 and shift every later line number.
    path = tmp_path / "domains.txt"
    path.write_text("acme.com\u2028x\nacme.org\n", encoding="utf-8")
    entries, bad = read_domain_file(str(path))
    assert [(e.line, e.domain) for e in entries] == [(2, "acme.org")]
    assert [b.line for b in bad] == [1]


def test_missing_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.txt"
    with pytest.raises(DomainListError, match=r"nope\.txt: cannot read the domain list"):
        read_domain_file(path)


def test_directory_names_it(tmp_path: Path) -> None:
    with pytest.raises(DomainListError, match="cannot read the domain list"):
        read_domain_file(tmp_path)


def test_non_utf8_file_names_it_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"acme.com\nb\xfccher.de\n")
    with pytest.raises(DomainListError, match=r"latin1\.txt:2: not UTF-8 text"):
        read_domain_file(path)


def test_the_site_and_its_competitors_are_set_aside_saying_why() -> None:
    entries, _ = read_domain_list(
        ["blog.org", "news.widgetco.com", "https://www.acme.com/", "widgetco.com.evil.org"]
    )
    kept, bad = set_aside(entries, "acme.com", ("widgetco.com",))
    assert [entry.domain for entry in kept] == ["blog.org", "evil.org"]
    assert [(line.line, line.reason, line.text) for line in bad] == [
        (
            2,
            "a competitor of acme.com (init --competitor): its pages are never fetched",
            "widgetco.com",
        ),
        (3, "the site itself: its pages are never its backlinks or mentions", "acme.com"),
    ]
    assert set_aside([], "acme.com", ()) == ([], [])
