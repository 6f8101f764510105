"""A Scrapy extension that records when each crawler process opened and closed its spider.

The runner enables it for every spider with `-s EXTENSIONS=...` (added to the
project's own extensions) and `-s BENCH_CLOCK_FILE=PATH`. Every crawler
process, including each shard of `verify --processes N`, appends one JSON line;
the crawl window is the first `opened` to the last `closed`, which leaves out
interpreter start-up, imports, the import of seeds and the final summary.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler


class CrawlClock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.opened_at: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("BENCH_CLOCK_FILE")
        if not path:
            raise NotConfigured("BENCH_CLOCK_FILE is not set")
        clock = cls(Path(path))
        crawler.signals.connect(clock.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(clock.spider_closed, signal=signals.spider_closed)
        return clock

    def spider_opened(self) -> None:
        self.opened_at = time.time()

    def spider_closed(self) -> None:
        line = {"pid": os.getpid(), "opened": self.opened_at, "closed": time.time()}
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(line) + "\n")


def _lines(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines() if text]


def processes(path: Path) -> int:
    """How many crawler processes wrote to a clock file."""
    return len({line["pid"] for line in _lines(path)})


def crawl_window(path: Path) -> float | None:
    """Seconds from the first spider opened to the last one closed, from a clock file."""
    lines = _lines(path)
    opened = [line["opened"] for line in lines if line.get("opened") is not None]
    if not opened:
        return None
    return max(line["closed"] for line in lines) - min(opened)
