"""A "virtual web": one loopback HTTP server that answers for many host names.

Content lives in ``ROOT/<host>/<path>``; ``ROOT/_routes.json`` (or a ``routes``
dict) adds status codes, headers, redirects, delays, dropped connections, huge
or gzipped bodies, and a broken TLS handshake for https (`{"tls": "broken"}` on a
host's `/`). Crawlers reach it as a forward proxy (``http_proxy``), so
requests arrive as ``GET http://host/path``; origin-form requests with a
``Host`` header work too. Nothing is ever forwarded: every answer is local.

Run ``python -m crawler.virtualweb ROOT [--port N]``; the first stdout line is
the server URL (the shape of Scrapy's test mockserver).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import mimetypes
import os
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from typing import Any
from urllib.parse import unquote, urlsplit

Headers = list[tuple[str, str]]

CHUNK_SIZE = 64 * 1024
# Not "text/html; charset=...": encoding tests need pages whose charset is undeclared.
CONTENT_TYPES = {".html": "text/html", ".htm": "text/html", ".pdf": "application/pdf"}
FILLER_HEAD = b"<!DOCTYPE html><html><head><title>Large page</title></head><body>\n"
_LINE = b"<p>Filler paragraph: widgets, gadgets and sprockets, again and again.</p>\n"
FILLER_BLOCK = (_LINE * (CHUNK_SIZE // len(_LINE) + 1))[:CHUNK_SIZE]
NOT_FOUND = (
    b"<!DOCTYPE html><html><head><title>Not Found</title></head><body>Not Found</body></html>"
)


def content_type_for(name: str) -> str:
    """The Content-Type for a file or URL path (extension-less paths are pages)."""
    last = name.rsplit("/", 1)[-1]
    if "." not in last:
        return "text/html"
    if last.lower().endswith(".gz"):
        return "application/gzip"  # a gzip file (sitemap.xml.gz), not gzip-encoded XML
    suffix = "." + last.rsplit(".", 1)[-1].lower()
    guessed = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(last)[0]
    return guessed or "application/octet-stream"


def filler(size: int, head: bytes = FILLER_HEAD) -> Iterator[bytes]:
    """Exactly `size` bytes of HTML in chunks, never all in memory."""
    first = head[:size]
    yield first
    remaining = size - len(first)
    while remaining > 0:
        chunk = FILLER_BLOCK[:remaining]
        yield chunk
        remaining -= len(chunk)


def gzip_stream(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Gzip a chunk stream incrementally (wbits=31 writes the gzip header)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    for chunk in chunks:
        yield compressor.compress(chunk)
    yield compressor.flush()


def _route_key(key: str) -> str:
    """`Host.Example/p?q` -> `host.example/p?q`; a bare host means its `/`."""
    host, _, rest = key.strip().partition("/")
    return f"{host.lower().rstrip('.')}/{rest}"


class VirtualWeb:
    """Serve `root` (one folder per host) and `routes` on 127.0.0.1."""

    def __init__(
        self, root: Path | None = None, routes: dict[str, dict] | None = None, port: int = 0
    ) -> None:
        self.root = Path(root).resolve() if root is not None else None
        if self.root is not None and not self.root.is_dir():
            raise NotADirectoryError(f"virtual web root {self.root} is not a directory")
        merged: dict[str, dict] = {}
        if self.root is not None and (self.root / "_routes.json").is_file():
            merged.update(json.loads((self.root / "_routes.json").read_text("utf-8")))
        merged.update(routes or {})
        self.routes = {_route_key(key): rule for key, rule in merged.items()}
        self.requests: list[tuple[str, str, str]] = []
        #: (host, path, User-Agent) of each GET/HEAD (for tests of who asked).
        self.user_agents: list[tuple[str, str, str]] = []
        #: (host, path, Referer or "") of each request.
        self.referers: list[tuple[str, str, str]] = []
        #: Requests per host arrived and not answered yet, and the most ever at once (for
        #: politeness tests; a `delay` rule widens the window).
        self.in_flight: dict[str, int] = {}
        self.peak_in_flight: dict[str, int] = {}
        #: (time.monotonic(), host, path) of each request's arrival (for delay tests).
        self.arrivals: list[tuple[float, str, str]] = []
        self._port = port
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def update(self, routes: dict[str, dict]) -> None:
        """Add or replace routes while serving (a page that changes between runs)."""
        self.routes.update({_route_key(key): rule for key, rule in routes.items()})

    def start(self) -> VirtualWeb:
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self._port), _Handler)
        self._server.web = self
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers sleeping on a `delay` rule
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> VirtualWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}/{path.lstrip('/')}"

    def hits(self, host: str | None = None, path: str | None = None) -> int:
        """Requests received so far; `path` matches with or without the query."""
        with self._lock:
            seen = list(self.requests)
        host = host.lower() if host else None
        return sum(host in (None, h) and path in (None, p, p.partition("?")[0]) for _, h, p in seen)

    def agents(self, host: str, path: str) -> list[str]:
        """The User-Agent of every request received for `host` `path` (query ignored)."""
        with self._lock:
            seen = list(self.user_agents)
        return [ua for h, p, ua in seen if h == host.lower() and p == path]

    def referers_of(self, host: str, path: str) -> list[str]:
        """The Referer ("" when none) of every request received for `host` `path`."""
        with self._lock:
            seen = list(self.referers)
        return [ref for h, p, ref in seen if h == host.lower() and p == path]

    def rule_for(self, host: str, path: str, query: str) -> dict[str, Any] | None:
        if query and (rule := self.routes.get(f"{host}{path}?{query}")) is not None:
            return rule
        return self.routes.get(f"{host}{path}")

    def host_dir(self, host: str) -> Path | None:
        # Folders starting with "_" or "." are not hosts (e.g. _routes.json's neighbours).
        if self.root is None or not host or host[0] in "._" or "/" in host or "\\" in host:
            return None
        folder = self.root / host
        return folder if folder.is_dir() else None

    def find_file(self, host: str, path: str) -> Path | None:
        """Map `/a/b` to `a/b`, `a/b.html` or `a/b/index.html` under the host folder."""
        folder = self.host_dir(host)
        if folder is None:
            return None
        rel = unquote(path).lstrip("/")
        as_dir = not rel or rel.endswith("/")
        for candidate in (
            [rel + "index.html"] if as_dir else [rel, rel + ".html", rel + "/index.html"]
        ):
            file = (folder / candidate).resolve()
            if file.is_relative_to(folder.resolve()) and file.is_file():
                return file
        return None


class _Server(ThreadingHTTPServer):
    web: VirtualWeb
    # A crawler opens connections faster than a backlog of 5 (the default) lets in:
    # refused SYNs are retried after seconds, and look like slow hosts.
    request_queue_size = 1024

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup we never want.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    # Without it each keep-alive answer waits for the client's delayed ACK (~20 ms).
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"  # keep-alive and chunked transfer encoding
    server_version = "VirtualWeb/1.0"
    timeout = 60  # idle keep-alive connections give up their thread eventually
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("VIRTUALWEB_LOG") == "1":
            super().log_message(format, *args)

    def do_CONNECT(self) -> None:
        # No TLS here: https through the proxy fails the way a broken proxy would,
        # or, for a host whose "/" rule says {"tls": "broken"}, the tunnel opens and
        # the "server" answers the TLS handshake with plain text (a TLS failure).
        host = self.path.rsplit(":", 1)[0].lower()
        with self.server.web._lock:
            self.server.web.requests.append(("CONNECT", host, ""))
        self.close_connection = True
        if (self.server.web.rule_for(host, "/", "") or {}).get("tls") == "broken":
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            self.connection.recv(4096)  # the client's TLS hello, answered with plain text
            self.wfile.write(b"HTTP/1.1 400 Bad Request\r\n\r\nthis is not TLS\n")
            self.wfile.flush()
            return
        body = b"Bad Gateway: no TLS here\n"
        self._send(502, [("Content-Type", "text/plain")], [body], len(body))

    def do_GET(self) -> None:
        self._serve()

    do_HEAD = do_GET  # _send() leaves the body out for HEAD

    def _target(self) -> tuple[str, str, str]:
        raw = self.path.partition("#")[0]
        if raw.partition("?")[0].find("://") > 0:  # absolute-form: a proxy request
            parts = urlsplit(raw)
            host, path, query = parts.hostname or "", parts.path or "/", parts.query
        else:
            path, _, query = raw.partition("?")
            host = urlsplit("//" + self.headers.get("Host", "")).hostname or ""
        return host.lower().rstrip("."), path or "/", query

    def _serve(self) -> None:
        web = self.server.web
        host, path, query = self._target()
        with web._lock:
            web.requests.append((self.command, host, f"{path}?{query}" if query else path))
            web.user_agents.append((host, path, self.headers.get("User-Agent", "")))
            web.referers.append((host, path, self.headers.get("Referer", "")))
            web.arrivals.append((time.monotonic(), host, path))
            web.in_flight[host] = now = web.in_flight.get(host, 0) + 1
            web.peak_in_flight[host] = max(now, web.peak_in_flight.get(host, 0))
        rule = web.rule_for(host, path, query) or {}
        try:
            stopping = bool(rule.get("delay")) and web._stopping.wait(float(rule["delay"]))
        finally:  # in flight until answered: the client's next request comes after this
            with web._lock:
                web.in_flight[host] -= 1
        try:
            if stopping:
                self.close_connection = True  # server stopping: nobody waits any more
                return
            if rule.get("drop"):
                self.close_connection = True  # closed with no status line at all
                return
            self._respond(host, path, rule)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. a size cap): fine

    def _respond(self, host: str, path: str, rule: dict[str, Any]) -> None:
        web = self.server.web
        folder = web.host_dir(host)
        file = folder / rule["file"] if "file" in rule and folder else web.find_file(host, path)
        status = int(rule.get("status", 302 if "location" in rule else 200))
        if "body" in rule:
            body = str(rule["body"]).encode(rule.get("encoding", "utf-8"))
        elif "body_base64" in rule:
            body = base64.b64decode(rule["body_base64"])
        elif file is not None and file.is_file():
            body = file.read_bytes()
        elif "status" in rule or "location" in rule or "size" in rule:
            body = b""
        else:  # nothing to serve and no status asked for: a typo should not look like a page
            status, body, file, path = 404, NOT_FOUND, None, "/"
        ctype = rule.get("content_type") or content_type_for(file.name if file else path)
        headers: Headers = [("Content-Type", ctype)]
        for name, value in rule.get("headers", {}).items():
            values = value if isinstance(value, list) else [value]
            if name.lower() == "content-type":
                headers = [h for h in headers if h[0] != "Content-Type"]
            headers += [(name, str(v)) for v in values]
        if "location" in rule and 300 <= status < 400:
            headers.append(("Location", rule["location"]))
        use_gzip = bool(rule.get("gzip")) and "gzip" in self.headers.get("Accept-Encoding", "")
        if use_gzip:
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        if "size" in rule:  # streamed; gzip output size is unknown up front, so chunked
            chunks: Iterable[bytes] = filler(int(rule["size"]), body or FILLER_HEAD)
            chunked = bool(rule.get("chunked")) or use_gzip
            chunks = gzip_stream(chunks) if use_gzip else chunks
            self._send(status, headers, chunks, None if chunked else int(rule["size"]))
            return
        body = gzip.compress(body, mtime=0) if use_gzip else body
        self._send(status, headers, [body], len(body))

    def _send(
        self, status: int, headers: Headers, chunks: Iterable[bytes], length: int | None
    ) -> None:
        """Send a response; `length` None means chunked transfer encoding."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command == "HEAD":
            return
        for chunk in chunks:
            if length is not None:
                self.wfile.write(chunk)
            elif chunk:  # an empty chunk would end the body early
                self.wfile.write(b"%X\r\n%s\r\n" % (len(chunk), chunk))
        if length is None:
            self.wfile.write(b"0\r\n\r\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m crawler.virtualweb", description=__doc__)
    parser.add_argument("root", type=Path, help="folder with one sub-folder per host name")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    args = parser.parse_args(argv)
    web = VirtualWeb(args.root, port=args.port).start()
    print(web.proxy_url, flush=True)  # the caller reads the address from the first line
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        web.stop()


if __name__ == "__main__":
    main()
