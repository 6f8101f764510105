"""`backcheck prune --older-than DURATION`: delete old checks that repeat their neighbours."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict

import click

from crawler.commands.options import Duration, db_option, open_db
from verifier.store import retention


@click.command()
@click.option(
    "--older-than",
    "older_than",
    type=Duration("dws"),
    required=True,
    help="Prune checks made longer ago than this: Nd (days), Nw (weeks) or Ns (seconds).",
)
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@db_option
def prune(older_than: int, dry_run: bool, as_json: bool, db_path: str) -> None:
    """Delete old checks that say what the checks around them say.

    Of the checks made before the cutoff, every check whose status, reason, change
    or link (follow, rel, nofollow source, anchor, target, link count, HTTP status,
    final URL) differs from the backlink's previous check stays, and so do the
    first and last check of each stretch of identical ones; the rest go. Every
    report and every future `change` answer as before. A backlink's latest check,
    and the checks of a run that may still resume, always stay. Evidence no
    remaining check uses goes too, and so do finished runs' run items. Safe beside
    a running verify (short transactions) and safe to stop.

    The file does not shrink by itself: run VACUUM afterwards (see the README).

    \b
    JSON keys: cutoff, backlinks, older, deleted, kept, evidence_deleted,
    evidence_moved, run_items_deleted, seconds, dry_run.

    \b
    Example:
        backcheck prune --older-than 90d --dry-run
        backcheck prune --older-than 12w && sqlite3 backcheck.db 'VACUUM'
    """
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=older_than)
    db = open_db(db_path)
    result = retention.prune(db, cutoff.isoformat(timespec="seconds"), dry_run=dry_run)
    db.close()
    if as_json:
        payload = asdict(result) | {"kept": result.kept, "dry_run": dry_run}
        click.echo(json.dumps(payload))
        return
    verb = "would delete" if dry_run else "deleted"
    click.echo(
        f"checks before {result.cutoff}: {result.older:,} over {result.backlinks:,} backlinks;"
        f" {verb} {result.deleted:,}, kept {result.kept:,} (changes and the first and last of"
        " each unchanged stretch)"
    )
    click.echo(
        f"evidence rows {verb}: {result.evidence_deleted:,}; older checks' evidence"
        f" {'to move' if dry_run else 'moved'} to shared rows: {result.evidence_moved:,};"
        f" run items of finished runs {verb}: {result.run_items_deleted:,}"
        f" ({result.seconds:.1f} s)"
    )
    if not dry_run and result.deleted:
        click.echo(
            f"The space is free inside {db_path}; VACUUM gives it back to the disk:"
            f" sqlite3 {db_path} 'VACUUM' (needs free space about the size of the"
            " database; see the README)"
        )
