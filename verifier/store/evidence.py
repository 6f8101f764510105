"""Evidence shared by a backlink's checks: stored once per distinct set of values.

Night after night most pages show a link as they did before: the same HTML, the
same text around it, canonical, robots directives and redirects. Those values
(`SHARED_EVIDENCE_COLUMNS`) are kept once per backlink and distinct values in the
`evidence` table, and each check names its row (`checks.evidence_id`). What every
fetch measures anew (size, fetch time, content hash, mentions) stays on the check.

Checks written before migration m007 hold their evidence inline; readers take
`coalesce(c.<column>, e.<column>)`, as the view `checks_full` does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from sqlite_utils import Database

from verifier.store.migrations import SHARED_EVIDENCE_COLUMNS

SHARED = tuple(SHARED_EVIDENCE_COLUMNS)

_FIND = f"select id, {', '.join(SHARED)} from evidence where backlink_id = ? and digest = ?"
_INSERT = (
    f"insert into evidence (backlink_id, digest, {', '.join(SHARED)})"
    f" values (?, ?, {', '.join('?' * len(SHARED))})"
)


def digest(values: Sequence[object]) -> int:
    """64 bits of BLAKE2b over the values, as a signed integer (8 bytes in SQLite).

    Keyed per backlink, so a collision needs two of one backlink's evidence sets
    to meet in 2**64; `shared_id` still compares the values before sharing a row.

    >>> digest(["a", None]) == digest(["a", None]), digest(["a", None]) == digest(["a", ""])
    (True, False)
    """
    blob = json.dumps(list(values), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(blob, digest_size=8).digest(), "big", signed=True)


def shared_id(db: Database, backlink_id: int, values: Sequence[object]) -> int | None:
    """The id of the backlink's evidence row holding `values` (in `SHARED` order),
    stored now when new.

    None when there is nothing to share (every value NULL), or when another row of
    this backlink has the same digest (never seen; the check then keeps its values
    inline, which every reader also reads).
    """
    if all(value is None for value in values):
        return None
    key = digest(values)
    found = db.execute(_FIND, [backlink_id, key]).fetchone()
    if found is not None:
        return int(found[0]) if list(found[1:]) == list(values) else None
    cursor = db.execute(_INSERT, [backlink_id, key, *values])
    return int(cursor.lastrowid or 0)
