"""End to end: an access log imported by the real CLI, its referrers verified on the virtual web."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.conftest import FAST, run_cli
from tests.test_e2e import link, page

pytestmark = pytest.mark.e2e

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def hit(ref: str, path: str = "/pricing", status: int = 200, ua: str = BROWSER) -> str:
    # Debian's vhost_combined; port 80 says our pages are http://
    return (
        f'acme.com:80 198.51.100.4 - - [14/Mar/2024:10:00:00 +0000] "GET {path} HTTP/1.1"'
        f' {status} 900 "{ref}" "{ua}"\n'
    )


def report(db: str, name: str, *extra: str) -> list[dict]:
    done = run_cli(["report", name, "--format", "json", "--db", db, *extra])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_referrer_spam_is_verified_away_and_real_referrers_become_backlinks(
    web, init_db, tmp_path: Path
) -> None:
    server = web(
        routes={
            "ref.example/links": {"body": page(link("http://acme.com/pricing"))},
            "ref.example/oldlink": {"body": page(link("http://acme.com/old", "old guide"))},
            "spam.example/nolink": {"body": page("<p>cheap pills, no link</p>")},
            "acme.com/old": {"status": 404},
        }
    )
    db = str(tmp_path / "r.db")
    log = tmp_path / "access.log.1.gz"
    log.write_bytes(
        gzip.compress(
            (
                hit("http://ref.example/links") * 3
                + hit("http://spam.example/nolink") * 5
                + hit("http://ref.example/oldlink", "/old", 404)
                + hit("http://ref.example/links", ua="curl/8.5.0")  # a bot
                + hit("http://ref.example/links", "/app.js")  # an asset
                + hit("https://blog.example/")  # only an origin: a domain to crawl
                + "not a log line\n"
            ).encode()
        )
    )
    init_db(db, "--site", "acme.com")
    done = run_cli(["import", str(log), "--format", "access-log", "--db", db])
    assert done.returncode == 0, done.stderr
    assert (
        done.stderr
        == f"{log}:13: not a vhost_combined log line: fewer fields than the format has\n"
    )
    assert done.stdout.startswith("imported 10 referral visits from 13 lines (vhost_combined log")
    again = run_cli(["import", str(log), "--format", "access-log", "--db", db, "--strict"])
    assert (
        again.returncode == 0
        and "imported 0 referral visits from 0 lines, 13 already" in again.stdout
    )
    assert report(db, "backlinks") == []  # candidates are no backlinks before verify

    verified = run_cli(["verify", *FAST, "--db", db], server)
    assert verified.returncode == 0, verified.stderr
    pages = {
        (r["referring_page"], r["backlink_status"], r["visits"]) for r in report(db, "referrals")
    }
    assert pages == {
        ("http://ref.example/links", "live", 3),
        ("http://ref.example/oldlink", "live", 1),
    }
    [spam] = report(db, "referrals", "--spam")
    assert (spam["referring_page"], spam["backlink_status"], spam["visits"]) == (
        "http://spam.example/nolink",
        "spam",
        5,
    )
    [origin] = report(db, "referrals", "--origins")
    assert (origin["referring_domain"], origin["visits"]) == ("blog.example", 1)
    backlinks = {r["source_url"]: r for r in report(db, "backlinks")}
    assert set(backlinks) == {"http://ref.example/links", "http://ref.example/oldlink"}
    assert backlinks["http://ref.example/links"]["referral_visits"] == 3
    assert report(db, "lost") == []
    [broken] = report(db, "broken-targets")
    assert (broken["source_url"], broken["target_url"], broken["target_status"]) == (
        "http://ref.example/oldlink",
        "http://acme.com/old",
        404,
    )
    assert broken["referral_visits"] == 1
    [summary] = report(db, "summary")
    assert (summary["backlinks"], summary["live_links"], summary["lost_links"]) == (2, 2, 0)
