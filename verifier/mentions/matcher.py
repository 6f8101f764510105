"""Brand terms in a page's visible text: where they are, and a fast proof they are not.

Terms are the site's brands and its domain written as text. A brand matches
folded text (`verifier.mentions.text`) on word boundaries, with a run of
whitespace, a hyphen, an en dash or nothing where it has a space ("Acme
Widgets" also reads "Acme-Widgets" and "AcmeWidgets"); a possessive ("Acme
Widgets's", "Acme Widgets’") is a boundary like any other. The domain matches
as a host name, so `www.` or any other subdomain may precede it. A match
inside an excluded phrase ("Acme Widgets Bank") or an e-mail address is not a
mention. Where matches overlap the leftmost wins, then the longest: "Acme
Widgets" is one match of that term, not also one of "Acme".

`Matcher.may_mention` proves absence without parsing. Each word of a spelling
has a *core*, its longest ASCII stretch, which every occurrence holds unbroken
in the folded text; a spelling may occur only where all its cores may, so one
absent word clears it. The source can hide a core from a plain search only by

* markup inside it (`Wid<b>gets</b>`): then the core's pieces tile it, the
  first right before a `<`, the last right after a `>`, any middle one between
  a `>` and a `<` (`_split` follows the few places where a last piece starts);
* character references (`&#119;idgets`): one that can decode to a character
  of a core, or to one that vanishes, makes the proof give up;
* non-ASCII characters that fold into a core character (full-width letters,
  ligatures, the Kelvin sign): the same; invisible ones are dropped first;
* case: the source is lower-cased (as bytes, where that runs in C).

A page is cleared only when none of these can make a core appear. This holds
for any text that contains the page's visible text in order, markup or not,
so `etree.tostring(root, method="text")` of a parsed page is a second input:
a word of the visible text is unbroken there too (blocks and skipped
elements separate words, so no word spans script text).

The module runs past 400 lines on purpose: the proof is sound only for the
spellings compiled here (their cores, boundaries and separators), so the two
are kept side by side rather than split where one could change alone.
"""

from __future__ import annotations

import bisect
import html.entities
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from lxml import etree

from verifier.mentions.images import image_uses
from verifier.mentions.text import BOILERPLATE, LINKED, Folded, context, fold_text, visible_text
from verifier.models import Mention, MentionKind, Placement
from verifier.verdict.absence import Source, code_point_chars
from verifier.verdict.page import Page, links_to
from verifier.verdict.page import fold as fold_space

__all__ = ["CONTEXT_CHARS", "Hit", "Matcher", "image_uses"]

#: Characters of visible text kept each side of a mention.
CONTEXT_CHARS = 120
#: What may stand where a brand has a space: whitespace, a hyphen or en dash, or nothing.
SEPARATOR = r"(?:\s+|[\-\u2010\u2011\u2013]|)"
IRRELEVANT, RELEVANT, VANISHES = 0, 1, 2
#: Past this many "&" on a page, references are looked for with one regex pass.
MANY_AMPERSANDS = 64
#: Non-ASCII characters whose verdict a matcher remembers.
VERDICTS_KEPT = 20_000

_SEPARATORS = re.compile(r"[\s\-\u2010\u2011\u2013]+")
_WORD_CHAR = re.compile(r"\w")
_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")
_ASCII_BYTES = bytes(range(128))
_MAIL_LOCAL = re.compile(r"[\w.+-]+\Z")
_MAIL_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+")


class _Spelling(NamedTuple):
    """One way a term is written, compiled so that sre can search for its first word fast."""

    term: int  # index into Matcher.terms
    canonical: str  # folded, separators as single spaces: breaks ties between terms
    words: tuple[str, ...]  # folded; a domain is one word
    bounded: tuple[bool, bool]  # a boundary must precede / follow
    regex: re.Pattern[str]


def _phrase(term: int, text: str) -> _Spelling | None:
    words = tuple(w for w in _SEPARATORS.split(fold_text(text)) if w)
    if not words:
        return None
    before, after = bool(_WORD_CHAR.match(words[0][0])), bool(_WORD_CHAR.match(words[-1][-1]))
    first = re.escape(words[0])
    # The boundary is asserted after the first word, not before it: a pattern that
    # starts with a literal lets sre skip ahead with its fast substring search.
    pattern = (
        first
        + (rf"(?<!\w{first})" if before else "")
        + "".join(SEPARATOR + re.escape(w) for w in words[1:])
        + (r"(?!\w)" if after else "")
    )
    return _Spelling(term, " ".join(words), words, (before, after), re.compile(pattern))


def _host(term: int, host: str) -> _Spelling:
    # A host name: not glued to another label ("notacme.com", "acme.com.evil.net").
    escaped = re.escape(host)
    pattern = rf"{escaped}(?<![\w-]{escaped})(?![\w-]|\.[\w-])"
    return _Spelling(term, host, (host,), (True, True), re.compile(pattern))


def _hosts(domain: str) -> list[str]:
    """The domain as a page may write it: as stored, and in Unicode when it is an IDN."""
    hosts = [fold_text(domain)]
    try:
        unicode = fold_text(domain.encode("ascii").decode("idna"))
    except UnicodeError:
        unicode = hosts[0]
    return hosts if unicode == hosts[0] else [*hosts, unicode]


class _Core(NamedTuple):
    text: str
    at_start: bool  # starts its spelling, and a boundary precedes it
    at_end: bool  # ends its spelling, and a boundary follows it


def _core(spelling: _Spelling) -> _Core | None:
    """The longest ASCII stretch of one word; an end of the spelling wins ties."""
    best: _Core | None = None
    last = len(spelling.words) - 1
    for i, word in enumerate(spelling.words):
        for run in _ASCII_RUNS.finditer(word):
            core = _Core(
                run.group(),
                i == 0 and run.start() == 0 and spelling.bounded[0],
                i == last and run.end() == len(word) and spelling.bounded[1],
            )
            if best is None or (len(core.text), core.at_end) > (len(best.text), best.at_end):
                best = core
    return best


def _word_cores(spelling: _Spelling) -> list[_Core]:
    """One core per word (its longest ASCII stretch): every occurrence holds them all."""
    cores = []
    last = len(spelling.words) - 1
    for i, word in enumerate(spelling.words):
        best: _Core | None = None
        for run in _ASCII_RUNS.finditer(word):
            core = _Core(
                run.group(),
                i == 0 and run.start() == 0 and spelling.bounded[0],
                i == last and run.end() == len(word) and spelling.bounded[1],
            )
            if best is None or len(core.text) > len(best.text):
                best = core
        if best is not None:
            cores.append(best)
    return cores


#: Letters of a core that the split check looks at first: every occurrence of the
#: core holds its first letters too, and fewer letters mean fewer searches.
SPLIT_LETTERS = 4


_GT, _LT = ord(">"), ord("<")


def _spelled_before(lowered: bytes, end: int, piece: bytes) -> bool:
    """True when the source just before `end` spells `piece`, tags allowed between letters."""
    while True:
        while end > 0 and lowered[end - 1] == _GT:  # a tag (or several) right before
            end = lowered.rfind(b"<", 0, end - 1)
            if end == -1:
                return False
        size = 0
        while size < len(piece) and size < end and lowered[end - 1 - size] == piece[-1 - size]:
            size += 1
        if size == len(piece):
            return True
        if size == 0 or lowered[end - 1 - size] != _GT:
            return False  # the letters stop, and no tag follows: not this spelling
        end, piece = end - size, piece[:-size]


def _split(piece: bytes, after: re.Pattern[bytes], lowered: bytes) -> bool:
    """True when markup may split `piece` in the source: a last piece right after a `>`,
    the letters before it spelled (tags allowed between them) right before that tag."""
    for match in after.finditer(lowered):
        gt = match.start()
        tag = lowered.rfind(b"<", 0, gt)
        if tag == -1:
            continue
        text = lowered[gt + 1 : gt + len(piece)]
        for size in range(1, len(piece)):  # the last piece: piece[-size:]
            if text[:size] == piece[-size:] and _spelled_before(lowered, tag, piece[:-size]):
                return True
    return False


def _after(piece: str) -> re.Pattern[bytes]:
    """A `>` followed by a proper suffix of `piece`: where a split's last piece may start."""
    return re.compile(f">{_trie(piece[j:] for j in range(1, len(piece)))}".encode())


@dataclass(frozen=True, slots=True)
class _Word:
    """A word's core, and whether a page may hold it, written out or split by markup.

    The split check drops the boundaries around the core (dropping a condition
    only keeps more pages). It looks at the core's first `SPLIT_LETTERS` letters
    (its head) first: a page that holds the head neither written out nor split
    cannot hold the core.
    """

    core: bytes
    head: bytes
    head_after: re.Pattern[bytes] | None  # None: a one-letter head cannot be split
    core_after: re.Pattern[bytes] | None

    @classmethod
    def of(cls, core: _Core) -> _Word:
        text, head = core.text, core.text[:SPLIT_LETTERS]
        return cls(
            text.encode(),
            head.encode(),
            _after(head) if len(head) > 1 else None,
            _after(text) if len(text) > len(head) else None,
        )

    def may_occur(self, lowered: bytes, heads: dict[bytes, bool]) -> bool:
        """`heads` remembers, per head, whether the page may hold it (split or not)."""
        found = heads.get(self.head)
        if found is False:
            return False  # another word with this head was looked for: no need to search
        if self.core in lowered:
            return True
        if found is None:
            # A head that is the whole core was just looked for, written out.
            written = self.head != self.core and self.head in lowered
            found = heads[self.head] = written or (
                self.head_after is not None and _split(self.head, self.head_after, lowered)
            )
        if not found or self.core_after is None:
            return found  # the head is the core: it may be held only split
        return _split(self.core, self.core_after, lowered)


Trie = dict[str, "Trie"]


def _trie(strings: Iterable[str]) -> str:
    """One regex alternation for `strings`, shared prefixes factored out (sre tries fewer).

    >>> _trie(["s", "ts", "ets", "es"])
    '(?:e(?:s|ts)|s|ts)'
    """
    tree: Trie = {}
    for string in strings:
        node = tree
        for char in string:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: Trie) -> str:
        branches = [re.escape(c) + render(sub) for c, sub in sorted(node.items()) if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return render(tree)


def char_verdict(char: str, chars: frozenset[str]) -> int:
    """RELEVANT when `char` can fold into one of `chars`, VANISHES when it folds into nothing.

    >>> [char_verdict(c, frozenset("acmek")) for c in ("\\uff41", "\\u00ad", "\\u00e9", "\\u212a")]
    [1, 2, 0, 1]
    """
    folded = fold_text(char)
    if not folded:
        return VANISHES
    return RELEVANT if any(c in chars for c in folded + char.lower()) else IRRELEVANT


def _refs(chars: frozenset[str]) -> re.Pattern[bytes]:
    """Numeric references, and the named ones whose value can fold into one of `chars`."""
    names = sorted(
        {
            name.rstrip(";")  # legacy names decode without the ";" too
            for name, value in html.entities.html5.items()
            if any(char_verdict(c, chars) for c in value)
        },
        key=len,
        reverse=True,
    )
    named = "|".join(map(re.escape, names)) or "(?!)"
    return re.compile(rf"&(?:#(?:[xX]([0-9a-fA-F]+)|([0-9]+))|({named}))".encode())


@dataclass(slots=True)
class _Proof:
    """What `may_mention` checks: each spelling's words, their characters, and references.

    A spelling can occur only where every one of its words can: one word that is
    provably absent clears the spelling, so a common word ("widgets" in "Acme
    Widgets") does not keep every page about widgets from being cleared.
    """

    spellings: tuple[tuple[_Word, ...], ...]
    chars: frozenset[str]
    refs: re.Pattern[bytes]
    always: bool  # a spelling has no ASCII core: nothing to prove absence with
    verdicts: dict[str, int] = field(default_factory=dict)  # per non-ASCII character met

    @classmethod
    def build(cls, spellings: Sequence[Sequence[_Core]]) -> _Proof:
        words: dict[_Core, _Word] = {}
        compiled = tuple(
            tuple(words.setdefault(core, _Word.of(core)) for core in cores)
            for cores in spellings
            if cores
        )
        chars = frozenset("".join(core.text for core in words))
        return cls(compiled, chars, _refs(chars), len(compiled) < len(spellings))

    def verdict(self, char: str) -> int:
        found = self.verdicts.get(char)
        if found is None:
            if len(self.verdicts) >= VERDICTS_KEPT:
                self.verdicts.clear()  # a long crawl of CJK pages stays flat in memory
            found = self.verdicts[char] = char_verdict(char, self.chars)
        return found

    def may_name(self, source: Source) -> bool:
        if self.always:
            return True
        # Bytes, where lower-casing and searching run in C, shared with the link proof.
        lowered = source.squeezed()
        if not source.text.isascii():
            # The distinct non-ASCII characters, cheaply: drop the ASCII bytes in C.
            rest = source.data.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")
            for char in set(rest):
                found = self.verdict(char)
                if found == RELEVANT:
                    return True
                if found == VANISHES:
                    # Lower-casing leaves non-ASCII bytes alone: drop it from `lowered` too.
                    lowered = lowered.replace(char.encode("utf-8", "surrogatepass"), b"")
        if self._refs_may_name(source.data):
            return True
        seen: dict[_Word, bool] = {}
        heads: dict[bytes, bool] = {}
        for words in self.spellings:
            for word in words:
                possible = seen.get(word)
                if possible is None:
                    possible = seen[word] = word.may_occur(lowered, heads)
                if not possible:
                    break
            else:
                return True
        return False

    def _refs_may_name(self, data: bytes) -> bool:
        """True when a reference on the page may decode into a core character."""
        at, looked = data.find(b"&"), 0
        while at != -1:
            looked += 1
            if looked > MANY_AMPERSANDS:  # one regex pass beats a find per "&" from here
                return any(self._ref_may_name(ref) for ref in self.refs.finditer(data, at))
            ref = self.refs.match(data, at)
            if ref is not None and self._ref_may_name(ref):
                return True
            at = data.find(b"&", at + 1)
        return False

    def _ref_may_name(self, ref: re.Match[bytes]) -> bool:
        hexa, decimal, named = ref.groups()
        return named is not None or any(map(self.verdict, code_point_chars(hexa, decimal)))


class _Fences:
    """Spans no match may lie inside, asked of each match in logarithmic time: a page
    that repeats an excluded phrase 200,000 times is as many fences and matches."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        self._starts = [start for start, _ in spans]
        # The furthest any span starting at or before each one reaches.
        self._reach = list(itertools.accumulate((end for _, end in spans), max))

    def cover(self, start: int, end: int) -> bool:
        """Whether one span holds [start, end)."""
        index = bisect.bisect_right(self._starts, start) - 1
        return index >= 0 and self._reach[index] >= end


class Hit(NamedTuple):
    """One match of a term in folded text."""

    term: int  # index into Matcher.terms
    start: int
    end: int


@dataclass(frozen=True, slots=True, eq=False)
class Matcher:
    """The site's brand terms and domain, compiled once; ask it about any number of pages."""

    terms: tuple[str, ...]  # brands as configured, then the domain
    domain: str
    excludes: tuple[str, ...]
    _spellings: tuple[_Spelling, ...] = field(repr=False)
    _cores: tuple[str | None, ...] = field(repr=False)  # per spelling: absent where this is
    _excluded: tuple[re.Pattern[str], ...] = field(repr=False)
    _proof: _Proof = field(repr=False)

    @classmethod
    def build(cls, brands: Sequence[str], domain: str, excludes: Sequence[str] = ()) -> Matcher:
        """Compile the terms: `brands` (empty ones, and repeats once folded, dropped), `domain`."""
        terms: list[str] = []
        spellings: list[_Spelling] = []
        for brand in (b.strip() for b in brands):
            spelling = _phrase(len(terms), brand)
            if spelling is not None and all(spelling.canonical != s.canonical for s in spellings):
                terms.append(brand)
                spellings.append(spelling)
        domain = domain.strip().lower()
        spellings += [_host(len(terms), host) for host in _hosts(domain)]
        terms.append(domain)
        cores = [_core(s) for s in spellings]
        phrases = filter(None, (_phrase(0, e) for e in excludes))
        return cls(
            tuple(terms),
            domain,
            tuple(excludes),
            tuple(spellings),
            tuple(c.text if c else None for c in cores),
            tuple(p.regex for p in phrases),
            _Proof.build([_word_cores(s) for s in spellings]),
        )

    def may_mention(self, text: str | Source) -> bool:
        """False only when no term can occur in the visible text of the page `text`.

        `text` is the decoded source (markup and all), or any text holding the
        visible text in order, such as `etree.tostring(root, method="text")`;
        as a `Source` when the link proof has lower-cased its bytes already.

        >>> matcher = Matcher.build(["Acme Widgets"], "acme-widgets.com")
        >>> matcher.may_mention("<p>Best <b>gadgets</b> of 2024</p>")
        False
        >>> matcher.may_mention("<p>Acme <i>Wid</i>gets</p>"), matcher.may_mention("&#87;idgets")
        (True, True)
        """
        return self._proof.may_name(text if isinstance(text, Source) else Source.of(text))

    def hits(self, folded: str) -> list[Hit]:
        """Matches in folded text, leftmost-longest, minus those in excludes or e-mail addresses.

        Each spelling is searched by its own regex, only where its core occurs;
        the next match of each is kept and the leftmost (then longest) taken,
        which is what one alternation of them all would find, but fast.
        """
        pending: dict[int, re.Match[str]] = {}  # spelling -> its next match
        for i, (spelling, core) in enumerate(zip(self._spellings, self._cores, strict=True)):
            if core is None or core in folded:
                match = spelling.regex.search(folded)
                if match is not None:
                    pending[i] = match
        found: list[Hit] = []
        fences: _Fences | None = None
        position = 0
        while pending:
            for i, match in list(pending.items()):
                if match.start() < position:  # overtaken: search again from here
                    again = self._spellings[i].regex.search(folded, position)
                    if again is None:
                        del pending[i]
                    else:
                        pending[i] = again
            if not pending:
                break
            best = min(pending, key=lambda i: self._rank(i, pending[i]))
            start, position = pending[best].span()
            if fences is None:
                fences = _Fences(self._fences(folded))
            if not fences.cover(start, position):
                found.append(Hit(self._spellings[best].term, start, position))
        return found

    def _rank(self, index: int, match: re.Match[str]) -> tuple[int, int, bool, int]:
        """Leftmost, then longest; then a term spelled as the page spells it; then term order."""
        spelling = self._spellings[index]
        exact = _SEPARATORS.sub(" ", match.group()) == spelling.canonical
        return match.start(), -match.end(), not exact, spelling.term

    def _fences(self, folded: str) -> list[tuple[int, int]]:
        """Spans no match may lie inside: excluded phrases (overlapping too), e-mail addresses."""
        fences = []
        for regex in self._excluded:
            match = regex.search(folded)
            while match:
                fences.append(match.span())
                match = regex.search(folded, match.start() + 1)
        at = folded.find("@")
        while at != -1:
            local = _MAIL_LOCAL.search(folded, max(0, at - 64), at)
            host = _MAIL_DOMAIN.match(folded, at + 1)
            if local and host:
                fences.append((local.start(), host.end()))
            at = folded.find("@", at + 1)
        return fences

    def mentions(
        self, root: etree._Element | None, base_url: str, page: Page | None = None
    ) -> list[Mention]:
        """Text and title mentions on a parsed page, one per term found, in term order.

        `linked` looks at body occurrences only (a title is never inside a link);
        a term found only in the title is not linked and counts as main content.
        `page`, the parsed page `root` belongs to, lends the links it found already.
        """
        if root is None:
            return []
        seen = visible_text(root)
        folded = Folded.of(seen.text, seen.parts)
        found: dict[int, Mention] = {}
        hits = self.hits(folded.text)
        if hits:  # links matter only now: on most pages there is no hit
            links = links_to(page or Page(base_url, base_url, root), self.domain)
            seen.linked = {link.element for link in links}
        for hit in hits:
            start, end = folded.raw_span(hit.start, hit.end)
            flags = seen.flags_between(start, end)
            linked = all(f & LINKED for f in flags)
            main = not all(f & BOILERPLATE for f in flags)
            first = found.get(hit.term)
            if first is None:
                text = context(seen.text, start, end, CONTEXT_CHARS)
                term, kind = self.terms[hit.term], MentionKind.TEXT
            else:
                term, kind, text = first.term, first.kind, first.context
                linked = linked and first.linked
                main = main or first.placement is Placement.MAIN
            placement = Placement.MAIN if main else Placement.BOILERPLATE
            found[hit.term] = Mention(term, kind, text, linked, placement)
        title = fold_space(seen.title)
        for index in {hit.term for hit in self.hits(fold_text(title))} - found.keys():
            term = self.terms[index]
            found[index] = Mention(term, MentionKind.TITLE, title, False, Placement.MAIN)
        return [found[index] for index in sorted(found)]
