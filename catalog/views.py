"""Centra-compatible catalog endpoints under /api/checkout/, answered from the cache.

Plain Django views rather than DRF ones: these are the hot path, measured against a
hello-world Django view, and need nothing DRF adds. :func:`catalog_endpoint` gives them what
DRF would: errors mapped once (by ``storefront.api.exception_handler``, so the answers are
the same as everywhere else), ``?pretty``, ``X-Cache`` on every answer, CSRF exemption (they
read, never change state) and 405 for other methods. Each view validates, calls one service
and returns its answer.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from catalog import reads, shop_reads
from catalog.answers import MISS, CatalogAnswer, cache_state
from storefront.api import ApiError, exception_handler
from storefront.bodies import request_body
from storefront.centra import CentraError
from storefront.context import VisitorContext, is_trusted
from storefront.jsonio import JsonDict, JsonTooDeep, parse_json
from storefront.redis_client import get_redis

View = Callable[..., CatalogAnswer]


def _render(request: HttpRequest, body: Any, status: int, cache: str) -> HttpResponse:
    pretty = "pretty" in request.GET
    data = json.dumps(body, ensure_ascii=False, indent=2 if pretty else None)
    response = HttpResponse(
        data.encode(), status=status, content_type="application/json; charset=utf-8"
    )
    response["X-Cache"] = cache
    return response


def _error_cache_state(exc: Exception) -> str:
    if isinstance(exc, CentraError | redis.RedisError):
        return MISS
    return cache_state(get_redis())


def _mapped(exc: Exception, request: HttpRequest) -> tuple[Any, int] | None:
    """The answer to an exception, as everywhere else; a Redis failure that got this far
    (every read path has its own fallback) is a 503, never a 500."""
    if isinstance(exc, redis.RedisError):
        return {"errors": {"cache": "unavailable"}}, 503
    mapped = exception_handler(exc, {"request": request})
    return None if mapped is None else (mapped.data, mapped.status_code)


def catalog_endpoint(*methods: str) -> Callable[[View], Callable[..., HttpResponse]]:
    allowed = {m.upper() for m in methods}

    def decorate(view: View) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in allowed:
                    raise ApiError(405, {"method": "not allowed"})
                answer = view(request, *args, **kwargs)
            except Exception as exc:
                mapped = _mapped(exc, request)
                if mapped is None:
                    raise
                data, status = mapped
                token = getattr(request, "catalog_token", None)
                if token and isinstance(data, dict):
                    data = {"token": token, **data}
                response = _render(request, data, status, _error_cache_state(exc))
                if status == 405:
                    response["Allow"] = ", ".join(sorted(allowed))  # RFC 9110 requires it
                return response
            text = answer.json_text(getattr(request, "catalog_token", None))
            if "pretty" in request.GET:
                text = json.dumps(json.loads(text), ensure_ascii=False, indent=2)
            response = HttpResponse(
                text.encode(), status=answer.status, content_type="application/json; charset=utf-8"
            )
            response["X-Cache"] = answer.cache
            return response

        return wrapper

    return decorate


# A catalog query has about fifteen fields; a form body of thousands is not one.
MAX_FORM_FIELDS = 100
# An empty body is {} as for Centra; "empty" is what JSON calls whitespace (RFC 8259), so a
# body of other control characters is malformed JSON, not an empty query.
JSON_WHITESPACE = b" \t\n\r"


def json_body(request: HttpRequest) -> JsonDict:
    """The request body as Centra (the sandbox) reads it: empty is ``{}``, a form body is its
    fields, anything else must be a JSON object, read by the one strict reader
    (:func:`storefront.jsonio.parse_json`: too deep a nesting is a 400, never a
    ``RecursionError``). Oversize bodies are refused before they are read (a catalog query is
    a few hundred bytes)."""
    raw = request_body(request, limit=settings.CATALOG_MAX_BODY_BYTES)
    if not raw.strip(JSON_WHITESPACE):
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, {"body": "not valid UTF-8"}) from None
    form = "application/x-www-form-urlencoded" in (request.content_type or "").lower()
    # curl's default type is the form one; a body that is plainly JSON is read as JSON.
    if form and not text.lstrip().startswith("{"):
        try:
            fields = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
        except ValueError:
            raise ApiError(400, {"body": f"at most {MAX_FORM_FIELDS} form fields"}) from None
        return {k: v[-1] for k, v in fields.items()}
    try:
        body = parse_json(raw)
    except JsonTooDeep as exc:
        raise ApiError(400, {"body": str(exc)}) from None
    except ValueError:
        raise ApiError(400, {"body": "malformed JSON"}) from None
    if not isinstance(body, dict):
        raise ApiError(400, {"body": "must be a JSON object"})
    return body


def query_params(request: HttpRequest) -> JsonDict:
    return {k: v[-1] for k, v in request.GET.lists()}


def _context(request: HttpRequest, params: JsonDict) -> VisitorContext:
    context = shop_reads.visitor_context(request=request, params=params)
    request.catalog_token = context.token  # type: ignore[attr-defined]
    return context


@catalog_endpoint("POST")
def products(request: HttpRequest) -> CatalogAnswer:
    is_trusted(request)  # a wrong API key is a 401 before anything else
    body = json_body(request)
    return reads.products_query(context=_context(request, body), body=body)


@catalog_endpoint("GET")
def product(request: HttpRequest, product_id: str) -> CatalogAnswer:
    params = query_params(request)
    context = _context(request, params)
    return reads.product_get(context=context, product_id=product_id, params=params)


@catalog_endpoint("POST")
def uri(request: HttpRequest) -> CatalogAnswer:
    is_trusted(request)
    body = json_body(request)
    return reads.uri_resolve(context=_context(request, body), body=body)


@catalog_endpoint("GET", "POST")
def categories(request: HttpRequest) -> CatalogAnswer:
    is_trusted(request)
    params = json_body(request) if request.method == "POST" else query_params(request)
    return reads.categories_list(context=_context(request, params))


@catalog_endpoint("GET")
def countries(request: HttpRequest) -> CatalogAnswer:
    return shop_reads.countries_list(context=_context(request, {}))


@catalog_endpoint("GET")
def languages(request: HttpRequest) -> CatalogAnswer:
    return shop_reads.languages_list(context=_context(request, {}))


@catalog_endpoint("GET")
def markets(request: HttpRequest) -> CatalogAnswer:
    return shop_reads.markets_list(context=_context(request, {}))


@catalog_endpoint("GET")
def pricelists(request: HttpRequest) -> CatalogAnswer:
    return shop_reads.pricelists_list(context=_context(request, {}))
