"""The `backcheck` command line: thin click commands over verifier and crawler.runner.

Scrapy is imported only inside the crawling commands, so reports start fast.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from typing import Any

import click

from crawler.commands.crawl import crawl
from crawler.commands.disavow import disavow
from crawler.commands.mentions import mentions
from crawler.commands.notify import alert, notify, notify_options
from crawler.commands.options import (
    Duration,
    console_options,
    db_option,
    open_db,
    overrides_option,
    site_option,
    start_run,
)
from crawler.commands.outreach import outreach
from crawler.commands.prune import prune
from crawler.commands.referrals import REFERRAL_FORMATS, format_hint, import_referrals
from crawler.commands.report import report
from crawler.commands.runs import runs as runs_command
from crawler.commands.serve import serve
from crawler.commands.worker import redis_option, worker
from crawler.notify import Alerting
from verifier.store import runs, storage
from verifier.verdict.urls import SiteError, check_site

EXIT_NEWLY_LOST = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="backcheck")
def cli() -> None:
    """backcheck: re-crawl your referring pages and know which backlinks are live, lost, and why.

    \b
    Example:
        backcheck init --site acme.com --brand "Acme"
        backcheck import ahrefs-backlinks.csv
        backcheck verify
        backcheck report backlinks --status lost
    """


@cli.command()
@click.option("--site", required=True, help="The site's domain, e.g. acme.com.")
@click.option("--brand", multiple=True, help="A brand term (repeatable).")
@click.option("--competitor", multiple=True, help="A competitor's domain (repeatable).")
@click.option("--keyword", multiple=True, help="A target keyword (repeatable).")
@click.option(
    "--exclude",
    multiple=True,
    help="A phrase that looks like a brand but is someone else's, e.g. "
    '"Acme Widgets Bank": a brand match inside it is no mention (repeatable).',
)
@db_option
def init(
    site: str,
    brand: tuple[str, ...],
    competitor: tuple[str, ...],
    keyword: tuple[str, ...],
    exclude: tuple[str, ...],
    db_path: str,
) -> None:
    """Create or update a site's profile (repeatable options add values).

    \b
    Example:
        backcheck init --site acme.com --brand "Acme" --brand "Acme Widgets" \\
            --competitor widgetco.com --keyword "blue widgets" --exclude "Acme Bank"
    """
    try:
        site, note = check_site(site)
        competitor = tuple(check_site(value)[0] for value in competitor)
    except SiteError as exc:
        raise click.UsageError(str(exc)) from exc
    if note:
        click.echo(f"note: {note}", err=True)
    db = open_db(db_path, create=True)
    try:
        profile = storage.save_site(db, site, brand, competitor, keyword, exclude)
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"site {profile.domain}: brands {list(profile.brands)}, competitors "
        f"{list(profile.competitors)}, keywords {list(profile.keywords)}, excludes "
        f"{list(profile.excludes)} ({db_path})"
    )


class _DryRun(Exception):
    pass


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    type=click.Choice(
        ["auto", "csv", "urls", "ahrefs", "semrush", "majestic", "moz", "gsc", *REFERRAL_FORMATS]
    ),
    help="The export's format; auto detects it from the header row. access-log (Apache or"
    " nginx combined, vhost_combined or JSON lines, plain or .gz) and ga4 (a GA4 Exploration"
    " with Page referrer and Sessions or Views, as CSV) import referral traffic instead"
    " (`backcheck report referrals`); they are never detected.",
)
@click.option("--source", help="Name recorded as the source (default: the format).")
@click.option("--dry-run", is_flag=True, help="Check the file and count, write nothing.")
@click.option("--strict", is_flag=True, help="Exit 1 when any row is rejected.")
@click.option(
    "--competitor",
    metavar="DOMAIN",
    help="The export is of this competitor's backlinks (one of the site's `init"
    " --competitor`s): they are checked by `verify --competitors` and compared in `report gap`.",
)
@site_option
@db_option
def import_(
    file: str,
    fmt: str,
    source: str | None,
    dry_run: bool,
    strict: bool,
    competitor: str | None,
    site: str | None,
    db_path: str,
) -> None:
    """Import known backlinks from an SEO tool's export or a spreadsheet.

    Rejected rows are reported as FILE:LINE: reason on stderr; good rows are kept.

    With --format access-log or ga4, referral visits are imported (per referring
    page and UTC day); each referring page becomes a backlink candidate that the
    next `verify` checks. Importing the same log again, or a rotated copy of one
    already read, adds nothing; the first five malformed lines are reported, all
    are counted, and --strict exits 1 when there was any.

    \b
    Example:
        backcheck import ahrefs-backlinks.csv --source ahrefs
        backcheck import links.csv --format csv --dry-run --strict
        backcheck import /var/log/nginx/access.log.2.gz --format access-log --site acme.com
        backcheck import ga4-referrers.csv --format ga4
        backcheck import widgetco-ahrefs.csv --competitor widgetco.com
    """
    from verifier.importers import ImportRefused, read_export

    if fmt in REFERRAL_FORMATS and source is not None:
        raise click.UsageError(
            f"--source does not apply to --format {fmt}: its visits are recorded as"
            f" source {'ga4' if fmt == 'ga4' else 'log'}"
        )
    if fmt in REFERRAL_FORMATS and competitor is not None:
        raise click.UsageError(
            f"--competitor does not apply to --format {fmt}: referral traffic is the site's own"
        )
    db = open_db(db_path)
    try:
        [domain] = storage.pick_sites(db, site, one=True)
        if competitor is not None:
            try:
                domain = storage.pick_competitor(db, domain, competitor)
            except storage.StorageError as exc:
                raise click.UsageError(str(exc)) from exc
        if fmt in REFERRAL_FORMATS:
            return import_referrals(db, domain, file, fmt, dry_run, strict)
        result = read_export(file, domain, fmt)
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    except ImportRefused as exc:
        hint = format_hint(file) if fmt == "auto" else ""
        raise click.ClickException(str(exc) + hint) from exc
    for reject in result.rejects:
        click.echo(f"{file}:{reject.line}: {reject.reason}", err=True)
    name = source or result.format
    try:
        with db.atomic():
            counts = storage.add_backlinks(db, domain, result.rows, name, file)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    prefix = "dry run: would import" if dry_run else "imported"
    click.echo(
        f"{prefix} {counts.imported}, merged {counts.merged}, rejected "
        f"{len(result.rejects)} ({result.format} export, "
        f"{'competitor' if competitor else 'site'} {domain})"
    )
    if strict and result.rejects:
        sys.exit(1)


@cli.command()
@click.option(
    "--all", "scope", flag_value="all", default=True, help="Check every backlink (the default)."
)
@click.option(
    "--due",
    "scope",
    flag_value="due",
    help="Check only backlinks that are due under the re-check policy, most valuable first.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="Check at most N backlinks (with --due: the N most valuable due ones).",
)
@click.option(
    "--max-time",
    type=Duration("smh"),
    help="Stop cleanly after this long (Ns, Nm, Nh); unchecked backlinks stay due.",
)
@overrides_option
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option(
    "--fail-on-lost",
    is_flag=True,
    help=f"Exit {EXIT_NEWLY_LOST} when any backlink newly became lost.",
)
@click.option(
    "--new-run", is_flag=True, help="Start a new run instead of resuming an interrupted one."
)
@click.option(
    "--competitors",
    is_flag=True,
    help="Also check the competitors' backlinks (`import --competitor`), in the same run: a"
    " page that links to several of them is fetched once. Setting:"
    " BACKCHECK_VERIFY_COMPETITORS.",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    help="Crawler processes, each owning the pages of some referring domains "
    "[default: the number of cores; one for runs under 100 backlinks per process].",
)
@click.option(
    "--render",
    type=click.Choice(["never", "auto", "always"]),
    envvar="BACKCHECK_RENDER",
    help="Run the page's scripts in Chromium: auto renders a page whose raw HTML lacks the"
    " link and that has a script; always renders every page; never reads raw HTML only"
    " [default: auto]. Env/setting: BACKCHECK_RENDER.",
)
@redis_option(required=False)
@notify_options
@console_options
@site_option
@db_option
def verify(
    scope: str,
    limit: int | None,
    max_time: int | None,
    overrides: tuple[str, ...],
    as_json: bool,
    fail_on_lost: bool,
    new_run: bool,
    competitors: bool,
    processes: int | None,
    render: str | None,
    redis_url: str | None,
    alerting: Alerting,
    verbose: bool,
    quiet: bool,
    site: str | None,
    db_path: str,
) -> None:
    """Re-fetch every referring page and record each backlink's verdict.

    The console shows a progress bar on a terminal (a progress line every
    minute otherwise) and warnings; each run's full log is kept in
    `<db name>.logs/run-<id>.log` (the last 30 runs'; BACKCHECK_KEEP_LOGS).

    An interrupted run (even killed with SIGKILL) is resumed by the next
    `verify`: only backlinks without a check in it are fetched.

    With --due, only backlinks whose next check is due (each check sets the
    next one: valuable live links daily, other live ones every 3 days, failing
    ones backing off, lost ones weekly then monthly; settings
    BACKCHECK_RECHECK_*), most valuable first; nothing due prints "nothing due"
    and exits 0 without starting a run. One run at a time per database.

    With --redis URL, this machine keeps the database and `backcheck worker`s
    on any machines fetch the pages: the run's pages go to the shared queue,
    the workers' checks come back and are written here, and the run ends when
    every backlink has its check, or when --max-time is up (see "Running on
    several machines"). --processes does not apply: the workers are the processes.

    \b
    Exit codes: 0 done (even with lost links), 1 error or a degraded run
    (the crawler could not reach the web: backlinks keep their last verdict),
    2 usage, 3 with --fail-on-lost when a backlink newly became lost.

    \b
    Example:
        backcheck verify --site acme.com --fail-on-lost
        backcheck verify -s DOWNLOAD_TIMEOUT=10 -s CONCURRENT_REQUESTS=32 --json
        backcheck verify --processes 4 --quiet
        backcheck verify --due --max-time 2h --limit 50000
        backcheck verify --competitors
        backcheck verify --render always --due
        backcheck verify --redis redis://queue.example.internal:6379/0 --json
    """
    from crawler import outage, recheck, runner
    from crawler.console import Console, run_spider, use_run_log

    log_level = None  # the run's log file gets the whole log; -q and -v are for the console
    try:
        parsed = runner.parse_overrides(overrides)
        if max_time:
            parsed["CLOSESPIDER_TIMEOUT"] = str(max_time)
        if render:
            parsed["BACKCHECK_RENDER"] = render
        settings = runner.build_settings(parsed, log_level)
    except runner.SettingError as exc:
        raise click.UsageError(str(exc)) from exc
    redis_url = redis_url or settings.get("BACKCHECK_REDIS_URL") or None
    if redis_url and processes:
        raise click.UsageError(
            "--processes does not apply with --redis: the workers are the processes"
            " (start more `backcheck worker`s, or `backcheck worker --processes N`)"
        )
    server = _redis(redis_url) if redis_url else None
    db = open_db(db_path)
    try:
        sites = storage.pick_sites(db, site, one=False)
        if competitors or settings.getbool("BACKCHECK_VERIFY_COMPETITORS"):
            sites = storage.with_competitors(db, sites)
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    due = None
    if scope == "due" and (new_run or runs.resumable(db, sites) is None):
        due = runs.due_backlinks(db, sites, storage.now(), limit)
        if not due:
            click.echo("nothing due")
            return
    started = start_run(db, sites, limit=limit, new_run=new_run, backlinks=due)
    log = use_run_log(db, db_path, started.run_id, parsed, settings)
    verb = "resuming" if started.resumed else "starting"
    if not quiet:
        click.echo(
            f"{verb} run {started.run_id}: {started.pending} backlinks to check (log: {log})",
            err=True,
        )
    shards = processes or min(
        os.cpu_count() or 1, max(1, started.pending // runner.MIN_PAGES_PER_PROCESS)
    )
    if server is not None:  # no crawler process here: the workers fetch, this one writes
        from crawler.cluster import foreground

        shards = 0
        runner.console_log(Console(verbose, quiet).level)
        reason = foreground.verify(db, db_path, started.run_id, server, settings, quiet)
    else:
        total = 0 if quiet else runs.pending_page_count(db, started.run_id)
        reasons, stats = run_spider(
            db_path, started.run_id, parsed, settings, shards, Console(verbose, quiet), total
        )
    if shards > 1:
        reason = ", ".join(sorted(set(reasons)))
        if set(reasons) <= runs.DONE_REASONS:
            if runs.BUDGET_SPENT in reasons:
                runs.drop_pending(db, started.run_id)  # --max-time is up: the rest stays due
            max_failures = settings.getint("BACKCHECK_MAX_FAILURES")
            runs.close_dropped(db, started.run_id, max_failures, recheck.policy(settings))
            outage.settle_run(db, started.run_id, stats, settings)  # or degraded
        else:
            runs.finish_run(db, started.run_id, "interrupted", stats, error=f"shards: {reason}")
    elif shards == 1:
        reason = reasons[0]
    summary = runs.summarize(db, started.run_id)
    if summary.state == "running":  # the crawl died before it could close the run
        summary = runs.finish_run(db, started.run_id, "failed", error=f"crawl ended: {reason}")
    alert(db, summary.run_id, alerting)  # the digest, if any: bounded, never raises
    if as_json:
        click.echo(json.dumps(asdict(summary)))
    else:
        click.echo(summary_line(summary))
    if summary.state == "failed":
        raise click.ClickException(f"run {summary.run_id} failed ({reason}); see its log: {log}")
    if summary.state == "interrupted":
        raise click.ClickException(
            f"run {summary.run_id} was interrupted ({reason}); `backcheck verify` resumes it"
        )
    if summary.state == outage.DEGRADED:  # backlinks keep their last good verdict
        raise click.ClickException(outage.message(summary.run_id))
    if fail_on_lost and summary.newly_lost:
        sys.exit(EXIT_NEWLY_LOST)


def _redis(url: str) -> Any:
    from crawler.cluster.connection import ClusterError, connect

    try:
        return connect(url)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from exc


def summary_line(s: runs.RunSummary) -> str:
    line = (
        f"run {s.run_id} {s.state}: {s.backlinks} backlinks on {s.pages} pages in "
        f"{s.seconds:.1f}s; live {s.live} ({s.followed} followed), lost {s.lost} "
        f"({s.newly_lost} newly), regained {s.regained}, unreachable {s.unreachable}"
    )
    if s.competitor_links:
        line += f"; competitors' links {s.competitor_links} (live {s.competitor_live})"
    if s.pending:
        line += f"; {s.pending} still pending (run `backcheck verify` to resume)"
    return line


@cli.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help="Where to write the demo database (default: a new temporary folder).",
)
def demo(db_path: str | None) -> None:
    """Run init, import, verify and report against a bundled demo web on 127.0.0.1.

    Nothing leaves the machine: a local server answers for every demo host.

    \b
    Example:
        backcheck demo
        backcheck report backlinks --db /tmp/backcheck-demo-xyz/backcheck.db --format json
    """
    from crawler import demo as demo_run

    try:
        demo_run.run(db_path, cli)
    except demo_run.DemoError as exc:
        raise click.ClickException(str(exc)) from exc


cli.add_command(report)
cli.add_command(disavow)
cli.add_command(serve)
cli.add_command(outreach)
cli.add_command(crawl)
cli.add_command(mentions)
cli.add_command(runs_command)
cli.add_command(notify)
cli.add_command(prune)
cli.add_command(worker)


def main() -> None:
    """The `backcheck` entry point: a usage error is one line naming the culprit (exit 2)."""
    try:
        code = cli.main(prog_name="backcheck", standalone_mode=False)
    except click.UsageError as exc:
        where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"Error: {exc.format_message()}{where}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
