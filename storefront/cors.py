"""CORS for the configured frontend origins only, with credentials, never ``*``.

The frontend (another origin) calls the BFF with the shopper's cookie, so the browser needs
``Access-Control-Allow-Credentials`` and the exact origin echoed back; any other origin gets no
CORS headers at all and the browser keeps the answer from it. Preflights are answered here,
before routing, so they never reach a view or Centra.

CORS only decides what a browser lets a page *read*; it does not stop a cross-site form post
from being *sent*. That is the proxy's Origin check (:mod:`storefront.proxy`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers

API_PREFIX = "/api/"
ALLOWED_METHODS = "GET, POST, PUT, DELETE"
# What the frontend may send cross-origin: the token header for non-cookie clients, JSON
# bodies, its own correlation id, and the language it wants.
ALLOWED_HEADERS = "API-token, Content-Type, X-Correlation-ID, Accept-Language"
EXPOSED_HEADERS = "X-Correlation-ID, Retry-After"
PREFLIGHT_MAX_AGE = "600"


def normalise_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def allowed_origins() -> frozenset[str]:
    return frozenset(normalise_origin(o) for o in settings.FRONTEND_ORIGINS if o.strip() != "*")


def origin_allowed(origin: str | None) -> bool:
    return bool(origin) and normalise_origin(origin or "") in allowed_origins()


class CorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        origin = request.headers.get("Origin")
        is_preflight = (
            request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
        )
        if is_preflight:
            response: HttpResponse
            if origin_allowed(origin):
                response = HttpResponse(status=204)
                response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
                response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
            else:
                response = JsonResponse({"errors": {"origin": "not allowed"}}, status=403)
        else:
            response = self.get_response(request)
        # Answers differ by Origin: shared caches must not hand one origin's answer to another.
        patch_vary_headers(response, ("Origin",))
        if origin_allowed(origin):
            response["Access-Control-Allow-Origin"] = origin.strip()  # type: ignore[union-attr]
            response["Access-Control-Allow-Credentials"] = "true"
            response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return response
