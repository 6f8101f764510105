"""Map a Scrapy download failure to an unreachable reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.http11 import TunnelError
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_errors

from crawler.middlewares import AddressRefused
from verifier.models import Reason

if TYPE_CHECKING:
    from twisted.python.failure import Failure

# Checked in order; the first class that matches decides.
_BY_TYPE: tuple[tuple[tuple[type[BaseException], ...], Reason], ...] = (
    (
        (DownloadTimeoutError, twisted_errors.TimeoutError, twisted_errors.TCPTimedOutError),
        Reason.TIMEOUT,
    ),
    ((CannotResolveHostError, twisted_errors.DNSLookupError), Reason.DNS_ERROR),
    (
        (
            DownloadConnectionRefusedError,
            DownloadFailedError,
            ResponseDataLossError,
            twisted_errors.ConnectError,
            twisted_errors.ConnectionLost,
            twisted_errors.ConnectionDone,
            TunnelError,  # the proxy could not reach the host
        ),
        Reason.CONNECTION_ERROR,
    ),
)


def _looks_like_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):  # follow __cause__ / wrapped reasons a few levels
        if seen is None:
            break
        text = f"{type(seen).__module__}.{type(seen).__name__} {seen}"
        if "SSL" in text or "OpenSSL" in text or "certificate" in text.lower():
            return True
        seen = seen.__cause__ or seen.__context__
    reasons = getattr(exc, "reasons", None) or []
    return any("SSL" in repr(r) for r in reasons)


def _decompressed_too_large(exc: IgnoreRequest, message: str) -> bool:
    # Scrapy 2.19 raises IgnoreRequest(...) from a private _DecompressionMaxSizeExceeded.
    cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else ""
    return cause == "_DecompressionMaxSizeExceeded" or message.endswith("during decompression.")


def reason_for(failure: Failure) -> tuple[Reason, str]:
    """The unreachable reason for a failed request, and a detail for the evidence."""
    exc = failure.value
    detail = f"{type(exc).__name__}: {exc}"[:500]
    if isinstance(exc, AddressRefused):  # its detail names the rule (and may say "redirect")
        return Reason.CRAWL_ERROR, detail
    if isinstance(exc, HttpError):  # a status no page answers with (LinkedIn's 999 to bots)
        status = exc.response.status
        return Reason.CRAWL_ERROR, f"the server answered HTTP {status}, a status outside 200-599"
    if isinstance(exc, IgnoreRequest):
        message = str(exc).lower()
        if _decompressed_too_large(exc, message):
            # HttpCompressionMiddleware: the decompressed body outgrew DOWNLOAD_MAXSIZE
            # (a gzip bomb, or just a big page): too large, like a raw body that does.
            # Tested first: its message holds the page URL, which may say "redirect".
            return Reason.TOO_LARGE, detail
        if "robots.txt" in message:
            return Reason.ROBOTS_BLOCKED, detail
        if "redirect" in message:
            return Reason.TOO_MANY_REDIRECTS, detail
        return Reason.CRAWL_ERROR, detail
    if isinstance(exc, DownloadCancelledError):
        # Scrapy cancels a download only for DOWNLOAD_MAXSIZE (announced or received);
        # the message is empty when the body outgrew it without a Content-Length.
        return Reason.TOO_LARGE, detail if str(exc) else "body larger than DOWNLOAD_MAXSIZE"
    if _looks_like_tls(exc):
        return Reason.TLS_ERROR, detail
    for types, reason in _BY_TYPE:
        if isinstance(exc, types):
            return reason, detail
    return Reason.CRAWL_ERROR, detail
