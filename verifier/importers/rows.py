"""Turn one record into an ImportRow or a Reject: realign, validate, read metrics."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from verifier.importers.formats import CHECKED_KINDS, Kind
from verifier.importers.models import ImportRow, Reject
from verifier.importers.sniff import Record
from verifier.importers.values import (
    is_blank,
    parse_bool,
    parse_date,
    parse_link_type,
    parse_number,
)
from verifier.verdict.urls import browser_href, is_http_url, is_on_site

if TYPE_CHECKING:
    from verifier.importers.layout import Layout

#: Keys that are ImportRow fields, never metrics.
ROW_FIELDS = frozenset({"source_url", "target_url", "anchor"})

_INT = re.compile(r"-?(?:0|[1-9]\d*)")
_FLOAT = re.compile(r"-?(?:0|[1-9]\d*)\.\d+")
#: Characters browsers percent-encode or drop in a URL: such a URL is stored as they send it.
_NEEDS_ENCODING = re.compile(r"[^\x21-\x7e]|[\"<>\\^`{|}]")
#: An http(s) URL without the two slashes after its scheme (`http:\\b.test\\p`,
#: `https:b.test/p`): a browser finds the host there all the same.
_ODD_SLASHES = re.compile(r"\s*https?:(?!//)", re.IGNORECASE)
#: Whitespace then a new URL: two cells run together, not one address.
_TWO_URLS = re.compile(r"\s+https?:", re.IGNORECASE)


def build_row(record: Record, layout: Layout, delimiter: str, site: str) -> ImportRow | Reject:
    """The backlink in `record`, or why it cannot be used."""
    cells = fit_cells(record, layout, delimiter)
    if isinstance(cells, str):
        return Reject(record.line, cells)
    source = cells[layout.source].strip()
    target = cells[layout.target].strip() if layout.target is not None else None
    if problem := check_urls(source, target, layout.format.needs_target, site):
        return Reject(record.line, problem)
    anchor = cells[layout.anchor].strip() if layout.anchor is not None else ""
    return ImportRow(
        record.line,
        as_browsers_send(source),
        as_browsers_send(target) if target else None,
        anchor or None,
        read_metrics(cells, layout),
    )


def url_row(line: int, text: str, site: str) -> ImportRow | Reject:
    """A row of a plain URL list: the whole line is the referring page."""
    source = text.strip().strip('"').strip()
    if problem := check_urls(source, None, False, site):
        return Reject(line, problem)
    return ImportRow(line, as_browsers_send(source), None, None, {})


def check_urls(source: str, target: str | None, needs_target: bool, site: str) -> str | None:
    """Why this source/target pair is not a backlink to `site`; None when it is one."""
    if not source:
        return "no referring page URL"
    if problem := url_problem(source):
        return problem
    if needs_target and not target:
        return "no target URL"
    if target and (problem := url_problem(target)):
        return f"target: {problem}"
    # Hosts as browsers read them: `%61cme.com` is acme.com.
    if is_on_site(browser_href(source) or source, site):
        return f"internal link: the referring page is on {site}"
    if target and not is_on_site(browser_href(target) or target, site):
        return f"target not on {site}: {target}"
    return None


def url_problem(url: str) -> str | None:
    """What is wrong with an exported URL, or None.

    A URL a browser reads (the WHATWG URL standard) is kept, even with a space
    or a non-ASCII path (`as_browsers_send` encodes it); only one a browser
    refuses, or one that is not http(s), is rejected.

    >>> url_problem("ftp://x"), url_problem("http://[::1"), url_problem("https://a.com/x y")
    ("not an http(s) URL: 'ftp://x'", "unparseable URL: 'http://[::1'", None)
    >>> url_problem("http://a.com:65536/"), url_problem("http://a b.com/")
    ("port out of range (0-65535): 'http://a.com:65536/'", "unparseable URL: 'http://a b.com/'")
    >>> url_problem("http:\\\\b.test\\p"), url_problem("https:b.test/p")
    (None, None)
    """
    url = _slashed(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"unparseable URL: {_show(url)}"
    if parts.scheme.lower() not in ("http", "https"):
        return f"not an http(s) URL: {_show(url)}"
    try:
        _ = parts.port  # raises for a port that is not a number in range
    except ValueError as error:
        if "out of range" in str(error):
            return f"port out of range (0-65535): {_show(url)}"
        return f"unparseable URL: {_show(url)}"
    if _TWO_URLS.search(url):
        return f"two URLs in one cell: {_show(url)}"
    if not parts.hostname or browser_href(url) is None:
        return f"unparseable URL: {_show(url)}"
    return None if is_http_url(url) else f"not an http(s) URL: {_show(url)}"


def as_browsers_send(url: str) -> str:
    """`url` as written, or, when it holds characters browsers encode, as they send it.

    A Unicode host is kept as written, lower-cased (the fetch encodes it: `browser_url`).

    >>> as_browsers_send("http://b.test/with space"), as_browsers_send("https://ACME.com/ok")
    ('http://b.test/with%20space', 'https://ACME.com/ok')
    >>> as_browsers_send("http://Faß.example/ü ^"), as_browsers_send("https:b.test/p")
    ('http://faß.example/%C3%BC%20%5E', 'https://b.test/p')
    """
    url = _slashed(url)
    if not _NEEDS_ENCODING.search(url) or (href := browser_href(url)) is None:
        return url
    host = urlsplit(url).hostname or ""
    if host.isascii():
        return href
    return href.replace(urlsplit(href).hostname or "", host, 1)


def _slashed(url: str) -> str:
    """`url` with the slashes after its scheme a browser reads there (`_ODD_SLASHES`)."""
    if _ODD_SLASHES.match(url) and (href := browser_href(url.strip())) is not None:
        return href
    return url


def _show(value: str, limit: int = 120) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def fit_cells(record: Record, layout: Layout, delimiter: str) -> list[str] | str:
    """The record's cells, one per header column, or why they cannot be aligned.

    Short rows are padded (exports drop trailing empty cells). A long row
    has stray delimiters inside a text cell: the surplus is given back to the
    one text column (usually the anchor) where the rest of the row still reads
    as the header says. Rows from broken quoting must pass the same check.
    """
    cells = list(record.cells)
    width = layout.width
    while len(cells) > width and not cells[-1].strip():
        cells.pop()  # a trailing delimiter
    if len(cells) > width:
        return _absorb(cells, layout, delimiter)
    cells += [""] * (width - len(cells))
    if record.broken and not plausible(cells, layout):
        return "malformed CSV row (broken quoting): cannot tell which cell is which"
    return cells


def trusted(cells: list[str], layout: Layout, delimiter: str) -> bool:
    """True when cells joined across lines still read as a row of `layout`."""
    return not isinstance(fit_cells(Record(0, cells, broken=True), layout, delimiter), str)


def _absorb(cells: list[str], layout: Layout, delimiter: str) -> list[str] | str:
    surplus = len(cells) - layout.width
    texts = [(index, column) for index, column in layout.bound if column.kind is Kind.TEXT]
    fits: dict[tuple[str, ...], str] = {}
    for index, column in texts:
        end = index + surplus + 1
        merged = [*cells[:index], delimiter.join(cells[index:end]), *cells[end:]]
        if plausible(merged, layout):
            fits[tuple(merged)] = column.headers[0]
    count = f"row has {len(cells)} cells but the header has {layout.width}"
    if len(fits) == 1:
        return list(next(iter(fits)))
    if not texts:
        return f"{count}, and there is no anchor column to hold the extra ones"
    if not fits:
        names = ", ".join(repr(column.headers[0]) for _, column in texts)
        return f"{count}, and the extra cells do not fit in {names}"
    return f"{count}, and the extra cells could belong to {', '.join(map(repr, fits.values()))}"


def plausible(cells: list[str], layout: Layout) -> bool:
    """True when every typed cell reads as its column's type (URLs, numbers, dates, flags)."""
    for index, column in layout.bound:
        value = cells[index].strip()
        if column.kind is Kind.URL:
            if (value or column.key == "source_url") and not is_http_url(value):
                return False
        elif (
            column.kind in CHECKED_KINDS
            and not is_blank(value)
            and convert(column.kind, value, layout.day_first) is None
        ):
            return False
    return True


def read_metrics(cells: list[str], layout: Layout) -> dict[str, object]:
    """Normalised metrics of a row; values that do not parse are left out."""
    metrics: dict[str, object] = {}
    for index, column in layout.bound:
        key = column.key
        if key is None or key in ROW_FIELDS or key in metrics:
            continue
        value = convert(column.kind, cells[index], layout.day_first)
        if value is not None:
            metrics[key] = value
    for index, name in layout.extras:
        raw = cells[index].strip()
        if raw and name not in metrics:
            metrics[name] = raw_value(raw)
    return metrics


def convert(kind: Kind, value: str, day_first: bool = False) -> object:
    """A cell as the Python value its column kind stands for; None when it does not parse."""
    if kind is Kind.NUMBER:
        return parse_number(value)
    if kind is Kind.DATE:
        return parse_date(value, day_first)
    if kind is Kind.FLAG:
        return parse_bool(value)
    if kind is Kind.FOLLOW:
        follow = parse_bool(value)
        return None if follow is None else not follow
    if kind is Kind.LINK_TYPE:
        return parse_link_type(value)
    if kind is Kind.LOST_FLAG:
        return "lost" if parse_bool(value) else None
    text = value.strip()
    return None if is_blank(text) else text


def raw_value(value: str) -> object:
    """A generic CSV cell kept as is, except plain numbers, which become numbers.

    >>> raw_value("12"), raw_value("12.5"), raw_value("007"), raw_value("spring")
    (12, 12.5, '007', 'spring')
    """
    if _INT.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value):
        return float(value)
    return value
