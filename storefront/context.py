"""The visitor's context: which market (products), pricelist (prices) and language (text)
a request is answered for (DESIGN.md, "The visitor's context").

In order of precedence:

1. a trusted server-side caller (``Authorization: Bearer <one of STOREFRONT_API_KEYS>``) may
   name ``market``, ``pricelist`` (also ``"all"``) and ``language`` in the body, or in the
   query string for GET, as Centra lets a caller holding the shared secret do;
2. the visitor's explicit choice, stored in the ``country`` and ``language`` cookies;
3. the country from the trusted geo header (``GEO_COUNTRY_HEADER``, e.g. ``CF-IPCountry``);
4. ``DEFAULT_COUNTRY``.

A country maps to its market, pricelist and default language through Centra's countries
(fetched server-side and cached). Anything a visitor sends is validated: a country must be
two letters and known, a language known; otherwise it is ignored. A wrong API key is a 401.

The shop set-up comes in as the :class:`Shop` protocol so this module needs no catalog code.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.dispatch import Signal
from django.http import HttpRequest

from storefront.api import ApiError
from storefront.cookies import valid_token
from storefront.locations import SessionLocation, session_location

ALL_PRICELISTS = "all"

# Sent by the shop's country/language picker once the choice is stored on the response:
# ``visitor_chose.send_robust(sender=None, request=..., response=..., country=..., language=...)``
# (``country``: two letters; ``language``: a code of the shop, or None). The checkout listens
# to move the visitor's Centra selection along; the catalog, which sends it, knows no checkout.
visitor_chose = Signal()


class Defaults(Protocol):
    @property
    def market(self) -> str: ...
    @property
    def pricelist(self) -> str: ...
    @property
    def language(self) -> str: ...


class Shop(Protocol):
    def country_defaults(self, country: str) -> Defaults | None: ...
    def has_market(self, market: str) -> bool: ...
    def has_pricelist(self, pricelist: str) -> bool: ...
    def has_language(self, language: str) -> bool: ...


@dataclass(frozen=True)
class VisitorContext:
    market: str
    pricelist: str  # a pricelist id, or "all" (trusted callers only)
    language: str
    country: str
    trusted: bool  # a server-side caller with the BFF's API key
    token: str | None  # the visitor's own Centra session token, handed back unchanged


def is_trusted(request: HttpRequest) -> bool:
    """True for a caller with one of our API keys (``Authorization: Bearer <key>``). A wrong or
    malformed Bearer key is a 401: a caller that means to be trusted must not silently get a
    visitor's context. Other schemes (a staging site's HTTP Basic, which browsers send with
    every call) are not ours to judge: such a caller is a visitor, and the header goes nowhere."""
    header = request.headers.get("Authorization")
    if not header:
        return False
    scheme, _, key = header.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" and key:
        return False
    if scheme.lower() == "bearer" and key:
        for allowed in settings.STOREFRONT_API_KEYS:
            if hmac.compare_digest(key.encode(), allowed.encode()):
                return True
    raise ApiError(401, {"authorization": "invalid API key"})


def accept_token(accept: str) -> str | None:
    """Centra's ``Accept: */*; api-token=...`` form, which spares browsers a preflight."""
    for part in accept.split(";"):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "api-token" and value.strip():
            return value.strip()
    return None


def visitor_token(request: HttpRequest) -> str | None:
    """The caller's Centra session token: the ``API-token`` header, its ``Accept`` form, or the
    shopper's cookie; None for none, ``none`` (Centra's "no session") or a malformed one."""
    token = (
        request.headers.get("API-token")
        or accept_token(request.headers.get("Accept", ""))
        or request.COOKIES.get(settings.CHECKOUT_TOKEN_COOKIE)
    )
    return valid_token(token)


def _country_code(value: str | None, shop: Shop) -> str | None:
    if not value:
        return None
    code = value.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        return None
    return code if shop.country_defaults(code) is not None else None


def geo_country(request: HttpRequest) -> str | None:
    """The visitor's country from the trusted geo header (``GEO_COUNTRY_HEADER``), if it is
    two letters (Cloudflare's ``XX`` unknown is not a country); the one reader of that header."""
    header = settings.GEO_COUNTRY_HEADER
    value = (request.headers.get(header, "") if header else "").strip().upper()
    if len(value) == 2 and value.isascii() and value.isalpha() and value != "XX":
        return value
    return None


def visitor_country(request: HttpRequest, shop: Shop) -> str:
    chosen = _country_code(request.COOKIES.get(settings.COUNTRY_COOKIE), shop)
    if chosen:
        return chosen
    geo = _country_code(geo_country(request), shop)
    if geo:
        return geo
    return str(settings.DEFAULT_COUNTRY).upper()


def _param_str(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ApiError(400, {key: "must be a string"})
    return value


def resolve_context(
    request: HttpRequest,
    *,
    shop: Shop,
    params: dict[str, Any],
    trusted: bool | None = None,
    follow_session: bool = True,
) -> VisitorContext:
    """The context of this request. ``params`` is the JSON body (POST) or the query (GET).

    With ``follow_session`` (the Centra-compatible API), a caller holding a Centra session
    token is answered in that session's country, market, pricelist and language, as Centra
    answers it; the shop's HTML pages pass False and follow the visitor's cookies, which the
    country picker keeps in step with the session, so that a page depends only on its URL and
    those cookies (what an edge cache keys on)."""
    if trusted is None:
        trusted = is_trusted(request)
    token = visitor_token(request)
    country = visitor_country(request, shop)
    defaults = shop.country_defaults(country)
    if defaults is None:
        raise ApiError(503, {"country": f"no market is set up for {country}"})
    market, pricelist, language = defaults.market, defaults.pricelist, defaults.language
    chosen_language = request.COOKIES.get(settings.LANGUAGE_COOKIE)
    if chosen_language and shop.has_language(chosen_language):
        language = chosen_language
    session = session_location(token) if token and follow_session else None
    if session is not None:
        country, market, pricelist, language = _session_context(
            session, shop, fallback=(country, market, pricelist, language)
        )
    if trusted:
        errors: dict[str, str] = {}
        if params.get("market") is not None:
            market = _param_str(params, "market")
            if not shop.has_market(market):
                errors["market"] = "not found"
        if params.get("pricelist") is not None:
            pricelist = _param_str(params, "pricelist")
            if pricelist != ALL_PRICELISTS and not shop.has_pricelist(pricelist):
                errors["pricelist"] = "not found"
        if params.get("language") is not None:
            language = _param_str(params, "language")
            if not shop.has_language(language):
                errors["language"] = "not found"
        if errors:
            raise ApiError(400, errors)
    return VisitorContext(
        market=market,
        pricelist=pricelist,
        language=language,
        country=country,
        trusted=trusted,
        token=token,
    )


def _session_context(
    session: SessionLocation, shop: Shop, *, fallback: tuple[str, str, str, str]
) -> tuple[str, str, str, str]:
    """(country, market, pricelist, language) of a Centra session, each checked against the
    shop; the seeds' answers name no market or pricelist, so the country's defaults fill in."""
    country, market, pricelist, language = fallback
    defaults = shop.country_defaults(session.country) if session.country else None
    if defaults is not None and session.country:
        country, market, pricelist, language = (
            session.country.upper(),
            defaults.market,
            defaults.pricelist,
            defaults.language,
        )
    if session.market and shop.has_market(session.market):
        market = session.market
    if session.pricelist and shop.has_pricelist(session.pricelist):
        pricelist = session.pricelist
    if session.language and shop.has_language(session.language):
        language = session.language
    return country, market, pricelist, language
