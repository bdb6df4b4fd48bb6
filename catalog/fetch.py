"""What the cache asks Centra, server-side (shared secret, ``API-token: none``).

Only listing calls: pages of ``POST products`` per market and language, ``categories`` per
language, and the shop set-up. Never one request per product.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings

from catalog.prices import ALL_PRICELISTS
from catalog.shop_meta import ShopMeta
from storefront.centra import CentraClient, CentraUnavailable
from storefront.jsonio import JsonDict


def _list(data: JsonDict, key: str, what: str) -> list[JsonDict]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise CentraUnavailable(f"{what}: no {key!r} list in Centra's answer")
    return value


def fetch_shop_meta(*, client: CentraClient) -> ShopMeta:
    """Countries (server-side they carry their default market and pricelist), languages,
    markets and pricelists (with the seeds' ``currencyFormat`` or today's ``currency``
    object), each kept as Centra sent it."""
    countries = _list(client.catalog("GET", "countries"), "countries", "countries")
    languages = _list(client.catalog("GET", "languages"), "languages", "languages")
    markets = _list(client.catalog("GET", "markets"), "markets", "markets")
    pricelists = _list(client.catalog("GET", "pricelists"), "pricelists", "pricelists")
    return ShopMeta(
        countries=countries,
        languages=languages,
        markets=markets,
        pricelists=pricelists,
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def fetch_products_page(
    *,
    client: CentraClient,
    market: str,
    language: str,
    skip: int,
    limit: int,
    related: bool,
) -> JsonDict:
    """One page of a market's products with every pricelist's prices. ``related`` asks for
    full related products, which is how the standard relations become visible."""
    data = client.catalog(
        "POST",
        "products",
        {
            "market": market,
            "pricelist": ALL_PRICELISTS,
            "language": language,
            "skipFirst": skip,
            "limit": limit,
            "relatedProducts": related,
        },
        # A page of hundreds of products with every price takes Centra a while to build.
        read_timeout=settings.CENTRA_CATALOG_READ_TIMEOUT,
    )
    _list(data, "products", "products")
    if not isinstance(data.get("productCount"), int):
        raise CentraUnavailable("products: no productCount in Centra's answer")
    return data


def fetch_products_by_id(
    *, client: CentraClient, market: str, language: str, product_ids: list[str], related: bool
) -> list[JsonDict]:
    """Named products of a market in one language (webhook refreshes)."""
    data = client.catalog(
        "POST",
        "products",
        {
            "market": market,
            "pricelist": ALL_PRICELISTS,
            "language": language,
            "products": product_ids,
            "relatedProducts": related,
        },
    )
    return _list(data, "products", "products")


def fetch_categories(*, client: CentraClient, market: str, language: str) -> list[JsonDict]:
    data = client.catalog("POST", "categories", {"market": market, "language": language})
    return _list(data, "categories", "categories")
