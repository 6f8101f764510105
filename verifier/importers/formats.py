"""Which export a header row belongs to, and which column means what.

Headers are matched on a key that ignores case, spaces and punctuation, so
"Source URL", "source_url" and "SourceURL" are one header.

Where the header names come from: none could be checked against a live
account or a real export when this was written, so every table below is taken
from the import issue and public descriptions, and matched leniently.

* Ahrefs "Backlinks", Semrush "Backlinks", Majestic: the column names the
  import issue lists (Majestic's CamelCase and spaced spellings both occur).
  The Majestic "+"/"-" flag values are accepted as well as true/false and 1/0.
* Moz Link Explorer "Inbound links": confirmed: none. Guessed from public
  descriptions of the export: URL / Source URL, Title, Anchor Text,
  Spam Score, Domain Authority / DA, Page Authority / PA, Link Type, Follow,
  Nofollow, Target URL, (Date) First Seen, (Date) Last Seen, Date Lost.
* Google Search Console "Latest links": English "Linking page" and
  "Last crawled" as the issue gives them; the localised names are best effort
  (see `GSC_SOURCE` and `GSC_CRAWLED`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum


def header_key(name: str) -> str:
    """The matching key of a header: case-folded letters and digits only.

    >>> header_key(' "Source URL" '), header_key("source_url"), header_key("Page d'origine du lien")
    ('sourceurl', 'sourceurl', 'pagedoriginedulien')
    """
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(char for char in text if char.isalnum())


class Kind(StrEnum):
    URL = "url"
    TEXT = "text"  # free text: the only kind that can hold a stray delimiter
    LABEL = "label"  # a short vendor string such as a lost status
    NUMBER = "number"
    DATE = "date"
    FLAG = "flag"
    FOLLOW = "follow"  # a flag saying the link is followed: nofollow is its negation
    LINK_TYPE = "link_type"  # "dofollow" / "nofollow" / something else
    LOST_FLAG = "lost_flag"  # a flag saying the link is lost


#: Kinds whose cells must parse (or be empty) in a row recovered from broken CSV.
CHECKED_KINDS = frozenset({Kind.URL, Kind.NUMBER, Kind.DATE, Kind.FLAG, Kind.FOLLOW})


@dataclass(frozen=True, slots=True)
class Column:
    """A column of an export: what it holds and the headers it goes by."""

    key: str | None  # row field or metric key; None: not kept, only type-checked
    kind: Kind
    headers: tuple[str, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(header_key(header) for header in self.headers)


def _col(key: str | None, kind: Kind, *headers: str) -> Column:
    return Column(key, kind, headers)


def _checked(kind: Kind, *headers: str) -> tuple[Column, ...]:
    # Columns we do not keep but whose type tells a recovered row's alignment.
    return tuple(Column(None, kind, (header,)) for header in headers)


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    label: str  # "an Ahrefs backlinks export", for messages
    columns: tuple[Column, ...]
    signature: frozenset[str]  # header keys only this vendor writes
    needs_target: bool = True
    keeps_extra: bool = False  # unknown columns go into metrics under their own name

    def column(self, key: str) -> Column | None:
        return next((column for column in self.columns if column.key == key), None)


AHREFS = Format(
    "ahrefs",
    "an Ahrefs backlinks export",
    (
        _col("source_url", Kind.URL, "Referring page URL"),
        _col("target_url", Kind.URL, "Target URL"),
        _col("anchor", Kind.TEXT, "Anchor", "Anchor text"),
        _col("title", Kind.TEXT, "Referring page title"),
        _col("domain_rating", Kind.NUMBER, "Domain rating", "DR"),
        _col("url_rating", Kind.NUMBER, "UR", "URL rating"),
        _col("page_traffic", Kind.NUMBER, "Page traffic"),
        _col("nofollow", Kind.FLAG, "Nofollow"),
        _col("nofollow", Kind.LINK_TYPE, "Link type"),
        _col("ugc", Kind.FLAG, "UGC"),
        _col("sponsored", Kind.FLAG, "Sponsored"),
        _col("first_seen", Kind.DATE, "First seen"),
        _col("last_seen", Kind.DATE, "Last seen"),
        _col("lost_status", Kind.LABEL, "Lost status", "Drop reason"),
        *_checked(Kind.TEXT, "Left context", "Right context"),
        *_checked(Kind.NUMBER, "Domain traffic", "Referring domains", "Linked domains"),
        *_checked(Kind.NUMBER, "External links", "Keywords", "Referring page HTTP code"),
        *_checked(Kind.DATE, "Lost"),
    ),
    frozenset({"referringpageurl", "referringpagetitle", "ur", "domainrating"}),
)

SEMRUSH = Format(
    "semrush",
    "a Semrush backlinks export",
    (
        _col("source_url", Kind.URL, "Source url"),
        _col("target_url", Kind.URL, "Target url"),
        _col("anchor", Kind.TEXT, "Anchor"),
        _col("title", Kind.TEXT, "Source title"),
        _col("page_ascore", Kind.NUMBER, "Page ascore", "Page AS"),
        _col("nofollow", Kind.FLAG, "Nofollow"),
        _col("sponsored", Kind.FLAG, "Sponsored"),
        _col("ugc", Kind.FLAG, "Ugc"),
        _col("first_seen", Kind.DATE, "First seen"),
        _col("last_seen", Kind.DATE, "Last seen"),
        _col("lost_status", Kind.LOST_FLAG, "Lost", "Lost link"),
        *_checked(Kind.NUMBER, "External links", "Internal links"),
        *_checked(Kind.FLAG, "Image", "Text", "Frame", "Form", "New", "New link", "Sitewide"),
    ),
    frozenset({"pageascore", "pageas", "sourcetitle"}),
)

MAJESTIC = Format(
    "majestic",
    "a Majestic backlinks export",
    (
        _col("source_url", Kind.URL, "Source URL"),
        _col("target_url", Kind.URL, "Target URL"),
        _col("anchor", Kind.TEXT, "Anchor Text"),
        _col("nofollow", Kind.FLAG, "FlagNoFollow"),
        _col("trust_flow", Kind.NUMBER, "SourceTrustFlow"),
        _col("citation_flow", Kind.NUMBER, "SourceCitationFlow"),
        _col("first_seen", Kind.DATE, "Source First Found Date", "FirstIndexedDate"),
        _col("last_seen", Kind.DATE, "LastSeenDate"),
        _col("last_crawled", Kind.DATE, "Source Crawl Date"),
        _col("lost_status", Kind.LABEL, "ReasonLost"),
        *_checked(Kind.FLAG, "FlagImages", "FlagImageLink", "FlagRedirect", "FlagDeleted"),
        *_checked(Kind.FLAG, "FlagFrame", "FlagAltText", "FlagMention", "FlagOldCrawl"),
        *_checked(Kind.NUMBER, "TargetTrustFlow", "TargetCitationFlow"),
        *_checked(Kind.DATE, "DateLost"),
    ),
    frozenset(
        header_key(name)
        for name in (
            "FlagNoFollow",
            "FlagImages",
            "FlagRedirect",
            "FlagDeleted",
            "SourceTrustFlow",
            "SourceCitationFlow",
            "TargetTrustFlow",
            "Source First Found Date",
            "FirstIndexedDate",
        )
    ),
)

MOZ = Format(
    "moz",
    "a Moz inbound links export",
    (
        _col("source_url", Kind.URL, "URL", "Source URL"),
        _col("target_url", Kind.URL, "Target URL"),
        _col("anchor", Kind.TEXT, "Anchor Text"),
        _col("title", Kind.TEXT, "Title"),
        _col("domain_authority", Kind.NUMBER, "Domain Authority", "DA"),
        _col("page_authority", Kind.NUMBER, "Page Authority", "PA"),
        _col("spam_score", Kind.NUMBER, "Spam Score"),
        _col("nofollow", Kind.LINK_TYPE, "Link Type"),
        _col("nofollow", Kind.FOLLOW, "Follow"),
        _col("nofollow", Kind.FLAG, "Nofollow"),
        _col("first_seen", Kind.DATE, "Date First Seen", "First Seen"),
        _col("last_seen", Kind.DATE, "Date Last Seen", "Last Seen"),
        *_checked(Kind.DATE, "Date Lost"),
    ),
    frozenset({"domainauthority", "da", "pageauthority", "pa", "spamscore"}),
)

# Search Console localises its export headers. These are best effort: the
# English, German, French and Spanish names follow the import issue; the
# Italian, Portuguese and Dutch ones are plausible translations (two spellings
# where we were unsure) that nobody has checked against a real export.
GSC_SOURCE = (
    "Linking page",
    "Verweisende Seite",
    "Page d'origine du lien",
    "Página que enlaza",
    "Pagina che rimanda",
    "Pagina di collegamento",
    "Página de origem do link",
    "Página que vincula",
    "Linkende pagina",
    "Verwijzende pagina",
)
GSC_CRAWLED = (
    "Last crawled",
    "Zuletzt gecrawlt",
    "Dernière exploration",
    "Último rastreo",
    "Ultima scansione",
    "Ultimo rilevamento",
    "Último rastreamento",
    "Laatst gecrawld",
)
#: Header keys of localised Search Console exports, whose slash dates are day first.
DAY_FIRST_KEYS = frozenset(header_key(name) for name in GSC_SOURCE[1:] + GSC_CRAWLED[1:])

GSC = Format(
    "gsc",
    "a Search Console links export",
    (
        _col("source_url", Kind.URL, *GSC_SOURCE),
        _col("last_crawled", Kind.DATE, *GSC_CRAWLED),
    ),
    frozenset(header_key(name) for name in GSC_SOURCE),
    needs_target=False,
)

# The generic format also understands our own metric names, so a CSV written
# by backcheck (or by hand) round-trips with typed values.
GENERIC = Format(
    "csv",
    "a backlink CSV (source_url,target_url)",
    (
        _col("source_url", Kind.URL, "source_url"),
        _col("target_url", Kind.URL, "target_url"),
        _col("anchor", Kind.TEXT, "anchor", "anchor_text"),
        _col("title", Kind.TEXT, "title"),
        *(
            _col(key, Kind.NUMBER, key)
            for key in (
                "domain_rating",
                "url_rating",
                "page_traffic",
                "page_ascore",
                "trust_flow",
                "citation_flow",
                "domain_authority",
                "page_authority",
                "spam_score",
            )
        ),
        *(_col(key, Kind.DATE, key) for key in ("first_seen", "last_seen", "last_crawled")),
        *(_col(key, Kind.FLAG, key) for key in ("nofollow", "ugc", "sponsored")),
        _col("lost_status", Kind.LABEL, "lost_status"),
    ),
    frozenset(),
    keeps_extra=True,
)

#: Vendor formats in the order that wins a tie; the generic CSV is the fallback.
VENDORS = (AHREFS, SEMRUSH, MAJESTIC, MOZ, GSC)
BY_NAME = {fmt.name: fmt for fmt in (*VENDORS, GENERIC)}
