"""When a backlink is checked next: the re-check policy behind `verify --due`.

After every check a backlink gets `next_check_at`; `verify --due` checks the
backlinks whose time has come, most valuable first. The policy (every value a
setting, see `crawler/settings.py`):

* live, followed, and valuable (vendor authority, or referral visits, at or
  above a threshold): every day;
* any other live link: every 3 days;
* unreachable: at the very next run after its first failure (one bad night
  is often the crawler's or the site's hiccup), then backing off 1, 2, 4, 7
  days while it keeps failing;
* lost: weekly for 8 weeks after it was lost (a link put back is noticed
  soon), then monthly;
* spam (a referral candidate never found linking): monthly, as old losses;
* never checked (`next_check_at` NULL): at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RecheckPolicy:
    valuable_days: float = 1.0
    live_days: float = 3.0
    #: After the 1st, 2nd, … failure in a row; the last one repeats.
    unreachable_days: tuple[float, ...] = (0.0, 1.0, 2.0, 4.0, 7.0)
    lost_days: float = 7.0
    lost_weekly_for_days: float = 56.0  # 8 weeks
    lost_later_days: float = 30.0
    #: Vendor authority (Ahrefs DR, Moz DA, Majestic TF: all 0-100) that makes a link valuable.
    valuable_authority: float = 50.0
    #: Referral visits (over the traffic window) that make a link valuable.
    valuable_visits: float = 10.0

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RecheckPolicy:
        values = json.loads(text)
        values["unreachable_days"] = tuple(values["unreachable_days"])
        return cls(**values)


DEFAULT_POLICY = RecheckPolicy()


def valuable(authority: float | None, visits: float | None, policy: RecheckPolicy) -> bool:
    return (authority or 0) >= policy.valuable_authority or (visits or 0) >= policy.valuable_visits


def interval_days(
    status: str,
    follow: bool | None,
    failures: int,
    lost_for_days: float,
    authority: float | None,
    visits: float | None,
    policy: RecheckPolicy = DEFAULT_POLICY,
) -> float:
    """Days from a check to the next one.

    >>> interval_days("live", True, 0, 0, 70, None)
    1.0
    >>> interval_days("live", False, 0, 0, 70, None)
    3.0
    >>> [interval_days("unreachable", None, n, 0, None, None) for n in (1, 2, 3, 4, 5, 9)]
    [0.0, 1.0, 2.0, 4.0, 7.0, 7.0]
    >>> [interval_days("lost", None, 0, days, None, None) for days in (20, 60)]
    [7.0, 30.0]
    """
    if status == "live":
        if follow and valuable(authority, visits, policy):
            return policy.valuable_days
        return policy.live_days
    if status == "unreachable":
        steps = policy.unreachable_days
        return steps[min(max(failures, 1), len(steps)) - 1]
    if status == "spam":
        return policy.lost_later_days
    if lost_for_days < policy.lost_weekly_for_days:
        return policy.lost_days
    return policy.lost_later_days


def next_check_at(
    checked_at: str,
    status: str,
    follow: bool | None,
    failures: int,
    lost_since: str | None,
    authority: float | None,
    visits: float | None,
    policy: RecheckPolicy = DEFAULT_POLICY,
) -> str:
    """The ISO time (UTC, as `checked_at`) at which the backlink is due again.

    >>> next_check_at("2026-01-01T00:00:00+00:00", "lost", None, 0, "2025-12-30T00:00:00+00:00",
    ...               None, None)
    '2026-01-08T00:00:00+00:00'
    """
    when = dt.datetime.fromisoformat(checked_at)
    lost_for = 0.0
    if status == "lost" and lost_since:
        lost_for = (when - dt.datetime.fromisoformat(lost_since)).total_seconds() / 86400
    days = interval_days(status, follow, failures, lost_for, authority, visits, policy)
    return (when + dt.timedelta(days=days)).isoformat(timespec="seconds")
