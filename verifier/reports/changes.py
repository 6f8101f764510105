"""`report changes` and `report unreachable`: what the last run changed, what it could not see."""

from __future__ import annotations

from verifier.models import PAGE_ERRORS
from verifier.reports._registry import Option, Report, on_site, sql_list
from verifier.reports.referrals import CANDIDATE_IDS

#: Changes worth reporting, in the order the report lists them.
CHANGE_ORDER = (
    "lost",
    "regained",
    "nofollowed",
    "followed",
    "anchor_changed",
    "target_changed",
    "moved_to_js",
    "new",
)

_RANK = " ".join(f"when '{change}' then {rank}" for rank, change in enumerate(CHANGE_ORDER))

CHANGES = Report(
    name="changes",
    title="What changed",
    sql=f"""
        with chosen as (
            select coalesce(:run, case when :since is null then (
                select max(r.id) from runs r
                where r.state is not 'degraded'  -- its checks count for nothing
                  and (:site is null
                       or exists (select 1 from json_each(r.sites) j where j.value = :site))
            ) end) as run_id
        ), start as (
            -- checks of a run are never older than its start: the bound lets the
            -- index on checks(change, checked_at) skip older history
            select coalesce(:since, (select r.started_at from runs r, chosen
                                     where r.id = chosen.run_id), '9999') as at
        )
        select c.run_id, c.checked_at, c.change, c.status, c.reason, b.site,
               b.id as backlink_id, b.source_url, b.target_url, b.referring_domain,
               c.anchor, b.expected_anchor, c.follow, c.nofollow_source, c.rel,
               c.observed_target, c.http_status, c.final_url, c.detail
        from checks c indexed by idx_checks_change_checked_at
        join backlinks b on b.id = c.backlink_id
        where c.change in {sql_list(CHANGE_ORDER)} and c.status is not 'spam'
          and c.checked_at >= (select at from start)
          and ((select run_id from chosen) is null or c.run_id = (select run_id from chosen))
          and {on_site("b.site")}
        order by b.site,
                 case c.change {_RANK} end,
                 b.source_url, b.target_url, c.checked_at
    """,
    booleans=("follow",),
    table_columns=("change", "status", "reason", "source_url", "anchor", "follow"),
    options=(Option("run", "The run to report (default: the site's last run).", type=int),),
    doc="""
        What changed in the last run (or --run ID, or every run since --since DATE).

        Newly lost (with the reason), regained, nofollowed, followed, anchor or
        target changed, moved_to_js (a live link now found only after the page's
        scripts ran: crawlers that run none miss it), and new backlinks (first
        verdict; `status` tells whether it was found live), in that order; referral
        candidates found not to link (`spam`) are left out. Unchanged and
        unreachable checks are left out (see `report unreachable`). The last run is
        the latest that covers the site, finished or not; a degraded run (the
        crawler could not reach the web) counts for nothing and is skipped.

        \b
        JSON keys: run_id, checked_at, change, status, reason, site, backlink_id,
        source_url, target_url, referring_domain, anchor (as found), expected_anchor
        (as imported), follow, nofollow_source, rel, observed_target, http_status,
        final_url, detail.

        \b
        Example:
            backcheck report changes --site acme.com
            backcheck report changes --run 12 --format json
    """,
)

_PAGE_ERRORS = sql_list(sorted(PAGE_ERRORS))

UNREACHABLE = Report(
    name="unreachable",
    title="Backlinks that could not be verified",
    sql=f"""
        select b.site, b.id as backlink_id, b.source_url, b.target_url, b.referring_domain,
               b.reason, b.consecutive_failures, b.reason in {_PAGE_ERRORS} as counts_toward_lost,
               b.baseline_status as last_verdict, b.http_status, b.final_url, c.detail,
               b.last_checked, b.last_live
        from sites s
        cross join backlinks b indexed by idx_backlinks_site_status on b.site = s.domain
        left join checks c on c.id = b.last_check_id
        where b.status = 'unreachable' and (:site is null or s.domain = :site)
          and s.role is not 'competitor'
          and (:since is null or b.last_checked >= :since)
          and b.id not in {CANDIDATE_IDS}  -- referral candidates never found live
        order by b.site, b.consecutive_failures desc, b.reason, b.source_url
    """,
    booleans=("counts_toward_lost",),
    table_columns=("consecutive_failures", "reason", "last_verdict", "source_url", "detail"),
    doc="""
        Backlinks whose page could not be verified in their last check, and why.

        consecutive_failures counts page errors in a row (timeout, dns_error,
        connection_error, tls_error, server_error, http_error: counts_toward_lost);
        after BACKCHECK_MAX_FAILURES (3) of them the backlink becomes lost. Other
        reasons (robots_blocked, not_html, too_large …) end the streak. last_verdict is
        the last live or lost verdict before (null: never verified). --since DATE
        keeps backlinks last checked on or after DATE.

        \b
        JSON keys: site, backlink_id, source_url, target_url, referring_domain, reason,
        consecutive_failures, counts_toward_lost, last_verdict, http_status, final_url,
        detail, last_checked, last_live.

        \b
        Example:
            backcheck report unreachable --site acme.com --format csv
    """,
)
