"""ContactPages: a site's contact page is fetched once per run; a target's contact page
that gave no answer leaves it unread (no PageContacts), one that answered marks it read."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.spiders.plumbing import ContactPages
from verifier.models import PageContacts

CONTACT = "http://zine.org/contact"
POSTS = ["http://zine.org/a", "http://blog.zine.org/b", "http://zine.org/c"]


def answer(request: Request, status: int, body: str = "") -> HtmlResponse:
    return HtmlResponse(request.url, status=status, body=body.encode(), request=request)


def first_two(pages: ContactPages) -> Request:
    """Two targets on the site: one request, the second waits for it."""
    [request] = pages.wanted(POSTS[0], CONTACT)
    assert isinstance(request, Request) and request.url == CONTACT
    assert list(pages.wanted(POSTS[1], CONTACT)) == []
    return request


def contacts_of(items: list[Any]) -> dict[str, tuple[str, ...]]:
    assert all(isinstance(item, PageContacts) for item in items)
    return {item.page_url: tuple(c.value for c in item.contacts) for item in items}


def test_an_answer_with_addresses_reaches_every_waiting_target_and_later_ones() -> None:
    pages = ContactPages(stored=lambda item: False)
    request = first_two(pages)
    body = "<html><body><a href='mailto:desk@zine.org'>desk</a></body></html>"
    got = contacts_of(list(pages.parse(answer(request, 200, body), "zine.org")))
    assert got == {POSTS[0]: ("desk@zine.org",), POSTS[1]: ("desk@zine.org",)}
    assert contacts_of(list(pages.wanted(POSTS[2], CONTACT))) == {POSTS[2]: ("desk@zine.org",)}


@pytest.mark.parametrize("status", [200, 404, 410])
def test_an_answer_without_addresses_still_marks_the_targets_read(status: int) -> None:
    pages = ContactPages(stored=lambda item: False)
    request = first_two(pages)
    got = contacts_of(list(pages.parse(answer(request, status, "<p>no one</p>"), "zine.org")))
    assert got == {POSTS[0]: (), POSTS[1]: ()}
    assert contacts_of(list(pages.wanted(POSTS[2], CONTACT))) == {POSTS[2]: ()}


def test_a_404_that_scrapy_passes_as_an_error_is_an_answer() -> None:
    pages = ContactPages(stored=lambda item: False)
    request = first_two(pages)
    failure = Failure(HttpError(answer(request, 404), "Ignoring non-200 response"))
    failure.request = request  # type: ignore[attr-defined]
    assert contacts_of(list(pages.on_error(failure))) == {POSTS[0]: (), POSTS[1]: ()}


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_server_error_leaves_the_targets_unread_and_is_not_asked_again(status: int) -> None:
    pages = ContactPages(stored=lambda item: False)
    request = first_two(pages)
    assert list(pages.parse(answer(request, status), "zine.org")) == []
    assert list(pages.wanted(POSTS[2], CONTACT)) == []  # no PageContacts, no request


def test_no_answer_at_all_leaves_the_targets_unread() -> None:
    pages = ContactPages(stored=lambda item: False)
    request = first_two(pages)
    failure = Failure(TimeoutError("took too long"))
    failure.request = request  # type: ignore[attr-defined]
    assert list(pages.on_error(failure)) == []
    assert list(pages.wanted(POSTS[2], CONTACT)) == []
