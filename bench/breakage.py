"""Generated broken pages: does backcheck read their links as Chromium does?

`python -m bench.breakage --inputs N --seed S [--json-out F]` writes N pages, each a
plausible page skeleton (doctype or not, a head with metas, a navigation bar, an
article, a footer) holding several kinds of breakage seen on real pages (`BREAKAGE`):
misnested formatting across `</a>`, stray end tags, content after `</html>`, nested
links, links in tables, forms and selects, `<noscript>`, SVG and MathML, templates,
framesets, conditional comments, raw text elements, `<base href>`, deep nesting and
so on. Every page links to the site (`SITE`) among links to other hosts.

Each page is read twice, at PAGE_URL. Chromium (one headless page that every input is
written into, the reading of tests/test_chromium_differential.py, which mirrors
backcheck's anchor-text rules) and backcheck (`verifier.verdict.page`, asked for the
links to SITE as a verdict asks) must give the same (href, anchor text) list. The links
to SITE are compared as the verdict reads them too (resolved URL, rel, anchor text):
a difference there changes a backlink's verdict; one elsewhere is cosmetic.

Each differing page is shrunk (delta debugging over its fragments, then its tags and
text) to a smallest input that still differs the same way; those are grouped by their
first differing link. Deterministic for a seed. The exit status is 1 when any differ.
The module is over 400 lines: the breakage table is long, one short function a kind.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.test_chromium_differential import READ_LINKS, Browser, launched
from verifier.models import Fetch
from verifier.verdict.page import anchor_text, links_to, parse, rel_tokens

SITE = "acme.test"
PAGE_URL = "http://example.test/"  # as the differential test reads its inputs
CONTENT_TYPE = "text/html; charset=utf-8"
CHUNK = 100  # inputs written in one call into Chromium's page

_LINKS_CALL = '.map((el) => [el.getAttribute("href"), anchorText(el)]);'
#: READ_LINKS, each link also with its rel and its href resolved against the page's base.
READ_FULL = READ_LINKS.replace(
    _LINKS_CALL,
    '.map((el) => { let url = null; try { url = new URL(el.getAttribute("href"),'
    " document.baseURI).href; } catch (e) {}"
    ' return [el.getAttribute("href"), anchorText(el), el.getAttribute("rel"), url]; });',
)
READ_EACH = f"""([space, inputs]) => inputs.map((data) => {{
  document.open(); document.write(data); document.close();
  return ({READ_FULL})(space);
}})"""

Links = tuple[tuple[str, str], ...]
Verdict = tuple[tuple[str, tuple[str, ...], str], ...]  # (url, rel, anchor) to SITE


# --- the generator ---------------------------------------------------------------------

_WORD_TEXT = (
    "acme widgets review guide best price deal garden kitchen tools blue small home news "
    "read more here click this our partner great useful shop sale new update forum thread"
)
WORDS = _WORD_TEXT.split()


def words(rng: random.Random, low: int = 1, high: int = 4) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))


def site_href(rng: random.Random) -> str:
    path = f"/{rng.choice(['p', 'shop', 'blog'])}/{rng.randint(1, 99)}"
    return rng.choice(
        [
            f"https://{SITE}{path}",
            f"https://www.{SITE}{path}?a=1&amp;b=2",
            f"https:&#x2F;&#x2F;{SITE}{path}",
            f" https://{SITE}{path}\n",
            f"\thttps://{SITE}/\n{path[1:]}",
            f"//{SITE}{path}",
            f"HTTPS://{SITE.upper()}{path}",
            f"https://{SITE}{path}#top&nbsp",
        ]
    )


def attrs(rng: random.Random, href: str) -> str:
    """An `<a>`'s attributes: quoted or not, rel or not, sometimes duplicated."""
    rel = rng.choice(["", "", "nofollow", "ugc sponsored", "NoFollow", "nofollow,noopener"])
    quoted = f'href="{href}"' if '"' not in href else f"href='{href}'"
    if " " not in href.strip() and rng.random() < 0.2 and not re.search(r"[\s'\"<>=`]", href):
        quoted = f"href={href}"
    rel_attr = f' rel="{rel}"' if rel else ""
    if rng.random() < 0.02:  # XHTML's self-closing syntax: no end for an HTML <a>
        return f"{quoted}{rel_attr} /"
    return rng.choice(
        [
            f"{quoted}{rel_attr}",
            f'{quoted}{rel_attr} target="_blank"',
            f'{quoted} href="https://other.test/dup"{rel_attr}',
            f'{quoted}{rel_attr} rel="sponsored"',
            f'title="x"{quoted}{rel_attr}',  # no space between attributes
        ]
    )


def link(rng: random.Random, site: bool | None = None, inner: str | None = None) -> str:
    site = rng.random() < 0.5 if site is None else site
    href = site_href(rng) if site else f"https://other{rng.randint(1, 9)}.test/{words(rng, 1, 1)}"
    text = inner if inner is not None else words(rng)
    if inner is None and rng.random() < 0.15:
        text = rng.choice(['<img src="l.png" alt="Acme logo">', '<img src="l.png">'])
    tag = "A" if rng.random() < 0.05 else "a"
    return f"<{tag} {attrs(rng, href)}>{text}</{tag}>"


def _inline(rng: random.Random) -> str:
    return rng.choice(["b", "i", "em", "span", "font color=red", "nobr", "strong", "u", "s"])


def misnested_inline(rng: random.Random) -> str:
    a, b = _inline(rng), _inline(rng)
    ta, tb = a.split()[0], b.split()[0]
    return rng.choice(
        [
            f"<{a}>{words(rng)} {link(rng, True, f'{words(rng)} <{b}>{words(rng)}')} {words(rng)}",
            f"<a {attrs(rng, site_href(rng))}><{a}>{words(rng)}</a> {words(rng)}</{ta}>",
            f"<{a}><a {attrs(rng, site_href(rng))}>{words(rng)}</{ta}> {words(rng)}</a>",
            f"<a {attrs(rng, site_href(rng))}><{a}>{words(rng)}<div>{words(rng)}</div></a>",
            f"<{a}><{b}>{words(rng)}<p>{link(rng)}</{ta}></p></{tb}>",
            f"<nobr>{words(rng)}<nobr>{link(rng)}</nobr>",
            f"<{a}>{link(rng)}<ul><li>{words(rng)}<li>{link(rng)}</ul>",
            f"<a {attrs(rng, site_href(rng))}><{a}>{words(rng)}<table><tr><td>{words(rng)}"
            f"</table></a>",
        ]
    )


def stray_end(rng: random.Random) -> str:
    return rng.choice(["</html>", "</body>", "</div>", "</a>", "</p>", "</td>", "</table>"])


def nested_a(rng: random.Random) -> str:
    return rng.choice(
        [
            f"<a {attrs(rng, site_href(rng))}>{words(rng)} {link(rng)} {words(rng)}</a>",
            f"<a href=/x>{words(rng)}<div>{link(rng, True)}</div></a>",
            f"<a href=/y>{words(rng)}<table><tr><td>{link(rng, True)}</td></tr></table>x</a>",
            f"<a {attrs(rng, site_href(rng))}>{words(rng)}<a href=/z>{words(rng)}",
        ]
    )


def table_links(rng: random.Random) -> str:
    return rng.choice(
        [
            f"<table>{link(rng)}<tr><td>{words(rng)}</td></tr></table>",
            f"<table><tr>{link(rng, True)}<td>{words(rng)}</td></tr></table>",
            f"<table><caption>{link(rng)}</caption><tr><td>{link(rng)}</table>",
            f"{link(rng, True, '<table><tr><td>' + words(rng) + '</td></tr></table>')}",
            f"<table><tr><td>{link(rng)}</td></tr>{words(rng)}<tr><td>x</td></tr></table>",
            f"<table><tbody>{link(rng)}<tr><td>{words(rng)}</table>",
            f"<table><colgroup>{link(rng)}</colgroup><tr><th>{link(rng)}</th></table>",
            f"<table><tr><td><a {attrs(rng, site_href(rng))}>{words(rng)}</td><td>{words(rng)}"
            f"</td></tr></table>",
        ]
    )


def forms(rng: random.Random) -> str:
    return rng.choice(
        [
            f"<form action=/s><select name=s><option>{link(rng)}</option></select></form>",
            f"<select><a {attrs(rng, site_href(rng))}>{words(rng)}</a></select>",
            f"<form><input name=q>{link(rng)}<form>{link(rng)}</form></form>",
            f"<button>{link(rng)}</button>",
            f"<form><table><tr><td>{link(rng)}</form></td></tr></table>",
            f"<select><option>{words(rng)}<div>{link(rng)}</div></select>",
            f"<label>{words(rng)}<input type=checkbox>{link(rng)}</label>",
        ]
    )


def noscript(rng: random.Random) -> str:
    return rng.choice(
        [
            f'<noscript><iframe src="https://{SITE}/tag"></iframe>{link(rng)}</noscript>',
            f'<noscript><img src="https://{SITE}/px.gif" alt="">{link(rng, True)}</noscript>',
            f"<noscript><p>{words(rng)}</noscript>{link(rng)}",
            f"<noscript><a href=/n>{words(rng)}</noscript></a>{link(rng)}",
        ]
    )


def foreign(rng: random.Random) -> str:
    return rng.choice(
        [
            f"<svg><title>{link(rng)}</title></svg>",
            f"<svg viewBox='0 0 1 1'><a href='https://{SITE}/svg'><text>{words(rng)}</text></a>"
            "</svg>",
            f"<svg><style>{link(rng)}</style></svg>",
            f"<svg><foreignObject>{link(rng)}</foreignObject></svg>",
            f"<svg><g>{link(rng)}</g></svg>",
            f"<svg><desc><div>{link(rng)}</div></desc></svg>",
            f"<svg><a xlink:href='https://{SITE}/x'>{words(rng)}</a></svg>",
            f"<math><mi>{link(rng)}</mi></math>",
            f"<math><annotation-xml encoding='text/html'>{link(rng)}</annotation-xml></math>",
            f"<math><mtext><p>{link(rng)}</p></mtext></math>",
            f"<svg><p>{link(rng)}</svg>",
            f"<math>{link(rng)}</math>",
            f"<svg><![CDATA[{words(rng)}]]>{link(rng)}</svg>",
        ]
    )


def template(rng: random.Random) -> str:
    return rng.choice(
        [
            f"<template>{link(rng)}</template>{link(rng)}",
            f"<table><template>{link(rng)}</template><tr><td>{link(rng)}</table>",
            f"<template><tr><td>{link(rng)}</td></tr></template>",
        ]
    )


def comments(rng: random.Random) -> str:
    return rng.choice(
        [
            f"<!-- {link(rng, True)} -->{link(rng)}",
            f"<!--[if IE]>{link(rng, True)}<![endif]-->",
            f"<!--[if !IE]><!-->{link(rng)}<!--<![endif]-->",
            f"<!-->{link(rng)}",
            f"<!--->{link(rng)}-->",
            f"<!-- a -- b --!>{link(rng)}",
            f"<![CDATA[ {link(rng)} ]]>",
            f"<? php echo 1; ?>{link(rng)}",
            f"<!{words(rng)}>{link(rng)}",
        ]
    )


def raw_text(rng: random.Random) -> str:
    tag = rng.choice(["xmp", "textarea", "title", "iframe", "noembed", "noframes", "style"])
    return f"<{tag}>{link(rng)}</{tag}>{link(rng)}"


def script(rng: random.Random) -> str:
    return rng.choice(
        [
            f'<script>var s = "</script>{link(rng)}";</script>',
            f"<script>var s = '<!--<script>';</script>{link(rng)}",
            f"<script><!--\nvar t = '<script>x</script>';\n-->\n</script>{link(rng)}",
            f'<script>var u = "</scr" + "ipt>"; var v = "{words(rng)}";</script>{link(rng)}',
            f"<script type=text/template>{link(rng)}</script>{link(rng)}",
        ]
    )


def base_href(rng: random.Random) -> str:
    href = rng.choice([f"https://{SITE}/", "/sub/", "http://[bad/", f"//{SITE}/d/", ""])
    return f'<base href="{href}"><a href="rel/{rng.randint(1, 9)}">{words(rng)}</a>'


def deep(rng: random.Random) -> str:
    tag = rng.choice(["div", "span", "b", "font", "div class=x", "i", "table", "li"])
    depth = rng.randint(200, 600)
    return f"<{tag}>" * depth + link(rng, True) + words(rng)


def paragraphs(rng: random.Random) -> str:
    return rng.choice(
        [
            f"<p>{words(rng)}<p>{link(rng)}<p>{words(rng)}",
            f"<p>{words(rng)}<div>{link(rng)}</div>{words(rng)}</p>",
            f"<p>{link(rng)}<table><tr><td>{link(rng)}</td></tr></table></p>",
            f"<ul><li>{link(rng)}<li>{link(rng)}<ul><li>{words(rng)}</ul></ul>",
            f"<dl><dt>{link(rng)}<dd>{link(rng)}<dt>{words(rng)}</dl>",
            f"<p>{words(rng)}<h2>{link(rng)}</p></h2>",
            f"<h1>{words(rng)}<h2>{link(rng)}</h1>",
        ]
    )


def image_links(rng: random.Random) -> str:
    return rng.choice(
        [
            f'<a href="https://{SITE}/img"><img src=x.png alt="{words(rng)}"></a>',
            f'<a href="https://{SITE}/img"><img src=x.png></a>',
            f'<a href="https://{SITE}/img"><image alt="{words(rng)}"></a>',
            f'<map name=m><area href="https://{SITE}/area" alt="{words(rng)}"></map>',
            f'<a href="https://{SITE}/obj"><object>{words(rng)}</object></a>',
            f"<marquee>{link(rng)}</marquee>",
        ]
    )


def controls(rng: random.Random) -> str:
    return rng.choice(["\x00", "\x0c", "\r", "&#0;", "\ufeff", "&nosuchentity;"]) + link(rng)


#: Kinds of breakage, with their weights; each gives markup for the body.
BREAKAGE: dict[str, tuple[Callable[[random.Random], str], int]] = {
    "misnested_inline": (misnested_inline, 6),
    "stray_end": (stray_end, 5),
    "nested_a": (nested_a, 3),
    "table_links": (table_links, 4),
    "forms": (forms, 3),
    "noscript": (noscript, 2),
    "foreign": (foreign, 3),
    "template": (template, 1),
    "comments": (comments, 3),
    "raw_text": (raw_text, 2),
    "script": (script, 2),
    "base_href": (base_href, 1),
    "deep": (deep, 1),
    "paragraphs": (paragraphs, 4),
    "image_links": (image_links, 2),
    "controls": (controls, 1),
}


@dataclass(frozen=True)
class Generated:
    fragments: tuple[str, ...]  # concatenated, the page
    kinds: tuple[str, ...]  # the breakage placed in it

    @property
    def html(self) -> str:
        return "".join(self.fragments)


def _head(rng: random.Random) -> list[str]:
    head = ["<head>" if rng.random() < 0.9 else ""]
    head.append('<meta charset="utf-8"><meta name="viewport" content="width=device-width">')
    if rng.random() < 0.2:
        head.append(base_href(rng).split("<a ")[0])
    head.append(f"<title>{words(rng)}</title>")
    if rng.random() < 0.15:  # body content in the head, a meta after it
        head.append(rng.choice([f"<div>{words(rng)}</div>", words(rng), link(rng)]))
        head.append('<meta name="robots" content="index">')
    if rng.random() < 0.1:
        head.append(f"<noscript>{link(rng)}<img src=px.gif></noscript>")
    head.append("</head>" if rng.random() < 0.85 else "")
    return head


def page(rng: random.Random) -> Generated:
    """A page skeleton around 2–6 kinds of breakage and a few plain links."""
    names = list(BREAKAGE)
    weights = [BREAKAGE[name][1] for name in names]
    kinds = rng.choices(names, weights, k=rng.randint(2, 6))
    parts = [rng.choice(["<!DOCTYPE html>", "<!doctype html>", "", ""])]
    parts.append("<html lang=en>" if rng.random() < 0.8 else "")
    parts += _head(rng)
    frameset = rng.random() < 0.03
    if frameset:
        parts.append(f"<frameset><frame src=f.html></frameset><noframes>{link(rng)}</noframes>")
    parts.append("<body>" if rng.random() < 0.9 else "")
    parts.append(
        f"<nav>{link(rng, False)} | {link(rng, False)}</nav><article><h1>{words(rng)}</h1>"
    )
    for kind in kinds:
        parts.append(f"<p>{words(rng, 3, 8)}</p>" if rng.random() < 0.5 else words(rng))
        parts.append(BREAKAGE[kind][0](rng))
    parts.append(f"<p>{words(rng)} {link(rng, True)}</p></article>")
    parts.append(f"<footer>{link(rng, False)} {link(rng, False)}</footer>")
    if rng.random() < 0.05:
        kinds.append("plaintext")
        parts.append(f"<plaintext>{link(rng)}")
    else:
        parts.append("</body></html>" if rng.random() < 0.8 else "")
        if rng.random() < 0.25:
            kinds.append("after_html")
            parts.append(f"\n<p>{link(rng)}</p>")
    if frameset:
        kinds.append("frameset")
    return Generated(tuple(part for part in parts if part), tuple(kinds))


def generate(count: int, seed: int) -> list[Generated]:
    return [page(random.Random(f"{seed}:{number}")) for number in range(count)]


# --- the two readings ------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    links: Links  # every link: (href as written, anchor text)
    verdict: Verdict  # the links to SITE: (resolved URL, rel tokens, anchor text)


def _fetch(data: str) -> Fetch:
    return Fetch(PAGE_URL, PAGE_URL, 200, data.encode("utf-8"), CONTENT_TYPE)


def backcheck(data: str) -> Reading:
    """All links (read as the differential test reads them) and the verdict's links."""
    page_ = parse(_fetch(data))
    links_to(page_, SITE)
    standard = page_.reread is not None
    links = tuple((str(el.get("href")), anchor_text(el, standard)) for el in page_.anchors())
    verdict_page = parse(_fetch(data), [SITE])  # as a verdict parses (with the absence proof)
    verdict = tuple((each.url, each.rel, each.anchor) for each in links_to(verdict_page, SITE))
    return Reading(links, verdict)


def _on_site(url: str | None) -> bool:
    match = re.match(r"https?://([^/:?#]*)", url or "")
    host = match.group(1).lower() if match else ""
    return host == SITE or host.endswith("." + SITE)


def chromium_reading(found: list[list[str | None]]) -> Reading:
    links = tuple((str(href), str(text)) for href, text, _, _ in found)
    verdict = tuple(
        (str(url), rel_tokens(rel), str(text)) for _, text, rel, url in found if _on_site(url)
    )
    return Reading(links, verdict)


class Chromium:
    """The differential test's browser, reading rel and resolved URLs too."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        browser.load("")

    def read(self, datas: list[str]) -> list[Reading]:
        out: list[Reading] = []
        for start in range(0, len(datas), CHUNK):
            chunk = datas[start : start + CHUNK]
            found = self.browser.page.evaluate(READ_EACH, [self.browser.space, chunk])
            out += [chromium_reading(each) for each in found]
        return out


@contextmanager
def chromium() -> Iterator[Chromium]:
    with launched() as browser:
        yield Chromium(browser)


# --- differences, shrunk and grouped ---------------------------------------------------


def difference(ours: Reading, theirs: Reading) -> str | None:
    """None when the readings agree; else "verdict" or "cosmetic"."""
    if ours.verdict != theirs.verdict:
        return "verdict"
    return "cosmetic" if ours.links != theirs.links else None


def first_difference(ours: Links, theirs: Links) -> str:
    """A short label of where two link lists part: the first link that differs."""
    for mine, other in zip(ours, theirs, strict=False):
        if mine != other:
            return f"text/href: backcheck {mine!r} chromium {other!r}"
    if len(ours) > len(theirs):
        return f"extra in backcheck: {ours[len(theirs)]!r}"
    if len(theirs) > len(ours):
        return f"missing in backcheck: {theirs[len(ours)]!r}"
    return "same links, verdict differs"


TOKENS = re.compile(r"<[^>]*>?|[^<]+")


def _ddmin(items: list[str], differs: Callable[[list[str]], bool]) -> list[str]:
    """Zeller's delta debugging, to a 1-minimal list of items that still differs."""
    parts = 2
    while len(items) >= 2:
        size = max(1, len(items) // parts)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        for index in range(len(chunks)):
            rest = [x for i, chunk in enumerate(chunks) if i != index for x in chunk]
            if differs(rest):
                items, parts = rest, max(parts - 1, 2)
                break
        else:
            if parts >= len(items):
                break
            parts = min(len(items), parts * 2)
    return items


def shrink(data: list[str], kind: str, read: Callable[[str], Reading]) -> str:
    """The smallest input found that still differs as `data` does (of the same kind)."""

    seen: dict[str, bool] = {}

    def differs(items: list[str]) -> bool:
        text = "".join(items)
        if text not in seen:
            seen[text] = difference(backcheck(text), read(text)) == kind
        return seen[text]

    items = _ddmin(list(data), differs)
    items = _ddmin(TOKENS.findall("".join(items)), differs)
    return "".join(items)


@dataclass
class Found:
    number: int
    kind: str
    label: str
    minimal: str
    backcheck: Reading
    chromium: Reading

    def row(self) -> dict[str, object]:
        return {
            "input": self.number,
            "kind": self.kind,
            "label": self.label,
            "minimal": self.minimal,
            "backcheck": {"links": self.backcheck.links, "verdict": self.backcheck.verdict},
            "chromium": {"links": self.chromium.links, "verdict": self.chromium.verdict},
        }


def triage(
    pages: list[Generated], reader: Chromium, limit: int
) -> tuple[tuple[int, int], list[Found]]:
    """(How many differ, and in a verdict's links; each differing page shrunk, at most
    `limit`)."""
    theirs = reader.read([p.html for p in pages])
    differing = [
        (number, kind)
        for number, (p, other) in enumerate(zip(pages, theirs, strict=True))
        if (kind := difference(backcheck(p.html), other)) is not None
    ]

    def read_one(text: str) -> Reading:
        return reader.read([text])[0]

    found = []
    differing.sort(key=lambda each: each[1] != "verdict")  # verdict-relevant ones first
    for number, kind in differing[:limit]:
        minimal = shrink(list(pages[number].fragments), kind, read_one)
        mine, other = backcheck(minimal), read_one(minimal)
        label = (
            first_difference(mine.verdict, other.verdict)  # type: ignore[arg-type]
            if kind == "verdict"
            else first_difference(mine.links, other.links)
        )
        found.append(Found(number, kind, label, minimal, mine, other))
    verdicts = sum(kind == "verdict" for _, kind in differing)
    return (len(differing), verdicts), found


def shape(markup: str) -> str:
    """A minimal input's tags, names only: the class its difference is grouped in."""
    tags = re.findall(r"<(/?[a-zA-Z][^\s/>]*|!--|!\[CDATA\[|!)", markup)
    return " ".join(tag.lower() for tag in tags) or "(text)"


def classes(found: list[Found]) -> dict[tuple[str, str], list[Found]]:
    """Shrunk differences by (kind, shape), verdict-relevant and commonest first."""
    grouped: dict[tuple[str, str], list[Found]] = {}
    for each in found:
        grouped.setdefault((each.kind, shape(each.minimal)), []).append(each)
    order = sorted(grouped.items(), key=lambda item: (item[0][0] != "verdict", -len(item[1])))
    return {key: sorted(group, key=lambda f: len(f.minimal)) for key, group in order}


def report(count: int, differing: tuple[int, int], found: list[Found]) -> None:
    total, verdicts = differing
    print(
        f"{count} inputs, {total} differ ({verdicts} in a link to the site as a verdict"
        f" reads it, {total - verdicts} cosmetic); {len(found)} shrunk"
    )
    for (kind, tags), group in classes(found).items():
        first = group[0]
        print(f"\n[{kind}] x{len(group)} {tags}\n  input {first.number}: {first.minimal!r}")
        print(f"  backcheck: {first.backcheck.links} {first.backcheck.verdict}")
        print(f"  chromium:  {first.chromium.links} {first.chromium.verdict}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.breakage",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--inputs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shrink", type=int, default=200, help="differing pages shrunk")
    parser.add_argument("--json-out", type=Path)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)  # html5lib's XML-unsafe names
    started = time.monotonic()
    pages = generate(args.inputs, args.seed)
    with chromium() as reader:
        differing, found = triage(pages, reader, args.shrink)
    if args.json_out:
        payload = {
            "inputs": len(pages),
            "seed": args.seed,
            "differing": differing[0],
            "differing_verdict": differing[1],
            "found": [f.row() for f in found],
        }
        args.json_out.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    report(len(pages), differing, found)
    print(f"\n{time.monotonic() - started:.0f} s", file=sys.stderr)
    return 1 if differing[0] else 0


if __name__ == "__main__":
    sys.exit(main())
