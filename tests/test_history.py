"""History (verifier.verdict.history.settle): change values and the failure streak, as tables."""

from __future__ import annotations

from dataclasses import replace

import pytest

from verifier.models import PAGE_ERRORS, Change, Check, Reason, Status
from verifier.verdict.history import DEFAULT_MAX_FAILURES, Baseline, settle

TARGET = "https://acme.com/widgets"


def live(follow: bool = True, anchor: str = "Acme widgets", target: str = TARGET) -> Check:
    return Check(1, Status.LIVE, None, follow=follow, anchor=anchor, observed_target=target)


def lost(reason: Reason = Reason.LINK_REMOVED) -> Check:
    return Check(1, Status.LOST, reason)


def failed(reason: Reason) -> Check:
    return Check(1, Status.UNREACHABLE, reason)


NEVER = Baseline()
WAS_LIVE = Baseline(Status.LIVE, True, "Acme widgets", TARGET)
WAS_NOFOLLOW = Baseline(Status.LIVE, False, "Acme widgets", TARGET)
WAS_LOST = Baseline(Status.LOST)


def streak(baseline: Baseline, failures: int) -> Baseline:
    return replace(baseline, consecutive_failures=failures)


@pytest.mark.parametrize(
    ("check", "baseline", "status", "change"),
    [
        # first live-or-lost check
        pytest.param(live(), NEVER, Status.LIVE, Change.NEW, id="new-live"),
        pytest.param(lost(), NEVER, Status.LOST, Change.NEW, id="new-lost"),
        pytest.param(
            lost(Reason.PAGE_NOT_FOUND), NEVER, Status.LOST, Change.NEW, id="new-not-found"
        ),
        # live after live
        pytest.param(live(), WAS_LIVE, Status.LIVE, Change.UNCHANGED, id="unchanged"),
        pytest.param(
            live(anchor="  ACME\n widgets "),
            WAS_LIVE,
            Status.LIVE,
            Change.UNCHANGED,
            id="unchanged-anchor-case-whitespace",
        ),
        pytest.param(
            live(target="http://www.acme.com/widgets/?utm_source=x#top"),
            WAS_LIVE,
            Status.LIVE,
            Change.UNCHANGED,
            id="unchanged-target-normalised",
        ),
        pytest.param(
            live(follow=False), WAS_NOFOLLOW, Status.LIVE, Change.UNCHANGED, id="still-nofollow"
        ),
        pytest.param(live(follow=False), WAS_LIVE, Status.LIVE, Change.NOFOLLOWED, id="nofollowed"),
        pytest.param(live(follow=True), WAS_NOFOLLOW, Status.LIVE, Change.FOLLOWED, id="followed"),
        pytest.param(
            live(anchor="Acme gadgets"), WAS_LIVE, Status.LIVE, Change.ANCHOR_CHANGED, id="anchor"
        ),
        pytest.param(
            live(target="https://acme.com/pricing"),
            WAS_LIVE,
            Status.LIVE,
            Change.TARGET_CHANGED,
            id="target",
        ),
        # first that applies, in order
        pytest.param(
            live(follow=False, anchor="Other", target="https://acme.com/x"),
            WAS_LIVE,
            Status.LIVE,
            Change.NOFOLLOWED,
            id="nofollowed-before-anchor-and-target",
        ),
        pytest.param(
            live(follow=True, anchor="Other"),
            WAS_NOFOLLOW,
            Status.LIVE,
            Change.FOLLOWED,
            id="followed-before-anchor",
        ),
        pytest.param(
            live(anchor="Other", target="https://acme.com/x"),
            WAS_LIVE,
            Status.LIVE,
            Change.ANCHOR_CHANGED,
            id="anchor-before-target",
        ),
        # live <-> lost
        pytest.param(lost(), WAS_LIVE, Status.LOST, Change.LOST, id="lost"),
        pytest.param(
            lost(Reason.NOINDEX), WAS_NOFOLLOW, Status.LOST, Change.LOST, id="lost-noindex"
        ),
        pytest.param(lost(), WAS_LOST, Status.LOST, Change.UNCHANGED, id="still-lost"),
        pytest.param(live(), WAS_LOST, Status.LIVE, Change.REGAINED, id="regained"),
        pytest.param(
            live(follow=False, anchor="Other"),
            WAS_LOST,
            Status.LIVE,
            Change.REGAINED,
            id="regained-before-nofollowed",
        ),
        # unreachable
        pytest.param(
            failed(Reason.TIMEOUT), WAS_LIVE, Status.UNREACHABLE, Change.UNREACHABLE, id="timeout"
        ),
        pytest.param(
            failed(Reason.ROBOTS_BLOCKED),
            NEVER,
            Status.UNREACHABLE,
            Change.UNREACHABLE,
            id="unreachable-never-new",
        ),
        pytest.param(
            failed(Reason.NOT_HTML),
            WAS_LOST,
            Status.UNREACHABLE,
            Change.UNREACHABLE,
            id="unreachable-after-lost",
        ),
    ],
)
def test_change(check: Check, baseline: Baseline, status: Status, change: Change) -> None:
    settled = settle(check, baseline)
    assert settled is check
    assert (settled.status, settled.change) == (status, change)


@pytest.mark.parametrize(
    ("reason", "before", "max_failures", "status", "failures"),
    [
        # page errors count up; the Nth in a row is lost with the same reason
        *[
            pytest.param(reason, 0, 3, Status.UNREACHABLE, 1, id=f"{reason}-1st")
            for reason in sorted(PAGE_ERRORS)
        ],
        *[
            pytest.param(reason, 1, 3, Status.UNREACHABLE, 2, id=f"{reason}-2nd")
            for reason in sorted(PAGE_ERRORS)
        ],
        *[
            pytest.param(reason, 2, 3, Status.LOST, 3, id=f"{reason}-3rd")
            for reason in sorted(PAGE_ERRORS)
        ],
        pytest.param(Reason.TIMEOUT, 3, 3, Status.LOST, 4, id="4th-stays-lost"),
        pytest.param(Reason.HTTP_ERROR, 10, 3, Status.LOST, 11, id="long-streak"),
        # other failures never become lost, and end the streak
        *[
            pytest.param(reason, 2, 3, Status.UNREACHABLE, 0, id=f"{reason}-resets")
            for reason in (
                Reason.ROBOTS_BLOCKED,
                Reason.NOT_HTML,
                Reason.TOO_MANY_REDIRECTS,
                Reason.TOO_LARGE,
                Reason.CRAWL_ERROR,
            )
        ],
        pytest.param(Reason.ROBOTS_BLOCKED, 10, 3, Status.UNREACHABLE, 0, id="robots-never-lost"),
        pytest.param(Reason.NOT_HTML, 10, 1, Status.UNREACHABLE, 0, id="not-html-never-lost"),
        # custom thresholds
        pytest.param(Reason.TIMEOUT, 0, 1, Status.LOST, 1, id="max-1"),
        pytest.param(Reason.TIMEOUT, 0, 2, Status.UNREACHABLE, 1, id="max-2-first"),
        pytest.param(Reason.TIMEOUT, 1, 2, Status.LOST, 2, id="max-2-second"),
        pytest.param(Reason.DNS_ERROR, 3, 5, Status.UNREACHABLE, 4, id="max-5-fourth"),
        pytest.param(Reason.DNS_ERROR, 4, 5, Status.LOST, 5, id="max-5-fifth"),
    ],
)
def test_failure_streak(
    reason: Reason, before: int, max_failures: int, status: Status, failures: int
) -> None:
    check = settle(failed(reason), streak(WAS_LIVE, before), max_failures)
    assert (check.status, check.reason, check.consecutive_failures) == (status, reason, failures)
    expected_change = Change.LOST if status is Status.LOST else Change.UNREACHABLE
    assert check.change == expected_change


@pytest.mark.parametrize(
    ("baseline", "change"),
    [
        pytest.param(WAS_LIVE, Change.LOST, id="was-live"),
        pytest.param(WAS_LOST, Change.UNCHANGED, id="was-lost"),
        pytest.param(NEVER, Change.NEW, id="never-checked"),
    ],
)
def test_lost_after_failures_changes_against_the_baseline(
    baseline: Baseline, change: Change
) -> None:
    check = settle(failed(Reason.CONNECTION_ERROR), streak(baseline, 2))
    assert (check.status, check.change) == (Status.LOST, change)


@pytest.mark.parametrize(
    "check",
    [
        pytest.param(live(), id="live"),
        pytest.param(lost(), id="lost"),
        pytest.param(failed(Reason.ROBOTS_BLOCKED), id="robots-blocked"),
    ],
)
def test_non_page_errors_reset_the_streak(check: Check) -> None:
    assert settle(check, streak(WAS_LIVE, 2)).consecutive_failures == 0


def test_default_max_failures() -> None:
    assert DEFAULT_MAX_FAILURES == 3


def _next_baseline(baseline: Baseline, check: Check) -> Baseline:
    """What storage keeps: the last live-or-lost verdict and the current streak."""
    if check.status is Status.UNREACHABLE:
        return replace(baseline, consecutive_failures=check.consecutive_failures)
    return Baseline(
        check.status, check.follow, check.anchor, check.observed_target, check.consecutive_failures
    )


@pytest.mark.parametrize(
    ("checks", "changes", "failures", "statuses"),
    [
        pytest.param(
            [
                live(),
                failed(Reason.TIMEOUT),
                failed(Reason.TIMEOUT),
                failed(Reason.ROBOTS_BLOCKED),
                failed(Reason.TIMEOUT),
                failed(Reason.SERVER_ERROR),
                failed(Reason.DNS_ERROR),
                failed(Reason.DNS_ERROR),
                live(),
            ],
            [
                "new",
                "unreachable",
                "unreachable",
                "unreachable",
                "unreachable",
                "unreachable",
                "lost",
                "unchanged",
                "regained",
            ],
            [0, 1, 2, 0, 1, 2, 3, 4, 0],
            [
                "live",
                "unreachable",
                "unreachable",
                "unreachable",
                "unreachable",
                "unreachable",
                "lost",
                "lost",
                "live",
            ],
            id="streak-broken-by-robots-then-lost-then-regained",
        ),
        pytest.param(
            [
                live(),
                failed(Reason.TIMEOUT),
                failed(Reason.TIMEOUT),
                live(anchor="New anchor"),
                failed(Reason.TIMEOUT),
                live(anchor="New anchor"),
            ],
            ["new", "unreachable", "unreachable", "anchor_changed", "unreachable", "unchanged"],
            [0, 1, 2, 0, 1, 0],
            ["live", "unreachable", "unreachable", "live", "unreachable", "live"],
            id="live-resets-streak-and-baseline-skips-failures",
        ),
        pytest.param(
            [live(), lost(), failed(Reason.TIMEOUT), live(follow=False), live()],
            ["new", "lost", "unreachable", "regained", "followed"],
            [0, 0, 1, 0, 0],
            ["live", "lost", "unreachable", "live", "live"],
            id="lost-regained-followed",
        ),
    ],
)
def test_history_sequences(
    checks: list[Check], changes: list[str], failures: list[int], statuses: list[str]
) -> None:
    baseline = NEVER
    seen = []
    for check in checks:
        settle(check, baseline)
        seen.append((check.change.value, check.consecutive_failures, check.status.value))
        baseline = _next_baseline(baseline, check)
    assert seen == list(zip(changes, failures, statuses, strict=True))
