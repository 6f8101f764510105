"""`backcheck serve`: browse the database in Datasette (the optional `ui` extra)."""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from crawler.commands.options import db_option, open_db
from verifier import reports
from verifier.reports.metadata import build_metadata, relations

INSTALL_HINT = "pip install 'backcheck[ui]'"
HOST = "127.0.0.1"  # never another interface: the database holds the whole link profile


def datasette_installed() -> bool:
    return importlib.util.find_spec("datasette") is not None


@click.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8001,
    show_default=True,
    help="Port on 127.0.0.1.",
)
@db_option
def serve(port: int, db_path: str) -> None:
    """Browse the database in Datasette on 127.0.0.1, with every report as a query.

    Needs the optional extra: pip install 'backcheck[ui]'. The database stays
    live (not immutable): a running `backcheck verify` shows up as it writes.
    Ctrl-C stops the server.

    \b
    Example:
        backcheck serve --port 8001 --db backcheck.db
        # then open http://127.0.0.1:8001/backcheck/backlinks_report?status=lost
    """
    if not datasette_installed():
        raise click.ClickException(f"Datasette is not installed: {INSTALL_HINT}")
    if not Path(db_path).is_file():
        raise click.ClickException(f"{db_path}: no such database; run `backcheck init` first")
    db = open_db(db_path)  # applies pending migrations, so every table is described
    name = Path(db_path).stem  # Datasette names a database after its file
    metadata = build_metadata(name, relations(db), reports.all_reports())
    db.close()
    with tempfile.TemporaryDirectory(prefix="backcheck-serve-") as folder:
        metadata_path = Path(folder) / "metadata.json"
        metadata_path.write_text(json.dumps(metadata, indent=2), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            db_path,
            "-m",
            str(metadata_path),
            "-h",
            HOST,
            "-p",
            str(port),
        ]
        click.echo(f"Datasette on http://{HOST}:{port}/{name} (Ctrl-C stops it)", err=True)
        code = _run(command)
    if code:
        raise click.ClickException(f"Datasette exited with status {code}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run(command: list[str]) -> int:
    """Run Datasette until it exits, Ctrl-C or SIGTERM; its exit status (0 when stopped)."""
    process = subprocess.Popen(command)
    # SIGINT explicitly too: a process started in the background by a non-interactive
    # shell (`cmd &`, CI runners) inherits SIGINT ignored, and Python then never raises
    # KeyboardInterrupt: Ctrl-C (or `kill -INT`) would not stop Datasette.
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":  # until `backcheck serve` is wired into crawler/cli.py
    serve(prog_name="backcheck serve")
