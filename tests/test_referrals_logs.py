"""Access logs: line formats, what counts as a referral visit, and re-imports that add nothing."""

from __future__ import annotations

import doctest
import gzip
from pathlib import Path

import pytest
from sqlite_utils import Database

from verifier import referrals
from verifier.importers import ImportRefused, accesslog, logline, referrers, visits
from verifier.importers.accesslog import Batch, read_access_log
from verifier.importers.logline import Hit, parse_line
from verifier.store import storage

SITE = "acme.com"
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36"
)
WHEN = "10/Oct/2024:13:55:36 +0000"


def line(
    ref: str = "https://blog.example/post",
    path: str = "/pricing",
    status: int = 200,
    ua: str = BROWSER,
    method: str = "GET",
    when: str = WHEN,
    client: str = "203.0.113.9",
    tail: str = "",
) -> str:
    return f'{client} - - [{when}] "{method} {path} HTTP/1.1" {status} 512 "{ref}" "{ua}"{tail}\n'


@pytest.mark.parametrize("module", [logline, accesslog, referrers, visits])
def test_doctests(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


REF = "https://blog.example/post"
PARSED = Hit(None, "2024-10-10", "GET /pricing HTTP/1.1", 200, REF, BROWSER)


@pytest.mark.parametrize(
    ("text", "layout", "expected"),
    [
        pytest.param(line().rstrip("\n"), "combined", PARSED, id="combined"),
        pytest.param(line(tail=" 0.123"), "combined", PARSED, id="nginx request time"),
        pytest.param(line(tail=' "198.51.100.7"'), "combined", PARSED, id="trailing quoted field"),
        pytest.param(line(client="2001:db8::1"), "combined", PARSED, id="IPv6 client"),
        pytest.param(
            "acme.com:443 " + line(),
            "vhost_combined",
            PARSED._replace(host="acme.com:443"),
            id="vhost_combined (Debian)",
        ),
        pytest.param(
            "www.acme.com " + line(),
            "vhost_combined",
            PARSED._replace(host="www.acme.com"),
            id="vhost_combined (openSUSE)",
        ),
        pytest.param(
            line(when="10/Oct/2024:23:30:00 -0700"),
            "combined",
            PARSED._replace(day="2024-10-11"),
            id="UTC day",
        ),
        pytest.param(
            line(ref=r"https://blog.example/a \"b\" c", ua=r"Bot \"x\" 1"),
            "combined",
            PARSED._replace(referrer='https://blog.example/a "b" c', user_agent='Bot "x" 1'),
            id="Apache escaped quotes",
        ),
        pytest.param(
            line(ref=r"https://blog.example/a\x22b"),
            "combined",
            PARSED._replace(referrer='https://blog.example/a"b'),
            id="nginx \\x22",
        ),
        pytest.param(
            line(ref="https://blog.example/with space"),
            "combined",
            PARSED._replace(referrer="https://blog.example/with space"),
            id="referrer with a space",
        ),
        pytest.param(
            '{"time_iso8601": "2024-10-10T13:55:36+00:00", "request": "GET /pricing HTTP/1.1",'
            f' "status": 200, "http_referer": "{REF}", "http_user_agent": "{BROWSER}",'
            ' "host": "acme.com"}',
            "json",
            PARSED._replace(host="acme.com"),
            id="JSON lines",
        ),
        pytest.param(
            '1.2.3.4 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200',
            "combined",
            "not a combined log line: fewer fields than the format has",
            id="truncated",
        ),
        pytest.param(
            line(when="99/Foo/2024:13:55:36 +0000"),
            "combined",
            "unreadable time '[99/Foo/2024:13:55:36 +0000]'",
            id="bad time",
        ),
        pytest.param(
            line().replace(" 200 ", " OK "),
            "combined",
            "no HTTP status after the request",
            id="bad status",
        ),
        pytest.param("{not json", "json", "not a JSON object", id="bad JSON"),
    ],
)
def test_parse_line(text: str, layout: str, expected: Hit | str) -> None:
    assert parse_line(text.rstrip("\n"), layout) == expected


def read(path: Path, site: str = SITE) -> tuple[accesslog.LogImport, Batch]:
    """Read `path` with nothing imported before; all aggregates in one batch."""
    merged = Batch()

    def flush(batch: Batch) -> None:
        merged.visits.update(batch.visits)
        merged.referrers.update(batch.referrers)
        for key, hits in batch.broken.items():
            merged.broken[key] = hits

    return read_access_log(path, site, lambda head: None, flush), merged


def test_only_browser_gets_of_pages_from_other_sites_count(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(
        line()  # 1 visit
        + line()  # two identical lines: two visits
        + line(ref="https://blog.example/post?utm_source=nl#top")  # the same page
        + line(status=404, path="/old")  # a visit to a broken page
        + line(ref="https://other.example/")  # an origin
        + line(ua="curl/8.5.0")
        + line(ua="python-requests/2.32.3")
        + line(ua="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
        + line(ua="-")
        + line(method="HEAD")
        + line(method="POST")
        + line(status=301)
        + line(status=304)
        + line(path="/assets/site.css?v=3")
        + line(path="/img/logo.PNG")
        + line(path="/fonts/a.woff2")
        + line(path="/feed/")
        + line(ref="-")
        + line(ref="https://www.acme.com/blog")  # internal: a subdomain
        + line(ref="https://www.google.co.uk/")
        + line(ref="https://l.facebook.com/l.php?u=x")
        + line(ref="android-app://com.google.android.gm/")
        + line(ref="https://chatgpt.com/")
        + line(ref="https://mail.google.com/mail/u/0/")
        + "\n"  # a blank line is no line of the log
    )
    result, batch = read(log)
    tally = result.tally
    key = "https://blog.example/post"
    assert batch.visits == {(key, "2024-10-10"): 4, ("https://other.example/", "2024-10-10"): 1}
    assert batch.referrers[key].kind is referrers.Kind.PAGE
    assert batch.referrers["https://other.example/"].kind is referrers.Kind.ORIGIN
    assert batch.broken == {(key, "https://acme.com/old"): (1, "2024-10-10", "2024-10-10")}
    assert (tally.visits, tally.bots, tally.not_visits, tally.no_referrer) == (5, 4, 8, 1)
    assert (tally.internal, tally.blank, tally.malformed, tally.lines) == (1, 1, 0, 25)
    assert tally.excluded == {"search": 1, "social": 1, "app": 1, "ai": 1, "webmail": 1}


def test_vhost_lines_for_other_hosts_are_skipped_and_counted(tmp_path: Path) -> None:
    log = tmp_path / "other_vhosts_access.log"
    log.write_text(
        "acme.com:443 " + line() + "shop.acme.com:80 " + line() + "other.org:443 " + line()
    )
    result, _ = read(log)
    assert result.layout == "vhost_combined"
    assert (result.tally.visits, result.tally.other_hosts) == (2, 1)


def test_malformed_lines_are_counted_and_the_first_five_reported(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(line() + "garbage\n" * 7 + line())
    result, _ = read(log)
    assert result.tally.malformed == 7 and result.tally.visits == 2
    assert [reject.line for reject in result.rejects] == [2, 3, 4, 5, 6]
    assert result.rejects[0].reason.startswith("not a combined log line")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("source_url,target_url\nhttps://a.example/,https://acme.com/\n", "not an access log"),
        ('1.2.3.4 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200\n' * 3, "not a combined"),
        ("", "no complete line"),
    ],
    ids=["a CSV export", "all lines malformed", "empty"],
)
def test_a_file_that_is_no_access_log_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    log = tmp_path / "access.log"
    log.write_text(text)
    with pytest.raises(ImportRefused, match=problem):
        read(log)


def test_gzip_and_flushes_as_it_reads(tmp_path: Path) -> None:
    log = tmp_path / "access.log.2.gz"
    with gzip.open(log, "wt") as out:
        for number in range(30):
            out.write(line(ref=f"https://blog.example/p{number}"))
    flushed: list[int] = []
    result = read_access_log(log, SITE, lambda head: None, lambda b: flushed.append(len(b)), 1)
    assert result.tally.visits == 30 and sum(flushed) == 30


# --- re-imports ----------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Database:
    db = storage.open_db(tmp_path / "r.db")
    storage.save_site(db, SITE)
    return db


def visits_in(db: Database) -> int:
    return int(db.execute("select coalesce(sum(visits), 0) from referral_days").fetchone()[0])


def lines(count: int, start: int = 0) -> str:
    return "".join(
        line(ref=f"https://blog.example/p{n % 7}", client=f"10.0.0.{n}")
        for n in range(start, start + count)
    )


def test_the_same_file_twice_adds_nothing(db: Database, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(lines(20))
    first = referrals.import_access_log(db, SITE, log)
    again = referrals.import_access_log(db, SITE, log)
    assert (first.result.tally.visits, first.candidates) == (20, 7)
    assert (again.result.tally.visits, again.result.tally.skipped, again.candidates) == (0, 20, 0)
    assert again.result.resumed and visits_in(db) == 20


def test_a_grown_then_rotated_and_compressed_log_adds_only_new_lines(
    db: Database, tmp_path: Path
) -> None:
    # access.log read at noon; by midnight it has grown, is rotated to access.log.1 and
    # later compressed to access.log.2.gz: the lines read at noon are never counted again.
    noon = tmp_path / "access.log"
    noon.write_text(lines(10) + line(ref="https://blog.example/partial")[:40])
    assert referrals.import_access_log(db, SITE, noon).result.tally.partial_line
    rotated = tmp_path / "access.log.1"
    rotated.write_text(lines(10) + line(ref="https://blog.example/partial") + lines(5, 10))
    second = referrals.import_access_log(db, SITE, rotated)
    assert (second.result.tally.skipped, second.result.tally.visits) == (10, 6)
    compressed = tmp_path / "access.log.2.gz"
    compressed.write_bytes(gzip.compress(rotated.read_bytes()))
    assert referrals.import_access_log(db, SITE, compressed).result.tally.visits == 0
    assert visits_in(db) == 16
    # The next day's log is another stream: all of it counts.
    (tmp_path / "next.log").write_text(lines(3, 100))
    assert referrals.import_access_log(db, SITE, tmp_path / "next.log").result.tally.visits == 3
    assert visits_in(db) == 19


def test_a_file_that_differs_from_what_was_imported_is_read_whole(
    db: Database, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    log.write_text(lines(10))
    referrals.import_access_log(db, SITE, log)
    log.write_text(lines(1) + line(ref="https://changed.example/x") + lines(8, 2))
    again = referrals.import_access_log(db, SITE, log)
    assert not again.result.resumed and again.result.tally.visits == 10


def test_a_dry_run_writes_nothing(db: Database, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(lines(5))
    assert referrals.import_access_log(db, SITE, log, dry_run=True).candidates == 5
    assert visits_in(db) == 0
    assert db.execute("select count(*) from backlinks").fetchone()[0] == 0
    assert referrals.import_access_log(db, SITE, log).result.tally.visits == 5


def test_the_benchmark_log_reads_without_a_malformed_line(tmp_path: Path) -> None:
    from bench import logs

    big, small = tmp_path / "big.log", tmp_path / "small.log"
    logs.generate(big, small, 4000, 1000)
    assert len(small.read_text().splitlines()) == 1000
    result, batch = read(big)
    tally = result.tally
    assert (tally.lines, tally.malformed) == (4000, 0)
    assert tally.visits > 100 and tally.bots > 0 and tally.excluded["search"] > 0
    assert tally.internal > 1000 and batch.broken


def test_import_names_the_format_a_log_or_ga4_export_needs(db: Database, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from crawler.cli import cli

    db_file = str(tmp_path / "r.db")
    log = tmp_path / "access.log"
    log.write_text(lines(3))
    ga4_csv = tmp_path / "ga4.csv"
    ga4_csv.write_text("# Start date: 20240101\nPage referrer,Sessions\nhttps://b.example/x,5\n")
    runner = CliRunner()
    for path, fmt in ((log, "access-log"), (ga4_csv, "ga4")):
        refused = runner.invoke(cli, ["import", str(path), "--db", db_file])
        assert refused.exit_code == 1 and f"add --format {fmt})" in refused.output
    usage = runner.invoke(
        cli, ["import", str(log), "--format", "access-log", "--source", "x", "--db", db_file]
    )
    assert usage.exit_code == 2 and "--source does not apply to --format access-log" in usage.output
