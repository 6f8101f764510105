"""One self-contained HTML page of a site's link profile: summary, charts and tables.

`collect` runs the registered reports (summary, velocity, follow-ratio, anchors,
referring-domains, lost, referrals) through `verifier.reports`; `render` turns their rows
into a page that loads nothing: styles and one script are inline, charts are
inline SVG (`verifier.reports.charts`), and a Content-Security-Policy lets the browser
fetch nothing else (it names the inline style and script by hash). Every value
from the database is escaped; backlink URLs are plain `<a href>` links, and only
for http(s) URLs.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from verifier import reports
from verifier.reports import charts
from verifier.reports.charts import esc

#: Rows shown per table; the CLI reports (`--format csv`) give all of them.
TABLE_LIMIT = 1000

#: Not-followed kinds in follow-ratio rows, with their chart colours.
FOLLOW_PARTS = (
    ("followed", "followed", charts.BLUE),
    ("nofollow", "nofollow", charts.ORANGE),
    ("ugc", "ugc", charts.PINK),
    ("sponsored", "sponsored", charts.VERMILLION),
    ("page_level", "page-level nofollow", charts.GREY),
)
#: Velocity counts stacked per week: up (won) or down (lost).
VELOCITY_PARTS = (
    ("new", charts.BLUE, 1),
    ("regained", charts.GREEN, 1),
    ("lost", charts.VERMILLION, -1),
)
TOP_ANCHORS = 25
CHART_WIDTH = 1100  # the page's content width: charts scale down on smaller screens
STATUSES = frozenset({"live", "lost", "unreachable"})
NOWRAP = frozenset({"reason", "status", "category"})

STYLE = """
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d8dee4; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 24px 32px 48px; color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
header { border-bottom: 1px solid var(--line); margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 12px; }
h3 { font-size: 15px; margin: 20px 0 8px; } small, .caption, .empty { color: var(--muted); }
header p { color: var(--muted); margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; }
.card { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
.card span, .card small { display: block; color: var(--muted); }
.card b { display: block; font-size: 24px; margin: 2px 0; }
details { margin-top: 12px; } summary { cursor: pointer; color: var(--muted); }
figure { margin: 0 0 8px; } figcaption { color: var(--muted); width: 220px; text-align: center; }
svg.chart { display: block; max-width: 100%; height: auto; }
.row { display: flex; flex-wrap: wrap; gap: 24px; }
.notes { background: #fff8c5; border: 1px solid #eac54f; border-radius: 6px;
  padding: 8px 8px 8px 28px; }
.scroll { max-height: 640px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
thead th { position: sticky; top: 0; background: var(--bg); white-space: nowrap; }
tbody tr:nth-child(even) { background: #fbfcfd; } .num { text-align: right; }
td { overflow-wrap: anywhere; } time, td.nowrap { white-space: nowrap; } td a { color: #0550ae; }
table.kv { width: auto; } table.kv th { font-weight: normal; color: var(--muted); }
.badge { border-radius: 10px; padding: 1px 8px; font-size: 12px; color: #fff; }
.badge.live { background: #1a7f37; } .badge.lost { background: #b3400a; }
.badge.unreachable { background: #6e7781; }
@media print { .scroll { max-height: none; overflow: visible; } section { break-inside: avoid; } }
"""

#: Marks each chart once the browser has laid it out (`data-rendered`, `data-marks`):
#: a check for headless browsers, harmless for people.
SCRIPT = """
for (const svg of document.querySelectorAll("svg.chart")) {
  const box = svg.getBBox();
  svg.dataset.rendered = box.width > 0 && box.height > 0 ? "yes" : "no";
  svg.dataset.marks = String(svg.querySelectorAll(".mark").length);
}
"""

PAGE_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header><h1>{title}</h1><p>{subtitle}</p></header>
<main>
{sections}
</main>
<script>{script}</script>
</body>
</html>
"""


#: What the page shows: a key for each report run, the report's name and its options.
RUNS: dict[str, tuple[str, dict[str, Any]]] = {
    "summary": ("summary", {}),
    "velocity": ("velocity", {"by": "week"}),
    "follow": ("follow-ratio", {}),
    "anchors": ("anchors", {"by": "anchor"}),
    "categories": ("anchors", {"by": "category"}),
    "domains": ("referring-domains", {}),
    "lost": ("lost", {}),
    "referrals": ("referrals", {}),
    "outreach": ("outreach", {}),
}


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the page shows: the results of RUNS, by key."""

    site: str
    since: str | None
    generated_at: str
    results: Mapping[str, reports.Result]


def collect(
    db: Database, site: str, since: str | None = None, now: str | None = None
) -> ReportData:
    """Run the reports for one site (a registered domain); `since` an ISO date or time."""
    base = {"site": site, "since": since, "now": now}
    results = {
        key: reports.run_report(db, reports.get(name), {**base, **options})
        for key, (name, options) in RUNS.items()
    }
    generated = now or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return ReportData(site, since, generated, results)


def build_html(db: Database, site: str, since: str | None = None, now: str | None = None) -> str:
    """The whole page for one site."""
    return render(collect(db, site, since, now))


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def render(data: ReportData) -> str:
    """The page (a string) for the collected reports."""
    got = data.results
    sections = [
        _summary(got["summary"].rows[0] if got["summary"].rows else {}, data.since),
        _velocity(got["velocity"]),
        _follow(got["follow"]),
        _anchors(got["categories"], got["anchors"]),
        _table_section("domains", "Referring domains", got["domains"]),
        _table_section("lost", "Reclamation queue: lost backlinks, best first", got["lost"]),
        _table_section(
            "referrals",
            "Referral visits per referring page (access logs, GA4; never added together)",
            got["referrals"],
        ),
        _table_section(
            "outreach",
            "Outreach: pages that mention you without linking, best first",
            got["outreach"],
        ),
    ]
    csp = (
        f"default-src 'none'; style-src {_csp_hash(STYLE)}; script-src {_csp_hash(SCRIPT)};"
        " base-uri 'none'; form-action 'none'"
    )
    window = f" since {data.since}" if data.since else ""
    return PAGE_TEMPLATE.format(
        csp=esc(csp),
        title=esc(f"Backlink report: {data.site}"),
        style=STYLE,
        script=SCRIPT,
        subtitle=esc(f"Generated {_when(data.generated_at)} UTC{window} by backcheck"),
        sections="\n".join(sections),
    )


def _when(value: object) -> str:
    """An ISO time as a short UTC label: "2024-03-08 02:00"."""
    text = "" if value is None else str(value)
    return text[:16].replace("T", " ")


def _cell(column: str, value: object) -> str:
    """A table cell's HTML: links for http(s) URLs, badges for statuses, escaped text."""
    if value is None:
        return ""
    text = str(value)
    if column.endswith("_url") and text.startswith(("http://", "https://")):
        return (
            f'<a href="{esc(text)}" rel="nofollow noopener noreferrer">'
            f"{esc(reports.cell(text))}</a>"
        )
    if column == "status" and text in STATUSES:
        return f'<span class="badge {text}">{text}</span>'
    if column in ("share", "followed_share") and isinstance(value, float):
        return esc(charts.percent(value))
    if column.endswith(("_since", "_live", "_seen", "_at")):
        return f'<time datetime="{esc(text)}">{esc(_when(text))}</time>'
    return esc(reports.cell(value))


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    numeric = {c for c in columns if any(isinstance(r.get(c), (int, float)) for r in rows[:50])}
    head = "".join(
        f'<th{" class=num" if c in numeric else ""} scope="col">{esc(c.replace("_", " "))}</th>'
        for c in columns
    )
    body = "\n".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if c in numeric else ' class=nowrap' if c in NOWRAP else ''}>"
            f"{_cell(c, row.get(c))}</td>"
            for c in columns
        )
        + "</tr>"
        for row in rows[:TABLE_LIMIT]
    )
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def _notes(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{esc(note)}</li>" for note in notes)
    return f'<ul class="notes">{items}</ul>'


def _table_section(key: str, title: str, result: reports.Result) -> str:
    """A report's rows as a table, with the columns its terminal table shows."""
    rows, columns = result.rows, reports.get(RUNS[key][0]).table_columns
    count = f"{len(rows):,}"
    if len(rows) > TABLE_LIMIT:
        count = f"first {TABLE_LIMIT:,} of {len(rows):,}"
    body = _table(rows, columns) if rows else '<p class="empty">None.</p>'
    return (
        f'<section id="{key}"><h2>{esc(title)} <small>({count})</small></h2>'
        f"{body}{_notes(result.notes)}</section>"
    )


def _card(label: str, value: str, detail: str = "") -> str:
    extra = f"<small>{esc(detail)}</small>" if detail else ""
    return f'<div class="card"><span>{esc(label)}</span><b>{esc(value)}</b>{extra}</div>'


def _summary(row: Mapping[str, Any], since: str | None) -> str:
    def n(key: str) -> str:
        return charts.number(row.get(key) or 0)

    def share(key: str) -> str:
        value = row.get(key)
        return "n/a" if value is None else charts.percent(value)

    window, when = ("in_window", f"since {since}") if since else ("30d", "last 30 days")
    run = row.get("last_run_id")
    ran = f"{row.get('last_run_state')}, {_when(row.get('last_run_started_at'))}" if run else ""
    cards = [
        _card("Live backlinks", n("live_links"), f"of {n('backlinks')}, {n('checked')} checked"),
        _card("Referring domains", n("referring_domains"), f"{n('followed_domains')} followed"),
        _card(
            "Followed domains", share("followed_domain_share"), f"links {share('followed_share')}"
        ),
        _card("Lost backlinks", n("lost_links"), f"{n('unreachable_links')} unreachable now"),
        _card("Lost / regained", f"{n(f'lost_{window}')} / {n(f'regained_{window}')}", when),
        _card("Last run", f"#{run}" if run else "none yet", ran),
    ]
    details = "".join(
        f'<tr><th scope="row">{esc(key)}</th><td>{esc(reports.cell(value))}</td></tr>'
        for key, value in row.items()
    )
    return (
        '<section id="summary"><h2>Summary</h2>'
        f'<div class="cards">{"".join(cards)}</div>'
        f"<details><summary>All figures</summary><table class=kv>{details}</table></details>"
        "</section>"
    )


def _velocity(result: reports.Result) -> str:
    rows = result.rows
    labels = [row["period"] for row in rows]
    baseline = {i for i, row in enumerate(rows) if row.get("baseline")}
    figures = []
    for unit in ("links", "domains"):
        series = [
            charts.Series(f"{kind} {unit}", [sign * row[f"{kind}_{unit}"] for row in rows], color)
            for kind, color, sign in VELOCITY_PARTS
        ]
        what = "Backlinks" if unit == "links" else "Referring domains"
        svg = charts.stacked_bars(
            labels,
            series,
            title=f"{what} won and lost per week",
            x_label="week starting (Monday, UTC)",
            y_label=f"{unit} (lost below zero)",
            muted=baseline,
            width=CHART_WIDTH,
        )
        figures.append(f"<figure>{svg}</figure>")
    caption = (
        '<p class="caption">The faded week is the baseline: every link found live in the'
        " first run counts as new there.</p>"
        if baseline
        else ""
    )
    return (
        '<section id="velocity"><h2>Link velocity</h2>'
        f"{''.join(figures)}{caption}{_notes(result.notes)}</section>"
    )


def _follow(result: reports.Result) -> str:
    figures = []
    for row in result.rows:
        basis = row["basis"]
        parts = [(label, row.get(key) or 0, color) for key, label, color in FOLLOW_PARTS]
        svg = charts.donut(
            parts,
            title=f"Followed and not-followed live {basis}",
            center="domains" if basis == "domains" else "links",
        )
        figures.append(f"<figure>{svg}<figcaption>by {esc(basis)}</figcaption></figure>")
    return (
        '<section id="follow"><h2>Follow ratio</h2>'
        f'<div class="row">{"".join(figures)}</div>{_notes(result.notes)}</section>'
    )


def _anchors(categories: reports.Result, anchors: reports.Result) -> str:
    items = [(row["category"], row["share"]) for row in categories.rows]
    over = {row["category"] for row in categories.rows if row.get("over_threshold")}
    svg = charts.hbars(
        items,
        title="Anchor categories (share of live links)",
        x_label="share of live links",
        series="share of live links",
        fmt=charts.percent,
        highlight=over,
        highlight_label="over the exact-match threshold",
        width=CHART_WIDTH,
    )
    top = anchors.rows[:TOP_ANCHORS]
    table = (
        _table(top, reports.get("anchors").table_columns)
        if top
        else '<p class="empty">No live anchors yet.</p>'
    )
    return (
        '<section id="anchors"><h2>Anchor texts</h2>'
        f"<figure>{svg}</figure>{_notes(categories.notes)}"
        f"<h3>Top anchor texts <small>({len(top)} of {len(anchors.rows):,})</small></h3>{table}"
        "</section>"
    )
