"""JSON for the scrapy-redis request queue (`SCHEDULER_SERIALIZER`), instead of pickle.

scrapy-redis pickles queued requests by default: anyone who can write to the
Redis server could then run code on every worker. This module stores
`Request.to_dict()` as JSON; bytes (headers, bodies) and dicts with bytes keys
(headers) are tagged so that they come back as they went in.
"""

from __future__ import annotations

import base64
import json
from typing import Any

_BYTES = "__bytes__"
_PAIRS = "__pairs__"


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value) and not {_BYTES, _PAIRS} & value.keys():
            return {key: _encode(item) for key, item in value.items()}
        return {_PAIRS: [[_encode(key), _encode(item)] for key, item in value.items()]}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if _BYTES in value:
            return base64.b64decode(value[_BYTES])
        if _PAIRS in value:
            return {_decode(key): _decode(item) for key, item in value[_PAIRS]}
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def dumps(obj: Any) -> bytes:
    """A request dict as JSON; raises `TypeError` for a value JSON cannot hold.

    >>> loads(dumps({"headers": {b"Accept": [b"text/html"]}, "body": b""}))
    {'headers': {b'Accept': [b'text/html']}, 'body': b''}
    """
    return json.dumps(_encode(obj), separators=(",", ":")).encode("utf-8")


def loads(data: bytes | str) -> Any:
    return _decode(json.loads(data))
