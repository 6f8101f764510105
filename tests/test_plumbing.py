"""Spider plumbing: a page whose reading raises still gives its backlinks a check."""

from __future__ import annotations

import logging

import pytest

from crawler.spiders import plumbing
from verifier.models import BacklinkRef, Fetch, Reason, Status
from verifier.verdict import classify

PAGE = "https://blog.zine.org/post"
REFS = [BacklinkRef(1, "acme.com", PAGE, "https://acme.com/x")]
BODY = b'<html><body><p>We love <a href="https://acme.com/x">Acme</a></p></body></html>'
LOG = logging.getLogger("test-plumbing")


def fetch(body: bytes = BODY) -> Fetch:
    return Fetch(PAGE, PAGE, 200, body, "text/html; charset=utf-8")


def test_the_verdict_alone_when_the_rest_of_the_reading_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        [check] = plumbing.unread(LOG, fetch(), REFS, RecursionError("too deep"))
    assert (check.status, check.reason, check.link_count) == (Status.LIVE, None, 1)
    assert check.mentions is None  # not read
    assert f"reading {PAGE} failed: RecursionError('too deep')" in caplog.text


def test_crawl_error_naming_why_when_the_verdict_raises_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(classify, "read_fetch", broken)
    [check] = plumbing.unread(LOG, fetch(), REFS, KeyError("boom"))
    assert (check.status, check.reason) == (Status.UNREACHABLE, Reason.CRAWL_ERROR)
    assert check.detail == "backcheck could not read the page: KeyError: 'boom'"


def test_nothing_to_check_gives_nothing() -> None:
    assert plumbing.unread(LOG, fetch(), (), ValueError("x")) == []
