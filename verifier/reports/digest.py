"""The alert digest of a run: what changed, as a title, a plain-text body and counts.

`build` is pure (plain rows in, a `Digest` out); `collect` reads those rows for
one run. Sending is the crawler's job (crawler/notify.py): verifier never
imports Apprise, and nothing here ever holds a notification URL.

What counts as news (the issue's contract, one key of `counts` each):

- lost, regained, nofollowed, followed, anchor_changed, target_changed,
  moved_to_js: the check's `change` in this run (moved_to_js: a live link now
  found only after the page's scripts ran, which crawlers that run none miss);
- unreachable: newly unreachable *high-value* links only: the check is
  unreachable, the backlink's previous check was live, and its vendor authority
  (the highest of domain_rating, domain_authority, trust_flow over its sources)
  is at least `min_authority` (BACKCHECK_NOTIFY_MIN_AUTHORITY, default 30; 0
  counts every link, even one without metrics);
- unlinked_mentions: outreach targets (a page mentions the site, links to it
  nowhere) first seen during this run.

`new` checks (a first run) and repeated `unreachable` ones are never news.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlite_utils import Database

from verifier.models import Change

#: Kinds of news in digest order: (key of `Digest.counts`, heading). A public contract.
KINDS: tuple[tuple[str, str], ...] = (
    ("lost", "Lost"),
    ("regained", "Regained"),
    ("nofollowed", "Now nofollow"),
    ("followed", "Now followed"),
    ("anchor_changed", "Anchor changed"),
    ("target_changed", "Target changed"),
    ("moved_to_js", "Found only after scripts run"),
    ("unreachable", "Newly unreachable (high value)"),
    ("unlinked_mentions", "New unlinked mentions"),
)
#: Vendor authority (0-100) from which a newly unreachable link is worth an alert.
DEFAULT_MIN_AUTHORITY = 30.0
#: Items listed per kind; the rest are counted ("... and N more").
DEFAULT_CAP = 20
#: The whole message for a run in state `degraded` (no per-link digest: the
#: crawler saw nothing, so every "change" in it would be noise).
DEGRADED = "run degraded: the crawler could not reach the web"

_CHANGES = {
    Change.LOST,
    Change.REGAINED,
    Change.NOFOLLOWED,
    Change.FOLLOWED,
    Change.ANCHOR_CHANGED,
    Change.TARGET_CHANGED,
    Change.MOVED_TO_JS,
}


@dataclass(frozen=True, slots=True)
class Item:
    """One piece of news: a backlink's change, or a page with a new unlinked mention."""

    kind: str  # a key of KINDS
    page_url: str
    target_url: str | None = None
    reason: str | None = None
    anchor: str | None = None
    before: str | None = None  # the previous anchor or target (anchor/target changes)
    after: str | None = None  # the new one
    authority: float | None = None
    title: str | None = None  # a mention page's title


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the digest says about the run itself."""

    run_id: int
    state: str  # running, finished, failed, interrupted, degraded
    kind: str = "verify"
    sites: tuple[str, ...] = ()
    backlinks: int = 0
    live: int = 0
    lost: int = 0
    unreachable: int = 0
    error: str | None = None
    first: bool = False  # no earlier run covers these sites


@dataclass(frozen=True, slots=True)
class Digest:
    title: str
    body: str
    counts: dict[str, int] = field(default_factory=dict)  # KINDS key -> items (all, not capped)

    @property
    def changed(self) -> bool:
        return any(self.counts.values())


def is_high_value(authority: float | None, min_authority: float) -> bool:
    """Worth an alert when unreachable; referral visits (a later issue) join here.

    >>> is_high_value(45, 30), is_high_value(None, 30), is_high_value(None, 0)
    (True, False, True)
    """
    return (authority or 0.0) >= min_authority


def build(
    run: RunFacts, items: Sequence[Item], *, always: bool = False, cap: int = DEFAULT_CAP
) -> Digest | None:
    """The digest to send for a run, or None when there is nothing to say.

    A degraded run gets one fixed message. Otherwise nothing is sent unless
    something changed (or `always`: then a "nothing changed" digest).
    """
    where = f" ({', '.join(run.sites)})" if run.sites else ""
    if run.state == "degraded":
        return Digest(f"backcheck: run {run.run_id}{where} degraded", DEGRADED + "\n")
    if run.first:
        # A first run finds every mention page for the first time: like its `new`
        # backlinks, that is the starting point, not news.
        items = [item for item in items if item.kind != "unlinked_mentions"]
    counts = {key: sum(1 for item in items if item.kind == key) for key, _ in KINDS}
    if not any(counts.values()) and not always:
        return None
    news = ", ".join(f"{counts[key]} {heading.lower()}" for key, heading in KINDS if counts[key])
    title = f"backcheck: run {run.run_id}{where}: {news or 'nothing changed'}"
    lines = [_headline(run), ""]
    for key, heading in KINDS:
        chosen = [item for item in items if item.kind == key]
        if not chosen:
            continue
        lines.append(f"{heading} ({len(chosen)}):")
        lines.extend(f"- {_describe(item)}" for item in chosen[:cap])
        if len(chosen) > cap:
            lines.append(f"- ... and {len(chosen) - cap} more")
        lines.append("")
    if not news:
        lines.append("Nothing changed since the last checks.")
    return Digest(title, "\n".join(lines).rstrip() + "\n", counts)


def _headline(run: RunFacts) -> str:
    state = run.state if not run.error else f"{run.state} ({run.error})"
    return (
        f"Run {run.run_id} ({run.kind}) {state}: {run.backlinks} backlinks checked;"
        f" live {run.live}, lost {run.lost}, unreachable {run.unreachable}."
    )


def _describe(item: Item) -> str:
    link = f"{item.page_url} -> {item.target_url}" if item.target_url else item.page_url
    if item.kind in ("anchor_changed", "target_changed"):
        return f"{link}: {_quoted(item.before)} -> {_quoted(item.after)}"
    if item.kind == "unlinked_mentions":
        return f"{item.page_url} ({item.title})" if item.title else item.page_url
    details = [item.reason] if item.reason else []
    if item.anchor:
        details.append(f"anchor {_quoted(item.anchor)}")
    if item.kind == "unreachable" and item.authority is not None:
        details.append(f"authority {item.authority:g}")
    return f"{link}: {', '.join(details)}" if details else link


def _quoted(text: str | None) -> str:
    return json.dumps(text, ensure_ascii=False) if text is not None else "(none)"


# --- reading a run ------------------------------------------------------------

#: The highest vendor metric over the backlink's sources; NULL when no source has one.
_AUTHORITY = """
    (select nullif(max(max(coalesce(s.domain_rating, -1), coalesce(s.domain_authority, -1),
                           coalesce(s.trust_flow, -1))), -1)
     from backlink_sources s where s.backlink_id = b.id)
"""
#: Every check of the run that may be news, with the backlink's previous check
#: (`prev`, for "newly unreachable") and last live-or-lost one (`base`, what
#: `change` was decided against: the old anchor and target, a lost link's anchor and,
#: for a backlink imported without a target (any link counts), the target it had).
#: Checks of degraded runs count for neither (verifier/store/outage.py).
_CHECKS = f"""
    with degraded as (select id from runs where state = 'degraded')
    select c.change, b.source_url, coalesce(b.target_url, base.observed_target), c.reason,
           c.nofollow_source, c.anchor, c.observed_target, base.anchor, base.observed_target,
           prev.status, {_AUTHORITY}
    from checks c
    join backlinks b on b.id = c.backlink_id
    join sites s on s.domain = b.site and s.role is not 'competitor'  -- not a rival's links
    left join checks prev on prev.id = (
        select max(q.id) from checks q where q.backlink_id = c.backlink_id and q.id < c.id
          and q.run_id not in degraded)
    left join checks base on base.id = (
        select max(q.id) from checks q
        where q.backlink_id = c.backlink_id and q.id < c.id and q.status != 'unreachable'
          and q.run_id not in degraded)
    where c.run_id = ? and c.change not in ('new', 'unchanged')
    order by b.source_url, b.target_url
"""
_MENTIONS = """
    select o.page_url, m.title from outreach o
    left join mention_pages m on m.site = o.site and m.page_key = o.page_key
    where o.site in (select value from json_each(?))
      and o.created_at >= ? and o.created_at <= ?
    order by o.page_url
"""


def run_facts(db: Database, run_id: int) -> RunFacts | None:
    row = db.execute(
        "select state, coalesce(kind, 'verify'), sites, backlinks, live, lost, unreachable,"
        " error, exists (select 1 from runs r where r.sites = runs.sites and r.id < runs.id)"
        " from runs where id = ?",
        [run_id],
    ).fetchone()
    if row is None:
        return None
    state, kind, sites, backlinks, live, lost, unreachable, error, earlier = row
    return RunFacts(
        run_id,
        state,
        kind,
        tuple(json.loads(sites or "[]")),
        backlinks or 0,
        live or 0,
        lost or 0,
        unreachable or 0,
        error,
        first=not earlier,
    )


def collect(db: Database, run_id: int, min_authority: float = DEFAULT_MIN_AUTHORITY) -> list[Item]:
    """The run's news, in digest order within each kind (page URL, then target)."""
    items = []
    for row in db.execute(_CHECKS, [run_id]).fetchall():
        change, page, target, reason, nofollow, anchor, observed, old_anchor, old_target = row[:9]
        prev_status, authority = row[9:]
        if change == Change.UNREACHABLE:
            if prev_status == "live" and is_high_value(authority, min_authority):
                items.append(Item("unreachable", page, target, reason, authority=authority))
        elif change == Change.ANCHOR_CHANGED:
            items.append(Item(change, page, target, before=old_anchor, after=anchor))
        elif change == Change.TARGET_CHANGED:
            items.append(Item(change, page, target, before=old_target, after=observed))
        elif change in _CHANGES:
            detail = f"via {nofollow}" if change == Change.NOFOLLOWED and nofollow else reason
            items.append(Item(change, page, target, detail, anchor or old_anchor))
    started, finished, sites = db.execute(
        "select started_at, coalesce(finished_at, '9999'), sites from runs where id = ?",
        [run_id],
    ).fetchone()
    for page, title in db.execute(_MENTIONS, [sites, started, finished]).fetchall():
        items.append(Item("unlinked_mentions", page, title=title))
    return items
