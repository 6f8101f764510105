"""`backcheck demo`: the real commands against a bundled virtual web on 127.0.0.1."""

from __future__ import annotations

import os
import shlex
import tempfile
from pathlib import Path

import click

DEMO_DIR = Path(__file__).resolve().parents[1] / "seeds" / "demo"
SITE_ARGS = [
    "--site",
    "acme-widgets.com",
    "--brand",
    "Acme Widgets",
    "--competitor",
    "widgetco.com",
    "--keyword",
    "blue widgets",
]
# Local pages answer in microseconds: no need for AutoThrottle, and the demo's
# "slow page" should time out quickly.
VERIFY_ARGS = [
    "-s",
    "AUTOTHROTTLE_ENABLED=0",
    "-s",
    "DOWNLOAD_TIMEOUT=2",
    "-s",
    "RETRY_ENABLED=0",
    "-s",
    "LOG_LEVEL=WARNING",
]


class DemoError(Exception):
    pass


def _step(cli: click.Command, args: list[str]) -> None:
    click.secho("$ backcheck " + shlex.join(args), fg="cyan", err=True)
    cli.main(args=args, prog_name="backcheck", standalone_mode=False)


def run(db_path: str | None, cli: click.Command) -> None:
    """Run the demo's steps through `cli` (the `backcheck` command group)."""
    from crawler.virtualweb import VirtualWeb

    if not (DEMO_DIR / "web").is_dir():
        raise DemoError(f"demo web not found at {DEMO_DIR}; run the demo from a source checkout")
    if db_path is None:
        db_path = str(Path(tempfile.mkdtemp(prefix="backcheck-demo-")) / "backcheck.db")
    elif Path(db_path).exists():
        raise DemoError(f"{db_path} exists; the demo writes a fresh database")
    with VirtualWeb(DEMO_DIR / "web") as web:
        # Every demo host is answered by the local server: nothing leaves 127.0.0.1.
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            os.environ[name] = web.proxy_url
        for name in ("no_proxy", "NO_PROXY"):
            os.environ.pop(name, None)
        db = ["--db", db_path]
        _step(cli, ["init", *SITE_ARGS, *db])
        _step(cli, ["import", str(DEMO_DIR / "backlinks.csv"), *db])
        _step(cli, ["verify", *VERIFY_ARGS, *db])
        _step(cli, ["report", "backlinks", *db])
        _step(cli, ["report", "mentions", *db])
    click.echo(f"\nThe demo database is {db_path}")
    click.echo(f"Try: backcheck report backlinks --status lost --format json --db {db_path}")
