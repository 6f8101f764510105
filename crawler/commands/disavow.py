"""`backcheck disavow export|import`: Google disavow files from and into the database."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crawler.commands.options import db_option, open_db, site_option
from verifier.reports import disavow as dv
from verifier.store import storage

if TYPE_CHECKING:
    from sqlite_utils import Database

#: Problems listed in full before the rest are only counted.
SHOWN_PROBLEMS = 20


@click.group()
def disavow() -> None:
    """Write and read Google disavow files (only for a site under a manual action).

    Disavow links only when Search Console shows a manual action for unnatural
    links; otherwise Google already ignores such links.

    \b
    Example:
        backcheck disavow import disavow-uploaded.txt --site acme.com
        backcheck disavow export --status lost --out disavow.txt --diff
    """


def _statuses(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str]:
    names = [name.strip() for name in (value or "").split(",") if name.strip()]
    bad = [name for name in names if name not in dv.STATUSES]
    if bad:
        raise click.BadParameter(
            f"{', '.join(bad)}: not a status (use a comma list of {', '.join(dv.STATUSES)})"
        )
    return names


def _txt_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.lower().endswith(".txt"):
        raise click.BadParameter("Google only accepts a disavow file whose name ends in .txt")
    return value


def _pick_site(db: Database, site: str | None) -> str:
    try:
        [domain] = storage.pick_sites(db, site, one=True)
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    return domain


def _refuse(what: str, problems: list[dv.Problem], prefix: str) -> click.ClickException:
    lines = [f"{prefix}{p.line}: {p.reason}" if p.line else f"{prefix}{p.reason}" for p in problems]
    more = len(lines) - SHOWN_PROBLEMS
    shown = lines[:SHOWN_PROBLEMS] + ([f"... and {more} more"] if more > 0 else [])
    return click.ClickException("\n".join([f"{what} (nothing written):", *shown]))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _write_atomically(path: str, text: str) -> None:
    """Write the whole file or nothing: a temporary file in the same folder, renamed."""
    folder = Path(path).resolve().parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=".disavow-", suffix=".txt", dir=folder)
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot write: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@disavow.command("export", short_help="Write a Google disavow file (manual actions only).")
@click.option(
    "--domains-from",
    type=click.Path(exists=True, dir_okay=False),
    help="Referring domains to disavow as domain: lines (one per line, # comments).",
)
@click.option(
    "--status",
    "statuses",
    callback=_statuses,
    metavar="LIST",
    help="Disavow the URLs of backlinks with these statuses (comma list of live,lost,unreachable).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    callback=_txt_path,
    help="Write the file here (must end in .txt); default: stdout.",
)
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Also print a unified diff against the imported file (stdout with --out, else stderr).",
)
@site_option
@db_option
def export(
    domains_from: str | None,
    statuses: list[str],
    out: str | None,
    show_diff: bool,
    site: str | None,
    db_path: str,
) -> None:
    """Write a Google disavow file (only for a site under a manual action).

    The file holds the domains of --domains-from as domain: lines, the referring
    pages of backlinks whose status is in --status as URL lines (unless a domain:
    line covers them), and every entry of the last `disavow import`. It is checked
    against Google's limits (100,000 lines, 2 MB, URLs of 2,048 characters) before
    anything is written; a file over a limit is refused. A summary of changes
    against the imported file goes to stderr.

    \b
    Example:
        backcheck disavow export --domains-from spam-domains.txt --status lost \\
            --out disavow.txt --diff --site acme.com
    """
    click.echo(dv.MANUAL_ACTION_NOTE, err=True)
    domains: list[str] = []
    if domains_from:
        text = Path(domains_from).read_text(encoding="utf-8-sig", errors="replace")
        domains, problems = dv.parse_domain_list(text)
        if problems:
            raise _refuse(f"{len(problems)} bad line(s) in {domains_from}", problems, "line ")
    db = open_db(db_path)
    domain = _pick_site(db, site)
    plan = dv.plan_export(db, domain, domains, statuses)
    n_domains = sum(1 for e in plan.entries if e.kind == dv.DOMAIN)
    comments = [
        f"Disavow file for {domain}, written by backcheck on {storage.now()}",
        "Upload it only if Search Console shows a manual action for unnatural links.",
        f"{_count(n_domains, 'domain')}, {_count(len(plan.entries) - n_domains, 'URL')}:"
        f" {_count(plan.from_domains, 'domain')} from --domains-from,"
        f" {_count(plan.from_status, 'URL')} of backlinks with status"
        f" {','.join(statuses) or '(none)'}, the rest from the imported file",
    ]
    text = dv.render(plan.entries, comments)
    problems = dv.validate(text)
    if problems:
        raise _refuse("refusing to write a disavow file Google would reject", problems, "line ")
    if out:
        _write_atomically(out, text)
    else:
        click.echo(text, nl=False)
    _report_export(plan, out, show_diff)


def _report_export(plan: dv.Export, out: str | None, show_diff: bool) -> None:
    where = out or "stdout"
    count = len(plan.entries)
    line = f"wrote {count} {'entry' if count == 1 else 'entries'} to {where}"
    if plan.left_out:
        line += f"; left out {_count(plan.left_out, 'URL')} that a domain: line covers"
    click.echo(line, err=True)
    imported = plan.imported
    if imported.file is None:
        click.echo("no imported disavow file to compare with (see `disavow import`)", err=True)
        return
    summary = dv.diff_summary(imported.entries, plan.entries)
    click.echo(
        f"{summary} vs the imported file ({imported.file}, {imported.imported_at})", err=True
    )
    if show_diff:
        diff = dv.unified_diff(
            imported.entries, plan.entries, f"{imported.file} (imported)", out or "(export)"
        )
        click.echo(diff, nl=False, err=out is None)


@disavow.command("import", short_help="Read a disavow file, mark covered backlinks.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@site_option
@db_option
def import_(file: str, site: str | None, db_path: str) -> None:
    """Read a disavow file and mark the backlinks it covers (only under a manual action).

    The file replaces the site's previous import, as an upload replaces Google's
    list. Malformed lines are reported as FILE:LINE: reason on stderr; good lines
    are kept. Backlinks on a domain: host (or its subdomains) or at a listed URL
    get `disavowed_at`; backlinks no longer covered lose it.

    \b
    Example:
        backcheck disavow import disavow-uploaded.txt --site acme.com
        backcheck report disavowed --format csv
    """
    click.echo(dv.MANUAL_ACTION_NOTE, err=True)
    data = Path(file).read_bytes()
    parsed = dv.parse_disavow(data)
    for problem in [*dv.size_problems(data), *parsed.problems]:
        where = f"{file}:{problem.line}" if problem.line else file
        click.echo(f"{where}: {problem.reason}", err=True)
    if not parsed.entries and parsed.problems:
        raise click.ClickException(f"{file}: no valid entry; nothing imported")
    db = open_db(db_path)
    domain = _pick_site(db, site)
    result = dv.import_entries(db, domain, parsed.entries, file)
    n_domains = sum(1 for e in parsed.entries if e.kind == dv.DOMAIN)
    marked = result.marked
    click.echo(
        f"imported {len(parsed.entries)} entries ({_count(n_domains, 'domain')},"
        f" {_count(len(parsed.entries) - n_domains, 'URL')}) for {domain}, skipped"
        f" {_count(len(parsed.problems), 'line')}; {result.added} added, {result.removed}"
        f" removed vs the previous import; {_count(marked.disavowed, 'backlink')} disavowed"
        f" ({marked.newly} newly), {marked.cleared} no longer disavowed"
    )
