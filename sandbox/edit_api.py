"""The edit API under /sandbox/ (shared secret required): what a merchant does in Centra's admin.

This module holds what every edit shares (input checks, sending the webhook) and the edits of
categories, markets and pricelists; product edits are in :mod:`sandbox.product_edit_api`, the
webhook log, settings and flush in :mod:`sandbox.webhook_api`.

Each edit changes the catalog in place, bumps the edited product's ``modifiedAt``, queues the
webhook events Centra would send (see :mod:`sandbox.webhooks`) and answers the changed object
together with those events (``webhook``). The answer never waits for the webhook, unless the
call has ``?sync=1``: then it returns once the webhook has been delivered.

Which ids an edit sends (the rule is "every object whose Checkout API JSON changed"):

* a product edit: ``products`` = the product, its active colour siblings (same
  ``centraProduct``: their ``relatedProducts`` hold it, and the variant rule makes their
  listing membership depend on its data) and the active products with a standard relation to
  it (their full ``relatedProducts`` hold its data);
* a category rename: ``categories`` = it and its subcategories (their name paths change),
  ``products`` = the active members of those categories (their ``categoryName`` changes);
* a market or pricelist edit: only ``markets`` / ``pricelists`` (the object edited, as Centra
  sends one event for it; a cache rebuilds what depends on it).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.catalog import Catalog
from sandbox.catalog_model import product_sort_key
from sandbox.http import HttpError, Reply, Request, field_str, field_str_list, route
from sandbox.state import Shop
from sandbox.webhooks import Events, sender_for

FLUSH_TIMEOUT_SECONDS = 60.0


# -- helpers -----------------------------------------------------------------------------------


def bad(key: str, why: str) -> HttpError:
    return HttpError(400, {key: why})


def number_field(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if value is None:
        raise bad(key, "required")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise bad(key, "must be a number")
    return float(value)


def round_amount(amount: float, digits: int) -> float:
    return float(Decimal(str(amount)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


def decimal_digits(catalog: Catalog, pricelist: str) -> int:
    return int(catalog.pricelists[pricelist].currency_format.get("decimalDigits", "2"))


def check_known(catalog_ids: dict[str, Any], ids: list[str], key: str) -> None:
    unknown = [i for i in ids if i not in catalog_ids]
    if unknown:
        raise bad(key, "not found: " + ", ".join(unknown))


@contextmanager
def _shop_unlocked(shop: Shop) -> Iterator[None]:
    """Let go of the shop lock the dispatcher holds (once) around a handler, while waiting on
    webhook deliveries: a receiver may call the sandbox back before it answers."""
    shop.lock.release()
    try:
        yield
    finally:
        shop.lock.acquire()


def flush_webhooks(shop: Shop, timeout: float) -> None:
    with _shop_unlocked(shop):
        done = sender_for(shop).flush(timeout)
    if not done:
        raise HttpError(504, {"webhooks": f"not all delivered within {timeout:g} s"})


def send_events(shop: Shop, req: Request, events: dict[str, list[str]]) -> Events:
    """Queue the events; with ``?sync=1`` wait until they are delivered."""
    events = {key: ids for key, ids in events.items() if ids}
    sender_for(shop).enqueue(events)
    if (req.query.get("sync") or [""])[-1].lower() in ("1", "true"):
        flush_webhooks(shop, FLUSH_TIMEOUT_SECONDS)
    return events


# -- categories, markets, pricelists -----------------------------------------------------------


@route("PUT", "/sandbox/categories/{id}")
def category_put(req: Request, shop: Shop) -> Reply:
    """``{name, language?}`` (language defaults to ``en``): rename one level of a category."""
    catalog = shop.catalog
    category = catalog.categories.get(req.params["id"])
    if category is None:
        raise HttpError(404, {"category": "not found"})
    body = req.body
    language = field_str(body, "language", "en")
    if language not in catalog.languages:
        raise bad("language", "not found")
    name = field_str(body, "name").strip()
    if not name:
        raise bad("name", "must not be empty")
    category.names[language] = name
    # It and its subcategories (whose name paths hold its name), in admin order.
    renamed = [
        cid
        for cid in catalog.categories
        if any(c.id == category.id for c in catalog.category_path(cid))
    ]
    members = sorted(
        (
            p
            for p in catalog.products.values()
            if p.active and any(c in p.categories for c in renamed)
        ),
        key=product_sort_key,
    )
    events = send_events(shop, req, {"categories": renamed, "products": [p.id for p in members]})
    return Reply({"category": catalog.category_json(category.id, language), "webhook": events})


def _optional_name(body: dict[str, Any]) -> str | None:
    if body.get("name") is None:
        return None
    name = field_str(body, "name").strip()
    if not name:
        raise bad("name", "must not be empty")
    return name


def _market_json(shop: Shop, market_id: str) -> dict[str, Any]:
    m = shop.catalog.markets[market_id]
    return {"market": m.id, "name": m.name, "countries": list(m.countries)}


@route("PUT", "/sandbox/markets/{id}")
def market_put(req: Request, shop: Shop) -> Reply:
    """``{name?, countries?}``. ``countries`` is the market's new list: each country listed
    moves here (its default market becomes this one, and it leaves its old market). A country
    cannot be left without a market: move it by listing it in another market instead."""
    catalog = shop.catalog
    market = catalog.markets.get(req.params["id"])
    if market is None:
        raise HttpError(404, {"market": "not found"})
    body = req.body
    if body.get("name") is None and body.get("countries") is None:
        raise bad("body", "nothing to change: send name or countries")
    # Everything is checked before anything changes: a 400 leaves the market as it was.
    name = _optional_name(body)
    countries = field_str_list(body, "countries")
    wanted: set[str] | None = None
    if countries is not None:
        wanted = {c.upper() for c in countries}
        check_known(catalog.countries, sorted(wanted), "countries")
        orphans = sorted(set(market.countries) - wanted)
        if orphans:
            raise bad(
                "countries",
                f"{', '.join(orphans)} would have no market: list them in another market",
            )
    changed = [market.id]
    if name is not None:
        market.name = name
    if wanted is not None:
        for code in sorted(wanted - set(market.countries)):
            country = catalog.countries[code]
            old = catalog.markets.get(country.market)
            if old is not None and old.id != market.id:
                old.countries = [c for c in old.countries if c != code]
                if old.id not in changed:
                    changed.append(old.id)
            country.market = market.id
        market.countries = [c for c in catalog.countries if c in wanted]  # country order
    events = send_events(shop, req, {"markets": changed})
    return Reply({"market": _market_json(shop, market.id), "webhook": events})


@route("PUT", "/sandbox/pricelists/{id}")
def pricelist_put(req: Request, shop: Shop) -> Reply:
    """``{name?, multiplier?}``: ``multiplier`` scales every price and price before discount
    of the pricelist (rounded half-up to the currency's decimals; ``discountPercent`` and
    ``showAsOnSale`` are kept)."""
    catalog = shop.catalog
    pricelist = catalog.pricelists.get(req.params["id"])
    if pricelist is None:
        raise HttpError(404, {"pricelist": "not found"})
    body = req.body
    if body.get("name") is None and body.get("multiplier") is None:
        raise bad("body", "nothing to change: send name or multiplier")
    name = _optional_name(body)
    factor = None if body.get("multiplier") is None else number_field(body, "multiplier")
    if factor is not None and factor <= 0:
        raise bad("multiplier", "must be above 0")
    if name is not None:
        pricelist.name = name
    if factor is not None:
        digits = decimal_digits(catalog, pricelist.id)
        for product in catalog.products.values():
            price = product.prices.get(pricelist.id)
            if price is not None:
                price.amount = round_amount(price.amount * factor, digits)
                price.before_discount = round_amount(price.before_discount * factor, digits)
    events = send_events(shop, req, {"pricelists": [pricelist.id]})
    return Reply(
        {
            "pricelist": {
                "pricelist": pricelist.id,
                "name": pricelist.name,
                "currency": pricelist.currency,
                "countries": list(pricelist.countries),
            },
            "webhook": events,
        }
    )
