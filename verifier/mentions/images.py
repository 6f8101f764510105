"""Images of the site shown on a page: a mention even where no text names the site.

An image counts where a browser would fetch it: `<img src>`, each `srcset`
candidate of an `<img>` or of a `<source>` in a `<picture>`, and the
`data-src`/`data-srcset` that lazy-loading scripts copy into those. Images in
`<noscript>` count too: that is the fallback lazy-loading pages give (and the
one Google reads); images in an inert `<template>` do not. CSS backgrounds,
`<input type=image>`, SVG `<image>` and icons from `<link>` are not read.
"""

from __future__ import annotations

import re

from lxml import etree

from verifier.mentions.text import BOILERPLATE, flags_of
from verifier.models import Mention, MentionKind, Placement
from verifier.verdict.page import fold
from verifier.verdict.urls import host_of, host_on_domain, may_be_written_in_unicode, resolve

#: Attributes that hold one image URL, and those that hold a srcset.
SRC_ATTRIBUTES = ("src", "data-src")
SRCSET_ATTRIBUTES = ("srcset", "data-srcset")

_URL_NOISE = re.compile(r"[\t\n\r]")  # browsers drop these anywhere in a URL
_SRCSET_URL = re.compile(r"[\s,]*([^\s,][^\s]*)")


def srcset_urls(srcset: str) -> list[str]:
    """The URLs of a srcset's candidates (HTML's parsing: a URL ends at whitespace,
    and commas that end it separate candidates; descriptors run to the next comma).

    >>> srcset_urls("a.png 1x, b.png 2x,c.png, data:image/png;base64,AA== 3x")
    ['a.png', 'b.png', 'c.png', 'data:image/png;base64,AA==']
    """
    urls: list[str] = []
    position = 0
    while True:
        found = _SRCSET_URL.match(srcset, position)
        if found is None:
            return urls
        url = found.group(1)
        position = found.end()
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            comma = srcset.find(",", position)  # skip the descriptors
            position = len(srcset) if comma == -1 else comma + 1
        if url:
            urls.append(url)


def _resolve(base_url: str, href: str) -> str | None:
    """The absolute http(s) URL of `href`, as browsers resolve it (`urls.resolve`: the
    host lower-cased, `\\` a `/`), or None."""
    url = resolve(href.strip(), base_url)
    return url if url is not None and url.startswith(("http://", "https://")) else None


def _candidates(el: etree._Element) -> list[str]:
    found = [value for name in SRC_ATTRIBUTES if (value := el.get(name))]
    for name in SRCSET_ATTRIBUTES:
        value = el.get(name)
        if value:
            found += srcset_urls(value)
    return found


def _may_name(values: list[str], domain: str, base_on_site: bool) -> bool:
    """False when no URL among `values` can resolve onto the ASCII `domain` (cheap test)."""
    if base_on_site or may_be_written_in_unicode(domain):
        return True
    text = _URL_NOISE.sub("", " ".join(values))
    return domain in text.lower() or not text.isascii()


def image_uses(root: etree._Element | None, base_url: str, domain: str) -> list[Mention]:
    """One `image_use` mention per distinct image URL on `domain` or a subdomain.

    `term` is the absolute image URL, `context` the alt text of its first use
    that has one; `placement` is main when any use of it is in main content.
    """
    if root is None:
        return []
    images = [
        el for el in root.iter("img", "source") if el.tag == "img" or _picture_of(el) is not None
    ]
    values = [value for el in images for value in _candidates(el)]
    if not _may_name(values, domain, host_on_domain(host_of(base_url), domain)):
        return []  # most pages: no image URL names the domain, no URL is resolved
    found: dict[str, Mention] = {}
    known: dict[etree._Element, int] = {}  # flags of the elements met, for `flags_of`
    # Inert until a script clones it; found once, not by climbing from each image.
    inert = {el for template in root.iter("template") for el in template.iter("img", "source")}
    for el in images:
        if el in inert:
            continue
        for href in _candidates(el):
            url = _resolve(base_url, href)
            if url is None or not host_on_domain(host_of(url), domain):
                continue
            alt = _alt(el)
            main = not flags_of(el, known=known) & BOILERPLATE
            seen = found.get(url)
            if seen is not None:
                alt = seen.context or alt
                main = main or seen.placement is Placement.MAIN
            placement = Placement.MAIN if main else Placement.BOILERPLATE
            found[url] = Mention(url, MentionKind.IMAGE_USE, alt, False, placement)
    return list(found.values())


def _picture_of(source: etree._Element) -> etree._Element | None:
    """The `<picture>` a `<source>` belongs to (None: a video's or audio's).

    libxml2 does not know `<source>` is empty and nests what follows inside
    it, so the picture may be a few `<source>`s up.
    """
    parent = source.getparent()
    while parent is not None and parent.tag == "source":
        parent = parent.getparent()
    return parent if parent is not None and parent.tag == "picture" else None


def _alt(el: etree._Element) -> str:
    """An image's alt text; a `<source>` takes its `<picture>`'s `<img>`'s."""
    picture = _picture_of(el) if el.tag == "source" else None
    img = picture.find(".//img") if picture is not None else None
    return fold((img if img is not None else el).get("alt") or "")
