"""Read a Google Analytics 4 export: sessions (or views) per page referrer, with or without days.

The export is an Exploration with the `Page referrer` dimension and the
`Sessions` metric (else `Views`), with or without the `Date` dimension, saved
as CSV. GA writes a preamble of `#` lines (the property, `# Start date:
20240101`, `# End date: 20240131`), then the table. Rows whose referrer is
empty or `(not set)`, and totals rows, are ignored. Without a Date column a
row's visits cover the export's date range, taken from the preamble.

Only English column names are recognised: GA's own, not a translation.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from verifier.importers.formats import header_key
from verifier.importers.models import ImportRefused, Reject
from verifier.importers.referrers import Kind, Referrer, classify
from verifier.importers.sniff import detect_encoding, looks_binary, open_text, sniff_container

REFERRER_HEADERS = ("pagereferrer",)
DATE_HEADERS = ("date",)
#: Metrics in the order preferred: sessions are visits; views are the fallback.
METRIC_HEADERS = ("sessions", "views", "screenpageviews")
NOT_SET = frozenset({"", "(not set)", "(none)", "(direct)", "-"})
_TOTALS = re.compile(r"^(grand\s+)?totals?$", re.IGNORECASE)
_RANGE = re.compile(r"^#\s*(start|end)\s+date\s*:\s*(\d{8}|\d{4}-\d{2}-\d{2})\s*$", re.IGNORECASE)


@dataclass(slots=True)
class Ga4Export:
    metric: str  # the column counted: Sessions or Views
    visits: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (key, day, until)
    referrers: dict[str, Referrer] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    rows: int = 0
    ignored: int = 0  # totals, (not set), empty referrers, zero visits
    internal: int = 0
    excluded: Counter[str] = field(default_factory=Counter)
    unreadable_referrer: int = 0
    first_day: str | None = None
    last_day: str | None = None

    @property
    def total(self) -> int:
        return sum(self.visits.values())


def ga4_day(value: str) -> str | None:
    """A GA4 date cell as YYYY-MM-DD: `20240105`, `2024010513` (date and hour) or ISO.

    >>> ga4_day("20240105"), ga4_day("2024-01-05"), ga4_day("2024010513"), ga4_day("Jan 5")
    ('2024-01-05', '2024-01-05', '2024-01-05', None)
    """
    text = value.strip()
    if re.fullmatch(r"\d{8}(\d{2})?", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:8]}"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    year, month, day = int(text[:4]), int(text[5:7]), int(text[8:10])
    return text if 1 <= month <= 12 and 1 <= day <= 31 and year > 1990 else None


def ga4_count(value: str) -> int | None:
    """A metric cell as an integer: `1,234`, `1234`, `12.0`; None when it is no number.

    >>> ga4_count("1,234"), ga4_count(" 12.0 "), ga4_count("n/a")
    (1234, 12, None)
    """
    text = value.strip().replace(",", "").replace("\u202f", "").replace("\xa0", "")
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number >= 0 and number == int(number) else None


def looks_like_ga4(path: str | Path) -> bool:
    """True when a header of the file's first 50 lines has GA4's `Page referrer` column."""
    try:
        with Path(path).open(encoding="utf-8", errors="replace") as stream:
            head = [stream.readline() for _ in range(50)]
    except OSError:
        return False
    return any(
        header_key(cell) in REFERRER_HEADERS
        for line in head
        if not line.startswith("#")
        for cell in line.split(",")
    )


def read_ga4(path: str | Path, site: str) -> Ga4Export:
    """Read the GA4 export at `path` for the site whose registered domain is `site`."""
    name, path = str(path), Path(path)
    if container := sniff_container(path):
        raise ImportRefused(name, f"this is {container}, not a GA4 CSV export; download it as CSV")
    if looks_binary(path):
        raise ImportRefused(name, "not a text file (binary data), not a GA4 CSV export")
    dates: dict[str, str] = {}
    export: Ga4Export | None = None
    columns: tuple[int, int | None, int] | None = None
    with open_text(path, detect_encoding(path)) as stream:
        reader = csv.reader(stream)
        for cells in reader:
            line = reader.line_num  # the physical line where the record ends
            first = cells[0].strip() if cells else ""
            if not any(cell.strip() for cell in cells) or first.startswith("#"):
                if (found := _RANGE.match(",".join(cells).strip())) is not None:
                    dates[found.group(1).lower()] = ga4_day(found.group(2)) or ""
                if first.startswith("#"):
                    columns = None  # a new section: its own header follows
                continue
            if columns is None:
                columns, metric = _header(cells, name, line)
                export = export or Ga4Export(metric)
                continue
            assert export is not None
            _row(export, cells, columns, line, site, dates)
    if export is None:
        raise ImportRefused(name, "no table found: the file holds only # lines, not a GA4 export")
    return export


def _header(cells: list[str], name: str, line: int) -> tuple[tuple[int, int | None, int], str]:
    keys = [header_key(cell) for cell in cells]
    referrer = next((i for i, key in enumerate(keys) if key in REFERRER_HEADERS), None)
    date = next((i for i, key in enumerate(keys) if key in DATE_HEADERS), None)
    metric = next(
        (keys.index(key) for key in METRIC_HEADERS if key in keys), None
    )  # sessions first
    if referrer is None or metric is None:
        raise ImportRefused(
            name,
            f"line {line}: not a GA4 referrer export: it needs the columns 'Page referrer' and"
            f" 'Sessions' (or 'Views'); the header reads {', '.join(cells)[:160]!r}",
        )
    return (referrer, date, metric), cells[metric].strip()


def _row(
    export: Ga4Export,
    cells: list[str],
    columns: tuple[int, int | None, int],
    line: int,
    site: str,
    dates: dict[str, str],
) -> None:
    referrer_at, date_at, metric_at = columns
    cells = cells + [""] * (max(c for c in columns if c is not None) + 1 - len(cells))
    raw = cells[referrer_at].strip()
    count = ga4_count(cells[metric_at])
    if raw.casefold() in NOT_SET or _TOTALS.match(raw) or count == 0:
        export.ignored += 1
        return
    if count is None:
        export.rejects.append(Reject(line, f"{cells[metric_at]!r} is not a number of visits"))
        return
    if date_at is not None:
        dated = ga4_day(cells[date_at])
        if dated is None:
            export.rejects.append(Reject(line, f"{cells[date_at]!r} is not a date (YYYYMMDD)"))
            return
        day = until = dated
    elif dates.get("start") and dates.get("end"):
        day, until = dates["start"], dates["end"]
    else:
        export.rejects.append(
            Reject(line, "no Date column and no '# Start date' / '# End date' lines: when?")
        )
        return
    export.rows += 1
    ref = classify(raw, site)
    if ref.kind is Kind.INTERNAL:
        export.internal += count
    elif ref.kind is Kind.EXCLUDED:
        export.excluded[ref.category] += count
    elif ref.kind in (Kind.PAGE, Kind.ORIGIN):
        export.visits[ref.key, day, until] += count
        export.referrers[ref.key] = ref
        export.first_day = min(export.first_day or day, day)
        export.last_day = max(export.last_day or until, until)
    else:
        export.unreadable_referrer += count
