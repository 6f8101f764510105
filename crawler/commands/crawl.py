"""`backcheck crawl FILE`: verify a domain list on demand (does it link to us, and how?)."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlite_utils import Database

from crawler.commands.notify import alert, notify_options
from crawler.commands.options import (
    console_options,
    db_option,
    open_db,
    overrides_option,
    site_option,
    start_run,
)
from crawler.commands.worker import redis_option
from crawler.notify import Alerting
from verifier import reports
from verifier.crawl import DomainListError, read_domain_file, read_domain_list, set_aside
from verifier.store import crawls, runs, storage

#: The keys of each domain's line in `--json`: a public contract.
SUMMARY_KEYS = (
    "domain",
    "pages",
    "backlinks_new",
    "backlinks_known",
    "competitor_links",
    "unlinked_mentions",
    "stopped",
)


@click.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--from-gap",
    is_flag=True,
    help="Crawl the domains of `report gap` (they link to competitors, not to us) instead"
    " of FILE: each from its home page and its best page to pitch.",
)
@click.option(
    "--min-competitors",
    type=click.IntRange(min=1),
    help="With --from-gap: competitors a domain must link to (as `report gap`).",
)
@click.option(
    "--max-pages",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="HTML pages fetched per domain at most.",
)
@click.option(
    "--max-depth",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Links followed from the start pages (home page, sitemap URLs: depth 0).",
)
@click.option(
    "--no-sitemaps", is_flag=True, help="Do not read robots.txt's sitemaps or /sitemap.xml."
)
@overrides_option
@click.option("--json", "as_json", is_flag=True, help="Print one object per domain, as JSON.")
@click.option(
    "--new-run", is_flag=True, help="Start a new crawl instead of resuming an interrupted one."
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    help="Crawler processes, each owning some domains [default: 1; up to the cores].",
)
@redis_option(required=False)
@notify_options
@console_options
@site_option
@db_option
def crawl(
    file: str | None,
    from_gap: bool,
    min_competitors: int | None,
    max_pages: int,
    max_depth: int,
    no_sitemaps: bool,
    overrides: tuple[str, ...],
    as_json: bool,
    new_run: bool,
    processes: int | None,
    redis_url: str | None,
    alerting: Alerting,
    verbose: bool,
    quiet: bool,
    site: str | None,
    db_path: str,
) -> None:
    """Crawl a list of domains: links to the site, mentions, links to competitors.

    FILE holds one domain or URL per line (`#` comments, blank lines; a bare
    domain starts at https://, falling back to http://). Per domain: robots.txt
    obeyed, its sitemaps and /sitemap.xml read, then internal links followed
    breadth-first. Every link to the site becomes a backlink (source `crawl`)
    with a full check; links to competitors and brand mentions are recorded. A
    killed crawl resumes without fetching its finished pages again.

    With --redis URL, this machine keeps the database and `backcheck worker`s
    crawl the domains: each domain is crawled whole by one worker, whose
    results come back and are written here (see "Running on several machines").

    \b
    stopped: robots (robots.txt shuts the domain out), unreachable (no answer),
    errors (answers came, failures stopped it), page_limit, depth_limit, done.

    \b
    JSON keys: domain, pages, backlinks_new, backlinks_known, competitor_links,
    unlinked_mentions, stopped.

    \b
    Example:
        backcheck crawl domains.txt --max-pages 100 --max-depth 2
        backcheck crawl prospects.txt --json --processes 2 > crawl.json
        backcheck crawl --from-gap --min-competitors 2 --max-pages 50
        backcheck crawl prospects.txt --redis redis://queue.example.internal:6379/0
    """
    from crawler import runner
    from crawler.console import Console, run_spider, use_run_log

    try:
        parsed = runner.parse_overrides(overrides)
        settings = runner.build_settings(parsed)
    except runner.SettingError as exc:
        raise click.UsageError(str(exc)) from exc
    if from_gap == (file is not None):
        raise click.UsageError("give a FILE of domains, or --from-gap (not both)")
    if min_competitors is not None and not from_gap:
        raise click.UsageError("--min-competitors goes with --from-gap")
    redis_url = redis_url or settings.get("BACKCHECK_REDIS_URL") or None
    if redis_url and processes:
        raise click.UsageError(
            "--processes does not apply with --redis: the workers are the processes"
            " (start more `backcheck worker`s, or `backcheck worker --processes N`)"
        )
    server = _redis(redis_url) if redis_url else None
    db = open_db(db_path)
    try:
        [domain] = storage.pick_sites(db, site, one=True)
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    source = file or "report gap"
    try:
        if file is not None:
            entries, bad = read_domain_file(file)
        else:
            entries, bad = read_domain_list(gap_lines(db, domain, min_competitors))
    except DomainListError as exc:
        raise click.ClickException(str(exc)) from exc
    entries, aside = set_aside(entries, domain, storage.load_site(db, domain).competitors)
    for line in sorted([*bad, *aside], key=lambda line: line.line):
        click.echo(line.describe(source), err=True)
    if from_gap and not entries:
        click.echo(f"no gap domains for {domain}: nothing to crawl")
        return
    started = start_run(db, [domain], new_run=new_run, kind="crawl")
    added = crawls.add_domains(db, started.run_id, entries)
    if not started.resumed and not entries:
        runs.finish_run(db, started.run_id, "failed", error="no domain to crawl")
        raise click.ClickException(f"{source}: no domain to crawl")
    log = use_run_log(db, db_path, started.run_id, parsed, settings)
    verb = "resuming" if started.resumed else "starting"
    if not quiet:
        click.echo(f"{verb} crawl run {started.run_id}: {added} new domains (log: {log})", err=True)
    spider_args = {
        "max_pages": str(max_pages),
        "max_depth": str(max_depth),
        "sitemaps": "0" if no_sitemaps else "1",
    }
    shards = processes or 1
    if server is not None:  # no crawler process here: the workers crawl, this one writes
        from crawler.cluster import crawlowner
        from crawler.spiders.domaincrawl import limits_from

        shards = 0
        runner.console_log(Console(verbose, quiet).level)
        limits = limits_from(settings, max_pages, max_depth, not no_sitemaps)
        reasons = [crawlowner.crawl(db, db_path, started.run_id, server, settings, limits, quiet)]
    else:
        total = len(list(crawls.pending_domains(db, started.run_id)))
        reasons, stats = run_spider(
            db_path,
            started.run_id,
            parsed,
            settings,
            shards,
            Console(verbose, quiet),
            total,
            spider="crawl",
            spider_args=spider_args,
            unit="domains",
        )
    reason = ", ".join(sorted(set(reasons)))
    if shards > 1:
        pending = list(crawls.pending_domains(db, started.run_id))
        state = "finished" if set(reasons) == {"finished"} and not pending else "interrupted"
        runs.finish_run(
            db, started.run_id, state, stats, error=None if state == "finished" else reason
        )
    summary = runs.summarize(db, started.run_id)
    if summary.state == "running":
        summary = runs.finish_run(db, started.run_id, "failed", error=f"crawl ended: {reason}")
    alert(db, summary.run_id, alerting)  # the digest, if any: bounded, never raises
    rows = crawls.summary(db, started.run_id)
    if as_json:
        click.echo(json.dumps([{key: row[key] for key in SUMMARY_KEYS} for row in rows], indent=2))
    else:
        for row in rows:
            click.echo(
                f"{row['domain']}: {row['pages']} pages, {row['backlinks_new']} new backlinks, "
                f"{row['backlinks_known']} known, {row['competitor_links']} competitor links, "
                f"{row['unlinked_mentions']} unlinked mentions; stopped: {row['stopped']}"
            )
    if summary.state != "finished":
        raise click.ClickException(
            f"crawl run {summary.run_id} was {summary.state} ({reason}); "
            f"`backcheck crawl {'--from-gap' if from_gap else 'FILE'}` resumes it"
        )


def _redis(url: str) -> Any:
    from crawler.cluster.connection import ClusterError, connect

    try:
        return connect(url)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from exc


def gap_lines(db: Database, site: str, min_competitors: int | None) -> list[str]:
    """`report gap`'s domains as domain-list lines: each domain, then its best page."""
    rows = reports.run(db, reports.GAP, {"site": site, "min_competitors": min_competitors})
    lines = []
    for row in rows:
        lines.append(row["referring_domain"])
        if row["best_page"]:
            lines.append(row["best_page"])
    return lines
