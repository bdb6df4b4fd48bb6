"""The one bounded reader of request bodies (the proxy, the catalog API, the webhook receiver).

Every body is read whole and at most ``limit`` bytes: a declared length over the limit is
refused before a byte is read, and a body that turns out longer is refused at ``limit + 1``
bytes, so no caller ever holds more than its limit in memory.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest
from gunicorn.http.errors import ParseException as ServerParseError  # type: ignore[import-untyped]

from storefront.api import ApiError

log = logging.getLogger(__name__)


# The server's own errors for a chunked body that is malformed or ends early: gunicorn raises
# its parse errors (and ``NoMoreData``, an OSError) from ``wsgi.input.read``.
BODY_READ_ERRORS: tuple[type[Exception], ...] = (OSError, ValueError, ServerParseError)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, {"body": f"larger than {limit} bytes"})


def request_body(request: HttpRequest, *, limit: int) -> bytes:
    """The request body, whole, at most ``limit`` bytes (413 beyond), whatever its framing.

    Django reads a body by its ``Content-Length`` only: a chunked body has none, so Django
    reads it as empty, and a call would go on without its body. A chunked body is therefore
    read here from the server's input stream, which a server that decodes chunked bodies
    ends where the body ends (``wsgi.input_terminated``, set by gunicorn). Where the server
    does not promise that, or for any other transfer coding, the request is refused with 411:
    the client can always send a length. A body that ends before its last chunk is a 400, so
    a truncated body is never passed on or answered."""
    coding = request.META.get("HTTP_TRANSFER_ENCODING")
    if coding is None:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise ApiError(400, {"body": "bad Content-Length"}) from None
        if declared > limit:
            raise _too_large(limit)
        raw = request.read(limit + 1)
        if len(raw) > limit:
            raise _too_large(limit)
        return raw
    if [c.strip().lower() for c in coding.split(",")] != ["chunked"]:
        raise ApiError(411, {"body": "send a Content-Length (only chunked is understood)"})
    if request.META.get("CONTENT_LENGTH") or not request.META.get("wsgi.input_terminated"):
        # Both framings at once is a smuggling attempt; a server that does not end the
        # stream at the body's end would leave us guessing where it ends.
        raise ApiError(411, {"body": "send a Content-Length"})
    stream = request.META["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= limit:
            chunk = stream.read(min(64 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except BODY_READ_ERRORS as e:
        log.info("a chunked body that is malformed or cut off: %s", type(e).__name__)
        raise ApiError(400, {"body": "the chunked body is malformed or incomplete"}) from None
    if size > limit:
        raise _too_large(limit)
    return b"".join(chunks)
