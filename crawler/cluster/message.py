"""What travels through Redis besides requests: backlink refs in, checks out, as JSON.

Each dataclass is written field by field (enums as their stored string values),
never pickled: a worker's message is data the owner validates, not code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any

from verifier.models import (
    BacklinkRef,
    Change,
    Check,
    CompetitorLink,
    Contact,
    ContactKind,
    CrawledPage,
    Discovery,
    DomainDone,
    FoundIn,
    Mention,
    MentionKind,
    NofollowSource,
    PageContacts,
    PageMentions,
    Placement,
    Reason,
    Status,
    TargetCheck,
)

#: Check fields that hold an enum, and the enum.
_ENUMS: dict[str, type[Any]] = {
    "status": Status,
    "reason": Reason,
    "nofollow_source": NofollowSource,
    "change": Change,
    "found_in": FoundIn,
}
_CHECK_FIELDS = frozenset(f.name for f in fields(Check))


@dataclass(frozen=True, slots=True)
class OutreachRead:
    """A worker is done with an open outreach target (read, or failed): the owner stops
    waiting for it."""

    site: str
    url: str


#: What a worker sends back for a run (the last three: a domain-list crawl's).
Item = (
    Check
    | Discovery
    | PageMentions
    | CompetitorLink
    | TargetCheck
    | OutreachRead
    | CrawledPage
    | DomainDone
    | PageContacts
)


class MessageError(ValueError):
    """A message from Redis that is not a result backcheck understands."""


def refs_to_meta(refs: list[BacklinkRef]) -> list[list[Any]]:
    """A page's backlinks as request meta: `[id, site, source_url, target_url, anchor]` each."""
    return [[r.id, r.site, r.source_url, r.target_url, r.expected_anchor] for r in refs]


def refs_from_meta(rows: list[list[Any]]) -> list[BacklinkRef]:
    return [BacklinkRef(int(row[0]), row[1], row[2], row[3], row[4]) for row in rows]


def _check_dict(check: Check) -> dict[str, Any]:
    values = {name: getattr(check, name) for name in _CHECK_FIELDS}
    for name in _ENUMS:
        if values[name] is not None:
            values[name] = values[name].value
    return values


def _check(values: dict[str, Any]) -> Check:
    unknown = set(values) - _CHECK_FIELDS
    if unknown:
        raise MessageError(f"unknown check fields: {sorted(unknown)}")
    for name, enum in _ENUMS.items():
        if values.get(name) is not None:
            values[name] = enum(values[name])
    return Check(**values)


def _plain(value: Any) -> Any:
    """A dataclass, enum, tuple … as JSON values (field by field, enums as their values)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


def _message(item: Item) -> dict[str, Any]:
    if isinstance(item, Check):
        return {"check": _check_dict(item)}
    if isinstance(item, Discovery):
        found = {name: getattr(item, name) for name in _DISCOVERY_FIELDS}
        return {"discovery": found | {"check": _check_dict(item.check)}}
    return {_NAMES[type(item)]: _plain(item)}


def dumps(items: Sequence[Item]) -> str:
    """What one page gave, as one JSON message: a list of `{"check": {...}}`,
    `{"discovery": …}`, `{"page": …}`, `{"competitor_link": …}`, `{"target": …}`,
    `{"outreach_read": …}`. One message per page: the owner never sees a page's
    checks without the rest of what its page said."""
    return json.dumps([_message(item) for item in items])


def _page(values: dict[str, Any]) -> PageMentions:
    mentions = [
        Mention(
            m["term"], MentionKind(m["kind"]), m["context"], m["linked"], Placement(m["placement"])
        )
        for m in values.pop("mentions")
    ]
    contacts = [
        Contact(ContactKind(c["kind"]), c["value"], c["found_on"]) for c in values.pop("contacts")
    ]
    return PageMentions(**values, mentions=mentions, contacts=contacts)


def _competitor_link(values: dict[str, Any]) -> CompetitorLink:
    source = values.pop("nofollow_source")
    return CompetitorLink(
        **values, nofollow_source=None if source is None else NofollowSource(source)
    )


def _target(values: dict[str, Any]) -> TargetCheck:
    chain = tuple((str(url), code) for url, code in values.pop("redirect_chain"))
    return TargetCheck(**values, redirect_chain=chain)


def _crawled(values: dict[str, Any]) -> CrawledPage:
    return CrawledPage(**(values | {"links": tuple(values["links"])}))


def _contacts(values: dict[str, Any]) -> PageContacts:
    contacts = tuple(
        Contact(ContactKind(c["kind"]), c["value"], c["found_on"]) for c in values["contacts"]
    )
    return PageContacts(values["page_url"], contacts)


def _discovery(found: dict[str, Any]) -> Discovery:
    return Discovery(
        found["site"],
        found["source_url"],
        found["target_url"],
        found["discovered_from"],
        _check(found["check"]),
        found["source"],
    )


_DISCOVERY_FIELDS = ("site", "source_url", "target_url", "discovered_from", "source")
_NAMES: dict[type[Any], str] = {
    PageMentions: "page",
    CompetitorLink: "competitor_link",
    TargetCheck: "target",
    OutreachRead: "outreach_read",
    CrawledPage: "crawled",
    DomainDone: "domain_done",
    PageContacts: "contacts",
}
_READERS: dict[str, Any] = {
    "check": _check,
    "discovery": _discovery,
    "page": _page,
    "competitor_link": _competitor_link,
    "target": _target,
    "outreach_read": lambda values: OutreachRead(**values),
    "crawled": _crawled,
    "domain_done": lambda values: DomainDone(**values),
    "contacts": _contacts,
}


def _item(message: dict[str, Any]) -> Item:
    [(kind, values)] = message.items()
    item: Item = _READERS[kind](values)
    return item


def loads(data: bytes | str) -> list[Item]:
    """The items a worker sent (a list, or one item); raises `MessageError` for anything
    else."""
    try:
        message = json.loads(data)
        return [_item(m) for m in message] if isinstance(message, list) else [_item(message)]
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise MessageError(f"not a backcheck result: {str(data)[:200]!r} ({exc})") from exc
