"""Run the verify crawl: in this process, or sharded over several crawler processes.

Settings precedence: `-s` overrides > crawler/settings.py > Scrapy's defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import FrameType

from scrapy.settings import BaseSettings, Settings

from verifier.store.writer import die_with_parent

#: Below this many pending pages one process is faster: start-up costs more than it saves.
MIN_PAGES_PER_PROCESS = 100
#: The finish reason of a crawl whose spider could not be made (the error is logged).
START_FAILED = "start_failed"

logger = logging.getLogger(__name__)


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


_BOOLEANS = ("0", "1", "true", "false")
#: Scrapy reads these with getfloat although their defaults are whole numbers.
FLOAT_SETTINGS = frozenset(
    {"DOWNLOAD_TIMEOUT", "DNS_TIMEOUT", "CLOSESPIDER_TIMEOUT", "DOWNLOAD_DELAY"}
)


def _check_type(name: str, value: str, default: object) -> None:
    """Refuse a value that the setting's type cannot read (Scrapy would fail mid-run)."""
    kind = type(default)
    try:
        if kind is bool:
            if value.strip().lower() not in _BOOLEANS:
                raise ValueError
        elif kind is int and name not in FLOAT_SETTINGS:
            int(value)
        elif kind in (int, float):
            float(value)
        elif (
            isinstance(default, dict | BaseSettings)
            and value.strip()
            and not isinstance(json.loads(value), dict)
        ):
            raise ValueError
    except ValueError:
        wanted = {bool: "0/1/true/false", int: "a whole number", float: "a number"}
        spelled = "a number" if name in FLOAT_SETTINGS else wanted.get(kind, 'a JSON object ("{}")')
        raise SettingError(f"-s {name}={value!r}: expected {spelled}") from None


def build_settings(overrides: Mapping[str, str], log_level: str | None = None) -> Settings:
    """Scrapy's settings with backcheck's and the `-s` overrides; raises `SettingError`
    for a value the setting's type cannot read (`-s DOWNLOAD_TIMEOUT=ten`)."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    if log_level:
        settings.set("LOG_LEVEL", log_level, priority="cmdline")
    for name, value in overrides.items():
        default = settings.get(name)
        if default is not None:
            _check_type(name, value, default)
        settings.set(name, value, priority="cmdline")
    return settings


def _spider_class(name: str) -> type:
    if name == "crawl":
        from crawler.spiders.crawl import CrawlSpider

        return CrawlSpider
    if name == "mentions":
        from crawler.spiders.mentions import MentionsSpider

        return MentionsSpider
    from crawler.spiders.verify import VerifySpider

    return VerifySpider


def console_log(level: str | int) -> None:
    """Send records at `level` and above to stderr too, beside Scrapy's LOG_FILE.

    With LOG_FILE set, Scrapy logs to the file only: the console gets what
    matters to a person watching (warnings, errors) unless asked for more.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)


def crawl(
    db_path: str,
    run_id: int,
    settings: Settings,
    spider: str = "verify",
    console_level: str | None = None,
    on_signal: Callable[[int], None] | None = None,
    **spider_args: str,
) -> str:
    """Run the run's spider in this process; returns Scrapy's finish reason.

    With `console_level` (and LOG_FILE set), the console shows that level and above.
    `on_signal(signum)` is called on SIGINT or SIGTERM before Scrapy handles it.
    """
    from scrapy import signals
    from scrapy.crawler import AsyncCrawlerProcess

    # The spider class is given: no need for Scrapy's loader to import every spider
    # module (the Redis worker's brings redis and scrapy-redis) to look names up.
    settings = settings.copy()
    settings.set("SPIDER_LOADER_CLASS", "scrapy.spiderloader.DummySpiderLoader", "project")
    process = AsyncCrawlerProcess(settings)
    if console_level and settings.get("LOG_FILE"):
        console_log(console_level)
    crawler = process.create_crawler(_spider_class(spider))
    if on_signal is not None:
        # Scrapy installs its handlers when its loop starts; the spider opens after that.
        crawler.signals.connect(
            lambda: _chain_signals(on_signal), signal=signals.spider_opened, weak=False
        )
    task = process.crawl(crawler, db=db_path, run_id=run_id, **spider_args)
    # Parsed pages make many short-lived objects; the default thresholds run the
    # cyclic GC over Scrapy's long-lived ones every few pages. Freeze what start-up
    # made and collect young objects less often.
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    process.start()
    if getattr(crawler, "spider", None) is None:  # the spider could not be made
        error = task.exception() if task.done() and not task.cancelled() else None
        logger.error("the crawl could not start: %s", error or "no spider", exc_info=error)
        return START_FAILED
    return str(crawler.stats.get_value("finish_reason") or "unknown")


def _chain_signals(on_signal: Callable[[int], None]) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        then = signal.getsignal(signum)

        def handler(number: int, frame: FrameType | None, then: object = then) -> None:
            on_signal(number)
            if callable(then):
                then(number, frame)

        signal.signal(signum, handler)


def _die_with_parent() -> None:
    # A shard must not outlive a killed parent and keep crawling unsupervised.
    die_with_parent(signal.SIGTERM)


class Shard:
    """A crawler process forked from this one: it starts with this process's imports
    made (Scrapy, the spider, lxml: ~1.1 s of CPU a fresh interpreter spends)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    @classmethod
    def fork(cls, run: Callable[[], int]) -> Shard:
        """Fork a process that calls `run` and exits with its status. Call it before
        this process starts its reactor, and before a thread of its own that may hold a
        lock the child needs (the progress display writes to stderr): a fork copies
        neither a thread nor a reactor's poller, which the two would share half-made.
        (A stray thread of some library is not refused: the child runs without it.)"""
        if "twisted.internet.reactor" in sys.modules:
            raise RuntimeError("shards are forked before the reactor is installed")
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # else the child's copy of the buffers is written twice
        pid = os.fork()
        if pid:
            return cls(pid)
        status = 1
        try:
            _die_with_parent()
            status = run()
        except SystemExit as exc:
            status = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            logger.exception("shard %s failed", os.getpid())
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            # Not sys.exit: the parent's objects (its database connection, the shards'
            # scratch directory) are this process's copies, not to be closed or removed.
            os._exit(status)

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)


def _shard(
    db_path: str,
    run_id: int,
    settings: Settings,
    spider: str,
    console_level: str | None,
    shard: str,
    stats_file: str,
    spider_args: Mapping[str, str],
) -> int:
    """One shard's crawl; its exit status."""
    reason = crawl(
        db_path,
        run_id,
        settings,
        spider,
        console_level,
        shard=shard,
        stats_file=stats_file,
        **spider_args,
    )
    if reason == START_FAILED:  # no spider, so no stats of its own: the parent reads this
        Path(stats_file).write_text(json.dumps({"finish_reason": START_FAILED}))
        return 1
    return 0


def crawl_sharded(
    db_path: str,
    run_id: int,
    overrides: Mapping[str, str],
    processes: int,
    log_level: str | None = None,
    spider: str = "verify",
    spider_args: Mapping[str, str] | None = None,
    console_level: str | None = None,
    progress: Sequence[Path] = (),
    display: AbstractContextManager[object] | None = None,
) -> tuple[list[str], dict[str, object]]:
    """Crawl with `processes` crawler processes, each owning the pages of some domains.

    This process crawls shard 0 itself and forks one process for each other shard,
    with the spider imported first: the shards open at the same moment, where a fresh
    interpreter opened ~0.8 s after this one (its imports). Returns each shard's
    finish reason and Scrapy stats summed over the shards. `progress[i]`, when
    given, is where shard i writes its counts; `display` (the progress display, a
    thread) is entered once the shards are forked.
    """
    spider_args = spider_args or {}
    with tempfile.TemporaryDirectory(prefix="backcheck-shards-") as tmp:
        stats_files = [str(Path(tmp) / f"stats-{index}.json") for index in range(processes)]
        settings = [build_settings(overrides, log_level) for _ in range(processes)]
        for index, path in enumerate(progress):
            settings[index].set("BACKCHECK_PROGRESS_FILE", str(path), priority="cmdline")
        _spider_class(spider)  # imported once, here, for every shard

        children = [
            Shard.fork(
                functools.partial(
                    _shard,
                    db_path,
                    run_id,
                    settings[index],
                    spider,
                    console_level,
                    f"{index}/{processes}",
                    stats_files[index],
                    spider_args,
                )
            )
            for index in range(1, processes)
        ]
        with display or contextlib.nullcontext():
            own = crawl(
                db_path,
                run_id,
                settings[0],
                spider,
                console_level,
                shard=f"0/{processes}",
                stats_file=stats_files[0],
                **spider_args,
                on_signal=lambda signum: _forward(children, signum),
            )
            if own == "shutdown":  # stopped by a signal that did not reach the others
                _forward(children, signal.SIGINT)
            try:
                codes = [0, *(child.wait() for child in children)]
            except KeyboardInterrupt:
                _forward(children, signal.SIGINT)
                codes = [0, *(child.wait() for child in children)]
        reasons, totals = [], {}
        for index, (stats_file, code) in enumerate(zip(stats_files, codes, strict=True)):
            written = Path(stats_file)
            stats = json.loads(written.read_text()) if written.exists() else {}
            fallback = own if index == 0 else f"exit code {code}"
            reasons.append(str(stats.get("finish_reason", fallback)))
            for key, value in stats.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    totals[key] = totals.get(key, 0) + value
        return reasons, totals


def _forward(children: Sequence[Shard], signum: int) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signum)


def main(argv: list[str] | None = None) -> None:
    """One shard's crawl by itself (`crawl_sharded` forks its shards instead; this
    runs one by hand, to look at a shard alone)."""
    parser = argparse.ArgumentParser(prog="python -m crawler.runner")
    parser.add_argument("--db", required=True)
    parser.add_argument("--run-id", required=True, type=int)
    parser.add_argument("--shard", required=True)
    parser.add_argument("--stats-file", required=True)
    parser.add_argument("--log-level")
    parser.add_argument("--console-level")
    parser.add_argument("-s", dest="overrides", action="append", default=[])
    parser.add_argument("--spider", default="verify", choices=("verify", "crawl", "mentions"))
    parser.add_argument("-a", dest="spider_args", action="append", default=[])
    args = parser.parse_args(argv)
    settings = build_settings(parse_overrides(args.overrides), args.log_level)
    extra = parse_overrides(args.spider_args)
    status = _shard(
        args.db,
        args.run_id,
        settings,
        args.spider,
        args.console_level,
        args.shard,
        args.stats_file,
        extra,
    )
    sys.exit(status)


if __name__ == "__main__":
    main()
