"""The loopback "virtual web" used by the end-to-end tests, the demo and the benchmark."""

from __future__ import annotations

import gzip
import http.client
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

from crawler.virtualweb import VirtualWeb, filler

ROUTES = {
    "blog.test/gone": {"status": 410, "body": "<p>gone</p>"},
    "blog.test/old": {"status": 301, "location": "http://blog.test/post"},
    "blog.test/tagged": {
        "file": "post.html",
        "headers": {"X-Robots-Tag": ["noarchive", "nofollow"], "X-Extra": "1"},
    },
    "blog.test/search?q=widgets": {"body": "exact query"},
    "blog.test/search": {"body": "any query"},
    "blog.test/feed": {"body": "<rss/>", "content_type": "application/rss+xml"},
    "blog.test/slow": {"delay": 0.3, "body": "late"},
    "blog.test/drop": {"drop": True},
    "blog.test/big": {"size": 2_000_000, "chunked": True},
    "blog.test/sized": {"size": 100_000},
    "blog.test/zipped": {"body": "<p>compressed</p>", "gzip": True},
    "blog.test/bomb": {"size": 3_000_000, "gzip": True},
    "blog.test/sjis": {"body": "<p>日本語のページ</p>", "encoding": "shift_jis"},
    "blog.test/overridden": {"body": "from the dict"},
    "virtual-only.test/": {"body": "no folder behind this host"},
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web")
    files = {
        "blog.test/index.html": "<h1>home</h1>",
        "blog.test/post.html": "<h1>post</h1>",
        "blog.test/docs/index.html": "<h1>docs</h1>",
        "blog.test/robots.txt": "User-agent: *\nDisallow: /private/\n",
        "blog.test/paper.pdf": "%PDF-1.4\n",
        "blog.test/notes": "an extension-less file",
        "secret.txt": "outside every host folder",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    routes = {"blog.test/overridden": {"body": "from the file"}, "blog.test/json": {"body": "j"}}
    (root / "_routes.json").write_text(json.dumps(routes), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def web(root: Path) -> Iterator[VirtualWeb]:
    with VirtualWeb(root, routes=ROUTES) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_proxy_bypass(monkeypatch: pytest.MonkeyPatch) -> None:
    # urllib skips the proxy for hosts listed in no_proxy; the test must not depend on it.
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def fetch(
    server: VirtualWeb | str,
    url: str,
    *,
    direct: bool = False,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 2,
) -> tuple[int, Message, bytes]:
    """GET through the proxy (or directly with a Host header); errors are answers too."""
    proxy_url = server if isinstance(server, str) else server.proxy_url
    headers = dict(headers or {})
    if direct:
        parts = urllib.parse.urlsplit(url)
        headers["Host"] = parts.netloc
        url = f"{proxy_url}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
    proxy = urllib.request.ProxyHandler({} if direct else {"http": proxy_url})
    opener = urllib.request.build_opener(proxy, _NoRedirect)
    request = urllib.request.Request(url, headers=headers, method=method)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/", b"<h1>home</h1>", "text/html"),
        ("/post", b"<h1>post</h1>", "text/html"),
        ("/post.html?utm_source=x", b"<h1>post</h1>", "text/html"),
        ("/docs", b"<h1>docs</h1>", "text/html"),
        ("/docs/", b"<h1>docs</h1>", "text/html"),
        ("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain"),
        ("/paper.pdf", b"%PDF-1.4\n", "application/pdf"),
    ],
)
@pytest.mark.parametrize("direct", [False, True])
def test_files_map_to_paths(
    web: VirtualWeb, path: str, body: bytes, content_type: str, direct: bool
) -> None:
    status, headers, got = fetch(web, web.url("blog.test", path), direct=direct)
    assert (status, got) == (200, body)
    assert headers["Content-Type"] == content_type  # no charset parameter, ever
    assert headers["Content-Length"] == str(len(body))


@pytest.mark.parametrize(
    "url",
    [
        "http://blog.test/missing",
        "http://unknown.test/",
        "http://_routes.json/",
        "http://blog.test/../secret.txt",
    ],
)
def test_unknown_host_or_missing_file_is_404(web: VirtualWeb, url: str) -> None:
    status, headers, body = fetch(web, url)
    assert status == 404
    assert headers["Content-Type"] == "text/html"
    assert b"Not Found" in body


def test_path_traversal_is_refused(web: VirtualWeb) -> None:
    assert web.find_file("blog.test", "/../secret.txt") is None
    assert web.find_file("blog.test", "/notes") is not None


def test_routes_status_location_and_headers(web: VirtualWeb) -> None:
    assert fetch(web, "http://blog.test/gone")[::2] == (410, b"<p>gone</p>")
    status, headers, _ = fetch(web, "http://blog.test/old")
    assert (status, headers["Location"]) == (301, "http://blog.test/post")
    status, headers, body = fetch(web, "http://blog.test/tagged")
    assert (status, body) == (200, b"<h1>post</h1>")
    assert headers.get_all("X-Robots-Tag") == ["noarchive", "nofollow"]
    assert headers["X-Extra"] == "1"
    assert fetch(web, "http://blog.test/feed")[1]["Content-Type"] == "application/rss+xml"
    assert fetch(web, "http://virtual-only.test/")[2] == b"no folder behind this host"


def test_routes_match_exact_query_first(web: VirtualWeb) -> None:
    assert fetch(web, "http://blog.test/search?q=widgets")[2] == b"exact query"
    assert fetch(web, "http://blog.test/search?q=other")[2] == b"any query"


def test_routes_dict_wins_over_routes_file(web: VirtualWeb) -> None:
    assert fetch(web, "http://blog.test/overridden")[2] == b"from the dict"
    assert fetch(web, "http://blog.test/json")[2] == b"j"


def test_delay_times_the_client_out(web: VirtualWeb) -> None:
    with pytest.raises(OSError, match="timed out"):
        fetch(web, "http://blog.test/slow", timeout=0.1)
    assert fetch(web, "http://blog.test/post")[0] == 200  # threaded: not blocked meanwhile


def test_peak_in_flight_counts_requests_answered_at_once(root: Path) -> None:
    with VirtualWeb(root, {"blog.test/slow": {"delay": 1.0, "body": "late"}}) as web:
        fetch(web, "http://blog.test/post")
        assert web.peak_in_flight == {"blog.test": 1}
        threads = [
            threading.Thread(target=fetch, args=(web, "http://blog.test/slow")) for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        fetch(web, "http://other.test/post")  # another host: counted apart
        for thread in threads:
            thread.join()
        assert web.peak_in_flight == {"blog.test": 2, "other.test": 1}
        assert web.in_flight == {"blog.test": 0, "other.test": 0}


def test_drop_closes_without_a_response(web: VirtualWeb) -> None:
    with pytest.raises(OSError):
        fetch(web, "http://blog.test/drop")


def test_size_chunked_streams_exact_byte_count(web: VirtualWeb) -> None:
    status, headers, body = fetch(web, "http://blog.test/big")
    assert status == 200
    assert headers["Transfer-Encoding"] == "chunked"
    assert headers["Content-Length"] is None
    assert len(body) == 2_000_000
    assert body.startswith(b"<!DOCTYPE html>")
    _, headers, body = fetch(web, "http://blog.test/sized")
    assert (headers["Content-Length"], len(body)) == ("100000", 100_000)


def test_filler_is_lazy() -> None:
    chunks = filler(400_000_000)
    assert max(len(next(chunks)) for _ in range(3)) <= 64 * 1024


def test_gzip_only_when_asked_for(web: VirtualWeb) -> None:
    accept = {"Accept-Encoding": "gzip, deflate"}
    _, headers, body = fetch(web, "http://blog.test/zipped", headers=accept)
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == b"<p>compressed</p>"
    _, headers, body = fetch(web, "http://blog.test/zipped")
    assert (headers["Content-Encoding"], body) == (None, b"<p>compressed</p>")
    _, headers, body = fetch(web, "http://blog.test/bomb", headers=accept)
    assert headers["Transfer-Encoding"] == "chunked"
    assert len(body) < 100_000
    assert len(gzip.decompress(body)) == 3_000_000


def test_encoding_encodes_body_with_codec(web: VirtualWeb) -> None:
    _, headers, body = fetch(web, "http://blog.test/sjis")
    assert body == "<p>日本語のページ</p>".encode("shift_jis")
    assert headers["Content-Type"] == "text/html"


def test_head_sends_headers_only(web: VirtualWeb) -> None:
    status, headers, body = fetch(web, "http://blog.test/post", method="HEAD")
    assert (status, headers["Content-Length"], body) == (200, "13", b"")


def test_connect_is_a_bad_gateway(web: VirtualWeb) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=2)
    try:
        connection.request("CONNECT", "secure.test:443")
        assert connection.getresponse().status == 502
    finally:
        connection.close()


def test_hits_and_requests_count_every_arrival(root: Path) -> None:
    with VirtualWeb(root) as web:
        fetch(web, "http://blog.test/post")
        fetch(web, "http://Blog.Test/post?page=2", direct=True)
        fetch(web, "http://other.test/post", method="HEAD")
        assert web.hits() == 3
        assert web.hits("blog.test") == 2
        assert web.hits("blog.test", "/post") == 2
        assert web.hits("blog.test", "/post?page=2") == 1
        assert web.hits(path="/post") == 3
        assert web.requests == [
            ("GET", "blog.test", "/post"),
            ("GET", "blog.test", "/post?page=2"),
            ("HEAD", "other.test", "/post"),
        ]
    assert web.url("blog.test", "post") == "http://blog.test/post"


def test_command_line_prints_address_first(root: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.virtualweb", str(root)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert process.stdout is not None
        address = process.stdout.readline().strip()
        assert address.startswith("http://127.0.0.1:")
        assert fetch(address, "http://blog.test/post")[2] == b"<h1>post</h1>"
    finally:
        process.terminate()
        process.wait(timeout=5)
