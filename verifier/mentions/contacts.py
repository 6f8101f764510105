"""Who to ask for a link: e-mail addresses, authors and the contact page of a page.

Everything is read from one parsed page (an lxml root, as `verifier.verdict.page`
builds it); fetching the contact page, once per domain, is the crawler's job, and
`join_emails` adds the addresses found there to the page's own contacts.

Addresses come from `mailto:` links, visible text (plain or obfuscated),
JSON-LD and microdata `email` fields, and Cloudflare's e-mail protection (whose
encoding is a published XOR, not a secret). Authors come from `<meta name=author>`,
schema.org `author` in JSON-LD or microdata, and `rel=author` links.

A little over 400 lines: the address grammar (`emails_in` and its helpers)
has no other user yet; it is the part to move out, to `addresses.py`, if it grows.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from itertools import accumulate
from typing import Any
from urllib.parse import SplitResult, unquote, urldefrag, urljoin, urlsplit

from lxml import etree

from verifier.models import Contact, ContactKind
from verifier.verdict.page import TEXT_SKIP, anchor_text, fold, rel_tokens
from verifier.verdict.urls import host_of, registered_domain

#: Longer than this is a bio or a byline sentence, not a name.
MAX_AUTHOR_CHARS = 100
#: "TLDs" that are really file names written like addresses (`logo@2x.png`).
FILE_EXTENSIONS = frozenset(
    {"png", "jpg", "jpeg", "gif", "webp", "svg", "avif", "bmp", "ico", "tif", "tiff"}
    | {"css", "js", "mjs", "map", "json", "html", "htm", "php", "txt"}
)
#: Reserved for documentation (RFC 2606, RFC 6761): nobody reads mail there.
RESERVED_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
RESERVED_TLDS = frozenset({"example", "invalid", "localhost", "test", "local"})
#: Elements whose start and end break text: an address never spans them.
BLOCKS = frozenset(
    {"html", "head", "body", "title", "br", "hr", "p", "div", "section", "article", "aside"}
    | {"header", "footer", "nav", "main", "address", "blockquote", "pre", "figure"}
    | {"figcaption", "form", "fieldset", "ul", "ol", "li", "dl", "dt", "dd", "table"}
    | {"thead", "tbody", "tfoot", "tr", "td", "th", "caption", "option", "select"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "textarea", "button", "noscript"}
)
CLOUDFLARE_PATH = "/cdn-cgi/l/email-protection#"


def _bracketed(words: str) -> str:
    return "|".join(rf"\{o} ?(?:{words}) ?\{c}" for o, c in ("[]", "()", "{}", "<>"))


# Obfuscated separators. A bare word (`jane at acme dot com`) is also prose
# ("look at this dot com boom"), so `_accepted` keeps it only when the same
# address also has a bracketed separator: brackets are what show intent.
# `emails_in` folds spaces first, so one optional space stands for any run;
# a line break is never part of an address. Every repetition is bounded: a
# regex that could scan to the end of the text from each start would be
# quadratic on long runs like "a(dot)a(dot)a…".
_BRACKETED_AT = _bracketed("at|@")
_BRACKETED_DOT = _bracketed(r"dot|\.")
_AT = rf"(?: ?(?:{_BRACKETED_AT}) ?| at |@)"
_DOT = rf"(?: ?(?:{_BRACKETED_DOT}) ?| dot |\.)"
_LOCAL_DOT = rf"(?: ?(?:{_BRACKETED_DOT}) ?|\.)"  # "first dot last" is prose
_ATOM = r"[a-z0-9_+-]{1,64}"
_LABEL = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"  # any script: bücher.de
# ASCII TLDs only: then CJK text glued to an address does not join it.
_TLD = r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})(?![a-z0-9])"
_CANDIDATE = re.compile(
    rf"(?<![a-z0-9_.+-]){_ATOM}(?:{_LOCAL_DOT}{_ATOM}){{0,15}}"
    rf"{_AT}{_LABEL}(?:{_DOT}{_LABEL}){{0,15}}{_DOT}{_TLD}",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    rf" ?(?:{_BRACKETED_AT}|{_BRACKETED_DOT}) ?| (?:at|dot) |[@.]", re.IGNORECASE
)
_SPACES = re.compile(r"[^\S\n]+")
_ANY_SPACES = re.compile(r"\s+")
_TLD_ONLY = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _accepted(candidate: str) -> str | None:
    """The address a regex candidate spells, or None when it is prose or not mail."""
    pieces: list[str] = []
    seps: list[tuple[str, str]] = []  # (what: "at"/"dot", style: plain/bracket/bare)
    start = 0
    for sep in _SEPARATOR.finditer(candidate):
        pieces.append(candidate[start : sep.start()])
        start = sep.end()
        text = sep.group().strip()
        core = text.strip("[](){}<>").strip().lower()
        style = "plain" if text in "@." else "bracket" if text[0] in "[({<" else "bare"
        seps.append(("at" if core in ("at", "@") else "dot", style))
    pieces.append(candidate[start:])
    at = next((i for i, (what, _) in enumerate(seps) if what == "at"), None)
    if at is None:
        return None
    domain_seps = seps[at + 1 :]
    labels = pieces[at + 1 :]
    # "jane@acme.com dot net": a bare "dot" after written-out dots ends the domain.
    if any(style != "bare" for _, style in domain_seps):
        cut = next((i for i, (_, style) in enumerate(domain_seps) if style == "bare"), None)
        if cut is not None:
            domain_seps, labels = domain_seps[:cut], labels[: cut + 1]
    kept = seps[: at + 1] + domain_seps
    styles = {style for _, style in kept}
    if "bare" in styles and "bracket" not in styles:
        return None
    tld = labels[-1].lower()
    if len(labels) < 2 or not _TLD_ONLY.fullmatch(tld) or tld in FILE_EXTENSIONS:
        return None
    local, domain = ".".join(pieces[: at + 1]).lower(), ".".join(labels).lower()
    if tld in RESERVED_TLDS or domain in RESERVED_DOMAINS or len(local) > 64:
        return None
    address = f"{local}@{domain}"
    return address if len(address) <= 254 else None


#: What any address that `emails_in` accepts holds: a local-part character right before
#: "@", or a bracketed at or dot (bare ones alone are prose; "@media" is no address).
_GATE = re.compile(rf"[a-z0-9_+-]@|{_BRACKETED_AT}|{_BRACKETED_DOT}", re.IGNORECASE)
#: The longest match of `_GATE`: "( dot )".
_GATE_CHARS = 7


def may_hold_address(text: str) -> bool:
    """`_GATE.search(text)`, fast: the regex is tried only where a match can end.

    Every match ends at an "@" or a closing bracket, and both are rare in text
    (sre scans a pattern that starts with a class of characters slowly: ~3 ms
    for a 60 KB page, against ~0.1 ms here).
    """
    for end_char in "@)]}>":
        end = text.find(end_char)
        while end != -1:
            if _GATE.search(text, max(0, end - _GATE_CHARS + 1), end + 1):
                return True
            end = text.find(end_char, end + 1)
    return False


def emails_in(text: str) -> list[str]:
    """E-mail addresses written in `text`, plain or obfuscated, lower-cased, each once.

    >>> emails_in("Mail Jane@Acme.com or jane (at) acme [dot] co [dot] uk, jane@acme.com.")
    ['jane@acme.com', 'jane@acme.co.uk']
    >>> emails_in("look at this dot com boom; logo@2x.png; v@1.2.3; @handle; root@localhost")
    []
    """
    if not may_hold_address(text):
        return []  # most text: one pass instead of the candidate scan
    found: dict[str, None] = {}
    for match in _CANDIDATE.finditer(_SPACES.sub(" ", text)):
        address = _accepted(match.group())
        if address is not None:
            found.setdefault(address)
    return list(found)


def mailto_emails(href: str) -> list[str]:
    """The addresses of a `mailto:` URL (RFC 6068: comma-separated, `to`/`cc`/`bcc` too).

    >>> mailto_emails("MAILTO:Press@Acme.com,%20ceo%40acme.com?subject=Hi&cc=pr@acme.com")
    ['press@acme.com', 'ceo@acme.com', 'pr@acme.com']
    """
    href = href.strip()
    if href[:7].lower() != "mailto:":
        return []
    path, _, query = href[7:].partition("?")
    fields = [path]
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name.strip().lower() in ("to", "cc", "bcc"):
            fields.append(value)
    found: dict[str, None] = {}
    for value in fields:
        # unquote, not unquote_plus: "+" is a common character in addresses.
        for part in re.split(r"[,;]", unquote(value)):
            found.update(dict.fromkeys(emails_in(part)))
    return list(found)


def cloudflare_email(encoded: str) -> list[str]:
    """The address hidden by Cloudflare's e-mail protection (`data-cfemail`).

    The first byte is the key every other byte is XORed with.

    >>> cloudflare_email("4f2b2e21260f2e2c222a612c2022")
    ['dani@acme.com']
    """
    try:
        data = bytes.fromhex(encoded.strip())
    except ValueError:
        return []
    if len(data) < 2:
        return []
    return emails_in(bytes(b ^ data[0] for b in data[1:]).decode("utf-8", "replace"))


class _Found:
    """Contacts in document order, each once; text waits until something else is found."""

    def __init__(self) -> None:
        self.contacts: dict[tuple[ContactKind, str], tuple[ContactKind, str]] = {}
        self.text: list[str] = []

    def add_text(self, text: str) -> None:
        # Line breaks in the source are spaces on screen; "\n" is kept for block edges.
        self.text.append(_ANY_SPACES.sub(" ", text))

    def flush(self) -> None:
        if self.text:
            text, self.text = "".join(self.text), []
            self.emails(emails_in(text))

    def emails(self, addresses: Iterable[str]) -> None:
        self.flush()
        for address in addresses:
            self.contacts.setdefault((ContactKind.EMAIL, address), (ContactKind.EMAIL, address))

    def author(self, name: object) -> None:
        if not isinstance(name, str):
            return
        name = fold(name)
        if not name or len(name) > MAX_AUTHOR_CHARS or "://" in name or name.startswith("www."):
            return
        self.flush()
        # The first spelling wins: "Jane Doe" in the meta, "JANE DOE" in a styled byline.
        self.contacts.setdefault((ContactKind.AUTHOR, name.casefold()), (ContactKind.AUTHOR, name))


def _ld_text(text: str | None) -> str:
    # Pages wrap JSON-LD in CDATA or comment markers for old parsers; JSON would not.
    text = (text or "").strip()
    for wrapper in ("//<![CDATA[", "<![CDATA[", "<!--"):
        text = text.removeprefix(wrapper)
    for wrapper in ("//]]>", "]]>", "-->"):
        text = text.removesuffix(wrapper)
    return text


def _ld_objects(data: object) -> Iterator[dict[str, Any]]:
    """Every JSON object in `data`, in document order (iterative: JSON may nest deeply)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def _ld_names(value: object, by_id: dict[str, str]) -> Iterator[object]:
    """Names in a JSON-LD `author`: a string, an object with `name` or `@id`, or a list."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            name = item.get("name")
            if name is None and isinstance(item.get("@id"), str):
                name = by_id.get(item["@id"])  # a Person defined elsewhere in the @graph
            yield from name if isinstance(name, list) else [name]


def _read_json_ld(text: str | None, found: _Found) -> None:
    try:
        # strict=False: raw newlines inside strings are common and harmless.
        data = json.loads(_ld_text(text), strict=False)
    except (ValueError, RecursionError):
        return  # malformed JSON-LD is the page's problem, not a reason to fail
    objects = list(_ld_objects(data))
    by_id: dict[str, str] = {}
    for obj in objects:
        if isinstance(obj.get("@id"), str) and isinstance(obj.get("name"), str):
            by_id.setdefault(obj["@id"], obj["name"])
    for obj in objects:
        if "author" in obj:
            for name in _ld_names(obj["author"], by_id):
                found.author(name)
        emails = obj.get("email")
        for value in emails if isinstance(emails, list) else [emails]:
            if isinstance(value, str):
                found.emails(mailto_emails(value) or emails_in(value))


def _own_property(item: etree._Element, el: etree._Element) -> bool:
    """True when `el` is a property of `item`, not of an item nested in it (`worksFor`)."""
    for ancestor in el.iterancestors():
        if ancestor is item:
            return True
        if ancestor.get("itemscope") is not None:
            return False
    return False


def _microdata_author(el: etree._Element) -> str | None:
    """An `itemprop=author`: its own nested `itemprop=name`, else its content or text."""
    if el.tag == "link":
        return None  # a profile URL, not a name
    for child in el.iter(etree.Element):
        itemprop = (child.get("itemprop") or "").lower().split()
        if child is not el and "name" in itemprop and _own_property(el, child):
            return str(child.get("content") or "") if child.tag == "meta" else anchor_text(child)
    return str(el.get("content") or "") if el.tag == "meta" else anchor_text(el)


def _read_element(el: etree._Element, found: _Found) -> None:
    """Contacts an element carries in its attributes (or, for JSON-LD, its script)."""
    tag = el.tag
    itemprop = (el.get("itemprop") or "").lower().split()
    if tag == "meta":
        if (el.get("name") or "").strip().lower() == "author":
            found.author(el.get("content"))
        if "email" in itemprop:  # visible itemprop=email is read as text
            content = el.get("content") or ""
            found.emails(mailto_emails(content) or emails_in(content))
    if "author" in itemprop:
        found.author(_microdata_author(el))
    if tag in ("a", "area"):
        href = el.get("href") or ""
        found.emails(mailto_emails(href))
        if CLOUDFLARE_PATH in href:
            found.emails(cloudflare_email(href.split("#", 1)[1]))
        if tag == "a" and "author" in (t.lower() for t in rel_tokens(el.get("rel"))):
            found.author(anchor_text(el))
    encoded = el.get("data-cfemail")
    if encoded:
        found.emails(cloudflare_email(encoded))
    if tag == "script":
        kind = (el.get("type") or "").split(";")[0].strip().lower()
        if kind == "application/ld+json":
            _read_json_ld(el.text, found)


#: Elements other than links whose attributes (or JSON-LD) may carry a contact.
_CARRIERS = ("meta", "script")
#: From the root, not "//": libxml2 may leave elements after `</html>` beside the root, in
#: the document but not in the page's tree.
_PROPERTIES = etree.XPath("descendant-or-self::*[@itemprop or @data-cfemail]")


def _link_may_carry(el: etree._Element) -> bool:
    """A cheap superset of the links `_read_element` finds something in (most find nothing)."""
    href = el.get("href") or ""
    if CLOUDFLARE_PATH in href or href.lstrip()[:7].lower() == "mailto:":
        return True
    return el.tag == "a" and "author" in (el.get("rel") or "").lower()


def _carriers(root: etree._Element) -> list[etree._Element]:
    """Elements that may carry a contact in their attributes, in document order."""
    found = [
        el
        for el in root.iter("meta", "script", "a", "area")
        if el.tag in _CARRIERS or _link_may_carry(el)
    ]
    properties = _PROPERTIES(root)
    if not properties:
        return found  # most pages: no microdata
    order = {el: i for i, el in enumerate(root.iter())}
    return sorted(set(found).union(properties), key=order.__getitem__)


def _hidden(el: etree._Element) -> bool:
    # Only inline hiding: obfuscators put decoys in `display:none` spans.
    return el.get("hidden") is not None or bool(_HIDDEN_STYLE.search(el.get("style") or ""))


def page_contacts(
    root: etree._Element | None, page_url: str, base_url: str | None = None
) -> list[Contact]:
    """E-mail addresses and authors found on one page, each once, in document order.

    `found_on` is `page_url`. `base_url` is accepted for symmetry with
    `contact_page_url`; nothing read here needs resolving.
    """
    if root is None:
        return []
    found = _Found()
    everything: str = etree.tostring(root, method="text", encoding="unicode")
    if not may_hold_address(everything):
        # No address can be written anywhere in the text (C-fast, scripts included):
        # only attributes and JSON-LD can carry contacts, so no text walk.
        for el in _carriers(root):
            if next(el.iterancestors("template"), None) is None:
                _read_element(el, found)
        return [Contact(kind, value, page_url) for kind, value in found.contacts.values()]
    muted = 0  # inside script/style or an inline-hidden element: text is not shown
    stack: list[tuple[etree._Element, bool, bool]] = [(root, False, False)]
    while stack:  # a loop, not recursion: broken markup can nest very deeply
        el, leaving, mutes = stack.pop()
        if leaving:
            muted -= mutes
            if el.tag in BLOCKS:
                found.text.append("\n")
            if el.tail and el is not root and not muted:
                found.add_text(el.tail)
            continue
        if not isinstance(el.tag, str):  # a comment: its text is not shown, its tail is
            if el.tail and not muted:
                found.add_text(el.tail)
            continue
        if el.tag == "template":  # inert until a script clones it
            stack.append((el, True, False))
            continue
        _read_element(el, found)
        mutes = el.tag in TEXT_SKIP or _hidden(el)
        muted += mutes
        if el.tag in BLOCKS:
            found.text.append("\n")
        if el.text and not muted:
            found.add_text(el.text)
        stack.append((el, True, mutes))
        stack.extend((child, False, False) for child in reversed(el))
    found.flush()
    return [Contact(kind, value, page_url) for kind, value in found.contacts.values()]


_WORD_GAP = r"[\s_-]*"
#: Link text or a URL path segment that names a contact page ("Contact us", /kontakt/).
CONTACT_NAME = re.compile(
    rf"(?:contact(?:o|s|ez|ar|e)?|cont[aá]ct(?:enos|anos)|contato|kontakt(?:e|y|formular|seite)?"
    rf"|impressum|imprint)(?:{_WORD_GAP}(?:us|me|nous|page|form))?",
    re.IGNORECASE,
)
#: The fallback: an about page ("About", /about-us, /ueber-uns).
ABOUT_NAME = re.compile(
    rf"about(?:{_WORD_GAP}(?:us|me))?|(?:ü|ue|u)ber{_WORD_GAP}uns|[aà]{_WORD_GAP}propos"
    rf"|qui[eé]nes{_WORD_GAP}somos|quem{_WORD_GAP}somos",
    re.IGNORECASE,
)
_URL_NOISE = re.compile(r"[\t\n\r]")
_NOT_LETTERS = re.compile(r"[\W\d_]+")


_EXTENSION = re.compile(r"\.[a-z0-9]{1,5}$", re.IGNORECASE)  # .html, .php


def _text_form(text: str) -> str:
    return fold(_NOT_LETTERS.sub(" ", text))


def _url_forms(parts: SplitResult) -> list[str]:
    """A URL's last path segment (without its extension) and its query values."""
    segment = _EXTENSION.sub("", unquote(parts.path).rstrip("/").rsplit("/", 1)[-1])
    values = [unquote(pair.partition("=")[2]).strip() for pair in parts.query.split("&")]
    return [segment.strip(), *values]


def _names(pattern: re.Pattern[str], text: str, url: str) -> bool:
    """True when the link's whole text, or its URL's last path segment or a query
    value, is the name. Whole, not contained: "Contact lenses" and
    /blog/contact-lenses-guide are articles, not contact pages.
    """
    forms = [_text_form(text), *_url_forms(urlsplit(url))]
    return any(pattern.fullmatch(form) for form in forms)


#: One of these is in every contact or about name, lower-cased (`_text_names` and
#: `_HREF_NAME` say whether a link holding one names its page).
_NEEDLES = (
    *("conta", "contá", "cont%c3%a1", "kontakt", "impress", "imprint"),
    *("about", "uns", "propos", "somos"),
)


def _holding(texts: list[str | None], urls: bool = False) -> set[int]:
    """The indexes of `texts` that hold a needle (in `urls`, not in a directory of the
    path: /about/team/x): a few C-speed searches of them all joined (a regex search
    per link cost more than the rest of the look)."""
    pieces = [(text or "").lower() for text in texts]  # one by one: lower() may change a length
    joined = "\x00".join(pieces)  # lxml's strings hold no NUL: no needle spans two
    ends = list(accumulate(len(piece) + 1 for piece in pieces))
    tails: dict[int, int] = {}  # per href: where its last path segment starts
    found: set[int] = set()
    for needle in _NEEDLES:
        at = joined.find(needle)
        while at != -1:
            i = bisect_right(ends, at)
            start = ends[i - 1] if i else 0
            tail = tails.get(i)
            if urls and tail is None:
                tail = tails[i] = start + _last_segment(pieces[i])
            if tail is None or at >= tail:
                found.add(i)
                at = joined.find(needle, ends[i])
            else:  # in a directory: on to the last segment (no needle holds a "/")
                at = joined.find(needle, tail)
    return found


def _last_segment(href: str) -> int:
    """Where the href's last path segment starts (its query and fragment come after).

    >>> _last_segment("/about/team/"), _last_segment("/x?next=/about"), _last_segment("a")
    (7, 1, 0)
    """
    path = href
    for mark in "?#":
        path = path.partition(mark)[0]
    return path.rstrip("/").rfind("/") + 1


#: `_WORD_GAP` as an href may write it (encoded too), within one path segment or query
#: value: never a "/" (nor "%2f"), "?", "#", "&" or "=", so a search cannot run on past
#: them; a "%" only as the start of an escape, so a gap reads one way only (else the
#: ways to read "%2f%2f…" multiply).
_ENCODED_GAP = r"(?:%(?!2f)[0-9a-f]{2}|[^\w/?#&=%]|[\d_])*"


def _encoded(pattern: str) -> str:
    """A name pattern as it may be written in a lower-cased, percent-encoded href."""
    for plain, encoded in (
        (_WORD_GAP, _ENCODED_GAP),
        ("[aá]", "(?:a|á|%c3%a1)"),
        ("[eé]", "(?:e|é|%c3%a9)"),
        ("(?:ü|ue|u)", "(?:ü|%c3%bc|ue|u)"),
        ("[aà]", "(?:a|à|%c3%a0)"),
    ):
        pattern = pattern.replace(plain, encoded)
    return pattern


#: A lower-cased href whose last path segment or a query value may be a contact or
#: about name once decoded (`_url_forms`): a cheap look before the exact one. A name
#: starts the segment or value (after a gap) and the rest of it may be anything, read
#: possessively: no two repeats may split one run of characters (a 20 KB href took 37 s).
_HREF_NAME = re.compile(
    rf"(?:^|[/=&?]|%2f){_ENCODED_GAP}?(?:{_encoded(CONTACT_NAME.pattern)}"
    rf"|{_encoded(ABOUT_NAME.pattern)})[^/?#&=]*+/*+(?=[?#&]|$)"
)


def _ends_in_dots(href: str) -> bool:
    """Whether the href's path ends in "", "." or "..": it resolves to the base's path or
    an ancestor's, whose own name counts.

    >>> [_ends_in_dots(h) for h in ("?p=2", "./", "../..", "/x/", "a.html")]
    [True, True, True, False, False]
    """
    return href[_last_segment(href) :].partition("?")[0].partition("#")[0].rstrip("/") in (
        "",
        ".",
        "..",
    )


def _text_names(text: str) -> bool:
    form = _text_form(text)
    return bool(CONTACT_NAME.fullmatch(form) or ABOUT_NAME.fullmatch(form))


def _path_may_name(url: str) -> bool:
    """Whether a segment of the URL's path names a contact or about page."""
    try:
        path = unquote(urlsplit(url).path)
    except ValueError:
        return True
    return any(
        name.fullmatch(form)
        for segment in path.split("/")
        for form in (segment, _EXTENSION.sub("", segment))
        for name in (CONTACT_NAME, ABOUT_NAME)
    )


def _elsewhere(href: str, domain: str | None) -> bool:
    """True when an absolute href is on another site (its host is what urljoin keeps)."""
    head = href[:8].lower()
    if head.startswith("//"):
        href = "http:" + href
    elif not head.startswith(("http://", "https://")):
        return False
    try:
        host = host_of(href)
    except ValueError:
        return False  # left to urljoin, which decides as before
    return bool(host) and registered_domain(host) != domain


def _href_may_name(href: str) -> bool:
    """False when `_names` is false for the link's URL whatever it resolves to: a relative
    href with a path ends in the same segment and query once resolved."""
    try:
        parts = urlsplit(href)
    except ValueError:
        return True  # left to urljoin, as before
    if parts.path.rstrip("/").rsplit("/", 1)[-1] in ("", ".", ".."):
        return True  # the resolved path is the base's, or its parent's
    forms = _url_forms(parts)
    return any(CONTACT_NAME.fullmatch(f) or ABOUT_NAME.fullmatch(f) for f in forms)


def _site_links(root: etree._Element, base_url: str) -> Iterator[tuple[str, str]]:
    """(absolute URL without fragment, link text) of the page's links on base_url's site
    that may name a contact or about page."""
    domain = registered_domain(host_of(base_url))
    dots = _path_may_name(base_url)
    links = list(root.iter("a", "area"))
    hrefs = [el.get("href") or "" for el in links]
    # Most links hold one text node; else all their text (a script's too: more needles,
    # never fewer) or, with no text, what `anchor_text` reads (an image's alt).
    labels = [
        (el.get("alt") or "")
        if el.tag == "area"
        else "".join(el.itertext())
        if len(el)
        else el.text
        for el in links
    ]
    for i, label in enumerate(labels):
        if not (label and label.strip()) and len(links[i]):
            labels[i] = anchor_text(links[i])
    candidates = _holding(hrefs, urls=True) | _holding(labels)
    if dots:  # rare: the page's own path names one
        candidates.update(i for i, h in enumerate(hrefs) if _ends_in_dots(h.strip()))
    for i in sorted(candidates):
        el, raw = links[i], hrefs[i]
        href = _URL_NOISE.sub("", raw.strip())
        if not href or href.startswith("#"):
            continue  # a place on this page, not another page
        text = anchor_text(el)
        # A needle in a directory (/about/team/x) or a word ("runs") lets a tenth of a
        # page's links through: first a cheap look at whether they may name the page.
        lowered = href.lower()
        named = _text_names(text)
        if not (named or _HREF_NAME.search(lowered) or (dots and _ends_in_dots(lowered))):
            continue
        if _elsewhere(href, domain) or not (named or _href_may_name(href)):
            continue
        try:
            url = urldefrag(urljoin(base_url, href)).url
        except ValueError:
            continue  # e.g. an invalid IPv6 literal
        # Only http(s): this drops mailto:, javascript: and tel: too.
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            continue
        host = host_of(url)
        if host and domain and registered_domain(host) == domain:
            yield url, text


def names_contact_page(url: str) -> bool:
    """True when `url` alone (its last path segment or a query value) names a contact or
    about page: a page `contact_page_url` may pick by its URL.

    >>> names_contact_page("http://a.com/contact-us/"), names_contact_page("http://a.com/p/9")
    (True, False)
    """
    return _names(CONTACT_NAME, "", url) or _names(ABOUT_NAME, "", url)


def contact_page_url(root: etree._Element | None, base_url: str) -> str | None:
    """The page's link to its site's contact page, absolute, on base_url's registered domain.

    The first link named contact/kontakt/contacto/contato/impressum (by its text
    or its URL) wins; failing that, the first about link.
    """
    if root is None:
        return None
    about: str | None = None
    for url, text in _site_links(root, base_url):
        if _names(CONTACT_NAME, text, url):
            return url
        if about is None and _names(ABOUT_NAME, text, url):
            about = url
    return about


def contact_page(
    root: etree._Element | None, page_url: str, base_url: str | None = None
) -> Contact | None:
    """The contact page link as a `CONTACT_URL` contact found on `page_url`."""
    url = contact_page_url(root, base_url or page_url)
    return None if url is None else Contact(ContactKind.CONTACT_URL, url, page_url)


def join_emails(contacts: Iterable[Contact], contact_page: Iterable[Contact]) -> list[Contact]:
    """`contacts` plus the contact page's e-mail addresses not already among them."""
    joined = list(contacts)
    known = {c.value for c in joined if c.kind is ContactKind.EMAIL}
    for contact in contact_page:
        if contact.kind is ContactKind.EMAIL and contact.value not in known:
            known.add(contact.value)
            joined.append(contact)
    return joined
