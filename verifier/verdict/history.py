"""Turn a check into a change against the backlink's history (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass

from verifier.models import PAGE_ERRORS, Change, Check, FoundIn, Status
from verifier.verdict.page import fold
from verifier.verdict.urls import compare_key

#: Page errors in a row after which a backlink counts as lost (BACKCHECK_MAX_FAILURES).
DEFAULT_MAX_FAILURES = 3


@dataclass(frozen=True, slots=True)
class Baseline:
    """The last live-or-lost verdict of a backlink, and its current failure streak."""

    status: Status | None = None
    follow: bool | None = None
    anchor: str | None = None
    target: str | None = None
    consecutive_failures: int = 0
    #: A candidate from referral traffic never found live: a lost verdict makes it spam.
    candidate: bool = False
    #: Where the live baseline's link was found (None: before rendering existed, so raw).
    found_in: FoundIn | None = None


def settle(check: Check, baseline: Baseline, max_failures: int = DEFAULT_MAX_FAILURES) -> Check:
    """Fill `change` and `consecutive_failures`; N page errors in a row become `lost`.

    A referral candidate never found live (`baseline.candidate`) whose verdict is
    lost is `spam`: its page does not link, or cannot be read.

    A streak counts only page errors (timeout … http_error); anything else,
    including robots_blocked or not_html, ends it.
    """
    if check.status is Status.UNREACHABLE and check.reason in PAGE_ERRORS:
        check.consecutive_failures = baseline.consecutive_failures + 1
        if check.consecutive_failures >= max_failures:
            check.status = Status.LOST
    else:
        check.consecutive_failures = 0
    if baseline.candidate and check.status is Status.LOST:
        check.status = Status.SPAM  # it never was a link, so it cannot be a lost one
    check.change = change(check, baseline)
    return check


def change(check: Check, baseline: Baseline) -> Change:
    """What this check changed, against the last live-or-lost one (first that applies)."""
    if check.status is Status.UNREACHABLE:
        return Change.UNREACHABLE
    if baseline.status is None:
        return Change.NEW
    if baseline.status is Status.SPAM:  # never a link: found live it is a new one
        return Change.NEW if check.status is Status.LIVE else Change.UNCHANGED
    if baseline.status is Status.LOST:
        return Change.REGAINED if check.status is Status.LIVE else Change.UNCHANGED
    if check.status is Status.LOST:
        return Change.LOST
    if baseline.follow and check.follow is False:
        return Change.NOFOLLOWED
    if baseline.follow is False and check.follow:
        return Change.FOLLOWED
    if fold(baseline.anchor or "").casefold() != fold(check.anchor or "").casefold():
        return Change.ANCHOR_CHANGED
    if _target(baseline.target) != _target(check.observed_target):
        return Change.TARGET_CHANGED
    if check.found_in is FoundIn.RENDERED and baseline.found_in is not FoundIn.RENDERED:
        return Change.MOVED_TO_JS  # some crawlers never run scripts
    return Change.UNCHANGED


def _target(url: str | None) -> str:
    return compare_key(url) if url else ""
