"""Read an access log (plain or gzip, any size) into referral visits, streaming.

The file is read in blocks of whole lines; memory holds one block and the
aggregates, which are handed to `flush` whenever they grow past `batch` keys,
so it does not grow with the file.

Re-importing adds nothing. A log "stream" is named by a hash of its first
line; after an import we keep how many bytes of it were read and their CRC-32
(`Watermark`). When a file starts with the same line and its first `size`
bytes have the same CRC, those bytes were imported already and reading starts
after them. That covers the same file again, a file that has grown since
(`access.log` read at noon, then the whole day), and its rotated copy, plain or
compressed (`access.log.1`, `access.log.2.gz`: the CRC is over the
decompressed bytes). A file that differs anywhere in that prefix is read
whole as a new stream. An incomplete last line (the server still writing it)
is left for the next import. Two identical lines are two visits.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import BinaryIO, cast

from verifier.importers import referrers
from verifier.importers.logline import (
    COMBINED,
    VHOST,
    detect_layout,
    host_and_port,
    parse_line,
    unescape,
    utc_day,
    vhost_of,
)
from verifier.importers.models import ImportRefused, Reject
from verifier.importers.referrers import Kind, Referrer
from verifier.importers.visits import BROKEN_STATUSES, counts_as_visit, is_bot, is_page
from verifier.verdict.urls import host_on_domain

BLOCK = 1 << 20  # bytes read at a time
SHOWN_REJECTS = 5  # malformed lines reported by line number; all are counted
SNIFF_LINES = 1000  # a file whose first lines are all unreadable is no access log
SEEN_REFERRERS = 100_000  # referrers whose kind is kept while reading, at most
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Watermark:
    """How much of a log stream has been imported: its first `size` bytes and `lines` lines."""

    head: str  # hash of the stream's first line
    size: int
    crc: int  # zlib.crc32 of those bytes (decompressed)
    lines: int


@dataclass(slots=True)
class Batch:
    """Aggregates to store: visits per (referrer key, UTC day), and hits on broken pages."""

    visits: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: (referrer key, our page's URL) -> (hits, first day, last day), for 404/410 answers
    broken: dict[tuple[str, str], tuple[int, str, str]] = field(default_factory=dict)
    referrers: dict[str, Referrer] = field(default_factory=dict)  # key -> the referrer

    def __len__(self) -> int:
        return len(self.visits) + len(self.broken)


@dataclass(slots=True)
class Tally:
    """What the lines were: every line read falls in exactly one of the counts after `lines`."""

    lines: int = 0  # lines read in this import (after any prefix already imported)
    skipped: int = 0  # lines of a prefix imported before
    blank: int = 0
    malformed: int = 0
    other_hosts: int = 0  # vhost_combined/JSON lines for hosts that are not the site
    no_referrer: int = 0
    internal: int = 0
    excluded: Counter[str] = field(default_factory=Counter)  # by category
    unreadable_referrer: int = 0
    not_visits: int = 0  # HEAD/POST, assets, feeds, redirects
    bots: int = 0
    visits: int = 0  # referral visits counted (pages and origins)
    first_day: str | None = None
    last_day: str | None = None
    partial_line: bool = False  # the last line had no newline: left for the next import


@dataclass(slots=True)
class LogImport:
    layout: str
    watermark: Watermark  # to store: what has now been imported of this stream
    resumed: bool  # a prefix of the file had been imported before
    tally: Tally
    rejects: list[Reject]


def _open(path: Path) -> BinaryIO:
    with path.open("rb") as raw:
        magic = raw.read(2)
    if magic == GZIP_MAGIC:
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


def looks_like_log(path: str | Path) -> bool:
    """True when the file's first line reads as an access log (for a hint: `--format`)."""
    try:
        with _open(Path(path)) as stream:
            line, _ = _first_line(stream)
    except (OSError, EOFError, zlib.error):
        return False
    return detect_layout(line.decode("utf-8", "replace")) is not None


def _blocks(stream: BinaryIO) -> Iterator[bytes]:
    while block := stream.read(BLOCK):
        yield block


def _first_line(stream: BinaryIO) -> tuple[bytes, bytes]:
    """The first non-blank complete line, and every byte read so far."""
    data = b""
    for block in _blocks(stream):
        data += block
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            if data[start:end].strip():
                return data[start : end + 1], data
            start = end + 1
    return b"", data


def _skip(stream: BinaryIO, read: bytes, mark: Watermark) -> tuple[bytes, int] | None:
    """The bytes after the imported prefix and the prefix's CRC, or None when it differs."""
    crc, size, data = 0, 0, read
    while True:
        take = data[: mark.size - size]
        crc, size = zlib.crc32(take, crc), size + len(take)
        if size == mark.size:
            return (data[len(take) :], crc) if crc == mark.crc else None
        data = stream.read(BLOCK)
        if not data:
            return None


def read_access_log(
    path: str | Path,
    site: str,
    known: Callable[[str], Watermark | None],
    flush: Callable[[Batch], None],
    batch: int = 10_000,
) -> LogImport:
    """Read the log at `path` for the site whose registered domain is `site`.

    `known(head)` returns what was imported before of the stream whose first
    line hashes to `head`; `flush(batch)` stores aggregates as they grow (and
    once at the end). Raises ImportRefused when the file is no access log or
    its compressed data is corrupt.
    """
    name, path = str(path), Path(path)
    try:
        with _open(path) as stream:
            head_line, read = _first_line(stream)
            layout = detect_layout(head_line.decode("utf-8", "replace"))
            if not head_line:
                raise ImportRefused(name, "the file holds no complete line, not an access log")
            if layout is None:
                text = head_line.decode("utf-8", "replace").strip()[:120]
                raise ImportRefused(
                    name,
                    "not an access log (Apache/nginx combined, vhost_combined or JSON lines):"
                    f" the first line reads {text!r}",
                )
            head = hashlib.blake2b(head_line, digest_size=16).hexdigest()
            mark = known(head)
            skipped = _skip(stream, read, mark) if mark is not None else None
            if mark is not None and skipped is not None:
                rest, crc = skipped
                start = Watermark(head, mark.size, crc, mark.lines)
                return _read(stream, rest, start, layout, site, name, flush, batch, True)
        with _open(path) as stream:
            start = Watermark(head, 0, 0, 0)
            return _read(stream, b"", start, layout, site, name, flush, batch, False)
    except (OSError, EOFError, zlib.error) as exc:
        raise ImportRefused(name, f"cannot read the file: {exc}") from exc


def _read(
    stream: BinaryIO,
    pending: bytes,
    start: Watermark,
    layout: str,
    site: str,
    name: str,
    flush: Callable[[Batch], None],
    batch: int,
    resumed: bool,
) -> LogImport:
    tally = Tally(skipped=start.lines)
    rejects: list[Reject] = []
    crc, size, number = start.crc, start.size, start.lines
    out = Batch()
    seen: dict[str, Referrer] = {}
    # The first round reads what is left over from the prefix check.
    for block in chain([b""], _blocks(stream)):
        data = pending + block if pending else block
        cut = data.rfind(b"\n") + 1
        pending = data[cut:]
        if not cut:
            continue
        whole = data[:cut]
        crc, size = zlib.crc32(whole, crc), size + cut
        text = whole.decode("utf-8", "replace")
        number = _tally_lines(text, number, layout, site, tally, out, rejects, seen)
        _refuse_unreadable(tally, number - start.lines, name, layout, rejects, SNIFF_LINES)
        if len(out) >= batch:
            flush(out)
            out = Batch()
    tally.partial_line = bool(pending.strip())
    _refuse_unreadable(tally, number - start.lines, name, layout, rejects, 1)
    flush(out)
    tally.lines = number - start.lines
    return LogImport(layout, Watermark(start.head, size, crc, number), resumed, tally, rejects)


def _refuse_unreadable(
    tally: Tally, read: int, name: str, layout: str, rejects: list[Reject], enough: int
) -> None:
    # A file none of whose first lines reads is no access log (or not in this layout):
    # refuse it rather than report thousands of malformed lines.
    if tally.malformed >= enough and read - tally.blank - tally.malformed == 0:
        first = rejects[0]
        raise ImportRefused(name, f"not a {layout} access log: line {first.line}: {first.reason}")


def _tally_lines(
    text: str,
    number: int,
    layout: str,
    site: str,
    tally: Tally,
    out: Batch,
    rejects: list[Reject],
    seen: dict[str, Referrer],
) -> int:
    """Count the complete lines of `text` into `tally` and `out`; returns the last line number.

    `seen` caches what each referrer is, across blocks (a dict: cheaper than lru_cache
    in this loop).

    The hot loop, longer than our 50 lines on purpose: at 200,000 lines a second
    every function call and attribute counts, so the common combined line is split
    here (the same fields as `logline.parse_line`, which reads everything else and
    says why a line is malformed), counters are locals, and the cheapest tests
    come first (most lines have no external referrer).
    """
    classify, visits, pages = referrers.classify, out.visits, out.referrers
    excluded: Counter[str] = Counter()
    vhosts: dict[str, bool] = {}
    fast, vhost = layout in (COMBINED, VHOST), layout == VHOST
    last_stamp, last_minute, last_day = "", "", None
    blank = malformed = other_hosts = no_referrer = internal = unreadable = 0
    not_visits = bots = counted = 0
    if len(seen) > SEEN_REFERRERS:
        seen.clear()  # bounded: referrer spam can send a new URL with every hit
    lines = text.split("\n")
    lines.pop()  # the text ends with a newline
    for line in lines:
        number += 1
        day = status = None
        if fast and len(parts := line.split('"')) == 7:
            # '... [10/Oct/2000:13:55:36 -0700] ': the time is the head's last 28 characters
            head, status_text = parts[0], parts[2]
            if (
                head[-29:-28] == "["
                and head[-2:] == "] "
                and status_text[4:5] == " "
                and status_text[1:4].isdigit()
            ):
                stamp = head[-28:-2]
                if stamp != last_stamp:  # then the minute: seconds never change the day
                    minute = stamp[:17] + stamp[20:]
                    if minute != last_minute:
                        last_minute, last_day = minute, utc_day(minute)
                    last_stamp = stamp
                day, host = last_day, (vhost_of(head) if vhost else None)
                request, code, referrer = parts[1], status_text[1:4], parts[3]
        if day is None:
            if not line or line.isspace():
                blank += 1
                continue
            hit = parse_line(line, layout)
            if isinstance(hit, str):
                malformed += 1
                if len(rejects) < SHOWN_REJECTS:
                    rejects.append(Reject(number, hit))
                continue
            host, day, request, status, referrer, agent = hit
        if host is not None:
            ours = vhosts.get(host)
            if ours is None:
                ours = vhosts[host] = host_on_domain(host_and_port(host)[0], site)
            if not ours:
                other_hosts += 1
                continue
        if referrer == "-" or not referrer:
            no_referrer += 1
            continue
        ref = seen.get(referrer)
        if ref is None:
            ref = seen[referrer] = classify(unescape(referrer), site)
        kind = ref.kind
        if kind is Kind.INTERNAL:
            internal += 1
            continue
        if kind is Kind.EXCLUDED:
            excluded[ref.category] += 1
            continue
        if kind is not Kind.PAGE and kind is not Kind.ORIGIN:
            unreadable += 1
            continue
        if status is None:  # the fast path: fields read only for lines that get here
            status, agent = int(code), unescape(parts[5])
        method, _, rest = request.partition(" ")
        target = rest.partition(" ")[0]
        if not counts_as_visit(method, status) or not is_page(target):
            not_visits += 1
            continue
        if is_bot(agent):
            bots += 1
            continue
        counted += 1
        visits[ref.key, day] += 1
        pages[ref.key] = ref
        if status in BROKEN_STATUSES and kind is Kind.PAGE:
            _broken(out, ref.key, _target_url(target, host or site), day)
        if tally.first_day is None or day < tally.first_day:
            tally.first_day = day
        if tally.last_day is None or day > tally.last_day:
            tally.last_day = day
    tally.blank += blank
    tally.malformed += malformed
    tally.other_hosts += other_hosts
    tally.no_referrer += no_referrer
    tally.internal += internal
    tally.excluded.update(excluded)
    tally.unreadable_referrer += unreadable
    tally.not_visits += not_visits
    tally.bots += bots
    tally.visits += counted
    return number


def _broken(out: Batch, key: str, target: str, day: str) -> None:
    hits, first, last = out.broken.get((key, target), (0, day, day))
    out.broken[key, target] = (hits + 1, min(first, day), max(last, day))


def _target_url(target: str, vhost: str) -> str:
    """Our page a request asked for, as an absolute URL.

    Logs do not say the scheme: https, unless the virtual host was logged with
    port 80 (or another port but 443, kept in the URL).

    >>> _target_url("/old?utm_source=x&p=2", "acme.com")
    'https://acme.com/old?p=2'
    >>> _target_url("/old", "www.acme.com:80"), _target_url("/old", "acme.com:8080")
    ('http://www.acme.com/old', 'http://acme.com:8080/old')
    >>> _target_url("http://www.acme.com/old", "acme.com")
    'http://www.acme.com/old'
    """
    if target.startswith(("http://", "https://")):
        return target  # absolute-form request line (through a proxy)
    path, _, query = target.partition("?")
    query = referrers.clean_query(query)
    host, port = host_and_port(vhost)
    base = f"https://{host}" if port in ("", "443") else f"http://{host}"
    base += f":{port}" if port not in ("", "80", "443") else ""
    return base + (path or "/") + (f"?{query}" if query else "")
