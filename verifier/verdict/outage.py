"""Whether a run's failures look like the crawler's own outage, not the web's (pure).

After a good run, one run on a machine whose network or DNS is down fails every
page, and each backlink would turn `unreachable` (and, the Nth night, `lost`). A
monitor must not report its own outage as the web's, so such a run is
`degraded` and its checks are not believed (verifier/store/outage.py).

The rule (settings BACKCHECK_OUTAGE_*, documented in crawler/settings.py) sees
the pages that failed with a network reason (NETWORK_ERRORS). A run is an
outage either way:

- broad: at least `share` of its referring pages failed so, across at least
  `min_domains` referring domains;
- small profiles (fewer referring domains than that): nearly everything failed
  so, at least `target_share` of the referring pages *and* of the site's own
  target pages, which the same run checks.

The site's own pages never suffice alone: our own server down while the web
answers is the site's news, not the crawler's outage; and one dead referring
page of two is just that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from verifier.models import Reason

#: Reasons that say the network path failed, not the page: the crawler's outage looks
#: like these. server_error and http_error are answers, so some server was reached.
NETWORK_ERRORS = frozenset(
    {Reason.DNS_ERROR, Reason.CONNECTION_ERROR, Reason.TIMEOUT, Reason.TLS_ERROR}
)


@dataclass(frozen=True, slots=True)
class OutageRule:
    """Thresholds of the rule (BACKCHECK_OUTAGE_*); the defaults are the settings'."""

    enabled: bool = True
    share: float = 0.5  # of the run's referring pages failing with a network reason
    min_domains: int = 10  # distinct referring domains among those pages
    target_share: float = 0.9  # of the pages and the target pages, for small profiles


DEFAULT_RULE = OutageRule()


@dataclass(frozen=True, slots=True)
class Page:
    """One referring page fetched in the run: its registered domain and failure reason."""

    domain: str | None
    reason: str | None  # None (or a lost reason) when the page answered


@dataclass(frozen=True, slots=True)
class Outage:
    """What the rule saw in a run, and its decision."""

    pages: int
    failed_pages: int
    failed_domains: int
    targets: int
    failed_targets: int
    degraded: bool

    def explain(self) -> str:
        """One line for the log and the run's record.

        >>> Outage(20, 20, 12, 2, 2, True).explain()
        'network errors on 20 of 20 pages (12 referring domains) and 2 of 2 target pages'
        """
        return (
            f"network errors on {self.failed_pages} of {self.pages} pages"
            f" ({self.failed_domains} referring domains) and {self.failed_targets}"
            f" of {self.targets} target pages"
        )


def is_network_error(reason: str | None) -> bool:
    """
    >>> is_network_error("dns_error"), is_network_error("server_error"), is_network_error(None)
    (True, False, False)
    """
    return reason in NETWORK_ERRORS


def judge(
    pages: Sequence[Page], target_errors: Iterable[str | None], rule: OutageRule = DEFAULT_RULE
) -> Outage:
    """Apply the rule to a run's pages and the errors of its target checks (None: answered).

    >>> down = [Page(f"d{i}.com", "connection_error") for i in range(10)]
    >>> judge(down, []).degraded, judge(down[:9], []).degraded
    (True, False)
    >>> judge(down[:2], ["dns_error"]).degraded, judge(down[:2], [None]).degraded
    (True, False)
    >>> judge(down[:1] + [Page("ok.com", None)], ["dns_error"]).degraded
    False
    """
    failed = [page for page in pages if is_network_error(page.reason)]
    domains = len({page.domain or "" for page in failed})
    targets = list(target_errors)
    failed_targets = sum(1 for error in targets if is_network_error(error))
    broad = len(failed) >= rule.share * len(pages) and domains >= rule.min_domains
    small = (
        bool(targets)
        and failed_targets >= rule.target_share * len(targets)
        and len(failed) >= rule.target_share * len(pages)
    )
    degraded = rule.enabled and bool(failed) and (broad or small)
    return Outage(len(pages), len(failed), domains, len(targets), failed_targets, degraded)
