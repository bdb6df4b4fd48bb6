"""The one layout every shop page is rendered in: header, menu, picker, footer.

The layout is rendered once per site, market, language, country and category tree, and split
at its holes (what a cached rendering cannot know: the page's own head tags and content, its
kind, the search text, the current path, the bag count). A page is the segments with the
holes filled in, so a warm page view renders no template for its frame.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from shop.context import PageContext
from shop.navigation import Navigation
from storefront.localcache import LocalCache

SHOP_NAME = "Storefront"
HOLES = ("head", "content", "kind", "q", "here", "cart")
# A random token, so no catalog text can forge a hole.
_HOLE = "\x00" + secrets.token_hex(8) + "\x00"
_layouts: LocalCache[list[str]] = LocalCache("shop.layouts", maxsize=64)


def _hole(name: str) -> str:
    return _HOLE + name + _HOLE


def segments(site: str, ctx: PageContext, nav: Navigation | None) -> list[str]:
    """The layout for ``site`` and the visitor, split at its holes: even items are HTML, odd
    items name a hole. ``nav`` None (the menu could not be read) renders an empty menu."""
    key = (
        site,
        ctx.visitor.market,
        ctx.language,
        ctx.prefix,
        ctx.from_url,
        ctx.country,
        ctx.currency,
        ctx.shop.fetched_at,
        nav.text if nav is not None else "",
    )
    return _layouts.get_or_build(key, lambda: _render(ctx, nav))


def _render(ctx: PageContext, nav: Navigation | None) -> list[str]:
    context = {
        "ctx": ctx,
        "lang": ctx.language,
        "shop_name": SHOP_NAME,
        "roots": nav.roots if nav is not None else [],
        "prefix": ctx.prefix,
        "countries": ctx.countries(),
        "languages": ctx.languages(),
        "country_name": ctx.country_name(),
        "head": _hole("head"),
        "content": _hole("content"),
        "kind": _hole("kind"),
        "search_query": _hole("q"),
        "here": _hole("here"),
        "cart_count": _hole("cart"),
    }
    return render_to_string("shop/catalog/layout.html", context).split(_HOLE)


def fill(parts: list[str], holes: Mapping[str, str]) -> str:
    """The page: ``holes`` hold HTML (escaped by the caller where it is text)."""
    return "".join(holes[s] if i % 2 else s for i, s in enumerate(parts))


def plain_unavailable(
    request: HttpRequest, language: str | None = None, *, checkout: bool = False
) -> HttpResponse:
    """The 503 page for when not even the layout can be shown (the catalog cannot answer a
    cold market, Centra or Redis is down): plain HTML in the visitor's language (``language``,
    else their language cookie, else English); ``checkout`` says their bag is safe."""
    codes = {code for code, _name in settings.LANGUAGES}
    lang = language or request.COOKIES.get(settings.LANGUAGE_COOKIE) or "en"
    context = {"lang": lang if lang in codes else "en", "checkout": checkout}
    body = render_to_string("shop/unavailable.html", context)
    response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = "10"
    return response
