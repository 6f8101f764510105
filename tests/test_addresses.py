"""Which addresses may be fetched: the rule, the DNS resolver and the downloader middleware.

No network: DNS answers are stubbed, requests are never downloaded.
"""

from __future__ import annotations

import doctest
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import CannotResolveHostError
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from crawler.failures import reason_for
from crawler.middlewares import AddressGuardMiddleware, AddressRefused
from crawler.resolver import AddressGuardResolver, proxy_hosts
from tests.stubdns import StubDNS
from verifier.models import Reason
from verifier.verdict import addresses
from verifier.verdict.addresses import refusal, url_refusal

LINK_LOCAL = "is link-local (169.254.0.0/16, fe80::/10): never fetched"
PRIVATE = "refused by BACKCHECK_REFUSE_PRIVATE_ADDRESSES"


@pytest.mark.parametrize(
    ("url", "always", "with_setting"),
    [
        # link-local: the cloud metadata service, in every spelling a browser or inet_aton reads
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254", "169.254.169.254"),
        ("http://169.254.0.1/", "169.254.0.1", "169.254.0.1"),
        ("http://2852039166/", "169.254.169.254", "169.254.169.254"),
        ("http://0xa9fea9fe/", "169.254.169.254", "169.254.169.254"),
        ("http://0XA9.0xFE.0xa9.0xfe/", "169.254.169.254", "169.254.169.254"),
        ("http://0251.0376.0251.0376/", "169.254.169.254", "169.254.169.254"),
        ("http://169.254.43518/", "169.254.169.254", "169.254.169.254"),
        ("http://169.16689662/", "169.254.169.254", "169.254.169.254"),
        ("http://169.254.169.254./", "169.254.169.254", "169.254.169.254"),
        ("http://169.254.169.254:8080/x", "169.254.169.254", "169.254.169.254"),
        ("http://user:pw@169.254.169.254/", "169.254.169.254", "169.254.169.254"),
        ("http://[fe80::1]/", "fe80::1", "fe80::1"),
        ("http://[FE80::a:b]/", "fe80::a:b", "fe80::a:b"),
        ("http://[fe80::1%25eth0]/", "fe80::1", "fe80::1"),
        ("http://[febf::1]/", "febf::1", "febf::1"),
        ("http://[::ffff:169.254.169.254]/", "::ffff:a9fe:a9fe carries", "::ffff:a9fe:a9fe"),
        ("http://[::ffff:a9fe:a9fe]/", "::ffff:a9fe:a9fe carries", "::ffff:a9fe:a9fe"),
        ("http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe carries", "64:ff9b::"),
        ("http://[::169.254.169.254]/", "::a9fe:a9fe carries", "::a9fe:a9fe"),
        ("http://[2002:a9fe:a9fe::1]/", "2002:a9fe:a9fe::1 carries", "2002:a9fe:a9fe::1"),
        # other cloud metadata services
        ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata", "fd00:ec2::254"),
        ("http://100.100.100.200/", "100.100.100.200 is a cloud metadata", "100.100.100.200"),
        # loopback and private: only with the setting on
        ("http://127.0.0.1/", None, "127.0.0.1 is a loopback address"),
        ("http://127.1/", None, "127.0.0.1 is a loopback address"),
        ("http://0x7f000001/", None, "127.0.0.1 is a loopback address"),
        ("http://[::1]:8080/", None, "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]/", None, "::ffff:7f00:1 carries 127.0.0.1"),
        ("http://10.0.0.1/", None, "10.0.0.1 is a private address"),
        ("http://172.16.5.4/", None, "172.16.5.4 is a private address"),
        ("http://192.168.1.1/", None, "192.168.1.1 is a private address"),
        ("http://100.64.0.1/", None, "100.64.0.1 is a private address"),
        ("http://[fd12:3456::1]/", None, "fd12:3456::1 is a private address"),
        ("http://0.0.0.0/", None, "0.0.0.0 is unspecified"),
        ("http://0/", None, "0.0.0.0 is unspecified"),
        # public addresses and host names: never refused here (a name is judged by its DNS answer)
        ("http://93.184.216.34/", None, None),
        ("http://[::ffff:93.184.216.34]/", None, None),
        ("http://[2606:4700::1111]/", None, None),
        ("https://blog.example.org/post", None, None),
        ("http://169.254.169.254.nip.io/", None, None),
        ("http://1.2.3.4.5/", None, None),  # five parts: a name, not an address
        ("http://08.1.1.1/", None, None),  # not valid octal: a name
        ("http://256.1.1.1/", None, None),
        ("http://[::1/", None, None),  # unparsable: Scrapy refuses the URL itself
        ("mailto:someone@169.254.169.254", None, None),
    ],
)
def test_url_refusal(url: str, always: str | None, with_setting: str | None) -> None:
    off, on = url_refusal(url), url_refusal(url, refuse_private=True)
    assert (off is None) is (always is None), off
    assert (on is None) is (with_setting is None), on
    if always is not None:
        assert off is not None and off.startswith(always) and off.endswith("never fetched")
    if with_setting is not None:
        assert on is not None and on.startswith(with_setting)
    if always is None and with_setting is not None:
        assert on is not None and on.endswith(PRIVATE)


def test_refusal_names_the_rule() -> None:
    assert refusal("169.254.169.254") == f"169.254.169.254 {LINK_LOCAL}"
    assert refusal("fe80::1%eth0") == f"fe80::1 {LINK_LOCAL}"
    assert refusal("::ffff:169.254.169.254") == (
        f"::ffff:a9fe:a9fe carries 169.254.169.254, which {LINK_LOCAL}"
    )
    assert refusal("10.0.0.1", refuse_private=True) == f"10.0.0.1 is a private address: {PRIVATE}"


def test_doctests() -> None:
    assert doctest.testmod(addresses).failed == 0


# --- the DNS resolver --------------------------------------------------------


def resolve(resolver: AddressGuardResolver, name: str) -> str | Failure:
    results: list[str | Failure] = []
    resolver.getHostByName(name).addBoth(results.append)
    [result] = results  # canned answers arrive at once
    return result


def guard(refuse_private: bool = False) -> StubDNS:
    # cache_size 10000 is Scrapy's default: the shared DNS cache keeps its limit.
    return StubDNS(
        reactor=None,  # type: ignore[arg-type]  # never used: the answers are canned
        cache_size=10000,
        timeout=1.0,
        refuse_private=refuse_private,
        trusted=proxy_hosts(["http://proxy.lan:3128", "proxy2.lan:8080"]),
    )


@pytest.mark.parametrize(
    ("name", "refuse_private", "expected"),
    [
        ("meta.evil.test", False, "meta.evil.test resolves to 169.254.169.254 is link-local"),
        ("2852039166", False, "2852039166 resolves to 169.254.169.254 is link-local"),
        ("blog.example.org", False, "93.184.216.34"),
        ("blog.example.org", True, "93.184.216.34"),
        ("intranet.lan", False, "10.0.0.5"),
        ("intranet.lan", True, "intranet.lan resolves to 10.0.0.5 is a private address"),
        ("intranet.test", True, "intranet.test resolves to 127.0.0.1 is a loopback address"),
        ("proxy.lan", True, "10.0.0.9"),  # the user's own proxy
        ("127.0.0.1", True, "127.0.0.1"),  # an address, not an answer (the proxy's)
        ("no.such.test", False, "no such host (test resolver): no.such.test"),
    ],
)
def test_resolver_refuses_answers(name: str, refuse_private: bool, expected: str) -> None:
    result = resolve(guard(refuse_private), name)
    if isinstance(result, Failure):
        assert result.check(DNSLookupError)
        assert expected in str(result.value)
    else:
        assert result == expected


def test_resolver_remembers_a_refusal_for_the_middleware() -> None:
    resolver = guard()
    first, again = resolve(resolver, "meta.evil.test"), resolve(resolver, "META.evil.test.")
    assert isinstance(first, Failure) and isinstance(again, Failure)
    assert resolver.asked == ["meta.evil.test"]  # a retry is refused without asking again
    assert resolver.refused["meta.evil.test"] in str(again.value)


def test_proxy_hosts() -> None:
    assert proxy_hosts(["http://Proxy.LAN:3128", "socks5://u:p@10.0.0.1:1080", ""]) == {
        "proxy.lan",
        "10.0.0.1",
    }


# --- the downloader middleware ----------------------------------------------


def middleware(refuse_private: bool = False, lookups: dict[str, str] | None = None) -> Any:
    crawler = get_crawler(Spider, {"BACKCHECK_REFUSE_PRIVATE_ADDRESSES": refuse_private})
    built = build_from_crawler(AddressGuardMiddleware, crawler)
    if lookups is not None:
        built.lookups = lookups
    return built


@pytest.mark.parametrize(
    ("url", "refuse_private", "refused"),
    [
        ("http://169.254.169.254/latest/meta-data/", False, True),
        ("http://2852039166/", False, True),
        ("http://10.0.0.1/", False, False),
        ("http://10.0.0.1/", True, True),
        ("http://blog.example.org/", True, False),
    ],
)
def test_middleware_refuses_requests(url: str, refuse_private: bool, refused: bool) -> None:
    mw = middleware(refuse_private)
    request = Request(url, meta={"redirect_urls": ["http://blog.example.org/a"]})
    if not refused:
        assert mw.process_request(request) is None
        return
    with pytest.raises(AddressRefused) as caught:
        mw.process_request(request)
    assert mw.stats.get_value("backcheck/address_refused") == 1
    # An unreachable page whose detail names the rule (the spider adds the redirect hops).
    reason, detail = reason_for(Failure(caught.value))
    assert reason is Reason.CRAWL_ERROR
    assert detail == f"AddressRefused: {url_refusal(url, refuse_private)}"


def test_middleware_turns_a_refused_lookup_into_a_refusal() -> None:
    why = "meta.evil.test resolves to 169.254.169.254 is link-local: never fetched"
    mw = middleware(lookups={"meta.evil.test": why})
    refused = Request("http://meta.evil.test/page")
    with pytest.raises(AddressRefused, match=r"meta\.evil\.test resolves to"):
        mw.process_exception(refused, CannotResolveHostError("no results for hostname lookup"))
    # Any other failed lookup, or another error, is left to the rest of the chain.
    other = Request("http://no.such.test/")
    assert mw.process_exception(other, CannotResolveHostError("no results")) is None
    assert mw.process_exception(refused, ValueError("x")) is None


def test_a_redirect_word_in_the_rule_is_not_too_many_redirects() -> None:
    exc = AddressRefused("redirect.evil.test resolves to 169.254.169.254 is link-local")
    assert reason_for(Failure(exc))[0] is Reason.CRAWL_ERROR


def test_the_project_settings_install_the_guard() -> None:
    from crawler import settings

    assert settings.TWISTED_DNS_RESOLVER == "crawler.resolver.AddressGuardResolver"
    # Nearer the downloader than RetryMiddleware (550): a refused lookup is not retried.
    assert settings.DOWNLOADER_MIDDLEWARES["crawler.middlewares.AddressGuardMiddleware"] > 550
    assert settings.BACKCHECK_REFUSE_PRIVATE_ADDRESSES is False
