"""lxml's HTML parser as backcheck configures it, one per thread.

libxml2 (2.14, bundled with lxml) tokenizes as the HTML standard does but builds the
tree by its own older rules; where those differ from the standard's and what that
changes for a verdict is measured by tests/test_html5lib_conformance.py.
"""

from __future__ import annotations

import re
import threading

from lxml import etree

#: `huge_tree`: libxml2 otherwise stops at a nesting depth of 256 and drops the rest of
#: the page (300 unclosed `<b>` or `<font>` on old forum pages), where browsers keep it.
#: It also lifts libxml2's 10 MB text-node limit; bodies are capped by DOWNLOAD_MAXSIZE.
PARSER_OPTIONS: dict[str, bool | str] = {
    "encoding": "utf-8",
    "remove_comments": False,
    "huge_tree": True,
}
#: An http(s) URL with its own host, which no base can change (noise may split it;
#: the URL parser trims C0 controls and spaces, not other white space such as U+00A0).
ABSOLUTE_HTTP = re.compile(
    r"[\x00-\x20]*h[\t\n\r]*t[\t\n\r]*t[\t\n\r]*p[\t\n\r]*s?[\t\n\r]*:[\t\n\r]*/[\t\n\r]*/[\t\n\r]*[^/?#\s]",
    re.I,
)

_local = threading.local()


def html_parser() -> etree.HTMLParser:
    # One parser per thread: lxml parsers must not be shared between threads
    # (the crawler parses in one thread, other callers may not). Plain etree, not lxml.html:
    # lxml.html looks up a Python element class for every node it hands out,
    # which costs more than the parse on link-heavy pages.
    parser: etree.HTMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.HTMLParser(**PARSER_OPTIONS)
    return parser
