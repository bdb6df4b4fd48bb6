"""Request-wide middleware: the correlation id."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from storefront.correlation import (
    clean_correlation_id,
    reset_correlation_id,
    set_correlation_id,
)


class CorrelationIdMiddleware:
    """Take the caller's ``X-Correlation-ID`` (or make one), pass it to Centra, echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        cid = clean_correlation_id(request.headers.get("X-Correlation-ID"))
        request.correlation_id = cid  # type: ignore[attr-defined]
        token = set_correlation_id(cid)
        try:
            response = self.get_response(request)
        finally:
            reset_correlation_id(token)
        response["X-Correlation-ID"] = cid
        return response
