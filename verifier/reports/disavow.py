"""Google disavow files: parse, validate and render them; mark the backlinks they cover.

Google's rules (Search Console Help, "Disavow links to your site"): plain text in
UTF-8 or 7-bit ASCII, a name ending in `.txt`, one entry per line, either a URL or
`domain:example.com` (a domain and its subdomains, never a sub-path), `#` comment
lines, at most 100,000 lines (blank and comment lines count) and 2 MB, URLs of at
most 2,048 characters. Uploading a file replaces the whole previous list.

A disavow file is only for a site under a manual action for unnatural links.

The module is longer than usual (about 490 lines) because it is the whole of one
feature: the pure file format first, then the database side (import, export,
marking backlinks) and the `disavowed` report, whose SQL must match `Coverage`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlite_utils import Database

from verifier.reports import Report
from verifier.store.storage import now
from verifier.verdict.urls import host_of, host_on_domain, identity_key, normalize_host

MAX_LINES = 100_000
MAX_BYTES = 2_000_000  # Google says "2MB"; the decimal reading is the one that is always safe
MAX_URL_LENGTH = 2_048

DOMAIN = "domain"
URL = "url"
STATUSES = ("live", "lost", "unreachable")

#: The one-line warning every disavow command prints on stderr.
MANUAL_ACTION_NOTE = (
    "note: a disavow file is only for a site under a manual action for unnatural links "
    "(Search Console > Manual actions); otherwise Google already ignores such links"
)

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_PREFIX = "domain:"


class DisavowError(ValueError):
    """An entry (or a line of a domain list) that Google would not accept."""


@dataclass(frozen=True, slots=True)
class Entry:
    kind: str  # DOMAIN or URL
    value: str  # the host (lower-case, IDNA) or the URL as written
    line: int = 0  # where it was read; 0 when generated

    @property
    def text(self) -> str:
        """The entry as a disavow file writes it."""
        return _PREFIX + self.value if self.kind == DOMAIN else self.value

    @property
    def key(self) -> tuple[str, str]:
        """What makes two entries the same (URLs compare by `identity_key`)."""
        return (self.kind, self.value if self.kind == DOMAIN else identity_key(self.value))


@dataclass(frozen=True, slots=True)
class Problem:
    line: int  # 0: the file as a whole
    reason: str


@dataclass(frozen=True, slots=True)
class Parsed:
    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]


# --- one entry -------------------------------------------------------------


def parse_domain(value: str) -> str:
    """The bare host a `domain:` entry names, lower-case and IDNA-encoded.

    `www.` is kept as the user wrote it: `domain:www.spam.com` spares `blog.spam.com`.

    >>> parse_domain("Bücher.EXAMPLE.")
    'xn--bcher-kva.example'
    >>> parse_domain("spam.com/en/")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    DisavowError: sub-path: domain: takes a whole host, not a path ('spam.com/en/')
    """
    value = value.strip()
    if not value:
        raise DisavowError("domain: without a domain")
    if "://" in value:
        raise DisavowError(f"domain: takes a bare host, not a URL ({value!r})")
    if any(c in value for c in "/?#"):
        raise DisavowError(f"sub-path: domain: takes a whole host, not a path ({value!r})")
    if "*" in value:
        raise DisavowError(f"domain: takes no wildcards ({value!r}); domain:HOST covers subdomains")
    host = normalize_host(value)
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise DisavowError(f"domain: not a valid host name ({value!r})")
    return host


def parse_url(value: str) -> str:
    """The URL of a URL entry, as written, once it is known to be acceptable."""
    if len(value) > MAX_URL_LENGTH:
        raise DisavowError(f"URL longer than {MAX_URL_LENGTH:,} characters ({len(value):,})")
    if any(c.isspace() for c in value):
        raise DisavowError(f"URL contains whitespace ({value[:80]!r})")
    if "://" not in value:
        raise DisavowError(
            f"not a URL or domain: entry ({value[:80]!r}); write the full http(s) URL,"
            " or domain:HOST for a whole site"
        )
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError as exc:
        raise DisavowError(f"not a valid URL ({exc}): {value[:80]!r}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise DisavowError(f"not an http(s) URL ({parts.scheme}:)")
    if not host:
        raise DisavowError(f"URL without a host ({value[:80]!r})")
    return value


def parse_entry(line: str, number: int = 0) -> Entry:
    """One non-comment line of a disavow file as an entry; DisavowError says why not.

    The `domain:` prefix is matched in any case, and blanks around the value are
    tolerated; both are written back in the canonical form.

    >>> parse_entry("Domain: Spam.COM").text, parse_entry("https://spam.net/a").text
    ('domain:spam.com', 'https://spam.net/a')
    """
    line = line.strip()
    if line[: len(_PREFIX)].lower() == _PREFIX:
        return Entry(DOMAIN, parse_domain(line[len(_PREFIX) :]), number)
    return Entry(URL, parse_url(line), number)


# --- whole files -----------------------------------------------------------


def _lines(data: str | bytes, problems: list[Problem]) -> list[str | None]:
    """The file's lines without their ends; None for a line that is not UTF-8 (reported)."""
    if isinstance(data, str):
        lines: list[str | None] = [line.removesuffix("\r") for line in data.split("\n")]
    else:
        lines = []
        for number, chunk in enumerate(data.split(b"\n"), 1):
            try:
                lines.append(chunk.decode("utf-8").removesuffix("\r"))
            except UnicodeDecodeError as exc:
                problems.append(Problem(number, f"not UTF-8 (byte {exc.start + 1} of the line)"))
                lines.append(None)
    if lines and lines[-1] == "":
        lines.pop()  # the last newline ends a line, it does not start one
    return lines


def parse_disavow(data: str | bytes, *, strict: bool = False) -> Parsed:
    """Entries of a disavow file, and the problems of the lines that were left out.

    Lenient on purpose (a file saved by Windows Notepad must import): a BOM, CRLF
    line ends, blanks around a line and the case of `domain:` hosts are accepted.
    `strict` reports those too, as `validate` does for files we write. Later
    duplicates are reported and left out.

    >>> parsed = parse_disavow("# spam\\ndomain:spam.com\\nspam.com/en/\\n")
    >>> [e.text for e in parsed.entries], [(p.line, p.reason[:8]) for p in parsed.problems]
    (['domain:spam.com'], [(3, 'not a UR')])
    """
    problems: list[Problem] = []
    entries: list[Entry] = []
    seen: dict[tuple[str, str], int] = {}
    for number, line in enumerate(_lines(data, problems), 1):
        if line is None:
            continue
        if number == 1 and line.startswith("\ufeff"):
            if strict:
                problems.append(Problem(1, "starts with a byte-order mark (BOM)"))
            line = line[1:]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            entry = parse_entry(stripped, number)
        except DisavowError as exc:
            problems.append(Problem(number, str(exc)))
            continue
        if strict and entry.text != line:
            problems.append(Problem(number, f"not in canonical form; write {entry.text!r}"))
        if entry.key in seen:
            problems.append(Problem(number, f"duplicate of line {seen[entry.key]} (left out)"))
            continue
        seen[entry.key] = number
        entries.append(entry)
    return Parsed(tuple(entries), tuple(sorted(problems, key=lambda p: p.line)))


def size_problems(data: str | bytes) -> list[Problem]:
    """Google's whole-file limits: 100,000 lines (comments and blanks count) and 2 MB."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    problems = []
    if len(raw) > MAX_BYTES:
        problems.append(
            Problem(0, f"{len(raw):,} bytes; Google accepts at most 2 MB ({MAX_BYTES:,} bytes)")
        )
    lines = raw.count(b"\n") + (1 if raw and not raw.endswith(b"\n") else 0)
    if lines > MAX_LINES:
        problems.append(Problem(0, f"{lines:,} lines; Google accepts at most {MAX_LINES:,}"))
    return problems


def validate(text: str | bytes) -> list[Problem]:
    """Every reason Google could refuse (or misread) this file; empty when it is fine."""
    problems = size_problems(text)
    if isinstance(text, bytes) and text.startswith(b"\xef\xbb\xbf"):
        problems.append(Problem(1, "starts with a byte-order mark (BOM)"))
        text = text[3:]
    if "\r" in (text if isinstance(text, str) else text.decode("utf-8", "replace")):
        problems.append(Problem(0, "CR characters: write \\n line endings only"))
    return problems + list(parse_disavow(text, strict=True).problems)


def dedupe(entries: Iterable[Entry]) -> list[Entry]:
    """The entries without duplicates, in their order (the first one wins)."""
    first: dict[tuple[str, str], Entry] = {}
    for entry in entries:
        first.setdefault(entry.key, entry)
    return list(first.values())


def unique(entries: Iterable[Entry]) -> list[Entry]:
    """The entries without duplicates, domains first, each kind sorted (as files are written)."""
    return sorted(dedupe(entries), key=lambda e: (e.kind != DOMAIN, e.value))


def render(entries: Iterable[Entry], comments: Iterable[str] = ()) -> str:
    """A disavow file: `# ` comment lines, then the unique entries; `\\n` ends every line.

    >>> print(render([Entry(URL, "https://b.net/x"), Entry(DOMAIN, "a.com")], ["hi"]), end="")
    # hi
    domain:a.com
    https://b.net/x
    """
    lines = [f"# {text}".rstrip() for comment in comments for text in comment.splitlines()]
    lines += [entry.text for entry in unique(entries)]
    return "".join(line + "\n" for line in lines)


def parse_domain_list(text: str) -> tuple[list[str], list[Problem]]:
    """Hosts from a list with one per line (`#` starts a comment, `domain:` is optional)."""
    hosts: list[str] = []
    problems: list[Problem] = []
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), 1):
        value = line.split("#", 1)[0].strip()  # '#' never occurs in a host name
        if value[: len(_PREFIX)].lower() == _PREFIX:
            value = value[len(_PREFIX) :]
        if not value:
            continue
        try:
            hosts.append(parse_domain(value))
        except DisavowError as exc:
            problems.append(Problem(number, str(exc)))
    return hosts, problems


# --- which backlinks a list covers -----------------------------------------


class Coverage:
    """Finds the entry that covers a URL: a `domain:` of its host or a parent, or the URL."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        entries = list(entries)
        self.domains = {e.value: e for e in entries if e.kind == DOMAIN}
        self.urls = {e.key[1]: e for e in entries if e.kind == URL}

    def covering(self, url: str) -> Entry | None:
        host = candidate = host_of(url)
        while candidate:  # the host, then each parent domain
            if candidate in self.domains and host_on_domain(host, candidate):
                return self.domains[candidate]
            candidate = candidate.partition(".")[2]
        return self.urls.get(identity_key(url))


def diff_summary(old: Sequence[Entry], new: Sequence[Entry]) -> str:
    """`+3 domains, -1 url` (or `no change`) from the old list to the new one."""
    old_keys, new_keys = {e.key for e in old}, {e.key for e in new}
    parts = []
    for sign, keys in (("+", new_keys - old_keys), ("-", old_keys - new_keys)):
        for kind, plural in ((DOMAIN, "domains"), (URL, "urls")):
            count = sum(1 for k in keys if k[0] == kind)
            if count:
                parts.append(f"{sign}{count} {kind if count == 1 else plural}")
    return ", ".join(parts) or "no change"


def unified_diff(old: Sequence[Entry], new: Sequence[Entry], old_name: str, new_name: str) -> str:
    """A unified diff of the two lists' entry lines (comments left out)."""
    return "".join(
        difflib.unified_diff(
            render(old).splitlines(keepends=True),
            render(new).splitlines(keepends=True),
            fromfile=old_name,
            tofile=new_name,
        )
    )


# --- the database ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Imported:
    entries: tuple[Entry, ...]  # the previous import, as stored
    file: str | None
    imported_at: str | None


def load_imported(db: Database, site: str) -> Imported:
    rows = list(
        db.query(
            "select kind, value, line, file, imported_at from disavow_entries"
            " where site = ? order by id",
            [site],
        )
    )
    entries = tuple(Entry(r["kind"], r["value"], r["line"] or 0) for r in rows)
    return Imported(
        entries, rows[0]["file"] if rows else None, rows[0]["imported_at"] if rows else None
    )


@dataclass(frozen=True, slots=True)
class Marked:
    disavowed: int  # backlinks covered now
    newly: int  # of those, not disavowed before
    cleared: int  # backlinks no longer covered


def mark_backlinks(db: Database, site: str, entries: Iterable[Entry], stamp: str) -> Marked:
    """Set `disavowed_at` on the site's covered backlinks, clear it on the others.

    A backlink that stays covered keeps the date it was first disavowed.
    """
    coverage = Coverage(entries)
    covered, newly, cleared = [], [], []
    for row in db.query(
        "select id, source_url, disavowed_at from backlinks where site = ?", [site]
    ):
        if coverage.covering(row["source_url"]) is not None:
            covered.append(row["id"])
            if row["disavowed_at"] is None:
                newly.append(row["id"])
        elif row["disavowed_at"] is not None:
            cleared.append(row["id"])
    for ids, value in ((newly, stamp), (cleared, None)):
        for backlink_id in ids:
            db.execute("update backlinks set disavowed_at = ? where id = ?", [value, backlink_id])
    return Marked(len(covered), len(newly), len(cleared))


@dataclass(frozen=True, slots=True)
class ImportResult:
    previous: Imported
    added: int
    removed: int
    marked: Marked


def import_entries(db: Database, site: str, entries: Sequence[Entry], file: str) -> ImportResult:
    """Replace the site's disavow list with `entries` (as Google does on upload), mark backlinks."""
    stamp = now()
    with db.atomic():
        previous = load_imported(db, site)
        old_keys, new_keys = {e.key for e in previous.entries}, {e.key for e in entries}
        db.execute("delete from disavow_entries where site = ?", [site])
        db.table("disavow_entries").insert_all(
            (
                {
                    "site": site,
                    "kind": e.kind,
                    "value": e.value,
                    "file": file,
                    "line": e.line,
                    "imported_at": stamp,
                }
                for e in dedupe(entries)
            ),
            pk="id",
        )
        marked = mark_backlinks(db, site, entries, stamp)
    return ImportResult(previous, len(new_keys - old_keys), len(old_keys - new_keys), marked)


@dataclass(frozen=True, slots=True)
class Export:
    entries: tuple[Entry, ...]
    imported: Imported
    from_domains: int  # domain entries from --domains-from
    from_status: int  # URL entries from backlinks by status
    left_out: int  # URLs left out because a domain: entry covers them


def plan_export(db: Database, site: str, domains: Sequence[str], statuses: Sequence[str]) -> Export:
    """The entries to export: the given domains, backlinks by status, the imported list.

    A URL that a `domain:` entry covers is left out, also one from the imported list.
    """
    imported = load_imported(db, site)
    listed = [Entry(DOMAIN, d) for d in domains]
    coverage = Coverage([*listed, *(e for e in imported.entries if e.kind == DOMAIN)])
    rows = db.query(
        "select source_url from backlinks where site = ? and status in (select value from"
        " json_each(?)) order by source_key",
        [site, json.dumps(list(statuses))],
    )
    by_status = [Entry(URL, r["source_url"].strip()) for r in rows]
    urls = [*by_status, *(e for e in imported.entries if e.kind == URL)]
    kept = [e for e in urls if coverage.covering(e.value) is None]
    entries = unique([*listed, *(e for e in imported.entries if e.kind == DOMAIN), *kept])
    return Export(
        tuple(entries),
        imported,
        len({e.key for e in listed}),
        len({e.key for e in by_status if coverage.covering(e.value) is None}),
        len({e.key for e in urls}) - len({e.key for e in kept}),
    )


DISAVOWED_REPORT = Report(
    name="disavowed",
    title="Disavowed backlinks and the disavow entry that covers each",
    sql="""
        with recursive hosts as (
            select b.id, b.site, b.source_url, b.target_url, b.status, b.referring_domain,
                   b.disavowed_at, b.source_key, b.target_key,
                   substr(b.source_key, instr(b.source_key, '://') + 3) as rest
            from backlinks b
            where b.disavowed_at is not null and (:site is null or b.site = :site)
              and (:since is null or b.disavowed_at >= :since)
        ), bare as (
            select h.*, case when instr(h.rest, '/') > 0
                then substr(h.rest, 1, instr(h.rest, '/') - 1) else h.rest end as hostport
            from hosts h
        ), hosted as materialized (
            select bare.*, case when instr(hostport, ':') > 0 and hostport not like '[%'
                then substr(hostport, 1, instr(hostport, ':') - 1) else hostport end as host
            from bare
        ), suffixes(id, site, value) as (
            -- the host and each parent domain: what a domain: entry may name
            select id, site, host from hosted
            union all
            select id, site, substr(value, instr(value, '.') + 1) from suffixes
            where instr(value, '.') > 0
        ), by_domain as materialized (
            -- the longest domain: entry covering each backlink (an index lookup per suffix)
            select s.id, e.id as entry_id, max(length(e.value)) as length
            from suffixes s
            cross join disavow_entries e
                on e.site = s.site and e.kind = 'domain' and e.value = s.value
            group by s.id
        ), matched as (
            select m.*, coalesce(
                (select d.entry_id from by_domain d where d.id = m.id),
                (select e.id from disavow_entries e
                 where e.site = m.site and e.kind = 'url'
                   and e.value in (m.source_url, m.source_key) limit 1)
            ) as entry_id
            from hosted m
        )
        select m.id, m.site, m.source_url, m.target_url, m.status, m.referring_domain,
               m.disavowed_at,
               case e.kind when 'domain' then 'domain:' || e.value else e.value end
                   as disavowed_by,
               e.file as disavow_file, e.line as disavow_line
        from matched m left join disavow_entries e on e.id = m.entry_id
        order by m.site, m.source_key, m.target_key
    """,
    table_columns=("status", "disavowed_by", "source_url", "disavowed_at"),
    doc="""
        Backlinks that the imported disavow file covers, and the entry that covers each.

        `disavowed_by` is the domain: entry for the host or a parent domain (the
        longest one), else the URL entry; `disavowed_at` is when an import first
        covered the backlink. --since DATE keeps those disavowed on or after DATE.

        \b
        JSON keys: id, site, source_url, target_url, status, referring_domain,
        disavowed_at, disavowed_by, disavow_file, disavow_line.

        \b
        Example:
            backcheck report disavowed --site acme.com --format csv > disavowed.csv
    """,
)
