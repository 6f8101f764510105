"""`report velocity`: links and referring domains won and lost per day, week or month."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

from verifier.reports._registry import Context, Option, Report, Row, on_site

#: A period is a spike (new) or a drop (lost) when its count is at least SPIKE_MIN and
#: more than SPIKE_FACTOR times the median of the site's other periods (at least
#: SPIKE_PEERS of them; periods without events count as 0). The first period of a
#: site's history is its baseline (every imported link is "new" then) and is not judged.
SPIKE_FACTOR = 3
SPIKE_MIN = 5
SPIKE_PEERS = 2

COUNTS = (
    "new_links",
    "lost_links",
    "regained_links",
    "net_links",
    "new_domains",
    "lost_domains",
    "regained_domains",
    "net_domains",
)

_PERIOD = (
    "case coalesce(:by, 'week') when 'day' then date({at})"
    " when 'month' then date({at}, 'start of month')"
    " else date({at}, 'weekday 0', '-6 days') end"
)

VELOCITY_SQL = f"""
    with links_in as (
        -- a link is new when first found live: one pass over a partial index, in its order
        select b.site, b.first_seen as at, count(*) as n
        from backlinks b indexed by idx_backlinks_site_first_seen
        where b.first_seen is not null and {on_site("b.site")}
          and (:since is null or b.first_seen >= :since)
        group by b.site, b.first_seen
    ), firsts as materialized (
        -- a domain is new with its first live link (and, with --vendor, at the vendors'
        -- first date of one of its links): one pass over the index, in its order. Its
        -- links ever found live (`arrivals`) tell `open` which domains can run out of them.
        -- The vendor column is read only with --vendor
        select b.site, b.referring_domain as domain, min(b.first_seen) as at,
               count(b.first_seen) as arrivals,
               min(case when coalesce(:vendor, 0) then b.vendor_first_seen end) as vendor_at
        from backlinks b indexed by idx_backlinks_by_domain
        where {on_site("b.site")}
        group by b.site, b.referring_domain
    ), domains_in as (
        select site, at from firsts where at is not null
    ), moves as materialized (
        -- lost and regained links, from the check history (a partial covering index of
        -- those checks); a link found live only after a lost first verdict is new, not
        -- regained. Read once: three parts below use it
        select b.site, b.referring_domain as domain, c.checked_at as at, c.change as kind
        from checks c indexed by idx_checks_moves
        join backlinks b on b.id = c.backlink_id
        where c.change in ('lost', 'regained') and c.checked_at <> b.first_seen
          and {on_site("b.site")}
    ), moved as materialized (
        -- the domains with a lost or regained link, their first such move, their losses
        select site, domain, min(at) as at, sum(kind = 'lost') as lost
        from moves group by site, domain
    ), open as materialized (
        -- the moved domains that can run out of live links. One with more arrivals before
        -- its first move than losses in all never does: every later moment has at least
        -- one live link left, so it has no lost or regained moment and is not replayed
        -- (nine in ten at 1M backlinks: the big domains, with most of the moves). A NULL
        -- domain matches no link, as in `settled`, and is replayed
        select d.site, d.domain, d.at
        from moved d
        left join firsts f on f.site = d.site and f.domain = d.domain
        where d.domain is null
           or f.arrivals - (select count(*) from backlinks b indexed by idx_backlinks_by_domain
                            where b.site = d.site and b.referring_domain = d.domain
                              and b.first_seen >= d.at) <= d.lost
    ), settled as materialized (
        -- before its first move a domain only gains links, so only its first arrival can
        -- find it without live links: its other arrivals collapse into one row (index
        -- seeks and range counts per domain, no sort)
        select d.site, d.domain,
               (select min(b.first_seen) from backlinks b indexed by idx_backlinks_by_domain
                where b.site = d.site and b.referring_domain = d.domain
                  and b.first_seen < d.at) as first_at,
               (select max(b.first_seen) from backlinks b indexed by idx_backlinks_by_domain
                where b.site = d.site and b.referring_domain = d.domain
                  and b.first_seen < d.at) as last_at,
               (select count(*) from backlinks b indexed by idx_backlinks_by_domain
                where b.site = d.site and b.referring_domain = d.domain
                  and b.first_seen < d.at) as total
        from open d
    ), settled_first as (
        select s.*, (select count(*) from backlinks b indexed by idx_backlinks_by_domain
                     where b.site = s.site and b.referring_domain = s.domain
                       and b.first_seen = s.first_at) as first_n
        from settled s
        where s.total > 0
    ), timeline as (
        -- only the open domains can be lost or regained: replay
        -- their links going live and lost, in order, counting live links as we go;
        -- links that changed in the same batch (one timestamp) move together.
        -- `weight` counts arrivals (links going live), of which only "more than one"
        -- matters: the collapsed early arrivals weigh 1
        select site, domain, at, case when kind = 'lost' then -count(*) else count(*) end
            as delta, kind <> 'lost' as weight
        from moves
        where domain is null or (site, domain) in (select site, domain from open)
        group by site, domain, at, kind
        union all
        select b.site, b.referring_domain, b.first_seen, count(*), 1
        from open d
        join backlinks b indexed by idx_backlinks_by_domain
            on b.site = d.site and b.referring_domain = d.domain and b.first_seen >= d.at
        group by b.site, b.referring_domain, b.first_seen
        union all
        select site, domain, first_at, first_n, 1 from settled_first
        union all
        select site, domain, last_at, total - first_n, 1 from settled_first
        where last_at > first_at
    ), running as (
        select site, at, delta, sum(delta) over w as live_after, sum(weight) over w as arrivals
        from timeline
        window w as (partition by site, domain order by at, delta desc
                     rows unbounded preceding)
    ), vendor_links as (
        -- only with --vendor: the vendors' own first-seen dates (each backlink's earliest,
        -- kept on it by triggers), counted apart; one pass over their index, in its order
        select b.site, b.vendor_first_seen as at, count(*) as n
        from backlinks b indexed by idx_backlinks_vendor_first_seen
        where coalesce(:vendor, 0) and b.vendor_first_seen is not null
          and {on_site("b.site")}
          and (:since is null or b.vendor_first_seen >= :since)
        group by b.site, b.vendor_first_seen
    ), events as (
        -- counted per moment first (a check batch shares one), then per period
        select site, at, n as new_links, 0 as lost_links, 0 as regained_links,
               0 as new_domains, 0 as lost_domains, 0 as regained_domains,
               0 as vendor_new_links, 0 as vendor_new_domains
        from links_in
        union all
        select site, at, 0, sum(kind = 'lost'), sum(kind = 'regained'), 0, 0, 0, 0, 0
        from moves where :since is null or at >= :since
        group by site, at
        union all
        select site, at, 0, 0, 0, count(*), 0, 0, 0, 0
        from domains_in where :since is null or at >= :since
        group by site, at
        union all
        select site, at, 0, 0, 0, 0, sum(delta < 0), sum(delta > 0), 0, 0
        from running
        where (delta < 0 and live_after = 0 or delta > 0 and live_after = delta and arrivals > 1)
          and (:since is null or at >= :since)
        group by site, at
        union all
        select site, at, 0, 0, 0, 0, 0, 0, n, 0
        from vendor_links
        union all
        select site, vendor_at, 0, 0, 0, 0, 0, 0, 0, count(*)
        from firsts
        where vendor_at is not null and (:since is null or vendor_at >= :since)
        group by site, vendor_at
    ), tally as (
        select e.*, {_PERIOD.format(at="at")} as period from events e
    ), origin as (
        -- the site's first run: every link found then is "new" (the baseline period)
        select j.value as site, min(r.started_at) as at
        from runs r, json_each(r.sites) j
        group by j.value
    )
    select t.site, t.period,
           sum(new_links) as new_links, sum(lost_links) as lost_links,
           sum(regained_links) as regained_links,
           sum(new_links) + sum(regained_links) - sum(lost_links) as net_links,
           sum(new_domains) as new_domains, sum(lost_domains) as lost_domains,
           sum(regained_domains) as regained_domains,
           sum(new_domains) + sum(regained_domains) - sum(lost_domains) as net_domains,
           case when coalesce(:vendor, 0) then sum(vendor_new_links) end as vendor_new_links,
           case when coalesce(:vendor, 0) then sum(vendor_new_domains) end
               as vendor_new_domains,
           coalesce(t.period = {_PERIOD.format(at="o.at")}, 0) as baseline
    from tally t left join origin o on o.site = t.site
    group by t.site, t.period
    order by t.site, t.period
"""


def next_period(period: str, by: str) -> str:
    """The start of the period after `period` (an ISO date).

    >>> next_period("2024-01-31", "day"), next_period("2024-12-01", "month")
    ('2024-02-01', '2025-01-01')
    >>> next_period("2024-03-04", "week")
    '2024-03-11'
    """
    start = dt.date.fromisoformat(period)
    if by == "day":
        return (start + dt.timedelta(days=1)).isoformat()
    if by == "month":
        return dt.date(start.year + start.month // 12, start.month % 12 + 1, 1).isoformat()
    return (start + dt.timedelta(days=7)).isoformat()


def _blank(site: str, period: str, vendor: bool) -> Row:
    return {"site": site, "period": period, **dict.fromkeys(COUNTS, 0)} | {
        "vendor_new_links": 0 if vendor else None,
        "vendor_new_domains": 0 if vendor else None,
        "baseline": False,
    }


def fill_gaps(rows: list[Row], by: str, vendor: bool = False) -> list[Row]:
    """Add empty periods between a site's first and last period with checked events.

    Periods outside that range (vendor first-seen dates only) stay as they are.
    """
    by_site: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_site[row["site"]].append(row)
    out: list[Row] = []
    for site, site_rows in by_site.items():
        ours = [r["period"] for r in site_rows if any(r[k] for k in COUNTS)]
        known = {r["period"]: r for r in site_rows}
        if ours:
            period = min(ours)
            while period < max(ours):
                period = next_period(period, by)
                known.setdefault(period, _blank(site, period, vendor))
        out += [known[p] for p in sorted(known)]
    return out


def is_spike(value: int, others: list[int]) -> bool:
    """The spike rule (SPIKE_FACTOR, SPIKE_MIN, SPIKE_PEERS).

    >>> is_spike(9, [1, 2, 3]), is_spike(6, [2, 2, 3]), is_spike(4, [0, 0]), is_spike(9, [1])
    (True, False, False, False)
    """
    if len(others) < SPIKE_PEERS or value < SPIKE_MIN:
        return False
    return value > SPIKE_FACTOR * statistics.median(others)


def flag_spikes(rows: list[Row]) -> list[Row]:
    """Set `new_spike` and `lost_spike` on rows sorted by site and period.

    Judged are a site's periods from the first to the last with checked events
    (continuous after `fill_gaps`), except the baseline period.
    """
    by_site: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        row["new_spike"] = row["lost_spike"] = False
        by_site[row["site"]].append(row)
    for site_rows in by_site.values():
        ours = [r["period"] for r in site_rows if any(r[k] for k in COUNTS)]
        if not ours:
            continue
        low, high = ours[0], ours[-1]
        judged = [r for r in site_rows if low <= r["period"] <= high and not r["baseline"]]
        for row in judged:
            for count, flag in (("new_links", "new_spike"), ("lost_links", "lost_spike")):
                row[flag] = is_spike(row[count], [r[count] for r in judged if r is not row])
    return rows


def _post(rows: list[Row], context: Context) -> list[Row]:
    by = context.params.get("by") or "week"
    return flag_spikes(fill_gaps(rows, by, bool(context.params.get("vendor"))))


def _notes(rows: list[Row], context: Context) -> list[str]:
    notes = []
    for row in rows:
        if row["new_spike"]:
            notes.append(f"{row['site']} {row['period']}: spike of {row['new_links']} new links")
        if row["lost_spike"]:
            notes.append(f"{row['site']} {row['period']}: drop, {row['lost_links']} links lost")
    return notes


VELOCITY = Report(
    name="velocity",
    title="Link velocity",
    sql=VELOCITY_SQL,
    booleans=("baseline",),
    table_columns=(
        "period",
        "new_links",
        "lost_links",
        "regained_links",
        "net_links",
        "new_domains",
        "lost_domains",
        "regained_domains",
        "net_domains",
        "vendor_new_links",
        "new_spike",
        "lost_spike",
    ),
    options=(
        Option(
            "by",
            "Length of a period (weeks start on Monday).",
            choices=("day", "week", "month"),
            default="week",
        ),
        Option("vendor", "Also count the vendors' first-seen dates (vendor_*).", type=bool),
    ),
    post=_post,
    notes=_notes,
    doc="""
        New, lost, regained and net links and referring domains per day, week or month.

        From our own check history: a link is new when first found live, lost when
        a live link is verified lost, regained when a lost one is live again. A
        domain is new with its first live link, lost when its last live link goes,
        regained when one comes back. With --vendor, the vendors' first-seen dates
        from imports are counted apart (vendor_*; null without it), never mixed in
        (slower: it reads every import row). A period is a spike (new_spike) or
        a drop (lost_spike) when its count is at least 5 and more than 3 times the
        median of the site's other periods (at least 2; empty periods count as 0);
        the first period of the history is the baseline (every link is new there) and
        not judged. --since DATE shows periods from DATE on (UTC).

        \b
        JSON keys: site, period (first day, YYYY-MM-DD), new_links, lost_links,
        regained_links, net_links, new_domains, lost_domains, regained_domains,
        net_domains, vendor_new_links, vendor_new_domains, baseline, new_spike,
        lost_spike.

        \b
        Example:
            backcheck report velocity --by month --site acme.com
            backcheck report velocity --by day --since 2024-03-01 --format csv
            backcheck report velocity --by month --vendor --format json
    """,
)
