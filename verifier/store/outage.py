"""A run the crawler could not see the web through: judge it, and take back what it did.

Checks are written as the crawl goes, so by the end of a run `backlinks` already
holds its verdicts. When `verifier.verdict.outage` judges the run an outage, the
run becomes `degraded` and `restore` puts every backlink it checked back as the
last good (not degraded) run left it: the verdict, the failure streak, the
baseline that `change` is computed against, `last_checked`/`last_check_id`,
`first_seen`, `last_live` and `lost_since`. The next good run then carries on as
if the degraded one had not happened.

The run's checks stay in history with what the crawler saw (status, reason,
evidence), but they carry no `change` (NULL: nothing is news), the N-failures
rule is taken back (a check it turned `lost` is `unreachable` again) and their
`consecutive_failures` is the streak as it stood. Reports that read events
(`change`) thus skip them; the few that look for "the last run" or "the last
check" skip degraded runs by their state.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlite_utils import Database

from verifier.models import PAGE_ERRORS
from verifier.store import runs
from verifier.store.migrations import VERDICT_COLUMNS
from verifier.store.storage import writing
from verifier.verdict.outage import (
    DEFAULT_RULE,
    NETWORK_ERRORS,
    Outage,
    OutageRule,
    Page,
    judge,
)

logger = logging.getLogger(__name__)

#: The state of a run judged an outage (runs.state is free text).
DEGRADED = "degraded"
#: Runs whose checks count for nothing (a subquery; SQLite evaluates it once).
DEGRADED_RUNS = "(select id from runs where state = 'degraded')"

_NETWORK = ", ".join(f"'{reason.value}'" for reason in sorted(NETWORK_ERRORS))
_PAGE_ERRORS = ", ".join(f"'{reason.value}'" for reason in sorted(PAGE_ERRORS))
#: Never-checked values of the verdict columns that have a default in the schema.
_DEFAULTS = {"consecutive_failures": 0, "link_count": 0}
_JUDGED = " and q.status != 'unreachable'"  # a live-or-lost check: a baseline
_LIVE = " and q.status = 'live'"


def pages(db: Database, run_id: int) -> list[Page]:
    """The run's referring pages (one fetch each), with a network reason where one failed."""
    rows = db.execute(
        "select min(b.referring_domain),"
        f" max(case when c.reason in ({_NETWORK}) then c.reason end)"
        " from checks c join backlinks b on b.id = c.backlink_id"
        " where c.run_id = ? group by b.source_key",
        [run_id],
    ).fetchall()
    return [Page(domain, reason) for domain, reason in rows]


def target_errors(db: Database, run_id: int) -> list[str | None]:
    """The error of each of the site's target pages checked in the run (None: it answered)."""
    return [
        row[0] for row in db.execute("select error from target_checks where run_id = ?", [run_id])
    ]


def settle_run(
    db: Database, run_id: int, stats: dict[str, Any] | None, rule: OutageRule = DEFAULT_RULE
) -> runs.RunSummary:
    """Close a run whose crawl completed: `degraded` when it was an outage, else `finished`."""
    outage = judge_run(db, run_id, rule)
    if outage.degraded:
        return runs.finish_run(db, run_id, DEGRADED, stats, error=outage.explain())
    return runs.finish_run(db, run_id, "finished", stats)


def judge_run(db: Database, run_id: int, rule: OutageRule = DEFAULT_RULE) -> Outage:
    """Judge a finished run; when it is an outage, mark it degraded and `restore`.

    The caller then closes the run (`runs.finish_run`) in state `degraded`
    (`settle_run` does both).
    """
    outage = judge(pages(db, run_id), target_errors(db, run_id), rule)
    if outage.degraded:
        restored = restore(db, run_id)
        logger.warning(
            "run %(run)s degraded: %(why)s; %(n)s backlinks keep their last good verdict",
            {"run": run_id, "why": outage.explain(), "n": restored},
        )
    return outage


def _good(where: str = "") -> str:
    """The id of a backlink's latest check outside degraded runs (and `where`)."""
    return (
        "(select q.id from checks q where q.backlink_id = c.backlink_id"
        f" and q.run_id not in {DEGRADED_RUNS}{where} order by q.id desc limit 1)"
    )


def restore(db: Database, run_id: int) -> int:
    """Mark the run degraded and put its backlinks back as the last good check left them.

    Returns how many backlinks were restored. Safe to repeat. A backlink never
    checked before goes back to its never-checked state. Time columns the run
    did not move are kept as they are (older checks may have been pruned).
    """
    with writing(db):
        db.execute("update runs set state = ? where id = ?", [DEGRADED, run_id])
        db.execute("drop table if exists temp.degraded_items")
        # d: the run's check of each backlink (id, settled status, time) and the backlink's
        # latest good check, latest good live-or-lost one and latest good live one (the
        # run counts as degraded from here on).
        db.execute(
            "create temp table degraded_items as"
            " select c.backlink_id as id, c.id as check_id, c.status, c.checked_at,"
            f" {_good()} as good_id, {_good(_JUDGED)} as base_id, {_good(_LIVE)} as live_id"
            " from checks c where c.run_id = ?",
            [run_id],
        )
        verdict = ", ".join(
            f"{name} = coalesce(g.{name}, {_DEFAULTS[name]})"
            if name in _DEFAULTS
            else f"{name} = g.{name}"
            for name in VERDICT_COLUMNS
        )
        db.execute(
            f"update backlinks set {verdict}, last_checked = g.checked_at,"
            " last_check_id = g.id, next_check_at = null"
            " from (select d.id as backlink_id, q.* from degraded_items d"
            " left join checks q on q.id = d.good_id) g"
            " where backlinks.id = g.backlink_id"
        )
        # The baseline moved only when the run's check was live or lost (the N-failures
        # rule makes lost too).
        db.execute(
            "update backlinks set baseline_status = q.status, baseline_follow = q.follow,"
            " baseline_anchor = q.anchor, baseline_target = q.observed_target"
            " from degraded_items d left join checks q on q.id = d.base_id"
            " where backlinks.id = d.id and d.status != 'unreachable'"
        )
        # A live check set first_seen (when it was empty) and last_live; a lost one set
        # lost_since (when empty), a live one emptied it. Recomputed from the good checks
        # only where this run moved them.
        db.execute(
            "update backlinks set"
            " first_seen = case when d.status = 'live' and backlinks.first_seen = d.checked_at"
            "  then (select min(q.checked_at) from checks q where q.backlink_id = d.id"
            f"   and q.status = 'live' and q.run_id not in {DEGRADED_RUNS})"
            "  else backlinks.first_seen end,"
            " last_live = case when d.status = 'live'"
            "  then (select q.checked_at from checks q where q.id = d.live_id)"
            "  else backlinks.last_live end,"
            " lost_since = case when d.status = 'live' or (d.status = 'lost'"
            "   and backlinks.lost_since = d.checked_at)"
            "  then (select min(q.checked_at) from checks q where q.backlink_id = d.id"
            "   and q.status = 'lost' and q.id > coalesce(d.live_id, 0)"
            f"   and q.run_id not in {DEGRADED_RUNS})"
            "  else backlinks.lost_since end"
            " from degraded_items d where backlinks.id = d.id"
        )
        # The run's checks: what the crawler saw stays; the judgement on top goes.
        db.execute(
            "update checks set change = null,"
            f" status = case when status = 'lost' and reason in ({_PAGE_ERRORS})"
            "  then 'unreachable' else status end,"
            " consecutive_failures = (select b.consecutive_failures from backlinks b"
            "  where b.id = checks.backlink_id)"
            " where run_id = ?",
            [run_id],
        )
        restored = int(db.execute("select count(*) from degraded_items").fetchone()[0])
        db.execute("drop table temp.degraded_items")
    return restored
