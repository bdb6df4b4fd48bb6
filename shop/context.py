"""The shopper's country and language on the HTML pages, and the picker that changes them.

A catalog page's locale is in its URL (:mod:`shop.locale_urls`: ``/se/sv/...``), so the URL
alone decides the page. The shopper's own pages (bag, checkout, account) have no prefix: their
context is ``storefront.context.resolve_context``'s: the ``country`` and ``language`` cookies
(the visitor's explicit choice, kept in step with the bag), else the geo header, else
``DEFAULT_COUNTRY``. That same context picks the prefix a bare URL redirects to.

The picker (``POST /_/context``, a plain form) stores a validated country and language in
cookies (the bag follows them) and sends the visitor back to the page they were on, under the
new prefix. It is CSRF-exempt on purpose: it only sets display preferences (no account, no
money), and a CSRF token in every page would make the pages uncacheable. A cross-site form post
is still refused by its ``Origin`` header.

Pages are for shoppers: an ``Authorization`` header is never a trusted server-side caller
here (the JSON API under ``/api/checkout/`` is the place for that).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme

from catalog.shop_meta import ShopMeta, currency_code
from catalog.shop_reads import shop_meta_get
from shop import localnames
from shop.locale_urls import Locale, split
from storefront.api import ApiError
from storefront.context import VisitorContext, resolve_context
from storefront.cookies import CART_COUNT_COOKIE, delete_cookie, set_cookie
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
    from_url: bool  # the locale is the URL's (a catalog page), not the visitor's cookies
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
    def locale(self) -> Locale:
        return Locale(self.visitor.country, self.visitor.language)

    @property
    def prefix(self) -> str:
        """The catalog's home in this page's locale (``/se/sv``); links to catalog pages start
        with it."""
        return self.locale.prefix

    def link(self, path: str) -> str:
        """The URL of the catalog page at ``path`` (``/womens/jeans``, ``/search?q=x``) in this
        page's locale."""
        return self.prefix + path

    @property
    def default_language(self) -> str:
        """The language a visitor from this page's country reads without choosing one."""
        defaults = self.shop.country_defaults(self.country)
        return defaults.language if defaults is not None else self.language

    def market_locales(self) -> list[Locale]:
        """Every locale whose country is in this page's market: the page's hreflang
        alternates (a product exists per market, so these are the locales that have it)."""
        return market_locales(self.shop, self.visitor.market)

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


def market_locales(shop: ShopMeta, market: str) -> list[Locale]:
    countries = [
        str(c["country"]).upper()
        for c in shop.countries
        if c.get("country") and c.get("shipTo", True) and str(c.get("market", "")) == market
    ]
    return [Locale(c, lang) for c in sorted(countries) for lang in shop.language_codes]


def shop_locale(shop: ShopMeta, country: str, language: str) -> Locale | None:
    """The shop's locale for a URL's codes (any case), if it ships to the country and has the
    language; None otherwise."""
    code = country.upper()
    if code not in {o.code for o in _country_options(shop)}:
        return None
    wanted = language.lower()
    found = next((lang for lang in shop.language_codes if lang.lower() == wanted), None)
    return Locale(code, found) if found is not None else None


def path_locale(shop: ShopMeta, path: str) -> tuple[Locale, str] | None:
    """The shop's locale a path starts with and the rest of the path; None for a path without
    a (known) prefix."""
    parts = split(path)
    if parts is None:
        return None
    locale = shop_locale(shop, parts[0], parts[1])
    return (locale, parts[2]) if locale is not None else None


def visitor_locale(request: HttpRequest) -> Locale:
    """Where a URL without a prefix sends this visitor: their chosen country and language,
    else their geo country's defaults; ``?lang=`` (the old URLs' form) picks the language."""
    shop, _ = shop_meta_get()
    visitor = resolve_context(request, shop=shop, params={}, trusted=False, follow_session=False)
    return best_locale(shop, visitor.country, [request.GET.get(LANG_PARAM) or "", visitor.language])


def best_locale(shop: ShopMeta, country: str, languages: list[str]) -> Locale:
    """The shop's locale for ``country`` in the first of ``languages`` it has. A country it
    does not ship to (a market's country without shipping, a cookie from before a change)
    gets the shop's first country in its own language: a redirect must always land on a
    prefix the shop serves, or it would send the visitor round in a loop."""
    for language in languages:
        found = shop_locale(shop, country, language) if language else None
        if found is not None:
            return found
    options = _country_options(shop)
    if not options:
        raise ApiError(503, {"country": "the shop ships to no country"})
    first = options[0].code
    defaults = shop.country_defaults(first)
    own = defaults.language if defaults is not None else ""
    return shop_locale(shop, first, own) or Locale(first, shop.language_codes[0])


def _cart_count(request: HttpRequest) -> int:
    raw = request.COOKIES.get(CART_COUNT_COOKIE, "")
    return min(int(raw), 999) if raw.isascii() and raw.isdigit() and len(raw) < 6 else 0


def page_context(request: HttpRequest, locale: Locale | None = None) -> PageContext:
    """The context of a page view, from the cached shop set-up (no Centra call): in ``locale``
    (a catalog page's URL), else in the visitor's own (their cookies, a shopper's page)."""
    shop, _ = shop_meta_get()
    if locale is None:
        visitor = resolve_context(
            request, shop=shop, params={}, trusted=False, follow_session=False
        )
    else:
        defaults = shop.country_defaults(locale.country)
        if defaults is None:  # shop_locale checked it; a shop set-up swapped meanwhile
            raise ApiError(503, {"country": f"no market is set up for {locale.country}"})
        visitor = VisitorContext(
            market=defaults.market,
            pricelist=defaults.pricelist,
            language=locale.language,
            country=locale.country,
            trusted=False,
            token=None,
        )
    return PageContext(
        visitor=visitor,
        from_url=locale is not None,
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
    chosen_country = country if country in allowed else None
    chosen_language = language if shop.has_language(language) else None
    return Choice(
        country=chosen_country,
        language=chosen_language,
        next=_moved(shop, _without_lang(target), chosen_country, chosen_language),
    )


def _moved(shop: ShopMeta, target: str, country: str | None, language: str | None) -> str:
    """``target`` under the chosen locale's prefix, if it is a catalog page (a shopper's own
    page has no prefix and stays as it is)."""
    found = path_locale(shop, target)
    if found is None:
        return target
    locale, rest = found
    moved = Locale(country or locale.country, language or locale.language)
    if country and not language:
        defaults = shop.country_defaults(country)
        moved = Locale(country, defaults.language if defaults else locale.language)
    return moved.prefix + rest


def _without_lang(target: str) -> str:
    """The page to go back to, without ``?lang=`` (it would hide the choice just made)."""
    path, _, query = target.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != LANG_PARAM]
    return path + ("?" + urlencode(kept) if kept else "")


def store_choice(request: HttpRequest, response: HttpResponse, choice: Choice) -> None:
    """The choice in cookies. A language that is the country's own is not kept as a choice
    (its cookie goes): the language then follows the country when the bag moves to another
    (the bag's country select sends a country alone)."""
    language = choice.language
    if choice.country and language:
        shop, _ = shop_meta_get()
        defaults = shop.country_defaults(choice.country)
        if defaults is not None and defaults.language == language:
            delete_cookie(response, settings.LANGUAGE_COOKIE)
            language = None
    for name, value in (
        (settings.COUNTRY_COOKIE, choice.country),
        (settings.LANGUAGE_COOKIE, language),
    ):
        if value:
            # Script-readable: display preferences, not secrets; a catalog page (the same for
            # every visitor) compares them with its own locale before it adds to the bag.
            set_cookie(
                response,
                name,
                value,
                max_age=CHOICE_MAX_AGE,
                request=request,
                script_readable=True,
            )
