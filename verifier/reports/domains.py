"""`report referring-domains` and `report follow-ratio`: the profile by registered domain."""

from __future__ import annotations

from verifier.reports._registry import Context, Report, Row, on_site
from verifier.reports.referrals import COUNTED

REFERRING_DOMAINS = Report(
    name="referring-domains",
    title="Referring domains",
    sql=f"""
        with domains as (
            select b.site, b.referring_domain,
                   sum(b.status = 'live') as live_links,
                   sum(b.status = 'live' and b.follow) as followed_links,
                   -- unreachable after a lost verdict keeps lost_since: still lost
                   sum(b.status = 'unreachable' and b.lost_since is null) as unsure_links,
                   sum(b.status = 'lost' or b.lost_since is not null) as lost_links,
                   count(*) as backlinks,
                   min(b.first_seen) as first_seen,
                   max(b.last_live) as last_live,
                   coalesce(max(case when b.last_live is not null then b.lost_since end),
                            max(b.lost_since)) as last_lost_since
            from backlinks b indexed by idx_backlinks_by_domain
            where {on_site("b.site")}
              and {COUNTED}  -- not referral candidates never found live
            group by b.site, b.referring_domain
        ), rated as (
            select d.*,
                   case when live_links > 0 then 'live'
                        when unsure_links > 0 then 'unreachable'
                        when lost_links > 0 then 'lost' end as status
            from domains d
        )
        select site, referring_domain, status, live_links, followed_links, lost_links,
               backlinks, first_seen, last_live,
               case when status = 'lost' then last_lost_since end as lost_since
        from rated
        where :since is null or first_seen >= :since
           or (status = 'lost' and last_lost_since >= :since)
        order by site, live_links desc, followed_links desc, referring_domain
    """,
    table_columns=(
        "referring_domain",
        "status",
        "live_links",
        "followed_links",
        "backlinks",
        "first_seen",
        "last_live",
        "lost_since",
    ),
    doc="""
        One row per referring (registered) domain: live and followed links, first seen, lost.

        A domain is `live` while any of its links is live, `unreachable` while none
        is live but one could not be verified, and `lost` only when its last live
        link is lost; `lost_since` is then when that last link went. Private
        suffixes (blogspot.com, github.io …) make separate domains. --since DATE
        keeps domains first seen, or lost, on or after DATE.

        \b
        JSON keys: site, referring_domain, status (live, unreachable, lost; null
        when never checked), live_links, followed_links, lost_links, backlinks,
        first_seen, last_live, lost_since.

        \b
        Example:
            backcheck report referring-domains --site acme.com --format csv > domains.csv
    """,
)

#: The followed share of referring domains taken as natural: around the common
#: rule of thumb of 3:1 (75 %) followed, from 1.5:1 (60 %) to about 5.7:1 (85 %).
HEALTHY_FOLLOWED_SHARE = (0.60, 0.85)


def follow_verdict(
    share: float | None, healthy: tuple[float, float] = HEALTHY_FOLLOWED_SHARE
) -> str:
    """Where a followed share stands against the healthy range.

    >>> follow_verdict(0.75), follow_verdict(0.4), follow_verdict(0.97), follow_verdict(None)
    ('healthy', 'too_few_followed', 'too_few_nofollow', 'no_live_links')
    """
    if share is None:
        return "no_live_links"
    low, high = healthy
    if share < low:
        return "too_few_followed"
    if share > high:
        return "too_few_nofollow"
    return "healthy"


def _rate(rows: list[Row], context: Context) -> list[Row]:
    low, high = HEALTHY_FOLLOWED_SHARE
    for row in rows:
        row["healthy_min"], row["healthy_max"] = low, high
        row["verdict"] = follow_verdict(row["followed_share"])
    return rows


_SAYS = {
    "healthy": "within the healthy range",
    "too_few_followed": "below the healthy range: few of your links pass authority",
    "too_few_nofollow": "above the healthy range: a profile this clean can look unnatural",
    "no_live_links": "no live links yet",
}


def _follow_notes(rows: list[Row], context: Context) -> list[str]:
    notes = []
    for row in rows:
        if row["basis"] != "domains":
            continue
        ratio = "n/a" if row["ratio"] is None else f"{row['ratio']:.1f}:1"
        share = row["followed_share"]
        notes.append(
            f"{row['site']}: {row['followed']} of {row['total']} referring domains followed"
            f" ({ratio}, {0 if share is None else share:.0%}); healthy "
            f"{row['healthy_min']:.0%}-{row['healthy_max']:.0%} (about 3:1): "
            + _SAYS[row["verdict"]]
        )
    return notes


#: rel tokens, any case (LIKE folds ASCII case), each link counted once: sponsored, else
#: ugc, else nofollow. CASE, not AND: SQLite evaluates both sides of an AND in a result.
_SPONSORED = "' ' || b.rel || ' ' like '% sponsored %'"
_UGC = "' ' || b.rel || ' ' like '% ugc %'"

FOLLOW_RATIO = Report(
    name="follow-ratio",
    title="Followed and not-followed links",
    sql=f"""
        with domains as (
            -- the index covers every column, in domain order: one pass, no sorting
            -- (+status: an equality on it would make SQLite sort anyway)
            select b.site, count(*) as links, sum(coalesce(b.follow, 0)) as followed_links,
                   sum(case when b.follow then 0
                            else b.nofollow_source in ('meta', 'header') end) as page_level,
                   sum(case when b.follow or b.nofollow_source is not 'rel' then 0
                            else {_SPONSORED} end) as sponsored,
                   sum(case when b.follow or b.nofollow_source is not 'rel' then 0
                            when {_SPONSORED} then 0 else {_UGC} end) as ugc
            from backlinks b indexed by idx_backlinks_by_domain
            where +b.status = 'live' and {on_site("b.site")}
              and (:since is null or b.first_seen >= :since)
            group by b.site, b.referring_domain
        ), kinds as (
            select d.*, links - followed_links - page_level - sponsored - ugc as nofollow
            from domains d
        ), counts as (
            select site, 'domains' as basis, count(*) as total, sum(followed_links > 0) as followed,
                   sum(followed_links = 0 and sponsored > 0) as sponsored,
                   sum(followed_links = 0 and sponsored = 0 and ugc > 0) as ugc,
                   sum(followed_links = 0 and sponsored = 0 and ugc = 0 and nofollow > 0)
                       as nofollow,
                   sum(followed_links = 0 and sponsored = 0 and ugc = 0 and nofollow = 0)
                       as page_level
            from kinds group by site
            union all
            select site, 'links', sum(links), sum(followed_links), sum(sponsored), sum(ugc),
                   sum(nofollow), sum(page_level)
            from kinds group by site
        )
        select s.domain as site, k.basis, coalesce(c.total, 0) as total,
               coalesce(c.followed, 0) as followed,
               coalesce(c.total - c.followed, 0) as not_followed,
               coalesce(c.nofollow, 0) as nofollow, coalesce(c.ugc, 0) as ugc,
               coalesce(c.sponsored, 0) as sponsored, coalesce(c.page_level, 0) as page_level,
               round(1.0 * c.followed / nullif(c.total, 0), 4) as followed_share,
               round(1.0 * c.followed / nullif(c.total - c.followed, 0), 2) as ratio
        from sites s
        join (select 'domains' as basis union all select 'links') k
        left join counts c on c.site = s.domain and c.basis = k.basis
        where (:site is null or s.domain = :site) and s.role is not 'competitor'
        order by s.domain, k.basis
    """,
    table_columns=(
        "site",
        "basis",
        "total",
        "followed",
        "not_followed",
        "nofollow",
        "ugc",
        "sponsored",
        "page_level",
        "followed_share",
        "ratio",
        "verdict",
    ),
    post=_rate,
    notes=_follow_notes,
    doc="""
        Followed against not-followed live links, by referring domains and by links.

        A domain counts as followed when at least one of its live links is. Links
        not followed are split (each once): `sponsored`, else `ugc`, else `nofollow`
        by their rel tokens (any case), or `page_level` for a robots meta or
        X-Robots-Tag nofollow; a not-followed domain takes the first of those its
        links show. `verdict` compares followed_share with the healthy range 60%-85%
        (the rule of thumb is about 3:1 followed by domains): healthy,
        too_few_followed, too_few_nofollow or no_live_links. --since DATE counts only
        links first seen on or after DATE.

        \b
        JSON keys: site, basis (domains, links), total, followed, not_followed,
        nofollow, ugc, sponsored, page_level, followed_share, ratio (followed per
        not followed; null when all are followed), healthy_min, healthy_max, verdict.

        \b
        Example:
            backcheck report follow-ratio --site acme.com
    """,
)
