"""What travels through Redis: requests as JSON (not pickle), checks field by field."""

from __future__ import annotations

import time

import pytest
import scrapy
from scrapy.utils.request import request_from_dict

from crawler.cluster import message, serializer
from crawler.spiders.worker import REFS, RUN, WorkerSpider
from tests import redisserver
from verifier.models import (
    BacklinkRef,
    Change,
    Check,
    CompetitorLink,
    Contact,
    ContactKind,
    Discovery,
    FoundIn,
    Mention,
    MentionKind,
    NofollowSource,
    PageMentions,
    Placement,
    Reason,
    Status,
    TargetCheck,
)

redis_server = redisserver.redis_server  # the fixture: a real redis-server per test

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
    rendered = Check(9, Status.LIVE, None, rendered=True, found_in=FoundIn.RENDERED)
    back = message.loads(message.dumps([check, found, rendered]))
    assert back == [check, found, rendered]
    assert type(back[2].found_in) is FoundIn  # type: ignore[union-attr]


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


def test_shard_leases_are_held_by_one_worker(redis_server) -> None:
    """SET NX PX leases: one holder; only it renews or gives back; expired, another takes it."""
    from redis import Redis

    from crawler.cluster.shards import Leases

    server = Redis.from_url(redis_server.url)
    first, second = Leases(server, "w1", 0.3), Leases(server, "w2", 0.3)
    assert first.claim(5) and not second.claim(5)
    assert not second.release(5) and second.renew([5]) == [5]
    assert first.renew([5]) == []
    deadline = time.monotonic() + 10
    while not second.claim(5):  # w1 stopped renewing: its lease runs out
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert first.renew([5]) == [5]  # w1 learns that it lost the shard
    assert second.release(5) and first.claim(5)


def test_requests_go_to_their_registered_domains_shard(redis_server) -> None:
    from redis import Redis

    from crawler.cluster.shards import ShardQueues, queued, shard_count, shard_of_url

    server = Redis.from_url(redis_server.url)
    assert queued(server) == 0
    assert shard_count(server, 64) == 64 and shard_count(server, 16) == 64  # the first one's
    queues = ShardQueues(server, WorkerSpider(), 64)
    urls = ["http://a.blog.com/1", "http://b.blog.com/2", "http://other.org/3"]
    with queues.pushing() as batch:
        for url in urls:
            batch.push(scrapy.Request(url, dont_filter=True))
    assert queued(server) == len(queues) == 3
    shard = shard_of_url(urls[0], 64)
    assert shard == shard_of_url(urls[1], 64) != shard_of_url(urls[2], 64)
    assert [r.url for r in iter(lambda: queues.pop(shard), None)] == urls[:2]
