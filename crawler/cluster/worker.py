"""Run `backcheck worker`: one crawl fed by Redis, or several in child processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping

from crawler import runner
from crawler.cluster.scheduler import worker_settings
from verifier.store.writer import die_with_parent


def crawl(
    redis_url: str,
    overrides: Mapping[str, str],
    exit_when_idle: float | None,
    log_level: str | None = None,
) -> str:
    """One worker crawl in this process; returns Scrapy's finish reason."""
    from scrapy.crawler import AsyncCrawlerProcess

    from crawler.spiders.worker import WorkerSpider

    settings = runner.build_settings(overrides, log_level)
    for name, value in worker_settings(redis_url).items():
        if name not in overrides:  # `-s` wins, as everywhere
            settings.set(name, value, priority="project")
    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(WorkerSpider)
    process.crawl(crawler, exit_when_idle=exit_when_idle)
    process.start()
    return str(crawler.stats.get_value("finish_reason") or "unknown")


def _die_with_parent() -> None:
    # A worker must not outlive a killed `backcheck worker --processes N`.
    die_with_parent(signal.SIGTERM)


def crawl_processes(redis_url: str, args: list[str], processes: int) -> int:
    """`backcheck worker ARGS --processes 1` in `processes` children; the worst exit code.

    The URL goes in the environment, not on command lines that `ps` shows (it may
    hold a password).
    """
    command = [sys.executable, "-m", "crawler.cli", "worker", *args, "--processes", "1"]
    env = {**os.environ, "BACKCHECK_REDIS_URL": redis_url}
    children = [
        subprocess.Popen(command, env=env, preexec_fn=_die_with_parent) for _ in range(processes)
    ]
    try:
        codes = [child.wait() for child in children]
    except KeyboardInterrupt:
        for child in children:
            child.send_signal(signal.SIGINT)
        codes = [child.wait() for child in children]
    return max(codes)
