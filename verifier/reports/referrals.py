"""`report referrals`: referral visits per referring page (or origin) and period, per source.

Also the SQL other reports share to leave out backlink candidates from referral
traffic that were never found live (`CANDIDATE_IDS`), and to show a backlink's
referral visits (`REFERRAL_VISITS`).
"""

from __future__ import annotations

from verifier.reports._registry import Option, Report

#: Ids of backlink candidates from referral traffic never found live (unverified,
#: unreachable or spam): not backlinks yet, so no report counts them. Reads only the
#: partial index of m008; `b.id not in CANDIDATE_IDS` keeps a covering index covering.
CANDIDATE_IDS = (
    "(select c.id from backlinks c indexed by idx_backlinks_candidates"
    " where c.candidate = 1 and c.first_seen is null)"
)

#: Whether backlink `b` counts, for queries that read its `first_seen` anyway (the index
#: idx_backlinks_by_domain covers it): once found live it does, without a look in the list.
COUNTED = f"(b.first_seen is not null or b.id not in {CANDIDATE_IDS})"


def referral_visits(site: str, page_key: str) -> str:
    """SQL for the referral visits of a page over the whole history: the larger of the log
    and GA4 counts, never their sum (they count the same visitors twice).

    `site` and `page_key` are the outer query's columns, qualified (`b.site`): unqualified,
    `site` would name the subquery's own column.
    """
    return (
        f"(select max(rp.visits) from referral_pages rp"
        f" where rp.site = {site} and rp.page_key = {page_key})"
    )


def _exists(status: str, where: tuple[str, str]) -> str:
    index, condition = where
    return (
        f"exists (select 1 from backlinks b indexed by {index}"
        f" where b.status = '{status}' and {condition})"
    )


#: `backlink_status` of a referring page (`p`, a referral_pages row): its backlinks' best
#: status, each probe a seek in a covering index (no backlinks row is read); for an origin,
#: the best status of its domain's backlinks. No backlink: `unverified`.
_BY_PAGE = ("idx_backlinks_status_site_source_key", "b.site = p.site and b.source_key = p.page_key")
_BY_DOMAIN = ("idx_backlinks_by_domain", "b.site = p.site and b.referring_domain = p.domain")
_STATUSES = ("live", "lost", "spam", "unreachable")
_STATUS = (
    "case when p.origin then case "
    + " ".join(f"when {_exists(status, _BY_DOMAIN)} then '{status}'" for status in _STATUSES)
    + " else 'unverified' end else case "
    + " ".join(f"when {_exists(status, _BY_PAGE)} then '{status}'" for status in _STATUSES)
    + " else 'unverified' end end"
)

_PERIOD = (
    "case :by when 'day' then d.day when 'month' then date(d.day, 'start of month')"
    " else date(d.day, 'weekday 0', '-6 days') end"
)

REFERRALS = Report(
    name="referrals",
    title="Referral visits per referring page",
    sql=f"""
        with pages as materialized (
            -- each page's status once (materialized), whatever the number of periods
            select p.*, {_STATUS} as backlink_status
            from referral_pages p
            where (:site is null or p.site = :site) and p.origin = (coalesce(:origins, 0) <> 0)
        ), counted as (
            -- the whole history: the totals kept per page
            select site, page_key, source, page_url, domain, backlink_status,
                   null as period, visits, first_day, last_day
            from pages
            where :by is null and :since is null
              and (backlink_status = 'spam') = (coalesce(:spam, 0) <> 0)
            union all
            -- per day, week or month, or since a day: the daily counts
            select p.site, p.page_key, p.source, p.page_url, p.domain, p.backlink_status,
                   case when :by is null then null else {_PERIOD} end as period,
                   sum(d.visits), min(d.day), max(d.until)
            from pages p
            join referral_days d
                on d.site = p.site and d.page_key = p.page_key and d.source = p.source
            where (:by is not null or :since is not null) and (:since is null or d.day >= :since)
              and (p.backlink_status = 'spam') = (coalesce(:spam, 0) <> 0)
            group by p.site, p.page_key, p.source, period
        )
        select site, page_url as referring_page, domain as referring_domain, period, visits,
               source, backlink_status, first_day, last_day
        from counted
        order by site, period, visits desc, referring_page, source
    """,
    table_columns=(
        "period",
        "visits",
        "source",
        "backlink_status",
        "referring_domain",
        "referring_page",
    ),
    options=(
        Option(
            "by",
            "One row per page and day, week (starting on Monday) or month"
            " [default: the whole history].",
            choices=("day", "week", "month"),
        ),
        Option(
            "spam",
            "Only referring pages verified not to link (referrer spam): the ones left out"
            " otherwise.",
            type=bool,
        ),
        Option(
            "origins",
            "Referrers that sent only an origin (https://blog.example/): domains to `crawl`,"
            " with their visits, instead of pages.",
            type=bool,
        ),
    ),
    doc="""
        Referral visits from access logs and GA4, per referring page and period.

        A visit is a GET of a page (no asset, feed, redirect or bot) whose referrer
        is another site: not the site or its subdomains, not a search engine, social
        network, webmail, app or AI assistant. Counts from logs and from GA4 are kept
        per `source` and shown side by side, never added. Each referring page is a
        backlink candidate that `verify` checks: backlink_status is live, lost or
        unreachable like a backlink's, `unverified` before its first check, and
        `spam` when the page was read and never linked (left out unless --spam).
        --origins lists the referrers that sent only an origin, by domain: crawl
        them to find the linking page (`backcheck crawl FILE` reads URLs).
        --since DATE counts visits from DATE on (UTC days).

        \b
        JSON keys: site, referring_page, referring_domain, period (first day of the
        day, week or month; null for the whole history), visits, source (log, ga4),
        backlink_status (live, lost, unreachable, unverified, spam), first_day,
        last_day.

        \b
        Example:
            backcheck import access.log --format access-log
            backcheck report referrals --by month --site acme.com
            backcheck report referrals --origins --format json | jq -r '.[].referring_page' \\
                > origins.txt && backcheck crawl origins.txt
    """,
)
