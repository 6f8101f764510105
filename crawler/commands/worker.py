"""`backcheck worker`: fetch and classify pages from a shared Redis queue."""

from __future__ import annotations

import sys

import click

from crawler.commands.options import overrides_option


def redis_option(required: bool) -> click.Option:
    return click.option(
        "--redis",
        "redis_url",
        envvar="BACKCHECK_REDIS_URL",
        required=required,
        metavar="URL",
        help="The Redis server shared by the owner and the workers, redis://HOST:PORT/DB"
        " (env BACKCHECK_REDIS_URL).",
    )


@click.command()
@redis_option(required=True)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Crawler processes on this machine, each popping from the shared queue.",
)
@click.option(
    "--exit-when-idle",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Leave once the queue is empty and no run's owner is still collecting, for this"
    " long [default: never leave].",
)
@overrides_option
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors in the log.")
def worker(
    redis_url: str,
    processes: int,
    exit_when_idle: float | None,
    overrides: tuple[str, ...],
    quiet: bool,
) -> None:
    """Fetch and classify referring pages that `verify --redis` queued, on any machine.

    A worker pops page requests from the shared scrapy-redis queue, checks each
    page with the same rules as a local `verify` and sends the checks back
    through Redis to the run's owner, which writes them. It needs no database:
    each request carries the page's backlinks. Start as many as you like, on
    as many machines; one killed mid-page loses nothing (the owner re-queues
    pages that got no check). `-s` settings apply to the fetching, as for
    `verify`; politeness holds across the cluster: each referring domain's
    requests are popped by one worker process at a time (shard leases). Pages
    are rendered in this machine's Chromium when the run's render mode asks
    (`verify --render`); `-s BACKCHECK_RENDER=never` runs no browser here.

    \b
    Example:
        backcheck worker --redis redis://queue.example.internal:6379/0
        backcheck worker --redis redis://queue.lan:6379/0 --processes 4 --exit-when-idle 60
        BACKCHECK_REDIS_URL=redis://localhost:6379/0 backcheck worker -s CONCURRENT_REQUESTS=128
    """
    from crawler import runner
    from crawler.cluster import worker as workers
    from crawler.cluster.connection import ClusterError, connect

    try:
        parsed = runner.parse_overrides(overrides)
        runner.build_settings(parsed)
    except runner.SettingError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        connect(redis_url)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from exc
    if processes > 1:
        args = [f"--set={pair}" for pair in overrides]
        if exit_when_idle is not None:
            args += ["--exit-when-idle", str(exit_when_idle)]
        if quiet:
            args.append("--quiet")
        sys.exit(workers.crawl_processes(redis_url, args, processes))
    reason = workers.crawl(redis_url, parsed, exit_when_idle, "WARNING" if quiet else None)
    if reason not in ("finished", "shutdown"):
        raise click.ClickException(f"the worker stopped: {reason}")
