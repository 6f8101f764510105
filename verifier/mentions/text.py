"""A parsed page's visible text, read as a browser renders it, and its folded form.

The walk keeps what a reader sees: text and tails, not attribute values, nor
the content of `<script>`, `<style>`, `<noscript>`, `<template>`, `<iframe>`
and media fallbacks (those are `SKIPPED`). Block elements (`BLOCKS`) and
skipped ones separate words, as a line break would; inline elements and
comments glue them (`Acme<b>Widgets</b>` reads "AcmeWidgets"). CSS is not
read: text hidden by a style or the `hidden` attribute still counts.

Each piece of text remembers the element it belongs to; two flags are worked
out from there when a match needs them: inside a link to the site, and inside
boilerplate (nav, aside, a page-level header or footer, or an element whose
id, class or role names a menu, sidebar, cookie bar, widget or comment
section, by whole words of it: "commentary" and "documentation" name none).

Matching happens on the folded text (`Folded`): NFKC, case-folded, invisible
characters (soft hyphen, zero-width ones) dropped, with a map back to the raw
text for context and flags.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from lxml import etree

from verifier.verdict.page import fold as fold_space

#: Elements whose content a browser does not render (or renders only without scripts).
SKIPPED = frozenset(
    {"script", "style", "noscript", "template", "title", "iframe", "video", "audio", "canvas",
     "datalist"}
)  # fmt: skip
#: Elements that start a new line (block and table boxes, list items, `<br>`, form rows).
BLOCKS = frozenset(
    {"address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd",
     "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
     "form", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup", "hr",
     "html", "legend", "li", "listing", "main", "menu", "nav", "ol", "optgroup", "option", "p",
     "plaintext", "pre", "search", "section", "summary", "table", "tbody", "td", "textarea",
     "tfoot", "th", "thead", "tr", "ul", "xmp"}
)  # fmt: skip
#: A `header`/`footer` inside one of these belongs to that content, not to the page.
SECTIONING = frozenset({"article", "main", "section"})
#: ARIA roles of page furniture.
BOILERPLATE_ROLES = frozenset(
    {"navigation", "complementary", "banner", "contentinfo", "menu", "menubar"}
)
#: Words of an id or class that name page furniture (whole words: "commentary" is not one;
#: run-together ones, such as "mainmenu", are `_compound`'s).
BOILERPLATE_WORDS = frozenset(
    {"menu", "menus", "submenu", "megamenu", "menubar", "menuitem", "nav", "navbar", "navigation",
     "sidenav", "topnav", "breadcrumb", "breadcrumbs", "sidebar", "cookie", "cookies", "consent",
     "gdpr", "widget", "widgets", "comment", "comments", "commentlist", "disqus", "related",
     "share", "sharing", "social", "newsletter", "subscribe", "popup", "modal"}
)  # fmt: skip
#: An id/class word may be a furniture word run together with one of these, before
#: ("mainmenu", "leftsidebar") or after it ("cookiebar", "widgetarea", "commentsection").
COMPOUND_STEMS = frozenset(
    {"menu", "nav", "navigation", "sidebar", "cookie", "cookies", "consent", "gdpr", "widget",
     "widgets", "comment", "comments", "breadcrumb", "breadcrumbs", "newsletter", "share",
     "social", "related", "subscribe"}
)  # fmt: skip
COMPOUND_BEFORE = frozenset(
    {"main", "top", "bottom", "left", "right", "side", "primary", "secondary", "site",
     "global", "mobile", "header", "footer", "page", "sub", "mega", "nav", "off"}
)  # fmt: skip
COMPOUND_AFTER = frozenset(
    {"bar", "banner", "notice", "notification", "consent", "area", "section", "list", "box",
     "wrap", "wrapper", "container", "zone", "panel", "block", "left", "right", "menu",
     "links", "icons", "buttons", "posts", "widget", "widgets", "popup", "modal", "form"}
)  # fmt: skip
#: Id/class words of a page header or footer: boilerplate outside `SECTIONING` only.
PAGE_FRAME_WORDS = frozenset({"header", "footer", "masthead", "colophon"})
#: A word after one of these describes a state ("has-sidebar", "no-comments"), not furniture.
STATE_PREFIXES = frozenset({"has", "no", "with", "without", "is", "show", "hide"})
#: Rendered as nothing: soft hyphen, zero-width space/joiners, word joiner, BOM.
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"

LINKED = 1  # inside a link to the site
BOILERPLATE = 2
_SECTIONED = 4  # inside article/main/section
_FRAME = 8  # an id/class that names a page header or footer

_INVISIBLE_TABLE = dict.fromkeys(map(ord, INVISIBLE))
# NFKC spells the trade mark signs as letters ("Acme™" would read "acmetm"): keep them symbols.
_SYMBOLS_TABLE = {0x2122: "\u00ae", 0x2120: "\u00ae"}
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_WORDS = re.compile(r"[a-z0-9]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_SPECIAL = "\u2122\u2120" + INVISIBLE  # what fold_text does more than NFKC and casefold


def fold_text(text: str) -> str:
    """NFKC, case-folded, without invisible characters: the form terms and text are compared in.

    >>> fold_text("ＡＣＭＥ Wid\\u00adgets™ ﬁne Straße")
    'acme widgets® fine strasse'
    """
    # str.translate with a table is slow: look for the characters first (that is fast).
    if "\u2122" in text or "\u2120" in text:
        text = text.translate(_SYMBOLS_TABLE)
    text = _nfkc_casefold(text)
    if any(char in text for char in INVISIBLE):
        text = text.translate(_INVISIBLE_TABLE)
    return text


def _nfkc_casefold(text: str) -> str:
    """`fold_text` for text known to hold no trade mark sign and no invisible character."""
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True, slots=True)
class Folded:
    """Folded text, with the offsets of its segments in the raw text it came from.

    A segment either folds letter for letter (`linear`) or maps as a whole.
    `starts` is None when the raw text was all ASCII.
    """

    text: str
    starts: tuple[int, ...] | None = None  # folded offset of each segment
    raw_starts: tuple[int, ...] = ()
    raw_ends: tuple[int, ...] = ()
    linear: tuple[bool, ...] = ()

    @classmethod
    def of(cls, raw: str, parts: Sequence[str] = ()) -> Folded:
        """Fold `raw`, the concatenation of `parts` (the walk's text nodes), keeping a map.

        A part folds as a whole: ASCII ones letter for letter, and most others
        keep their length too (accents, CJK, quotes), so they map letter for
        letter, near enough for context and flags. A part whose length changes
        (ß, ligatures, invisible characters) folds run by run of non-ASCII
        characters, each with the ASCII character before it (a combining mark
        may modify it), and each run maps as a whole.
        """
        if raw.isascii():
            return cls(raw.lower())
        # Checked once here rather than for each part: most pages have neither.
        fold = fold_text if any(c in raw for c in _SPECIAL) else _nfkc_casefold
        folded: list[str] = []
        starts: list[int] = []
        raw_starts: list[int] = []
        raw_ends: list[int] = []
        linear: list[bool] = []
        size = 0

        def add(piece: str, begin: int, end: int, is_linear: bool) -> None:
            nonlocal size
            if is_linear and linear and linear[-1]:
                raw_ends[-1] = end  # extend the linear segment before
            else:
                starts.append(size)
                raw_starts.append(begin)
                raw_ends.append(end)
                linear.append(is_linear)
            folded.append(piece)
            size += len(piece)

        at = ascii_from = 0  # ASCII parts are lower-cased together, when the next one is not
        for part in parts or (raw,):
            if part.isascii():
                at += len(part)
                continue
            if at > ascii_from:
                add(raw[ascii_from:at].lower(), ascii_from, at, True)
            whole = fold(part)
            if len(whole) == len(part):
                add(whole, at, at + len(part), True)
            else:
                done = 0
                for run in _NON_ASCII.finditer(part):
                    begin = max(run.start() - 1, done)
                    if begin > done:
                        add(part[done:begin].lower(), at + done, at + begin, True)
                    add(fold(part[begin : run.end()]), at + begin, at + run.end(), False)
                    done = run.end()
                if done < len(part):
                    add(part[done:].lower(), at + done, at + len(part), True)
            at = ascii_from = at + len(part)
        if at > ascii_from:
            add(raw[ascii_from:at].lower(), ascii_from, at, True)
        return cls(
            "".join(folded), tuple(starts), tuple(raw_starts), tuple(raw_ends), tuple(linear)
        )

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The raw span that folded `text[start:end]` (end > start) came from."""
        if self.starts is None:
            return start, end
        first = bisect.bisect_right(self.starts, start) - 1
        last = bisect.bisect_right(self.starts, end - 1) - 1
        begin = self.raw_starts[first]
        if self.linear[first]:
            begin += start - self.starts[first]
        stop = self.raw_ends[last]
        if self.linear[last]:
            stop = self.raw_starts[last] + end - self.starts[last]
        return begin, stop


@functools.lru_cache(maxsize=8192)
def _furniture(value: str) -> int:
    """BOILERPLATE or _FRAME when an id/class value names page furniture, else 0.

    >>> _furniture("site-nav"), _furniture("sideBar"), _furniture("side_bar widget-area")
    (2, 2, 2)
    >>> _furniture("commentary-body"), _furniture("documentation"), _furniture("has-sidebar")
    (0, 0, 0)
    >>> _furniture("entry-footer")
    8
    """
    words = _WORDS.findall(_CAMEL.sub(r"\1 \2", value).lower())
    found = 0
    for i, word in enumerate(words):
        if i and words[i - 1] in STATE_PREFIXES:
            continue
        pair = words[i - 1] + word if i else ""
        if word in BOILERPLATE_WORDS or pair in BOILERPLATE_WORDS or _compound(word):
            return BOILERPLATE
        if word in PAGE_FRAME_WORDS:
            found = _FRAME
    return found


def _compound(word: str) -> bool:
    """A furniture word run together with a word of place or kind (`COMPOUND_STEMS`).

    >>> _compound("mainmenu"), _compound("cookiebar"), _compound("sidebarleft")
    (True, True, True)
    >>> _compound("commentary"), _compound("navigator"), _compound("menu")
    (False, False, False)
    """
    for stem in COMPOUND_STEMS:
        if len(word) > len(stem) and (
            (word.startswith(stem) and word[len(stem) :] in COMPOUND_AFTER)
            or (word.endswith(stem) and word[: -len(stem)] in COMPOUND_BEFORE)
        ):
            return True
    return False


def element_flags(el: etree._Element, tag: str, flags: int) -> int:
    """The flags of `el` (tag `tag`) inside a parent with `flags` (LINKED is the caller's)."""
    if flags & BOILERPLATE:
        return flags
    if tag == "nav" or tag == "aside":
        return flags | BOILERPLATE
    sectioned = flags & _SECTIONED  # by an ancestor: `<section id="footer">` is the page's
    if tag == "header" or tag == "footer":
        return flags if sectioned else flags | BOILERPLATE
    if tag in SECTIONING:
        flags |= _SECTIONED
    if tag == "body" or tag == "html":
        return flags  # layout state lives on these ("has-sidebar", "menu-open")
    for name in ("class", "id"):
        value = el.get(name)
        if value:
            found = _furniture(value)
            if found == BOILERPLATE or (found and not sectioned):
                return flags | BOILERPLATE
    role = el.get("role")
    if role and role.strip().lower() in BOILERPLATE_ROLES:
        return flags | BOILERPLATE
    return flags


def flags_of(
    el: etree._Element,
    linked: Collection[etree._Element] = (),
    known: dict[etree._Element, int] | None = None,
) -> int:
    """LINKED and BOILERPLATE for text owned by `el`, from `el` and its ancestors.

    `known` holds the flags of elements asked about before on the page (their
    ancestors too), so many asks climb no further than the first known ancestor:
    a page nested 2,000 deep with a mention in each level otherwise climbs
    2,000 times 2,000 elements.
    """
    known = {} if known is None else known
    chain = []
    node: etree._Element | None = el
    while node is not None and node not in known:
        chain.append(node)
        node = node.getparent()
    flags = 0 if node is None else known[node]
    for node in reversed(chain):
        tag = node.tag
        if isinstance(tag, str):
            flags = element_flags(node, tag, flags)
            if tag == "a" and node in linked:
                flags |= LINKED
        known[node] = flags
    return flags


@dataclass(slots=True)
class VisibleText:
    """The body's visible text (blocks as line breaks), the title, and who owns each piece.

    Flags are worked out only for the pieces a match touches (`flags_between`):
    on most pages that is none, and the walk stays a plain copy of text.
    """

    text: str
    title: str
    parts: list[str]  # the pieces `text` is made of
    owners: list[etree._Element | None]  # the element whose text each is; None: a separator
    linked: Collection[etree._Element] = ()  # the `<a>` elements that point at the site
    _offsets: list[int] = field(default_factory=list)
    _flags: dict[etree._Element, int] = field(default_factory=dict)

    def flags_between(self, start: int, end: int) -> list[int]:
        """The flags of each piece with visible characters in the raw span [start, end).

        Whitespace-only pieces do not count: "Acme</a> <a>Widgets" is linked throughout.
        """
        if not self._offsets and self.parts:
            self._offsets = list(itertools.accumulate(map(len, self.parts), initial=0))
        offsets = self._offsets
        first = max(bisect.bisect_right(offsets, start) - 1, 0)
        last = min(bisect.bisect_left(offsets, end), len(self.parts))
        found = []
        for i in range(first, last):
            owner = self.owners[i]
            if (
                owner is None
                or self.text[max(start, offsets[i]) : min(end, offsets[i + 1])].isspace()
            ):
                continue
            found.append(flags_of(owner, self.linked, self._flags))
        return found or [0]


def _title(root: etree._Element) -> str:
    for title in root.iter("title"):
        # An SVG <title> is a tooltip; the page's is the first outside any <svg>.
        if next(title.iterancestors("svg"), None) is None:
            return "".join(title.itertext())
    return ""


def visible_text(root: etree._Element, linked: Collection[etree._Element] = ()) -> VisibleText:
    """Walk the tree once, keeping text and tails (and who owns them)."""
    parts: list[str] = []
    owners: list[etree._Element | None] = []
    part, owner = parts.append, owners.append
    if root.text:
        part(root.text)
        owner(root)
    # A stack of (element, its children still to read), not recursion: with `huge_tree`
    # a page may nest elements thousands deep.
    stack = [(root, iter(root))]
    while stack:
        el, children = stack[-1]
        for child in children:
            tag = child.tag
            if tag.__class__ is str:  # else a comment or processing instruction: it glues
                if tag in SKIPPED:
                    part("\n")
                    owner(None)
                else:
                    block = tag in BLOCKS
                    if block:
                        part("\n")
                        owner(None)
                    text = child.text
                    if text:
                        part(text)
                        owner(child)
                    if len(child):
                        stack.append((child, iter(child)))  # its end and tail come after
                        break
                    if block:
                        part("\n")
                        owner(None)
            tail = child.tail
            if tail:
                part(tail)
                owner(el)
        else:  # `el` is read through: its end, then its tail (the root's is not the page's)
            stack.pop()
            if stack:
                if el.tag in BLOCKS:
                    part("\n")
                    owner(None)
                tail = el.tail
                if tail:
                    part(tail)
                    owner(stack[-1][0])
    return VisibleText("".join(parts), _title(root), parts, owners, linked)


def context(raw: str, start: int, end: int, chars: int) -> str:
    """About `chars` characters of text each side of raw[start:end], whitespace folded.

    >>> context("one  two\\nthree four", 5, 8, 5)
    'one two three'
    """
    window = 4 * chars  # raw text holds indentation; folded, this is usually enough
    before_raw, after_raw = raw[max(0, start - window) : start], raw[end : end + window]
    before, after = fold_space(before_raw), fold_space(after_raw)
    if len(before) > chars:
        before = before[-chars:].partition(" ")[2] or before[-chars:]  # no half word
    if len(after) > chars:
        after = after[:chars].rpartition(" ")[0] or after[:chars]
    middle = raw[start:end]
    left = " " if before and (before_raw[-1:].isspace() or middle[:1].isspace()) else ""
    right = " " if after and (after_raw[:1].isspace() or middle[-1:].isspace()) else ""
    found = f"{before}{left}{fold_space(middle)}{right}{after}".strip()
    return found.translate(_INVISIBLE_TABLE)
