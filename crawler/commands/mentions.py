"""`backcheck mentions FILE | --feed URL`: check given pages for brand mentions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from crawler.commands.options import (
    console_options,
    db_option,
    open_db,
    overrides_option,
    site_option,
    start_run,
)
from verifier.mentions import sources
from verifier.store import runs, storage

#: A page read in the run that still mentions the site (one read without mentions keeps
#: its row, with its mentions gone).
_MENTIONING = (
    "from mention_pages p where p.run_id = :run and exists"
    " (select 1 from mentions m where m.site = p.site and m.page_key = p.page_key)"
)
_COUNTS = f"""
    select
        (select count(*) {_MENTIONING}) as mention_pages,
        (select count(*) {_MENTIONING} and not p.page_links_to_site) as unlinked_mentions,
        (select count(*) from checks c join backlinks b on b.id = c.backlink_id
         where c.run_id = :run and b.imported_at >= :started and b.site = :site)
            as backlinks_new,
        (select count(*) from checks c join backlinks b on b.id = c.backlink_id
         where c.run_id = :run and b.imported_at < :started and b.site = :site)
            as backlinks_known
"""


@click.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--feed", metavar="URL", help="An RSS or Atom alerts feed (Google Alerts, Talkwalker …)."
)
@overrides_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@console_options
@site_option
@db_option
def mentions(
    file: str | None,
    feed: str | None,
    overrides: tuple[str, ...],
    as_json: bool,
    verbose: bool,
    quiet: bool,
    site: str | None,
    db_path: str,
) -> None:
    """Check a list of pages (or an alerts feed's entries) for mentions; no crawling further.

    FILE: one URL per line (`#` comments, blank lines; bad lines reported as
    FILE:LINE: reason). --feed URL: an RSS/Atom feed; redirect wrappers such as
    Google Alerts' google.com/url?...&url=REAL are unwrapped. Each page is read
    for mentions like `crawl` reads them (`source` list or feed); a page that
    links to the site becomes a backlink with a full check; known pages are
    re-checked, not duplicated. Then see `backcheck report mentions --unlinked`.

    \b
    JSON keys: run_id, state, pages, mention_pages, unlinked_mentions,
    backlinks_new, backlinks_known.

    \b
    Example:
        backcheck mentions search-results.txt
        backcheck mentions --feed https://www.google.com/alerts/feeds/123/456 --json
    """
    from crawler import runner
    from crawler.console import Console, run_spider, use_run_log

    if bool(file) == bool(feed):
        raise click.UsageError("give either FILE or --feed URL")
    try:
        parsed = runner.parse_overrides(overrides)
        settings = runner.build_settings(parsed)
    except runner.SettingError as exc:
        raise click.UsageError(str(exc)) from exc
    pages: list[sources.ListedPage] = []
    if file:
        try:
            pages, bad = sources.read_page_file(file)
        except sources.SourceError as exc:
            raise click.ClickException(str(exc)) from exc
    db = open_db(db_path)
    try:
        sites = storage.pick_sites(db, site, one=True)
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    if file:
        competitors = storage.load_site(db, sites[0]).competitors
        pages, aside = sources.set_aside(pages, sites[0], competitors)
        for line in sorted([*bad, *aside], key=lambda line: line.line):
            click.echo(f"{file}:{line.line}: {line.reason}", err=True)
        if not pages:
            raise click.ClickException(f"{file}: no URL to check")
    started = start_run(db, sites, new_run=True, kind="mentions")
    log = use_run_log(db, db_path, started.run_id, parsed, settings)
    if not quiet:
        listed = f"{len(pages)} pages" if file else f"the feed {feed}"
        click.echo(f"starting mentions run {started.run_id}: {listed} (log: {log})", err=True)
    args = {"file": str(Path(file))} if file else {"feed": str(feed)}
    console = Console(verbose, quiet)
    reasons, _ = run_spider(
        db_path,
        started.run_id,
        parsed,
        settings,
        1,
        console,
        len(pages),
        spider="mentions",
        spider_args=args,
    )
    reason = reasons[0]
    summary = runs.summarize(db, started.run_id)
    if summary.state == "running":
        summary = runs.finish_run(db, started.run_id, "failed", error=f"crawl ended: {reason}")
    run_row = db.execute(
        "select started_at, stats, error from runs where id = ?", [started.run_id]
    ).fetchone()
    stats = json.loads(run_row[1] or "{}")
    counts = dict(
        next(db.query(_COUNTS, {"run": started.run_id, "started": run_row[0], "site": sites[0]}))
    )
    result = {
        "run_id": started.run_id,
        "state": summary.state,
        "pages": int(stats.get("backcheck/pages_read", 0)),  # answers to listed pages
        **counts,
    }
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(
            f"run {started.run_id} {summary.state}: {result['pages']} pages read, "
            f"{counts['mention_pages']} mention the site ({counts['unlinked_mentions']} without "
            f"a link), {counts['backlinks_new']} new backlinks, {counts['backlinks_known']} known"
        )
    if summary.state != "finished":
        raise click.ClickException(f"run {started.run_id} {summary.state}: {run_row[2] or reason}")
