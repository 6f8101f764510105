"""What travels through Redis besides requests: backlink refs in, checks out, as JSON.

Each dataclass is written field by field (enums as their stored string values),
never pickled: a worker's message is data the owner validates, not code.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from verifier.models import BacklinkRef, Change, Check, Discovery, NofollowSource, Reason, Status

#: Check fields that hold an enum, and the enum.
_ENUMS: dict[str, type[Any]] = {
    "status": Status,
    "reason": Reason,
    "nofollow_source": NofollowSource,
    "change": Change,
}
_CHECK_FIELDS = frozenset(f.name for f in fields(Check))


class MessageError(ValueError):
    """A message from Redis that is not a check or discovery backcheck understands."""


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


def dumps(item: Check | Discovery) -> str:
    """One item as a JSON message (`{"check": {...}}` or `{"discovery": {...}}`)."""
    if isinstance(item, Check):
        return json.dumps({"check": _check_dict(item)})
    return json.dumps(
        {
            "discovery": {
                "site": item.site,
                "source_url": item.source_url,
                "target_url": item.target_url,
                "discovered_from": item.discovered_from,
                "source": item.source,
                "check": _check_dict(item.check),
            }
        }
    )


def loads(data: bytes | str) -> Check | Discovery:
    """The item a worker sent; raises `MessageError` for anything else."""
    try:
        message = json.loads(data)
        if "check" in message:
            return _check(message["check"])
        found = message["discovery"]
        return Discovery(
            found["site"],
            found["source_url"],
            found["target_url"],
            found["discovered_from"],
            _check(found["check"]),
            found["source"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MessageError(f"not a backcheck result: {str(data)[:200]!r} ({exc})") from exc
