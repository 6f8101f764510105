"""End to end: link-local addresses are never fetched, private ones only with the setting off.

The crawl reaches the virtual web through its proxy, which records every request
it is asked for: a refused address shows up there as a host with no hits, and
no packet ever leaves 127.0.0.1. Two host names bypass the proxy (`no_proxy`) so
that Scrapy resolves them itself, with canned answers (tests/stubdns.py):
`meta.evil.test` is 169.254.169.254 and `intranet.test` the virtual web's 127.0.0.1.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FAST, report, run_cli
from tests.test_e2e import link, page

pytestmark = pytest.mark.e2e

METADATA = "http://169.254.169.254/latest/meta-data/"
LINK_LOCAL_RULE = "is link-local (169.254.0.0/16, fe80::/10): never fetched"

ROUTES: dict[str, dict] = {
    "a.blog.com/meta": {"status": 302, "location": METADATA},
    "a.blog.com/refresh": {
        "body": page("moved", '<meta http-equiv="refresh" content="0; url=http://[fe80::1]/x">')
    },
    "a.blog.com/intranet": {"status": 302, "location": "http://10.0.0.1/admin"},
    "a.blog.com/local": {"status": 301, "location": "http://127.0.0.1/page"},
    "a.blog.com/live": {"body": page(link())},
    # What the refused addresses would answer, were they asked: a page linking to the site.
    "169.254.169.254/latest/meta-data/": {"body": page(link())},
    "2852039166/": {"body": page(link())},
    "10.0.0.1/admin": {"body": page(link())},
    "127.0.0.1/page": {"body": page(link())},
    "meta.evil.test/p": {"body": page(link())},
    "intranet.test/p": {"body": page(link())},
}
#: Scrapy resolves these two itself, with tests.stubdns's answers; no resolver is asked.
RESOLVED = ["-s", "TWISTED_DNS_RESOLVER=tests.stubdns.StubDNS"]
BYPASS = {"no_proxy": "meta.evil.test,intranet.test", "NO_PROXY": "meta.evil.test,intranet.test"}


def _import(init_db: Callable[..., str], tmp_path: Path, db: str, sources: list[str]) -> None:
    init_db(db, "--site", "acme.com")
    links = tmp_path / "links.csv"
    links.write_text(
        "source_url,target_url\n" + "".join(f"{s},https://acme.com/pricing\n" for s in sources)
    )
    done = run_cli(["import", str(links), "--db", db])
    assert done.returncode == 0, done.stderr


def _verdicts(db: str) -> dict[str, tuple[str, str | None]]:
    return {r["source_url"]: (r["status"], r["reason"]) for r in report(Path(db))}


def _details(db: str) -> dict[str, str | None]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select b.source_url, c.detail from checks_full c"
            " join backlinks b on b.id = c.backlink_id"
        ).fetchall()
    return dict(rows)


def test_link_local_is_never_fetched(web, init_db, tmp_path: Path) -> None:
    server = web(routes=ROUTES)
    db = str(tmp_path / "ll.db")
    sources = [
        "http://a.blog.com/meta",
        "http://a.blog.com/refresh",
        "http://a.blog.com/local",
        "http://a.blog.com/live",
        METADATA,
        "http://2852039166/",  # 169.254.169.254 spelled as one number
        "http://meta.evil.test/p",
        f"http://intranet.test:{server.port}/p",
    ]
    _import(init_db, tmp_path, db, sources)
    done = run_cli(["verify", "--json", *FAST, *RESOLVED, "--db", db], server, extra_env=BYPASS)
    assert done.returncode == 0, done.stderr

    assert _verdicts(db) == {
        "http://a.blog.com/meta": ("lost", "redirected_away"),
        "http://a.blog.com/refresh": ("lost", "redirected_away"),
        # Off by default: a loopback address is fetched like any page.
        "http://a.blog.com/local": ("lost", "redirected_away"),
        "http://127.0.0.1/page": ("live", None),  # discovered behind that redirect
        "http://a.blog.com/live": ("live", None),
        METADATA: ("unreachable", "crawl_error"),
        "http://2852039166/": ("unreachable", "crawl_error"),
        "http://meta.evil.test/p": ("unreachable", "crawl_error"),
        f"http://intranet.test:{server.port}/p": ("live", None),  # loopback, setting off
    }
    details = _details(db)
    assert details[METADATA] == f"AddressRefused: 169.254.169.254 {LINK_LOCAL_RULE}"
    assert details["http://2852039166/"] == details[METADATA]
    assert details["http://a.blog.com/meta"] == details[METADATA]
    assert "fe80::1 is link-local" in (details["http://a.blog.com/refresh"] or "")
    assert details["http://meta.evil.test/p"] == (
        f"AddressRefused: meta.evil.test resolves to 169.254.169.254 {LINK_LOCAL_RULE}"
    )
    with sqlite3.connect(db) as conn:
        chain = conn.execute(
            "select c.redirect_chain from checks_full c join backlinks b on b.id = c.backlink_id"
            " where b.source_url = 'http://a.blog.com/meta'"
        ).fetchone()[0]
    assert json.loads(chain) == [["http://a.blog.com/meta", 302]]

    # The proxy was asked for the pages, never for a link-local address (nor robots.txt there).
    assert server.hits("a.blog.com", "/meta") == 1
    assert server.hits("169.254.169.254") == 0
    assert server.hits("2852039166") == 0
    assert server.hits("fe80::1") == server.hits("[fe80::1]") == 0
    assert server.hits("127.0.0.1", "/page") == 1
    assert server.hits("meta.evil.test") == 0  # its address was refused: no connection at all
    assert server.hits("intranet.test", "/p") == 1  # reached directly, not through the proxy
    stats = json.loads(done.stdout)
    assert stats["state"] == "finished"


def test_private_addresses_are_refused_with_the_setting(web, init_db, tmp_path: Path) -> None:
    server = web(routes=ROUTES)
    db = str(tmp_path / "priv.db")
    intranet = f"http://intranet.test:{server.port}/p"
    _import(
        init_db, tmp_path, db, ["http://a.blog.com/intranet", "http://a.blog.com/local", intranet]
    )
    setting = ["-s", "BACKCHECK_REFUSE_PRIVATE_ADDRESSES=1", *RESOLVED]
    done = run_cli(["verify", *FAST, *setting, "--db", db], server, extra_env=BYPASS)
    assert done.returncode == 0, done.stderr

    assert _verdicts(db) == {
        "http://a.blog.com/intranet": ("lost", "redirected_away"),
        "http://a.blog.com/local": ("lost", "redirected_away"),
        intranet: ("unreachable", "crawl_error"),
    }
    details = _details(db)
    assert details["http://a.blog.com/intranet"] == (
        "AddressRefused: 10.0.0.1 is a private address:"
        " refused by BACKCHECK_REFUSE_PRIVATE_ADDRESSES"
    )
    assert "127.0.0.1 is a loopback address" in (details["http://a.blog.com/local"] or "")
    assert "intranet.test resolves to 127.0.0.1 is a loopback address" in (details[intranet] or "")
    # The pages were fetched through the proxy on 127.0.0.1; their redirects were not followed.
    assert server.hits("a.blog.com", "/intranet") == server.hits("a.blog.com", "/local") == 1
    assert server.hits("10.0.0.1") == server.hits("127.0.0.1") == server.hits("intranet.test") == 0
