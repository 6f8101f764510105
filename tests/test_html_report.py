"""`backcheck report html`: a self-contained page over a small three-week history.

History of acme.com (runs on Mondays, checks at 02:00 UTC): week 1 finds links
1-5 live (4 is rel=nofollow; 3's anchor is a script tag, 5's URL carries an
attribute injection); week 2 loses 2 (link removed) and 3 (404) and finds the
newly imported 6; week 3 regains 2 and loses 5.
"""

from __future__ import annotations

import doctest
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from crawler.commands.report_html import html
from verifier import database
from verifier.models import (
    Check,
    Contact,
    ContactKind,
    Mention,
    MentionKind,
    NofollowSource,
    PageMentions,
    Placement,
    Reason,
    Status,
)
from verifier.reports import charts, html_report
from verifier.store import mentions, runs, storage

SITE = "acme.com"
NOW = "2024-03-20T00:00:00+00:00"
HOSTILE_ANCHOR = "<script>alert(1)</script>"
HOSTILE_URL = 'http://e.com/?q="><img src=x onerror=alert(2)>'
SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class ImportRow:
    """What `storage.add_backlinks` reads from an importer's row."""

    line: int
    source_url: str
    target_url: str
    anchor: str | None = None
    metrics: dict[str, object] = field(default_factory=dict)


def live(backlink_id: int, anchor: str, follow: bool = True) -> Check:
    extra = {} if follow else {"rel": "nofollow", "nofollow_source": NofollowSource.REL}
    return Check(
        backlink_id,
        Status.LIVE,
        follow=follow,
        anchor=anchor,
        link_count=1,
        http_status=200,
        link_html=f'<a href="https://acme.com/">{anchor}</a>',
        **extra,
    )


def add_run(db: Database, at: str, checks: list[Check]) -> None:
    run_id = runs.start_run(db, [SITE], new_run=True).run_id
    for check in checks:
        check.checked_at = at
    runs.record_checks(db, run_id, checks)
    runs.finish_run(db, run_id, "finished")
    db["runs"].update(run_id, {"started_at": at, "finished_at": at})


def make_history(db: Database) -> None:
    storage.save_site(db, SITE, brands=["Acme"], keywords=["blue widgets"])
    first = [
        ImportRow(1, "http://a.com/1", "https://acme.com/", "Acme", {"domain_rating": 50}),
        ImportRow(2, "http://b.com/1", "https://acme.com/pricing", "blue widgets"),
        ImportRow(3, "http://c.com/1", "https://acme.com/", HOSTILE_ANCHOR),
        ImportRow(4, "http://d.com/1", "https://acme.com/", "click here"),
        ImportRow(5, HOSTILE_URL, "https://acme.com/", "acme.com"),
    ]
    storage.add_backlinks(db, SITE, first, "csv", "links.csv")
    add_run(
        db,
        "2024-03-04T02:00:00+00:00",
        [
            live(1, "Acme"),
            live(2, "blue widgets"),
            live(3, HOSTILE_ANCHOR),
            live(4, "click here", follow=False),
            live(5, "acme.com"),
        ],
    )
    storage.add_backlinks(
        db, SITE, [ImportRow(1, "http://f.com/1", "https://acme.com/")], "csv", "more.csv"
    )
    add_run(
        db,
        "2024-03-11T02:00:00+00:00",
        [
            live(1, "Acme"),
            Check(2, Status.LOST, reason=Reason.LINK_REMOVED, http_status=200),
            Check(3, Status.LOST, reason=Reason.PAGE_NOT_FOUND, http_status=404),
            live(4, "click here", follow=False),
            live(5, "acme.com"),
            live(6, "Acme blog"),
        ],
    )
    add_run(
        db,
        "2024-03-18T02:00:00+00:00",
        [live(2, "blue widgets"), Check(5, Status.LOST, reason=Reason.LINK_REMOVED)],
    )
    target = Mention("Acme", MentionKind.TEXT, "we use Acme", False, Placement.MAIN)
    contact = Contact(ContactKind.EMAIL, "ed@g.com", "http://g.com/contact")
    mentions.record_pages(
        db,
        None,
        [PageMentions(SITE, "http://g.com/review", "crawl", mentions=[target], contacts=[contact])],
    )


@pytest.fixture(scope="module")
def db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "history.db"
    make_history(database.open_db(path))
    return path


@pytest.fixture(scope="module")
def page(db_file: Path) -> str:
    return html_report.build_html(database.open_db(db_file), SITE, now=NOW)


class Resources(HTMLParser):
    """Every attribute through which a browser would load something, and every <a href>."""

    LOADS: ClassVar[dict[str, str]] = {
        "script": "src",
        "img": "src",
        "link": "href",
        "iframe": "src",
        "frame": "src",
        "embed": "src",
        "object": "data",
        "source": "src",
        "video": "src",
        "audio": "src",
        "track": "src",
        "image": "href",
        "use": "href",
        "input": "src",
    }

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, str, str]] = []
        self.links: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in (self.LOADS.get(tag), "xlink:href", "srcset", "background", "poster"):
                self.loads.append((tag, name, value or ""))
            if tag == "a" and name == "href":
                self.links.append(value or "")


def parse(text: str) -> Resources:
    parser = Resources()
    parser.feed(text)
    parser.close()
    return parser


def svgs(text: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", text, flags=re.DOTALL)


def test_page_loads_nothing_from_anywhere(page: str) -> None:
    found = parse(page)
    assert found.loads == []
    assert "url(" not in page and "@import" not in page
    assert found.tags.count("script") == 1 and found.tags.count("style") == 1
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp and "default-src &#x27;none&#x27;" in csp.group(1)
    # backlink URLs stay, as plain links for a person to follow
    assert "http://c.com/1" in found.links


def test_sections_and_tables(page: str) -> None:
    for key in ("summary", "velocity", "follow", "anchors", "domains", "lost", "outreach"):
        assert f'<section id="{key}">' in page
    assert "Backlink report: acme.com" in page
    domains = page.split('<section id="domains">')[1].split("</section>")[0]
    assert domains.count("<tr>") == 1 + 6  # header + a.com … f.com
    lost = page.split('<section id="lost">')[1].split("</section>")[0]
    assert lost.count("<tr>") == 1 + 2  # c.com/1 and e.com; b.com/1 was regained
    assert "page_not_found" in lost and "b.com/1" not in lost
    outreach = page.split('<section id="outreach">')[1].split("</section>")[0]
    assert outreach.count("<tr>") == 1 + 1 and "g.com/review" in outreach
    assert "ed@g.com" in outreach and "unlinked_mention" in outreach


def test_every_chart_is_valid_svg_with_title_and_marks(page: str) -> None:
    found = svgs(page)
    assert len(found) == 5  # velocity links and domains, follow by domains and links, anchors
    for text in found:
        root = ET.fromstring(text)
        assert root.tag == SVG + "svg" and root.get("aria-label")
        assert root.find(SVG + "title") is not None
        marks = [e for e in root.iter() if e.get("class") == "mark"]
        assert marks, root.get("aria-label")


def test_velocity_counts_reach_the_chart(page: str) -> None:
    chart = svgs(page)[0]
    assert "2024-03-04: new links 5, regained links 0, lost links 0" in chart
    assert "2024-03-11: new links 1, regained links 0, lost links 2" in chart
    assert "2024-03-18: new links 0, regained links 1, lost links 1" in chart
    assert 'opacity="0.45"' in chart  # the baseline week, faded


def test_hostile_values_are_escaped(page: str) -> None:
    assert HOSTILE_ANCHOR not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "onerror=alert(2)>" not in page
    found = parse(page)
    assert HOSTILE_URL in found.links  # the attribute value, unescaped by the parser, intact
    assert found.tags.count("img") == 0


def test_non_web_urls_are_not_links() -> None:
    assert html_report._cell("source_url", "javascript:alert(1)") == "javascript:alert(1)"
    assert "<a " in html_report._cell("source_url", "https://x.com/")


def test_empty_site_renders_empty_states(tmp_path: Path) -> None:
    db = database.open_db(tmp_path / "empty.db")
    storage.save_site(db, "empty.com")
    page = html_report.build_html(db, "empty.com", now=NOW)
    for text in svgs(page):
        ET.fromstring(text)
    assert "No data yet." in page and "None." in page


@pytest.mark.parametrize(
    "svg",
    [
        charts.stacked_bars([], [], title="t", x_label="x", y_label="y"),
        charts.stacked_bars(["w"], [], title="t", x_label="x", y_label="y"),
        charts.hbars([], title="t", x_label="x", series="s"),
        charts.donut([], title="t", center="c"),
        charts.donut([("a", 0, charts.BLUE)], title="t", center="c"),
        charts.empty_chart("t"),
    ],
)
def test_charts_on_empty_data_are_valid_svg(svg: str) -> None:
    root = ET.fromstring(svg)
    assert root.find(SVG + "title").text == "t"  # type: ignore[union-attr]
    assert not [e for e in root.iter() if e.get("class") == "mark"]
    assert "No " in "".join(root.itertext())


def test_chart_texts_are_escaped() -> None:
    evil = "<b>&\"x'</b>"
    series = [charts.Series(evil, [3, -1], charts.BLUE)]
    for svg in (
        charts.stacked_bars([evil, "w2"], series, title=evil, x_label=evil, y_label=evil),
        charts.hbars([(evil, 0.5)], title=evil, x_label=evil, series=evil, highlight={evil}),
        charts.donut([(evil, 2, charts.BLUE), ("b", 1, charts.GREY)], title=evil, center=evil),
    ):
        root = ET.fromstring(svg)
        assert root.get("aria-label") == evil and "<b>" not in svg
        assert evil in "".join(root.itertext())


def test_a_single_part_fills_the_whole_donut() -> None:
    root = ET.fromstring(charts.donut([("all", 7, charts.BLUE)], title="t", center="c"))
    assert len([e for e in root.iter(SVG + "path")]) == 2  # two half turns
    assert "100%" in "".join(root.itertext())


def test_command_writes_the_file_and_says_where(db_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    args = ["--out", str(out), "--db", str(db_file), "--since", "2024-03-11"]
    result = CliRunner().invoke(html, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert str(out.resolve()) in result.output
    text = out.read_text(encoding="utf-8")
    assert "since 2024-03-11" in text and len(svgs(text)) == 5


def test_command_asks_for_a_site_when_there_are_several(db_file: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "two.db"
    db = database.open_db(db_path)
    storage.save_site(db, "one.com")
    storage.save_site(db, "two.com")
    out = tmp_path / "r.html"
    result = CliRunner().invoke(html, ["--out", str(out), "--db", str(db_path)])
    assert result.exit_code == 1 and "--site" in result.output and not out.exists()
    result = CliRunner().invoke(
        html, ["--out", str(out), "--db", str(db_path), "--site", "two.com"]
    )
    assert result.exit_code == 0 and out.exists()


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(html, ["--help"])
    assert "Example:" in result.output and "backcheck report html --out" in result.output


def test_a_huge_baseline_is_cut_off_once_enough_weeks_follow() -> None:
    def texts(values: list[int]) -> list[str]:
        series = [charts.Series("new", values, charts.BLUE)]
        labels = [f"w{i}" for i in range(len(values))]
        svg = charts.stacked_bars(labels, series, title="t", x_label="x", y_label="y", muted={0})
        return [e.text or "" for e in ET.fromstring(svg).iter(SVG + "text")]

    assert "1,000" not in texts([900, 3, 5, 2, 4]) and "900" in texts([900, 3, 5, 2, 4])
    assert "1,000" in texts([900, 3, 5]) and "900" not in texts([900, 3, 5])  # all fits


def test_chart_helper_examples() -> None:
    assert doctest.testmod(charts).failed == 0
