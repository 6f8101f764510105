"""Crawl keys, URL-trap guards and the per-domain frontier (verifier.crawl.frontier): no network."""

from __future__ import annotations

import random

import pytest

from verifier.crawl.frontier import (
    SESSION_PARAMS,
    DomainFrontier,
    Refusal,
    Stop,
    TrapLimits,
    clean_url,
    crawl_key,
    idna_host,
    sitemap_start_urls,
    sitemap_url_allowed,
    stop_reason,
    trap_reason,
)

# --- clean_url: what is fetched ------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://acme.com/a#top", "https://acme.com/a"),
        ("https://acme.com/a#", "https://acme.com/a"),
        # Everything else stays as written: host case, query order, default port.
        ("HTTPS://Acme.COM:443/A?b=2&a=1", "https://Acme.COM:443/A?b=2&a=1"),
        ("  https://acme.com/x  ", "https://acme.com/x"),
        # Session ids go, from the query and from path parameters.
        ("https://acme.com/?PHPSESSID=abc", "https://acme.com/"),
        ("https://acme.com/p?a=1&sid=9&b=2", "https://acme.com/p?a=1&b=2"),
        ("https://acme.com/p;jsessionid=A1B2", "https://acme.com/p"),
        ("https://acme.com/p;JSESSIONID=A1B2?q=1#f", "https://acme.com/p?q=1"),
        ("https://acme.com/a;jsessionid=1;v=2/b", "https://acme.com/a;v=2/b"),
        ("https://acme.com/a;v=2/b", "https://acme.com/a;v=2/b"),
        # A Unicode host is IDNA 2008-encoded (Scrapy would make faß.de fass.de).
        ("http://faß.de/x", "http://xn--fa-hia.de/x"),
        ("https://user@Bücher.de:8443/", "https://user@xn--bcher-kva.de:8443/"),
    ],
)
def test_clean_url(url: str, expected: str) -> None:
    assert clean_url(url) == expected


@pytest.mark.parametrize(
    "name",
    [
        "PHPSESSID",
        "phpsessid",
        "PhpSessId",
        "jsessionid",
        "JSESSIONID",
        "sid",
        "SID",
        "sessionid",
        "SessionID",
        "session_id",
        "sessid",
        "sess_id",
        "ASPSESSIONIDQATSDCRB",
        "aspsessionid",
        "CFID",
        "cftoken",
        "osCsid",
        "zenid",
        "xtcsid",
        "%73id",  # an escaped "sid" is still "sid"
    ],
)
def test_session_parameters_are_removed_whatever_their_case(name: str) -> None:
    assert clean_url(f"https://acme.com/p?a=1&{name}=XyZ&b=2") == "https://acme.com/p?a=1&b=2"
    assert clean_url(f"https://acme.com/p;{name}=XyZ?a=1") == "https://acme.com/p?a=1"


@pytest.mark.parametrize(
    "name", ["sidebar", "side", "s", "session", "id", "sids", "xsid", "asp", "cfid2", "page"]
)
def test_near_miss_parameters_are_kept(name: str) -> None:
    url = f"https://acme.com/p?{name}=1"
    assert clean_url(url) == url
    assert clean_url(f"https://acme.com/p;{name}=1") == f"https://acme.com/p;{name}=1"


def test_session_params_are_documented_lower_case() -> None:
    assert all(name == name.lower() for name in SESSION_PARAMS)
    assert {"phpsessid", "jsessionid", "sid", "sessionid"} <= SESSION_PARAMS


def test_session_params_are_a_setting() -> None:
    limits = TrapLimits(session_params=frozenset({"token", "tmp_*"}))
    assert clean_url("https://acme.com/?sid=1&token=2&TMP_x=3", limits) == "https://acme.com/?sid=1"


# --- crawl_key: what is fetched once ---------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://acme.com/a#one", "https://acme.com/a#two"),
        ("https://ACME.com/a", "https://acme.com/a"),
        ("https://acme.com/a?b=2&a=1", "https://acme.com/a?a=1&b=2"),
        ("https://acme.com/a?a=1&PHPSESSID=x", "https://acme.com/a?a=1"),
        ("https://acme.com/a;jsessionid=Q?a=1", "https://acme.com/a?a=1"),
        ("https://acme.com:443/a", "https://acme.com/a"),
        ("http://acme.com:80/a", "http://acme.com/a"),
        ("https://acme.com", "https://acme.com/"),
        ("https://acme.com./a", "https://acme.com/a"),
        ("https://acme.com/x/../a", "https://acme.com/a"),
        ("https://acme.com/%7Ea", "https://acme.com/~a"),
        ("https://acme.com/a?q", "https://acme.com/a?q="),
        ("http://bücher.de/", "http://xn--bcher-kva.de/"),
        ("HTTPS://acme.com/a", "https://acme.com/a"),
    ],
)
def test_crawl_key_folds(a: str, b: str) -> None:
    assert crawl_key(a) == crawl_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Near misses: these are different fetches.
        ("https://acme.com/a", "http://acme.com/a"),
        ("https://acme.com/a", "https://www.acme.com/a"),
        ("https://acme.com/a", "https://acme.com/a/"),
        ("https://acme.com/a", "https://acme.com/A"),
        ("https://acme.com:8443/a", "https://acme.com/a"),
        ("http://acme.com:443/a", "http://acme.com/a"),
        ("https://acme.com/a?a=1", "https://acme.com/a?a=2"),
        ("https://acme.com/a?sidebar=1", "https://acme.com/a"),
        ("https://acme.com/a?b=1&a=2", "https://acme.com/a?b=2&a=1"),
    ],
)
def test_crawl_key_keeps_apart(a: str, b: str) -> None:
    assert crawl_key(a) != crawl_key(b)


@pytest.mark.parametrize(
    "url",
    [
        "HTTP://Acme.COM:80/a/../b?z=1&a=2&sid=9#f",
        "https://acme.com/p;jsessionid=1;v=2/x?PHPSESSID=3",
        "https://faß.de/ü?x=ü",
        "https://acme.com",
    ],
)
def test_clean_and_key_are_idempotent(url: str) -> None:
    clean = clean_url(url)
    assert clean_url(clean) == clean
    assert crawl_key(clean) == crawl_key(url)
    assert crawl_key(crawl_key(url)) == crawl_key(url)


def test_crawl_key_of_a_malformed_url_raises() -> None:
    with pytest.raises(ValueError):
        crawl_key("https://acme.com:99999/")


def test_idna_host() -> None:
    assert idna_host("Bücher.DE.") == "xn--bcher-kva.de"
    assert idna_host("faß.de") == "xn--fa-hia.de"  # IDNA 2008, not fass.de
    assert idna_host("ACME.com") == "acme.com"
    with pytest.raises(ValueError):
        idna_host("i♥ny.com")


# --- trap_reason: judged on the URL alone -----------------------------------------

BASE = "https://acme.com/"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (BASE + "x" * (2083 - len(BASE)), None),
        (BASE + "x" * (2084 - len(BASE)), "url_too_long"),
        (BASE + "a/b/a/b", None),  # twice is fine
        (BASE + "a/b/a/b/a", "repeated_segment"),  # three times is a trap
        (BASE + "a/a/a", "repeated_segment"),
        (BASE + "a/x/a/y/a/", "repeated_segment"),  # not only next to each other
        (BASE + "a/A/a", None),  # paths are case-sensitive
        (BASE + "a//a///", None),  # empty segments are not segments
        (BASE + "a/%61/a", "repeated_segment"),  # %61 is "a"
        (BASE + "a;v=1/a;v=2/a", "repeated_segment"),  # path parameters do not count
        (BASE + "2024/01/01/post", None),
        (BASE + "?a/a/a", None),  # the query is not the path
        ("https://[broken/", None),  # malformed: for the caller to say
    ],
)
def test_trap_reason(url: str, expected: str | None) -> None:
    assert trap_reason(url) == expected


def test_trap_limits_are_settings() -> None:
    limits = TrapLimits(max_url_length=30, max_segment_repeats=1)
    assert trap_reason("https://acme.com/a/b", limits) is None
    assert trap_reason("https://acme.com/a/a", limits) == "repeated_segment"
    assert trap_reason("https://acme.com/" + "x" * 14, limits) == "url_too_long"
    assert TrapLimits().max_url_length == 2083
    assert TrapLimits().max_segment_repeats == 2
    assert TrapLimits().max_query_variants == 30


# --- DomainFrontier.add ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://acme.com/a", None),
        ("http://acme.com/a", None),  # http and https both in scope
        ("https://www.acme.com/a", None),
        ("https://deep.shop.acme.com/a", None),
        ("https://ACME.COM/b", None),
        ("https://acme.com:8443/c", None),
        ("https://acme.com./d", None),
        ("https://acme.org/a", "offsite"),
        ("https://notacme.com/a", "offsite"),
        ("https://acme.com.evil.net/a", "offsite"),
        ("https://com/a", "offsite"),
        ("mailto:me@acme.com", "not_http"),
        ("ftp://acme.com/a", "not_http"),
        ("javascript:void(0)", "not_http"),
        ("/relative/path", "not_http"),
        ("https:///no-host", "not_http"),
        ("https://acme.com:99999/", "not_http"),
        ("https://[::1/", "not_http"),
        ("https://acme.com/" + "x" * 2100, "url_too_long"),
        ("https://acme.com/a/a/a", "repeated_segment"),
    ],
)
def test_add_refusals(url: str, expected: str | None) -> None:
    frontier = DomainFrontier("acme.com")
    assert frontier.add(url, 1) == expected


def test_scope_is_the_registered_domain() -> None:
    # A host widens to its registered domain; a private suffix is its own owner.
    assert DomainFrontier("blog.acme.co.uk").domain == "acme.co.uk"
    frontier = DomainFrontier("me.blogspot.com")
    assert frontier.add("https://me.blogspot.com/", 0) is None
    assert frontier.add("https://you.blogspot.com/", 0) == "offsite"
    assert frontier.add("https://blogspot.com/", 0) == "offsite"


def test_idn_scope_accepts_both_spellings() -> None:
    frontier = DomainFrontier("bücher.de")
    assert frontier.domain == "xn--bcher-kva.de"
    assert frontier.add("https://shop.bücher.de/a", 0) is None
    assert frontier.add("https://shop.xn--bcher-kva.de/a", 0) == "seen"
    assert frontier.pop() == ("https://shop.xn--bcher-kva.de/a", 0)
    # IDNA 2008: faß.de is not fass.de.
    assert DomainFrontier("faß.de").add("https://fass.de/", 0) == "offsite"


def test_ip_scope() -> None:
    frontier = DomainFrontier("127.0.0.5")
    assert frontier.add("http://127.0.0.5:8080/a", 0) is None
    assert frontier.add("http://127.0.0.6/a", 0) == "offsite"


@pytest.mark.parametrize(
    "again",
    [
        "https://acme.com/p?b=2&a=1#frag",
        "https://ACME.com:443/p?a=1&b=2",
        "https://acme.com/p?a=1&b=2&PHPSESSID=1",
        "https://acme.com/p;jsessionid=x?a=1&b=2",
        "https://acme.com/x/../p?a=1&b=2",
    ],
)
def test_seen_after_canonicalisation(again: str) -> None:
    frontier = DomainFrontier("acme.com")
    assert frontier.add("https://acme.com/p?a=1&b=2", 0) is None
    assert frontier.add(again, 1) == "seen"
    assert frontier.queued == 1


def test_depth_limit_is_recorded() -> None:
    frontier = DomainFrontier("acme.com", max_depth=2)
    assert frontier.add("https://acme.com/", 0) is None
    assert frontier.add("https://acme.com/d2", 2) is None
    assert frontier.stopped == "done"
    # Refused links that are offsite, traps or seen leave no depth_limit behind.
    assert frontier.add("https://other.net/deep", 3) == "offsite"
    assert frontier.add("https://acme.com/d2", 3) == "seen"
    assert frontier.add("https://acme.com/a/a/a", 3) == "repeated_segment"
    assert frontier.stopped == "done"
    assert frontier.add("https://acme.com/d3", 3) == "depth_limit"
    assert frontier.stopped == "depth_limit"
    # Not remembered: the same link found again is again depth_limit, not seen.
    assert frontier.add("https://acme.com/d3", 3) == "depth_limit"
    assert frontier.refused[Refusal.DEPTH_LIMIT] == 2


def test_negative_depth_is_a_bug() -> None:
    with pytest.raises(ValueError):
        DomainFrontier("acme.com").add("https://acme.com/", -1)


@pytest.mark.parametrize(("max_pages", "max_depth"), [(0, 3), (200, -1)])
def test_bad_limits(max_pages: int, max_depth: int) -> None:
    with pytest.raises(ValueError):
        DomainFrontier("acme.com", max_pages=max_pages, max_depth=max_depth)


def test_query_variants_30_fine_31st_refused() -> None:
    frontier = DomainFrontier("acme.com", max_pages=1000)
    for day in range(1, 31):
        assert frontier.add(f"https://acme.com/cal?day={day}", 1) is None
    assert frontier.add("https://acme.com/cal?day=31", 1) == "query_variants"
    # Near misses: a variant already queued is seen, the bare path is not a
    # variant, another path and another host count on their own.
    assert frontier.add("https://acme.com/cal?day=30", 1) == "seen"
    assert frontier.add("https://acme.com/cal?day=1&sid=7", 1) == "seen"
    assert frontier.add("https://acme.com/cal", 1) is None
    assert frontier.add("https://acme.com/cal/?day=31", 1) is None
    assert frontier.add("https://www.acme.com/cal?day=31", 1) is None
    assert frontier.add("http://acme.com/cal?day=31", 1) is None


def test_query_variants_count_after_session_removal_and_sorting() -> None:
    frontier = DomainFrontier("acme.com", max_pages=1000, limits=TrapLimits(max_query_variants=2))
    assert frontier.add("https://acme.com/f?a=1&b=1", 1) is None
    assert frontier.add("https://acme.com/f?b=1&a=1&sid=x", 1) == "seen"
    assert frontier.add("https://acme.com/f?a=2", 1) is None
    assert frontier.add("https://acme.com/f?a=3", 1) == "query_variants"


# --- DomainFrontier.pop and the page cap -----------------------------------------


def test_pop_is_breadth_first() -> None:
    frontier = DomainFrontier("acme.com", max_pages=100)
    frontier.add("https://acme.com/d1-a", 1)
    frontier.add("https://acme.com/d2-a", 2)
    frontier.add("https://acme.com/", 0)
    frontier.add("https://acme.com/d1-b", 1)
    frontier.add("https://acme.com/sitemap-page", 0)
    popped = []
    while (item := frontier.pop()) is not None:
        popped.append(item)
        frontier.fetched(item[0], ok=True)
    assert popped == [
        ("https://acme.com/", 0),
        ("https://acme.com/sitemap-page", 0),
        ("https://acme.com/d1-a", 1),
        ("https://acme.com/d1-b", 1),
        ("https://acme.com/d2-a", 2),
    ]
    assert frontier.stopped == "done"
    assert frontier.queued == 0


def test_pop_returns_the_clean_url() -> None:
    frontier = DomainFrontier("acme.com")
    frontier.add("https://acme.com/p;jsessionid=1?b=2&a=1&PHPSESSID=3#x", 0)
    assert frontier.pop() == ("https://acme.com/p?b=2&a=1", 0)


def test_page_cap_counts_pages_in_flight() -> None:
    frontier = DomainFrontier("acme.com", max_pages=2)
    for n in range(5):
        frontier.add(f"https://acme.com/{n}", 1)
    first, second = frontier.pop(), frontier.pop()
    assert first is not None and second is not None
    assert frontier.pop() is None  # two in flight fill the cap
    frontier.fetched(first[0], ok=False)  # a failure frees its slot
    third = frontier.pop()
    assert third == ("https://acme.com/2", 1)
    frontier.fetched(second[0], ok=True)
    frontier.fetched(third[0], ok=True)
    assert frontier.pop() is None
    assert (frontier.pages, frontier.failures) == (2, 1)
    assert frontier.stopped == "page_limit"


def test_claim_takes_a_queued_url_out_of_turn_once() -> None:
    frontier = DomainFrontier("acme.com", max_pages=3)
    frontier.add("https://acme.com/a", 1)
    frontier.add("https://acme.com/Contact#form", 2)
    assert frontier.claim("https://ACME.com/Contact") == ("https://acme.com/Contact", 2)
    assert frontier.in_flight == 1
    assert frontier.claim("https://acme.com/Contact") is True  # in flight: no second fetch
    assert frontier.pop() == ("https://acme.com/a", 1)
    assert frontier.pop() is None  # the claimed copy is not handed out again
    frontier.fetched("https://acme.com/Contact", ok=True)
    assert frontier.claim("https://acme.com/Contact") is False  # fetched: not again
    assert frontier.claim("https://acme.com/never-queued") is False
    assert frontier.claim("https://acme.com:99999/") is False  # not a URL it could fetch
    assert (frontier.pages, frontier.in_flight) == (1, 1)


def test_claim_respects_the_page_cap() -> None:
    frontier = DomainFrontier("acme.com", max_pages=1)
    frontier.add("https://acme.com/a", 1)
    frontier.add("https://acme.com/contact", 1)
    assert frontier.pop() == ("https://acme.com/a", 1)
    assert frontier.claim("https://acme.com/contact") is False  # the cap is taken


def test_finished_tells_waiting_from_done() -> None:
    frontier = DomainFrontier("acme.com", max_pages=1)
    assert frontier.finished  # nothing queued at all
    frontier.add("https://acme.com/", 0)
    frontier.add("https://acme.com/b", 1)
    assert not frontier.finished
    item = frontier.pop()
    assert item is not None
    assert frontier.pop() is None  # the cap is taken by the page in flight: wait
    assert (frontier.in_flight, frontier.finished) == (1, False)
    frontier.fetched(item[0], ok=True)
    assert (frontier.in_flight, frontier.finished) == (0, True)  # cap reached, /b left


def test_page_cap_reached_exactly_is_page_limit() -> None:
    frontier = DomainFrontier("acme.com", max_pages=1)
    frontier.add("https://acme.com/", 0)
    item = frontier.pop()
    assert item is not None
    frontier.fetched(item[0], ok=True)
    assert frontier.stopped == "page_limit"


def test_queue_is_bounded_and_overflow_is_page_limit() -> None:
    frontier = DomainFrontier("acme.com", max_pages=2, max_queued=4)
    assert [frontier.add(f"https://acme.com/{n}", 1) for n in range(5)] == [
        None,
        None,
        None,
        None,
        "queue_full",
    ]
    assert frontier.add("https://acme.com/0", 1) == "seen"  # seen outranks full
    assert frontier.stopped == "page_limit"
    assert DomainFrontier("acme.com", max_pages=7).max_queued == 70


def test_queue_bound_counts_fetched_pages_too() -> None:
    frontier = DomainFrontier("acme.com", max_pages=10, max_queued=3)
    frontier.mark_seen("https://acme.com/old-1", ok=False)
    frontier.mark_seen("https://acme.com/old-2", ok=False)
    assert frontier.add("https://acme.com/new-1", 1) is None
    assert frontier.add("https://acme.com/new-2", 1) == "queue_full"


def test_redirect_target_is_not_fetched_again() -> None:
    frontier = DomainFrontier("acme.com")
    frontier.add("http://acme.com/", 0)
    frontier.add("https://acme.com/", 0)
    frontier.add("https://acme.com/next", 1)
    item = frontier.pop()
    assert item == ("http://acme.com/", 0)
    frontier.fetched(item[0], ok=True, final_url="https://acme.com/#main")
    assert frontier.pop() == ("https://acme.com/next", 1)
    assert frontier.add("https://acme.com/", 1) == "seen"


def test_redirect_to_a_page_in_flight_leaves_it_in_flight() -> None:
    frontier = DomainFrontier("acme.com", max_pages=2)
    frontier.add("https://acme.com/a", 0)
    frontier.add("https://acme.com/b", 0)
    a, b = frontier.pop(), frontier.pop()
    assert a is not None and b is not None
    frontier.fetched(a[0], ok=False, final_url=b[0])
    frontier.fetched(b[0], ok=False)
    # Both slots free again: nothing was double-counted.
    frontier.add("https://acme.com/c", 0)
    frontier.add("https://acme.com/d", 0)
    assert frontier.pop() is not None
    assert frontier.pop() is not None


# --- resume ------------------------------------------------------------------------


def test_mark_seen_for_resume() -> None:
    frontier = DomainFrontier("acme.com", max_pages=3)
    frontier.mark_seen("https://acme.com/")
    frontier.mark_seen("https://ACME.com/a#x")
    frontier.mark_seen("https://acme.com/a")  # twice: counted once
    frontier.mark_seen("https://acme.com/broken", ok=False)
    assert frontier.pages == 2
    assert frontier.add("https://acme.com/", 0) == "seen"
    assert frontier.add("https://acme.com/broken", 1) == "seen"
    assert frontier.add("https://acme.com/b", 1) is None
    assert frontier.add("https://acme.com/c", 1) is None
    assert frontier.pop() == ("https://acme.com/b", 1)
    assert frontier.pop() is None  # 2 earlier + 1 in flight = the cap of 3


def test_mark_seen_after_queueing_skips_the_queued_copy() -> None:
    frontier = DomainFrontier("acme.com")
    frontier.add("https://acme.com/a", 0)
    frontier.add("https://acme.com/b", 0)
    frontier.mark_seen("https://acme.com/a")
    assert frontier.queued == 1
    assert frontier.pop() == ("https://acme.com/b", 0)
    assert frontier.pop() is None


# --- end of crawl ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frontier_word", "pages_ok", "answers", "failures", "robots", "gave_up", "expected"),
    [
        ("done", 0, 0, 0, True, False, "robots"),
        ("done", 0, 0, 1, True, False, "robots"),
        ("done", 3, 5, 0, True, False, "done"),  # home blocked, the rest was not
        ("done", 0, 2, 2, True, False, "errors"),
        ("done", 0, 0, 3, False, False, "unreachable"),
        ("done", 0, 0, 0, False, False, "unreachable"),
        ("done", 0, 4, 4, False, False, "errors"),
        ("page_limit", 20, 30, 10, False, True, "errors"),  # the spider gave up
        ("done", 0, 1, 0, False, False, "done"),  # one non-HTML answer, nothing wrong
        ("page_limit", 200, 230, 30, False, False, "page_limit"),
        ("depth_limit", 50, 52, 2, False, False, "depth_limit"),
        ("done", 50, 50, 0, False, False, "done"),
    ],
)
def test_stop_reason(
    frontier_word: str,
    pages_ok: int,
    answers: int,
    failures: int,
    robots: bool,
    gave_up: bool,
    expected: str,
) -> None:
    word = stop_reason(
        frontier_word,
        pages_ok=pages_ok,
        answers=answers,
        failures=failures,
        robots_blocked_home=robots,
        gave_up=gave_up,
    )
    assert word == expected
    assert isinstance(word, Stop)


def test_page_limit_outranks_depth_limit() -> None:
    frontier = DomainFrontier("acme.com", max_pages=1, max_depth=0)
    frontier.add("https://acme.com/", 0)
    frontier.add("https://acme.com/deeper", 1)
    item = frontier.pop()
    assert item is not None
    frontier.fetched(item[0], ok=True)
    assert frontier.stopped == "page_limit"


# --- sitemaps ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://acme.com/p", True),
        ("http://acme.com/p", True),
        ("https://shop.acme.com/p", True),
        ("https://ACME.com/p", True),
        ("https://acme.org/p", False),
        ("https://acme.com.evil.net/p", False),
        ("https://notacme.com/p", False),
        ("ftp://acme.com/p", False),
        ("/relative", False),
        ("https://[broken/", False),
    ],
)
def test_sitemap_url_allowed(url: str, expected: bool) -> None:
    assert sitemap_url_allowed(url, "acme.com") is expected


def test_sitemap_url_allowed_takes_a_host_as_its_domain() -> None:
    assert sitemap_url_allowed("https://acme.com/p", "www.acme.com")


def test_sitemap_start_urls() -> None:
    assert sitemap_start_urls(
        "https://www.acme.com/",
        [
            "https://www.acme.com/sitemap_index.xml",
            "https://cdn.elsewhere.net/sitemap.xml",
            "https://www.acme.com/sitemap.xml#dup",
        ],
    ) == ["https://www.acme.com/sitemap_index.xml", "https://www.acme.com/sitemap.xml"]
    assert sitemap_start_urls("http://acme.com/start") == ["http://acme.com/sitemap.xml"]


# --- property: never twice, never past the cap -------------------------------------

SEGMENTS = ["a", "b", "c", "blog", "tag", "2024", "ü", "%7Eme", "x;jsessionid=1", ""]
PARAMS = ["a", "b", "page", "sid", "SID", "PHPSESSID", "q", "sort"]
HOSTS = ["acme.com", "ACME.com", "www.acme.com", "shop.acme.com", "acme.com:443", "other.net"]


def _random_url(rng: random.Random) -> str:
    scheme = rng.choice(["https", "http", "HTTPS"])
    host = rng.choice(HOSTS)
    path = "/".join(rng.choice(SEGMENTS) for _ in range(rng.randint(0, 4)))
    query = "&".join(f"{rng.choice(PARAMS)}={rng.randint(0, 40)}" for _ in range(rng.randint(0, 3)))
    fragment = rng.choice(["", "#top", "#x"])
    return f"{scheme}://{host}/{path}" + (f"?{query}" if query else "") + fragment


@pytest.mark.parametrize("seed", [1, 7, 2024])
def test_property_never_twice_never_past_the_cap(seed: int) -> None:
    rng = random.Random(seed)
    urls = [_random_url(rng) for _ in range(5000)]
    frontier = DomainFrontier("acme.com", max_pages=200, max_depth=3)
    keys: set[str] = set()
    in_flight: list[tuple[str, int]] = []
    pages = 0
    cursor = 0
    for url in urls[:20]:
        frontier.add(url, 0)
    cursor = 20
    while True:
        while (item := frontier.pop()) is not None:
            key = crawl_key(item[0])
            assert key not in keys, item
            keys.add(key)
            in_flight.append(item)
        if not in_flight:
            break
        # Answer one page in flight (in random order, like a concurrent crawl).
        url, depth = in_flight.pop(rng.randrange(len(in_flight)))
        ok = rng.random() < 0.8
        frontier.fetched(url, ok=ok)
        pages += ok
        assert pages <= 200
        assert pages + len(in_flight) <= 200
        if ok:
            for link in urls[cursor : cursor + 40]:
                frontier.add(link, depth + 1)
            cursor += 40
    assert frontier.finished
    assert frontier.pages == pages
    assert pages <= 200
    assert frontier.queued <= frontier.max_queued
    assert frontier.stopped in ("page_limit", "depth_limit", "done")


@pytest.mark.parametrize("seed", [3, 11])
def test_property_all_ok_pops_never_exceed_max_pages(seed: int) -> None:
    rng = random.Random(seed)
    frontier = DomainFrontier("acme.com", max_pages=150, max_depth=3)
    for _ in range(5000):
        frontier.add(_random_url(rng), rng.randint(0, 4))
    keys = []
    while (item := frontier.pop()) is not None:
        keys.append(crawl_key(item[0]))
        frontier.fetched(item[0], ok=True)
    assert len(keys) == len(set(keys)) <= 150
    assert frontier.stopped == "page_limit"


def test_a_redirect_to_a_page_fetched_on_its_own_counts_once() -> None:
    frontier = DomainFrontier("acme.com", max_pages=10)
    for url in ("http://acme.com/a", "http://acme.com/old"):
        assert frontier.add(url, 1) is None
    assert [frontier.pop(), frontier.pop()] == [
        ("http://acme.com/a", 1),
        ("http://acme.com/old", 1),
    ]
    frontier.fetched("http://acme.com/a", ok=True)
    # /old redirects to /a, already read: not a second page, not a failure.
    assert frontier.fetched_elsewhere("http://acme.com/old", "http://acme.com/a")
    frontier.redirected("http://acme.com/old")
    assert (frontier.pages, frontier.failures, frontier.in_flight) == (1, 0, 0)
    # A redirect to a page not fetched yet, or to the same page, is read where it lands.
    assert not frontier.fetched_elsewhere("http://acme.com/x", "http://acme.com/new")
    assert not frontier.fetched_elsewhere("http://ACME.com/a#top", "http://acme.com/a")
