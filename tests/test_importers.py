"""verifier.importers: one sample export per format, bad rows, whole-file refusals.

The samples live in tests/fixtures/imports/. Most are plain text; two are
written the way their tools write them and must stay byte-exact:

* ahrefs-backlinks.csv is UTF-16 LE with a BOM, tab-delimited, every cell
  quoted, and one title spans two lines. It was produced once with
  ``(b"\\xff\\xfe" + text.encode("utf-16-le"))`` from the tab-joined rows.
* gsc-latest-links-de.csv is windows-1252 ("März" is not valid UTF-8), so it
  exercises the encoding fallback.
"""

from __future__ import annotations

import codecs
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from verifier.importers import FORMATS, ImportRefused, ImportRow, Reject, read_export
from verifier.importers.values import parse_bool, parse_date, parse_number

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
SITE = "acme.com"

SAMPLES = [
    # (file, detected format, lines kept, lines rejected)
    ("ahrefs-backlinks.csv", "ahrefs", [2, 3, 6, 8], [4, 5]),
    ("semrush-backlinks.csv", "semrush", [2, 3, 4], []),
    ("majestic-backlinks.csv", "majestic", [2, 3, 4, 5, 7, 8], [6]),
    ("gsc-latest-links-en.csv", "gsc", [2, 3, 4, 7], [5]),
    ("gsc-latest-links-de.csv", "gsc", [2, 3, 4], []),
    ("moz-inbound-links.csv", "moz", [2, 3], []),
    ("generic-bom.csv", "csv", [2, 3], []),
    ("bad-rows.csv", "csv", [13, 14], [2, 3, 4, 5, 7, 8, 9, 10, 11, 12]),
    ("urls.txt", "urls", [2, 4, 8], [5, 6, 7]),
]


def read(name: str, fmt: str = "auto"):
    return read_export(FIXTURES / name, SITE, fmt)


def row_at(name: str, line: int) -> ImportRow:
    return next(row for row in read(name).rows if row.line == line)


def write(tmp_path: Path, content: str | bytes, name: str = "export.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(("name", "fmt", "kept", "rejected"), SAMPLES)
def test_sample_detected_and_sorted(name, fmt, kept, rejected):
    result = read(name)
    assert result.format == fmt
    assert [row.line for row in result.rows] == kept
    assert [reject.line for reject in result.rejects] == rejected


@pytest.mark.parametrize(("name", "fmt", "kept", "rejected"), SAMPLES)
def test_explicit_format_reads_like_auto(name, fmt, kept, rejected):
    assert read(name, fmt) == read(name)


@pytest.mark.parametrize(("name", "fmt", "kept", "rejected"), SAMPLES)
def test_metrics_are_json_serialisable(name, fmt, kept, rejected):
    for row in read(name).rows:
        assert json.loads(json.dumps(row.metrics)) == row.metrics


@pytest.mark.parametrize(
    ("name", "line", "source", "target", "anchor", "metrics"),
    [
        (
            "ahrefs-backlinks.csv",
            2,
            "https://blog.example.org/widgets",
            "https://acme.com/widgets",
            "Acme widgets",
            {
                "title": "Bücher über Widgets",
                "domain_rating": 45,
                "url_rating": 12.5,
                "page_traffic": 1234,
                "nofollow": False,
                "ugc": False,
                "sponsored": False,
                "first_seen": "2023-05-21",
                "last_seen": "2024-03-01",
            },
        ),
        (
            "ahrefs-backlinks.csv",
            3,
            "https://photos.example.net/gallery",
            "https://www.acme.com/pricing?ref=x",
            None,  # an image link: empty anchor
            {
                "title": "Gallery",
                "domain_rating": 30,
                "url_rating": 8,
                "page_traffic": 0,
                "nofollow": True,
                "ugc": True,
                "sponsored": False,
                "first_seen": "2023-05-21",
                "last_seen": "2024-03-01",
                "lost_status": "Link removed",
            },
        ),
        (
            # the title spans lines 6-7; "n/a" Domain rating is left out; "2.500" is 2500
            "ahrefs-backlinks.csv",
            6,
            "https://news.example.com/roundup",
            "https://acme.com/",
            "best widgets",
            {
                "title": "Sponsored\nround-up",
                "url_rating": 15,
                "page_traffic": 2500,
                "nofollow": False,
                "ugc": False,
                "sponsored": True,
                "first_seen": "2023-05-21",
                "last_seen": "2024-03-01",
            },
        ),
        (
            "semrush-backlinks.csv",
            3,
            "https://tips.example.org/tools",
            "https://acme.com/tools",
            "acme tools",
            {
                "title": "Tools; tips and tricks",
                "page_ascore": 12.5,
                "nofollow": True,
                "sponsored": False,
                "ugc": True,
                "first_seen": "2023-11-02",
                "last_seen": "2024-02-02",
                "lost_status": "lost",
            },
        ),
        (
            # an unquoted ';' inside the anchor: the surplus cell goes back to the anchor
            "semrush-backlinks.csv",
            4,
            "https://forum.example.com/t/42",
            "https://acme.com/pricing",
            "Acme; the widget people",
            {
                "title": "Forum thread",
                "page_ascore": 30,
                "nofollow": False,
                "sponsored": False,
                "ugc": False,
                "first_seen": "2024-02-20",
                "last_seen": "2024-03-03",
            },
        ),
        (
            # unescaped quotes inside a quoted anchor
            "majestic-backlinks.csv",
            3,
            "https://forum.example.org/t/1",
            "https://acme.com/widgets",
            'the "best" widgets',
            {
                "nofollow": True,
                "trust_flow": 12,
                "citation_flow": 18,
                "first_seen": "2023-12-01",
                "last_seen": "2024-02-20",
            },
        ),
        (
            # an extra comma in an unquoted anchor
            "majestic-backlinks.csv",
            4,
            "https://blog.example.net/p",
            "https://acme.com/pricing",
            "cheap, fast widgets",
            {
                "nofollow": False,
                "trust_flow": 22,
                "citation_flow": 30,
                "first_seen": "2024-01-10",
                "last_seen": "2024-03-01",
            },
        ),
        (
            # a quote that never closes, and must not swallow lines 6-8
            "majestic-backlinks.csv",
            5,
            "https://wiki.example.com/Widgets",
            "https://acme.com/",
            "Acme wiki",
            {
                "nofollow": False,
                "trust_flow": 50,
                "citation_flow": 45,
                "first_seen": "2022-06-01",
                "last_seen": "2024-03-01",
            },
        ),
        (
            "majestic-backlinks.csv",
            7,
            "https://old.example.com/links",
            "https://acme.com/",
            "Acme",
            {
                "nofollow": False,
                "trust_flow": 10,
                "citation_flow": 10,
                "first_seen": "2021-01-01",
                "last_seen": "2023-06-01",
                "lost_status": "Page removed",
            },
        ),
        (
            "moz-inbound-links.csv",
            2,
            "https://directory.example.com/acme",
            "https://acme.com/",
            "Acme",
            {
                "title": "Acme listing",
                "domain_authority": 35,
                "page_authority": 28,
                "spam_score": 1,
                "nofollow": False,
                "first_seen": "2023-09-10",
                "last_seen": "2024-02-11",
            },
        ),
        (
            "moz-inbound-links.csv",
            3,
            "https://social.example.net/post/9",
            "https://www.acme.com/",
            "acme.com",
            {
                "title": "Post, with comma",
                "domain_authority": 92,
                "page_authority": 60,
                "spam_score": 5,
                "nofollow": True,
                "first_seen": "2023-10-01",
                "last_seen": "2024-03-02",
            },
        ),
        (
            "generic-bom.csv",
            2,
            "https://partner.example.com/",
            "https://acme.com/",
            "Acme partner",
            {"campaign": "spring-2024", "cost": 12.5},
        ),
        (
            "generic-bom.csv",
            3,
            "https://press.example.org/news",
            "https://acme.com/press",
            None,
            {"campaign": "launch", "cost": 300},
        ),
        ("bad-rows.csv", 13, "https://example.org/ok", "https://ACME.com/ok", "fine", {}),
        ("bad-rows.csv", 14, "https://example.org/trim", "https://acme.com/", "trimmed", {}),
        ("urls.txt", 2, "https://example.org/a", None, None, {}),
        ("urls.txt", 4, "https://example.net/b", None, None, {}),
        ("urls.txt", 8, "https://quoted.example/", None, None, {}),
    ],
)
def test_row_values(name, line, source, target, anchor, metrics):
    assert row_at(name, line) == ImportRow(line, source, target, anchor, metrics)


@pytest.mark.parametrize(
    ("name", "line", "crawled"),
    [
        ("gsc-latest-links-en.csv", 2, "2024-03-05"),  # "Mar 5, 2024"
        ("gsc-latest-links-en.csv", 3, "2024-03-05"),  # "3/5/24"
        ("gsc-latest-links-en.csv", 4, "2024-03-05"),  # "2024-03-05"
        ("gsc-latest-links-en.csv", 7, None),  # "not a date": left out, the row is kept
        ("gsc-latest-links-de.csv", 2, "2024-03-05"),  # "05.03.2024"
        ("gsc-latest-links-de.csv", 3, "2024-03-05"),  # "5. März 2024" in windows-1252
        ("gsc-latest-links-de.csv", 4, "2024-03-06"),  # "06/03/2024": German, so day first
    ],
)
def test_gsc_last_crawled(name, line, crawled):
    row = row_at(name, line)
    assert (row.target_url, row.anchor, row.metrics.get("last_crawled")) == (None, None, crawled)


@pytest.mark.parametrize(
    ("name", "line", "reason"),
    [
        ("bad-rows.csv", 2, "no referring page URL"),
        ("bad-rows.csv", 3, "not an http(s) URL: 'ftp://files.example.com/x'"),
        ("bad-rows.csv", 4, "not an http(s) URL: 'javascript:void(0)'"),
        ("bad-rows.csv", 5, "not an http(s) URL: 'garbage'"),
        ("bad-rows.csv", 7, "internal link: the referring page is on acme.com"),
        ("bad-rows.csv", 8, "target not on acme.com: https://other.com/"),
        ("bad-rows.csv", 9, "target not on acme.com: https://acme.com.evil.net/"),
        ("bad-rows.csv", 10, "no target URL"),
        ("bad-rows.csv", 11, "unparseable URL: 'http://[::1/x'"),
        ("bad-rows.csv", 12, "target: not an http(s) URL: 'mailto:x@acme.com'"),
        ("ahrefs-backlinks.csv", 4, "internal link: the referring page is on acme.com"),
        ("ahrefs-backlinks.csv", 5, "target not on acme.com: https://acme.com.evil.net/"),
        (
            # a comma inside the topic column: the surplus does not fit in the anchor
            "majestic-backlinks.csv",
            6,
            "row has 18 cells but the header has 17, "
            "and the extra cells do not fit in 'Anchor Text'",
        ),
        ("gsc-latest-links-en.csv", 5, "internal link: the referring page is on acme.com"),
        ("urls.txt", 5, "not an http(s) URL: 'ftp://x.example/'"),
        ("urls.txt", 6, "internal link: the referring page is on acme.com"),
        ("urls.txt", 7, "not an http(s) URL: 'not a url'"),
    ],
)
def test_bad_row_rejected(name, line, reason):
    assert Reject(line, reason) in read(name).rejects


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        (
            "ahrefs-top-pages.csv",
            "auto",
            'ahrefs-top-pages.csv: this looks like an Ahrefs "Top pages" report, not a backlink'
            " export (no referring page column; headers: URL, Status code, Traffic,",
        ),
        (
            "ahrefs-referring-domains.csv",
            "auto",
            'this looks like an Ahrefs "Referring domains" export, not a backlink export',
        ),
        ("", "auto", "export.csv: the file is empty, not a backlink export"),
        ("\n\n  \n", "auto", "the file is empty"),
        (
            "Keyword,Position,Volume,URL\nwidgets,1,900,https://acme.com/\n",
            "auto",
            "this looks like an organic keywords report",
        ),
        (
            "Site,Linking pages,Target pages\nexample.org,12,3\n",
            "auto",
            'a Search Console "Top linking sites" report',
        ),
        (
            "Source url;Page ascore\nhttps://example.org/;12\n",
            "auto",
            "looks like a Semrush backlinks export but lacks the required column(s) 'Target url'",
        ),
        ("name,email\nAnn,ann@example.org\n", "auto", "not a backlink export we recognise"),
        (b"PK\x03\x04\x14\x00\x06\x00", "auto", "this is an Excel workbook"),
        (
            "semrush-backlinks.csv",
            "ahrefs",
            "not an Ahrefs backlinks export: missing required column(s) 'Referring page URL' "
            "(headers: Page ascore, Source title, Source url,",
        ),
        (
            "gsc-latest-links-en.csv",
            "csv",
            "missing required column(s) 'source_url', 'target_url' "
            "(headers: Linking page, Last crawled)",
        ),
        ("moz-inbound-links.csv", "majestic", "missing required column(s) 'Source URL'"),
        ("ahrefs-backlinks.csv", "urls", "not a URL list (one URL per line)"),
    ],
)
def test_file_refused(tmp_path, content, fmt, message):
    fixture = isinstance(content, str) and (FIXTURES / content).is_file()
    path = FIXTURES / content if fixture else write(tmp_path, content)
    with pytest.raises(ImportRefused) as refused:
        read_export(path, SITE, fmt)
    assert message in str(refused.value)
    assert str(refused.value).startswith(str(path))


def test_unknown_format_is_a_value_error():
    with pytest.raises(ValueError, match="unknown import format 'xlsx'"):
        read_export(FIXTURES / "urls.txt", SITE, "xlsx")
    assert FORMATS[0] == "auto"


def test_ahrefs_sample_is_written_like_ahrefs():
    raw = (FIXTURES / "ahrefs-backlinks.csv").read_bytes()
    assert raw.startswith(codecs.BOM_UTF16_LE)
    assert raw[2:].decode("utf-16-le").startswith('"Referring page title"\t"Referring page URL"')


GENERIC_TEXT = (
    "source_url,target_url,anchor\n"
    "https://blog.example.org/a,https://acme.com/,Bücher café\n"
    "\n"
    "https://blog.example.org/b,https://acme.com/x,\n"
)


@pytest.mark.parametrize(
    "encoded",
    [
        GENERIC_TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + GENERIC_TEXT.encode("utf-8"),
        codecs.BOM_UTF16_LE + GENERIC_TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + GENERIC_TEXT.encode("utf-16-be"),
        GENERIC_TEXT.encode("utf-16-le"),  # no BOM at all
        GENERIC_TEXT.encode("windows-1252"),
        GENERIC_TEXT.replace("\n", "\r\n").encode("utf-8"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "utf-16-le", "cp1252", "crlf"],
)
def test_encodings(tmp_path, encoded):
    result = read_export(write(tmp_path, encoded), SITE)
    assert [(row.line, row.anchor) for row in result.rows] == [(2, "Bücher café"), (4, None)]
    assert result.rejects == []


@pytest.mark.parametrize("delimiter", ["\t", ";", ","])
def test_delimiters(tmp_path, delimiter):
    lines = [
        ["Source url", "Target url", "Anchor", "Page ascore"],
        ["https://a.example/", "https://acme.com/", "Acme, Inc.", "7"],
    ]
    text = "\n".join(delimiter.join(f'"{cell}"' for cell in line) for line in lines)
    result = read_export(write(tmp_path, text + "\n"), SITE)
    assert result.format == "semrush"
    assert result.rows[0].anchor == "Acme, Inc."
    assert result.rows[0].metrics == {"page_ascore": 7}


@pytest.mark.parametrize(
    ("source", "crawled", "value", "expected"),
    [
        ("Linking page", "Last crawled", "3/5/2024", "2024-03-05"),
        ("Verweisende Seite", "Zuletzt gecrawlt", "05.03.2024", "2024-03-05"),
        ("Page d'origine du lien", "Dernière exploration", "05/03/2024", "2024-03-05"),
        ("Página que enlaza", "Último rastreo", "5/3/2024", "2024-03-05"),
        ("Pagina che rimanda", "Ultima scansione", "05/03/2024", "2024-03-05"),
        ("Página de origem do link", "Último rastreamento", "05/03/2024", "2024-03-05"),
        ("Linkende pagina", "Laatst gecrawld", "05-03-2024", "2024-03-05"),
    ],
)
def test_gsc_localised_headers(tmp_path, source, crawled, value, expected):
    text = f"{source},{crawled}\nhttps://example.org/page,{value}\n"
    result = read_export(write(tmp_path, text), SITE)
    assert result.format == "gsc"
    assert result.rows == [
        ImportRow(2, "https://example.org/page", None, None, {"last_crawled": expected})
    ]


def test_a_stray_nul_spoils_its_row_not_the_file(tmp_path: Path) -> None:
    text = (
        b"source_url,target_url,anchor\nhttps://a.example/1,https://acme.com/,one\n"
        b"https://a.exa\x00mple/2,https://acme.com/,two\nhttps://a.example/3,https://acme.com/,three\n"
    )
    result = read_export(write(tmp_path, text), SITE)
    assert [(row.line, row.anchor) for row in result.rows] == [(2, "one"), (4, "three")]
    assert [(reject.line, reject.reason) for reject in result.rejects] == [
        (3, "unparseable URL: 'https://a.exa\\x00mple/2'")
    ]


def test_many_nuls_are_binary(tmp_path: Path) -> None:
    text = b"source_url,target_url\n" + b"https://a.example/\x00,https://acme.com/\n" * 5
    with pytest.raises(ImportRefused, match="not a text file"):
        read_export(write(tmp_path, text), SITE)


@pytest.mark.parametrize(
    ("text", "kept", "rejected"),
    [
        pytest.param(
            'source_url,target_url,anchor\nhttps://a.example/,https://acme.com/,"Line one\n'
            'line two"\nhttps://b.example/,https://acme.com/,b\n',
            [(2, "Line one\nline two"), (4, "b")],
            [],
            id="quoted-newline-is-one-record",
        ),
        pytest.param(
            'source_url,target_url,anchor\nhttps://a.example/,https://acme.com/,"never closed\n'
            "https://b.example/,https://acme.com/,b\nhttps://c.example/,https://acme.com/,c\n",
            [(2, "never closed"), (3, "b"), (4, "c")],
            [],
            id="open-quote-does-not-swallow-rows",
        ),
        pytest.param(
            "source_url,target_url,anchor,note\nhttps://a.example/,https://acme.com/\n"
            "https://b.example/,https://acme.com/,b,x,\n",
            [(2, None), (3, "b")],
            [],
            id="short-row-and-trailing-delimiter",
        ),
        pytest.param(
            "source_url,target_url\n,,\n;\nhttps://a.example/,https://acme.com/\n",
            [(4, None)],
            [(3, "not an http(s) URL: ';'")],
            id="a-line-of-delimiters-is-empty",
        ),
        pytest.param(
            "source_url,target_url\nhttps://a.example/,https://acme.com/,extra\n",
            [],
            [
                (
                    2,
                    "row has 3 cells but the header has 2, and there is no anchor column to hold "
                    "the extra ones",
                )
            ],
            id="surplus-without-anchor",
        ),
        pytest.param(
            'source_url,target_url,anchor\n"oops "quoted" text,https://acme.com/,x\n'
            '"https://b.example/,https://acme.com/,a "b" c\n',
            [(3, 'a "b" c')],
            [(2, "malformed CSV row (broken quoting): cannot tell which cell is which")],
            id="broken-rows-aligned-or-rejected",
        ),
    ],
)
def test_lenient_csv(tmp_path, text, kept, rejected):
    result = read_export(write(tmp_path, text), SITE)
    assert [(row.line, row.anchor) for row in result.rows] == kept
    assert [(reject.line, reject.reason) for reject in result.rejects] == rejected


def test_generic_csv_types_our_own_metric_names(tmp_path):
    text = (
        "source_url,target_url,nofollow,first_seen,domain_rating,note\n"
        'https://a.example/,https://acme.com/,yes,5 Mar 2024,"1,234",hi\n'
    )
    (row,) = read_export(write(tmp_path, text), SITE).rows
    assert row.metrics == {
        "nofollow": True,
        "first_seen": "2024-03-05",
        "domain_rating": 1234,
        "note": "hi",
    }


def test_lone_linking_page_header_is_search_console(tmp_path):
    result = read_export(write(tmp_path, "Linking page\nhttps://a.example/x\n"), SITE)
    assert result.format == "gsc"
    assert result.rows == [ImportRow(2, "https://a.example/x", None, None, {})]


def test_refusal_pickles_with_its_message():
    refused = ImportRefused("links.csv", "the file is empty, not a backlink export")
    again = pickle.loads(pickle.dumps(refused))
    assert (str(again), again.path) == (str(refused), "links.csv")


def test_importers_stay_free_of_the_crawler_stack():
    code = (
        "import sys, verifier.importers; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'scrapy', 'twisted', 'click'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_url_list_without_header(tmp_path):
    text = "https://a.example/x\nhttps://b.example/y\n"
    result = read_export(write(tmp_path, text, "links.txt"), SITE)
    assert (result.format, [row.line for row in result.rows]) == ("urls", [1, 2])


@pytest.mark.parametrize("site", ["acme.com", "www.acme.com", "https://ACME.com/about"])
def test_site_is_normalised(site):
    assert read_export(FIXTURES / "bad-rows.csv", site) == read("bad-rows.csv")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,234", 1234),
        ("1.234", 1234),
        ("1.234.567", 1234567),
        ("12,5", 12.5),
        ("45.5", 45.5),
        ("1.234,56", 1234.56),
        ("1,234.56", 1234.56),
        ("1 234", 1234),
        ("0.125", 0.125),
        ("7%", 7),
        ("-3", -3),
        ("", None),
        ("n/a", None),
        ("12abc", None),
    ],
)
def test_parse_number(value, expected):
    assert parse_number(value) == expected


@pytest.mark.parametrize(
    ("value", "day_first", "expected"),
    [
        ("2024-03-05", False, "2024-03-05"),
        ("2024-03-05T10:11:12Z", False, "2024-03-05"),
        ("2024-03-05 08:10:12 UTC", False, "2024-03-05"),
        ("3/5/24", False, "2024-03-05"),
        ("3/5/24", True, "2024-05-03"),
        ("25/3/2024", False, "2024-03-25"),
        ("05.03.2024", False, "2024-03-05"),
        ("5 Mar 2024", False, "2024-03-05"),
        ("Mar 5, 2024", False, "2024-03-05"),
        ("March 5, 2024", False, "2024-03-05"),
        ("5 de mar. de 2024", True, "2024-03-05"),
        ("5 juil. 2024", True, "2024-07-05"),
        ("20240305", False, "2024-03-05"),
        ("1709596800", False, "2024-03-05"),
        ("2024-02-30", False, None),
        ("yesterday", False, None),
        ("", False, None),
    ],
)
def test_parse_date(value, day_first, expected):
    assert parse_date(value, day_first) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("TRUE", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("+", True),
        ("-", False),
        ("yes", True),
        ("", None),
        ("sometimes", None),
    ],
)
def test_parse_bool(value, expected):
    assert parse_bool(value) is expected


# --- a page of the site itself is never a backlink of the site (issue 14) ----------


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("https://acme.com/blog/post", "internal link: the referring page is on acme.com"),
        ("https://blog.acme.com/post", "internal link: the referring page is on acme.com"),
        ("http://WWW.ACME.COM./x", "internal link: the referring page is on acme.com"),
        ("https://a.b.acme.com:8443/x", "internal link: the referring page is on acme.com"),
        # Near misses: other owners.
        ("https://acme.com.evil.net/x", None),
        ("https://notacme.com/x", None),
        ("https://acme.community/x", None),
    ],
)
def test_the_sites_own_pages_are_refused_at_import(source: str, problem: str | None) -> None:
    from verifier.importers.rows import check_urls

    assert check_urls(source, "https://acme.com/pricing", True, "acme.com") == problem


def test_an_idn_sites_own_page_is_refused_in_either_spelling() -> None:
    from verifier.importers.rows import check_urls

    site = "xn--fa-hia.example"  # faß.example, as `init` stores it
    refused = f"internal link: the referring page is on {site}"
    assert check_urls("https://blog.faß.example/x", None, False, site) == refused
    assert check_urls("https://blog.xn--fa-hia.example/x", None, False, site) == refused
    assert check_urls("https://blog.fass.example/x", None, False, site) is None  # another host


# --- URLs as browsers read them (issue 14): encoded and kept, not rejected ---------


@pytest.mark.parametrize(
    ("url", "problem", "stored"),
    [
        ("http://b.test/with space", None, "http://b.test/with%20space"),
        ("https://b.test/ü/ß?q=日本", None, "https://b.test/%C3%BC/%C3%9F?q=%E6%97%A5%E6%9C%AC"),
        ("https://b.test/a|b^c", None, "https://b.test/a|b%5Ec"),
        ('https://b.test/"q"<x>`{}', None, "https://b.test/%22q%22%3Cx%3E%60%7B%7D"),
        ("https://b.test/tab\there", None, "https://b.test/tabhere"),
        ("http://Faß.example/a b", None, "http://faß.example/a%20b"),  # the host as written
        ("https://ACME-blog.test/ok", None, "https://ACME-blog.test/ok"),  # nothing to encode
        # Slashes after the scheme as a browser reads them: the host is found all the same.
        ("http:\\\\b.test\\bs", None, "http://b.test/bs"),
        ("https:b.test/noslash", None, "https://b.test/noslash"),
        ("HTTP:/b.test/x", None, "http://b.test/x"),
        # Still refused, each with its reason.
        ("http://b.test:65536/x", "port out of range (0-65535): 'http://b.test:65536/x'", None),
        ("http://b.test:8o/x", "unparseable URL: 'http://b.test:8o/x'", None),
        ("http://b te.st/x", "unparseable URL: 'http://b te.st/x'", None),
        ("http://[::1/x", "unparseable URL: 'http://[::1/x'", None),
        ("http:///x", "unparseable URL: 'http:///x'", None),
        ("ftp://b.test/with space", "not an http(s) URL: 'ftp://b.test/with space'", None),
        ("javascript:alert(1)", "not an http(s) URL: 'javascript:alert(1)'", None),
        # Near miss: two cells run together are not one address with a space.
        (
            "https://b.test/a https://c.test/b",
            "two URLs in one cell: 'https://b.test/a https://c.test/b'",
            None,
        ),
    ],
)
def test_import_urls_as_browsers_read_them(url: str, problem: str | None, stored: str) -> None:
    from verifier.importers.rows import url_row

    row = url_row(7, url, SITE)
    if problem is None:
        assert row == ImportRow(7, stored, None, None, {})
    else:
        assert row == Reject(7, problem)


def test_an_export_row_with_spaces_is_kept_encoded(tmp_path: Path) -> None:
    path = tmp_path / "links.csv"
    path.write_text(
        "source_url,target_url,anchor\n"
        "http://b.test/with space,https://acme.com/a page,Acme\n"
        "https://%61cme.com/own,https://acme.com/,self\n",  # the site's own page, escaped
        encoding="utf-8",
    )
    result = read_export(path, SITE)
    assert [(r.source_url, r.target_url) for r in result.rows] == [
        ("http://b.test/with%20space", "https://acme.com/a%20page")
    ]
    assert result.rejects == [Reject(3, "internal link: the referring page is on acme.com")]
