"""End to end, discovery: `crawl`, `mentions`, the outreach life cycle and mentions in `verify`.

The real CLI in a subprocess against a virtual web on 127.0.0.1: three small
sites with sitemaps (one gzipped, one an index), robots rules, URL traps, pages
with linked and unlinked mentions in tricky places, an image use, competitor
links and a contact page; a domain that robots.txt shuts out and one that never
answers; an alerts feed.
"""

from __future__ import annotations

import base64
import gzip
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import FAST, ROOT, proxy_env, run_cli

pytestmark = pytest.mark.e2e

SITE = "acme-widgets.com"
SETTINGS = [*FAST, "-s", "DOWNLOAD_TIMEOUT=3"]


def page(body: str, title: str = "A page", head: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>"
    )


def urlset(*urls: str) -> str:
    entries = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    )


def gz(text: str) -> str:
    return base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()


NAV = '<nav><a href="/">Home</a> <a href="/about">About</a> <a href="/post/1">One</a></nav>'
TRAPS = (
    "".join(f'<a href="/calendar?month={m}">m{m}</a>' for m in range(1, 41))
    + '<a href="/a/a/a/deep">deep</a> <a href="/page?PHPSESSID=abc123">page</a>'
    + '<a href="/page#top">same page</a> <a href="/private/secret">secret</a>'
)
ALPHA = {
    "alpha-blog.com/robots.txt": {
        "body": "User-agent: *\nDisallow: /private/\n"
        "Sitemap: http://alpha-blog.com/sitemap_index.xml\n",
        "content_type": "text/plain",
    },
    "alpha-blog.com/sitemap_index.xml": {
        "body": '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
        'sitemap/0.9"><sitemap><loc>http://alpha-blog.com/sitemap-posts.xml.gz</loc>'
        "</sitemap></sitemapindex>",
        "content_type": "application/xml",
    },
    "alpha-blog.com/sitemap-posts.xml.gz": {
        "body_base64": gz(
            urlset(
                "http://alpha-blog.com/post/2",
                "http://alpha-blog.com/post/3",
                "http://elsewhere.org/not-ours",
            )
        ),
        "content_type": "application/x-gzip",
    },
    "alpha-blog.com/": {"body": page(NAV + "<p>Welcome to the alpha blog.</p>" + TRAPS)},
    "alpha-blog.com/post/1": {
        "body": page(
            NAV + "<article><p>We tried <a href='https://acme-widgets.com/pricing'>Acme "
            "Widgets</a> and <a rel='nofollow' href='https://www.widgetco.com/'>WidgetCo</a>."
            "</p></article>",
            "Post one",
        )
    },
    "alpha-blog.com/post/2": {
        "body": page(
            NAV + "<article><h3>Sponsors</h3><p>Acme Widgets</p><p>Thanks to acme-widgets.com"
            "</p><img src='https://cdn.acme-widgets.com/logo.png' alt='Acme logo'>"
            "<p>Write to <a href='mailto:editor@alpha-blog.com'>the editor</a>.</p></article>"
            "<footer><a href='/contact'>Contact us</a></footer>",
            "Post two",
            '<meta name="author" content="Jane Doe">',
        )
    },
    "alpha-blog.com/post/3": {"body": page(NAV + "<p>Nothing about anyone.</p>", "Post three")},
    "alpha-blog.com/about": {
        "body": page(NAV + '<p>We are a blog. <a href="/contact">Contact us</a></p>', "About")
    },
    "alpha-blog.com/contact": {
        "body": page("<p>Mail: press [at] alpha-blog [dot] com</p>", "Contact")
    },
    "alpha-blog.com/private/secret": {
        "body": page("<a href='https://acme-widgets.com/'>Acme Widgets</a>")
    },
    "alpha-blog.com/page": {"body": page(NAV + "<p>A page.</p>")},
    "alpha-blog.com/calendar": {"body": page(NAV + "<p>Calendar.</p>")},
    "alpha-blog.com/a/a/a/deep": {"body": page("<p>trap</p>")},
}
BETA = {
    "beta-news.org/sitemap.xml": {
        "body": urlset("http://beta-news.org/story"),
        "content_type": "application/xml",
    },
    "beta-news.org/": {
        "body": page(
            "<nav>Partners: Acme Widgets</nav><main><p>Acme Widgets Bank lends money."
            "</p><p>See <a href='/story'>the story</a>.</p></main>"
            "<script>var x = 'Acme Widgets';</script>",
            "Beta news",
        )
    },
    "beta-news.org/story": {
        "body": page(
            "<p>Our review of widgets.</p>",
            "WidgetPro review",
            '<meta name="robots" content="noindex">',
        )
    },
}
OTHERS = {
    "gamma-shop.net/robots.txt": {
        "body": "User-agent: *\nDisallow: /\n",
        "content_type": "text/plain",
    },
    "gamma-shop.net/": {"body": page("<a href='https://acme-widgets.com/'>Acme Widgets</a>")},
    # robots.txt shuts out the home page but allows /blog/, which its sitemap lists.
    "kappa-partial.com/robots.txt": {
        "body": "User-agent: *\nAllow: /blog/\nDisallow: /\n"
        "Sitemap: http://kappa-partial.com/blog/sitemap.xml\n",
        "content_type": "text/plain",
    },
    "kappa-partial.com/blog/sitemap.xml": {
        "body": '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>http://kappa-partial.com/blog/x</loc></url></urlset>",
        "content_type": "application/xml",
    },
    "kappa-partial.com/blog/x": {"body": page("<p>We use WidgetPro daily.</p>")},
    # A site that moved: its home page redirects to another registered domain.
    "moved-site.com/": {"status": 301, "location": "http://new-owner.net/"},
    "new-owner.net/": {"body": page("<p>New owner.</p>")},
    "new-owner.net/sitemap.xml": {
        "body": '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>http://new-owner.net/p</loc></url></urlset>",
        "content_type": "application/xml",
    },
    "down-site.com/": {"drop": True},
    "broken-site.com/": {"status": 500},
}
ROUTES = {**ALPHA, **BETA, **OTHERS}


#: The site's profile (`backcheck init` options): its brands, a competitor, an exclusion.
PROFILE = [
    *["--site", SITE, "--brand", "Acme Widgets", "--brand", "WidgetPro"],
    *["--competitor", "widgetco.com", "--exclude", "Acme Widgets Bank"],
]


def cli_json(args: list[str], server=None) -> object:  # type: ignore[no-untyped-def]
    done = run_cli(args, server)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def linked_db(init_db, tmp_path: Path, name: str, sources: list[str]) -> str:  # type: ignore[no-untyped-def]
    """A database with PROFILE and a backlink to the site from each of `sources`."""
    db = str(tmp_path / name)
    init_db(db, *PROFILE)
    links = tmp_path / "links.csv"
    links.write_text(
        "source_url,target_url\n" + "".join(f"{s},https://acme-widgets.com/\n" for s in sources),
        encoding="utf-8",
    )
    assert run_cli(["import", str(links), "--db", db]).returncode == 0
    return db


def test_crawl_a_domain_list(web, init_db, tmp_path: Path) -> None:
    server = web(routes=ROUTES)
    db = str(tmp_path / "d.db")
    init_db(db, *PROFILE)
    domains = tmp_path / "domains.txt"
    domains.write_text(
        "# prospects\nalpha-blog.com\n\nhttp://beta-news.org/\ngamma-shop.net\n"
        "down-site.com\nnot a domain\nALPHA-BLOG.com\nhttp://broken-site.com/\n"
        "http://kappa-partial.com/\n"
        "blog.widgetco.com\nhttps://www.acme-widgets.com/about\nhttp://moved-site.com/\n",
        encoding="utf-8",
    )
    done = run_cli(["crawl", str(domains), "--json", *SETTINGS, "--db", db], server, timeout=240)
    assert done.returncode == 0, done.stderr
    assert f"{domains}:7: " in done.stderr  # the bad line, named
    # A competitor's pages are never fetched, nor the site's own: set aside, said so.
    assert f"{domains}:11: a competitor of {SITE} (init --competitor)" in done.stderr
    assert f"{domains}:12: the site itself" in done.stderr
    rows = {row["domain"]: row for row in json.loads(done.stdout)}
    assert set(rows) == {
        "alpha-blog.com",
        "beta-news.org",
        "gamma-shop.net",
        "down-site.com",
        "broken-site.com",
        "kappa-partial.com",
        "moved-site.com",
    }
    assert set(rows["alpha-blog.com"]) == {
        "domain",
        "pages",
        "backlinks_new",
        "backlinks_known",
        "competitor_links",
        "unlinked_mentions",
        "stopped",
    }
    alpha = rows["alpha-blog.com"]
    assert (alpha["backlinks_new"], alpha["competitor_links"], alpha["unlinked_mentions"]) == (
        1,
        1,
        1,
    )
    assert (alpha["pages"], alpha["stopped"]) == (37, "done")  # 7 pages + 30 calendar variants
    assert rows["gamma-shop.net"]["stopped"] == "robots"
    kappa = rows["kappa-partial.com"]
    assert (kappa["pages"], kappa["unlinked_mentions"], kappa["stopped"]) == (1, 1, "done")
    assert server.hits("kappa-partial.com", "/") == 0
    # The moved site's sitemaps are looked for on it, not on the domain it went to.
    assert rows["moved-site.com"]["pages"] == 0
    assert server.hits("moved-site.com", "/sitemap.xml") == 1
    assert server.hits("new-owner.net", "/sitemap.xml") == 0
    assert rows["down-site.com"]["stopped"] == "unreachable"
    assert (rows["broken-site.com"]["pages"], rows["broken-site.com"]["stopped"]) == (0, "errors")
    assert rows["beta-news.org"]["stopped"] == "done"

    # robots.txt obeyed; traps guarded; a URL fetched once after canonicalisation
    assert server.hits("alpha-blog.com", "/private/secret") == 0
    assert server.hits("alpha-blog.com", "/a/a/a/deep") == 0
    calendar = [p for m, h, p in server.requests if h == "alpha-blog.com" and "calendar" in p]
    assert len(calendar) == 30
    assert server.hits("alpha-blog.com", "/page") == 1
    # robots.txt read once per host: its Sitemap: lines come from the robots.txt middleware
    assert server.hits("alpha-blog.com", "/robots.txt") == 1
    assert server.hits("beta-news.org", "/robots.txt") == 1
    # The contact page is fetched once, as a crawled page read for its addresses too.
    assert server.hits("alpha-blog.com", "/contact") == 1
    assert server.hits("elsewhere.org") == 0
    assert server.hits("gamma-shop.net", "/") == 0
    assert server.hits("www.widgetco.com") == 0  # competitor pages are never fetched

    backlinks = cli_json(["report", "backlinks", "--format", "json", "--db", db])
    assert [(b["source_url"], b["target_url"], b["status"], b["sources"]) for b in backlinks] == [
        ("http://alpha-blog.com/post/1", "https://acme-widgets.com/pricing", "live", "crawl")
    ]
    competitor = cli_json(["report", "competitor-links", "--format", "json", "--db", db])
    assert [
        (c["page_url"], c["competitor"], c["follow"], c["nofollow_source"]) for c in competitor
    ] == [("http://alpha-blog.com/post/1", "widgetco.com", False, "rel")]
    named = ["report", "competitor-links", "--format", "json", "--db", db, "--competitor"]
    assert cli_json([*named, "www.WidgetCo.com"]) == competitor
    unknown = run_cli([*named, "other.com"])
    assert unknown.returncode == 2 and "'other.com' is not a competitor" in unknown.stderr

    mentions = cli_json(["report", "mentions", "--format", "json", "--db", db])
    got = {(m["page_url"], m["term"]): m for m in mentions}
    post2 = got[("http://alpha-blog.com/post/2", "Acme Widgets")]
    assert (post2["kind"], post2["placement"], post2["linked"]) == ("text", "main", False)
    assert post2["reason"] == "unlinked_mention" and post2["outreach_status"] == "new"
    assert post2["emails"] == ["editor@alpha-blog.com", "press@alpha-blog.com"]
    assert post2["author"] == "Jane Doe"
    assert post2["contact_url"] == "http://alpha-blog.com/contact"
    assert got[("http://alpha-blog.com/post/2", SITE)]["kind"] == "text"
    image = got[("http://alpha-blog.com/post/2", "https://cdn.acme-widgets.com/logo.png")]
    assert (image["kind"], image["context"]) == ("image_use", "Acme logo")
    linked = got[("http://alpha-blog.com/post/1", "Acme Widgets")]
    assert linked["linked"] is True and linked["page_links_to_site"] is True
    beta = got[("http://beta-news.org/", "Acme Widgets")]
    assert beta["placement"] == "boilerplate"  # in <nav>; "Acme Widgets Bank" is excluded
    story = got[("http://beta-news.org/story", "WidgetPro")]
    assert (story["kind"], story["page_noindex"]) == ("title", True)
    assert mentions[-1]["page_url"] == "http://beta-news.org/story"  # noindex last
    assert ("http://alpha-blog.com/post/3", "Acme Widgets") not in got

    # The caps, on a new run of the same list; a known backlink is checked, not re-added.
    def crawl_again(*options: str) -> dict[str, dict]:
        args = ["crawl", str(domains), "--new-run", "--json", *options, *SETTINGS, "--db", db]
        again = run_cli(args, server, timeout=240)
        assert again.returncode == 0, again.stderr
        return {row["domain"]: row for row in json.loads(again.stdout)}

    capped = crawl_again("--max-pages", "3")["alpha-blog.com"]
    assert (capped["pages"], capped["stopped"]) == (3, "page_limit")
    shallow = crawl_again("--max-depth", "0", "--no-sitemaps")["alpha-blog.com"]
    assert (shallow["pages"], shallow["stopped"]) == (1, "depth_limit")
    full = crawl_again()["alpha-blog.com"]
    assert (full["backlinks_new"], full["backlinks_known"]) == (0, 1)
    assert len(cli_json(["report", "backlinks", "--format", "json", "--db", db])) == 1


def test_crawl_resumes_without_fetching_finished_pages(web, init_db, tmp_path: Path) -> None:
    slow = {
        f"slow-site.com/p{i}": {"body": page(f"<p>page {i}</p>"), "delay": 0.4} for i in range(30)
    }
    home = "".join(f'<a href="/p{i}">p{i}</a>' for i in range(30))
    server = web(routes={**slow, "slow-site.com/": {"body": page(home)}})
    db = str(tmp_path / "r.db")
    init_db(db, *PROFILE)
    domains = tmp_path / "one.txt"
    domains.write_text("http://slow-site.com/\n", encoding="utf-8")
    args = [sys.executable, "-m", "crawler.cli", "crawl", str(domains), *SETTINGS]
    args += ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "BACKCHECK_COMMIT_INTERVAL=0.2"]
    child = subprocess.Popen([*args, "--db", db], cwd=ROOT, env=proxy_env(server))
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and stored < 6:
        time.sleep(0.1)
        with sqlite3.connect(db) as conn:
            stored = conn.execute("select count(*) from crawl_pages where ok").fetchone()[0]
    child.send_signal(signal.SIGKILL)
    child.wait()
    with sqlite3.connect(db) as conn:
        finished = {r[0] for r in conn.execute("select url from crawl_pages where ok")}
    assert 6 <= len(finished) < 31  # killed half-way (30 pages take 12 s at 0.4 s each)
    # The delay only made the kill land half-way: the resumed crawl need not wait for it.
    server.update({key: {"body": rule["body"]} for key, rule in slow.items()})
    before = list(server.requests)
    done = run_cli(["crawl", str(domains), "--json", *SETTINGS, "--db", db], server, timeout=120)
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)
    assert (row["pages"], row["stopped"]) == (31, "done")
    again = [f"http://{h}{p}" for m, h, p in server.requests[len(before) :] if m == "GET"]
    assert not set(again) & finished, "pages finished before the kill were fetched again"


def test_crawl_fetches_a_contact_page_named_by_its_link_text_once(
    web, init_db, tmp_path: Path
) -> None:
    """The site's contact page is /team, named "Contact" by the links to it (its URL says
    nothing), and the crawl reaches it before the page that mentions the brand: it is
    read for its addresses when crawled, not fetched a second time for the target."""
    footer = "<footer><a href='/team'>Contact</a></footer>"
    server = web(
        routes={
            "delta-mag.com/": {"body": page("<a href='/team'>Contact</a> <a href='/x'>x</a>")},
            "delta-mag.com/team": {"body": page("<p>Desk: desk [at] delta-mag [dot] com</p>")},
            "delta-mag.com/x": {"body": page(f"<a href='/post'>A post</a>{footer}")},
            "delta-mag.com/post": {"body": page(f"<p>We like Acme Widgets.</p>{footer}")},
        }
    )
    db = str(tmp_path / "t.db")
    init_db(db, *PROFILE)
    domains = tmp_path / "one.txt"
    domains.write_text("http://delta-mag.com/\n", encoding="utf-8")
    one = ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]  # home, /team, /x, then /post
    done = run_cli(["crawl", str(domains), "--json", *SETTINGS, *one, "--db", db], server)
    assert done.returncode == 0, done.stderr
    assert [(r["pages"], r["unlinked_mentions"]) for r in json.loads(done.stdout)] == [(4, 1)]
    paths = [p for _, h, p in server.requests if h == "delta-mag.com" and p != "/robots.txt"]
    assert paths.index("/team") < paths.index("/post")  # crawled before the target
    assert server.hits("delta-mag.com", "/team") == 1
    targets = cli_json(["outreach", "list", "--format", "json", "--db", db])
    assert [(t["page_url"], t["contact_url"], t["emails"]) for t in targets] == [
        ("http://delta-mag.com/post", "http://delta-mag.com/team", ["desk@delta-mag.com"])
    ]


def test_a_target_naming_another_contact_page_crawled_before_gets_the_sites(
    web, init_db, tmp_path: Path
) -> None:
    """The domain's first pages name /team its contact page; the target names /people
    ("Contact" in its footer), a page the crawl fetched before, unread for addresses:
    the site's contact page serves, /people is not fetched a second time."""
    server = web(
        routes={
            "delta-mag.com/": {
                "body": page(
                    "<a href='/team'>Contact</a> <a href='/people'>People</a> <a href='/x'>x</a>"
                )
            },
            "delta-mag.com/team": {"body": page("<p>Desk: desk [at] delta-mag [dot] com</p>")},
            "delta-mag.com/x": {"body": page("<a href='/post'>A post</a>")},
            "delta-mag.com/people": {"body": page("<a href='mailto:ann@delta-mag.com'>Ann</a>")},
            "delta-mag.com/post": {
                "body": page(
                    "<p>We like Acme Widgets.</p><footer><a href='/people'>Contact</a></footer>"
                )
            },
        }
    )
    db = str(tmp_path / "t.db")
    init_db(db, *PROFILE)
    domains = tmp_path / "one.txt"
    domains.write_text("http://delta-mag.com/\n", encoding="utf-8")
    one = ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]  # depth 1: /team, /people, /x; 2: /post
    done = run_cli(["crawl", str(domains), "--json", *SETTINGS, *one, "--db", db], server)
    assert done.returncode == 0, done.stderr
    paths = [p for _, h, p in server.requests if h == "delta-mag.com" and p != "/robots.txt"]
    assert paths.index("/people") < paths.index("/post")  # crawled before the target
    assert server.hits("delta-mag.com", "/people") == 1
    assert server.hits("delta-mag.com", "/team") == 1
    targets = cli_json(["outreach", "list", "--format", "json", "--db", db])
    assert [(t["page_url"], t["contact_url"], t["emails"]) for t in targets] == [
        ("http://delta-mag.com/post", "http://delta-mag.com/people", ["desk@delta-mag.com"])
    ]


FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Google Alert - Acme Widgets</title>
<entry><id>tag:google.com,2013:googlealerts/feed:1</id>
<title type="html">&lt;b&gt;Acme&lt;/b&gt;</title>
<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=http://news-site.org/acme&amp;ct=ga"/>
<published>2026-12-01T10:00:00Z</published></entry>
<entry><id>tag:google.com,2013:googlealerts/feed:2</id><title>linked</title>
<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=http://news-site.org/linked&amp;ct=ga"/>
</entry><entry><id>tag:google.com,2013:googlealerts/feed:3</id><title>rival</title>
<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://widgetco.com/vs-acme&amp;ct=ga"/>
</entry></feed>"""


def test_mentions_from_a_list_and_a_feed_and_the_outreach_life_cycle(
    web, init_db, tmp_path: Path
) -> None:
    routes = {
        "news-site.org/acme": {"body": page("<p>Acme Widgets ships a new widget.</p>")},
        "news-site.org/linked": {
            "body": page("<p>We like <a href='https://acme-widgets.com/'>Acme Widgets</a>.</p>")
        },
        "alerts.example-feeds.com/feed": {"body": FEED, "content_type": "application/atom+xml"},
        "alerts.example-feeds.com/login": {"body": page("<form>Sign in</form>")},
        "alerts.example-feeds.com/gone": {"status": 404},
        "list-site.org/a": {"body": page("<p>Is AcmeWidgets any good?</p>")},
        "list-site.org/gone": {"status": 404},
        # A Unicode host is fetched where browsers go (UTS #46), not at IDNA 2003's name.
        "xn--strae-oqa.list-site.org/b": {"body": page("<p>Acme Widgets, reviewed.</p>")},
        "strasse.list-site.org/b": {"body": page("<p>the wrong host</p>")},
    }
    server = web(routes=routes)
    db = str(tmp_path / "m.db")
    init_db(db, *PROFILE)
    urls = tmp_path / "urls.txt"
    urls.write_text(
        "http://list-site.org/a\nhttp://list-site.org/gone\nftp://nope\n"
        "http://straße.list-site.org/b\nhttps://widgetco.com/blog/acme\n",
        encoding="utf-8",
    )
    listed = run_cli(["mentions", str(urls), "--json", *SETTINGS, "--db", db], server)
    assert listed.returncode == 0, listed.stderr
    assert f"{urls}:3: " in listed.stderr
    assert f"{urls}:5: a competitor of {SITE}" in listed.stderr
    listed_summary = json.loads(listed.stdout)
    assert (listed_summary["pages"], listed_summary["unlinked_mentions"]) == (3, 2)
    assert server.hits("xn--strae-oqa.list-site.org", "/b") == 1
    assert server.hits("strasse.list-site.org") == 0
    feed = "http://alerts.example-feeds.com/feed"
    fed = run_cli(["mentions", "--feed", feed, "--json", *SETTINGS, "--db", db], server)
    assert fed.returncode == 0, fed.stderr
    summary = json.loads(fed.stdout)
    assert (summary["unlinked_mentions"], summary["backlinks_new"]) == (1, 1)
    assert server.hits("www.google.com") == 0  # the wrapper is unwrapped, never fetched
    assert server.hits("widgetco.com") == 0  # a competitor's page, listed or in the feed
    # A feed URL that serves a login page (or nothing) fails the run, saying which and why.
    for bad, why in (("login", "not an RSS or Atom feed"), ("gone", "answered 404")):
        url = f"http://alerts.example-feeds.com/{bad}"
        failed = run_cli(["mentions", "--feed", url, *SETTINGS, "--db", db], server)
        assert failed.returncode == 1 and f"{url}" in failed.stderr and why in failed.stderr
    mentions = cli_json(["report", "mentions", "--unlinked", "--format", "json", "--db", db])
    assert {(m["page_url"], m["source"]) for m in mentions} == {
        ("http://list-site.org/a", "list"),
        ("http://xn--strae-oqa.list-site.org/b", "list"),  # the URL fetched
        ("http://news-site.org/acme", "feed"),
    }
    backlinks = cli_json(["report", "backlinks", "--format", "json", "--db", db])
    assert [(b["source_url"], b["sources"], b["status"]) for b in backlinks] == [
        ("http://news-site.org/linked", "feed", "live")
    ]
    # The same list again: re-checked, not duplicated.
    again = run_cli(["mentions", str(urls), "--json", *SETTINGS, "--db", db], server)
    assert again.returncode == 0, again.stderr
    assert len(cli_json(["report", "mentions", "--format", "json", "--db", db])) == 4

    # Outreach: contacted, then the page links to us: the next verify marks it won.
    set_ = run_cli(["outreach", "set", "http://news-site.org/acme", "contacted", "--db", db])
    assert set_.returncode == 0, set_.stderr
    server.update(
        {
            "news-site.org/acme": {
                "body": page("<p><a href='https://acme-widgets.com/'>Acme Widgets</a> ships.</p>")
            }
        }
    )
    verified = run_cli(["verify", *SETTINGS, "--db", db], server)
    assert verified.returncode == 0, verified.stderr
    targets = cli_json(["outreach", "list", "--format", "json", "--db", db])
    status = {t["page_url"]: t["status"] for t in targets}
    assert status == {
        "http://news-site.org/acme": "won",
        "http://list-site.org/a": "new",
        "http://xn--strae-oqa.list-site.org/b": "new",
    }
    backlinks = cli_json(["report", "backlinks", "--format", "json", "--db", db])
    won = [b for b in backlinks if b["source_url"] == "http://news-site.org/acme"]
    assert [(b["status"], b["sources"]) for b in won] == [("live", "outreach")]

    # Then one page is gone (404) and one lost its mention: neither counts in the run's
    # summary, nor stays a mention or an outreach target.
    server.update(
        {
            "list-site.org/a": {"status": 404},
            "xn--strae-oqa.list-site.org/b": {"body": page("<p>Nothing to see.</p>")},
        }
    )
    later = cli_json(["mentions", str(urls), "--json", *SETTINGS, "--db", db], server)
    assert (later["mention_pages"], later["unlinked_mentions"]) == (0, 0)
    kept = cli_json(["report", "mentions", "--format", "json", "--db", db])
    assert {m["page_url"] for m in kept} == {
        "http://news-site.org/acme",
        "http://news-site.org/linked",
    }
    targets = cli_json(["outreach", "list", "--format", "json", "--db", db])
    assert [t["page_url"] for t in targets] == ["http://news-site.org/acme"]


@pytest.mark.parametrize(
    ("where", "processes"),
    [("1", "1"), ("0", "1"), ("1", "2")],
    ids=["read-by-the-writer", "read-by-the-crawler", "read-by-the-shards-writers"],
)
def test_verify_reads_mentions_and_report_lost_says_so(
    web, init_db, tmp_path: Path, where, processes
) -> None:  # type: ignore[no-untyped-def]
    routes = {
        "r1.org/still": {
            "body": page("<p>Acme Widgets are fine, no link.</p><a href='/contact'>Contact</a>")
        },
        "r1.org/silent": {"body": page("<p>Nothing here.</p>")},
        "r1.org/contact": {"body": page("<p>Write to <a href='mailto:desk@r1.org'>us</a></p>")},
        "r1.org/live": {"body": page("<p><a href='https://acme-widgets.com/'>Acme</a></p>")},
    }
    server = web(routes=routes)
    sources = [f"http://r1.org/{p}" for p in routes_paths(routes) if p != "contact"]
    db = linked_db(init_db, tmp_path, "v.db", sources)
    verified = run_cli(
        ["verify", *SETTINGS, "-s", f"BACKCHECK_READ_MENTIONS_IN_WRITER={where}", "--db", db],
        server,
    )
    assert verified.returncode == 0, verified.stderr
    lost = cli_json(["report", "lost", "--format", "json", "--db", db])
    got = {row["source_url"]: (row["reason"], row["mentions_brand"]) for row in lost}
    assert got == {
        "http://r1.org/still": ("link_removed", True),
        "http://r1.org/silent": ("link_removed", False),
    }
    targets = cli_json(["outreach", "list", "--format", "json", "--db", db])
    assert [(t["page_url"], t["reason"]) for t in targets] == [
        ("http://r1.org/still", "link_removed")
    ]
    # Its site's contact page was fetched in that run (once), its address joins the target's.
    assert (targets[0]["contact_url"], targets[0]["emails"]) == (
        "http://r1.org/contact",
        ["desk@r1.org"],
    )
    # The page stops mentioning the brand: the next verify drops its mention.
    server.update({"r1.org/still": {"body": page("<p>Nothing about anyone now.</p>")}})
    again = run_cli(
        ["verify", *SETTINGS, "-s", f"BACKCHECK_READ_MENTIONS_IN_WRITER={where}", "--db", db],
        server,
    )
    assert again.returncode == 0, again.stderr
    assert cli_json(["report", "mentions", "--format", "json", "--db", db]) == []
    lost = cli_json(["report", "lost", "--format", "json", "--db", db])
    assert {row["source_url"]: row["mentions_brand"] for row in lost}[
        "http://r1.org/still"
    ] is False


def routes_paths(routes: dict[str, dict]) -> list[str]:
    return [key.split("/", 1)[1] for key in routes]


def test_crawl_shards_domains_over_processes_and_runs_under_scrapy(
    web, init_db, tmp_path: Path
) -> None:
    server = web(routes=ROUTES)
    domains = tmp_path / "domains.txt"
    domains.write_text(
        "http://alpha-blog.com/\nhttp://beta-news.org/\ngamma-shop.net\n", encoding="utf-8"
    )
    results = {}
    for name, options in (("one", []), ("two", ["--processes", "2"])):
        db = str(tmp_path / f"{name}.db")
        init_db(db, *PROFILE)
        args = ["crawl", str(domains), "--json", *options, *SETTINGS, "--db", db]
        results[name] = cli_json(args, server)
        mentions = cli_json(["report", "mentions", "--format", "json", "--db", db])
        results[name + "-mentions"] = sorted((m["page_url"], m["term"]) for m in mentions)
    assert results["one"] == results["two"]
    assert results["one-mentions"] == results["two-mentions"]
    assert {r["domain"]: r["pages"] for r in results["one"]} == {
        "alpha-blog.com": 37,
        "beta-news.org": 2,
        "gamma-shop.net": 0,
    }
    # The same job through Scrapy itself (as Scrapyd runs it).
    db = str(tmp_path / "scrapy.db")
    init_db(db, *PROFILE)
    scrapy = [sys.executable, "-m", "scrapy", "crawl", "crawl", "-a", f"db={db}"]
    done = subprocess.run(
        [*scrapy, "-a", f"file={domains}", *SETTINGS],
        cwd=ROOT,
        env=proxy_env(server),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        state = conn.execute("select kind, state from runs").fetchall()
        pages = dict(conn.execute("select domain, count(*) from crawl_pages where ok group by 1"))
    assert state == [("crawl", "finished")]
    assert pages == {"alpha-blog.com": 37, "beta-news.org": 2}


def test_verify_fetches_contact_pages_the_writer_asks_for_during_the_run(  # type: ignore[no-untyped-def]
    web, init_db, tmp_path: Path
) -> None:
    """Pages read by the writer while the crawl goes on (batches every 0.1 s, a slow site):
    their sites' contact pages are asked for mid-run and at its end, each fetched once,
    and every target gets its contact page's address."""
    routes: dict[str, dict] = {}
    sources = []
    for i in range(8):
        host = f"m{i}.org"
        for j in range(3):  # three targets per site: one contact page fetch
            routes[f"{host}/post{j}"] = {
                "body": page(f"<p>Acme Widgets, post {j}.</p><a href='/team'>Contact us</a>"),
                "delay": 1.5 if i == 7 else 0,  # m7's three posts take 4.5 s
            }
            sources.append(f"http://{host}/post{j}")
        routes[f"{host}/team"] = {"body": page(f"<a href='mailto:desk@{host}'>desk</a>")}
    server = web(routes=routes)
    db = linked_db(init_db, tmp_path, "m.db", sources)
    fast = ["-s", "BACKCHECK_COMMIT_INTERVAL=0.1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    where = ["-s", "BACKCHECK_READ_MENTIONS_IN_WRITER=1", "--processes", "1"]
    verified = run_cli(["verify", *SETTINGS, *fast, *where, "--db", db], server)
    assert verified.returncode == 0, verified.stderr
    targets = cli_json(["outreach", "list", "--format", "json", "--db", db])
    got = {t["page_url"]: (t["contact_url"], t["emails"]) for t in targets}
    assert got == {
        s: (f"http://{urlsplit(s).hostname}/team", [f"desk@{urlsplit(s).hostname}"])
        for s in sources
    }
    assert [server.hits(f"m{i}.org", "/team") for i in range(8)] == [1] * 8
    # Sent as from the page that links there (Scrapy's referrer policy), as when the
    # crawler asks for it itself.
    for i in range(8):
        [referer] = server.referers_of(f"m{i}.org", "/team")
        assert referer in {f"http://m{i}.org/post{j}" for j in range(3)}, referer
    # Asked for while the crawl went on: a contact page came before m7's last post.
    order = [(h, p) for _, h, p in server.requests]
    last_post = max(k for k, (h, p) in enumerate(order) if h == "m7.org" and p.startswith("/post"))
    assert order.index(("m0.org", "/team")) < last_post


@pytest.mark.parametrize("writer", ["1", "0"], ids=["writer-reads", "crawler-reads"])
def test_a_contact_page_that_gave_no_answer_is_asked_again_by_the_next_run(  # type: ignore[no-untyped-def]
    web, init_db, tmp_path: Path, writer: str
) -> None:
    """Its site's contact page answers 503 (or a run ends before it came): the targets
    keep no address from it and stay unread; the next verify fetches it again, and once
    it answered (even with no address), no later run does."""
    post = page("<p>Acme Widgets, a post.</p><a href='/team'>Contact us</a>")
    routes: dict[str, dict] = {
        "m.org/post0": {"body": post},
        "m.org/post1": {"body": post},
        "m.org/team": {"status": 503, "body": "busy"},
    }
    server = web(routes=routes)
    db = linked_db(init_db, tmp_path, "m.db", ["http://m.org/post0", "http://m.org/post1"])
    where = ["-s", f"BACKCHECK_READ_MENTIONS_IN_WRITER={writer}", "--processes", "1"]

    def verify_and_list() -> dict[str, tuple[str, list[str]]]:
        verified = run_cli(["verify", *SETTINGS, *where, "--db", db], server)
        assert verified.returncode == 0, verified.stderr
        targets = cli_json(["outreach", "list", "--format", "json", "--db", db])
        return {t["page_url"]: (t["contact_url"], t["emails"]) for t in targets}  # type: ignore[union-attr]

    team = "http://m.org/team"
    assert verify_and_list() == {f"http://m.org/post{i}": (team, []) for i in range(2)}
    assert server.hits("m.org", "/team") == 1
    server.update({"m.org/team": {"body": page("<a href='mailto:desk@m.org'>desk</a>")}})
    got = verify_and_list()
    assert got == {f"http://m.org/post{i}": (team, ["desk@m.org"]) for i in range(2)}
    assert server.hits("m.org", "/team") == 2
    server.update({"m.org/team": {"body": page("<p>No one here now.</p>")}})
    assert verify_and_list() == got  # read: not asked again, its addresses stay
    assert server.hits("m.org", "/team") == 2
