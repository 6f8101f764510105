"""`report summary`: the state of each site's link profile at a glance."""

from __future__ import annotations

from verifier.reports._registry import Report, on_site
from verifier.reports.referrals import COUNTED

SUMMARY = Report(
    name="summary",
    title="Link profile summary",
    sql=f"""
        with win as (
            select strftime('%Y-%m-%dT%H:%M:%S', coalesce(:now, 'now'), '-7 days') as d7,
                   strftime('%Y-%m-%dT%H:%M:%S', coalesce(:now, 'now'), '-30 days') as d30
        ), picked as (
            select s.domain as site,
                   -- a degraded run (the crawler could not reach the web) counts for nothing
                   (select max(r.id) from runs r, json_each(r.sites) j
                    where j.value = s.domain and r.state is not 'degraded') as run_id
            from sites s
            where (:site is null or s.domain = :site) and s.role is not 'competitor'
        ), last_run as (
            select p.site, r.id as run_id, r.state, r.started_at, r.finished_at
            from picked p left join runs r on r.id = p.run_id
        ), domains as (
            -- per referring domain first: a covering index scan, no distinct sets
            select b.site, count(*) as backlinks, sum(b.status is not null) as checked,
                   sum(b.status = 'live') as live_links,
                   sum(b.status = 'live' and b.follow) as followed_links,
                   sum(b.status = 'lost') as lost_links,
                   sum(b.status = 'unreachable') as unreachable_links
            from backlinks b indexed by idx_backlinks_by_domain
            where {on_site("b.site")}
              and {COUNTED}  -- not referral candidates never found live
            group by b.site, b.referring_domain
        ), state as (
            select site, sum(backlinks) as backlinks, sum(checked) as checked,
                   sum(live_links) as live_links, sum(followed_links) as followed_links,
                   sum(live_links > 0) as referring_domains,
                   sum(followed_links > 0) as followed_domains,
                   sum(lost_links) as lost_links, sum(unreachable_links) as unreachable_links
            from domains
            group by site
        ), cut as (
            -- the oldest moment any count below needs; the index on checks(change,
            -- checked_at) then reads only those lost and regained events
            select min(w.d30, coalesce(:since, w.d30),
                       coalesce((select min(started_at) from last_run), w.d30)) as at
            from win w
        ), events as (
            select b.site, c.change, c.run_id, c.checked_at
            from checks c indexed by idx_checks_change_checked_at
            join backlinks b on b.id = c.backlink_id
            where c.change in ('lost', 'regained') and c.checked_at >= (select at from cut)
              and {on_site("b.site")}
        ), tally as (
            select e.site,
                   sum(e.change = 'lost' and e.run_id = l.run_id) as lost_last_run,
                   sum(e.change = 'regained' and e.run_id = l.run_id) as regained_last_run,
                   sum(e.change = 'lost' and e.checked_at >= w.d7) as lost_7d,
                   sum(e.change = 'regained' and e.checked_at >= w.d7) as regained_7d,
                   sum(e.change = 'lost' and e.checked_at >= w.d30) as lost_30d,
                   sum(e.change = 'regained' and e.checked_at >= w.d30) as regained_30d,
                   sum(e.change = 'lost' and e.checked_at >= :since) as lost_in_window,
                   sum(e.change = 'regained' and e.checked_at >= :since) as regained_in_window
            from events e join last_run l on l.site = e.site, win w
            group by e.site
        )
        select l.site,
               coalesce(s.backlinks, 0) as backlinks,
               coalesce(s.checked, 0) as checked,
               coalesce(s.live_links, 0) as live_links,
               coalesce(s.referring_domains, 0) as referring_domains,
               coalesce(s.followed_links, 0) as followed_links,
               round(1.0 * s.followed_links / nullif(s.live_links, 0), 4) as followed_share,
               coalesce(s.followed_domains, 0) as followed_domains,
               round(1.0 * s.followed_domains / nullif(s.referring_domains, 0), 4)
                   as followed_domain_share,
               coalesce(s.lost_links, 0) as lost_links,
               coalesce(s.unreachable_links, 0) as unreachable_links,
               coalesce(t.lost_last_run, 0) as lost_last_run,
               coalesce(t.regained_last_run, 0) as regained_last_run,
               coalesce(t.lost_7d, 0) as lost_7d,
               coalesce(t.regained_7d, 0) as regained_7d,
               coalesce(t.lost_30d, 0) as lost_30d,
               coalesce(t.regained_30d, 0) as regained_30d,
               :since as window_start,
               case when :since is not null then coalesce(t.lost_in_window, 0) end
                   as lost_in_window,
               case when :since is not null then coalesce(t.regained_in_window, 0) end
                   as regained_in_window,
               l.run_id as last_run_id,
               l.state as last_run_state,
               l.started_at as last_run_started_at,
               l.finished_at as last_run_finished_at
        from last_run l
        left join state s on s.site = l.site
        left join tally t on t.site = l.site
        order by l.site
    """,
    vertical=True,
    doc="""
        Live backlinks and referring domains, followed share, lost and regained, last run.

        One row per site. Counts of lost and regained are events (a backlink that
        went lost and came back counts in both) in the site's last run, the last 7
        and 30 days, and since --since DATE (the *_in_window keys, null without it).
        A degraded run (the crawler could not reach the web) counts for nothing: the
        last run is the latest other one.

        \b
        JSON keys: site, backlinks, checked, live_links, referring_domains,
        followed_links, followed_share, followed_domains, followed_domain_share,
        lost_links, unreachable_links, lost_last_run, regained_last_run, lost_7d,
        regained_7d, lost_30d, regained_30d, window_start, lost_in_window,
        regained_in_window, last_run_id, last_run_state, last_run_started_at,
        last_run_finished_at (shares are fractions 0..1, times UTC ISO 8601).

        \b
        Example:
            backcheck report summary --site acme.com
            backcheck report summary --since 2024-01-01 --format json
    """,
)
