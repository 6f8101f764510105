"""`backcheck import FILE --format access-log|ga4`: referral traffic, for the import command."""

from __future__ import annotations

import sys

import click
from sqlite_utils import Database

#: Formats of `import` that read referral traffic rather than a backlink export.
REFERRAL_FORMATS = ("access-log", "ga4")


def format_hint(file: str) -> str:
    """A hint to add to a refusal when the file is referral traffic imported without --format."""
    from verifier.importers.accesslog import looks_like_log
    from verifier.importers.ga4 import looks_like_ga4

    if looks_like_log(file):
        return " (it looks like an access log: add --format access-log)"
    if looks_like_ga4(file):
        return " (it looks like a GA4 export: add --format ga4)"
    return ""


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def import_referrals(
    db: Database, domain: str, file: str, fmt: str, dry_run: bool, strict: bool
) -> None:
    """Import an access log or a GA4 export; report what it counted on stdout, rejects on stderr."""
    from verifier import referrals
    from verifier.importers import ImportRefused
    from verifier.importers.accesslog import SHOWN_REJECTS, LogImport

    try:
        if fmt == "ga4":
            done = referrals.import_ga4(db, domain, file, dry_run)
        else:
            done = referrals.import_access_log(db, domain, file, dry_run)
    except ImportRefused as exc:
        raise click.ClickException(str(exc)) from exc
    result = done.result
    prefix = "dry run: would import" if dry_run else "imported"
    if isinstance(result, LogImport):
        tally = result.tally
        for reject in result.rejects:
            click.echo(f"{file}:{reject.line}: {reject.reason}", err=True)
        if tally.malformed > SHOWN_REJECTS:
            more = tally.malformed - SHOWN_REJECTS
            click.echo(f"{file}: {more:,} more malformed lines", err=True)
        if tally.partial_line:
            click.echo(f"{file}: the last line is incomplete; the next import reads it", err=True)
        excluded = sum(tally.excluded.values())
        skipped = f", {tally.skipped:,} already imported" if tally.skipped else ""
        click.echo(
            f"{prefix} {_plural(tally.visits, 'referral visit')} from "
            f"{_plural(tally.lines, 'line')}{skipped} ({result.layout} log, site {domain}): "
            f"{_plural(done.candidates, 'new backlink candidate')}; not counted: bots "
            f"{tally.bots:,}, search/social/AI/webmail/apps {excluded:,}, internal "
            f"{tally.internal:,}, no referrer {tally.no_referrer:,}, assets/feeds/redirects/"
            f"HEAD/POST {tally.not_visits:,}, other hosts {tally.other_hosts:,}, malformed "
            f"{tally.malformed:,}"
        )
        failed = tally.malformed
    else:
        for reject in result.rejects:
            click.echo(f"{file}:{reject.line}: {reject.reason}", err=True)
        excluded = sum(result.excluded.values())
        span = f", {result.first_day} to {result.last_day}" if result.first_day else ""
        click.echo(
            f"{prefix} {_plural(result.total, 'referral visit')} ({result.metric}) from "
            f"{_plural(result.rows, 'row')} (ga4 export{span}, site {domain}): "
            f"{_plural(done.candidates, 'new backlink candidate')}; not counted: search/social/"
            f"AI/webmail/apps {excluded:,}, internal {result.internal:,}; ignored rows "
            f"(totals, (not set)) {result.ignored:,}, rejected {len(result.rejects):,}"
        )
        failed = len(result.rejects)
    if strict and failed:
        sys.exit(1)
