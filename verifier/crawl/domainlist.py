"""Read the input of `backcheck crawl`: one domain or URL per line.

Rules (each a decision, documented here and tested):

* `#` starts a comment at the start of a line or after whitespace (a `#`
  inside a URL is a fragment). Blank lines are skipped. A UTF-8 BOM and CRLF
  line ends are fine.
* A bare host (`acme.com`, `blog.acme.com:8080/start`) starts at `https://`
  and falls back to `http://`: its start URLs are both, https first (see
  `DomainEntry.attempts`). A URL line (`https://acme.com/blog`) starts there.
* The crawl's scope is the line's registered domain, subdomains included: a
  line `blog.acme.com` starts at blog.acme.com and follows links anywhere on
  acme.com. Hosts whose suffix is not on the public suffix list (`acme.test`,
  an intranet name) are their own scope.
* Duplicates merge: lines with the same scope make one entry at the first of
  them, whose start URLs are those of every line in order (repeats, by crawl
  key, dropped).
* IP addresses are accepted: backlink exports do list sites served from a
  bare IP, and a local test server is one. The scope is that address only.
  `localhost` is accepted for the same reason.
* Refused, as `BadLine(line, reason, text)`: spaces inside, an email address,
  a scheme other than http(s), a URL without a host or with a bad port, a
  host name that is not LDH (hyphen at a label's edge, empty label, over 63 or
  253 characters, all-digit TLD, no IDNA encoding, an `xn--` label that is not
  punycode), a single label (no dot) other than `localhost`, a bare public
  suffix (`com`, `co.uk`, `github.io`), a start URL longer than the crawl's
  URL-length limit.
* Set aside for a site (`set_aside`, by `verifier.mentions.sources.off_limits`): the
  site itself and its competitors, whose pages are never read for it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from verifier.crawl.frontier import DEFAULT_LIMITS, TrapLimits, clean_url, crawl_key, idna_host
from verifier.mentions.sources import off_limits
from verifier.verdict.urls import registered_domain

if TYPE_CHECKING:
    from collections.abc import Iterable

# Letters, digits, hyphens; underscores too, since real host names carry them
# (browsers accept them, only the hostname RFCs do not).
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:(?!\d*(?:[/?#]|$))", re.IGNORECASE)
_EMAIL = re.compile(r"(?:mailto:)?[^@/\s]+@[^@/\s]+\.[^@/\s]+", re.IGNORECASE)
# A comment starts at the line's start or after whitespace.
_COMMENT = re.compile(r"(?:^|\s)#.*$")
_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass(frozen=True, slots=True)
class DomainEntry:
    """One domain to crawl, at the first line that named it."""

    line: int
    #: The crawl scope: registered domain (or IP), lower-case ASCII (IDNA).
    domain: str
    #: Where to start, in order; a bare host gives ('https://host/', 'http://host/').
    start_urls: tuple[str, ...]

    @property
    def attempts(self) -> tuple[tuple[str, str | None], ...]:
        """Each start URL with its fallback: an `http://` start URL with an `https://`
        twin is fetched only if the twin gets no answer.

        >>> DomainEntry(1, "acme.com", ("https://acme.com/", "http://acme.com/")).attempts
        (('https://acme.com/', 'http://acme.com/'),)
        """
        https = {
            url[len("https://") :]: url for url in self.start_urls if url.startswith("https://")
        }
        fallbacks = {
            https[url[len("http://") :]]: url
            for url in self.start_urls
            if url.startswith("http://") and url[len("http://") :] in https
        }
        return tuple(
            (url, fallbacks.get(url)) for url in self.start_urls if url not in fallbacks.values()
        )


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that was skipped, and why."""

    line: int
    reason: str
    text: str = ""

    def describe(self, file: str | Path) -> str:
        """The report line `FILE:LINE: reason: text`."""
        return f"{file}:{self.line}: {self.reason}" + (f": {self.text}" if self.text else "")


class DomainListError(Exception):
    """The domain list cannot be read at all (missing, unreadable, not UTF-8)."""


class _Refused(Exception):
    pass


def _is_public_suffix(host: str) -> bool:
    # registered_domain cannot tell "co.uk" (a suffix) from "acme.test" (no known
    # suffix): both come back as themselves. Two labels more can: under a suffix
    # the registered domain is one label plus the host, under nothing it is all.
    return registered_domain(f"a.b.{host}") == f"b.{host}"


def _bad_a_label(label: str) -> bool:
    """True for an `xn--` label that is not valid punycode (xn--zz)."""
    if not label.startswith("xn--"):
        return False
    try:
        import idna
    except ImportError:  # the stdlib codec is IDNA 2003: it would refuse xn--fa-hia (faß)
        return False
    try:
        idna.decode(label)
    except UnicodeError:  # idna.IDNAError included
        return True
    return False


def _valid_host(host: str) -> str:
    """The host as lower-case ASCII, or _Refused with the reason."""
    try:
        host = idna_host(host)
    except ValueError:
        raise _Refused("invalid host name") from None
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        pass  # a name, not an address
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise _Refused("invalid host name")
    if labels[-1].isdigit() or any(_bad_a_label(label) for label in labels):
        raise _Refused("invalid host name")
    if _is_public_suffix(host):
        raise _Refused("a public suffix, not a domain")
    if len(labels) == 1 and host != "localhost":
        raise _Refused("no dot: not a domain")
    return host


def _netloc(host: str, port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host
    return host if port is None else f"{host}:{port}"


def _scope(host: str) -> str:
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return registered_domain(host)


def _parse(text: str, limits: TrapLimits) -> tuple[str, tuple[str, ...]]:
    """(scope, start URLs) of one stripped, non-empty line, or _Refused."""
    if any(char.isspace() for char in text):
        raise _Refused("contains spaces")
    is_url = "://" in text
    if not is_url and _EMAIL.fullmatch(text):
        raise _Refused("an email address, not a domain")
    if not is_url and _SCHEME.match(text):
        raise _Refused("not an http(s) URL")
    try:
        parts = urlsplit(text if is_url else "//" + text)
        port = parts.port
    except ValueError:
        raise _Refused("malformed URL or port") from None
    if is_url and parts.scheme not in ("http", "https"):
        raise _Refused("not an http(s) URL")
    if not parts.hostname:
        raise _Refused("no host")
    host = _valid_host(parts.hostname)
    urls: tuple[str, ...]
    if is_url:
        urls = (clean_url(text, limits),)
    else:
        rest = (parts.path or "/", parts.query, "")
        urls = tuple(
            clean_url(urlunsplit((scheme, _netloc(host, port), *rest)), limits)
            for scheme in ("https", "http")
        )
    if any(len(url) > limits.max_url_length for url in urls):
        raise _Refused(f"longer than {limits.max_url_length} characters")
    return _scope(host), urls


def read_domain_list(
    lines: Iterable[str], *, limits: TrapLimits = DEFAULT_LIMITS
) -> tuple[list[DomainEntry], list[BadLine]]:
    """Entries in the order their scope first appears, and the skipped lines.

    >>> entries, bad = read_domain_list(["# mine", "acme.com", "https://www.acme.com/b", "com"])
    >>> [(e.line, e.domain, len(e.start_urls)) for e in entries], bad
    ([(2, 'acme.com', 3)], [BadLine(line=4, reason='a public suffix, not a domain', text='com')])
    """
    found: dict[str, tuple[int, dict[str, str]]] = {}
    bad: list[BadLine] = []
    for number, raw in enumerate(lines, start=1):
        text = _COMMENT.sub("", raw.lstrip("\ufeff") if number == 1 else raw).strip()
        if not text:
            continue
        try:
            domain, urls = _parse(text, limits)
        except _Refused as refused:
            bad.append(BadLine(number, str(refused), text))
            continue
        _, starts = found.setdefault(domain, (number, {}))
        for url in urls:
            starts.setdefault(crawl_key(url, limits), url)
    entries = [
        DomainEntry(line, domain, tuple(starts.values()))
        for domain, (line, starts) in found.items()
    ]
    return entries, bad


def set_aside(
    entries: Iterable[DomainEntry], site: str, competitors: Iterable[str]
) -> tuple[list[DomainEntry], list[BadLine]]:
    """The entries to crawl for `site`, and a `BadLine` for each that names the site itself
    or one of its competitors (`off_limits`)."""
    rivals = set(competitors)
    kept: list[DomainEntry] = []
    bad: list[BadLine] = []
    for entry in entries:
        if reason := off_limits(entry.domain, site, rivals):
            bad.append(BadLine(entry.line, reason, entry.domain))
        else:
            kept.append(entry)
    return kept, bad


def read_domain_file(
    path: str | Path, *, limits: TrapLimits = DEFAULT_LIMITS
) -> tuple[list[DomainEntry], list[BadLine]]:
    """Read a UTF-8 domain list (BOM fine); DomainListError names the file if unreadable."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DomainListError(f"{path}: cannot read the domain list: {error.strerror}") from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DomainListError(f"{path}:{line}: not UTF-8 text") from error
    return read_domain_list(_NEWLINE.split(text), limits=limits)
