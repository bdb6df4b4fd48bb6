"""The shopper pages: home, search, every Centra uri, the 404 page, and the picker.

Each view resolves the visitor's context, asks :mod:`catalog.routing` for the page (which
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
import secrets
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

from catalog import routing
from catalog.page_context import PageContext, choice_from_form, page_context, store_choice
from catalog.routing import Listing, Page
from storefront.api import ApiError
from storefront.centra import CentraError
from storefront.context import visitor_chose

log = logging.getLogger(__name__)

SHOP_NAME = "Storefront"
S_MAXAGE = 60
STALE_WHILE_REVALIDATE = 300
TEMPLATES = {
    "home": "catalog/home.html",
    "category": "catalog/listing.html",
    "search": "catalog/listing.html",
    "product": "catalog/product.html",
    "not_found": "catalog/not_found.html",
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
            body = render_to_string("catalog/unavailable.html", {"lang": "en"})
            response = HttpResponse(body, status=503)
            response["Retry-After"] = "10"
            response["Cache-Control"] = "no-store"
            return response

    return wrapper


def wants_json(request: HttpRequest) -> bool:
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def _absolute(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path) if path else ""


def _country_name(ctx: PageContext) -> str:
    for option in ctx.countries():
        if option.code == ctx.country:
            return option.name
    return ctx.country


# Holes in rendered HTML for what a cached rendering cannot know. A random token, so no
# catalog text can forge one.
_HOLE = "\x00" + secrets.token_hex(8) + "\x00"
_layouts: dict[tuple[str, ...], list[str]] = {}
MAX_LAYOUTS = 64
MAX_FRAGMENTS = 16


def _hole(name: str) -> str:
    return _HOLE + name + _HOLE


def _layout(request: HttpRequest, ctx: PageContext, page: Page) -> list[str]:
    """The frame of every page (header, menu, picker, footer) for one site, market, language,
    country and category tree, rendered once and split at its holes: even items are HTML,
    odd items name a hole."""
    nav = page.navigation
    site = request.build_absolute_uri("/")
    key = (
        site,
        ctx.visitor.market,
        ctx.language,
        ctx.lang_query,
        ctx.country,
        ctx.currency,
        ctx.shop.fetched_at,
        nav.text,
    )
    segments = _layouts.get(key)
    if segments is None:
        context = {
            "ctx": ctx,
            "lang": ctx.language,
            "shop_name": SHOP_NAME,
            "roots": nav.roots,
            "lang_query": ctx.lang_query,
            "countries": ctx.countries(),
            "languages": ctx.languages(),
            "country_name": _country_name(ctx),
            "head": _hole("head"),
            "content": _hole("content"),
            "kind": _hole("kind"),
            "search_query": _hole("q"),
            "here": _hole("here"),
            "cart_count": _hole("cart"),
        }
        segments = render_to_string("catalog/layout.html", context).split(_HOLE)
        if len(_layouts) >= MAX_LAYOUTS:
            _layouts.clear()
        _layouts[key] = segments
    return segments


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
            "shop_name": SHOP_NAME,
            "canonical": _absolute(request, page.meta.canonical),
            "alternates": [(lang, _absolute(request, url)) for lang, url in page.meta.alternates],
        }
        rendered = (
            render_to_string("catalog/_head.html", context),
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
    segments = _layout(request, ctx, page)
    body = "".join(holes[s] if i % 2 else s for i, s in enumerate(segments))
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
    return respond(request, ctx, routing.home_page(ctx))


@shop_page
def search(request: HttpRequest) -> HttpResponseBase:
    ctx = page_context(request)
    return respond(request, ctx, routing.search_page(ctx, _listing(request)))


@shop_page
def uri_page(request: HttpRequest, uri: str) -> HttpResponseBase:
    """Any other path: a product, a category or the 404 page (see ``routing.path_decision``
    for the trailing slash and hostile paths)."""
    decision = routing.path_decision(request.path_info)
    if decision.action == "redirect":
        query = request.META.get("QUERY_STRING", "")
        location = routing.uri_path(decision.uri[1:]) + ("?" + query if query else "")
        return HttpResponsePermanentRedirect(location)
    ctx = page_context(request)
    if decision.action == "not_found":
        return respond(request, ctx, routing.not_found_page(ctx))
    return respond(request, ctx, routing.uri_page(ctx, decision.uri, _listing(request)))


@csrf_exempt  # display preferences only; see catalog.page_context
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
