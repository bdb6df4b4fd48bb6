"""The shopper pages: home, search, every Centra uri, the 404 page, and the picker.

Each view resolves the visitor's context, asks :mod:`shop.catalog_pages` for the page (which
asks the catalog services, so a warm page view never calls Centra) and hands it to
:func:`respond`, which renders HTML or, for ``Accept: application/json``, the JSON page
model, and adds what a CDN in front needs:

- ``ETag`` (of the body) and a 304 for a matching ``If-None-Match``;
- ``Cache-Control`` from :func:`storefront.edge.headers.page_cache_control`: hours at the
  edge (every catalog change purges the pages it touches by their keys), a minute in the
  browser (nobody can purge it), then revalidation with the ``ETag``;
- ``Vary: Accept``: the URL names the locale (:mod:`shop.locale_urls`) and nothing on the page
  is the visitor's (the bag count is filled in by the page's script from its cookie), so the
  representation is all that varies. A URL without a locale is a private 302 to one;
- ``Surrogate-Key``: the product and category ids on the page and the market
  (``p1001 c31 m1``), so a catalog change can purge exactly those pages.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

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

from catalog.shop_reads import shop_meta_get
from shop import catalog_pages, layout, paths
from shop.context import (
    LANG_PARAM,
    PageContext,
    choice_from_form,
    page_context,
    shop_locale,
    store_choice,
    visitor_locale,
)
from shop.locale_urls import split
from shop.paths import Listing
from shop.viewmodels import Page
from storefront.api import ApiError
from storefront.centra import CentraError
from storefront.context import visitor_chose
from storefront.edge.headers import page_cache_control

log = logging.getLogger(__name__)

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
        # A catalog page is the same for every visitor: its script shows the bag's count.
        "cart": "" if ctx.from_url else str(ctx.cart_count),
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
    response["Cache-Control"] = page_cache_control()  # hours at the edge, purged on change
    patch_vary_headers(response, ("Accept",))
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


def _query(request: HttpRequest, *, without_lang: bool = True) -> str:
    """The request's query string for a redirect, without ``?lang=`` (the locale is in the
    path now)."""
    pairs = [(k, v) for k, v in request.GET.lists() if not (without_lang and k == LANG_PARAM)]
    query = urlencode([(k, v) for k, values in pairs for v in values])
    return "?" + query if query else ""


def _private(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "private, no-store"
    patch_vary_headers(response, ("Cookie", settings.GEO_COUNTRY_HEADER))
    return response


def to_visitor_locale(request: HttpRequest, path: str) -> HttpResponseBase:
    """A catalog path without a locale (``/womens``, ``/``): a 302 to it under the visitor's
    own (their choice, their geo country, the default); see :mod:`shop.locale_urls` for why
    not a 301. A hostile path is the 404 page at once, never echoed into a Location."""
    decision = paths.path_decision(path) if path != "/" else paths.PathDecision("lookup", "")
    locale = visitor_locale(request)
    if decision.action == "not_found":
        ctx = page_context(request, locale)
        return _private(respond(request, ctx, catalog_pages.not_found_page(ctx)))
    uri = decision.uri[1:] if decision.action == "redirect" else decision.uri
    target = locale.prefix + (paths.uri_path(uri) if uri else "")
    return _private(HttpResponseRedirect(target + _query(request)))


def _locale_page(
    view: Callable[[HttpRequest, PageContext, str], HttpResponseBase],
) -> View:
    """A catalog page under its locale prefix: the prefix checked against the shop (an unknown
    one is a path without a locale, redirected to the visitor's), ``?lang=`` sent (301) to the
    prefix of that language, and ``rest`` the path after the prefix."""

    @shop_page
    @functools.wraps(view)
    def wrapper(
        request: HttpRequest, country: str, language: str, rest: str = ""
    ) -> HttpResponseBase:
        shop, _ = shop_meta_get()
        locale = shop_locale(shop, country, language)
        if locale is None:
            return to_visitor_locale(request, request.path_info)
        wanted = request.GET.get(LANG_PARAM)
        if wanted is not None:
            other = shop_locale(shop, country, wanted) or locale
            parts = split(request.path_info)
            after = parts[2] if parts is not None else ""
            return HttpResponsePermanentRedirect(other.prefix + after + _query(request))
        return view(request, page_context(request, locale), rest)

    return wrapper


@shop_page
def bare(request: HttpRequest, uri: str = "") -> HttpResponseBase:
    """``/``, ``/search`` and any path without a locale prefix."""
    del uri
    return to_visitor_locale(request, request.path_info)


@_locale_page
def home(request: HttpRequest, ctx: PageContext, rest: str) -> HttpResponseBase:
    if rest:  # "/se/sv/": the home page's one URL has no trailing slash
        return HttpResponsePermanentRedirect(ctx.prefix + _query(request, without_lang=False))
    return respond(request, ctx, catalog_pages.home_page(ctx))


@_locale_page
def search(request: HttpRequest, ctx: PageContext, rest: str) -> HttpResponseBase:
    del rest
    return respond(request, ctx, catalog_pages.search_page(ctx, _listing(request)))


@_locale_page
def uri_page(request: HttpRequest, ctx: PageContext, rest: str) -> HttpResponseBase:
    """Any other path under a prefix: a product, a category or the 404 page (see
    ``paths.path_decision`` for the trailing slash and hostile paths)."""
    decision = paths.path_decision("/" + rest)
    if decision.action == "redirect":
        location = ctx.link(paths.uri_path(decision.uri[1:]))
        return HttpResponsePermanentRedirect(location + _query(request, without_lang=False))
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
