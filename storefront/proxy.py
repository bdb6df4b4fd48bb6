"""The allowlisted proxy engine under ``/api/checkout/``: route table, matching, parameter
checks, the header allowlist, the session token, the Origin check, rate limits, the answer.

A request is proxied only when its method and path match a route of the table, each path
parameter passes its own rule, and the path is rebuilt from the template with every parameter
percent-encoded as one segment (:func:`storefront.centra.build_path`). Nothing of the client's
path is ever pasted into the upstream URL. All of this happens before any upstream call.

The route table and its matching are :mod:`storefront.routes` (why the *raw* path, there).

Two kinds of caller. A browser (or an app holding its own token) is a client of Centra's
client mode: unsafe calls of a cookie session need one of our origins, server-mode routes
(``PUT selection``) are a 403, server-mode body keys (``market``, ``pricelist``) are dropped.
A server holding one of our API keys (``Authorization: Bearer <STOREFRONT_API_KEYS>``, see
:func:`storefront.context.is_trusted`) is a client of Centra's server mode, as if it held the
shared secret: no Origin check (servers send none; browsers never hold the key), the
server-mode routes and keys, and every call passed on with the shared secret. A wrong key is a
401. The key itself is never passed on.

The session rules (new session, serialized mutations, payment in flight) and the reading of
Centra's answers are the service's, passed in by each app's view (``forward``); this module
knows HTTP, not Centra sessions or shapes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, re_path
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront.api import ProxyError
from storefront.bodies import request_body
from storefront.clientip import client_ip, rate_limit_subject
from storefront.context import accept_token, geo_country, is_trusted
from storefront.cookies import (
    TOKEN_PATTERN,
    set_cart_count_cookie,
    set_token_cookie,
    token_cookie,
)
from storefront.cors import normalise_origin
from storefront.jsonio import JsonDict, parse_json
from storefront.ratelimit import parse_rate, rate_limit_hit
from storefront.redis_client import get_redis
from storefront.routes import Route, RouteMatch, request_segments, route_match

log = logging.getLogger(__name__)

JSON = "application/json"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# -- the session token -------------------------------------------------------------------------

TokenSource = Literal["header", "cookie", "none"]


@dataclass(frozen=True)
class SessionToken:
    value: str | None
    source: TokenSource


def session_token(request: HttpRequest) -> SessionToken:
    """The header wins over the cookie: a non-browser client means the token it sends."""
    header = request.META.get("HTTP_API_TOKEN") or accept_token(request.META.get("HTTP_ACCEPT", ""))
    if header is not None:
        header = header.strip()
        if not TOKEN_PATTERN.fullmatch(header):
            raise ProxyError(400, {"API-token": "not a valid session token"})
        return SessionToken(header, "header")
    cookie = token_cookie(request)
    if cookie is not None:
        return SessionToken(cookie, "cookie")
    # A malformed cookie is treated as none: the shopper gets a fresh session and cookie.
    return SessionToken(None, "none")


# -- what the client may tell us -----------------------------------------------------------------

# Forwarded upstream, nothing else: Centra localises by Accept-Language and may log the agent.
# Content-Type and Accept are the client's own (JSON); X-Correlation-ID is set by the client.
FORWARDED_HEADERS = ("Accept-Language", "User-Agent")
MAX_HEADER_LENGTH = 512


def forward_headers(meta: Mapping[str, Any]) -> dict[str, str]:
    """The allowlisted request headers to pass on, minus any the client named in ``Connection``
    (which makes them hop-by-hop)."""
    nominated = {t.strip().lower() for t in str(meta.get("HTTP_CONNECTION", "")).split(",")}
    out: dict[str, str] = {}
    for name in FORWARDED_HEADERS:
        if name.lower() in nominated:
            continue
        value = meta.get("HTTP_" + name.upper().replace("-", "_"))
        if value and len(value) <= MAX_HEADER_LENGTH and value.isprintable() and value.isascii():
            out[name] = value
    return out


def _origin_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def origin_check(request: HttpRequest, token: SessionToken) -> None:
    """CSRF protection for cookie sessions: an unsafe call must come from a frontend origin or
    from our own. Clients that send the token in a header are exempt: the token is no ambient
    credential, and a page cannot send it cross-origin without a CORS preflight we refuse.
    A call without any token counts as a cookie call: it creates the session whose cookie a
    cross-site form post would plant in the shopper's browser (login CSRF)."""
    if request.method not in UNSAFE_METHODS or token.source == "header":
        return
    origin = request.META.get("HTTP_ORIGIN") or _origin_of(request.META.get("HTTP_REFERER", ""))
    if not origin or origin == "null":
        raise ProxyError(403, {"origin": "missing"})
    allowed = {normalise_origin(o) for o in settings.FRONTEND_ORIGINS}
    allowed.add(normalise_origin(f"{request.scheme}://{request.get_host()}"))
    if normalise_origin(origin) not in allowed:
        raise ProxyError(403, {"origin": "not allowed"})


def _limit(scope: str, subject: str, rate_setting: str) -> None:
    rate = parse_rate(rate_setting)
    if rate is None:
        return
    retry_after = rate_limit_hit(redis_client=get_redis(), scope=scope, subject=subject, rate=rate)
    if retry_after is not None:
        raise ProxyError(
            429,
            {"rateLimit": f"too many requests, retry in {retry_after} seconds"},
            {"Retry-After": str(retry_after)},
        )


def rate_limit_check(
    request: HttpRequest,
    match: RouteMatch,
    body: JsonDict | None,
    token: SessionToken,
    *,
    trusted: bool = False,
) -> None:
    """Per address for the calls that cost Centra most: every mutation, and every call that
    starts a new session. Per address and per email for authentication calls.

    A read of an existing session (``GET selection`` with a token, the most frequent call)
    is not counted: it would cost a Redis round trip on the hot path, and a flood of such
    reads is the edge's to absorb (CDN/WAF), as for every other page of the site."""
    subject = rate_limit_subject(client_ip(request.META))
    # A trusted server calls for many shoppers from one address: only its per-email limit
    # applies (a password guessed through a server is still a password guessed).
    if not trusted and (match.route.mutates or token.value is None):
        _limit("proxy-ip", subject, settings.RATE_LIMIT_PROXY)
    source = match.route.auth_email
    if source is None:
        return
    if not trusted:
        _limit("auth-ip", subject, settings.RATE_LIMIT_AUTH)
    kind, _, name = source.partition(":")
    email = match.params.get(name) if kind == "param" else (body or {}).get(name)
    if isinstance(email, str) and email.strip():
        _limit("auth-email", email.strip().lower(), settings.RATE_LIMIT_AUTH)


def json_body(request: HttpRequest, route: Route) -> JsonDict | None:
    """A JSON object, size-limited, or None when there is no body (a GET's is ignored: Centra's
    reads take none). Passed on as parsed."""
    raw = request_body(request, limit=settings.CHECKOUT_MAX_BODY_BYTES)
    if not raw.strip() or not route.mutates:
        return None

    try:
        data = parse_json(raw)  # strict: UTF-8, no NaN/Infinity (they could not be sent on)
    except ValueError:
        raise ProxyError(400, {"body": "malformed JSON"}) from None
    if not isinstance(data, dict):
        raise ProxyError(400, {"body": "must be a JSON object"})
    return data


def body_check(route: Route, body: JsonDict | None, *, trusted: bool) -> JsonDict | None:
    """The route's rules for the body: its required keys (400 with errors when one is missing
    or refused), and the server-mode keys left out for a caller without our API key."""
    errors: dict[str, str] = {}
    for key, rule in route.body.items():
        value = (body or {}).get(key)
        if value is None or value == "":
            errors[key] = "required"
        elif not isinstance(value, str):
            errors[key] = "must be a string"
        elif why := rule.refuse(value):
            errors[key] = why
    if errors:
        raise ProxyError(400, errors)
    if body is not None and not trusted and route.trusted_keys & body.keys():
        # Centra ignores them from a client-side call; we do not pass them on at all, so no
        # later change (a call made server-side for the shopper) could make them count.
        body = {k: v for k, v in body.items() if k not in route.trusted_keys}
    return body


# -- the call and its answer ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProxyCall:
    """Everything a service needs to make one proxied call, already validated."""

    match: RouteMatch
    body: JsonDict | None
    token: SessionToken
    country: str | None  # from the geo header, for a new session
    headers: dict[str, str]
    # A server-side caller with our API key: no Origin check, Centra's server-mode calls,
    # passed on with the shared secret (see storefront.context.is_trusted).
    trusted: bool = False


@dataclass(frozen=True)
class ProxyResult:
    status: int
    body: JsonDict
    token: str | None  # the token of Centra's answer, to follow when it changed
    # Centra's answer byte for byte (strict UTF-8 JSON that parsed as ``body``), passed on as
    # it is; ``body`` is for reading (token, bag count), never encoded again.
    content: bytes
    # Items in the bag after this answer, read by the service that knows Centra's shapes;
    # None when the answer says nothing about it.
    cart_count: int | None = None


Forward = Callable[..., ProxyResult]  # forward(*, call: ProxyCall) -> ProxyResult


def proxy_call(request: HttpRequest, routes: Sequence[Route]) -> ProxyCall:
    """Validate everything about a request before any upstream call."""
    method = request.method or "GET"
    # A server-side caller with one of our API keys; a wrong key is a 401 before anything.
    trusted = is_trusted(request)
    match = route_match(routes, method, request_segments(request.META, request.path_info))
    if match.route.trusted_only and not trusted:
        raise ProxyError(403, {"authorization": "a server-side call: send the API key (Bearer)"})
    token = session_token(request)
    if not trusted:
        # Servers send no Origin, and browsers never hold the key: the check is for browsers.
        origin_check(request, token)
    body = body_check(match.route, json_body(request, match.route), trusted=trusted)
    rate_limit_check(request, match, body, token, trusted=trusted)
    return ProxyCall(
        match=match,
        body=body,
        token=token,
        country=geo_country(request),
        headers=forward_headers(request.META),
        trusted=trusted,
    )


def proxy_response(call: ProxyCall, result: ProxyResult) -> HttpResponse:
    """Centra's status and JSON unchanged (its very bytes); of its headers none (ours are
    added), and the cookie follows the token when Centra issued a new one. Clients that hold
    the token themselves (the header, a trusted server) get no cookies."""
    response = HttpResponse(result.content, status=result.status, content_type=JSON)
    if call.token.source == "header" or call.trusted:
        return response
    if result.token and result.token != call.token.value and TOKEN_PATTERN.fullmatch(result.token):
        set_token_cookie(response, result.token)
    if result.cart_count is not None:
        # Readable by pages and scripts: the header's cart count without a Centra call.
        set_cart_count_cookie(response, result.cart_count)
    return response


class JsonOnly(BaseContentNegotiation):
    """Centra answers JSON whatever the Accept header says; so do we (never a 406 of ours,
    which a frontend would read as Centra's)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class ProxyBaseView(APIView):
    """No DRF authentication, parsing or Allow header: the engine does its own checks."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    parser_classes = []
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonOnly

    @property
    def default_response_headers(self) -> dict[str, str]:
        return {}

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, redis.RedisError):
            # Locks and rate limits live in Redis: without it we refuse, we do not guess.
            log.warning("proxy: Redis unavailable: %s", type(exc).__name__)
            exc = ProxyError(503, {"session": "temporarily unavailable"}, {"Retry-After": "5"})
        response = super().handle_exception(exc)
        if isinstance(exc, ProxyError):
            for name, value in exc.headers.items():
                response[name] = value
        return response

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        # Session data: never stored by a browser or shared cache.
        response["Cache-Control"] = "no-store"
        return response


class ProxyView(ProxyBaseView):
    """One app's allowlist: ``class CheckoutProxy(ProxyView): routes = ...; forward = ...``."""

    routes: ClassVar[Sequence[Route]] = ()
    forward: ClassVar[Forward]

    def proxy(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        call = proxy_call(request._request, self.routes)
        return proxy_response(call, type(self).forward(call=call))

    get = post = put = delete = patch = head = proxy

    def options(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        return self.proxy(request, *args, **kwargs)

    def http_method_not_allowed(self, request: Request, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """TRACE and any method DRF does not know: the route table says which methods the
        path has (405 with ``Allow``), or that there is no such path (404)."""
        return self.proxy(request, *args, **kwargs)


class NotProxiedView(ProxyBaseView):
    """Everything under ``/api/checkout/`` that no allowlist has: a 404 with ``errors``."""

    def refuse(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise ProxyError(404, {"endpoint": "not found"})

    get = post = put = delete = patch = head = refuse

    def options(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        return self.refuse(request, *args, **kwargs)

    def http_method_not_allowed(self, request: Request, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self.refuse(request, *args, **kwargs)


def proxy_urlpatterns(routes: Sequence[Route], view: Callable[..., Any]) -> list[URLPattern]:
    """One URL pattern for the first segments of a table; the view matches the rest itself on
    the raw path. ``[\\s\\S]`` so a decoded newline still reaches the view and its refusal."""
    firsts = sorted({r.segments[0] for r in routes}, key=lambda s: (-len(s), s))
    alternatives = "|".join(re.escape(s) for s in firsts)
    return [re_path(rf"^api/checkout/(?:{alternatives})(?:/[\s\S]*)?\Z", view)]
