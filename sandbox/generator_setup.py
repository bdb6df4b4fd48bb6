"""The generated shop's set-up: languages, markets, pricelists, countries (with their default
market, pricelist and language) and the category tree, from :mod:`sandbox.generator_data`
and the config's sizes. :mod:`sandbox.generator` adds the products.
"""

from __future__ import annotations

from sandbox.catalog import Catalog
from sandbox.catalog_model import Category, Country, Language, Market, Pricelist
from sandbox.config import SandboxConfig
from sandbox.formatting import slugify
from sandbox.generator_data import (
    CATEGORY_TREE,
    COUNTRIES,
    CURRENCY_FORMATS,
    LANGUAGES,
    MARKET_EXTRA_NAMES,
    PRICELISTS,
    CountryDef,
    PricelistDef,
)


def _markets(n: int) -> list[tuple[str, set[str]]]:
    """(name, regions) per market; markets past the third have no countries (VIP-style)."""
    if n <= 1:
        return [("Global", {"SE", "EU", "WORLD"})]
    if n == 2:
        return [("Sweden", {"SE"}), ("International", {"EU", "WORLD"})]
    out: list[tuple[str, set[str]]] = [("Sweden", {"SE"}), ("Europe", {"EU"}), ("World", {"WORLD"})]
    for i in range(3, n):
        extra = i - 3
        out.append(
            (
                MARKET_EXTRA_NAMES[extra] if extra < len(MARKET_EXTRA_NAMES) else f"Market {i + 1}",
                set(),
            )
        )
    return out


def _pricelist_defs(n: int) -> list[PricelistDef]:
    defs = PRICELISTS[: max(1, n)]
    for i in range(len(defs), max(1, n)):
        defs.append(PricelistDef(f"EUR Campaign {i - len(PRICELISTS) + 1}", "EUR", False, (10, 20)))
    return defs


def build_setup(cat: Catalog, config: SandboxConfig) -> list[PricelistDef]:
    langs = LANGUAGES[: max(1, min(config.languages, len(LANGUAGES)))]
    for code, name in langs:
        cat.languages[code] = Language(code, name)

    market_defs = _markets(config.markets)
    for i, (name, _) in enumerate(market_defs, start=1):
        cat.markets[str(i)] = Market(str(i), name, [])

    pl_defs = _pricelist_defs(config.pricelists)
    for i, d in enumerate(pl_defs, start=1):
        fmt = {"currency": d.currency, "name": d.currency, **CURRENCY_FORMATS[d.currency],
               "uri": slugify(d.name)}  # fmt: skip
        cat.pricelists[str(i)] = Pricelist(str(i), d.name, d.currency, fmt, [])

    for c in COUNTRIES:
        market = next(
            (str(i) for i, (_, regions) in enumerate(market_defs, start=1) if c.region in regions),
            "1",
        )
        pricelist = _country_pricelist(c, pl_defs)
        language = c.language if c.language in cat.languages else "en"
        cat.countries[c.code] = Country(
            code=c.code,
            name=c.name,
            eu=c.eu,
            language=language,
            states=dict(c.states),
            ship_to=c.ship_to,
            market=market,
            pricelist=pricelist,
        )
        cat.markets[market].countries.append(c.code)
        cat.pricelists[pricelist].countries.append(c.code)

    # A visitor with no known country: the catch-all market (the last one with countries),
    # the first pricelist no country defaults to (the outlet) or else "1", and English.
    catch_all = [m.id for m in cat.markets.values() if m.countries][-1]
    no_country = [pl.id for pl in cat.pricelists.values() if not pl.countries]
    cat.fallback_context = (catch_all, no_country[0] if no_country else "1", "en")
    return pl_defs


def _country_pricelist(c: CountryDef, pl_defs: list[PricelistDef]) -> str:
    for currency in (*c.currencies, "EUR"):
        for i, d in enumerate(pl_defs, start=1):
            if d.for_countries and d.currency == currency:
                return str(i)
    return "1"


def build_categories(cat: Catalog) -> dict[str, str]:
    """Adds the tree; returns leaf id -> garment kind."""
    leaves: dict[str, str] = {}
    for cid, parent, slug, names, kind in CATEGORY_TREE:
        cat.categories[cid] = Category(
            cid, parent, {k: v for k, v in names.items() if k in cat.languages}, slug
        )
        if kind:
            leaves[cid] = kind
    return leaves
