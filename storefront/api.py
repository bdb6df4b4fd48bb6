"""API error mapping, done once: views raise, this turns it into Centra-shaped answers.

Every error answer has an ``errors`` object, as Centra's do. Centra's own 4xx answers pass
through unchanged (status and body); an unreachable Centra is a 503.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from storefront.centra import (
    CentraRejected,
    CentraTimeout,
    CentraUnavailable,
    UnsafePathParameter,
)

log = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """A 4xx of our own with an ``errors`` object: ``raise ApiError(400, {"limit": "..."})``."""

    def __init__(self, status: int, errors: dict[str, Any]) -> None:
        super().__init__(detail="error")
        self.status_code = status
        self.errors = errors


class ProxyError(ApiError):
    """An :class:`ApiError` that also sets response headers (``Allow``, ``Retry-After``)."""

    def __init__(
        self, status: int, errors: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status, errors)
        self.headers = dict(headers or {})


def _flatten(detail: Any) -> Any:
    if isinstance(detail, list):
        return "; ".join(str(d) for d in detail) if detail else "invalid"
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    return str(detail)


def errors_body(errors: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"errors": errors, **extra}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApiError):
        return Response(errors_body(exc.errors), status=exc.status_code)
    if isinstance(exc, CentraRejected):
        return Response(exc.body, status=exc.status)
    if isinstance(exc, CentraTimeout):
        log.warning("Centra did not answer in time: %s", exc.reason)
        return Response(errors_body({"centra": "timeout"}), status=504)
    if isinstance(exc, CentraUnavailable):
        log.warning("Centra unavailable: %s", exc.reason)
        return Response(errors_body({"centra": "unavailable"}), status=503)
    if isinstance(exc, UnsafePathParameter):
        return Response(errors_body({exc.name: exc.reason}), status=400)
    if isinstance(exc, Http404):
        return Response(errors_body({"endpoint": "not found"}), status=404)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(exc, exceptions.ValidationError) and isinstance(detail, dict):
        errors = _flatten(detail)
    elif isinstance(exc, exceptions.ParseError):
        errors = {"body": "malformed JSON"}
    elif isinstance(detail, dict) and "detail" in detail:
        errors = {
            exc.default_code if hasattr(exc, "default_code") else "request": str(detail["detail"])
        }
    else:
        errors = {"request": _flatten(detail)}
    response.data = errors_body(errors)
    return response
