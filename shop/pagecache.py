"""Built catalog pages kept in this process, least recently used out."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import replace

from shop.context import PageContext
from shop.navigation import Navigation
from shop.viewmodels import Page
from storefront.localcache import LocalCache

PAGE_CACHE_SIZE = 256
# Built pages, least recently used out. A key holds the exact catalog answer the page was
# built from (its JSON text) and everything else the page depends on, so an entry can never
# be stale: new data is a new key. Rendered HTML is kept on the page (``Page.fragments``), so
# a popular page is built and rendered once per catalog change.
_pages: LocalCache[Page] = LocalCache("shop.pages", maxsize=PAGE_CACHE_SIZE)


def built_page(key: Hashable, build: Callable[[], Page], cache: str) -> Page:
    """The page for ``key``, built once; ``cache`` is this request's cache state (the shared
    copy keeps its fragments)."""
    page = _pages.get_or_build(key, build)
    return page if page.cache == cache else replace(page, cache=cache)


def page_key(kind: str, ctx: PageContext, nav: Navigation, *parts: Hashable) -> Hashable:
    visitor = ctx.visitor
    return (
        kind,
        visitor.market,
        visitor.pricelist,
        ctx.language,
        ctx.prefix,
        nav.text,
        *parts,
    )
