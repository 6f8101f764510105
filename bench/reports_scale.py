"""Time every report on a synthetic history of 1,000,000 backlinks and 10,000,000 checks.

    python -m bench.reports_scale DB [--backlinks 1000000] [--runs 10] [--every DAYS] [--reuse]
                                     [--json-out FILE] [--size-only]

Issue #3: every report answers in under 2 seconds on such a database. This script

1. builds DB (unless --reuse and DB exists): `verifier.store.storage.open_db` creates
   the product's schema, indexes and report views, then a synthetic history is
   bulk-loaded with plain sqlite3 (indexes dropped during the load and re-created
   from their own SQL; the schema must then equal a freshly migrated database's).
   No ANALYZE: the product never runs it, so the planner sees what a user's does;
2. times each report of the registry the way `backcheck report NAME --site SITE
   --format json` runs it: a fresh connection, `run_report` (query, booleans,
   post-processing, notes), `render_json`; best of 3, and the first run apart.
   Then `python -m crawler.cli report summary --format json` end to end.

The exit status is 1 when a report takes 2 s or more, except the output-bound
variants (a row per backlink, e.g. `backlinks` unfiltered), listed apart with
rows/s. Not part of the test suite. See bench/README.md.

This module is longer than the style guide's 400 lines on purpose: it is one
self-contained command; the generator (first half) and the timer (second half)
are separate sections that share only the constants at the top.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import html
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from array import array
from bisect import bisect
from dataclasses import asdict, dataclass, field
from itertools import accumulate
from pathlib import Path
from random import Random
from typing import Any, NamedTuple

from verifier import reports
from verifier.models import PAGE_ERRORS, Change, Reason, Status
from verifier.store import evidence as shared_evidence
from verifier.store import storage
from verifier.verdict.history import DEFAULT_MAX_FAILURES
from verifier.verdict.urls import identity_key, registered_domain

REPO = Path(__file__).resolve().parents[1]
BUDGET_S = 2.0  # issue #3: every report under 2 seconds
REPEATS = 3  # timed runs per variant: the first (cold) and the best are reported
SEED = 1
MARKER = "bench.reports_scale"  # in runs.stats: a database this script may overwrite


def _words(text: str) -> list[str]:
    return text.split()


# --- the synthetic profile ---------------------------------------------------------------

SITE = "acme.com"
BRANDS = ("Acme", "Acme Widgets")
KEYWORDS = ("blue widgets", "widget store", "custom widgets")
COMPETITORS = ("widgetco.com", "globex.com")
RUN_EVERY = dt.timedelta(days=4)  # 10 runs span 5-6 weeks: velocity has weeks and months
CHECKS_PER_SECOND = 40  # the crawl's pace: checked_at advances 1 s per 40 checks
BATCH = 50_000  # rows per executemany
DISAVOWED = 199  # 1 referring domain in 199 is in the disavow file

WORDS = _words(
    "acorn amber apple arrow aspen atlas birch bison bolt brook cedar cloud coast comet coral"
    " crane delta dune eagle echo ember fern field flint fox frost garden grove harbor hawk"
    " hazel iris ivy jade juniper lake lark laurel lemon lotus maple marsh meadow mint moss"
    " north oak ocean olive orbit pearl pine plum prairie quartz rain raven reed ridge river"
    " robin sage sand slate solar spruce star stone summit swift thistle tide timber trail"
    " valley vine willow wind"
)
NWORDS = len(WORDS)
TLDS = ("com", "com", "com", "com", "net", "org", "de", "co.uk", "fr", "io", "info", "nl")
PRIVATE_SUFFIXES = ("blogspot.com", "github.io", "netlify.app")  # separate owners per host
SECTIONS = ("blog", "news", "reviews", "forum/thread", "resources", "2023/05", "guides")


class Rel(NamedTuple):
    rel: str | None
    follow: int
    source: str | None  # nofollow_source
    weight: float


RELS = (
    Rel(None, 1, None, 0.55),
    Rel("noopener", 1, None, 0.12),
    Rel("nofollow", 0, "rel", 0.17),
    Rel("nofollow noopener", 0, "rel", 0.03),
    Rel("ugc", 0, "rel", 0.04),
    Rel("sponsored", 0, "rel", 0.03),
    Rel("ugc nofollow", 0, "rel", 0.02),
    Rel(None, 0, "meta", 0.03),  # robots meta nofollow on the page
    Rel(None, 0, "header", 0.01),  # X-Robots-Tag: nofollow
)

#: Anchor categories (see verifier.reports.anchors) and their share of backlinks.
ANCHOR_MIX = {
    "branded": 0.28,
    "naked_url": 0.10,
    "exact": 0.05,
    "generic": 0.14,
    "partial": 0.13,
    "other": 0.25,
    "image": 0.04,
    "empty": 0.01,
}
FIXED_ANCHORS = {
    "branded": [
        *("Acme", "acme", "ACME", "Acme Inc", "Acme Inc.", "Acme Widgets", "the Acme blog"),
        *("Acme's pricing", "Acme review", "acme widgets store", "Acme (widgets)", "via Acme"),
    ],
    "naked_url": ["acme.com", "www.acme.com", "https://acme.com", "https://www.acme.com/"],
    "exact": ["blue widgets", "Blue Widgets", "widget store", "custom widgets", "Custom Widgets"],
    "generic": [
        *("click here", "here", "read more", "Read more »", "this website", "website"),
        *("source", "learn more", "mehr lesen", "en savoir plus", "leer más", "Click here"),
    ],
    "partial": [
        *(f"{m} {k}" for m in ("best", "cheap", "top 10", "buy", "new") for k in KEYWORDS),
        *(f"{k} {m}" for m in ("for kids", "2024", "online", "guide") for k in KEYWORDS),
    ],
    "image": ["Acme logo", "acme", "blue widget photo", "Acme Widgets banner", ""],
    "empty": [""],
}

#: Verdict transitions per run (first match wins; see History.step).
FIRST = (0.88, 0.95)  # first check: live below .88, lost below .95, else unreachable
LIVE_TO = {"lost": 0.005, "unreachable": 0.013, "follow": 0.016, "anchor": 0.019, "target": 0.020}
LOST_TO = {"regained": 0.08, "unreachable": 0.085}
STREAK_GOES_ON = 0.5  # an unreachable page stays so at the next run
LOST_REASONS = {
    Reason.LINK_REMOVED: 0.55,
    Reason.PAGE_NOT_FOUND: 0.30,
    Reason.REDIRECTED_AWAY: 0.08,
    Reason.NOINDEX: 0.04,
    Reason.NOT_CANONICAL: 0.03,
}
UNREACHABLE_REASONS = {
    Reason.TIMEOUT: 0.30,
    Reason.DNS_ERROR: 0.15,
    Reason.CONNECTION_ERROR: 0.15,
    Reason.SERVER_ERROR: 0.15,
    Reason.TLS_ERROR: 0.05,
    Reason.HTTP_ERROR: 0.05,
    Reason.ROBOTS_BLOCKED: 0.10,
    Reason.NOT_HTML: 0.05,
}


class Evidence(NamedTuple):
    """What a check with this reason carries, as verifier.verdict.classify would fill it."""

    http_status: int | None
    fetched: bool  # content type, size, fetch time
    parsed: bool  # content hash, canonical
    link: bool  # the link was found: follow, rel, anchor, link HTML, context
    detail: str | None = None


EVIDENCE = {
    None: Evidence(200, True, True, True),
    Reason.LINK_REMOVED: Evidence(200, True, True, False),
    Reason.PAGE_NOT_FOUND: Evidence(404, True, False, False),
    Reason.REDIRECTED_AWAY: Evidence(200, True, False, False),
    Reason.NOINDEX: Evidence(200, True, True, True),
    Reason.NOT_CANONICAL: Evidence(200, True, True, True),
    Reason.TIMEOUT: Evidence(None, False, False, False, "TimeoutError: took longer than 30 s"),
    Reason.DNS_ERROR: Evidence(None, False, False, False, "DNSLookupError: no such host"),
    Reason.CONNECTION_ERROR: Evidence(None, False, False, False, "Connection was refused"),
    Reason.TLS_ERROR: Evidence(None, False, False, False, "SSL routines: handshake failure"),
    Reason.SERVER_ERROR: Evidence(503, True, False, False),
    Reason.HTTP_ERROR: Evidence(403, True, False, False),
    Reason.ROBOTS_BLOCKED: Evidence(None, False, False, False, "Forbidden by robots.txt"),
    Reason.NOT_HTML: Evidence(200, True, False, False),
}
REASONS: tuple[Reason | None, ...] = tuple(EVIDENCE)
LIVE, LOST, UNREACHABLE = 1, 2, 3
STATUS = (None, Status.LIVE.value, Status.LOST.value, Status.UNREACHABLE.value)
CHANGES = tuple(Change)
C = {change: CHANGES.index(change) for change in CHANGES}

CHECK_COLUMNS = _words(
    "id run_id backlink_id checked_at status reason change follow nofollow_source rel anchor"
    " anchor_changed target_changed observed_target link_count http_status final_url"
    " consecutive_failures size fetch_ms content_hash detail evidence_id"
)
#: The shared evidence (migration m007), one row per backlink and distinct values.
EVIDENCE_COLUMNS = ["id", "backlink_id", "digest", *shared_evidence.SHARED]
BACKLINK_COLUMNS = _words(
    "id site source_url target_url source_key target_key referring_domain expected_anchor"
    " sources imported_at first_seen last_live lost_since status reason change follow"
    " nofollow_source rel anchor anchor_changed target_changed observed_target link_count"
    " http_status final_url consecutive_failures last_checked last_check_id baseline_status"
    " baseline_follow baseline_anchor baseline_target disavowed_at vendor_first_seen"
)


def _insert(table: str, columns: list[str]) -> str:
    return f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"


def _picker(weights: dict[Any, float]) -> tuple[list[Any], list[float]]:
    total = sum(weights.values())
    return list(weights), list(accumulate(w / total for w in weights.values()))


def _pick(choice: tuple[list[Any], list[float]], x: float) -> Any:
    values, cumulative = choice
    return values[min(bisect(cumulative, x), len(values) - 1)]


def iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")  # as verifier.store.storage.now() writes


# --- the generator -----------------------------------------------------------------------


class Profile:
    """The static part: referring domains and pages, our target pages, anchor texts."""

    def __init__(self, backlinks: int, rnd: Random) -> None:
        self.n = backlinks
        self.domains = [self._domain(d) for d in range(max(1, backlinks // 10))]
        self.targets = [f"https://{SITE}/"] + [
            f"https://{SITE}/{SECTIONS[k % 7]}/{WORDS[k % NWORDS]}-{WORDS[(k * 7) % NWORDS]}-{k}"
            for k in range(1, max(50, backlinks // 200))
        ]
        if any(identity_key(url) != url for url in self.targets[:100]):
            raise SystemExit("target URLs must be written as their identity keys")
        self.anchors: list[str] = []
        self.inner: list[str] = []  # the link's inner HTML: text, or an <img> with alt
        self.ranges: dict[str, range] = {}
        others = [
            " ".join(WORDS[k // NWORDS**j % NWORDS] for j in range(3)).capitalize()
            + (f" {k // NWORDS**3}" if k >= NWORDS**3 else "")
            for k in range(max(10, backlinks // 20))
        ]
        for category, texts in {**FIXED_ANCHORS, "other": others}.items():
            if category == "naked_url":
                texts = texts + self.targets
            start = len(self.anchors)
            self.anchors += texts
            image = category == "image"
            self.inner += [
                f'<img src="https://{SITE}/logo.png" alt="{html.escape(t)}">'
                if image
                else html.escape(t, quote=False)
                for t in texts
            ]
            self.ranges[category] = range(start, len(self.anchors))
        self.anchor_mix = _picker(ANCHOR_MIX)
        self.contexts = [self._context(rnd, k) for k in range(1024)]
        self.hashes = [hashlib.sha256(str(k).encode()).hexdigest() for k in range(4096)]

    @staticmethod
    def _domain(d: int) -> tuple[str, str]:
        """(host, registered domain) of referring domain d; 1 in 20 on a private suffix."""
        name = f"{WORDS[d % NWORDS]}{WORDS[(d // NWORDS) % NWORDS]}{d}"
        if d % 20 == 3:
            host = f"{name}.{PRIVATE_SUFFIXES[d % 3]}"
            return host, host
        domain = f"{name}.{TLDS[d % len(TLDS)]}"
        host = ("www." if d % 10 < 6 else "blog." if d % 10 == 9 else "") + domain
        return host, domain

    @staticmethod
    def _context(rnd: Random, k: int) -> str:
        words = [rnd.choice(WORDS) for _ in range(30)]
        if k % 10 == 0:
            words[rnd.randrange(30)] = "Acme"
        return " ".join(words)[:100]

    def anchor(self, x: float, y: float) -> int:
        category = _pick(self.anchor_mix, x)
        span = self.ranges[category]
        return span[int(y * len(span))]

    def check_domains(self) -> None:
        """Every referring domain must be what verifier.verdict.urls computes for its host."""
        for host, domain in self.domains:
            if registered_domain(host) != domain:
                raise SystemExit(f"{host}: registered domain {registered_domain(host)!r}")


@dataclass
class Tally:
    live: int = 0
    followed: int = 0
    lost: int = 0
    newly_lost: int = 0
    regained: int = 0
    unreachable: int = 0


class History:
    """Each backlink's state across runs, moved on by `step` as history.settle moves it."""

    def __init__(self, profile: Profile, rnd: Random) -> None:
        n, self.p, self.rnd = profile.n, profile, rnd
        domains = len(profile.domains)
        # one link per domain first; the rest go to the first half of the domains, skewed
        # (the top one gets 2-3 % of all links), so half the domains link only once
        self.domain = array(
            "l", (i if i < domains else int(domains // 2 * rnd.random() ** 3) for i in range(n))
        )
        self.source = [self._source(i) for i in range(n)]
        targets = len(profile.targets)
        self.target = array(
            "l",
            (
                -1 if x < 0.02 else 0 if x < 0.25 else 1 + int((targets - 1) * rnd.random() ** 2)
                for x in (rnd.random() for _ in range(n))
            ),
        )
        self.observed = array("l", (max(t, 0) for t in self.target))
        self.anchor = array("l", (profile.anchor(rnd.random(), rnd.random()) for _ in range(n)))
        self.expected = array("l", (a if rnd.random() < 0.7 else -1 for a in self.anchor))
        rels = _picker({k: rel.weight for k, rel in enumerate(RELS)})
        self.rel = bytearray(_pick(rels, rnd.random()) for _ in range(n))
        # the latest check: status and reason codes, change, page errors in a row
        self.status, self.reason, self.change, self.fails = (bytearray(n) for _ in range(4))
        # the last live-or-lost check (what `change` compares with)
        self.base, self.base_reason = bytearray(n), bytearray(n)
        # runs of first_seen, last_live, lost_since (0: none)
        self.first_run, self.live_run, self.lost_run = (array("h", bytes(2 * n)) for _ in range(3))
        self.lost_reasons = _picker({REASONS.index(r): w for r, w in LOST_REASONS.items()})
        self.unreachable_reasons = _picker(
            {REASONS.index(r): w for r, w in UNREACHABLE_REASONS.items()}
        )
        self.page_errors = {REASONS.index(r) for r in PAGE_ERRORS}
        self.stamps: dict[int, list[str]] = {}
        self.tally = Tally()
        # (backlink, hash of its shared evidence) -> evidence id, as record_checks shares them
        self.evidence_ids: dict[tuple[int, int], int] = {}
        self.new_evidence: list[tuple[Any, ...]] = []  # rows to insert with the next batch

    def _source(self, i: int) -> str:
        host = self.p.domains[self.domain[i]][0]
        slug = f"{WORDS[(i * 7) % NWORDS]}-{WORDS[(i * 13) % NWORDS]}-{i}"
        return f"https://{host}/{SECTIONS[i % 7]}/{slug}"

    # transitions: (page status, reason code, link event) for this run's fetch

    def _first(self, x: float) -> tuple[int, int, int]:
        y = self.rnd.random()
        if x < FIRST[0]:
            return LIVE, 0, C[Change.UNCHANGED]
        if x < FIRST[1]:
            return LOST, _pick(self.lost_reasons, y), 0
        return UNREACHABLE, _pick(self.unreachable_reasons, y), 0

    def _streak(self, i: int, x: float) -> tuple[int, int, int]:
        """An unreachable page (or one lost after N failures): again, or back."""
        if x < STREAK_GOES_ON:
            return UNREACHABLE, self.reason[i], 0
        base, reason = self.base[i], self.base_reason[i]
        if base == 0:
            return self._first(self.rnd.random() * FIRST[1])
        if base == LIVE or (reason in self.page_errors and x < 0.8):
            return LIVE, 0, C[Change.UNCHANGED]
        lost_reason = REASONS.index(Reason.LINK_REMOVED) if reason in self.page_errors else reason
        return (LIVE, 0, C[Change.UNCHANGED]) if x > 0.95 else (LOST, lost_reason, 0)

    def _live(self, i: int, x: float) -> tuple[int, int, int]:
        if x >= LIVE_TO["target"]:
            return LIVE, 0, C[Change.UNCHANGED]
        if x < LIVE_TO["lost"]:
            return LOST, _pick(self.lost_reasons, self.rnd.random()), 0
        if x < LIVE_TO["unreachable"]:
            return UNREACHABLE, _pick(self.unreachable_reasons, self.rnd.random()), 0
        if x < LIVE_TO["follow"]:
            followed = RELS[self.rel[i]].follow
            self.rel[i] = 2 if followed else 0
            return LIVE, 0, C[Change.NOFOLLOWED if followed else Change.FOLLOWED]
        if x < LIVE_TO["anchor"]:
            old, texts = self.anchor[i], self.p.anchors
            self.anchor[i] = new = self.p.anchor(self.rnd.random(), self.rnd.random())
            same = texts[old].casefold() == texts[new].casefold()
            return LIVE, 0, C[Change.UNCHANGED if same else Change.ANCHOR_CHANGED]
        self.observed[i] = (self.observed[i] + 1) % len(self.p.targets)
        return LIVE, 0, C[Change.TARGET_CHANGED]

    def _lost(self, i: int, x: float) -> tuple[int, int, int]:
        if x < LOST_TO["regained"]:
            return LIVE, 0, C[Change.UNCHANGED]
        if x < LOST_TO["unreachable"]:
            return UNREACHABLE, _pick(self.unreachable_reasons, self.rnd.random()), 0
        return LOST, self.reason[i], 0

    def step(self, i: int, run: int) -> None:
        """Draw backlink i's check in `run` and settle it as history.settle does."""
        status, base, x = self.status[i], self.base[i], self.rnd.random()
        if status == 0:
            page, reason, event = self._first(x)
        elif status == UNREACHABLE or self.fails[i]:
            page, reason, event = self._streak(i, x)
        elif status == LIVE:
            page, reason, event = self._live(i, x)
        else:
            page, reason, event = self._lost(i, x)
        if page == UNREACHABLE and reason in self.page_errors:
            self.fails[i] = min(self.fails[i] + 1, 255)
            status = LOST if self.fails[i] >= DEFAULT_MAX_FAILURES else UNREACHABLE
        else:
            self.fails[i], status = 0, page
        if status == UNREACHABLE:
            change = C[Change.UNREACHABLE]
        elif base == 0:
            change = C[Change.NEW]
        elif base == LOST:
            change = C[Change.REGAINED if status == LIVE else Change.UNCHANGED]
        else:
            change = C[Change.LOST] if status == LOST else event
        self.status[i], self.reason[i], self.change[i] = status, reason, change
        if status != UNREACHABLE:
            self.base[i], self.base_reason[i] = status, reason
        if status == LIVE:
            self.first_run[i] = self.first_run[i] or run
            self.live_run[i], self.lost_run[i] = run, 0
        elif status == LOST:
            self.lost_run[i] = self.lost_run[i] or run
        self._count(i, status, change)

    def _count(self, i: int, status: int, change: int) -> None:
        tally = self.tally
        if status == LIVE:
            tally.live += 1
            tally.followed += RELS[self.rel[i]].follow
            tally.regained += change == C[Change.REGAINED]
        elif status == LOST:
            tally.lost += 1
            tally.newly_lost += change == C[Change.LOST]
        else:
            tally.unreachable += 1

    # rows

    def _link(self, i: int, status: int, reason: int) -> tuple[Any, ...]:
        """follow … observed_target: the link's columns, NULL when it was not found."""
        if not EVIDENCE[REASONS[reason]].link or status == UNREACHABLE:
            return (None,) * 7
        rel, anchor, expected = RELS[self.rel[i]], self.anchor[i], self.expected[i]
        texts, target = self.p.anchors, self.target[i]
        changed = expected >= 0 and texts[expected].casefold() != texts[anchor].casefold()
        moved = target >= 0 and self.observed[i] != target
        found = (rel.follow, rel.source, rel.rel, texts[anchor])
        return (*found, int(changed), int(moved), self.p.targets[self.observed[i]])

    def verdict(self, i: int) -> tuple[Any, ...]:
        """The VERDICT_COLUMNS of backlink i's latest check (status … consecutive_failures)."""
        status, reason = self.status[i], self.reason[i]
        link = self._link(i, status, reason)
        evidence = EVIDENCE[REASONS[reason]]
        final = None
        if evidence.fetched:
            away = REASONS[reason] is Reason.REDIRECTED_AWAY
            final = f"https://parked-{i % 997}.example/" if away else self.source[i]
        links = 1 + (i % 20 == 0) if link[0] is not None else 0  # 1 in 20 pages link twice
        head = (STATUS[status], REASONS[reason], CHANGES[self.change[i]].value)
        return (*head, *link, links, evidence.http_status, final, self.fails[i])

    def check_row(self, check_id: int, run: int, i: int, at: str) -> tuple[Any, ...]:
        verdict = self.verdict(i)
        reason = REASONS[self.reason[i]]
        evidence, p = EVIDENCE[reason], self.p
        fetched, parsed = evidence.fetched, evidence.parsed
        meta = "noindex" if reason is Reason.NOINDEX else None
        header = None
        html_ = before = after = None
        if verdict[3] is not None:  # the link was found
            rel = RELS[self.rel[i]]
            meta = meta or ("nofollow" if rel.source == "meta" else None)
            header = "nofollow" if rel.source == "header" else None
            attr = f' rel="{rel.rel}"' if rel.rel else ""
            html_ = f'<a href="{verdict[9]}"{attr}>{p.inner[self.anchor[i]]}</a>'
            before, after = p.contexts[i % 1024], p.contexts[(i * 7 + 3) % 1024]
        canonical = None
        if parsed and i % 5 < 3:
            canonical = self.source[i] if reason is not Reason.NOT_CANONICAL else p.targets[0]
        redirects = None
        if reason is Reason.REDIRECTED_AWAY:
            redirects = json.dumps([[self.source[i], 301]])
        fetch: tuple[Any, ...] = (None, None, None)  # content type, size, milliseconds
        if fetched:
            kind = "application/pdf" if reason is Reason.NOT_HTML else "text/html; charset=utf-8"
            fetch = (kind, 20_000 + (i * 7919) % 180_000, 80 + (i * 31 + run * 17) % 1500)
        digest = p.hashes[(i + (run if i % 4 == 0 else 0)) % 4096] if parsed else None
        shared = (redirects, fetch[0], header, meta, canonical, html_, before, after)
        shared_id = self.shared_id(i + 1, shared)
        return (check_id, run, i + 1, at, *verdict, *fetch[1:], digest, evidence.detail, shared_id)

    def shared_id(self, backlink_id: int, values: tuple[Any, ...]) -> int | None:
        """The evidence row of these values (SHARED order), as verifier.store.evidence
        keeps them: one per backlink and distinct values, none when all are NULL."""
        if all(value is None for value in values):
            return None
        key = (backlink_id, hash(values))
        found = self.evidence_ids.get(key)
        if found is None:
            found = self.evidence_ids[key] = len(self.evidence_ids) + 1
            row = (found, backlink_id, shared_evidence.digest(values), *values)
            self.new_evidence.append(row)
        return found

    def backlink_row(self, i: int, run: int, imported: str, sources: str) -> tuple[Any, ...]:
        """Backlink i as it stands after `run`, its last check, as verifier.store.runs leaves it."""
        p, target, expected = self.p, self.target[i], self.expected[i]
        base = self.base[i]
        follow, anchor, observed = None, None, None
        if base:
            follow, _, _, anchor, _, _, observed = self._link(i, base, self.base_reason[i])
        source, host_domain = self.source[i], p.domains[self.domain[i]][1]
        target_url = p.targets[target] if target >= 0 else None
        keys = (source, target_url or "", host_domain)  # identity keys: URLs are normalized
        imported_as = (p.anchors[expected] if expected >= 0 else None, sources, imported)
        times = [self.stamp(self.first_run[i], i), self.stamp(self.live_run[i], i)]
        times.append(self.stamp(self.lost_run[i], i))  # first_seen, last_live, lost_since
        last = (self.stamp(run, i), (run - 1) * p.n + i + 1)
        baseline = (STATUS[base], follow, anchor, observed)
        disavowed = imported if self.domain[i] % DISAVOWED == 7 else None
        head = (i + 1, SITE, source, target_url, *keys, *imported_as, *times)
        return (*head, *self.verdict(i), *last, *baseline, disavowed)

    def stamp(self, run: int, i: int) -> str | None:
        return self.stamps[run][i // CHECKS_PER_SECOND] if run else None


# --- building the database ---------------------------------------------------------------


@dataclass
class Built:
    backlinks: int
    runs: int
    checks: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    runs_tally: list[dict[str, int]] = field(default_factory=list)


#: While loading a throw-away database: no journal, no fsync, a 1 GB page cache, sorts
#: (CREATE INDEX) in memory on every core. journal_mode goes back to WAL at the end.
LOAD_PRAGMAS = """
    pragma synchronous = OFF; pragma journal_mode = OFF; pragma cache_size = -1000000;
    pragma temp_store = MEMORY;
"""


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def heavy_indexes(con: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """The explicit indexes and the triggers of the big tables, in creation order:
    (type, name, SQL). The generator fills what the triggers would (vendor_first_seen)."""
    return con.execute(
        "select type, name, sql from sqlite_master where type in ('index', 'trigger')"
        " and sql is not null"
        " and tbl_name in ('checks', 'evidence', 'backlinks', 'backlink_sources', 'run_items')"
        " order by rowid"
    ).fetchall()


def schema(path: Path | str) -> set[tuple[str, str, str, str | None]]:
    """Tables, indexes, triggers and the product's own views; not the report views
    (`report_*`), which every CLI open re-creates from the reports' SQL."""
    with sqlite3.connect(path) as con:
        rows = con.execute(
            "select type, name, tbl_name, sql from sqlite_master"
            " where name not like 'sqlite_stat%'"
            " and not (type = 'view' and name like 'report\\_%' escape '\\')"
        ).fetchall()
    con.close()
    return set(rows)


def check_schema(path: Path) -> None:
    """Exit when DB's schema differs from a freshly migrated database's (indexes included)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "fresh.db"
        storage.open_db(fresh).close()
        want, got = schema(fresh), schema(path)
    if want != got:
        for label, rows in (("missing", want - got), ("unexpected", got - want)):
            for row in sorted(rows, key=str):
                progress(f"schema {label}: {row[0]} {row[1]}: {row[3]}")
        raise SystemExit(f"{path}: schema differs from the product's (see above)")


def run_started(
    last_start: dt.datetime, run: int, runs: int, every: dt.timedelta = RUN_EVERY
) -> dt.datetime:
    return last_start - (runs - run) * every


def load_run(con: sqlite3.Connection, h: History, run: int, started: dt.datetime) -> None:
    """One run: run_items, a check of every backlink, our targets' checks, the runs row."""
    n, h.tally = h.p.n, Tally()
    seconds = -(-n // CHECKS_PER_SECOND)
    h.stamps[run] = [iso(started + dt.timedelta(seconds=s)) for s in range(seconds + 1)]
    con.execute("begin")
    con.executemany(
        "insert into run_items (run_id, backlink_id) values (?, ?)",
        ((run, i) for i in range(1, n + 1)),
    )
    insert, stamps, first_id = _insert("checks", CHECK_COLUMNS), h.stamps[run], (run - 1) * n
    for start in range(0, n, BATCH):
        batch = []
        for i in range(start, min(start + BATCH, n)):
            h.step(i, run)
            batch.append(h.check_row(first_id + i + 1, run, i, stamps[i // CHECKS_PER_SECOND]))
        con.executemany(_insert("evidence", EVIDENCE_COLUMNS), h.new_evidence)
        h.new_evidence.clear()
        con.executemany(insert, batch)
    finished = started + dt.timedelta(seconds=seconds)
    load_targets(con, h, run, iso(finished))
    stats = {"finish_reason": "finished", "item_scraped_count": n, "generator": MARKER}
    row = {"id": run, "started_at": iso(started), "finished_at": iso(finished)}
    row |= {"state": "finished", "sites": json.dumps([SITE]), "pages": n, "backlinks": n}
    row |= asdict(h.tally) | {"stats": json.dumps(stats)}
    con.execute(_insert("runs", list(row)), list(row.values()))
    con.execute("commit")


def load_targets(con: sqlite3.Connection, h: History, run: int, at: str) -> None:
    """Our pages, checked once per run: 1 in 47 answers 404, some 5xx, some redirect."""
    rows = []
    for k in sorted({t for t in h.target if t >= 0}):
        url, chain, status, final = h.p.targets[k], None, 200, h.p.targets[k]
        if k and k % 47 == 0:
            status = 404 if k % 2 else 410
        elif k and k % 97 == 0 and run % 2:
            status = 503
        elif k and k % 31 == 0:
            final = url + "-new"
            hops = [[url, 301 if k % 5 else 302]] + ([[url + "/", 301]] if k % 3 == 0 else [])
            chain = json.dumps(hops)
        rows.append(
            (run, SITE, url, url, at, "GET" if k % 13 == 0 else "HEAD", status, final, chain)
        )
    con.executemany(
        "insert into target_checks (run_id, site, url_key, url, checked_at, method,"
        " http_status, final_url, redirect_chain) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def load_backlinks(con: sqlite3.Connection, h: History, runs: int, imported: str) -> None:
    """The backlinks as the last run left them, their vendor rows, a disavow file."""
    n, rnd = h.p.n, h.rnd
    vendors = []
    insert = _insert("backlinks", BACKLINK_COLUMNS)
    con.execute("begin")
    for start in range(0, n, BATCH):
        rows = []
        for i in range(start, min(start + BATCH, n)):
            names = [
                v
                for v, share in (("ahrefs", 0.8), ("semrush", 0.3), ("gsc", 0.25))
                if rnd.random() < share
            ] or ["ahrefs"]
            row = h.backlink_row(i, runs, imported, ",".join(names))
            dated = any(name != "gsc" for name in names)  # vendor_first_seen, as the triggers
            rows.append((*row, vendor_first(i) if dated else None))  # set it
            vendors += [vendor_row(h, i, name, imported) for name in names]
        con.executemany(insert, rows)
        con.executemany(_insert("backlink_sources", VENDOR_COLUMNS), vendors)
        vendors.clear()
    disavowed = [
        (host_domain,) for d, (_, host_domain) in enumerate(h.p.domains) if d % DISAVOWED == 7
    ]
    con.executemany(
        "insert into disavow_entries (site, kind, value, file, line, imported_at)"
        f" values ('{SITE}', 'domain', ?, 'disavow.txt', 0, '{imported}')",
        disavowed,
    )
    con.execute("commit")


VENDOR_COLUMNS = _words(
    "backlink_id source file line imported_at anchor domain_rating page_traffic"
    " vendor_first_seen vendor_last_seen metrics"
)


def vendor_first(i: int) -> str:
    """Backlink i's first-seen date in every vendor export (three years' worth of dates)."""
    return f"202{1 + i % 3}-{1 + i % 12:02d}-{1 + i % 28:02d}"


def vendor_row(h: History, i: int, source: str, imported: str) -> tuple[Any, ...]:
    """A vendor export line: domain rating falls with the domain's rank, traffic skewed."""
    if source == "gsc":
        return (i + 1, source, "gsc-links.csv", i + 2, imported, None, None, None, None, None, "{}")
    d = h.domain[i]
    rating = round(90 * (1 - (d / len(h.p.domains)) ** 0.3) + 5, 1)
    traffic = float(int(10 ** (4.5 * ((i * 2654435761) % 1000) / 1000) - 1))
    first = vendor_first(i)
    anchor = h.p.anchors[h.expected[i]] if h.expected[i] >= 0 else None
    metrics = {"domain_rating": rating, "page_traffic": traffic, "first_seen": first}
    line = (i + 1, source, f"{source}-export.csv", i + 2, imported, anchor)
    return (*line, rating, traffic, first, imported[:10], json.dumps(metrics))


def build(path: Path, backlinks: int, runs: int, every: dt.timedelta = RUN_EVERY) -> Built:
    """Create DB with the product's schema, then bulk-load the synthetic history."""
    built, clock = Built(backlinks, runs), time.perf_counter()
    db = storage.open_db(path)
    storage.save_site(db, SITE, brands=BRANDS, competitors=COMPETITORS, keywords=KEYWORDS)
    db.close()
    rnd = Random(SEED)
    profile = Profile(backlinks, rnd)
    profile.check_domains()
    history = History(profile, rnd)
    built.phases["profile"] = time.perf_counter() - clock
    progress(
        f"profile: {backlinks:,} backlinks, {len(profile.domains):,} referring domains,"
        f" {len(profile.targets):,} target pages ({built.phases['profile']:.0f} s)"
    )
    con = sqlite3.connect(path, isolation_level=None)
    # a throw-away database being built: no journal, no fsync; WAL again at the end
    con.executescript(LOAD_PRAGMAS + f"pragma threads = {os.cpu_count() or 1};")
    indexes = heavy_indexes(con)
    for kind, name, _ in indexes:
        con.execute(f'drop {kind} "{name}"')
    last_start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(
        hours=1, seconds=backlinks // CHECKS_PER_SECOND
    )
    for run in range(1, runs + 1):
        load_run(con, history, run, run_started(last_start, run, runs, every))
        built.runs_tally.append(asdict(history.tally))
        progress(
            f"run {run}/{runs}: {backlinks:,} checks {asdict(history.tally)}"
            f" ({time.perf_counter() - clock:.0f} s)"
        )
    built.checks = backlinks * runs
    imported = iso(run_started(last_start, 1, runs, every) - dt.timedelta(days=1))
    load_backlinks(con, history, runs, imported)
    built.phases["rows"] = time.perf_counter() - clock
    progress(f"backlinks and vendor rows ({built.phases['rows']:.0f} s); indexes ...")
    for _, name, sql in indexes:
        con.execute(sql)
        progress(f"  {name} ({time.perf_counter() - clock:.0f} s)")
    # Live links per referring domain, which triggers on backlinks keep (m011) and which
    # were dropped for the load: counted as the migration counts them (`lost`, the gap)
    con.execute("delete from domain_links")
    con.execute(DOMAIN_LINKS)
    progress(f"  domain_links ({time.perf_counter() - clock:.0f} s)")
    if con.execute("pragma journal_mode = WAL").fetchone()[0] != "wal":
        raise SystemExit(f"{path}: could not switch back to WAL")
    con.close()
    check_schema(path)
    built.seconds = time.perf_counter() - clock
    progress(f"built {path} in {built.seconds:.0f} s ({path.stat().st_size / 1e9:.2f} GB)")
    return built


#: `domain_links` from the backlinks as they are, the statement of migration m011.
DOMAIN_LINKS = (
    "insert into domain_links (site, referring_domain, live_links, followed_links,"
    " authority, authority_source)"
    " select site, referring_domain, sum(status is 'live'),"
    " sum(status is 'live' and coalesce(follow, 0) <> 0), coalesce(max(authority), -1),"
    " authority_source from backlinks group by site, referring_domain"
)


def ours(path: Path) -> bool:
    """True when DB was made by this script (so it may be overwritten)."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            row = con.execute("select stats from runs order by id limit 1").fetchone()
    except sqlite3.Error:
        return False
    return bool(row and row[0] and MARKER in row[0])


def remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# --- timing the reports ------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    report: str
    label: str
    params: dict[str, Any]
    output_bound: bool = False  # a row per backlink (or nearly): time follows the output


def variants(report: reports.Report, since: str) -> list[Variant]:
    """The default run of a report plus the main variants of its options (if it has them)."""
    extra: dict[str, list[tuple[str, dict[str, Any]]]] = {
        "backlinks": [
            ("--status lost", {"status": "lost"}),
            ("--status unreachable", {"status": "unreachable"}),
        ],
        "summary": [(f"--since {since}", {"since": since})],
        "referring-domains": [(f"--since {since}", {"since": since})],
        "anchors": [("--by category", {"by": "category"})],
        "velocity": [
            ("--by day", {"by": "day"}),
            ("--by month", {"by": "month"}),
            ("--vendor", {"vendor": True}),
        ],
        "lost": [(f"--since {since}", {"since": since})],
        "changes": [("--run 1", {"run": 1}), (f"--since {since}", {"since": since})],
    }
    # Output-bound: `backlinks` lists every backlink; in run 1 every backlink is new.
    bound = {("backlinks", "default"), ("changes", "--run 1")}
    names = set(report.param_names())
    out = []
    for label, params in [("default", {}), *extra.get(report.name, [])]:
        if not set(params) <= names:
            progress(f"note: {report.name} has no {sorted(set(params) - names)}: {label} skipped")
            continue
        out.append(Variant(report.name, label, params, (report.name, label) in bound))
    return out


def cli_params(report: reports.Report, variant: Variant) -> dict[str, Any]:
    """What `backcheck report NAME --site SITE` passes: click's option defaults, then ours."""
    options = {o.name: False if o.type is bool else o.default for o in report.options}
    return {"site": SITE, "since": None, **options, **variant.params}


@dataclass
class Timing:
    report: str
    variant: str
    output_bound: bool
    rows: int = 0
    first_s: float = 0.0
    best_s: float = 0.0
    query_s: float = 0.0  # of the best run: run_report (SQL, post-processing, notes)
    render_s: float = 0.0  # of the best run: render_json

    @property
    def verdict(self) -> str:
        if self.output_bound:
            return "output-bound"
        return "PASS" if self.best_s < BUDGET_S else "FAIL"

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.best_s if self.best_s else 0.0


def time_variant(path: Path, report: reports.Report, variant: Variant) -> Timing:
    """REPEATS runs, each on a fresh connection as every CLI call opens one."""
    timing = Timing(report.name, variant.label, variant.output_bound)
    params = cli_params(report, variant)
    for attempt in range(REPEATS):
        db = storage.open_db(path)
        try:
            start = time.perf_counter()
            result = reports.run_report(db, report, params)
            queried = time.perf_counter()
            reports.render_json(result.rows)
            done = time.perf_counter()
        finally:
            db.close()
        total = done - start
        if attempt == 0:
            timing.first_s = total
        if attempt == 0 or total < timing.best_s:
            timing.best_s, timing.query_s, timing.render_s = total, queried - start, done - queried
        timing.rows = len(result.rows)
        del result
    return timing


@dataclass
class Streamed:
    """`backcheck report NAME --format FMT` end to end, as a pipe reads it."""

    report: str
    fmt: str
    rows: int = 0
    first_row_s: float = 0.0  # from the start of the process to the first data row
    total_s: float = 0.0
    peak_rss_mb: float = 0.0  # the process's maximum resident set size


#: Runs the CLI and, at exit, writes its peak RSS (VmHWM) to stderr. Not ru_maxrss: a
#: child forked from this big process inherits its high-water mark on Linux.
_PEAK_RSS = (
    "import atexit, runpy, sys\n"
    "def peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            sys.stderr.write('peak-rss-kb ' + line.split()[1] + '\\n')\n"
    "atexit.register(peak)\n"
    "sys.argv = ['backcheck', *sys.argv[1:]]\n"
    "runpy.run_module('crawler.cli', run_name='__main__')\n"
)


def time_stream(path: Path, report: str, fmt: str, repo: Path = REPO) -> Streamed:
    """Run the CLI in a subprocess, read its stdout as a pipe would, note when the
    first data row arrives, and its peak memory (`repo`: the code to run)."""
    cmd = [sys.executable, "-c", _PEAK_RSS, "report", report, "--site", SITE]
    cmd += ["--format", fmt, "--db", str(path)]
    env = {k: v for k, v in os.environ.items() if k != "BACKCHECK_DB"}
    env["PYTHONPATH"] = str(repo)
    result = Streamed(report, fmt)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    lines = 0
    # Big reads, newlines counted in C: the reader must not compete for the CPU with the
    # command it measures. The first line is "[" (JSON) or the header (CSV).
    while chunk := proc.stdout.read1(1 << 20):
        lines += chunk.count(b"\n")
        if lines >= 2 and not result.first_row_s:
            result.first_row_s = time.perf_counter() - start
    errors = proc.stderr.read().decode()
    status = proc.wait()
    result.total_s = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with status {status}:\n{errors}")
    result.rows = lines - (2 if fmt == "json" else 1)
    peak = [line.split()[1] for line in errors.splitlines() if line.startswith("peak-rss-kb ")]
    result.peak_rss_mb = int(peak[-1]) / 1024 if peak else 0.0
    return result


def time_cli(path: Path) -> Timing:
    """`python -m crawler.cli report summary --db DB --format json`, start-up included."""
    timing = Timing("summary", "CLI end to end (no --site)", False)
    env = {k: v for k, v in os.environ.items() if k != "BACKCHECK_DB"}
    cmd = [sys.executable, "-m", "crawler.cli", "report", "summary", "--db", str(path)]
    for attempt in range(REPEATS):
        start = time.perf_counter()
        args = [*cmd, "--format", "json"]
        done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        total = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
        timing.rows = len(json.loads(done.stdout))
        timing.first_s = total if attempt == 0 else timing.first_s
        timing.best_s = total if attempt == 0 else min(total, timing.best_s)
    return timing


def recent_since(path: Path) -> str:
    """A --since date two weeks before the last run: a few runs' worth of events."""
    with sqlite3.connect(path) as con:
        last = con.execute("select max(started_at) from runs").fetchone()[0]
    con.close()
    if last is None:
        raise SystemExit(f"{path}: no runs; build it again without --reuse")
    return (dt.datetime.fromisoformat(last) - dt.timedelta(days=14)).date().isoformat()


def counts(path: Path) -> dict[str, int]:
    tables = ("backlinks", "checks", "evidence", "runs", "run_items", "target_checks")
    tables += ("backlink_sources",)
    with sqlite3.connect(path) as con:
        found = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}
    con.close()
    return found


#: What each check adds to the file: its row, its shared evidence, its run item (indexes
#: included). The rest (backlinks, vendor rows, target checks) does not grow per run.
PER_CHECK = ("checks", "evidence", "run_items")


def footprint(path: Path) -> dict[str, int]:
    """Bytes in use per table, its indexes included (SQLite's dbstat), plus `file` and `free`."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        rows = con.execute(
            "select m.tbl_name, sum(s.pgsize) from dbstat s"
            " join sqlite_master m on m.name = s.name group by m.tbl_name"
        ).fetchall()
        page = con.execute("pragma page_size").fetchone()[0]
        free = con.execute("pragma freelist_count").fetchone()[0] * page
        pages = con.execute("pragma page_count").fetchone()[0] * page
    con.close()
    return dict(rows) | {"file": pages, "free": free}


def bytes_per_check(sizes: dict[str, int], checks: int) -> str:
    parts = {name: sizes.get(name, 0) / max(checks, 1) for name in PER_CHECK}
    total = sum(parts.values())
    spelled = " + ".join(f"{name} {value:.0f}" for name, value in parts.items())
    return (
        f"bytes per check: {spelled} = {total:.0f} (file {sizes['file'] / 1e9:.2f} GB,"
        f" {sizes['free'] / 1e9:.2f} GB of it free pages)"
    )


def table(timings: list[Timing]) -> str:
    head = ("report", "variant", "rows", "first s", "best s", "query s", "json s", "verdict")
    lines: list[tuple[str, ...]] = [head]
    for t in timings:
        verdict = t.verdict
        if t.output_bound:
            verdict += f" ({t.rows_per_s:,.0f} rows/s)"
        seconds = (f"{v:.2f}" for v in (t.first_s, t.best_s, t.query_s, t.render_s))
        lines.append((t.report, t.variant, f"{t.rows:,}", *seconds, verdict))
    widths = [max(len(line[k]) for line in lines) for k in range(len(head))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if k < 2 else c.rjust(w)
            for k, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


def time_all(path: Path) -> list[Timing]:
    since = recent_since(path)
    timings: list[Timing] = []
    for report in reports.all_reports():
        for variant in variants(report, since):
            timings.append(time_variant(path, report, variant))
            t = timings[-1]
            progress(f"{t.report} {t.variant}: {t.rows:,} rows, best {t.best_s:.2f} s")
    timings.append(time_cli(path))
    return timings


# --- the command -------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reports_scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("db", type=Path, metavar="DB", help="the database to build and time")
    parser.add_argument("--backlinks", type=int, default=1_000_000, help="default 1,000,000")
    parser.add_argument("--runs", type=int, default=10, help="runs, each checks every backlink")
    parser.add_argument(
        "--every",
        type=float,
        default=RUN_EVERY / dt.timedelta(days=1),
        metavar="DAYS",
        help="days between runs (default 4; 1 for a nightly history, e.g. --runs 365)",
    )
    parser.add_argument("--reuse", action="store_true", help="time DB as it is when it exists")
    parser.add_argument("--json-out", type=Path, help="also write the results as JSON")
    parser.add_argument(
        "--size-only", action="store_true", help="measure bytes per check, time no report"
    )
    args = parser.parse_args(argv)
    if args.backlinks < 10 or args.runs < 1:
        parser.error("--backlinks must be at least 10 and --runs at least 1")
    return args


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def execute(args: argparse.Namespace) -> int:
    path: Path = args.db
    built = None
    if not (args.reuse and path.exists()):
        if path.exists() and not ours(path):
            raise SystemExit(f"{path} exists and was not built by {MARKER}; not overwriting it")
        remove(path)
        built = build(path, args.backlinks, args.runs, dt.timedelta(days=args.every))
    else:
        check_schema(path)
    found = counts(path)
    progress("rows: " + ", ".join(f"{t} {n:,}" for t, n in found.items()))
    sizes = footprint(path)
    print(bytes_per_check(sizes, found["checks"]), flush=True)
    if args.size_only:
        if args.json_out:
            args.json_out.write_text(json.dumps({"rows": found, "bytes": sizes}, indent=2))
        return 0
    load = [os.getloadavg()[0]]
    timings = time_all(path)
    load.append(os.getloadavg()[0])
    print(
        f"\n{path}: {found['backlinks']:,} backlinks, {found['checks']:,} checks;"
        f" budget {BUDGET_S} s per report (best of {REPEATS}; first = cold connection);"
        f" load average {load[0]:.2f} before, {load[1]:.2f} after on {os.cpu_count()} CPUs"
    )
    print(table(timings))
    failed = [t for t in timings if t.verdict == "FAIL"]
    bound = [t for t in timings if t.output_bound]
    for t in bound:
        print(
            f"output-bound: {t.report} {t.variant}: {t.rows:,} rows in {t.best_s:.2f} s"
            f" ({t.rows_per_s:,.0f} rows/s), not held to the budget"
        )
    print(f"{len(failed)} over {BUDGET_S} s")
    for t in failed:
        print(f"  FAIL {t.report} {t.variant}: {t.best_s:.2f} s")
    streamed = [time_stream(path, "backlinks", fmt) for fmt in ("json", "csv")]
    for st in streamed:
        print(
            f"CLI report {st.report} --format {st.fmt}: {st.rows:,} rows, first row after"
            f" {st.first_row_s:.2f} s, all in {st.total_s:.2f} s"
            f" ({st.rows / st.total_s:,.0f} rows/s), peak RSS {st.peak_rss_mb:,.0f} MB"
        )
    if args.json_out:
        payload = {"db": str(path), "size_bytes": path.stat().st_size, "rows": found}
        payload["bytes"] = sizes
        payload |= {"built": asdict(built) if built else None, "budget_s": BUDGET_S}
        payload |= {"load_average": {"before": load[0], "after": load[1]}, "machine": machine()}
        payload["streamed"] = [asdict(st) for st in streamed]
        payload["timings"] = [
            asdict(t) | {"verdict": t.verdict, "rows_per_s": t.rows_per_s} for t in timings
        ]
        args.json_out.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> None:
    sys.exit(execute(parse_args(argv)))


if __name__ == "__main__":
    main()
