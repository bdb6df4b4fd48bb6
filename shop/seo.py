"""What crawlers and browsers ask of every site: ``/robots.txt``, ``/sitemap.xml`` (with the
sitemaps it names, :mod:`shop.sitemaps`) and ``/favicon.ico``.

None of them depends on the visitor (no cookie, no geo header), so a CDN keeps one copy:
``Cache-Control: public`` with an ``s-maxage`` like the pages', and an ``ETag`` (304 on a
match). The favicon is a committed file (``shop/static/shop/favicon.ico``) kept for a week.

robots.txt keeps crawlers out of what is not content: the search page, the listing parameters
that only filter, sort or page a listing (:data:`LISTING_PARAMS`, the names
:class:`shop.paths.Listing` puts in URLs), the bag, checkout, account and picker, and the API;
and names the sitemap index by its absolute URL. The search page is under each locale's prefix
(``/se/sv/search``), hence the wildcard rules; ``$`` ends a rule, so a category whose uri merely
starts with "search" stays open.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.cache import get_conditional_response, set_response_etag
from django.views.decorators.http import require_safe

from shop import sitemaps
from storefront.api import ApiError
from storefront.centra import CentraError

log = logging.getLogger(__name__)

CACHE_CONTROL = "public, max-age=0, s-maxage=600, stale-while-revalidate=3600"
FAVICON_CACHE_CONTROL = "public, max-age=604800, s-maxage=604800"
FAVICON = Path(__file__).resolve().parent / "static" / "shop" / "favicon.ico"
FAVICON_TYPE = "image/vnd.microsoft.icon"
# The query parameters of a listing that only filter, sort or page it (shop.paths.Listing).
LISTING_PARAMS = ("brand", "colour", "size", "available", "sort", "page")
DISALLOWED_PATHS = (
    "/*/search$",
    "/*/search?",
    "/cart",
    "/checkout",
    "/account",
    "/password-reset",
    "/_/",
    "/api/",
)
XML = "application/xml; charset=utf-8"

View = Callable[..., HttpResponseBase]


def robots_lines(sitemap_url: str) -> list[str]:
    return [
        "User-agent: *",
        *(f"Disallow: {path}" for path in DISALLOWED_PATHS),
        *(f"Disallow: /*?*{name}=" for name in LISTING_PARAMS),
        "",
        f"Sitemap: {sitemap_url}",
    ]


def _public(request: HttpRequest, response: HttpResponse, cache_control: str) -> HttpResponseBase:
    response["Cache-Control"] = cache_control
    set_response_etag(response)
    return get_conditional_response(request, etag=response["ETag"], response=response) or response


def _catalog_read(view: View) -> View:
    """A catalog that cannot answer (a cold market while Centra is down) is a 503 with an
    ``errors`` object, not a 500."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except (CentraError, ApiError) as exc:
            log.warning("%s could not be answered: %s", request.path, exc)
            response = JsonResponse({"errors": {"catalog": "unavailable"}}, status=503)
            response["Retry-After"] = "10"
            response["Cache-Control"] = "no-store"
            return response

    return wrapper


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponseBase:
    body = "\n".join(robots_lines(request.build_absolute_uri("/sitemap.xml"))) + "\n"
    response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    return _public(request, response, CACHE_CONTROL)


@require_safe
@_catalog_read
def sitemap_index(request: HttpRequest) -> HttpResponseBase:
    body = sitemaps.index_xml(request.build_absolute_uri("/"))
    return _public(request, HttpResponse(body, content_type=XML), CACHE_CONTROL)


@require_safe
@_catalog_read
def sitemap(request: HttpRequest, name: str) -> HttpResponseBase:
    """One sitemap (``name``: ``<market>-<language>`` or ``<market>-<language>-<page>``)."""
    found = sitemaps.find(name)
    body = sitemaps.sitemap_xml(request.build_absolute_uri("/"), found) if found else None
    if body is None:
        return JsonResponse({"errors": {"sitemap": "not found"}}, status=404)
    return _public(request, HttpResponse(body, content_type=XML), CACHE_CONTROL)


@functools.cache
def _favicon() -> bytes:
    return FAVICON.read_bytes()


@require_safe
def favicon(request: HttpRequest) -> HttpResponseBase:
    response = HttpResponse(_favicon(), content_type=FAVICON_TYPE)
    return _public(request, response, FAVICON_CACHE_CONTROL)
