"""Read backlink exports: Ahrefs, Semrush, Majestic, Moz, Search Console, CSV, URL lists.

`read_export(path, site)` sniffs the encoding, delimiter and vendor format,
then streams the file row by row. Every row ends up either as an `ImportRow`
or as a `Reject` with its line number and a reason; a file that is not a
backlink export at all raises `ImportRefused`.

>>> from pathlib import Path
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = Path(tmp, "links.csv")
...     _ = path.write_text("source_url,target_url\\nhttps://blog.example/a,https://acme.com/\\n")
...     row = read_export(path, "acme.com").rows[0]
>>> row.line, row.source_url, row.target_url
(2, 'https://blog.example/a', 'https://acme.com/')
"""

from __future__ import annotations

import logging
import os
import re
from functools import partial
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from verifier.importers.formats import GSC_SOURCE, header_key
from verifier.importers.layout import resolve
from verifier.importers.models import FORMATS, ImportRefused, ImportResult, ImportRow, Reject
from verifier.importers.rows import build_row, trusted, url_row
from verifier.importers.sniff import (
    detect_encoding,
    iter_records,
    looks_binary,
    open_text,
    sniff_container,
    sniff_delimiter,
    split_leniently,
    split_line,
    unquote,
)
from verifier.verdict.urls import site_domain

if TYPE_CHECKING:
    from collections.abc import Iterable

    from verifier.importers.layout import Layout

__all__ = [
    "FORMATS",
    "ImportRefused",
    "ImportResult",
    "ImportRow",
    "Reject",
    "read_export",
]

logger = logging.getLogger(__name__)

#: Keys of a lone first line that is the header of a URL list, not a URL.
URL_LIST_HEADERS = frozenset(
    {"url", "urls", "sourceurl", "referringpage", "referringpageurl", "page", "pageurl", "link"}
)
# A lone "Linking page" header is a Search Console sample-links export when
# detected, but still only a header when the user says the file is a URL list.
_SKIPPED_HEADERS = URL_LIST_HEADERS | {header_key(name) for name in GSC_SOURCE}

# One token, no delimiter, that starts like a URL.
_URL_TOKEN = re.compile(r"(?:https?://|www\.)[^\s,;]+", re.IGNORECASE)


def read_export(path: str | Path, site: str, fmt: str = "auto") -> ImportResult:
    """Read the backlink export at `path` for the site whose registered domain is `site`.

    `fmt` is one of FORMATS; "auto" detects it from the header row. Raises
    ImportRefused when the file is empty, is some other report, or lacks the
    columns `fmt` needs; ValueError for an unknown `fmt`.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown import format {fmt!r}; expected one of {', '.join(FORMATS)}")
    name = os.fspath(path)
    path = Path(path)
    domain = site_domain(site)
    if container := sniff_container(path):
        raise ImportRefused(name, f"this is {container}, not a CSV export; export it as CSV")
    if looks_binary(path):
        raise ImportRefused(name, "not a text file (binary data), not a backlink export")
    encoding = detect_encoding(path)
    with open_text(path, encoding) as stream:
        numbered = enumerate(stream, start=1)
        first = next(((line, text) for line, text in numbered if text.strip()), None)
        if first is None:
            raise ImportRefused(name, "the file is empty, not a backlink export")
        line, text = first
        if fmt == "urls" or (fmt == "auto" and _is_url_list(text)):
            if fmt == "urls" and not _is_url_list(text) and sniff_delimiter(text):
                raise ImportRefused(
                    name, f"not a URL list (one URL per line): line {line} reads {text.strip()!r}"
                )
            result = _read_urls(first, numbered, domain)
        else:
            layout, delimiter = _read_header(text, fmt, name)
            result = ImportResult(layout.format.name, [], [])
            separator = delimiter or ","
            records = iter_records(
                (text for _, text in numbered),
                delimiter,
                line + 1,
                partial(trusted, layout=layout, delimiter=separator),
            )
            for record in records:
                _add(result, build_row(record, layout, separator, domain))
    logger.debug(
        "%(path)s: %(format)s export in %(encoding)s, %(rows)d rows, %(rejects)d rejected",
        {
            "path": name,
            "format": result.format,
            "encoding": encoding,
            "rows": len(result.rows),
            "rejects": len(result.rejects),
        },
    )
    return result


def _read_header(text: str, fmt: str, name: str) -> tuple[Layout, str | None]:
    delimiter = sniff_delimiter(text)
    header = split_line(text, delimiter) or split_leniently(text, delimiter or ",")
    layout = resolve([unquote(cell) for cell in header], fmt)
    if isinstance(layout, str):
        raise ImportRefused(name, layout)
    return layout, delimiter


def _is_url_list(first: str) -> bool:
    token = unquote(first)
    if sniff_delimiter(first) is None and header_key(token) in URL_LIST_HEADERS:
        return True
    return bool(_URL_TOKEN.fullmatch(token))


def _read_urls(first: tuple[int, str], numbered: enumerate[str], domain: str) -> ImportResult:
    result = ImportResult("urls", [], [])
    # A lone header such as "url" is skipped; anything else on line 1 is a row.
    lines: Iterable[tuple[int, str]] = numbered
    if header_key(unquote(first[1])) not in _SKIPPED_HEADERS:
        lines = chain([first], numbered)
    for line, text in lines:
        if text.strip():
            _add(result, url_row(line, text, domain))
    return result


def _add(result: ImportResult, outcome: ImportRow | Reject) -> None:
    if isinstance(outcome, ImportRow):
        result.rows.append(outcome)
    else:
        result.rejects.append(outcome)
