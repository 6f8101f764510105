"""What travels through Redis: requests as JSON (not pickle), checks field by field."""

from __future__ import annotations

import pytest
import scrapy
from scrapy.utils.request import request_from_dict

from crawler.cluster import message, serializer
from crawler.spiders.worker import REFS, RUN, WorkerSpider
from verifier.models import (
    BacklinkRef,
    Change,
    Check,
    CompetitorLink,
    Contact,
    ContactKind,
    Discovery,
    Mention,
    MentionKind,
    NofollowSource,
    PageMentions,
    Placement,
    Reason,
    Status,
    TargetCheck,
)

REFS_ = [
    BacklinkRef(7, "acme.com", "http://a.blog.com/p", "https://acme.com/pricing", "Blue"),
    BacklinkRef(8, "acme.com", "http://a.blog.com/p", None),
]


def test_a_request_survives_the_queue_as_json() -> None:
    spider = WorkerSpider()
    request = scrapy.Request(
        "http://a.blog.com/p?x=1",
        callback=spider.parse,
        errback=spider.on_error,
        headers={"Referer": "http://x.com/é"},
        meta={REFS: message.refs_to_meta(REFS_), RUN: "abc", "redirect_urls": ["http://b/"]},
        dont_filter=True,
    )
    data = serializer.dumps(request.to_dict(spider=spider))
    assert b"__bytes__" in data and data.startswith(b"{")  # JSON, never pickle
    back = request_from_dict(serializer.loads(data), spider=spider)
    assert (back.url, back.callback, back.errback) == (request.url, spider.parse, spider.on_error)
    assert back.headers == request.headers and back.dont_filter
    assert message.refs_from_meta(back.meta[REFS]) == REFS_


def test_checks_and_discoveries_round_trip() -> None:
    check = Check(
        7,
        Status.LIVE,
        None,
        follow=False,
        nofollow_source=NofollowSource.REL,
        redirect_chain=[["http://a/", 301]],
        change=Change.NEW,
    )
    failed = Check(8, Status.UNREACHABLE, Reason.TIMEOUT, detail="slow")
    found = Discovery("acme.com", "http://b.net/", "https://acme.com/", 7, failed, "discovered")
    assert message.loads(message.dumps([check, found])) == [check, found]


def test_what_else_a_page_gives_round_trips() -> None:
    """Mentions (with contacts), links to competitors, target pages, outreach reads."""
    page = PageMentions(
        "acme.com",
        "http://b.net/review",
        "verify",
        title="Review",
        mentions=[Mention("Acme", MentionKind.TEXT, "… Acme …", False, Placement.MAIN)],
        contacts=[Contact(ContactKind.EMAIL, "ed@b.net", "http://b.net/review")],
        contact_url="http://b.net/contact",
        reason="link_removed",
    )
    rival = CompetitorLink(
        "acme.com",
        "rival.com",
        "http://b.net/",
        "https://rival.com/",
        False,
        "ugc",
        NofollowSource.REL,
        "Rival",
    )
    target = TargetCheck(
        "acme.com",
        "https://acme.com/p",
        "HEAD",
        200,
        "https://acme.com/q",
        (("https://acme.com/p", 301),),
    )
    down = TargetCheck("acme.com", "https://acme.com/x", "GET", error="timeout", detail="slow")
    read = message.OutreachRead("acme.com", "http://b.net/review")
    items = [page, rival, target, down, read]
    assert message.loads(message.dumps(items)) == items


@pytest.mark.parametrize(
    "raw",
    [
        "1",
        "{}",
        "[[]]",
        '{"check": {"backlink_id": 1, "status": "gone"}}',
        '[{"check": {"x": 1}}]',
        '[{"page": {"site": "a.com"}}]',
        '[{"outreach_read": {"site": "a.com"}, "check": {}}]',
    ],
)
def test_anything_else_is_refused(raw: str) -> None:
    with pytest.raises(message.MessageError):
        message.loads(raw)
