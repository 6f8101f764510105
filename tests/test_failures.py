"""Download failures map to unreachable reasons (crawler/failures.py)."""

from __future__ import annotations

import pytest
from OpenSSL import SSL
from scrapy import Request
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
from scrapy.http import HtmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_errors
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived

from crawler.failures import reason_for
from verifier.models import Reason


def failure_of(exc: BaseException) -> Failure:
    failure = Failure(exc)
    failure.request = Request("http://blog.test/p")  # type: ignore[attr-defined]
    return failure


def tls_wrapped() -> BaseException:
    # How the HTTP/1.1 handler reports a failed TLS handshake: a wrapped OpenSSL error.
    inner = ResponseNeverReceived([Failure(SSL.Error([("SSL routines", "", "wrong version")]))])
    outer = DownloadFailedError(str(inner))
    outer.__cause__ = inner
    return outer


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (DownloadTimeoutError("took longer than 30 seconds"), Reason.TIMEOUT),
        (twisted_errors.TimeoutError(), Reason.TIMEOUT),
        (twisted_errors.TCPTimedOutError(), Reason.TIMEOUT),
        (CannotResolveHostError("no.such.host"), Reason.DNS_ERROR),
        (twisted_errors.DNSLookupError("no.such.host"), Reason.DNS_ERROR),
        (DownloadConnectionRefusedError("refused"), Reason.CONNECTION_ERROR),
        (DownloadFailedError("connection closed"), Reason.CONNECTION_ERROR),
        (ResponseDataLossError("lost"), Reason.CONNECTION_ERROR),
        (twisted_errors.ConnectionLost(), Reason.CONNECTION_ERROR),
        (TunnelError("Could not open CONNECT tunnel"), Reason.CONNECTION_ERROR),
        (tls_wrapped(), Reason.TLS_ERROR),
        (SSL.Error([("SSL routines", "", "certificate verify failed")]), Reason.TLS_ERROR),
        (IgnoreRequest("Forbidden by robots.txt"), Reason.ROBOTS_BLOCKED),
        (IgnoreRequest("max redirections reached"), Reason.TOO_MANY_REDIRECTS),
        (IgnoreRequest("filtered"), Reason.CRAWL_ERROR),
        (DownloadCancelledError(), Reason.TOO_LARGE),
        (
            DownloadCancelledError("expected response size larger than download max size"),
            Reason.TOO_LARGE,
        ),
        (ValueError("something else"), Reason.CRAWL_ERROR),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_reason_for(exc: BaseException, reason: Reason) -> None:
    got, detail = reason_for(failure_of(exc))
    assert got is reason
    assert detail and len(detail) <= 500


def test_a_status_outside_those_read_says_which() -> None:
    # LinkedIn answers bots with 999: "Ignoring non-200 response" did not say so.
    response = HtmlResponse("http://blog.test/p", status=999, body=b"")
    got, detail = reason_for(failure_of(HttpError(response, "Ignoring non-200 response")))
    assert (got, detail) == (
        Reason.CRAWL_ERROR,
        "the server answered HTTP 999, a status outside 200-599",
    )


def _decompression_refused(url: str) -> IgnoreRequest:
    """What Scrapy 2.19's HttpCompressionMiddleware raises (REFERENCE-2 §7)."""
    from scrapy.utils._compression import _DecompressionMaxSizeExceeded

    message = (
        f"Ignored response <200 {url}> because its body (30000 B compressed, 500010 B"
        " decompressed so far) exceeded DOWNLOAD_MAXSIZE (500000 B) during decompression."
    )
    try:
        try:
            raise _DecompressionMaxSizeExceeded(500010, 500000)
        except _DecompressionMaxSizeExceeded as cause:
            raise IgnoreRequest(message) from cause
    except IgnoreRequest as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        pytest.param(_decompression_refused("http://b.test/p"), Reason.TOO_LARGE, id="bomb"),
        pytest.param(
            _decompression_refused("http://b.test/redirect/robots.txt"),
            Reason.TOO_LARGE,
            id="bomb-url-says-redirect",
        ),
        pytest.param(
            IgnoreRequest("exceeded DOWNLOAD_MAXSIZE during decompression."),
            Reason.TOO_LARGE,
            id="message-only",
        ),
        # Near misses: other IgnoreRequests stay what they were.
        pytest.param(IgnoreRequest("decompression"), Reason.CRAWL_ERROR, id="other-ignore"),
        pytest.param(IgnoreRequest("max redirections reached"), Reason.TOO_MANY_REDIRECTS),
    ],
)
def test_a_decompression_over_the_cap_is_too_large(exc: BaseException, reason: Reason) -> None:
    assert reason_for(failure_of(exc))[0] is reason
