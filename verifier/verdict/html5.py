"""Re-read a page by the HTML standard's own tree construction, where lxml's lost content.

libxml2 (lxml) tokenizes as the HTML standard does but builds its tree by older rules
of its own, and in a few places that loses what follows: everything after a stray
`</html>` is dropped, and an unclosed `<title>` or `<style>` inside `<svg>`/`<math>`, or
an unclosed `<iframe>` inside a `<noscript>` (raw text for a browser that runs
scripts, as Google's renderer does) swallows the rest of the page as text. A link to
the site there is `link_removed` for lxml and live for a browser.

Re-reading every page this way would cost about 40 times lxml's parse (html5lib is
pure Python), so `page.links_to` asks only when lxml found no link to a site whose
name the page's bytes carry, and `lost_content` finds lxml's tree lost content
there, or when lxml found links on a page browsers show no links of
(`misread_links`: a `<frameset>` page). The re-read is html5lib's, with scripting
on, into an lxml tree like lxml's own (HTML elements and SVG/MathML ones alike
without a namespace), so the rest of `verifier.verdict` reads it unchanged.
"""

from __future__ import annotations

import re

from lxml import etree

from verifier.verdict import absence

#: Elements libxml2 always reads as raw text up to their end tag; browsers do so only
#: in HTML content, not inside <svg> or <math>, and a <noscript> ends them with itself.
_RAW_TEXT = ("title", "style", "textarea", "xmp", "iframe", "noembed", "noframes")
_ENDS_RAW_TEXT = frozenset({"svg", "math", "noscript"})
#: What may follow the first `</html>` without anything being lost.
_TRAILER = re.compile(rb"(?:\s|</?(?:body|html)\b[^>]*>|<!--.*?-->)*", re.S)
_FOREIGN = ("{http://www.w3.org/2000/svg}*", "{http://www.w3.org/1998/Math/MathML}*")


def lost_content(
    root: etree._Element, source: absence.Source, domain: str, base_on_site: bool
) -> str | None:
    """Why lxml's tree of `source` may lack a link to `domain` a browser has, or None.

    The lost part must name `domain`, or hold any link when relative links land on
    the site (`base_on_site`).
    """
    named = ("<a", "<area") if base_on_site else (domain,)
    squeezed = source.squeezed()
    end = squeezed.find(b"</html")
    if end != -1 and any(name.encode() in squeezed[end:] for name in named):
        close = squeezed.find(b">", end)
        if close == -1 or _TRAILER.fullmatch(squeezed, close + 1) is None:
            return "content after </html>"
    for el in root.iter(*_RAW_TEXT):
        text = el.text
        if (
            text
            and "<" in text
            and any(name in text.lower() for name in named)
            and next(el.iterancestors(*_ENDS_RAW_TEXT), None) is not None
        ):
            return f"<{el.tag}> swallowed the page"
    return None


def misread_links(root: etree._Element) -> str | None:
    """Why links lxml found may not be a browser's, or None.

    A `<frameset>` replaces the body for a browser (when nothing came before it)
    and ignores links inside it; lxml keeps them all.
    """
    return "<frameset>" if root.find("frameset") is not None else None


def build(text: str) -> etree._Element | None:
    """The page's tree as the HTML standard builds it (scripting on), or None."""
    import html5lib  # type: ignore[import-untyped]  # slow to import: only pages that need it pay

    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("lxml"), namespaceHTMLElements=False)
    try:
        document = parser.parse(text, scripting=True)
    except (ValueError, TypeError):
        return None
    root: etree._Element = document.getroot()
    for el in root.iter(*_FOREIGN):
        el.tag = etree.QName(el).localname  # lxml reads <svg><a> as `a` too
    return root
