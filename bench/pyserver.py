"""`crawler.virtualweb`, as the benchmark runs it when nginx is not installed.

`python -m bench.pyserver ROOT --port 0` serves like `python -m crawler.virtualweb`,
with two socket settings changed that decide its latency under a crawler:

* the listen backlog: socketserver's default of 5 pending connections overflows when
  Scrapy opens connections to a proxy faster than the accept loop takes them (it keeps
  only CONCURRENT_REQUESTS_PER_DOMAIN idle connections per proxy). The kernel then drops
  SYNs, the client retransmits after 1, 3, 7 s, and pages time out (measured: 50 of 255
  requests timed out at DOWNLOAD_TIMEOUT=5 on a 200-page host);
* TCP_NODELAY: a keep-alive answer's last segment otherwise waits for the client's
  delayed ACK (measured: 22 ms per sequential keep-alive request, 1.2 ms with it).
"""

from __future__ import annotations

from crawler import virtualweb

LISTEN_BACKLOG = 1024


def main(argv: list[str] | None = None) -> None:
    virtualweb._Server.request_queue_size = LISTEN_BACKLOG
    virtualweb._Handler.disable_nagle_algorithm = True
    virtualweb.main(argv)


if __name__ == "__main__":
    main()
