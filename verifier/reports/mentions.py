"""Discovery reports: brand mentions, the outreach queue, and links to competitors.

The outreach priority is documented in `PRIORITY_DOC` and computed once, in
`_PAGES_SQL`, for both `report mentions` and `outreach list`.
"""

from __future__ import annotations

import json

from verifier.reports._registry import Context, Option, Report, Row

PRIORITY_DOC = """
        \b
        priority (0-100) = 100 x (0.35 authority + 0.25 main + 0.15 competitors
                                  + 0.15 recency + 0.10 body), x 0.25 when noindex, where
          authority   the highest vendor authority (DR, DA, TF) known for the page's
                      domain, / 100 (0 when unknown)
          main        1 when a mention sits in the page's main content (not boilerplate)
          competitors 1 when the page's domain links to a competitor
          recency     1 - days since first seen / 90 (0 after 90 days)
          body        1 for a mention in the body or an image use, 0 for title only
        noindex pages come last whatever their score."""


def _pages_sql(extra_filter: str = "") -> str:
    """CTEs: one row per page read by discovery that mentions the site (or shows its
    image), with its outreach facts (`scored`). Parameters: :site, :now."""
    return _PAGES_SQL.replace("/* filter */", extra_filter)


_PAGES_SQL = """
    pages as (
        select mp.* from mention_pages mp
        where (:site is null or mp.site = :site) /* filter */
          and exists (select 1 from mentions m where m.site = mp.site and m.page_key = mp.page_key)
    ), authority as (
        select b.site, b.referring_domain as domain,
               max(max(coalesce(s.domain_rating, 0), coalesce(s.domain_authority, 0),
                       coalesce(s.trust_flow, 0))) as authority
        from backlinks b join backlink_sources s on s.backlink_id = b.id
        where b.referring_domain in (select domain from pages)
        group by b.site, b.referring_domain
    ), scored as (
        select p.*, a.authority,
               round(100 * (
                   0.35 * min(1.0, coalesce(a.authority, 0) / 100.0)
                   + 0.25 * exists (select 1 from mentions m where m.site = p.site
                                    and m.page_key = p.page_key and m.placement = 'main')
                   + 0.15 * exists (select 1 from competitor_links c
                                    where c.site = p.site and c.domain = p.domain)
                   + 0.15 * min(1.0, max(0.0, 1 - (julianday(coalesce(:now, 'now'))
                                                   - julianday(p.first_seen)) / 90.0))
                   + 0.10 * exists (select 1 from mentions m where m.site = p.site
                                    and m.page_key = p.page_key and m.kind != 'title')
               ) * case when p.page_noindex then 0.25 else 1 end, 1) as priority,
               (select json_group_array(value) from (
                   select distinct c.value from contacts c
                   where c.page_key = p.page_key and c.kind = 'email' order by c.value)
               ) as emails,
               (select c.value from contacts c where c.page_key = p.page_key
                and c.kind = 'author' order by c.rowid limit 1) as author,
               case
                   when p.reason is not null then p.reason
                   when p.page_links_to_site then null
                   when exists (select 1 from mentions m where m.site = p.site
                                and m.page_key = p.page_key and m.kind != 'image_use')
                       then 'unlinked_mention'
                   else 'image_use'
               end as outreach_reason,
               o.status as outreach_status, o.note, o.updated_at as outreach_updated_at
        from pages p
        left join authority a on a.site = p.site and a.domain = p.domain
        left join outreach o on o.site = p.site and o.page_key = p.page_key
    )
"""


def _arrays(rows: list[Row], context: Context) -> list[Row]:
    for row in rows:
        row["emails"] = json.loads(row["emails"]) if row.get("emails") else []
    return rows


MENTIONS = Report(
    name="mentions",
    title="Pages that mention the brand",
    sql=f"""
        with {_pages_sql("and (:unlinked is null or not :unlinked or not mp.page_links_to_site)")}
        select s.page_url, s.domain, s.title, m.term, m.kind, m.context, m.placement, m.linked,
               s.page_links_to_site, s.page_noindex, s.emails, s.contact_url, s.author,
               s.source, m.first_seen, m.last_seen, s.outreach_status, s.priority,
               case when s.outreach_reason = 'unlinked_mention' and m.kind = 'image_use'
                    then 'image_use' else s.outreach_reason end as reason, s.site
        from scored s join mentions m on m.site = s.site and m.page_key = s.page_key
        where (:since is null or m.first_seen >= :since)
        order by s.page_noindex, s.priority desc, s.page_url, m.term
    """,
    booleans=("linked", "page_links_to_site", "page_noindex"),
    table_columns=("priority", "reason", "term", "kind", "placement", "linked", "page_url"),
    options=(
        Option(
            "unlinked",
            "Only pages that do not link to the site (outreach targets).",
            type=bool,
        ),
    ),
    post=_arrays,
    doc=f"""
        Pages that mention the brand (or show the site's images), one row per page and term.

        kind: text (in the body), title (only in the title) or image_use (term is
        the image URL, context its alt text). linked: every occurrence sits in a
        link to the site. reason: link_removed for a lost backlink's page,
        else unlinked_mention, or image_use on an image's row (and on every row of a
        page that only shows the site's images); null when the page links to the site.
        --unlinked keeps pages without any link to the site; --since DATE keeps
        mentions first seen on or after DATE.
        {PRIORITY_DOC}

        \b
        JSON keys: page_url, domain, title, term, kind, context, placement, linked,
        page_links_to_site, page_noindex, emails (array), contact_url, author, source
        (verify, crawl, list, feed), first_seen, last_seen, outreach_status,
        priority, reason, site.

        \b
        Example:
            backcheck report mentions --unlinked --format json
            backcheck report mentions --since 2026-11-01 --format csv > mentions.csv
    """,
)


OUTREACH = Report(
    name="outreach",
    title="The outreach queue",
    sql=f"""
        with {_pages_sql()}, best as (
            -- the mention to pitch: body before title before image, main content first
            select m.*, row_number() over (
                partition by m.site, m.page_key
                order by case m.kind when 'text' then 0 when 'image_use' then 1 else 2 end,
                         m.placement = 'boilerplate', m.term
            ) as rank
            from mentions m join scored s on s.site = m.site and s.page_key = m.page_key
        )
        select s.page_url, s.domain, s.title, b.term, b.kind, b.context, b.placement,
               s.outreach_status as status, s.priority, s.outreach_reason as reason, s.emails,
               s.contact_url, s.author, s.note, s.outreach_updated_at as updated_at, s.site
        from scored s
        join outreach o on o.site = s.site and o.page_key = s.page_key
        join best b on b.site = s.site and b.page_key = s.page_key and b.rank = 1
        where (:status is null or o.status = :status)
          and (:since is null or o.updated_at >= :since)
        order by s.page_noindex, s.priority desc, s.page_url
    """,
    table_columns=("priority", "status", "reason", "term", "page_url", "emails"),
    options=(
        Option(
            "status",
            "Only targets with this status.",
            choices=("new", "contacted", "replied", "won", "declined", "ignored"),
        ),
    ),
    post=_arrays,
    doc=f"""
        The outreach queue: one row per target page, best first.

        A page becomes a target when it mentions the brand (a title-only mention
        counts) or uses the site's image and has no link to the site, or when a
        backlink on it was lost (reason link_removed) while it still mentions the
        brand. Every `verify` re-reads open targets (new, contacted, replied); one
        that now links to the site becomes `won` and a live backlink.
        {PRIORITY_DOC}

        \b
        JSON keys: page_url, domain, title, term, kind, context, placement, status,
        priority, reason, emails (array), contact_url, author, note, updated_at, site.

        \b
        Example:
            backcheck outreach list --status new --format json
    """,
)


COMPETITOR_LINKS = Report(
    name="competitor-links",
    title="Links to competitors found while crawling",
    sql="""
        select c.page_url, c.competitor, c.target_url, c.follow, c.rel, c.nofollow_source,
               c.anchor, c.first_seen, c.last_seen, c.domain, c.site
        from competitor_links c
        where (:site is null or c.site = :site)
          and (:competitor is null or c.competitor = :competitor)
          and (:since is null or c.last_seen >= :since)
        order by c.competitor, c.domain, c.page_url, c.target_url
    """,
    booleans=("follow",),
    table_columns=("competitor", "follow", "page_url", "target_url", "anchor"),
    options=(Option("competitor", "Only links to this competitor (its domain)."),),
    doc="""
        Links to competitors (`init --competitor`) seen on pages that discovery read.

        The same link rules as for the site: no links in comments, scripts,
        noscript or template, no lookalike hosts. --since DATE keeps links seen
        on or after DATE.

        \b
        JSON keys: page_url, competitor, target_url, follow, rel, nofollow_source,
        anchor, first_seen, last_seen, domain, site.

        \b
        Example:
            backcheck report competitor-links --competitor widgetco.com --format csv
    """,
)
