"""Reports written as they are read: the same text, flat memory, the first rows at once."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from tests.test_reports_history import acme_history
from verifier import reports
from verifier.reports import render

ROWS = [
    {"id": n, "anchor": f"=cmd {n}" if n % 7 == 0 else f"a{n}", "ok": n % 2 == 0}
    for n in range(2500)
]


@pytest.mark.parametrize("count", [0, 1, render.STREAM_BATCH, 2500])
def test_streamed_text_is_the_rendered_text(count: int) -> None:
    rows = ROWS[:count]
    out = io.StringIO()
    assert render.write_json(out, iter(rows)) == count
    assert out.getvalue() == render.render_json(rows) + "\n"
    for raw in (False, True):
        out = io.StringIO()
        render.stream_csv(out, iter(rows), raw=raw)
        assert out.getvalue() == render.render_csv(rows, raw=raw)


def test_rows_are_written_before_the_last_is_read() -> None:
    out = io.StringIO()
    seen: list[int] = []

    def rows() -> Iterator[dict[str, object]]:
        for row in ROWS:
            if row["id"] == 2400:
                seen.append(out.getvalue().count("\n"))  # lines out before row 2400 is read
            yield row

    render.write_json(out, rows())
    assert seen and seen[0] >= 2 * render.STREAM_BATCH - 1

    out, seen = io.StringIO(), []
    render.stream_csv(out, rows())
    assert seen and seen[0] >= 2000  # the csv module writes row by row


def test_report_command_streams_what_it_rendered_before(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    db = acme_history(path)
    runner = CliRunner()
    for name, fmt in [("backlinks", "json"), ("backlinks", "csv"), ("changes", "json")]:
        report = reports.get(name)
        assert reports.streams(report)
        expected = reports.run_report(db, report, {"site": "acme.com"}).rows
        text = render.render_json(expected) + "\n" if fmt == "json" else render.render_csv(expected)
        args = ["report", name, "--format", fmt, "--site", "acme.com", "--db", str(path)]
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0
        assert result.output == text
    db.close()
    # Reports that post-process their rows (velocity fills gaps, flags spikes) cannot stream.
    assert not reports.streams(reports.get("velocity"))
