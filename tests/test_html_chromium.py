"""The HTML report in a real browser: headless Chromium (Debian's package) opens it from disk.

Chromium gets no network at all (every host name resolves to nothing), writes
the page's console to stderr (`--enable-logging=stderr`; each message is a
`:CONSOLE` line, whatever its level) and either takes a screenshot or dumps the
DOM after the page's scripts ran. The page's one inline script marks every chart
with `data-rendered` (its laid-out box is not empty) and `data-marks`.

Locally the tests skip when Chromium is missing; in CI (`CI` set) they fail:
.ci/run installs it (`apt-get install chromium`).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.commands.report_html import html
from tests.test_html_report import make_history
from verifier import database
from verifier.reports import charts

WIDTH, HEIGHT = 1280, 2400
CHART_COLORS = (charts.BLUE, charts.GREEN, charts.VERMILLION, charts.ORANGE)


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    )
    if found is None:
        message = "headless Chromium is needed: apt-get install -y chromium (Debian's package)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("chromium")
    make_history(database.open_db(folder / "history.db"))
    out = folder / "report.html"
    args = ["--out", str(out), "--db", str(folder / "history.db")]
    result = CliRunner().invoke(html, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def run_chromium(
    exe: str, page: Path, profile: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    command = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # no network, whatever the page asks
        "--hide-scrollbars",
        "--force-color-profile=srgb",  # exact colours in the screenshot
        "--force-device-scale-factor=1",
        "--enable-logging=stderr",
        "--v=0",
        *args,
        page.resolve().as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB or RGBA pixels) of an 8-bit truecolour PNG: the stdlib only."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and not interlace, (depth, color, interlace)
    return (
        width,
        height,
        unfilter(zlib.decompress(b"".join(chunks)), width, height, 3 if color == 2 else 4),
    )


def unfilter(raw: bytes, width: int, height: int, bpp: int) -> list[bytes]:
    """Undo PNG's per-row filters (RFC 2083, 6); Up, the common one, with whole-row integers."""
    stride = width * bpp
    low7, high1 = (int.from_bytes(bytes([b]) * stride, "big") for b in (0x7F, 0x80))
    prev, rows = bytearray(stride), []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:  # bytewise sum without carries from byte to byte
            a, b = int.from_bytes(line, "big"), int.from_bytes(prev, "big")
            line = bytearray(
                (((a & low7) + (b & low7)) ^ ((a ^ b) & high1)).to_bytes(stride, "big")
            )
        elif kind in (3, 4):
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
                if kind == 3:
                    line[i] = (line[i] + ((left + up) >> 1)) & 255
                    continue
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        prev = line
    return rows


def test_screenshot_shows_the_page_and_its_charts(
    chromium: str, report_file: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "shot.png"
    done = run_chromium(
        chromium,
        report_file,
        tmp_path / "profile",
        f"--screenshot={shot}",
        f"--window-size={WIDTH},{HEIGHT}",
    )
    assert shot.is_file() and shot.stat().st_size > 0, done.stderr[-2000:]
    width, height, rows = read_png(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    bpp = len(rows[0]) // width
    colors = Counter(row[i : i + 3] for row in rows for i in range(0, len(row), bpp))
    assert len(colors) > 50, "the screenshot is (nearly) blank"
    assert colors.most_common(1)[0][1] < 0.95 * width * height
    for color in CHART_COLORS:  # solid chart fills: the SVGs were painted
        assert colors[bytes.fromhex(color[1:])] > 100, f"no {color} pixels"


def test_charts_render_without_console_errors(
    chromium: str, report_file: Path, tmp_path: Path
) -> None:
    done = run_chromium(chromium, report_file, tmp_path / "profile", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert console_lines(done.stderr) == []
    charts_found = re.findall(r"<svg\b([^>]*)>(.*?)</svg>", done.stdout, flags=re.DOTALL)
    assert len(charts_found) == 5
    for attrs, body in charts_found:
        label = re.search(r'aria-label="([^"]*)"', attrs)
        assert 'data-rendered="yes"' in attrs, label
        marks = re.search(r'data-marks="(\d+)"', attrs)
        assert marks and int(marks.group(1)) > 0, label
        assert body.count("<rect") + body.count("<path") > 0, label


def test_the_console_check_sees_a_blocked_script(
    chromium: str, report_file: Path, tmp_path: Path
) -> None:
    # A script that is not the page's own (an injection, say) is refused by the page's
    # Content-Security-Policy, and the browser says so on the console: proof that the
    # check above can fail.
    tampered = tmp_path / "tampered.html"
    text = report_file.read_text(encoding="utf-8")
    tampered.write_text(text.replace("</body>", "<script>document.title='x'</script></body>"))
    done = run_chromium(chromium, tampered, tmp_path / "profile", "--dump-dom")
    lines = console_lines(done.stderr)
    assert any("Content Security Policy" in line for line in lines), done.stderr[-2000:]
    assert "<title>x</title>" not in done.stdout
