"""What an import produces: good rows, rejected rows, or a refusal of the whole file."""

from __future__ import annotations

from dataclasses import dataclass

#: Accepted values of `read_export(fmt=...)`.
FORMATS = ("auto", "csv", "urls", "ahrefs", "semrush", "majestic", "moz", "gsc")


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One backlink as the export lists it."""

    line: int  # 1-based physical line of the record's start (the header is line 1)
    source_url: str  # referring page URL, as exported, trimmed
    target_url: str | None  # None for 'urls' and 'gsc': any link to the site counts
    anchor: str | None
    metrics: dict[str, object]  # normalised vendor metrics; JSON-serialisable values only


@dataclass(frozen=True, slots=True)
class Reject:
    """A row we could not use, and why, in words a user can act on."""

    line: int
    reason: str


@dataclass(slots=True)
class ImportResult:
    format: str  # one of FORMATS except 'auto'
    rows: list[ImportRow]
    rejects: list[Reject]


class ImportRefused(Exception):
    """The whole file is not a backlink export (or not the format asked for)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)  # both in args, so the exception pickles
        self.path = path
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"
