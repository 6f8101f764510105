"""The ways a benchmark page links (or seems to link) to the site, and the verdict each must get.

Each `Case` records what the generator writes into a page: the markup, and the
`rel` of every *real* link to the site in it (links in comments, scripts,
`<noscript>` and lookalike hosts are written but are not real links, so they
are not listed). `expected` turns that record into the verdict backcheck must
reach, following the README's rules; backcheck is never run to find it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass

SITE = "acme-bench.com"
HOME = f"https://{SITE}"
#: The site's brand, as the benchmarks pass it to `backcheck init --brand`.
BRAND = "Acme Bench"
#: A competitor's domain (`init --competitor`); the crawl web links to it on some pages.
COMPETITOR = "rival-bench.com"
#: `rel` tokens that make a link not followed (the README's "Verdicts").
NOFOLLOW_RELS = frozenset({"nofollow", "ugc", "sponsored"})


@dataclass(frozen=True, slots=True)
class Case:
    """One way a page mentions the site.

    The first real link (if any) points at `target`, so it is the one backcheck
    reports when every link is equally (not) followed.
    """

    name: str
    snippet: str  # markup placed inside a paragraph of the article
    target: str  # the backlink's target URL, as the export lists it
    anchor: str  # the expected anchor text
    rels: tuple[str, ...] = ()  # the `rel` of each real link to the site, in document order
    meta_robots: str = ""  # content of <meta name="robots">, if the page has one
    base_href: str = ""  # <base href>, if the page has one
    # The `rel` of each link to the site once scripts ran, when not `rels` (None: the same).
    rendered_rels: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What `backcheck report backlinks` must show, as truth.csv writes it."""

    status: str
    reason: str = ""
    follow: str = ""  # "true", "false", or "" when no link was seen
    nofollow_source: str = ""  # "rel", "meta" or ""


def _link(path: str, text: str, rel: str = "", href: str = "") -> str:
    rel_attr = f' rel="{rel}"' if rel else ""
    return f'<a href="{href or HOME + path}"{rel_attr}>{text}</a>'


LINKED: tuple[Case, ...] = (
    Case("plain", _link("/pricing", "Acme Bench pricing"), f"{HOME}/pricing", "Acme Bench pricing",
         ("",)),
    Case("nofollow", _link("/features", "Acme Bench features", "nofollow"), f"{HOME}/features",
         "Acme Bench features", ("nofollow",)),
    Case("ugc_sponsored", _link("/deals", "Acme Bench deals", "ugc sponsored"), f"{HOME}/deals",
         "Acme Bench deals", ("ugc sponsored",)),
    Case("image",
         f'<a href="{HOME}/"><img src="/img/acme-bench-logo.png" alt="Acme Bench logo"'
         ' width="120" height="40"></a>',
         f"{HOME}/", "Acme Bench logo", ("",)),
    Case("base_relative", '<a href="docs/start">Getting started with Acme Bench</a>',
         f"{HOME}/docs/start", "Getting started with Acme Bench", ("",), base_href=f"{HOME}/"),
    Case("protocol_relative", _link("", "the Acme Bench blog", href=f"//{SITE}/blog"),
         f"{HOME}/blog", "the Acme Bench blog", ("",)),
    Case("upper_case", _link("", "About Acme Bench", href="HTTPS://ACME-BENCH.COM/about"),
         f"{HOME}/about", "About Acme Bench", ("",)),
    Case("padded_href", _link("", "Acme Bench support", href=f" \n\t {HOME}/support  \n"),
         f"{HOME}/support", "Acme Bench support", ("",)),
    Case("nofollow_then_followed",
         _link("/reviews", "Acme Bench reviews", "nofollow") + " and again: "
         + _link("/reviews", "Acme Bench reviews"),
         f"{HOME}/reviews", "Acme Bench reviews", ("nofollow", "")),
    Case("comment_only",
         f"<!-- old partner link: {_link('/partners', 'Acme Bench partners')} -->",
         f"{HOME}/partners", "Acme Bench partners"),
    Case("script_only",
         f"<script>document.write('{_link('/partners', 'Acme Bench partners')}');</script>",
         f"{HOME}/partners", "Acme Bench partners", rendered_rels=("",)),
    Case("noscript_only", f"<noscript>{_link('/partners', 'Acme Bench partners')}</noscript>",
         f"{HOME}/partners", "Acme Bench partners"),
    Case("lookalike_only",
         _link("", "Acme Bench partners", href=f"https://{SITE}.evil.net/partners"),
         f"{HOME}/partners", "Acme Bench partners"),
    Case("mention_only", f"we compared it with {SITE} last year", f"{HOME}/", "Acme Bench"),
    Case("meta_noindex", _link("/pricing", "Acme Bench pricing"), f"{HOME}/pricing",
         "Acme Bench pricing", ("",), meta_robots="noindex"),
    Case("meta_nofollow", _link("/pricing", "Acme Bench pricing"), f"{HOME}/pricing",
         "Acme Bench pricing", ("",), meta_robots="nofollow"),
    Case("meta_none", _link("/pricing", "Acme Bench pricing"), f"{HOME}/pricing",
         "Acme Bench pricing", ("",), meta_robots="none"),
)  # fmt: skip
NO_LINK = Case("no_link", "", f"{HOME}/", "Acme Bench")
NOT_FOUND = Verdict("lost", "page_not_found")

#: Cases whose markup puts the brand or the domain in the page's *visible* text: the
#: anchor text of a link (to the site, or to a lookalike host), or the domain as text.
#: Not: `image` (alt text is not visible text), and the links hidden in a comment,
#: a `<script>` or `<noscript>` (none of which a reader sees).
SHOWS_TERM = frozenset(
    {"plain", "nofollow", "ugc_sponsored", "base_relative", "protocol_relative", "upper_case",
     "padded_href", "nofollow_then_followed", "lookalike_only", "mention_only", "meta_noindex",
     "meta_nofollow", "meta_none"}
)  # fmt: skip
#: Sentences that name the brand in running text, planted on some bodies whatever their
#: case (`WebSpec.mentions`). Each is a mention of BRAND by the matcher's rules (a hyphen
#: or a possessive is a boundary; case does not matter); none is, or makes, a link.
MENTION_SENTENCES = (
    "we have used Acme Bench in the workshop for two years",
    "the Acme-Bench team's answer came within a day",
    "ACME BENCH support was quick to reply",
)


#: Prefix of the `name` of a case whose link a script inserts after load (`js_only`).
JS_PREFIX = "js:"
#: Cases `js_only` may rewrite: a real link, on a page that is read (no robots meta).
JS_CAPABLE = tuple(case for case in LINKED if case.rels and not case.meta_robots)


def js_only(case: Case, n: int) -> Case:
    """`case` with its markup inserted by an inline script 0 to 0.9 s after the load event.

    The raw HTML has no link (the markup is a string in a script, like `script_only`);
    a browser that runs scripts has exactly `case`'s links. The delay varies with `n`
    (a renderer must wait at least a second after load to see them all).
    """
    delay = (n * 7) % 10 * 100
    markup = json.dumps(case.snippet).replace("</", "<\\/")
    slot = f"js-link-{n}"
    script = (
        f"<script>window.addEventListener('load',function(){{setTimeout(function(){{"
        f"document.getElementById('{slot}').innerHTML={markup};}},{delay});}});</script>"
    )
    return dataclasses.replace(
        case,
        name=JS_PREFIX + case.name,
        snippet=f'<span id="{slot}"></span>{script}',
        rels=(),
        rendered_rels=case.rels,
    )


def case_named(label: str) -> Case:
    """The case of a truth.csv `case` label (`redirect:` and `js:` prefixes understood)."""
    name = label.removeprefix("redirect:")
    if name.startswith(JS_PREFIX):
        return js_only(case_named(name.removeprefix(JS_PREFIX)), 0)
    return next((case for case in (*LINKED, NO_LINK) if case.name == name), NO_LINK)


def competitor_snippet(n: int) -> str:
    """A followed link to the competitor, for a sentence of an article."""
    return f'compare <a href="https://{COMPETITOR}/compare/{n % 7}">their plans</a> too'


def _has_nofollow(rel: str) -> bool:
    return bool(NOFOLLOW_RELS & {token.lower() for token in rel.replace(",", " ").split()})


def expected(case: Case, rendered: bool = False) -> Verdict:
    """The verdict for a page that answers 200 with `case` in it, read from its raw HTML
    or, with `rendered`, after its scripts ran (`verify --render auto|always`).

    >>> expected(LINKED[0])
    Verdict(status='live', reason='', follow='true', nofollow_source='')
    >>> expected(NO_LINK).reason
    'link_removed'
    >>> expected(js_only(LINKED[0], 1)).reason, expected(js_only(LINKED[0], 1), True).status
    ('link_removed', 'live')
    """
    rels = case.rels
    if rendered and case.rendered_rels is not None:
        rels = case.rendered_rels
    meta = {token.lower() for token in re.split(r"[,\s]+", case.meta_robots) if token}
    follow = source = ""
    if rels:
        link_nofollow = [_has_nofollow(rel) for rel in rels]
        page_nofollow = bool(meta & {"nofollow", "none"})
        if page_nofollow or all(link_nofollow):
            # No followed link: the reported one is the first (it names the target),
            # and a link-level hint is named before the page-level one.
            follow, source = "false", "rel" if link_nofollow[0] else "meta"
        else:
            follow = "true"
    if meta & {"noindex", "none"}:
        return Verdict("lost", "noindex", follow, source)
    if not rels:
        return Verdict("lost", "link_removed")
    return Verdict("live", "", follow, source)
