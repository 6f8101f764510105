"""End to end: pages read as a browser reads them (issue 14, §2), on the virtual web."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import FAST, report, run_cli

pytestmark = pytest.mark.e2e

LINK = '<a href="https://acme.com/pricing">Blue Widgets</a>'


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head><title>t</title>{head}</head><body>{body}</body></html>"


def refresh(content: str) -> str:
    return f'<meta http-equiv="refresh" content="{content}">'


FILLER = "<p>Filler paragraph about widgets and gadgets.</p>" * 120  # about 6 KB

ROUTES: dict[str, dict] = {
    # Deep documents: libxml2's default depth limit (256) dropped these links.
    "deep.blog.com/b": {"body": page("<b>" * 300 + LINK)},
    "deep.blog.com/font": {"body": page("<font size=2>" * 300 + LINK)},
    "deep.blog.com/div": {"body": page("<div>" * 300 + LINK + "</div>" * 300)},
    # Meta refresh as browsers read it, anywhere in the page.
    "mr.blog.com/late": {"body": page(FILLER + refresh("0, URL = 'http://spam.net/new'") + LINK)},
    "mr.blog.com/bare": {"body": page(LINK, refresh("0 http://spam.net/new"))},
    "mr.blog.com/noscript": {
        "body": page(f"<noscript>{refresh('0; url=http://spam.net/new')}</noscript>{LINK}")
    },
    "mr.blog.com/script": {
        "body": page(f"<script>var s = '{refresh('0; url=http://spam.net/new')}';</script>{LINK}")
    },
    "mr.blog.com/comment": {
        "body": page(f"<!-- {refresh('0; url=http://spam.net/new')} -->{LINK}")
    },
    "spam.net/new": {"body": page('<a href="https://acme.com/">Acme home</a>')},
    # A referring page that now redirects to the site itself.
    "own.blog.com/http": {"status": 301, "location": "http://acme.com/welcome"},
    "own.blog.com/refresh": {"body": page("moved", refresh("0;url=http://www.acme.com/welcome"))},
    "acme.com/welcome": {"body": page(LINK)},
    "www.acme.com/welcome": {"body": page(LINK)},
    # Internationalised host: fetched where a browser goes.
    "xn--fa-hia.example/p": {"body": page(LINK)},
    "fass.example/p": {"body": page("<p>the wrong host</p>")},
    # Redirects as browsers follow them: a Location with a Unicode host (sent as UTF-8)
    # or backslashes is read by the URL standard, not urljoin and IDNA 2003.
    "idn.blog.com/p": {
        "status": 301,
        "location": "http://straße.blog.com/p".encode().decode("latin-1"),
    },
    "xn--strae-oqa.blog.com/p": {"body": page(LINK)},
    "strasse.blog.com/p": {"body": page("<p>the wrong host</p>")},
    "bs.blog.com/p": {"status": 302, "location": "http:\\\\bs.blog.com\\q"},
    "bs.blog.com/q": {"body": page(LINK)},
    # A Refresh header is a refresh too.
    "rh.blog.com/p": {"headers": {"Refresh": "0; url=http://spam.net/new"}, "body": page(LINK)},
    "rh.blog.com/slow": {
        "headers": {"Refresh": "3600; url=http://spam.net/new"},
        "body": page(LINK),
    },
    # Where lxml's tree loses what follows, the page is read as browsers build it.
    "lost.blog.com/html": {"body": page("<p>a</p></body></html>" + LINK)},
    "lost.blog.com/svg": {"body": page("<svg><title>icon</svg>" + LINK)},
    "lost.blog.com/noscript": {"body": page("<noscript><iframe src=x></noscript>" + LINK)},
    "lost.blog.com/gone": {"body": page("<p>a</p></body></html><p>acme.com: no link</p>")},
    # A frameset page shows no links, whatever lxml keeps.
    "lost.blog.com/frameset": {
        "body": "<!DOCTYPE html><html><head><title>t</title></head>"
        f"<frameset><frame src=a.html>{LINK}</frameset></html>"
    },
    # A gzip bomb: 5 MB of HTML in a few KB, over DOWNLOAD_MAXSIZE once decompressed.
    "bomb.blog.com/p": {"size": 5_000_000, "gzip": True, "body": page("")[:60]},
    "bomb.blog.com/small": {"body": page(LINK), "gzip": True},  # near miss: under the cap
}

EXPECTED = {
    "http://deep.blog.com/b": ("live", None),
    "http://deep.blog.com/font": ("live", None),
    "http://deep.blog.com/div": ("live", None),
    "http://mr.blog.com/late": ("lost", "redirected_away"),
    "http://mr.blog.com/bare": ("lost", "redirected_away"),
    "http://mr.blog.com/noscript": ("live", None),
    "http://mr.blog.com/script": ("live", None),
    "http://mr.blog.com/comment": ("live", None),
    "http://own.blog.com/http": ("lost", "redirected_away"),
    "http://own.blog.com/refresh": ("lost", "redirected_away"),
    "http://faß.example/p": ("live", None),
    "http://idn.blog.com/p": ("live", None),
    "http://bs.blog.com/p": ("live", None),
    "http://rh.blog.com/p": ("lost", "redirected_away"),
    "http://rh.blog.com/slow": ("live", None),
    "http://lost.blog.com/html": ("live", None),
    "http://lost.blog.com/svg": ("live", None),
    "http://lost.blog.com/noscript": ("live", None),
    "http://lost.blog.com/gone": ("lost", "link_removed"),
    "http://lost.blog.com/frameset": ("lost", "link_removed"),
    "http://bomb.blog.com/p": ("unreachable", "too_large"),
    "http://bomb.blog.com/small": ("live", None),
}


def test_pages_read_as_a_browser_reads_them(web, init_db, tmp_path: Path) -> None:
    server = web(routes=ROUTES)
    db = init_db(tmp_path / "browser.db", "--site", "acme.com")
    links = tmp_path / "links.csv"
    rows = "".join(f"{source},https://acme.com/pricing\n" for source in EXPECTED)
    links.write_text("source_url,target_url\n" + rows, encoding="utf-8")
    imported = run_cli(["import", str(links), "--db", db])
    assert imported.returncode == 0, imported.stderr
    settings = [*FAST, "-s", "DOWNLOAD_MAXSIZE=500000"]
    done = run_cli(["verify", "--json", *settings, "--db", db], server)
    assert done.returncode == 0, done.stderr

    got = {r["source_url"]: r for r in report(Path(db))}
    for source, (status, reason) in EXPECTED.items():
        row = got[source]
        assert (row["status"], row["reason"]) == (status, reason), (source, row.get("detail"))
    # Behind the refreshes, spam.net links to the site: one new backlink, found once.
    assert got["http://spam.net/new"]["status"] == "live"
    # Nothing is discovered on the site's own pages.
    assert not [source for source in got if "acme.com" in source]
    assert json.loads(done.stdout)["backlinks"] == len(EXPECTED) + 1
    # The IDN page was fetched at its UTS #46 name, never at IDNA 2003's fass.example.
    assert server.hits("xn--fa-hia.example", "/p") == 1
    assert server.hits("fass.example") == 0
    assert server.hits("xn--strae-oqa.blog.com", "/p") == 1
    assert server.hits("strasse.blog.com") == 0
    assert server.hits("bs.blog.com", "/q") == 1
    with sqlite3.connect(db) as conn:
        [chain] = conn.execute(
            "select redirect_chain from checks_full c join backlinks b on b.id = c.backlink_id"
            " where b.source_url = 'http://mr.blog.com/late'"
        ).fetchone()
    assert json.loads(chain) == [["http://mr.blog.com/late", "meta refresh"]]
