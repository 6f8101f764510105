"""Read an export as a stream of records: encoding, delimiter, lenient CSV.

Vendor exports are not always valid CSV. Majestic, for one, writes anchors
with unescaped double quotes or stray commas. A strict reader would either
stop or, worse, let an unterminated quote swallow every following line, so
records are read one physical line at a time. A line joins the following
ones only while a quoted cell is open, for at most MAX_RECORD_LINES lines,
and only when the joined record reads right to the caller.
A line whose quoting is broken is split leniently and flagged, and the caller
decides whether its cells can still be trusted.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

#: Delimiters we recognise, in the order that wins a tie.
DELIMITERS = ("\t", ";", ",")

#: A quoted field may span this many physical lines before we call it broken.
MAX_RECORD_LINES = 20

_CHUNK = 1 << 20
_QUOTED = re.compile(r'"[^"]*"')


#: Magic numbers of files people export instead of CSV, and what to call them.
CONTAINERS = {
    b"PK\x03\x04": "an Excel workbook or another zip archive",
    b"\xd0\xcf\x11\xe0": "a legacy Excel (.xls) workbook",
    b"%PDF": "a PDF document",
}


def sniff_container(path: Path) -> str | None:
    """What a binary file is (a workbook, a PDF), or None for anything that may be text."""
    with path.open("rb") as raw:
        head = raw.read(8)
    return next((name for magic, name in CONTAINERS.items() if head.startswith(magic)), None)


#: Control characters no text export holds (tab, line feed, form feed and CR are text).
_CONTROLS = bytes([*range(0, 9), 11, *range(14, 27), *range(28, 32)])


#: NULs in the first 8 KB that a text export may still hold (a cell a broken tool wrote):
#: its rows are read, and the rows the NULs spoil are refused with their line.
STRAY_NULS = 4


def looks_binary(path: Path) -> bool:
    """True for a file that is no text in any encoding `detect_encoding` reads.

    More than `STRAY_NULS` NULs or more than 1 % control characters in the first
    8 KB, unless the file is UTF-16 (whose ASCII holds a NUL in every other byte).
    """
    with path.open("rb") as raw:
        head = raw.read(8192)
    if not head or head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if _bomless_utf16(head[:4096]):
        return False
    controls = len(head) - len(head.translate(None, _CONTROLS))
    return head.count(0) > STRAY_NULS or controls * 100 > len(head)


def detect_encoding(path: Path) -> str:
    """The codec to read `path` with: a BOM decides, else UTF-8 if valid, else windows-1252."""
    with path.open("rb") as raw:
        head = raw.read(4096)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"  # the codec reads the BOM and picks the byte order
        if guessed := _bomless_utf16(head):
            return guessed
        raw.seek(0)
        return "utf-8" if _valid_utf8(raw) else "windows-1252"


def _bomless_utf16(head: bytes) -> str | None:
    # ASCII text in UTF-16 has a NUL in every other byte; no CSV has that otherwise.
    if len(head) < 4 or head.count(0) < len(head) // 4:
        return None
    odd_nuls = head[1::2].count(0)
    even_nuls = head[0::2].count(0)
    return "utf-16-le" if odd_nuls > even_nuls else "utf-16-be"


def _valid_utf8(raw: BinaryIO) -> bool:
    # One pass in chunks: validating the whole file up front means we never
    # switch codecs halfway through the rows.
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := raw.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def open_text(path: Path, encoding: str) -> TextIO:
    """Open `path` for csv reading; undecodable bytes become U+FFFD rather than an error."""
    return path.open(encoding=encoding, errors="replace", newline="")


def sniff_delimiter(header: str) -> str | None:
    """The delimiter used most often in the header line outside quotes; None for one column.

    >>> sniff_delimiter('"Referring page URL"\\t"Target URL"'), sniff_delimiter("a;b,c;d")
    ('\\t', ';')
    >>> sniff_delimiter("url") is None
    True
    """
    bare = _QUOTED.sub("", header)
    counts = {delimiter: bare.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else None


def unquote(value: str) -> str:
    """A cell trimmed and stripped of one pair of surrounding quotes.

    >>> unquote(' "Best ""deal"" here" '), unquote('\\ufeffURL')
    ('Best "deal" here', 'URL')
    """
    text = value.strip().lstrip("\ufeff").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('""', '"')
    return text.strip()


def split_line(text: str, delimiter: str | None) -> list[str] | None:
    """The cells of one complete CSV line, or None when its quoting is broken or unfinished."""
    if delimiter is None:
        return [unquote(text)]
    try:
        return next(csv.reader([text], delimiter=delimiter, strict=True), [])
    except csv.Error:
        return None


def split_leniently(text: str, delimiter: str) -> list[str]:
    """Split a line whose quoting is broken, as a person would read it.

    A quoted cell is rejoined only when a later piece closes its quote;
    otherwise quotes are treated as ordinary characters.

    >>> split_leniently('https://a.com/,"Best "deal" here",5', ",")
    ['https://a.com/', 'Best "deal" here', '5']
    >>> split_leniently('https://a.com/,"Cheap, fast",5', ",")
    ['https://a.com/', 'Cheap, fast', '5']
    >>> split_leniently('https://a.com/,"unterminated,5', ",")
    ['https://a.com/', 'unterminated', '5']
    """
    pieces = text.rstrip("\r\n").split(delimiter)
    cells: list[str] = []
    index = 0
    while index < len(pieces):
        piece = pieces[index].strip()
        if piece.startswith('"') and (len(piece) < 2 or not piece.endswith('"')):
            for end in range(index + 1, len(pieces)):
                if pieces[end].strip().endswith('"'):
                    piece = delimiter.join(pieces[index : end + 1]).strip()
                    index = end
                    break
        cells.append(unquote(piece.lstrip('"') if piece.count('"') == 1 else piece))
        index += 1
    return cells


@dataclass(frozen=True, slots=True)
class Record:
    """One record of the file: its first physical line and its cells."""

    line: int
    cells: list[str]
    broken: bool = False  # quoting was invalid; cells come from split_leniently


class _Lookahead:
    """Lines of a stream with the next few visible before they are consumed."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self._ahead: deque[str] = deque()

    def peek(self, index: int) -> str | None:
        while len(self._ahead) <= index:
            line = next(self._lines, None)
            if line is None:
                return None
            self._ahead.append(line)
        return self._ahead[index]

    def pop(self) -> str | None:
        return self._ahead.popleft() if self._ahead else next(self._lines, None)


def iter_records(
    lines: Iterable[str],
    delimiter: str | None,
    first_line: int,
    accept: Callable[[list[str]], bool] | None = None,
) -> Iterator[Record]:
    """Records of `lines` (the file after its header); blank lines are skipped.

    A line that ends inside a quoted cell is joined with the following lines
    until the quote closes, if `accept` takes the joined cells as a record;
    otherwise the line is split leniently on its own and flagged `broken`.
    """
    stream = _Lookahead(lines)
    number = first_line
    while (text := stream.pop()) is not None:
        line, number = number, number + 1
        if not text.strip():
            continue
        cells = split_line(text, delimiter)
        if cells is None and delimiter is not None:
            joined = _close_quote(text, stream, delimiter, accept)
            if joined is not None:
                cells, used = joined
                for _ in range(used):
                    stream.pop()
                number += used
        broken = cells is None
        if cells is None:
            cells = split_leniently(text, delimiter or ",")
        # A line of bare delimiters (Excel pads sheets with them) is an empty line.
        if any(cell.strip() for cell in cells):
            yield Record(line, cells, broken)


def _close_quote(
    text: str,
    stream: _Lookahead,
    delimiter: str,
    accept: Callable[[list[str]], bool] | None,
) -> tuple[list[str], int] | None:
    # A legitimate multi-line cell (a page title with a newline) closes a few
    # lines later into a record that reads right; a broken quote either never
    # closes or closes into nonsense, and then the line stands alone.
    record = text
    for used in range(1, MAX_RECORD_LINES):
        if split_line(record + '"', delimiter) is None:
            return None  # not an open quote: the quoting is broken before the line ends
        following = stream.peek(used - 1)
        if following is None:
            return None
        record += following
        cells = split_line(record, delimiter)
        if cells is not None:
            return (cells, used) if accept is None or accept(cells) else None
    return None
