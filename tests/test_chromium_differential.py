"""Differential: backcheck's links against Chromium's DOM, over the HTML standard's inputs.

Every document input of the html5lib-tests tree-construction suite, and every input
followed by a link (the two families of tests/test_html5lib_conformance.py), is loaded
in headless Chromium with scripting on, as Google renders. In the DOM the page's
scripts leave, each link backcheck would count (an HTML or SVG `<a href>`, an HTML
`<area href>`, none inside `<noscript>`; a `<template>`'s contents are not in the
document) is read as backcheck reads it: the raw href and the anchor text by the rules
of `verifier.verdict.page.anchor_text` (textContent without script/style/template,
whitespace folded as `str.split` folds it, else the first image alt; an `<area>`'s
alt). Both sides must give the same (href, text) list, in document order.

One page at PAGE_URL (a navigation fulfilled by a route; every other request is
aborted) writes each input with `document.open/write/close` (what `page.set_content`
does), all in one call: a page load per input costs about 25 ms, 50 s for the module
on two cores. Loaded one navigation each instead, all inputs gave the same links
(measured once); a sample is checked that way on every run.

Skipped, with the reason, when Chromium is not installed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

from tests.test_html5lib_conformance import PAGE_URL, TAIL_LINK, cases, ours

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed"),
    pytest.mark.filterwarnings("ignore::UserWarning"),  # html5lib's notes on XML-unsafe names
]

Links = tuple[tuple[str, str], ...]

TAIL = "+tail"  # suffix of the id of an input followed by TAIL_LINK
SAMPLE_EVERY = 32  # of the inputs without a script, those loaded by a navigation too

#: The links of the document as backcheck counts them, read from Chromium's DOM.
#: `space` is the character class of what `str.split` folds (Python's whitespace).
READ_LINKS = """(space) => {
  const HTML = "http://www.w3.org/1999/xhtml", SVG = "http://www.w3.org/2000/svg";
  const ELEMENT = 1, TEXT = 3, CDATA = 4;
  const SKIP = new Set(["script", "style", "template"]);  // any namespace, as lxml's tags
  const spaces = new RegExp("[" + space + "]+");
  const fold = (text) => text.split(spaces).filter(Boolean).join(" ");
  const collect = (node, out) => {
    for (const child of node.childNodes) {
      if (child.nodeType === TEXT || child.nodeType === CDATA) out.push(child.data);
      else if (child.nodeType === ELEMENT && !SKIP.has(child.localName)) collect(child, out);
    }
    return out;
  };
  const isLink = (el) =>
    el.hasAttribute("href") &&
    ((el.localName === "a" && (el.namespaceURI === HTML || el.namespaceURI === SVG)) ||
      (el.localName === "area" && el.namespaceURI === HTML));
  const hidden = (el) => {
    for (let up = el.parentElement; up !== null; up = up.parentElement) {
      if (up.localName === "noscript" && up.namespaceURI === HTML) return true;
    }
    return false;
  };
  const anchorText = (el) => {
    if (el.localName === "area") return fold(el.getAttribute("alt") || "");
    const text = fold(collect(el, []).join(""));
    if (text) return text;
    for (const img of el.getElementsByTagName("img")) {
      const alt = img.namespaceURI === HTML ? fold(img.getAttribute("alt") || "") : "";
      if (alt) return alt;
    }
    return "";
  };
  return Array.from(document.querySelectorAll("a, area"))
    .filter((el) => isLink(el) && !hidden(el))
    .map((el) => [el.getAttribute("href"), anchorText(el)]);
}"""

#: Each input written into the page in turn (its scripts run as they are parsed), read.
READ_EACH = f"""([space, inputs]) => inputs.map((data) => {{
  document.open();
  document.write(data);
  document.close();
  return ({READ_LINKS})(space);
}})"""


def python_whitespace() -> str:
    """A JavaScript character class body of what `str.split()` splits on."""
    return "".join(f"\\u{code:04x}" for code in range(0x10000) if chr(code).isspace())


def inputs() -> dict[str, str]:
    """Case id -> input: each suite input, and each followed by TAIL_LINK."""
    found = cases()
    return {case.id: case.data for case in found} | {
        case.id + TAIL: case.data + TAIL_LINK for case in found
    }


class Browser:
    """One page of one headless Chromium; only the navigation to PAGE_URL is served."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.space = python_whitespace()
        self._serve: bytes | None = None
        page.route("**/*", self._route)
        page.on("dialog", lambda dialog: dialog.dismiss())

    def _route(self, route: Route) -> None:
        request = route.request
        if self._serve is not None and request.url == PAGE_URL and request.is_navigation_request():
            body, self._serve = self._serve, None
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)
        else:  # "aborted": a failed navigation leaves the page as it is, no error page
            route.abort("aborted")

    def load(self, data: str) -> Links:
        """The links of `data` loaded as a page at PAGE_URL."""
        self._serve = data.encode("utf-8")
        self.page.goto(PAGE_URL, wait_until="load")
        return _links(self.page.evaluate(READ_LINKS, self.space))

    def write_each(self, datas: list[str]) -> list[Links]:
        """The links of each of `datas`, written in turn into the page at PAGE_URL."""
        self.load("")
        return [_links(found) for found in self.page.evaluate(READ_EACH, [self.space, datas])]


def _links(found: list[list[str]]) -> Links:
    return tuple((href, text) for href, text in found)


@contextmanager
def launched() -> Iterator[Browser]:
    """One headless Chromium (the one `verify --render` would run), one page of it."""
    from playwright.sync_api import sync_playwright
    from scrapy.settings import Settings

    from crawler.render import chromium_path

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(Settings()),
            args=["--disable-background-networking", "--disable-component-update"],
        )
        try:
            context = chromium.new_context(java_script_enabled=True, service_workers="block")
            yield Browser(context.new_page())
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as page:
        yield page


@pytest.fixture(scope="module")
def chromium_links(browser: Browser) -> dict[str, Links]:
    """Case id -> the links Chromium's DOM holds, every input written into one page."""
    found = inputs()
    return dict(zip(found, browser.write_each(list(found.values())), strict=True))


_MATHML = (
    "a MathML <a href> (no link to Chromium: not :any-link, not focusable) after a </div>"
    " that closed the <math> for lxml, not for the standard: not read again"
)
KNOWN_CHROMIUM_DIVERGENT = {
    "tests10.dat:486" + TAIL: _MATHML,
}


def test_links_are_read_as_chromium_reads_them(chromium_links: dict[str, Links]) -> None:
    found = inputs()
    differ = {
        case: (chromium, backcheck)
        for case, chromium in chromium_links.items()
        if chromium != (backcheck := ours(found[case]).links)
    }
    new = [
        f"{case}: {found[case]!r}\n  chromium:  {chromium}\n  backcheck: {backcheck}"
        for case, (chromium, backcheck) in sorted(differ.items())
        if case not in KNOWN_CHROMIUM_DIVERGENT
    ]
    agree = sorted(set(KNOWN_CHROMIUM_DIVERGENT) - set(differ))
    assert (new, agree) == ([], []), "\n".join(new + [f"now agrees: {case}" for case in agree])
    assert len(chromium_links) > 2000


def test_a_page_load_gives_the_links_writing_gave(
    browser: Browser, chromium_links: dict[str, Links]
) -> None:
    # Writing shares one window across inputs, and runs scripts from a script: each
    # input with a script, and some without, loaded by a navigation of their own.
    found = inputs()
    sample = [
        case
        for number, (case, data) in enumerate(found.items())
        if ("<script" in data.lower() and not case.endswith(TAIL)) or number % SAMPLE_EVERY == 0
    ]
    loaded = {case: browser.load(found[case]) for case in sample}
    assert loaded == {case: chromium_links[case] for case in sample}
    assert len(sample) > 200


#: Each rule of the reading on one page: text without script/style, an image's alt,
#: an <area>'s alt, SVG's <a>, nothing from <noscript> or <template> or MathML's <a>.
KNOWN_PAGE = (
    '<a href="x"> one <script>no</script><style>no</style><b>two</b>\u00a0\u2003</a>'
    '<a href=""><img alt=" Logo "></a><map><area href="m" alt=" map  area "></map>'
    '<svg><a href="s"><text>svg</text></a></svg><noscript><a href="n">n</a></noscript>'
    '<template><a href="t">t</a></template><math><mi><mglyph><a href="ml">ml</a></math>'
    "<script>document.write('<a href=w>written</a>')</script>"
)
KNOWN_LINKS = (("x", "one two"), ("", "Logo"), ("m", "map area"), ("s", "svg"), ("w", "written"))


def test_the_reading_of_a_known_page(browser: Browser) -> None:
    assert browser.load(KNOWN_PAGE) == KNOWN_LINKS
    assert browser.write_each([KNOWN_PAGE, "<a href=y>y</a>"]) == [KNOWN_LINKS, (("y", "y"),)]
