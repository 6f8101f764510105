"""Run the verify crawl in this process with layered settings.

Precedence: `-s` overrides > crawler/settings.py > Scrapy's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping

from scrapy.crawler import AsyncCrawlerProcess
from scrapy.settings import Settings

from crawler.spiders.verify import VerifySpider


class SettingError(ValueError):
    """A `-s NAME=VALUE` override that cannot be used."""


def parse_overrides(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`["A=1", "B=x"]` -> `{"A": "1", "B": "x"}`, as `scrapy crawl -s` reads them."""
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise SettingError(f"-s expects NAME=VALUE, got {pair!r}")
        overrides[name.strip()] = value
    return overrides


def build_settings(overrides: Mapping[str, str], log_level: str | None = None) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    if log_level:
        settings.set("LOG_LEVEL", log_level, priority="cmdline")
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    return settings


def crawl(db_path: str, run_id: int, settings: Settings) -> str:
    """Crawl the run's pending pages; returns Scrapy's finish reason."""
    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(VerifySpider)
    process.crawl(crawler, db=db_path, run_id=run_id)
    process.start()
    return str(crawler.stats.get_value("finish_reason") or "unknown")
