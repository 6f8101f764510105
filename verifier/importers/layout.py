"""Bind a header row to a format: detection, column positions, refusal messages."""

from __future__ import annotations

from dataclasses import dataclass

from verifier.importers.formats import (
    BY_NAME,
    DAY_FIRST_KEYS,
    GENERIC,
    VENDORS,
    Column,
    Format,
    header_key,
)

#: Headers shown in a refusal message before it says "…".
SHOWN_HEADERS = 8


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each known column sits in a file's rows."""

    format: Format
    header: tuple[str, ...]
    bound: tuple[tuple[int, Column], ...]  # in table order: the first good value of a key wins
    extras: tuple[tuple[int, str], ...]  # generic CSV: unknown columns, by lower-cased name
    day_first: bool  # slash dates are day/month (a localised Search Console export)
    source: int
    target: int | None
    anchor: int | None

    @property
    def width(self) -> int:
        return len(self.header)


def missing_columns(fmt: Format, keys: set[str]) -> list[str]:
    """The required columns of `fmt` that none of the header `keys` provides."""
    required = ("source_url", "target_url") if fmt.needs_target else ("source_url",)
    absent: list[str] = []
    for key in required:
        column = fmt.column(key)
        if column is not None and not keys.intersection(column.keys):
            absent.append(column.headers[0])
    return absent


def bind(fmt: Format, header: list[str]) -> Layout:
    """The layout of `header` read as `fmt`; check `missing_columns` first."""
    keys = [header_key(name) for name in header]
    bound: list[tuple[int, Column]] = []
    taken: set[int] = set()
    for column in fmt.columns:
        # The column's own header order decides between two present aliases.
        for alias in column.keys:
            index = next((i for i, key in enumerate(keys) if key == alias and i not in taken), None)
            if index is not None:
                bound.append((index, column))
                taken.add(index)
                break
    extras: tuple[tuple[int, str], ...] = ()
    if fmt.keeps_extra:
        extras = tuple(
            (index, name.strip().lower())
            for index, name in enumerate(header)
            if index not in taken and name.strip()
        )
    day_first = not DAY_FIRST_KEYS.isdisjoint(keys)
    at = {column.key: index for index, column in reversed(bound)}
    return Layout(
        fmt,
        tuple(header),
        tuple(bound),
        extras,
        day_first,
        source=at["source_url"],
        target=at.get("target_url"),
        anchor=at.get("anchor"),
    )


def detect(header: list[str]) -> Format | None:
    """The format whose signature and required columns the header has; the best match wins."""
    keys = {header_key(name) for name in header}
    best: tuple[int, Format] | None = None
    for fmt in VENDORS:
        if fmt.signature.isdisjoint(keys) or missing_columns(fmt, keys):
            continue
        known = {key for column in fmt.columns for key in column.keys}
        score = len(keys & known)
        if best is None or score > best[0]:
            best = (score, fmt)
    if best is not None:
        return best[1]
    return None if missing_columns(GENERIC, keys) else GENERIC


def resolve(header: list[str], requested: str) -> Layout | str:
    """The layout for `header`, or why the file is refused (a sentence without the file name)."""
    keys = {header_key(name) for name in header}
    shown = show_headers(header)
    if requested != "auto":
        fmt = BY_NAME[requested]
        if absent := missing_columns(fmt, keys):
            return (
                f"not {fmt.label}: missing required column(s) {_quoted(absent)} (headers: {shown})"
            )
        return bind(fmt, header)
    if (found := detect(header)) is not None:
        return bind(found, header)
    if (report := describe(keys)) is not None:
        return (
            f"this looks like {report}, not a backlink export "
            f"(no referring page column; headers: {shown})"
        )
    for fmt in VENDORS:
        if not fmt.signature.isdisjoint(keys):
            absent = missing_columns(fmt, keys)
            return (
                f"this looks like {fmt.label} but lacks the required column(s) "
                f"{_quoted(absent)} (headers: {shown})"
            )
    return (
        "not a backlink export we recognise: no referring page column such as "
        f"'Referring page URL', 'Source URL', 'source_url' or 'Linking page' (headers: {shown})"
    )


_PAGE_KEYS = frozenset({"url", "page", "pageurl", "sourceurl"})
_DOMAIN_KEYS = frozenset({"domain", "referringdomain", "rootdomain", "sourcedomain"})
_PAGE_REPORT_KEYS = frozenset(
    {"traffic", "keywords", "topkeyword", "referringdomains", "backlinks", "domains"}
)


def describe(keys: set[str]) -> str | None:
    """What a non-backlink report is, from its header keys; None when we cannot tell.

    >>> describe({"url", "traffic", "keywords", "topkeyword"})
    'an Ahrefs "Top pages" report'
    >>> describe({"domain", "domainrating", "dofollowrefdomains"})
    'an Ahrefs "Referring domains" export'
    """
    if "keyword" in keys and keys & {"position", "volume", "kd", "searchvolume", "traffic"}:
        return "an organic keywords report"
    if keys & _DOMAIN_KEYS and not keys & _PAGE_KEYS:
        if keys & {"dofollowrefdomains", "dofollowlinkeddomains", "domainrating", "dr"}:
            return 'an Ahrefs "Referring domains" export'
        return "a referring domains report"
    if keys & _PAGE_KEYS and keys & _PAGE_REPORT_KEYS:
        if keys & {"topkeyword", "traffic"}:
            return 'an Ahrefs "Top pages" report'
        return 'a Semrush "Indexed pages" report'
    if keys & {"linkingpages", "linkingsites", "incominglinks"}:
        if keys & {"site", "linkingsite"}:
            return 'a Search Console "Top linking sites" report'
        return 'a Search Console "Top linked pages" report'
    if keys & {"anchor", "anchortext"} and not keys & _PAGE_KEYS:
        return "an anchors report"
    return None


def show_headers(header: list[str]) -> str:
    """The first few non-empty header names for a message.

    >>> show_headers(["URL", "Traffic", "", "Keywords"])
    'URL, Traffic, Keywords'
    """
    names = [name for name in header if name]
    more = ", …" if len(names) > SHOWN_HEADERS else ""
    return ", ".join(names[:SHOWN_HEADERS]) + more


def _quoted(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)
