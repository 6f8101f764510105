"""Proof, from a page's bytes alone, that none of its links can point at a domain.

Most referring pages in a crawl hold no link to the site at all; proving that
costs a few passes over the bytes, while finding the links costs a full
parse. The proof must be exact: a page it clears must be one on which
`verifier.verdict.page.links_to` would find nothing. So it follows what can happen
between the bytes and the host that `links_to` compares:

* the HTML parser decodes character references (`&#97;`, `&period;`, legacy
  names without `;`) in an href;
* browsers, and `links_to`, drop tabs and newlines anywhere in a URL, and
  decode percent-escapes in a host (`%61cme.com` is acme.com);
* hosts are lower-cased, and a label with non-ASCII characters goes through
  IDNA, whose mapping maps some of them onto ASCII (full-width letters,
  ligatures, `™`), onto nothing (soft hyphen) or onto a dot (`。`);
* relative links resolve against the page URL, or a `<base>` (whose href
  then names the domain itself).

A page is cleared only when none of these can put the domain into a host:
its lower-cased bytes without tabs and newlines do not contain the domain,
no character reference, percent-escape or non-ASCII character on it can turn
into a character of the domain (or vanish, or act as a dot), and its own URL is
not on the domain. Anything else goes to the full parse.
"""

from __future__ import annotations

import contextlib
import encodings.idna
import functools
import html.entities
import re
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

import idna

from verifier.verdict.urls import host_of, host_on_domain, may_be_written_in_unicode

#: Dropped from URLs anywhere (WHATWG URL parser, urllib, `links_to`).
URL_NOISE = "\t\n\r"
#: What Python's IDNA codec splits labels on, besides ".".
LABEL_DOTS = "\u3002\uff0e\uff61"

_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
#: Runs of percent-escapes, in lower-cased bytes.
_ESCAPES = re.compile(rb"(?:%[0-9a-f]{2})+")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _images(char: str) -> set[str]:
    """What `char` may become inside a host: lower-cased, through nameprep (IDNA 2003)
    and through UTS #46 mapping (what `verifier.verdict.urls.normalize_host` uses)."""
    images = {char.lower()}
    for form in (char, char.lower()):
        # A prohibited character fails IDNA for the whole host, which then keeps it.
        with contextlib.suppress(UnicodeError):
            images.add(encodings.idna.nameprep(form))
        with contextlib.suppress(UnicodeError):
            images.add(idna.uts46_remap(form, std3_rules=False, transitional=False))
    return images


def _overlaps(image: str, domain: str) -> bool:
    """True when part of `image` can be part of an occurrence of `domain`.

    Either lies inside the other, or an end of one is the other's start.
    """
    if image in domain or domain in image:
        return True
    return any(
        image.endswith(domain[:k]) or image.startswith(domain[-k:])
        for k in range(1, min(len(image), len(domain)))
    )


@functools.lru_cache(maxsize=4096)
def turns_into(char: str, domain: str) -> bool:
    """True when `char` can become part of `domain` in a host, vanish, or split labels.

    A character that IDNA maps onto several (`™` is "tm", `…` is "...") only
    counts when those can join the domain: "..." never can, since a domain has
    no two dots in a row.

    >>> turns_into("A", "acme.com"), turns_into("&", "acme.com")
    (True, False)
    >>> turns_into("\\uff43", "acme.com"), turns_into("\\u00ad", "acme.com")  # full-width c, shy
    (True, True)
    >>> turns_into("\\u00a9", "acme.com"), turns_into("\\u2019", "acme.com")  # (c), quote
    (False, False)
    >>> turns_into("\\u2122", "acme.com"), turns_into("\\u2122", "tm.com")  # trade mark
    (False, True)
    >>> turns_into("\\u2026", "acme.com"), turns_into("\\u2024", "acme.com")  # ..., one dot
    (False, True)
    """
    if char in URL_NOISE or char in LABEL_DOTS or char == "%":  # "%" may start an escape
        return True
    for image in _images(char):
        if not image or any(c in URL_NOISE or c in LABEL_DOTS for c in image):
            return True
        if _overlaps(image, domain):
            return True
    return False


@functools.lru_cache(maxsize=64)
def _refs(domain: str) -> re.Pattern[bytes]:
    """Numeric references, and named ones whose value can turn into part of `domain`.

    Named ones without the `;` too: the parser decodes legacy names such as `&shy` bare.
    One pattern, so the page is scanned once.
    """
    names = sorted(
        {
            name.rstrip(";")
            for name, value in html.entities.html5.items()
            if any(turns_into(c, domain) for c in value)
        },
        key=len,
        reverse=True,
    )
    named = b"|".join(re.escape(n.encode()) for n in names)
    return re.compile(rb"&(?:#(?:[xX]([0-9a-fA-F]+)|([0-9]+))|" + named + rb")")


def code_point_chars(digits_hex: bytes | None, digits_dec: bytes | None) -> str:
    """Every character a numeric reference may decode to (HTML5's C1 remapping included)."""
    try:
        value = int(digits_hex, 16) if digits_hex else int(digits_dec or b"0")
    except ValueError:
        return "\ufffd"
    chars = "\ufffd"
    if 0 < value < 0x110000 and not 0xD800 <= value <= 0xDFFF:
        chars += chr(value)
    if 0x80 <= value <= 0x9F:
        chars += bytes([value]).decode("cp1252", errors="ignore")
    return chars


def _refs_may_name(data: bytes, domain: str) -> bool:
    escapes = b"%" in data  # then a referenced hex digit may complete an escape
    for match in _refs(domain).finditer(data):
        digits_hex, digits_dec = match.groups()
        if digits_hex is None and digits_dec is None:
            return True  # a named reference that can turn into part of the domain
        chars = code_point_chars(digits_hex, digits_dec)
        if any(turns_into(c, domain) or (escapes and c in _HEX_DIGITS) for c in chars):
            return True
    return False


def _escapes_may_name(squeezed: bytes, domain: str) -> bool:
    """True when a percent-escape decodes to a character that can turn into part of `domain`.

    Browsers decode escapes in a host before IDNA: `https://%61cme.com/` is acme.com.
    """
    for run in set(_ESCAPES.findall(squeezed)):
        if any(turns_into(c, domain) for c in unquote_to_bytes(run).decode("utf-8", "ignore")):
            return True
    return False


def _non_ascii_may_name(text: str, domain: str) -> bool:
    chars = set("".join(_NON_ASCII.findall(text)))
    return any(turns_into(c, domain) for c in chars)


@dataclass(slots=True)
class Source:
    """A page's decoded text and its UTF-8 bytes (what the parser reads), with the
    bytes lower-cased once for every proof that reads them (links, brand mentions)."""

    text: str
    data: bytes
    _squeezed: bytes | None = field(default=None, repr=False)

    @classmethod
    def of(cls, text: str) -> Source:
        return cls(text, text.encode("utf-8", "surrogatepass"))

    def squeezed(self) -> bytes:
        """The bytes lower-cased (ASCII letters only: C-fast), without tabs and newlines.

        Dropping characters only ever joins text, so a proof that a string is
        absent from these bytes holds for the page too.
        """
        if self._squeezed is None:
            # Separate passes, each in C: cheaper than one bytes.translate doing it all.
            squeezed = self.data.lower().replace(b"\n", b"")
            for noise in (b"\r", b"\t"):
                if noise in squeezed:
                    squeezed = squeezed.replace(noise, b"")
            self._squeezed = squeezed
        return self._squeezed


def may_link(source: Source, page_url: str, domain: str) -> bool:
    """False only when no link on the page can resolve onto `domain` or a subdomain.

    `domain` is a lower-case registered domain.

    >>> may_link(Source.of("<a href='https://other.org/'>acme</a>"), "http://x.org/", "acme.com")
    False
    >>> may_link(Source.of("<a href='https://ACME.com/'>x</a>"), "http://x.org/", "acme.com")
    True
    """
    if may_be_written_in_unicode(domain):
        return True
    if host_on_domain(host_of(page_url), domain):
        return True  # relative links land on the site
    needle = domain.encode()
    if needle in source.data:
        return True  # most pages that link to the site: no need to look further
    if needle in source.squeezed() or _refs_may_name(source.data, domain):
        return True
    if b"%" in source.data and _escapes_may_name(source.squeezed(), domain):
        return True
    return not source.text.isascii() and _non_ascii_may_name(source.text, domain)
