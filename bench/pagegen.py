"""Page bodies for the benchmark web: what a blog or news page weighs and contains.

A body has a `<head>` with inline styles and scripts (analytics, a JSON
config blob, JSON-LD), a navigation bar, an article of paragraphs with links
to other hosts, a sidebar, a footer with more links and a script, and, when
its case asks for it, one way of mentioning the site (`bench.cases`). Text
comes from banks of sentences built once per seed, so bodies are quick to
make but no two are alike.

`BodyWriter.body` also takes `extras` (sentences planted in paragraphs of the
article: a brand mention, a competitor link) and, for the crawl web
(`bench.crawlweb`), `Links`: the internal links a crawler follows. A body
without either is byte for byte what it was before they existed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass

from bench.cases import Case

_WORD_TEXT = (
    "widget gadget sprocket review guide best cheap blue green small large home garden kitchen "
    "office workshop project build design tool tools budget premium update news report market "
    "price prices deal deals compare comparison quality durable simple quick easy hard test tested "
    "season summer winter spring autumn family friends community forum thread reply answer "
    "question idea ideas tip tips trick tricks step steps install setup fix repair replace clean "
    "paint wood metal plastic glass steel brass copper shelf bracket hinge screw bolt nut washer "
    "drill saw sander router clamp bench table chair lamp light cable switch battery charger "
    "phone tablet laptop screen keyboard mouse speaker camera lens photo video story history "
    "future today yesterday week month year people maker makers hobby hobbyist expert beginner "
    "the a an and or but with without for from into over under about after before during while "
    "is are was were be been has have had will would can could should may might must very "
    "really quite rather almost always never often sometimes usually nearly just only also even"
)
WORDS = _WORD_TEXT.split()
TLDS = ("com", "org", "net", "io", "co.uk", "de", "fr", "info", "blog", "news")
SECTIONS = ("news", "reviews", "guides", "deals", "forum", "projects", "about", "contact", "tags")


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 26))
    return " ".join(words).capitalize() + rng.choice(".....?!")


def _script_blob(rng: random.Random, size: int) -> str:
    """A JavaScript config blob of about `size` characters (no `</script` inside)."""
    config: dict[str, object] = {}
    length = 0
    while length < size:
        key = "_".join(rng.choices(WORDS, k=2))
        value = rng.choice(
            [rng.randint(0, 10**6), " ".join(rng.choices(WORDS, k=6)), rng.random() < 0.5]
        )
        config[key] = value
        length += len(key) + len(json.dumps(value)) + 6
    return f"window.__APP_CONFIG__ = {json.dumps(config)};\n"


ANALYTICS = (
    "(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'start':new Date().getTime(),"
    "event:'page.js'});var f=d.getElementsByTagName(s)[0],j=d.createElement(s);"
    "j.async=true;j.src='/static/analytics.js?id='+i;f.parentNode.insertBefore(j,f);"
    "})(window,document,'script','dataLayer','BENCH-1234');\n"
)
STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;color:#222}"
    "nav a{margin:0 .5em;text-decoration:none}.post p{line-height:1.6;max-width:42em}"
    "aside{float:right;width:18em}footer{clear:both;font-size:.8em;background:#f4f4f4}\n"
) * 8


@dataclass(frozen=True, slots=True)
class Links:
    """A crawl page's own links: nav items (first in the nav bar), a breadcrumb before
    the article and a "read next" list after it, each an (href, text) pair; and the
    prefix of the body's other "internal" links (an external host, so only these are
    followed)."""

    nav: Sequence[tuple[str, str]] = ()
    breadcrumb: Sequence[tuple[str, str]] = ()
    related: Sequence[tuple[str, str]] = ()
    prefix: str = "http://www.bench-network.test"


def _anchors(links: Sequence[tuple[str, str]], item: str = "") -> str:
    close = f"</{item}>" if item else " "
    opened = f"<{item}>" if item else ""
    return "".join(f'{opened}<a href="{href}">{text}</a>{close}' for href, text in links)


class BodyWriter:
    """Makes pool bodies; the banks of text are built once per seed."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"{seed}:banks")
        self.sentences = [_sentence(rng) for _ in range(6000)]
        self.phrases = [" ".join(rng.choices(WORDS, k=rng.randint(2, 5))) for _ in range(3000)]
        self.hosts = [
            f"{rng.choice(('www.', '', 'blog.', 'shop.'))}{rng.choice(WORDS)}"
            f"{rng.choice(WORDS)}{rng.randint(1, 99)}.{rng.choice(TLDS)}"
            for _ in range(600)
        ]
        self.scripts = [_script_blob(rng, rng.choice((500, 2000, 6000, 15000))) for _ in range(60)]
        self.seed = seed

    def _external(self, rng: random.Random) -> str:
        path = "/".join(w.replace(" ", "-") for w in rng.choices(self.phrases, k=2))
        text = rng.choice(self.phrases)
        return f'<a href="https://{rng.choice(self.hosts)}/{path}">{text}</a>'

    def _internal(self, rng: random.Random, prefix: str) -> str:
        section = rng.choice(SECTIONS)
        slug = rng.choice(self.phrases).replace(" ", "-")
        return f'<a href="{prefix}/{section}/{slug}">{rng.choice(self.phrases)}</a>'

    def _head(self, rng: random.Random, title: str, case: Case) -> str:
        parts = ['<head>\n<meta charset="utf-8">\n', f"<title>{title}</title>\n"]
        if case.meta_robots:
            parts.append(f'<meta name="robots" content="{case.meta_robots}">\n')
        if case.base_href:
            parts.append(f'<base href="{case.base_href}">\n')
        parts += [
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            f'<meta name="description" content="{rng.choice(self.sentences)}">\n',
            '<link rel="stylesheet" href="/static/site.css">\n',
            f"<style>{STYLE}</style>\n",
            f"<script>{ANALYTICS}</script>\n",
            f"<script>{rng.choice(self.scripts)}</script>\n",
            '<script type="application/ld+json">'
            + json.dumps({"@context": "https://schema.org", "@type": "Article", "headline": title})
            + "</script>\n</head>\n",
        ]
        return "".join(parts)

    def _paragraph(self, rng: random.Random, links: int, snippet: str = "") -> str:
        sentences = rng.sample(self.sentences, rng.randint(3, 7))
        for _ in range(links):
            at = rng.randrange(len(sentences) + 1)
            sentences.insert(at, f"See {self._external(rng)}.")
        if snippet:
            sentences.insert(rng.randrange(len(sentences) + 1), f"Also, {snippet}.")
        return "<p>" + " ".join(sentences) + "</p>\n"

    def _article(self, rng: random.Random, budget: int, links: int, case: Case) -> list[str]:
        """Paragraphs up to `budget` characters with `links` external links spread over them.

        `extras` go in later with their own random stream (`_plant`)."""
        expected_paragraphs = max(1, budget // 700)
        per_paragraph = links / expected_paragraphs
        snippet_at = rng.randrange(min(expected_paragraphs, 12))
        parts, size, placed, owed, n = [], 0, 0, 0.0, 0
        while size < budget or n <= snippet_at:
            owed += per_paragraph
            count = min(int(owed), links - placed)
            owed -= count
            text = self._paragraph(rng, count, case.snippet if n == snippet_at else "")
            parts.append(text)
            size, placed, n = size + len(text), placed + count, n + 1
        if placed < links:
            extra = "".join(f"<li>{self._external(rng)}</li>" for _ in range(links - placed))
            parts.append(f"<h2>Further reading</h2>\n<ul>{extra}</ul>\n")
        return parts

    def _plant(self, index: int, article: list[str], extras: Sequence[str]) -> None:
        """Each extra sentence at the end of a paragraph of the article, chosen at random."""
        if not extras:
            return
        rng = random.Random(f"{self.seed}:extras:{index}")
        paragraphs = [n for n, text in enumerate(article) if text.startswith("<p>")]
        for extra in extras:
            at = rng.choice(paragraphs)
            article[at] = article[at].replace("</p>\n", f" Also, {extra}.</p>\n", 1)

    def body(
        self,
        index: int,
        case: Case,
        size: int,
        extras: Sequence[str] = (),
        crawl: Links | None = None,
    ) -> str:
        """Pool body number `index` of about `size` bytes, carrying `case` and `extras`."""
        rng = random.Random(f"{self.seed}:body:{index}")
        # With <base href> on the site, relative links would land on it: keep them absolute.
        prefix = "http://www.bench-network.test" if case.base_href else ""
        if crawl is not None:
            prefix = crawl.prefix
        title = rng.choice(self.phrases).title()
        links = rng.randint(100, 300)
        nav, aside, footer = rng.randint(25, 40), rng.randint(10, 20), rng.randint(12, 20)
        head = self._head(rng, f"{title} | Bench Network #{index}", case)
        top = "".join(f"<li>{self._internal(rng, prefix)}</li>" for _ in range(nav))
        side = "".join(f"<li>{self._external(rng)}</li>" for _ in range(aside))
        bottom = " | ".join(self._internal(rng, prefix) for _ in range(footer))
        own = _anchors(crawl.nav, "li") if crawl else ""
        frame = [
            '<!DOCTYPE html>\n<html lang="en">\n',
            head,
            f'<body>\n<header><a href="{prefix}/">Bench Network</a><nav><ul>{own}{top}</ul></nav>'
            "</header>\n<main>\n",
            f'<aside><h3>Elsewhere</h3><ul>{side}</ul></aside>\n<article class="post">\n',
            f"<h1>{title}</h1>\n",
        ]
        if crawl and crawl.breadcrumb:
            frame.append(f'<p class="breadcrumb">{_anchors(crawl.breadcrumb)}</p>\n')
        tail = [
            "</article>\n</main>\n",
            f"<footer><p>{bottom}</p><p>&copy; Bench Network</p>",
            f"<script>{rng.choice(self.scripts)}</script></footer>\n</body>\n</html>\n",
        ]
        if crawl and crawl.related:
            tail.insert(0, f"<h2>Read next</h2>\n<ul>{_anchors(crawl.related, 'li')}</ul>\n")
        used = sum(map(len, frame)) + sum(map(len, tail))
        article = self._article(rng, size - used, links - nav - aside - footer - 1, case)
        self._plant(index, article, extras)
        return "".join(frame + article + tail)
