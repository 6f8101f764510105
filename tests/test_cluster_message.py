"""What travels through Redis: requests as JSON (not pickle), checks field by field."""

from __future__ import annotations

import pytest
import scrapy
from scrapy.utils.request import request_from_dict

from crawler.cluster import message, serializer
from crawler.spiders.worker import REFS, RUN, WorkerSpider
from verifier.models import BacklinkRef, Change, Check, Discovery, NofollowSource, Reason, Status

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
    assert message.loads(message.dumps(check)) == check
    failed = Check(8, Status.UNREACHABLE, Reason.TIMEOUT, detail="slow")
    found = Discovery("acme.com", "http://b.net/", "https://acme.com/", 7, failed, "discovered")
    assert message.loads(message.dumps(found)) == found


@pytest.mark.parametrize(
    "raw", ["[]", "{}", '{"check": {"backlink_id": 1, "status": "gone"}}', '{"check": {"x": 1}}']
)
def test_anything_else_is_refused(raw: str) -> None:
    with pytest.raises(message.MessageError):
        message.loads(raw)
