"""`report lost` and `report broken-targets`: links worth winning back, best first."""

from __future__ import annotations

from verifier.models import PAGE_ERRORS
from verifier.reports._registry import Report, on_site, sql_list
from verifier.reports.referrals import CANDIDATE_IDS

#: Reasons that, repeated, turned an unreachable page into a lost backlink.
_PAGE_ERRORS = sql_list(sorted(PAGE_ERRORS))

LOST = Report(
    name="lost",
    title="Lost backlinks to reclaim",
    sql=f"""
        with lost as (
            -- the columns used below only (this is kept in a temporary table), and the
            -- highest vendor metrics, read from their index as the links come: in site and
            -- id order, so that the grouping needs no sort
            select b.site, b.id, b.source_url, b.target_url, b.source_key, b.referring_domain,
                   b.expected_anchor, b.last_live, b.lost_since, b.reason, b.http_status,
                   b.final_url, b.last_checked, b.last_check_id,
                   max(v.domain_rating) as domain_rating, max(v.trust_flow) as trust_flow,
                   max(v.domain_authority) as domain_authority,
                   max(v.page_traffic) as page_traffic
            from backlinks b indexed by idx_backlinks_site_status
            left join backlink_sources v indexed by idx_backlink_sources_metrics
                on v.backlink_id = b.id
            where b.status = 'lost'
              and b.site in (select domain from sites where (:site is null or domain = :site)
                             and role is not 'competitor')
              and (:since is null or b.lost_since >= :since)
            group by b.site, b.id
        ), visits as materialized (
            -- referral visits its page sent since the link was lost (logs or GA4, the
            -- larger count, never the sum); apart, so that the sort below reads the
            -- column rather than running a subquery for it again
            select id, max(visits) as visits from (
                select l.id, sum(d.visits) as visits
                from lost l
                join referral_days d on d.site = l.site and d.page_key = l.source_key
                    and d.until >= substr(l.lost_since, 1, 10)
                group by l.id, d.source)
            group by id
        ), found as (
            -- evidence: the checks' shared rows (le, ve), or their own columns (before m007)
            select l.*, lc.detail, vc.follow as was_followed,
                   coalesce(vc.anchor, l.expected_anchor) as last_anchor,
                   coalesce(vc.context_before, ve.context_before, lc.context_before,
                            le.context_before) as before_text,
                   coalesce(vc.context_after, ve.context_after, lc.context_after,
                            le.context_after) as after_text,
                   -- the lost check read the page as it is now (null: not read)
                   lc.mentions > 0 as mentions_brand,
                   -- live links of its referring domain (kept per site and domain by
                   -- triggers, m011: one read, not a count of up to 20,000 links)
                   coalesce(dl.live_links, 0) as domain_live_links,
                   rv.visits as referral_visits
            from lost l
            left join checks lc on lc.id = l.last_check_id
            left join checks vc indexed by idx_checks_backlink_id_checked_at
                on vc.backlink_id = l.id and vc.checked_at = l.last_live and vc.status = 'live'
            left join evidence ve on ve.id = vc.evidence_id
            -- the lost check's evidence only when the live one has no context (a link never
            -- found live): a NULL id reads nothing
            left join evidence le on le.id = case
                when coalesce(vc.context_before, ve.context_before, lc.context_before) is null
                  or coalesce(vc.context_after, ve.context_after, lc.context_after) is null
                then lc.evidence_id end
            left join visits rv on rv.id = l.id
            left join domain_links dl
                on dl.site = l.site and dl.referring_domain = l.referring_domain
        ), scored as (
            select e.*, round(100 * (
                0.30 * case when page_traffic >= 10000 then 1.0 when page_traffic >= 1000
                            then 0.75 when page_traffic >= 100 then 0.5
                            when page_traffic >= 10 then 0.25 when page_traffic > 0 then 0.1
                            else 0 end
                + 0.25 * min(1.0, max(coalesce(domain_rating, 0), coalesce(domain_authority, 0),
                                      coalesce(trust_flow, 0)) / 100.0)
                + 0.20 * coalesce(was_followed, 0)
                + 0.15 * (domain_live_links = 0)
                + 0.10 * max(0.0, 1 - (julianday(coalesce(:now, 'now'))
                                       - julianday(lost_since)) / 90.0)
            ), 1) as priority
            from found e
        )
        select site, id as backlink_id, source_url, target_url, referring_domain, reason,
               lost_since, last_live, last_checked, last_anchor as anchor,
               before_text as context_before, after_text as context_after,
               was_followed, http_status, final_url, detail, domain_rating, trust_flow,
               domain_authority, page_traffic, domain_live_links, priority, mentions_brand,
               referral_visits,
               case
                   when reason = 'link_removed' then
                       'outreach: ask to restore the link (mentions brand: '
                       || case when mentions_brand then 'yes' when mentions_brand = 0 then 'no'
                               else 'unknown' end || ')'
                   when reason = 'page_not_found' then
                       'ask to restore the page, or find where it moved and ask for the link there'
                   when reason = 'redirected_away' then
                       'find the new page (final_url) and ask for the link there'
                   when reason = 'noindex' then
                       'ask the webmaster to lift the noindex'
                   when reason = 'not_canonical' then
                       'ask the webmaster to fix the canonical,'
                       || ' or get the link on the canonical page'
                   when reason in {_PAGE_ERRORS} then
                       'check again later; if it persists, contact the site owner'
                   else 'review the evidence'
               end as action
        from scored
        -- a lost link whose page still sends visitors comes first
        order by coalesce(referral_visits, 0) > 0 desc, priority desc, lost_since desc,
                 source_url
    """,
    booleans=("was_followed", "mentions_brand"),
    table_columns=("priority", "reason", "lost_since", "source_url", "anchor", "action"),
    doc="""
        The reclamation queue: every lost backlink with its evidence, a priority and an action.

        \b
        priority (0-100) = 100 x (0.30 traffic + 0.25 authority + 0.20 followed
                                  + 0.15 only_link + 0.10 recency), where
          traffic   page_traffic >= 10000: 1, >= 1000: .75, >= 100: .5, >= 10: .25, > 0: .1
          authority the highest of domain_rating, domain_authority, trust_flow, / 100
          followed  1 when the link was followed when last live
          only_link 1 when its referring domain has no other live link
          recency   1 - days since lost / 90 (0 after 90 days)
        Unknown metrics count as 0. A lost link whose referring page still sent
        visitors after it was lost (referral_visits > 0, from `import --format
        access-log` or `ga4`: the larger of the two counts) comes first, whatever
        its priority: people still follow it, or the page still links in a way the
        check could not see.

        Anchor and context are from the last check where the link was live.
        mentions_brand: whether the page, as the lost check read it, still mentions
        a brand term or the site's domain in its visible text (true / false; null
        when the page could not be read: an error, a redirect away, not HTML).
        A link_removed page that still mentions the brand is also an outreach
        target (`backcheck outreach list`). --since DATE keeps links lost on or
        after DATE.

        \b
        JSON keys: site, backlink_id, source_url, target_url, referring_domain, reason,
        lost_since, last_live, last_checked, anchor, context_before, context_after,
        was_followed, http_status, final_url, detail, domain_rating, trust_flow,
        domain_authority, page_traffic, domain_live_links, priority, mentions_brand,
        referral_visits, action.

        \b
        Example:
            backcheck report lost --site acme.com
            backcheck report lost --since 2024-03-01 --format csv > reclaim.csv
    """,
)


BROKEN_TARGETS = Report(
    name="broken-targets",
    title="Backlinks to our pages that fail or redirect",
    sql=f"""
        with latest as (
            select t.site, t.url_key, max(t.run_id) as run_id
            from target_checks t
            where {on_site("t.site")} and (:since is null or t.checked_at >= :since)
              -- a degraded run (the crawler could not reach the web) counts for nothing
              and t.run_id not in (select id from runs where state = 'degraded')
            group by t.site, t.url_key
        ), broken as (
            select t.*, coalesce(json_array_length(nullif(t.redirect_chain, '')), 0) as redirects,
                   case when t.http_status >= 500 then 'server_error'
                        when t.http_status >= 400 then 'client_error'
                        else 'redirect' end as issue,
                   exists (select 1 from json_each(nullif(t.redirect_chain, '')) j
                           where json_extract(j.value, '$[1]') not in (301, 308)) as temporary
            from latest l join target_checks t on t.run_id = l.run_id and t.url_key = l.url_key
            where t.http_status >= 400
               or coalesce(json_array_length(nullif(t.redirect_chain, '')), 0) > 0
        ), targets as (
            select k.site, k.url_key,
                   count(distinct case when b.status = 'live' then b.referring_domain end)
                       as referring_domains,
                   sum(b.status = 'live') as live_links
            from broken k
            join backlinks b indexed by idx_backlinks_site_target_key
                on b.site = k.site and b.target_key = k.url_key
            where b.id not in {CANDIDATE_IDS}  -- referral candidates never found live
            group by k.site, k.url_key
        )
        select k.site, b.target_url, k.http_status as target_status,
               k.final_url as target_final_url,
               k.redirects, k.redirect_chain, k.issue, k.checked_at as target_checked_at,
               k.run_id as target_run_id, g.referring_domains, g.live_links,
               b.id as backlink_id, b.source_url, b.status, b.follow, b.anchor, b.referring_domain,
               -- visitors this page sent to the broken page (access logs: 404/410 answers)
               (select max(r.visits) from referral_broken r where r.site = b.site
                and r.page_key = b.source_key and r.target_key = b.target_key) as referral_visits,
               case
                   when k.issue = 'client_error' then
                       'fix on our side: 301-redirect this URL to its replacement, or restore it'
                   when k.issue = 'server_error' then
                       'fix on our side: repair the page, or 301-redirect it to a working one'
                   when k.temporary then
                       'fix on our side: make the redirect permanent (301) to the final URL'
                   when k.redirects > 1 then
                       'fix on our side: one 301 straight to the final URL'
                   else 'fine as a 301; ask the linker to update the link to the final URL'
               end as action
        from broken k
        join targets g on g.site = k.site and g.url_key = k.url_key
        join backlinks b indexed by idx_backlinks_site_target_key
            on b.site = k.site and b.target_key = k.url_key and b.id not in {CANDIDATE_IDS}
        order by g.referring_domains desc, g.live_links desc, k.site, k.url_key,
                 b.status = 'live' desc, b.source_url
    """,
    booleans=("follow",),
    table_columns=(
        "referring_domains",
        "issue",
        "target_status",
        "target_url",
        "status",
        "source_url",
        "action",
    ),
    doc="""
        Backlinks whose target page on our site answers 4xx/5xx or redirects.

        Uses the latest check of each target (`target_checks`, filled by `verify`):
        an error status or a non-empty redirect chain. Targets are ranked by the
        live referring domains pointing at them; within a target, live links come
        first. The fix is on our side, usually a 301 redirect. --since DATE uses
        only target checks made on or after DATE.

        An access log's 404/410 answers to visitors from another site's page
        (`import --format access-log`) make that page a backlink candidate to the
        broken URL; once `verify` finds it linking it is listed here, with
        referral_visits: the visitors it sent there.

        \b
        JSON keys: site, target_url, target_status, target_final_url, redirects,
        redirect_chain (JSON [[url, status], ...]), issue (client_error, server_error,
        redirect), target_checked_at, target_run_id, referring_domains, live_links,
        backlink_id, source_url, status, follow, anchor, referring_domain,
        referral_visits, action.

        \b
        Example:
            backcheck report broken-targets --site acme.com --format markdown
    """,
)
