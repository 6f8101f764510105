"""End to end: URLs and encodings as a browser reads them (issue 14, §2), on the virtual web."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FAST, report, run_cli

pytestmark = pytest.mark.e2e

TARGET = "https://acme.com/pricing"


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head><title>t</title>{head}</head><body>{body}</body></html>"


def link(href: str, text: str = "Blue Widgets") -> str:
    return page(f'<p>See <a href="{href}">{text}</a>.</p>')


ROUTES: dict[str, dict] = {
    # Imported URLs that need encoding: fetched encoded, as browsers send them.
    "space.blog.com/with%20space": {"body": link(TARGET)},
    "space.blog.com/%C3%BCber": {"body": link(TARGET)},
    "space.blog.com/a%7Cb%5Ec": {"body": link(TARGET)},  # Scrapy also encodes the |
    # Hrefs as the WHATWG URL standard reads them.
    "links.blog.com/no-slashes": {"body": link("https:acme.com/pricing")},
    "links.blog.com/backslashes": {"body": link("https:\\\\acme.com\\pricing")},
    "links.blog.com/noise": {"body": link("ht\ttps://acme.\ncom/pri\rcing")},
    # Near miss: a browser goes to evil.test, not to acme.com.
    "links.blog.com/userinfo": {"body": link("https://evil.test\\@acme.com/pricing")},
}

# Pages served as plain `text/html` (no charset, no BOM, no <meta>) in a legacy encoding.
TEXTS = {
    "shift_jis": ("アクメの製品", "日本語のページです。製品の説明とお問い合わせはこちらです。"),
    "gbk": ("阿克米的产品", "这是一个中文页面。请在这里查看产品说明和联系方式。"),
    "euc_kr": ("애크미 제품", "한국어 페이지입니다. 제품 설명과 문의는 여기를 보십시오."),
    "cp1252": ("Les élèves à l’école", "Une page en français : déjà vu, très œcuménique."),
}
for codec, (anchor, text) in TEXTS.items():
    ROUTES[f"cjk.blog.com/{codec}"] = {
        "body": page(f"<p>{text}</p><p>See <a href='{TARGET}'>{anchor}</a>.</p><p>{text}</p>"),
        "encoding": codec,
    }
# Near miss: a declared charset wins over the detector.
ROUTES["cjk.blog.com/declared"] = {
    **ROUTES["cjk.blog.com/euc_kr"],
    "content_type": "text/html; charset=EUC-KR",
}
ANCHORS = {f"http://cjk.blog.com/{codec}": anchor for codec, (anchor, _) in TEXTS.items()}
ANCHORS["http://cjk.blog.com/declared"] = TEXTS["euc_kr"][0]

IMPORTED = {
    # as written in the export: as stored and reported
    "http://space.blog.com/with space": "http://space.blog.com/with%20space",
    "http://space.blog.com/über": "http://space.blog.com/%C3%BCber",
    "http://space.blog.com/a|b^c": "http://space.blog.com/a|b%5Ec",
    "http://links.blog.com/no-slashes": "http://links.blog.com/no-slashes",
    "http://links.blog.com/backslashes": "http://links.blog.com/backslashes",
    "http://links.blog.com/noise": "http://links.blog.com/noise",
    "http://links.blog.com/userinfo": "http://links.blog.com/userinfo",
    **{source: source for source in ANCHORS},
}

EXPECTED = {
    "http://space.blog.com/with%20space": ("live", None),
    "http://space.blog.com/%C3%BCber": ("live", None),
    "http://space.blog.com/a|b%5Ec": ("live", None),
    "http://links.blog.com/no-slashes": ("live", None),
    "http://links.blog.com/backslashes": ("live", None),
    "http://links.blog.com/noise": ("live", None),
    "http://links.blog.com/userinfo": ("lost", "link_removed"),
    **{source: ("live", None) for source in ANCHORS},
}

REFUSED = {
    "http://space.blog.com:99999/x": "port out of range (0-65535)",
    "gopher://space.blog.com/x": "not an http(s) URL",
    "http://spa ce.blog.com/x": "unparseable URL",
}


def test_urls_and_encodings_as_a_browser_reads_them(web, init_db, tmp_path: Path) -> None:
    server = web(routes=ROUTES)
    db = init_db(tmp_path / "browser2.db", "--site", "acme.com")
    links = tmp_path / "links.csv"
    rows = "".join(f'"{source}",{TARGET}\n' for source in [*IMPORTED, *REFUSED])
    links.write_text("source_url,target_url\n" + rows, encoding="utf-8")
    imported = run_cli(["import", str(links), "--db", db])
    assert imported.returncode == 0, imported.stderr
    for line, (url, reason) in enumerate(REFUSED.items(), start=len(IMPORTED) + 2):
        assert f"{links}:{line}: {reason}: {url!r}" in imported.stderr
    done = run_cli(["verify", *FAST, "--db", db], server)
    assert done.returncode == 0, done.stderr

    got = {r["source_url"]: r for r in report(Path(db))}
    assert set(got) == set(IMPORTED.values()) == set(EXPECTED)  # stored encoded
    for source, (status, reason) in EXPECTED.items():
        row = got[source]
        assert (row["status"], row["reason"]) == (status, reason), (source, row.get("detail"))
    assert server.hits("space.blog.com", "/with%20space") == 1
    assert server.hits("space.blog.com", "/%C3%BCber") == 1
    # Undeclared legacy encodings read as Firefox guesses them: no mojibake anchors.
    assert {source: got[source]["anchor"] for source in ANCHORS} == ANCHORS
