"""`report backlinks`: every backlink with its current verdict."""

from __future__ import annotations

from verifier.reports._registry import Option, Report, on_site
from verifier.reports.referrals import CANDIDATE_IDS, referral_visits

BACKLINKS = Report(
    name="backlinks",
    title="Backlinks and their current verdict",
    sql=f"""
        -- two branches, so that --status reads its own index, merged in report order;
        -- referral candidates never found live are no backlinks (yet): left out
        select id, site, source_url, target_url, status, reason, follow, nofollow_source, rel,
               anchor, expected_anchor, anchor_changed, target_changed, observed_target,
               link_count, http_status, final_url, referring_domain, first_seen, last_checked,
               change, lost_since, consecutive_failures, sources, referral_visits,
               rendered, found_in
        from (
        select b.id, b.site, b.source_url, b.target_url, b.status, b.reason, b.follow,
               b.nofollow_source, b.rel, b.anchor, b.expected_anchor, b.anchor_changed,
               b.target_changed, b.observed_target, b.link_count, b.http_status, b.final_url,
               b.referring_domain, b.first_seen, b.last_checked, b.change, b.lost_since,
               b.consecutive_failures, b.sources, b.source_key, b.target_key,
               {referral_visits("b.site", "b.source_key")} as referral_visits,
               b.rendered, b.found_in
        from backlinks b indexed by idx_backlinks_site_source_key_target_key
        where :status is null and {on_site("b.site")}
          and (:since is null or b.last_checked >= :since) and b.id not in {CANDIDATE_IDS}
        union all
        select b.id, b.site, b.source_url, b.target_url, b.status, b.reason, b.follow,
               b.nofollow_source, b.rel, b.anchor, b.expected_anchor, b.anchor_changed,
               b.target_changed, b.observed_target, b.link_count, b.http_status, b.final_url,
               b.referring_domain, b.first_seen, b.last_checked, b.change, b.lost_since,
               b.consecutive_failures, b.sources, b.source_key, b.target_key,
               {referral_visits("b.site", "b.source_key")} as referral_visits,
               b.rendered, b.found_in
        from backlinks b indexed by idx_backlinks_status_site_source_key
        where b.status = :status and {on_site("b.site")}
          and (:since is null or b.last_checked >= :since) and b.id not in {CANDIDATE_IDS}
        order by site, source_key, target_key
        )
    """,
    booleans=("follow", "anchor_changed", "target_changed", "rendered"),
    table_columns=("status", "reason", "follow", "change", "source_url", "anchor"),
    options=(
        Option(
            "status", "Only backlinks with this status.", choices=("live", "lost", "unreachable")
        ),
    ),
    doc="""
        Every backlink with its current verdict (status null: never checked yet).

        --since DATE keeps backlinks last checked on or after DATE. referral_visits:
        visits its referring page sent (access logs or GA4, the larger of the two
        counts, never their sum; null when none was imported). A referring page
        from those is a backlink only once `verify` found it linking.

        \b
        JSON keys: id, site, source_url, target_url, status, reason, follow,
        nofollow_source, rel, anchor, expected_anchor, anchor_changed, target_changed,
        observed_target, link_count, http_status, final_url, referring_domain,
        first_seen, last_checked, change, lost_since, consecutive_failures, sources,
        referral_visits, rendered (the verdict was read from the page rendered in
        Chromium), found_in (a live link: raw, or rendered when only scripts add it).

        \b
        Example:
            backcheck report backlinks --status lost --format json --db backcheck.db
    """,
)
