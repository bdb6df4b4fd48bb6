"""Location and language endpoints of the Checkout API: PUT countries (and states), PUT
languages, and the server-side PUT selection. A change prices the selection in the new
context; lines not purchasable there are removed.
"""

from __future__ import annotations

from typing import Any

from sandbox.http import HttpError, Request, field_str, route
from sandbox.selection import Context, prune, selection_of
from sandbox.selection_api import ok
from sandbox.state import Shop

API = "/api/checkout"


def _language(shop: Shop, value: Any) -> str:
    code = field_str({"language": value}, "language").strip().lower()
    if code not in shop.catalog.languages:
        raise HttpError(404, {"language": "not found"})
    return code


def _server_side_choice(req: Request, shop: Shop) -> tuple[str | None, str | None]:
    """``market``/``pricelist`` from the body: a server-side (shared secret) power only;
    client-side callers sending them are ignored, as Centra ignores them (and as the
    sandbox's catalog endpoints do)."""
    body = req.body
    if not req.server_side:
        return None, None
    market = pricelist = None
    if body.get("market") is not None:
        market = field_str(body, "market")
        if market not in shop.catalog.markets:
            raise HttpError(404, {"market": "not found"})
    if body.get("pricelist") is not None:
        pricelist = field_str(body, "pricelist")
        if pricelist not in shop.catalog.pricelists:
            raise HttpError(404, {"pricelist": "not found"})
    return market, pricelist


def change_location(req: Request, shop: Shop, country_code: str, state_code: str | None) -> None:
    """Country (and state) with the country's default market and pricelist. The selected
    language stays unless the body names one (the seed: ``location.language`` is only the
    country's default). Lines not purchasable in the new market/pricelist are removed."""
    cat = shop.catalog
    country = cat.countries.get(country_code.upper())
    if country is None:
        raise HttpError(404, {"country": "not found"})
    state = None
    if state_code is not None:
        state = state_code.upper()
        if state not in country.states:
            raise HttpError(404, {"state": "not found"})
    language = _language(shop, req.body["language"]) if req.body.get("language") else None
    market, pricelist = _server_side_choice(req, shop)
    default_market, default_pricelist, _ = cat.country_context(country.code)
    session = req.session
    session.country = country.code
    session.state = state
    session.market = market or default_market
    session.pricelist = pricelist or default_pricelist
    if language:
        session.language = language
    prune(selection_of(session), cat, Context.of(session))


@route("PUT", f"{API}/countries/{{country}}")
def put_country(req: Request, shop: Shop) -> dict[str, Any]:
    change_location(req, shop, req.params["country"], None)
    return ok(req, shop)


@route("PUT", f"{API}/countries/{{country}}/states/{{state}}")
def put_country_state(req: Request, shop: Shop) -> dict[str, Any]:
    change_location(req, shop, req.params["country"], req.params["state"])
    return ok(req, shop)


@route("PUT", f"{API}/selection")
def put_selection(req: Request, shop: Shop) -> dict[str, Any]:
    """Server-side only (shared secret): create a selection (no token) or move the caller's
    (``API-token``) to any of ``{market, pricelist, country, language}``. A country brings
    its default market and pricelist unless those are given too; the state is cleared. Lines
    not purchasable in the new context are removed, as with PUT countries."""
    if not req.server_side:
        raise HttpError(403, {"accessRight": "denied"})
    cat = shop.catalog
    body = req.body
    country = None
    if body.get("country") is not None:
        country = cat.countries.get(field_str(body, "country").strip().upper())
        if country is None:
            raise HttpError(404, {"country": "not found"})
    language = _language(shop, body["language"]) if body.get("language") is not None else None
    market, pricelist = _server_side_choice(req, shop)
    session = req.session
    if country is not None:
        session.country, session.state = country.code, None
        session.market, session.pricelist, _ = cat.country_context(country.code)
    session.market = market or session.market
    session.pricelist = pricelist or session.pricelist
    session.language = language or session.language
    prune(selection_of(session), cat, Context.of(session))
    return ok(req, shop)


@route("PUT", f"{API}/languages/{{language}}")
def put_language(req: Request, shop: Shop) -> dict[str, Any]:
    language = _language(shop, req.params["language"])
    market, pricelist = _server_side_choice(req, shop)
    session = req.session
    session.language = language
    if market:
        session.market = market
    if pricelist:
        session.pricelist = pricelist
    prune(selection_of(session), shop.catalog, Context.of(session))
    return ok(req, shop)
