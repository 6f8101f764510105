"""Each run's full log, kept beside the database: `<db name>.logs/run-<id>.log`."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

_RUN_LOG = re.compile(r"run-(\d+)\.log")


def folder(db_path: str | Path) -> Path:
    db = Path(db_path)
    return db.with_name(db.name + ".logs")


def prepare(db_path: str | Path, run_id: int, keep: int) -> Path:
    """The run's log file (its folder created), after deleting all but the newest `keep`
    runs' logs (this one counts). A resumed run appends to its own."""
    logs = folder(db_path)
    logs.mkdir(parents=True, exist_ok=True)
    ours = logs / f"run-{run_id}.log"
    found = sorted(
        (int(match.group(1)), path)
        for path in logs.iterdir()
        if (match := _RUN_LOG.fullmatch(path.name)) and path != ours
    )
    for _, old in found[: max(0, len(found) - max(keep - 1, 0))]:
        with contextlib.suppress(OSError):
            old.unlink()
    return ours
