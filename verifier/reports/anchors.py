"""`report anchors`: the anchor-text profile of the live links, with a category per anchor.

Categories, first match wins:

1. `empty`: no text and no image.
2. `image`: an image link (see `IMAGE_SQL`): its anchor is the image's alt text. Links
   without text are judged one by one; for an anchor text, its newest live link decides
   (an image's alt rarely doubles as a link text; one check per text keeps it fast).
3. `naked_url`: the site's URL or domain (`acme.com`, `https://www.acme.com/pricing`).
4. `branded`: contains a brand term of the site profile (whole words, any case).
5. `exact`: equals a keyword of the site profile (case, accents, punctuation ignored).
6. `generic`: a phrase that says nothing about the page (`GENERIC`; en, de, fr, es, it,
   pt, nl).
7. `partial`: contains every word of a keyword, in any order, among other words.
8. `other`: anything else.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from functools import lru_cache

from verifier.reports._registry import Context, Option, Report, Row, on_site
from verifier.store.profile import SiteProfile
from verifier.verdict.urls import host_on_domain, normalize_host

CATEGORIES = ("branded", "naked_url", "exact", "partial", "generic", "image", "empty", "other")

#: Anchors that say nothing about the page they link to, by language.
GENERIC_PHRASES = {
    "en": "click here|click|here|this|this link|link|link here|go here|see here|read more"
    "|more|learn more|find out more|more info|more information|details|continue reading"
    "|read the full article|full article|read article|website|web site|this website"
    "|this site|site|homepage|home page|home|visit|visit website|visit site|visit us"
    "|go to website|official website|source|via|see more|view more|check it out|download"
    "|url|page|this page|article|this article|blog|info",
    "de": "hier|hier klicken|klicken sie hier|klick hier|mehr|mehr lesen|weiterlesen"
    "|mehr erfahren|mehr infos|mehr informationen|mehr dazu|hier lesen|webseite"
    "|zur website|zur webseite|zur homepage|internetseite|dieser link|quelle|weiter|seite"
    "|diese seite|startseite|link",
    "fr": "ici|cliquez ici|cliquer ici|clique ici|en savoir plus|lire la suite|lire plus"
    "|plus|plus d'infos|plus d'informations|site|site web|site internet|ce site|voir"
    "|voir plus|voir le site|source|lien|ce lien|cette page|accueil|suite|découvrir"
    "|détails|page",
    "es": "aquí|haga clic aquí|haz clic aquí|clic aquí|pulse aquí|pincha aquí|leer más|más"
    "|más información|ver más|saber más|seguir leyendo|sitio|sitio web|página web|web"
    "|este sitio|enlace|este enlace|fuente|página|esta página|inicio|detalles",
    "it": "qui|clicca qui|leggi di più|continua a leggere|sito|sito web|scopri di più",
    "pt": "aqui|clique aqui|leia mais|saiba mais|site|página",
    "nl": "klik hier|lees meer|meer lezen|meer info|deze website",
}


_WORD = re.compile(r"\w+")


@lru_cache(maxsize=1 << 16)  # brands and keywords are folded again for every anchor
def words(text: str) -> tuple[str, ...]:
    """The words of a text: case, accents and punctuation folded away.

    >>> words("  Haga clic AQUÍ »"), words("plus d'infos"), words("Acme's")
    (('haga', 'clic', 'aqui'), ('plus', 'd', 'infos'), ('acme', 's'))
    """
    if text.isascii():  # nothing to decompose: the common case, kept fast
        return tuple(_WORD.findall(text.lower()))
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return tuple(_WORD.findall(plain))


GENERIC = frozenset(
    words(phrase) for phrases in GENERIC_PHRASES.values() for phrase in phrases.split("|")
)

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def is_naked_url(anchor: str, domain: str) -> bool:
    """True when the anchor is a URL or host name on the site.

    >>> is_naked_url("http://www.Acme.com/x", "acme.com"), is_naked_url("Acme.com", "acme.com")
    (True, True)
    >>> is_naked_url("acme", "acme.com"), is_naked_url("acme.com is great", "acme.com")
    (False, False)
    """
    text = anchor.strip().rstrip("/.")
    if not text or " " in text:
        return False
    host = re.split(r"[/?#:]", _SCHEME.sub("", text), maxsplit=1)[0]
    return "." in host and host_on_domain(normalize_host(host), domain)


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    size = len(needle)
    return bool(size) and any(
        haystack[i : i + size] == needle for i in range(len(haystack) - size + 1)
    )


def categorize(anchor: str | None, image: bool, profile: SiteProfile) -> str:
    """The anchor's category (module docstring); `image` says the link is an image link.

    >>> p = SiteProfile("acme.com", brands=("Acme",), keywords=("blue widgets",))
    >>> [categorize(a, False, p) for a in ("", "acme.com", "Acme Inc", "Blue Widgets!")]
    ['empty', 'naked_url', 'branded', 'exact']
    >>> [categorize(a, False, p) for a in ("Mehr lesen", "best widgets blue", "a shop")]
    ['generic', 'partial', 'other']
    >>> categorize("Acme logo", True, p)
    'image'
    """
    text = anchor or ""
    if image:
        return "image"
    folded = words(text)
    if not folded:
        return "empty"
    if is_naked_url(text, profile.domain):
        return "naked_url"
    if any(_contains(folded, words(brand)) for brand in profile.brands):
        return "branded"
    keywords = [words(keyword) for keyword in profile.keywords]
    if folded in keywords:
        return "exact"
    if folded in GENERIC:
        return "generic"
    if any(keyword and set(keyword) <= set(folded) for keyword in keywords):
        return "partial"
    return "other"


#: An image link: the link's HTML (from its last check: its shared evidence `e`, or the
#: check's own column in a check older than migration m007) has an <img>, and the anchor
#: is empty or is an image's alt (the parser falls back to alt text only for a link with
#: no text; lxml writes attributes with double quotes, single ones when the value has a ").
#: CASE, not AND: SQLite evaluates both sides of an AND in a result column.
_LINK_HTML = "coalesce(c.link_html, e.link_html)"
_ALT = "replace(replace(replace(b.anchor, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
IMAGE_SQL = f"""
    case when instr({_LINK_HTML}, '<img') > 0 then (
        coalesce(b.anchor, '') = ''
        or instr({_LINK_HTML}, 'alt="' || {_ALT} || '"') > 0
        or instr({_LINK_HTML}, 'alt=''' || {_ALT} || '''') > 0) else 0 end
"""


def _classify(rows: list[Row], context: Context) -> list[Row]:
    for row in rows:
        row["category"] = categorize(row["anchor"], row["image"], context.profile(row["site"]))
    if context.params.get("by") == "category":
        return _by_category(rows, context)
    return rows


def _threshold(context: Context) -> float:
    return float(context.params.get("exact_threshold") or 0) / 100


def _by_category(rows: list[Row], context: Context) -> list[Row]:
    grouped: dict[tuple[str, str], Row] = {}
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        key = (row["site"], row["category"])
        group = grouped.setdefault(
            key,
            {
                "site": key[0],
                "category": key[1],
                "anchors": 0,
                "live_links": 0,
                "followed_links": 0,
            },
        )
        group["anchors"] += 1
        group["live_links"] += row["live_links"]
        group["followed_links"] += row["followed_links"]
        totals[row["site"]] += row["live_links"]
    out = sorted(grouped.values(), key=lambda g: (g["site"], -g["live_links"], g["category"]))
    for group in out:
        group["share"] = round(group["live_links"] / totals[group["site"]], 4)
        group["over_threshold"] = group["category"] == "exact" and group["share"] > _threshold(
            context
        )
    return out


def _shares(rows: list[Row]) -> dict[str, dict[str, float]]:
    links: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        links[row["site"]][row["category"]] += row["live_links"]
    return {
        site: {cat: n / sum(counts.values()) for cat, n in counts.items()}
        for site, counts in links.items()
    }


def _anchor_notes(rows: list[Row], context: Context) -> list[str]:
    notes = []
    limit = _threshold(context)
    for site, shares in _shares(rows).items():
        parts = ", ".join(
            f"{cat} {share:.0%}" for cat, share in sorted(shares.items(), key=lambda s: -s[1])
        )
        notes.append(f"{site}: anchors by category (share of live links): {parts}")
        exact = shares.get("exact", 0.0)
        if exact > limit:
            notes.append(
                f"warning: {site}: exact-match anchors are {exact:.0%} of live links (over"
                f" {limit:.0%}); an unnatural share that search engines may see as manipulation"
            )
    return notes


ANCHORS = Report(
    name="anchors",
    title="Anchor texts of live links",
    sql=f"""
        with texts as (
            -- one row per anchor text, any case, streamed in index order (+status: an
            -- equality on it would make SQLite sort); the newest link speaks for the
            -- text: is it an image's alt there?
            select b.site, min(b.anchor) as anchor, count(*) as live_links,
                   count(distinct b.referring_domain) as referring_domains,
                   sum(coalesce(b.follow, 0)) as followed_links, max(b.id) as sample
            from backlinks b indexed by idx_backlinks_by_anchor
            where +b.status = 'live' and b.anchor <> '' and {on_site("b.site")}
              and (:since is null or b.first_seen >= :since)
            group by b.site, b.status, b.anchor collate nocase
        ), textless as (
            -- links without text: each is an image link or empty, by its own HTML
            select b.site, '' as anchor, {IMAGE_SQL} as image, count(*) as live_links,
                   count(distinct b.referring_domain) as referring_domains,
                   sum(coalesce(b.follow, 0)) as followed_links
            from backlinks b indexed by idx_backlinks_by_anchor
            left join checks c on c.id = b.last_check_id
            left join evidence e on e.id = c.evidence_id
            where +b.status = 'live' and coalesce(b.anchor, '') = ''
              and {on_site("b.site")} and (:since is null or b.first_seen >= :since)
            group by b.site, image
        ), together as (
            select t.site, t.anchor, {IMAGE_SQL} as image, t.live_links, t.referring_domains,
                   t.followed_links
            from texts t join backlinks b on b.id = t.sample
            left join checks c on c.id = b.last_check_id
            left join evidence e on e.id = c.evidence_id
            union all
            select site, anchor, image, live_links, referring_domains, followed_links
            from textless
        )
        select site, anchor, image, live_links, referring_domains, followed_links,
               round(1.0 * followed_links / live_links, 4) as followed_share,
               round(1.0 * live_links / sum(live_links) over (partition by site), 4) as share
        from together
        order by site, live_links desc, anchor collate nocase, image
    """,
    booleans=("image",),
    table_columns=(
        "anchor",
        "category",
        "live_links",
        "referring_domains",
        "followed_links",
        "share",
    ),
    options=(
        Option(
            "by",
            "One row per anchor, or per category.",
            choices=("anchor", "category"),
            default="anchor",
        ),
        Option(
            "exact_threshold",
            "Warn when exact-match anchors exceed this percent of live links.",
            type=float,
            default=10.0,
        ),
    ),
    post=_classify,
    notes=_anchor_notes,
    doc="""
        Each anchor text of the live links, with its category and share.

        Categories, first match wins: empty; image (the anchor came from an image:
        the link's HTML, from its last check, holds an <img> and the link has no text
        or its text is that image's alt; the newest link of an anchor text speaks for
        all of them); naked_url (the site's URL or domain); branded (contains a brand term of the
        site profile); exact (equals a keyword); generic ("click here", "mehr lesen",
        "en savoir plus", "leer más" …); partial (contains every word of a keyword);
        other. Anchors are grouped case-insensitively. A warning (stderr for JSON and
        CSV) names exact-match anchors over --exact-threshold percent of live links.
        --since DATE counts only links first seen on or after DATE.

        \b
        JSON keys, --by anchor: site, anchor, image, live_links, referring_domains,
        followed_links, followed_share, share (of the site's live links), category.
        --by category: site, category, anchors, live_links, followed_links, share,
        over_threshold.

        \b
        Example:
            backcheck report anchors --site acme.com
            backcheck report anchors --by category --exact-threshold 5 --format json
    """,
)
