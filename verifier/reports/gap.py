"""Competitor reports: the link gap, the intersect, and the site against its competitors.

All three read competitors' backlinks (`import --competitor`, `verify --competitors`,
`crawl`), stored under the competitor's own domain, and count only links live at
their last check (`unreachable` and a link the competitor lost do not link). Domains
are registered domains, private suffixes split (as in `referring-domains`).
"""

from __future__ import annotations

import json

from verifier.reports._registry import Context, Option, Report, Row

#: The user's sites in scope, and their competitors (all, or the `--competitor`s named).
_RIVALS = """
    chosen as (
        select s.domain as site, s.competitors from sites s
        where (:site is null or s.domain = :site) and s.role is not 'competitor'
    ), rivals as materialized (
        select c.site, j.value as competitor from chosen c, json_each(c.competitors) j
        where :competitor is null or j.value in (select value from json_each(:competitor))
    ), scope as (
        -- `names`: ",a.com,b.com," for a cheap test of a backlink's site (instr)
        select site, count(*) as named, ',' || group_concat(competitor) || ',' as names
        from rivals group by site
    ), crawls as materialized (
        -- discovery's crawl runs of the sites: their pages were read for the brand
        select r.id, c.site from chosen c join runs r
        on r.kind = 'crawl' and r.sites = json_array(c.site)
    )"""

#: Per referring domain, the live links to the competitors, from `domain_links` (kept
#: per site and referring domain by triggers: ~40,000 rows per competitor to read, not
#: every live link), per competitor first, then per domain.
_DOMAINS = """
    per_rival as (
        select s.domain as competitor, l.referring_domain, l.live_links as links,
               l.followed_links, nullif(l.authority, -1) as authority, l.authority_source
        from sites s cross join domain_links l on l.site = s.domain
        where s.domain in (select competitor from rivals) and l.live_links > 0
    ), domains as (
        -- the only max() of this select: authority_source comes from its row
        select r.site, p.referring_domain, count(*) as competitor_count,
               sum(p.followed_links > 0) as followed_competitors,
               json_group_array(p.competitor) as competitors,
               sum(p.links) as links, sum(p.followed_links) as followed_links,
               max(p.authority) as authority, p.authority_source
        from per_rival p join rivals r on r.competitor = p.competitor
        group by r.site, p.referring_domain
    )"""

#: The page to pitch on a domain: a followed competitor link first, then the most
#: competitor links, then the vendor authority.
_BEST_PAGE = """
    (select o.source_url from backlinks o where o.id = (
        select min(b.id) from backlinks b indexed by idx_backlinks_live_by_page
        where b.referring_domain = d.referring_domain and b.status = 'live'
          and instr(k.names, ',' || b.site || ',')
        group by b.source_key
        order by max(coalesce(b.follow, 0)) desc, count(*) desc,
                 max(coalesce(b.authority, -1)) desc, b.source_key
        limit 1))"""

#: The site's brand on the domain's pages: 1 when a page read there mentions it (text
#: or title); 0 when pages were read (discovery, or a check that read the page for
#: mentions) and none does; NULL when none was read.
_MENTIONS_BRAND = """
    case
        when exists (select 1 from mention_pages mp
                     where mp.site = d.site and mp.domain = d.referring_domain
                       and exists (select 1 from mentions m
                                   where m.site = mp.site and m.page_key = mp.page_key
                                     and m.kind in ('text', 'title'))) then 1
        when exists (select 1 from mention_pages mp
                     where mp.site = d.site and mp.domain = d.referring_domain)
          or exists (select 1 from crawls r join crawl_pages p
                     on p.run_id = r.id and p.domain = d.referring_domain
                     where r.site = d.site and p.ok)
          or exists (select 1 from rivals r
                     join backlinks b indexed by idx_backlinks_by_domain
                       on b.site = r.competitor and b.referring_domain = d.referring_domain
                     join checks c on c.id = b.last_check_id
                     where r.site = d.site and c.mentions is not null)
          or exists (select 1 from backlinks b indexed by idx_backlinks_by_domain
                     join checks c on c.id = b.last_check_id
                     where b.site = d.site and b.referring_domain = d.referring_domain
                       and c.mentions is not null) then 0
    end"""

#: Whether the site itself has a live link from the domain.
#: The site's own row of the domain (its live links there; its vendor authority).
_SITE_ROW = (
    "left join domain_links o on o.site = d.site and o.referring_domain = d.referring_domain"
)
_LINKS_TO_SITE = "coalesce(o.live_links, 0) > 0"
#: The highest vendor authority known on the domain's links, competitors' or the site's.
_SITE_HIGHER = "nullif(o.authority, -1) > coalesce(d.authority, -1)"

_COLUMNS = f"""
    d.site, d.referring_domain, d.competitors, d.competitor_count, d.followed_competitors,
    d.links, d.followed_links, {_BEST_PAGE} as best_page,
    case when {_SITE_HIGHER} then o.authority else d.authority end as authority,
    case when {_SITE_HIGHER} then o.authority_source else d.authority_source end
        as authority_source,
    {_MENTIONS_BRAND} as mentions_brand"""


def _arrays(rows: list[Row], context: Context) -> list[Row]:
    for row in rows:
        row["competitors"] = sorted(json.loads(row["competitors"] or "[]"))
    return rows


_KEYS = """
        JSON keys: site, referring_domain, competitors (array), competitor_count,
        followed_competitors, links (live competitor links on the domain), followed_links,
        best_page (the page to pitch: a followed link first, then the most competitor
        links, then vendor authority), authority (the highest vendor authority known
        for the domain, from any of its links, the site's included, on the vendor's own
        0-100 scale) and authority_source (DR, DA, TF or AS: Ahrefs, Moz, Majestic,
        Semrush), mentions_brand (true: a page read on the domain
        mentions the brand; false: pages were read, none does; null: none was read)"""

_COMPETITOR = Option(
    "competitor",
    "Only this competitor (its domain; repeatable). Default: all of the site's.",
    multiple=True,
)

GAP = Report(
    name="gap",
    title="Domains that link to competitors but not to us",
    sql=f"""
        with {_RIVALS}, {_DOMAINS}
        select {_COLUMNS}
        from domains d join scope k on k.site = d.site {_SITE_ROW}
        where case when coalesce(:followed_only, 0) then d.followed_competitors
                   else d.competitor_count end
              >= coalesce(:min_competitors, min(2, k.named))
          and not {_LINKS_TO_SITE}
        order by d.site, d.competitor_count desc, d.followed_links desc,
                 d.authority desc nulls last, d.links desc, d.referring_domain
    """,
    booleans=("mentions_brand",),
    table_columns=(
        "referring_domain",
        "competitors",
        "links",
        "followed_links",
        "authority",
        "authority_source",
        "mentions_brand",
        "best_page",
    ),
    options=(
        Option(
            "min_competitors",
            "Competitors a domain must link to (default: 2, or 1 when the site has one).",
            type=int,
            minimum=1,
        ),
        Option(
            "followed_only",
            "Count only followed competitor links toward --min-competitors.",
            type=bool,
        ),
        _COMPETITOR,
    ),
    post=_arrays,
    doc=f"""
        Referring domains with live links to at least K of the site's competitors and no
        live link to the site: the sites to ask next.

        Competitors' backlinks come from `backcheck import FILE --competitor DOMAIN` and
        are checked by `backcheck verify --competitors` (the gap is built on links live
        today, not on a vendor's index); links `crawl` finds join them.
        {_KEYS}.

        \b
        Example:
            backcheck report gap --min-competitors 2 --followed-only --format json
    """,
)

INTERSECT = Report(
    name="intersect",
    title="Domains that link to every named competitor",
    sql=f"""
        with {_RIVALS}, {_DOMAINS}
        select {_COLUMNS}, {_LINKS_TO_SITE} as links_to_site
        from domains d join scope k on k.site = d.site {_SITE_ROW}
        where d.competitor_count = k.named
        order by d.site, links_to_site, d.followed_links desc, d.authority desc nulls last,
                 d.links desc, d.referring_domain
    """,
    booleans=("mentions_brand", "links_to_site"),
    table_columns=(
        "referring_domain",
        "links_to_site",
        "links",
        "followed_links",
        "authority",
        "authority_source",
        "mentions_brand",
        "best_page",
    ),
    options=(_COMPETITOR,),
    post=_arrays,
    doc=f"""
        Referring domains with live links to every named competitor (`--competitor`,
        repeatable; default: all of the site's), whether or not they link to us.
        {_KEYS}, links_to_site (the site has a live link from the domain).

        \b
        Example:
            backcheck report intersect --competitor widgetco.com --competitor gizmo.io
    """,
)

COMPETITORS = Report(
    name="competitors",
    title="The site against its competitors",
    sql="""
        with chosen as (
            select s.domain as site, s.competitors from sites s
            where (:site is null or s.domain = :site) and s.role is not 'competitor'
        ), rows as (
            select c.site, c.site as domain, 1 as is_site, 0 as rank from chosen c
            union all
            select c.site, j.value, 0, j.key + 1 from chosen c, json_each(c.competitors) j
        ), totals as (
            -- a referring domain counts when one of its links is live; followed when one
            -- of its live links is (domain_links: kept per site and domain by triggers)
            select r.site, r.domain, sum(l.live_links) as live_links,
                   sum(l.followed_links) as followed_links, count(*) as referring_domains,
                   sum(l.followed_links > 0) as followed_domains
            from rows r join domain_links l on l.site = r.domain
            where l.live_links > 0
            group by r.site, r.domain
        )
        select r.site, r.domain, r.is_site, coalesce(t.live_links, 0) as live_links,
               (select count(*) from backlinks b indexed by idx_backlinks_site_status
                where b.site = r.domain and b.status = 'lost') as lost_links,
               coalesce(t.referring_domains, 0) as referring_domains,
               round(1.0 * t.followed_domains / nullif(t.referring_domains, 0), 4)
                   as followed_domain_share,
               round(1.0 * t.followed_links / nullif(t.live_links, 0), 4)
                   as followed_link_share
        from rows r left join totals t on t.site = r.site and t.domain = r.domain
        order by r.site, r.rank
    """,
    booleans=("is_site",),
    doc="""
        One row for the site and one per competitor: live and lost links, referring
        domains with a live link, and the share of those domains (and links) that are
        followed. Competitors' links come from `import --competitor` and
        `verify --competitors`.

        JSON keys: site, domain, is_site, live_links, lost_links, referring_domains,
        followed_domain_share, followed_link_share.

        \b
        Example:
            backcheck report competitors --format json
    """,
)
