"""The shopper's country and language on the HTML pages, and the picker that changes them.

The context itself is ``storefront.context.resolve_context``'s: the ``country`` and
``language`` cookies (the visitor's explicit choice), else the geo header, else
``DEFAULT_COUNTRY``. Two things are added here:

- ``?lang=<code>`` on any page URL shows that page in that language for that one request,
  without a cookie. That gives every language version of a page its own URL, which is what
  ``hreflang`` alternates and canonical URLs need (crawlers keep no cookies), and links on
  such a page keep the parameter. A visitor's cookie choice is never changed by it.
- the picker (``POST /_/context``, a plain form) stores a validated country and language in
  cookies and sends the visitor back where they were. It is CSRF-exempt on purpose: it only
  sets display preferences (no account, no money), and a CSRF token in every page would make
  the pages uncacheable. A cross-site form post is still refused by its ``Origin`` header.

Pages are for shoppers: an ``Authorization`` header is never a trusted server-side caller
here (the JSON API under ``/api/checkout/`` is the place for that).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme

from catalog.shop_meta import ShopMeta, currency_code
from catalog.shop_reads import shop_meta_get
from shop import localnames
from storefront.context import VisitorContext, resolve_context
from storefront.cookies import CART_COUNT_COOKIE, set_cookie
from storefront.localcache import LocalCache

CHOICE_MAX_AGE = 365 * 24 * 3600
LANG_PARAM = "lang"


@dataclass(frozen=True)
class CountryOption:
    code: str
    name: str
    currency: str


@dataclass(frozen=True)
class LanguageOption:
    code: str
    name: str


@dataclass(frozen=True)
class PageContext:
    visitor: VisitorContext
    url_language: str | None  # the language named by ?lang=, else None
    currency: str
    cart_count: int
    shop: ShopMeta

    @property
    def language(self) -> str:
        return self.visitor.language

    @property
    def country(self) -> str:
        return self.visitor.country

    @property
    def lang_query(self) -> str:
        """What links on this page append to keep a URL-chosen language."""
        return f"?{LANG_PARAM}={self.url_language}" if self.url_language else ""

    @property
    def language_codes(self) -> list[str]:
        return sorted(self.shop.language_codes)

    def countries(self) -> list[CountryOption]:
        """The picker's countries, named and sorted in the page's language."""
        return _country_options(self.shop, self.language)

    def country_name(self) -> str:
        """The visitor's country by its name in the page's language (CLDR), else the shop's
        name for it, else its code."""
        centra_name = next(
            (
                str(c.get("name") or "")
                for c in self.shop.countries
                if str(c.get("country", "")).upper() == self.country.upper()
            ),
            "",
        )
        return localnames.country_name(self.country, self.language, centra_name)

    def languages(self) -> list[LanguageOption]:
        return [
            LanguageOption(str(lang["language"]), str(lang.get("name") or lang["language"]))
            for lang in self.shop.languages
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "language": self.language,
            "market": self.visitor.market,
            "pricelist": self.visitor.pricelist,
            "currency": self.currency,
        }


# Per fetched shop set-up (its fetch time names it: a new fetch is a new key) and language.
_options: LocalCache[list[CountryOption]] = LocalCache("shop.country_options", maxsize=64)


def _country_options(shop: ShopMeta, language: str = localnames.FALLBACK) -> list[CountryOption]:
    """Countries a shopper can pick (Centra's ``shipTo``), by their name in ``language``
    (CLDR's; Centra names them in its main language only), with their currency. Built once
    per fetched shop set-up and language."""
    return _options.get_or_build(
        (id(shop), shop.fetched_at, language), lambda: _build_options(shop, language)
    )


def _build_options(shop: ShopMeta, language: str) -> list[CountryOption]:
    currency = {str(p["pricelist"]): currency_code(p) for p in shop.pricelists}
    options = sorted(
        (
            CountryOption(
                str(c["country"]).upper(),
                localnames.country_name(
                    str(c["country"]), language, str(c.get("name") or c["country"])
                ),
                currency.get(str(c.get("pricelist", "")), ""),
            )
            for c in shop.countries
            if c.get("country") and c.get("shipTo", True) and c.get("market")
        ),
        key=lambda o: localnames.sort_key(o.name, language),
    )
    return options


def _cart_count(request: HttpRequest) -> int:
    raw = request.COOKIES.get(CART_COUNT_COOKIE, "")
    return min(int(raw), 999) if raw.isascii() and raw.isdigit() and len(raw) < 6 else 0


def page_context(request: HttpRequest) -> PageContext:
    """The visitor's context for a page view: from the cached shop set-up, no Centra call."""
    shop, _ = shop_meta_get()
    visitor = resolve_context(request, shop=shop, params={}, trusted=False, follow_session=False)
    url_language = request.GET.get(LANG_PARAM)
    if url_language and shop.has_language(url_language):
        visitor = replace(visitor, language=url_language)
    else:
        url_language = None
    return PageContext(
        visitor=visitor,
        url_language=url_language,
        currency=shop.currency_code(visitor.pricelist),
        cart_count=_cart_count(request),
        shop=shop,
    )


# -- the picker --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    country: str | None
    language: str | None
    next: str


def _same_origin(request: HttpRequest) -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        # Old browsers and privacy settings leave it out; a missing Origin is not an attack.
        return origin is None
    parts = urlsplit(origin)
    return parts.netloc == request.get_host()


def choice_from_form(request: HttpRequest) -> Choice | None:
    """The picker's form, validated against the shop; None for a cross-site post."""
    if not _same_origin(request):
        return None
    shop, _ = shop_meta_get()
    country = request.POST.get("country", "").strip().upper()
    language = request.POST.get("language", "").strip()
    allowed = {o.code for o in _country_options(shop)}
    target = request.POST.get("next", "/")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=False
    ):
        target = "/"
    return Choice(
        country=country if country in allowed else None,
        language=language if shop.has_language(language) else None,
        next=_without_lang(target),
    )


def _without_lang(target: str) -> str:
    """The page to go back to, without ``?lang=`` (it would hide the choice just made)."""
    path, _, query = target.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != LANG_PARAM]
    return path + ("?" + urlencode(kept) if kept else "")


def store_choice(request: HttpRequest, response: HttpResponse, choice: Choice) -> None:
    for name, value in (
        (settings.COUNTRY_COOKIE, choice.country),
        (settings.LANGUAGE_COOKIE, choice.language),
    ):
        if value:
            set_cookie(response, name, value, max_age=CHOICE_MAX_AGE, request=request)
