"""Which pages to render in a browser, and how a rendered verdict joins the raw one (issue 14).

Pure functions: the crawler (crawler/render.py) renders, these decide. A page is
rendered only after its raw HTML was read, so a verdict from rendering always has a
raw one to fall back on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from verifier.models import BacklinkRef, Check, Fetch, FoundIn, Reason, Status
from verifier.verdict import classify
from verifier.verdict.page import decode
from verifier.verdict.parser import parse_html
from verifier.verdict.urls import compare_key


class RenderMode(StrEnum):
    NEVER = "never"  # raw HTML only (backcheck before issue 14)
    AUTO = "auto"  # only pages whose raw HTML lacks the link and that run scripts
    ALWAYS = "always"  # every readable page that is not noindex


#: Reasons a page was read (parsed as HTML, not noindex): only such pages are rendered.
_READ = frozenset({None, Reason.LINK_REMOVED, Reason.NOT_CANONICAL})

#: `<script type>` values that a browser executes (the HTML standard's JavaScript MIME
#: type essences, plus "module" and the empty type). Anything else (JSON-LD,
#: text/template, importmap ...) is a data block.
JS_TYPES = frozenset(
    {
        "",
        "module",
        "application/ecmascript",
        "application/javascript",
        "application/x-ecmascript",
        "application/x-javascript",
        "text/ecmascript",
        "text/javascript",
        "text/javascript1.0",
        "text/javascript1.1",
        "text/javascript1.2",
        "text/javascript1.3",
        "text/javascript1.4",
        "text/javascript1.5",
        "text/jscript",
        "text/livescript",
        "text/x-ecmascript",
        "text/x-javascript",
    }
)


def wants_render(mode: RenderMode, check: Check) -> bool:
    """Whether this check's verdict may change by rendering its page (the page aside)."""
    if mode is RenderMode.NEVER or check.reason not in _READ:
        return False
    if mode is RenderMode.ALWAYS:
        return True
    # auto: the link is missing, or no link goes to the expected target
    return check.reason is Reason.LINK_REMOVED or (
        check.status is Status.LIVE and bool(check.target_changed)
    )


def needs_render(mode: RenderMode, checks: Sequence[Check], has_script: Callable[[], bool]) -> bool:
    """Whether to render the page these checks were read from.

    Never a noindex page (raw HTML or headers; Google does not render it), never a
    page that was not read (an error, not HTML). `auto` also needs an executable
    script on the page; `has_script` is called only when the rest says yes.
    """
    if any(check.reason is Reason.NOINDEX for check in checks):
        return False
    if not any(wants_render(mode, check) for check in checks):
        return False
    return mode is RenderMode.ALWAYS or has_script()


def has_executable_script(body: bytes, content_type: str | None = None) -> bool:
    """True when the HTML has a `<script>` a browser runs (not JSON-LD or another data block)."""
    text = decode(body, content_type)  # first: a UTF-16 page holds no b"<script"
    if "<script" not in text.lower():
        return False
    # As the verdict read it: past a nesting of 256 (and of 2,048) too.
    root, _ = parse_html(text.encode("utf-8", "surrogatepass"))
    if root is None:
        return False
    for script in root.iter("script"):
        kind = (script.get("type") or "").strip().lower().split(";")[0].strip()
        if kind not in JS_TYPES or script.get("nomodule") is not None:
            continue
        if script.get("src") or (script.text or "").strip():
            return True
    return False


def _note(*parts: str | None) -> str | None:
    return "; ".join(part for part in parts if part) or None


def join_rendered(raw: Check, rendered: Check | None, note: str | None = None) -> Check:
    """The check to keep for one backlink once its page was (or failed to be) rendered.

    `rendered` None: the render failed; the raw verdict stands and `note` says why.
    Otherwise the rendered DOM decides, as the raw one did; a live link is `found_in`
    raw when the raw HTML held the same link (whatever the raw verdict), else
    `rendered`. A rendered page that could not be parsed keeps the raw verdict.
    """
    if rendered is None or rendered.reason is Reason.CRAWL_ERROR:
        raw.rendered = False
        raw.detail = _note(raw.detail, note or "render failed")
        return raw
    rendered.rendered = True
    rendered.mentions = raw.mentions  # brand terms are read once, from the raw page
    rendered.fetch_ms = raw.fetch_ms
    rendered.size = raw.size
    rendered.content_hash = raw.content_hash
    if rendered.status is Status.LIVE:
        # The raw HTML held the link even where its verdict was another (a canonical
        # or a rel a script then changed): the link is not one only scripts make.
        same = raw.observed_target is not None and compare_key(raw.observed_target) == compare_key(
            rendered.observed_target or ""
        )
        rendered.found_in = FoundIn.RAW if same else FoundIn.RENDERED
    rendered.detail = _note(rendered.detail, note)
    return rendered


def rejoin(
    mode: RenderMode,
    fetch: Fetch,
    refs: Sequence[BacklinkRef],
    items: Sequence[Any],
    html: str | None,
    note: str | None,
) -> list[Any]:
    """A page's items (its checks first, one per ref) with the checks that rendering may
    change read again from the rendered `html` (None: not rendered, `note` says why)."""
    rendered: list[Any] = [None] * len(refs)
    if html is not None:
        # A script may leave a lone surrogate in the DOM (JavaScript strings are UTF-16):
        # as a browser serialises it, U+FFFD.
        body = html.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode()
        page = dataclasses.replace(fetch, body=body, content_type="text/html; charset=utf-8")
        rendered = classify.read_fetch(page, list(refs))[1][: len(refs)]
    joined = list(items)
    for index, (raw, seen) in enumerate(zip(items[: len(refs)], rendered, strict=True)):
        if isinstance(raw, Check) and wants_render(mode, raw):
            joined[index] = join_rendered(raw, seen, note)
    return joined
