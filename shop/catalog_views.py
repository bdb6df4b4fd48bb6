"""The shopper pages: home, search, every Centra uri, the 404 page, and the picker.

Each view resolves the visitor's context, asks :mod:`shop.routing` for the page (which
asks the catalog services, so a warm page view never calls Centra) and hands it to
:func:`respond`, which renders HTML or, for ``Accept: application/json``, the JSON page
model, and adds what a CDN in front needs:

- ``ETag`` (of the body) and a 304 for a matching ``If-None-Match``;
- ``Cache-Control: public, max-age=0, s-maxage=60, stale-while-revalidate=300``: browsers
  revalidate (the cart count is on the page), a CDN serves a minute and refreshes behind;
- ``Vary: Accept, Cookie, <geo header>``: the representation, the visitor's choices and cart
  count, and the country a first visit gets all change the answer;
- ``Surrogate-Key``: the product and category ids on the page and the market
  (``p1001 c31 m1``), so a catalog change can purge exactly those pages.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseForbidden,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.template.loader import render_to_string
from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from shop import catalog_pages, layout, paths
from shop.context import PageContext, choice_from_form, page_context, store_choice
from shop.paths import Listing
from shop.viewmodels import Page
from storefront.api import ApiError
from storefront.centra import CentraError
from storefront.context import visitor_chose

log = logging.getLogger(__name__)

S_MAXAGE = 60
STALE_WHILE_REVALIDATE = 300
# Renderings kept on a cached page (one per site and representation).
MAX_FRAGMENTS = 16
TEMPLATES = {
    "home": "shop/catalog/home.html",
    "category": "shop/catalog/listing.html",
    "search": "shop/catalog/listing.html",
    "product": "shop/catalog/product.html",
    "not_found": "shop/catalog/not_found.html",
}

View = Callable[..., HttpResponseBase]


def shop_page(view: View) -> View:
    """GET and HEAD only; a catalog that cannot answer at all (a cold market while Centra is
    down, no shop set-up yet) is a 503 page that says so, not a 500."""

    @require_safe
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except (CentraError, ApiError) as exc:
            log.warning("shop page %s could not be answered: %s", request.path, exc)
            response = layout.plain_unavailable(request)
            response["Cache-Control"] = "no-store"
            return response

    return wrapper


def wants_json(request: HttpRequest) -> bool:
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def _absolute(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path) if path else ""


def _page_html(request: HttpRequest, ctx: PageContext, page: Page) -> tuple[str, str]:
    """The page's own head tags and content, rendered once per cached page and site."""
    site = request.build_absolute_uri("/")
    rendered: tuple[str, str] | None = page.fragments.get(site)
    if rendered is None:
        context = {
            "page": page,
            "ctx": ctx,
            "lang": ctx.language,
            "product": page.product,
            "shop_name": layout.SHOP_NAME,
            "canonical": _absolute(request, page.meta.canonical),
            "alternates": [(lang, _absolute(request, url)) for lang, url in page.meta.alternates],
        }
        rendered = (
            render_to_string("shop/catalog/_head.html", context),
            render_to_string(TEMPLATES[page.kind], context),
        )
        if len(page.fragments) >= MAX_FRAGMENTS:
            page.fragments.clear()  # only a stream of made-up Host names gets here
        page.fragments[site] = rendered
    return rendered


def _html(request: HttpRequest, ctx: PageContext, page: Page) -> HttpResponse:
    head, content = _page_html(request, ctx, page)
    holes = {
        "head": head,
        "content": content,
        "kind": page.kind,
        "q": escape(page.listing.search) if page.listing is not None else "",
        "here": escape(request.get_full_path()),
        "cart": str(ctx.cart_count),
    }
    nav = page.navigation
    body = layout.fill(layout.segments(request.build_absolute_uri("/"), ctx, nav), holes)
    return HttpResponse(body, status=page.status, content_type="text/html; charset=utf-8")


def _json(ctx: PageContext, page: Page) -> HttpResponse:
    key = f"json|{ctx.country}|{ctx.currency}"
    body: str | None = page.fragments.get(key)
    if body is None:
        body = json.dumps(page.json_model(ctx), ensure_ascii=False)
        if len(page.fragments) >= MAX_FRAGMENTS:
            page.fragments.clear()
        page.fragments[key] = body
    return HttpResponse(body, status=page.status, content_type="application/json; charset=utf-8")


def respond(request: HttpRequest, ctx: PageContext, page: Page) -> HttpResponseBase:
    response = _json(ctx, page) if wants_json(request) else _html(request, ctx, page)
    response["Cache-Control"] = (
        f"public, max-age=0, s-maxage={S_MAXAGE}, stale-while-revalidate={STALE_WHILE_REVALIDATE}"
    )
    patch_vary_headers(response, ("Accept", "Cookie", settings.GEO_COUNTRY_HEADER))
    response["Surrogate-Key"] = page.surrogate_keys(ctx.visitor.market)
    response["Content-Language"] = ctx.language
    response["X-Cache"] = page.cache
    set_response_etag(response)
    conditional = (
        get_conditional_response(request, etag=response["ETag"], response=response) or response
    )
    if conditional is not response:
        conditional["Surrogate-Key"] = response["Surrogate-Key"]
    return conditional


def _listing(request: HttpRequest) -> Listing:
    return Listing.from_query(dict(request.GET.lists()))


@shop_page
def home(request: HttpRequest) -> HttpResponseBase:
    ctx = page_context(request)
    return respond(request, ctx, catalog_pages.home_page(ctx))


@shop_page
def search(request: HttpRequest) -> HttpResponseBase:
    ctx = page_context(request)
    return respond(request, ctx, catalog_pages.search_page(ctx, _listing(request)))


@shop_page
def uri_page(request: HttpRequest, uri: str) -> HttpResponseBase:
    """Any other path: a product, a category or the 404 page (see ``paths.path_decision``
    for the trailing slash and hostile paths)."""
    decision = paths.path_decision(request.path_info)
    if decision.action == "redirect":
        query = request.META.get("QUERY_STRING", "")
        location = paths.uri_path(decision.uri[1:]) + ("?" + query if query else "")
        return HttpResponsePermanentRedirect(location)
    ctx = page_context(request)
    if decision.action == "not_found":
        return respond(request, ctx, catalog_pages.not_found_page(ctx))
    return respond(request, ctx, catalog_pages.uri_page(ctx, decision.uri, _listing(request)))


@csrf_exempt  # display preferences only; see shop.context
@require_POST
def choose_context(request: HttpRequest) -> HttpResponseBase:
    """The country and language picker: cookies, then back to the page (303)."""
    choice = choice_from_form(request)
    if choice is None:
        return HttpResponseForbidden("cross-site request refused")
    response = HttpResponseRedirect(choice.next, status=303)
    response["Cache-Control"] = "no-store"
    store_choice(request, response, choice)
    if choice.country:
        # Listeners (the checkout) may set cookies of their own; the picker works regardless.
        for receiver, error in visitor_chose.send_robust(
            sender=None,
            request=request,
            response=response,
            country=choice.country,
            language=choice.language,
        ):
            if isinstance(error, Exception):
                log.error("picker: %r failed: %r", receiver, error)
    return response
