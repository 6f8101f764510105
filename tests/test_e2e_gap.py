"""End to end, the competitor gap: import rivals' exports, verify them, report, crawl the gap.

The real CLI in a subprocess against a virtual web on 127.0.0.1. acme.com has three
competitors (widgetco.com, gizmo.io, sprocket.net); their backlinks come from an
export in each format the importer reads, one of them per vendor. The pages:

- hub.org/roundup links to acme.com, widgetco.com and gizmo.io (fetched once a run);
- blog-a.net/post links to widgetco.com (Ahrefs says "Link removed": it is live) and,
  nofollow, to gizmo.io; its text mentions Acme Widgets;
- gone-b.com/old dropped its widgetco.com link; its gizmo.io link stays;
- pair1.blogspot.com/p and pair2.blogspot.com/q: two blogs, two rivals each;
- forum-c.org/t/1 links to all three rivals (sprocket.net nofollow); its home page
  mentions Acme Widgets without a link (found by `crawl --from-gap`);
- newprospect.com (crawled from a FILE) links to widgetco.com and sprocket.net.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAST, run_cli

pytestmark = pytest.mark.e2e

SITE = "acme.com"
W, G, S = "widgetco.com", "gizmo.io", "sprocket.net"
SETTINGS = [*FAST, "-s", "BACKCHECK_CHECK_TARGETS=0"]


def page(body: str, title: str = "A page") -> str:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>"


def a(href: str, text: str = "a link", rel: str = "") -> str:
    return f'<a href="{href}"{f" rel={rel!r}" if rel else ""}>{text}</a>'


HUB = page(
    "<p>Widget shops: "
    + a("https://acme.com/", "Acme")
    + ", "
    + a("https://widgetco.com/", "WidgetCo")
    + ", "
    + a("https://gizmo.io/", "Gizmo")
    + ".</p>"
)
BLOG_A = page(
    "<p>Acme Widgets is fine too. We buy at "
    + a("https://widgetco.com/pricing", "WidgetCo")
    + " and "
    + a("https://gizmo.io/", "Gizmo", "nofollow")
    + ".</p>"
)
PAIR1 = page(a("https://gizmo.io/", "Gizmo") + " " + a("https://sprocket.net/", "Sprocket"))
ROUTES: dict[str, dict[str, Any]] = {
    "hub.org/roundup": {"body": HUB},
    "site-only.org/x": {"body": page(a("https://acme.com/", "Acme"))},
    "blog-a.net/post": {"body": BLOG_A},
    "blog-a.net/": {"body": page("<p>The A blog.</p>")},
    "gone-b.com/old": {"body": page("<p>We moved on. " + a("https://gizmo.io/", "Gizmo"))},
    "pair1.blogspot.com/p": {"body": PAIR1},
    "pair1.blogspot.com/": {"body": page("<p>Pair one.</p>")},
    "pair2.blogspot.com/q": {
        "body": page(a("https://sprocket.net/", "Sprocket") + " " + a("https://widgetco.com/"))
    },
    "pair2.blogspot.com/": {"body": page("<p>Pair two.</p>")},
    "forum-c.org/t/1": {
        "body": page(
            a("https://gizmo.io/x", "Gizmo")
            + a("https://sprocket.net/", "Sprocket", "nofollow")
            + a("https://widgetco.com/", "WidgetCo")
        )
    },
    "forum-c.org/": {"body": page("<p>Welcome to the Acme Widgets fan forum.</p>", "Forum C")},
    "newprospect.com/": {
        "body": page(a("https://www.widgetco.com/", "WidgetCo") + a("https://sprocket.net/", "S"))
    },
}

AHREFS_HEADER = [
    "Referring page title",
    "Referring page URL",
    "Domain rating",
    "UR",
    "Target URL",
    "Anchor",
    "Nofollow",
    "Lost status",
    "First seen",
    "Last seen",
]


def ahrefs_rows() -> list[list[str]]:
    return [
        ["Hub", "http://hub.org/roundup", "70", "20", "https://widgetco.com/", "WidgetCo"],
        ["A", "http://blog-a.net/post", "35", "5", "https://widgetco.com/pricing", "WidgetCo"],
        ["B", "http://gone-b.com/old", "20", "3", "https://widgetco.com/", "WidgetCo"],
        ["X", "http://x.org/page", "10", "1", "https://acme.com/", "Acme"],  # line 5: not W
        ["Own", "https://blog.widgetco.com/news", "60", "9", "https://widgetco.com/", "Us"],
    ]


def write_exports(folder: Path) -> dict[str, Path]:
    """One export per format, each of one competitor's backlinks."""
    files = {}
    ahrefs = folder / "widgetco-ahrefs.csv"  # as Ahrefs writes it: UTF-16, tabs
    with ahrefs.open("w", encoding="utf-16", newline="") as out:
        writer = csv.writer(out, delimiter="\t", quoting=csv.QUOTE_ALL)
        writer.writerow(AHREFS_HEADER)
        for i, row in enumerate(ahrefs_rows()):
            lost = "Link removed" if i == 1 else ""
            writer.writerow([*row, "false", lost, "2024-01-01 10:00:00", "2024-03-01 10:00:00"])
    files["ahrefs"] = ahrefs
    files["semrush-w"] = folder / "widgetco-semrush.csv"
    files["semrush-w"].write_text(
        "Page ascore;Source title;Source url;Target url;Anchor;Nofollow;Lost\n"
        "45;Hub;http://hub.org/roundup;https://widgetco.com/;WidgetCo;FALSE;FALSE\n",
        encoding="utf-8",
    )
    files["semrush-g"] = folder / "gizmo-semrush.csv"
    files["semrush-g"].write_text(
        "Page ascore;Source title;Source url;Target url;Anchor;Nofollow;Lost\n"
        "45;Hub;http://hub.org/roundup;https://gizmo.io/;Gizmo;FALSE;FALSE\n"
        "10;A;http://blog-a.net/post;https://gizmo.io/;Gizmo;TRUE;FALSE\n"
        "5;B;http://gone-b.com/old;https://gizmo.io/;Gizmo;FALSE;FALSE\n"
        "40;P1;http://pair1.blogspot.com/p;https://gizmo.io/;Gizmo;FALSE;FALSE\n",
        encoding="utf-8",
    )
    files["majestic"] = folder / "sprocket-majestic.csv"
    files["majestic"].write_text(
        "Source URL,Target URL,Anchor Text,FlagNoFollow,FlagImages,FlagRedirect,FlagDeleted,"
        "SourceTrustFlow,SourceCitationFlow,TargetTrustFlow\n"
        "http://pair1.blogspot.com/p,https://sprocket.net/,Sprocket,-,-,-,-,33,30,20\n"
        "http://pair2.blogspot.com/q,https://sprocket.net/,Sprocket,-,-,-,-,12,10,20\n",
        encoding="utf-8",
    )
    files["moz"] = folder / "widgetco-moz.csv"
    files["moz"].write_text(
        "URL,Title,Anchor Text,Spam Score,Domain Authority,Page Authority,Link Type,Target URL\n"
        "http://pair2.blogspot.com/q,Pair two,a link,1%,25,20,follow,https://www.widgetco.com/\n",
        encoding="utf-8",
    )
    files["csv"] = folder / "gizmo-links.csv"
    files["csv"].write_text(
        "source_url,target_url,anchor\n"
        "http://forum-c.org/t/1,https://gizmo.io/x,Gizmo\n"
        "garbage,https://gizmo.io/,junk\n",  # line 3
        encoding="utf-8",
    )
    files["gsc"] = folder / "sprocket-gsc.csv"
    files["gsc"].write_text(
        "Linking page,Last crawled\n"
        "http://forum-c.org/t/1,2024-03-05\n"
        "https://www.sprocket.net/blog,2024-03-01\n",  # line 3: its own page
        encoding="utf-8",
    )
    files["urls"] = folder / "widgetco-urls.txt"
    files["urls"].write_text("url\nhttp://forum-c.org/t/1\n", encoding="utf-8")
    return files


def cli(args: list[str], db: Path, server: Any = None, code: int = 0) -> Any:
    done = run_cli([*args, "--db", str(db)], server, timeout=120)
    assert done.returncode == code, (done.stdout, done.stderr)
    return done


def cli_json(args: list[str], db: Path, server: Any = None) -> Any:
    return json.loads(cli([*args, "--format", "json"], db, server).stdout)


#: (export, --competitor, --format) in import order; `auto` detects the vendor.
IMPORTS = [
    ("ahrefs", W, "auto"),
    ("semrush-w", W, "semrush"),
    ("semrush-g", G, "auto"),
    ("majestic", S, "auto"),
    ("moz", W, "moz"),
    ("csv", G, "csv"),
    ("gsc", S, "gsc"),
    ("urls", W, "urls"),
]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], dict]:
    """A database with the site, its rivals and every export imported; the outputs."""
    folder = tmp_path_factory.mktemp("gap")
    db = folder / "gap.db"
    cli(["init", "--site", SITE, "--brand", "Acme Widgets", "--competitor", W], db)
    cli(["init", "--site", SITE, "--competitor", G, "--competitor", S], db)
    own = folder / "acme.csv"
    own.write_text(
        "source_url,target_url\nhttp://hub.org/roundup,https://acme.com/\n"
        "http://site-only.org/x,https://acme.com/\n",
        encoding="utf-8",
    )
    cli(["import", str(own)], db)
    files = write_exports(folder)
    outputs = {}
    for name, rival, fmt in IMPORTS:
        outputs[name] = cli(
            ["import", str(files[name]), "--competitor", rival, "--format", fmt], db
        )
    return db, outputs, files


def copy_db(db: Path, folder: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{db}{suffix}").exists():
            shutil.copy(f"{db}{suffix}", folder / f"gap.db{suffix}")
    return folder / "gap.db"


def query(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def test_import_competitor_exports(imported: tuple[Path, dict[str, Any], dict]) -> None:
    db, outputs, files = imported
    said = {name: done.stdout.strip() for name, done in outputs.items()}
    assert said == {
        "ahrefs": "imported 3, merged 0, rejected 2 (ahrefs export, competitor widgetco.com)",
        "semrush-w": "imported 0, merged 1, rejected 0 (semrush export, competitor widgetco.com)",
        "semrush-g": "imported 4, merged 0, rejected 0 (semrush export, competitor gizmo.io)",
        "majestic": "imported 2, merged 0, rejected 0 (majestic export, competitor sprocket.net)",
        "moz": "imported 1, merged 0, rejected 0 (moz export, competitor widgetco.com)",
        "csv": "imported 1, merged 0, rejected 1 (csv export, competitor gizmo.io)",
        "gsc": "imported 1, merged 0, rejected 1 (gsc export, competitor sprocket.net)",
        "urls": "imported 1, merged 0, rejected 0 (urls export, competitor widgetco.com)",
    }
    ahrefs = outputs["ahrefs"].stderr.splitlines()
    assert f"{files['ahrefs']}:5: target not on widgetco.com: https://acme.com/" in ahrefs
    assert f"{files['ahrefs']}:6: internal link: the referring page is on widgetco.com" in ahrefs
    assert f"{files['csv']}:3: " in outputs["csv"].stderr
    assert (
        f"{files['gsc']}:3: internal link: the referring page is on sprocket.net"
        in outputs["gsc"].stderr.splitlines()
    )
    # Stored under the competitor's domain; the link in two exports is one backlink.
    rows = query(
        db,
        "select site, source_url, target_url, sources, authority, authority_source, status"
        " from backlinks order by site, source_key, target_key",
    )
    assert rows == [
        (SITE, "http://hub.org/roundup", "https://acme.com/", "csv", None, None, None),
        (SITE, "http://site-only.org/x", "https://acme.com/", "csv", None, None, None),
        (G, "http://blog-a.net/post", "https://gizmo.io/", "semrush", 10.0, "AS", None),
        (G, "http://forum-c.org/t/1", "https://gizmo.io/x", "csv", None, None, None),
        (G, "http://gone-b.com/old", "https://gizmo.io/", "semrush", 5.0, "AS", None),
        (G, "http://hub.org/roundup", "https://gizmo.io/", "semrush", 45.0, "AS", None),
        (G, "http://pair1.blogspot.com/p", "https://gizmo.io/", "semrush", 40.0, "AS", None),
        (S, "http://forum-c.org/t/1", None, "gsc", None, None, None),
        (S, "http://pair1.blogspot.com/p", "https://sprocket.net/", "majestic", 33.0, "TF", None),
        (S, "http://pair2.blogspot.com/q", "https://sprocket.net/", "majestic", 12.0, "TF", None),
        (W, "http://blog-a.net/post", "https://widgetco.com/pricing", "ahrefs", 35.0, "DR", None),
        (W, "http://forum-c.org/t/1", None, "urls", None, None, None),
        (W, "http://gone-b.com/old", "https://widgetco.com/", "ahrefs", 20.0, "DR", None),
        (W, "http://hub.org/roundup", "https://widgetco.com/", "ahrefs,semrush", 70.0, "DR", None),
        (W, "http://pair2.blogspot.com/q", "https://www.widgetco.com/", "moz", 25.0, "DA", None),
    ]
    merged = query(
        db,
        "select s.source from backlink_sources s join backlinks b on b.id = s.backlink_id"
        " where b.site = ? and b.source_url = ? order by s.source",
        W,
        "http://hub.org/roundup",
    )
    assert merged == [("ahrefs",), ("semrush",)]
    assert query(db, "select domain, role from sites order by domain") == [
        (SITE, "site"),
        (G, "competitor"),
        (S, "competitor"),
        (W, "competitor"),
    ]
    # Not a competitor of the site, or a referral format: usage errors, nothing written.
    unknown = cli(["import", str(files["csv"]), "--competitor", "nosuch.com"], db, code=2)
    assert "'nosuch.com' is not a competitor of acme.com" in unknown.stderr
    for fmt in ("access-log", "ga4"):
        refused = cli(["import", str(files["csv"]), "--competitor", G, "--format", fmt], db, code=2)
        assert "--competitor does not apply" in refused.stderr
    assert query(db, "select count(*) from backlinks") == [(15,)]
    # Only the site's backlinks in its reports; a competitor is no site.
    backlinks = cli_json(["report", "backlinks"], db)
    assert {b["site"] for b in backlinks} == {SITE} and len(backlinks) == 2
    not_a_site = cli(["report", "backlinks", "--site", W], db, code=1)
    assert "widgetco.com is a competitor, not a site" in not_a_site.stderr


def gap_rows(db: Path, *extra: str) -> list[tuple]:
    keys = ("referring_domain", "competitors", "competitor_count", "followed_competitors")
    keys += ("links", "followed_links", "best_page", "authority", "authority_source")
    keys += ("mentions_brand",)
    rows = cli_json(["report", "gap", *extra], db)
    return [tuple(row[key] for key in keys) for row in rows]


def test_verify_report_and_crawl_the_gap(
    web: Any, tmp_path: Path, imported: tuple[Path, dict[str, Any], dict]
) -> None:
    server = web(routes=ROUTES)
    db = copy_db(imported[0], tmp_path)

    # Plain verify checks the site's links only; unchecked rivals' links make no gap.
    plain = json.loads(cli(["verify", "--json", *SETTINGS], db, server).stdout)
    assert (plain["backlinks"], plain["live"], plain["competitor_links"]) == (2, 2, 0)
    assert server.hits("blog-a.net") == 0
    assert cli_json(["report", "gap"], db) == []

    before = server.hits("hub.org", "/roundup")
    summary = json.loads(cli(["verify", "--competitors", "--json", *SETTINGS], db, server).stdout)
    assert summary["state"] == "finished"
    # The site's counts exclude the competitors': 13 rivals' links, gone-b.com's W lost.
    assert (summary["pages"], summary["backlinks"], summary["live"], summary["lost"]) == (
        2,
        2,
        2,
        0,
    )
    assert (summary["competitor_links"], summary["competitor_live"]) == (13, 12)
    # One page, three backlinks (acme.com, widgetco.com, gizmo.io): one fetch.
    assert server.hits("hub.org", "/roundup") - before == 1
    assert server.hits("forum-c.org", "/t/1") == 1
    assert server.hits("blog-a.net", "/post") == 1
    statuses = dict(
        ((site, url), status)
        for site, url, status in query(
            db, "select site, source_url, status from backlinks where site != ?", SITE
        )
    )
    assert statuses[(W, "http://blog-a.net/post")] == "live"  # Ahrefs: "Link removed"
    assert statuses[(W, "http://gone-b.com/old")] == "lost"
    assert statuses[(G, "http://gone-b.com/old")] == "live"
    assert statuses[(S, "http://forum-c.org/t/1")] == "live"  # any link to sprocket.net

    gw, gs, sw = sorted([G, W]), sorted([G, S]), sorted([S, W])
    everyone = sorted([G, S, W])
    assert gap_rows(db) == [
        ("forum-c.org", everyone, 3, 2, 3, 2, "http://forum-c.org/t/1", None, None, False),
        ("pair1.blogspot.com", gs, 2, 2, 2, 2, "http://pair1.blogspot.com/p", 40.0, "AS", False),
        ("pair2.blogspot.com", sw, 2, 2, 2, 2, "http://pair2.blogspot.com/q", 25.0, "DA", False),
        ("blog-a.net", gw, 2, 1, 2, 1, "http://blog-a.net/post", 35.0, "DR", True),
    ]
    assert [r[0] for r in gap_rows(db, "--min-competitors", "3")] == ["forum-c.org"]
    assert [r[0] for r in gap_rows(db, "--followed-only")] == [
        "forum-c.org",
        "pair1.blogspot.com",
        "pair2.blogspot.com",
    ]
    # gone-b.com's one live rival link counts with K = 1; hub.org links to the site.
    one = [r[0] for r in gap_rows(db, "--min-competitors", "1")]
    assert one == [
        "forum-c.org",
        "pair1.blogspot.com",
        "pair2.blogspot.com",
        "blog-a.net",
        "gone-b.com",
    ]

    intersect = cli_json(["report", "intersect"], db)
    assert [(r["referring_domain"], r["links_to_site"]) for r in intersect] == [
        ("forum-c.org", False)
    ]
    intersect = cli_json(["report", "intersect", "--competitor", W, "--competitor", G], db)
    assert [
        (r["referring_domain"], r["competitors"], r["links_to_site"], r["followed_links"])
        for r in intersect
    ] == [
        ("forum-c.org", gw, False, 2),
        ("blog-a.net", gw, False, 1),
        ("hub.org", gw, True, 2),
    ]
    bad = cli(["report", "intersect", "--competitor", "nosuch.com", "--format", "json"], db, code=2)
    assert "not a competitor of acme.com" in bad.stderr

    competitors = cli_json(["report", "competitors"], db)
    keys = ("domain", "is_site", "live_links", "lost_links", "referring_domains")
    keys += ("followed_domain_share", "followed_link_share")
    assert [tuple(row[k] for k in keys) for row in competitors] == [
        (SITE, True, 2, 0, 2, 1.0, 1.0),
        (W, False, 4, 1, 4, 1.0, 1.0),
        (G, False, 5, 0, 5, 0.8, 0.8),  # blog-a.net's link is nofollow
        (S, False, 3, 0, 3, 0.6667, 0.6667),  # forum-c.org's link is nofollow
    ]
    backlinks = cli_json(["report", "backlinks"], db)
    assert [(b["site"], b["source_url"], b["status"]) for b in backlinks] == [
        (SITE, "http://hub.org/roundup", "live"),
        (SITE, "http://site-only.org/x", "live"),
    ]

    # pair1.blogspot.com drops its gizmo.io link; the setting makes plain verify check it.
    server.update({"pair1.blogspot.com/p": {"body": page(a("https://sprocket.net/", "S"))}})
    args = ["verify", "--json", *SETTINGS, "-s", "BACKCHECK_VERIFY_COMPETITORS=1"]
    again = json.loads(cli(args, db, server).stdout)
    assert (again["backlinks"], again["competitor_links"], again["competitor_live"]) == (2, 13, 11)
    assert server.hits("pair1.blogspot.com", "/p") == 2
    assert [r[0] for r in gap_rows(db)] == ["forum-c.org", "pair2.blogspot.com", "blog-a.net"]

    # crawl --from-gap: each gap domain from its home page (and its best page).
    crawled = cli(["crawl", "--from-gap", "--json", "--no-sitemaps", *SETTINGS], db, server)
    per_domain = {row["domain"]: row for row in json.loads(crawled.stdout)}
    assert set(per_domain) == {"forum-c.org", "pair2.blogspot.com", "blog-a.net"}
    for host in per_domain:
        assert server.hits(host, "/") >= 1, host
    assert server.hits("pair1.blogspot.com", "/") == 0  # no longer in the gap
    assert server.hits("hub.org", "/") == 0
    assert per_domain["forum-c.org"]["unlinked_mentions"] == 1
    mentions = cli_json(["report", "mentions"], db)
    forum = [m for m in mentions if m["page_url"] == "http://forum-c.org/"]
    assert [(m["term"], m["kind"], m["linked"]) for m in forum] == [("Acme Widgets", "text", False)]
    top = gap_rows(db)[0]
    assert (top[0], top[-1]) == ("forum-c.org", True)  # the home page mentions Acme Widgets

    # A plain crawl of a FILE: newprospect.com's links to rivals become their backlinks.
    prospects = tmp_path / "prospects.txt"
    prospects.write_text("http://newprospect.com/\n", encoding="utf-8")
    crawled = cli(["crawl", str(prospects), "--json", "--no-sitemaps", *SETTINGS], db, server)
    [row] = json.loads(crawled.stdout)
    assert (row["domain"], row["competitor_links"], row["backlinks_new"]) == (
        "newprospect.com",
        2,
        0,
    )
    found = query(
        db,
        "select b.site, b.sources, b.status, c.status from backlinks b"
        " join checks c on c.id = b.last_check_id where b.referring_domain = 'newprospect.com'"
        " order by b.site",
    )
    assert found == [(S, "crawl", "live", "live"), (W, "crawl", "live", "live")]
    gap = {r[0]: r for r in gap_rows(db)}
    assert gap["newprospect.com"][1:6] == (sorted([S, W]), 2, 2, 2, 2)
    assert gap["newprospect.com"][6] == "http://newprospect.com/"
    assert all(b["site"] == SITE for b in cli_json(["report", "backlinks"], db))

    # The crawl read the best pages again: the links it saw there are the known ones
    # (the GSC and URL-list rows take any link to their competitor; Moz's
    # https://www.widgetco.com/ is the page's link to https://widgetco.com/), not new ones.
    gap = {r[0]: r for r in gap_rows(db)}
    facts = {
        "gap": [gap[d] for d in ("forum-c.org", "pair2.blogspot.com", "blog-a.net")],
        "forum-c.org": query(
            db,
            "select site, sources from backlinks where source_url = ? order by site",
            "http://forum-c.org/t/1",
        ),
        "pair2.blogspot.com": query(
            db,
            "select sources from backlinks where site = ? and source_url = ?",
            W,
            "http://pair2.blogspot.com/q",
        ),
    }
    assert facts == {
        "gap": [
            ("forum-c.org", everyone, 3, 2, 3, 2, "http://forum-c.org/t/1", None, None, True),
            (
                "pair2.blogspot.com",
                sw,
                2,
                2,
                2,
                2,
                "http://pair2.blogspot.com/q",
                25.0,
                "DA",
                False,
            ),
            ("blog-a.net", gw, 2, 1, 2, 1, "http://blog-a.net/post", 35.0, "DR", True),
        ],
        # known backlinks get the crawl's check, as the site's own do: no second row
        "forum-c.org": [(G, "csv"), (S, "gsc"), (W, "urls")],
        "pair2.blogspot.com": [("moz",)],
    }


def test_a_competitor_shared_by_two_sites_is_read_for_each_brand(web: Any, tmp_path: Path) -> None:
    # acme.com and solo.com both watch widgetco.com; p.com links to it and names Solo.
    body = page("<p>Solo Tools are the best.</p>" + a("https://widgetco.com/", "WidgetCo"))
    server = web(routes={"p.com/1": {"body": body}})
    db = tmp_path / "two.db"
    cli(["init", "--site", SITE, "--brand", "Acme Widgets", "--competitor", W], db)
    cli(["init", "--site", "solo.com", "--brand", "Solo Tools", "--competitor", W], db)
    export = tmp_path / "w.csv"
    export.write_text("source_url,target_url\nhttp://p.com/1,https://widgetco.com/\n")
    cli(["import", str(export), "--competitor", W, "--site", "solo.com"], db)
    summary = json.loads(cli(["verify", "--competitors", "--json", *SETTINGS], db, server).stdout)
    assert (summary["competitor_links"], summary["competitor_live"]) == (1, 1)
    [acme] = cli_json(["report", "gap", "--site", SITE], db)
    assert (acme["referring_domain"], acme["mentions_brand"]) == ("p.com", False)
    [solo] = cli_json(["report", "gap", "--site", "solo.com"], db)
    # The page was read for each site's brand: it names Solo Tools, not Acme Widgets.
    assert (solo["referring_domain"], solo["mentions_brand"]) == ("p.com", True)
