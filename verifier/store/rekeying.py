"""Keys of URLs made by an older release, made again as the store makes them now.

The release before IDNA 2008 keyed a Unicode host with Python's IDNA 2003 codec, which
maps `ß` to `ss`, `ς` to `σ` and drops the joiners: `faß.example` was keyed as
`fass.example`, another host than the one browsers (and now backcheck) fetch.
`idna_keys` (migration m014) keys those rows again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from verifier.verdict.urls import host_of, identity_key, registered_domain

#: Characters that IDNA 2003 mapped away in a host (ß -> ss, ς -> σ, the joiners U+200C
#: and U+200D dropped) and UTS #46 non-transitional keeps, and the capitals that
#: `normalize_host` lower-cases to them first (ẞ; Σ at a word's end). The old codec kept
#: ACE labels (`xn--fa-hia`) as they were, so a URL holding none of these was keyed alike
#: by both releases.
IDNA_DEVIATIONS = "ßẞςΣ\u200c\u200d"

Row = dict[str, Any]


def _later(a: Any, b: Any) -> bool:
    return a is not None and (b is None or a > b)


def _either(a: Any, b: Any) -> Any:
    return b if a is None else a


def _least(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _greatest(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def _sum(a: Any, b: Any) -> Any:
    return None if a is None and b is None else (a or 0) + (b or 0)


def _union(a: str | None, b: str | None) -> str | None:
    names = [name for name in f"{a or ''},{b or ''}".split(",") if name]
    return ",".join(dict.fromkeys(names)) or None


@dataclass(frozen=True, slots=True)
class _Keyed:
    """A table whose key columns the store fills with `identity_key` of URL columns."""

    table: str
    keys: Mapping[str, str]  # key column -> its URL column (a NULL URL has the key '')
    unique: tuple[str, ...]  # the columns that make a row unique, key columns included
    domain: str | None = None  # registered_domain(host_of(first URL)), as the store writes it
    # On a collision: the row with the greater `latest` gives its values (without one, or
    # on a tie, the row already under the new key: `insert or ignore` keeps the first);
    # `combine` merges columns of both rows as the table's own upsert would.
    latest: str | None = None
    combine: Mapping[str, Callable[[Any, Any], Any]] = field(default_factory=dict)


_BACKLINKS = _Keyed(
    "backlinks",
    {"source_key": "source_url", "target_key": "target_url"},
    ("site", "source_key", "target_key"),
    domain="referring_domain",
)
_KEYED = (
    _BACKLINKS,
    _Keyed(
        "mention_pages",
        {"page_key": "page_url"},
        ("site", "page_key"),
        domain="domain",
        latest="last_seen",
        combine={
            "first_seen": _least,
            "sources": _union,
            "contact_url": _either,
            "contact_read_at": _either,
        },
    ),
    _Keyed(
        "contacts",
        {"page_key": "page_url"},
        ("page_key", "kind", "value"),
        combine={"first_seen": _least},
    ),
    _Keyed(
        "outreach",
        {"page_key": "page_url"},
        ("site", "page_key"),
        latest="updated_at",  # a status a person set after the other row's
        combine={"created_at": _least, "note": _either, "backlink_id": _either},
    ),
    _Keyed(
        "competitor_links",
        {"page_key": "page_url", "target_key": "target_url"},
        ("site", "page_key", "target_key"),
        domain="domain",
        latest="last_seen",
        combine={"first_seen": _least},
    ),
    _Keyed("crawl_pages", {"url_key": "url"}, ("run_id", "url_key")),
    _Keyed("target_checks", {"url_key": "url"}, ("run_id", "url_key")),
    # referral_pages is left out: its URL is written from the host already encoded, so it
    # never holds these characters (and its key always matched it).
    _Keyed(
        "referral_broken",
        {"target_key": "target_url"},
        ("site", "page_key", "source", "target_key"),
        combine={"visits": _sum, "first_day": _least, "last_day": _greatest},
    ),
)


def idna_keys(db: Database, state_columns: Sequence[str]) -> None:
    """Keys of URLs whose host holds ß, ς or a joiner, made by the release that keyed hosts
    with IDNA 2003 (faß.example as fass.example), become `identity_key` of their URL.

    Per table, one scan in SQL picks the rows whose URL holds one of `IDNA_DEVIATIONS`;
    only those are keyed again in Python (as the store keys them), and a row whose key
    stands (the character is in the path, or the row is newer) is left alone, so a second
    run changes nothing. The registered domain of a row keyed again is computed again.

    A row whose new key is taken (a re-import under the new key added a second row) is
    merged with that row, never dropped with its history:

    * backlinks: the older row (smaller id) stays under the new key. It takes the current
      state (verdict, baselines, last check, next check) of whichever row was checked
      last, the earliest first_seen and imported_at, the latest last_live, the sources of
      both and the first expected anchor. Checks, vendor rows, run items, evidence and
      outreach wins of the newer row move to it: in a run that checked both, the later
      check stays; a vendor both have keeps the newer import's values, its gaps filled
      from the other; evidence both have (one digest) is shared. Then the newer row goes.
    * mention_pages, outreach, competitor_links: the row seen (outreach: updated) last
      gives its values, the earliest first_seen (created_at) stays, sources add up; a
      page's mentions are those of that row.
    * contacts, crawl_pages, target_checks: the row already under the new key stays
      (they are written with `insert or ignore`), with the earliest first_seen (contacts).
    * referral_broken: visits add up, first and last day widen (its own upsert).
    """
    for keyed in _KEYED:
        _rekey(db, keyed, tuple(state_columns))


def _rekey(db: Database, keyed: _Keyed, state_columns: tuple[str, ...]) -> None:
    urls = sorted(set(keyed.keys.values()))
    # In SQL: a database without such a host reads no row into Python. The length test
    # first: it passes only non-ASCII URLs (more bytes than characters), and costs a
    # tenth of the glob (0.2 s, not 2.4 s, for 1M backlinks).
    where = " or ".join(
        f'(length("{url}") < length(cast("{url}" as blob)) and "{url}" glob ?)' for url in urls
    )
    pattern = f"*[{IDNA_DEVIATIONS}]*"
    found = _rows(db, f'select * from "{keyed.table}" where {where}', [pattern] * len(urls))
    for candidate in found:
        # Read again: a merge before may have changed it.
        row = _one(db, keyed.table, {c: candidate[c] for c in keyed.unique})
        if row is None:
            continue
        try:
            keys = {
                key: "" if row[url] is None else identity_key(row[url])
                for key, url in keyed.keys.items()
            }
        except ValueError:
            continue  # a URL the store could not have keyed either
        if all(row[key] == value for key, value in keys.items()):
            continue
        fixed: Row = dict(keys)
        if keyed.domain:
            fixed[keyed.domain] = registered_domain(host_of(row[next(iter(keyed.keys.values()))]))
        theirs = _one(db, keyed.table, {**{c: row[c] for c in keyed.unique}, **keys})
        if theirs is None:
            _update(db, keyed.table, fixed, {c: row[c] for c in keyed.unique})
            mine_won = True
        elif keyed is _BACKLINKS:
            _merge_backlinks(db, row, theirs, fixed, state_columns)
            continue
        else:
            mine_won = _merge_rows(db, keyed, row, theirs, fixed)
        if keyed.table == "mention_pages":
            _follow_mentions(db, row["site"], row["page_key"], keys["page_key"], mine_won)


def _merge_rows(db: Database, keyed: _Keyed, mine: Row, theirs: Row, fixed: Row) -> bool:
    """Merge `mine` (under its old key) into `theirs` (under the new one); True when
    `mine` gave the values."""
    mine_won = keyed.latest is not None and _later(mine[keyed.latest], theirs[keyed.latest])
    won, lost = (mine, theirs) if mine_won else (theirs, mine)
    merged = {**won, **{c: how(won[c], lost[c]) for c, how in keyed.combine.items()}, **fixed}
    db.execute(
        f'delete from "{keyed.table}" where ' + " and ".join(f'"{c}" is ?' for c in keyed.unique),
        [mine[c] for c in keyed.unique],
    )
    _update(db, keyed.table, merged, {c: theirs[c] for c in keyed.unique})
    return mine_won


def _follow_mentions(db: Database, site: str, old: str, new: str, old_won: bool) -> None:
    # The terms of the row that won stand (reading a page again replaces its terms); a
    # term both rows had keeps the earliest first_seen.
    won, lost = (old, new) if old_won else (new, old)
    db.execute(
        "update mentions set first_seen = coalesce(min(first_seen, (select l.first_seen"
        " from mentions l where l.site = mentions.site and l.page_key = ?"
        " and l.term = mentions.term)), first_seen) where site = ? and page_key = ?",
        [lost, site, won],
    )
    db.execute("delete from mentions where site = ? and page_key = ?", [site, lost])
    db.execute("update mentions set page_key = ? where site = ? and page_key = ?", [new, site, old])


#: A backlink's current state besides its verdict, which a merge takes from the row
#: checked last.
_STATE_COLUMNS = (
    "last_checked",
    "last_check_id",
    "lost_since",
    "baseline_status",
    "baseline_follow",
    "baseline_anchor",
    "baseline_target",
    "next_check_at",
)

#: What references a backlink, moved from the dropped row (:drop) to the kept (:keep).
_MOVE_BACKLINK = (
    "update backlink_sources set backlink_id = :keep where backlink_id = :drop",
    "update or ignore run_items set backlink_id = :keep where backlink_id = :drop",
    "delete from run_items where backlink_id = :drop",
    # Evidence both have (one digest): the dropped row's checks point at the kept one's.
    "update or ignore evidence set backlink_id = :keep where backlink_id = :drop",
    "update checks set evidence_id = (select k.id from evidence k join evidence d"
    " on d.digest = k.digest where k.backlink_id = :keep and d.id = checks.evidence_id)"
    " where backlink_id = :drop"
    " and evidence_id in (select id from evidence where backlink_id = :drop)",
    "delete from evidence where backlink_id = :drop",
    # One check per backlink and run: in a run that checked both, the later one stays.
    "delete from checks where id in (select case when d.checked_at > k.checked_at"
    " then k.id else d.id end from checks k join checks d on d.run_id = k.run_id"
    " where k.backlink_id = :keep and d.backlink_id = :drop)",
    "update checks set backlink_id = :keep where backlink_id = :drop",
    "update outreach set backlink_id = :keep where backlink_id = :drop",
    "update backlinks set discovered_from = :keep where discovered_from = :drop",
)


def _merge_backlinks(
    db: Database, mine: Row, theirs: Row, fixed: Row, state_columns: tuple[str, ...]
) -> None:
    keep, drop = sorted((mine, theirs), key=lambda row: int(row["id"]))
    state = drop if _later(drop["last_checked"], keep["last_checked"]) else keep
    merged: Row = {column: state[column] for column in (*state_columns, *_STATE_COLUMNS)}
    merged.update(
        sources=_union(keep["sources"], drop["sources"]),
        expected_anchor=keep["expected_anchor"] or drop["expected_anchor"],
        discovered_from=_either(keep["discovered_from"], drop["discovered_from"]),
        imported_at=_least(keep["imported_at"], drop["imported_at"]),
        first_seen=_least(keep["first_seen"], drop["first_seen"]),
        last_live=_greatest(keep["last_live"], drop["last_live"]),
        disavowed_at=_least(keep["disavowed_at"], drop["disavowed_at"]),
        # A referral candidate only while neither row counts as a backlink.
        candidate=keep["candidate"] if drop["candidate"] == 1 else drop["candidate"],
        **fixed,
    )
    if merged["discovered_from"] in (keep["id"], drop["id"]):
        merged["discovered_from"] = None
    last = db.execute("select run_id from checks where id = ?", [merged["last_check_id"]])
    last_run = last.fetchone()
    ids = {"keep": keep["id"], "drop": drop["id"]}
    _merge_vendor_rows(db, keep["id"], drop["id"])
    for sql in _MOVE_BACKLINK:
        db.execute(sql, ids)
    db.execute("delete from backlinks where id = ?", [drop["id"]])
    if last_run is not None:  # that run's check that stayed
        found = db.execute(
            "select id from checks where backlink_id = ? and run_id = ?", [keep["id"], last_run[0]]
        ).fetchone()
        merged["last_check_id"] = found[0] if found else None
    _update(db, "backlinks", merged, {"id": keep["id"]})


def _merge_vendor_rows(db: Database, keep: int, drop: int) -> None:
    # A vendor both rows have: the newer import's values, its gaps filled from the older
    # (as a re-import would). Triggers carry authority and vendor dates along.
    both = db.execute(
        "select source from backlink_sources where backlink_id = ? and source in"
        " (select source from backlink_sources where backlink_id = ?)",
        [drop, keep],
    ).fetchall()
    for (source,) in both:
        kept = _one(db, "backlink_sources", {"backlink_id": keep, "source": source})
        dropped = _one(db, "backlink_sources", {"backlink_id": drop, "source": source})
        assert kept is not None and dropped is not None
        newer, older = (
            (dropped, kept)
            if _later(dropped["imported_at"], kept["imported_at"])
            else (kept, dropped)
        )
        values = {
            c: _either(v, older[c]) for c, v in newer.items() if c not in ("backlink_id", "source")
        }
        db.execute(
            "delete from backlink_sources where backlink_id = ? and source = ?", [drop, source]
        )
        _update(db, "backlink_sources", values, {"backlink_id": keep, "source": source})


def _rows(db: Database, sql: str, params: Sequence[Any]) -> list[Row]:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _one(db: Database, table: str, where: Row) -> Row | None:
    sql = f'select * from "{table}" where ' + " and ".join(f'"{c}" is ?' for c in where)
    found = _rows(db, sql + " limit 1", list(where.values()))
    return found[0] if found else None


def _update(db: Database, table: str, values: Row, where: Row) -> None:
    sets = ", ".join(f'"{c}" = ?' for c in values)
    match = " and ".join(f'"{c}" is ?' for c in where)
    db.execute(f'update "{table}" set {sets} where {match}', [*values.values(), *where.values()])
