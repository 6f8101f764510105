"""Serve a generated web on 127.0.0.1 as a forward proxy: nginx if installed, else the virtual web.

Both answer `GET http://host/path` (what Scrapy sends to an `http_proxy`) from
`ROOT/<host>/<path>[.html]`, 404 for a missing file, and the 301s listed in
`ROOT/_routes.json`; robots.txt as text/plain, .xml as XML and .gz files as
application/gzip (the virtual web through the content types of `_routes.json`).
The virtual web runs through `bench.pyserver` (a deeper listen backlog, no Nagle).
Each server runs in its own process, so its CPU time is not the crawler's;
`cpu_seconds()` reads it from /proc for the report.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
_TICKS = os.sysconf("SC_CLK_TCK")

NGINX_CONF = """\
# Written by bench/servers.py: a loopback-only static server for the benchmark web.
{user}worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    # The crawl web's robots.txt and sitemaps; a .xml.gz file is gzip, not gzip-encoded XML.
    types {{ text/html html; text/plain txt; application/xml xml; application/gzip gz; }}
    default_type text/html;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    # Each cached file holds a descriptor: 20,000 ran a 100k-page web out of them.
    open_file_cache max=2000 inactive=60s;
    client_body_temp_path {work}/nginx-tmp/body;
    proxy_temp_path {work}/nginx-tmp/proxy;
    fastcgi_temp_path {work}/nginx-tmp/fastcgi;
    uwsgi_temp_path {work}/nginx-tmp/uwsgi;
    scgi_temp_path {work}/nginx-tmp/scgi;
    map_hash_max_size 1048576;
    map_hash_bucket_size 128;
    # The request line of a proxy request names the host: $host is taken from it.
    map "$host$uri" $bench_redirect {{
        default "";
        include {work}/redirects.map;
    }}
    server {{
        listen 127.0.0.1:{port} default_server;
        server_name _;
        root {web}/$host;
        if ($bench_redirect) {{ return 301 $bench_redirect; }}
        location / {{ try_files $uri $uri.html $uri/index.html =404; }}
    }}
}}
"""


class ServerError(RuntimeError):
    """The server did not start or does not answer as the web says it should."""


def _stat_ticks(pid: int) -> tuple[int, int]:
    """(parent pid, user+system clock ticks) of a live process."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by `root` and its direct children (nginx's workers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid, ticks = _stat_ticks(int(entry.name))
        except (OSError, ValueError):
            continue  # gone meanwhile
        if int(entry.name) == root or ppid == root:
            total += ticks
    return total / _TICKS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A started server process; use as a context manager."""

    kind = "?"

    def __init__(
        self, process: subprocess.Popen, proxy_url: str, error_log: Path | None = None
    ) -> None:
        if not proxy_url.startswith("http://127.0.0.1:"):
            process.kill()
            raise ServerError(f"refusing a server that is not on loopback: {proxy_url}")
        self.process = process
        self.proxy_url = proxy_url
        self.error_log = error_log
        self._log_offset = 0

    def new_errors(self) -> list[str]:
        """The server's own failures logged since the last call (nginx: crit and worse).

        A server out of file descriptors answers 404 and the no-op spider,
        which does not check answers, would look fast: such a run does not count.
        """
        if self.error_log is None or not self.error_log.exists():
            return []
        with self.error_log.open("rb") as log:
            log.seek(self._log_offset)
            text = log.read().decode("utf-8", "replace")
            self._log_offset = log.tell()
        severe = ("[crit]", "[alert]", "[emerg]")
        return [line for line in text.splitlines() if any(s in line for s in severe)]

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid)

    def get(self, url: str) -> int:
        """The status the server answers for `url` (no redirect is followed)."""
        return self.answer(url)[0]

    def answer(self, url: str) -> tuple[int, str]:
        """The status and Content-Type the server answers for `url` (no redirect followed)."""
        port = urlsplit(self.proxy_url).port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", url, headers={"Host": urlsplit(url).netloc})
            response = conn.getresponse()
            response.read()
            return response.status, response.getheader("Content-Type") or ""
        finally:
            conn.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _wait_for_port(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"nginx exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise ServerError(f"nginx did not listen on 127.0.0.1:{port} within 15 s")


def write_nginx_conf(web: Path, work: Path, port: int) -> Path:
    routes = json.loads((web / "_routes.json").read_text(encoding="utf-8"))
    lines = [
        f'"{key}" "{rule["location"]}";\n'
        for key, rule in routes.items()
        if "location" in rule and int(rule.get("status", 302)) == 301
    ]
    (work / "redirects.map").write_text("".join(lines), encoding="utf-8")
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / "nginx-tmp" / name).mkdir(parents=True, exist_ok=True)
    # As root, nginx's workers would run as `nobody`, who may not read a private cache folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = work / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(user=user, work=work, web=web.resolve(), port=port), encoding="utf-8"
    )
    return conf


def start_nginx(web: Path, work: Path) -> Server:
    nginx = shutil.which("nginx")
    if nginx is None:
        raise ServerError("nginx is not installed (apt-get install -y nginx-light)")
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = write_nginx_conf(web, work, port)
    log = work / "nginx-error.log"
    with (work / "nginx-stderr.log").open("wb") as stderr:
        process = subprocess.Popen(
            [nginx, "-c", str(conf), "-p", str(work), "-e", str(log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    _wait_for_port(process, port, log)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    server.kind = "nginx"
    return server


def start_python(web: Path) -> Server:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.pyserver", str(web), "--port", "0"],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url:
        process.kill()
        raise ServerError("crawler.virtualweb printed no address")
    server = Server(process, url)
    server.kind = "python"
    return server


def start(kind: str, web: Path, work: Path) -> Server:
    """`kind` is nginx, python, or auto (nginx when installed)."""
    if kind == "auto":
        kind = "nginx" if shutil.which("nginx") else "python"
    return start_nginx(web, work) if kind == "nginx" else start_python(web)
