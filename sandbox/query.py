"""The product query engine behind POST products and POST uri: filters, sorting, paging, facets.

The rules are written out in ``sandbox/README.md`` ("Query rules"); a second engine in the
BFF reproduces them, so this module favours the plainest code that states each rule once.

A request is evaluated in four steps:

1. The universe: the active products of the market, in the default order (product id
   ascending as a number).
2. The filtered set: products passing every given criterion (AND across fields, OR within
   one field's values). For categories, collections, brands, swatch.desc, items.name and
   search a product passes when it or any of its variant siblings (same centraProduct, in
   the universe) matches by its own data; products, silkProduct, uri and onlyAvailable
   look at the product's own data only.
3. The order: stable sorts by each sortOrder entry, most significant first, on top of the
   default order; missing values (no price, no collection, not in the category) go last in
   both directions.
4. The page (skipFirst, limit) and the facets (counted by each product's own values).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox import search
from sandbox.catalog import Catalog
from sandbox.catalog_model import ALL_PRICELISTS, Product
from sandbox.generator_data import PALETTE
from sandbox.http import HttpError, field_bool, field_int, field_str, field_str_list

SORT_FIELDS = (
    "uri",
    "categoryItemSort",
    "collectionUri",
    "priceAsNumber",
    "createdAt",
    "modifiedAt",
)
URI_FOR = ("product", "category")
FACET_FIELDS = ("brands", "categories", "collections", "swatch.desc", "items.name")
# The Query attribute holding each facet field's own filter.
FACET_QUERY_FIELDS = {
    "brands": "brands",
    "categories": "categories",
    "collections": "collections",
    "swatch.desc": "swatch_desc",
    "items.name": "items_name",
}

# The swatch.desc facet order: the generator's palette (desc values), then others by text.
SWATCH_ORDER = [p[0] for p in PALETTE]
# Letter sizes in their natural order, for the items.name facet.
LETTER_SIZES = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL")


@dataclass
class UriFilter:
    uri: str
    for_: list[str]  # the known values of "for" that were asked for ("product", "category")


@dataclass
class Query:
    skip_first: int = 0
    limit: int | None = None  # None: all
    categories: list[str] | None = None
    collections: list[str] | None = None
    brands: list[str] | None = None
    products: list[str] | None = None
    silk_product: list[str] | None = None
    search: str | None = None
    related_products: bool = False
    swatch_desc: list[str] | None = None
    items_name: list[str] | None = None
    only_available: bool = False
    uri: UriFilter | None = None
    sort_order: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Context:
    market: str
    pricelist: str  # a pricelist id or "all"
    language: str


@dataclass
class Result:
    page: list[Product]
    count: int  # productCount: the filtered set before paging
    facets: list[dict[str, Any]]


# -- parsing ---------------------------------------------------------------------------------


def _optional_int(body: dict[str, Any], key: str, minimum: int) -> int | None:
    if body.get(key) is None:
        return None
    return field_int(body, key, minimum=minimum)


def _optional_bool(body: dict[str, Any], key: str) -> bool:
    return False if body.get(key) is None else field_bool(body, key)


def parse_uri_for(value: Any, key: str = "for") -> list[str]:
    """``for``: a list (or one string) of what the uri may be; unknown values are ignored."""
    if value is None:
        return list(URI_FOR)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise HttpError(400, {key: "must be a list of strings"})
    return [v for v in URI_FOR if v in value]


def parse_uri_filter(value: Any) -> UriFilter | None:
    if value is None:
        return None
    if isinstance(value, str):
        return UriFilter(value.strip("/"), list(URI_FOR))
    if not isinstance(value, dict):
        raise HttpError(400, {"uri": "must be an object with uri and for"})
    uri = value.get("uri")
    if not isinstance(uri, str):
        raise HttpError(400, {"uri": "uri.uri must be a string"})
    return UriFilter(uri.strip("/"), parse_uri_for(value.get("for"), "uri.for"))


def parse_sort_order(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise HttpError(400, {"sortOrder": "must be a list of {field, order}"})
    out: list[tuple[str, str]] = []
    for entry in value:
        if not isinstance(entry, dict):
            raise HttpError(400, {"sortOrder": "must be a list of {field, order}"})
        name = entry.get("field")
        order = entry.get("order", "asc")
        if name not in SORT_FIELDS:
            raise HttpError(400, {"sortOrder": f"field must be one of {', '.join(SORT_FIELDS)}"})
        if not isinstance(order, str) or order.lower() not in ("asc", "desc"):
            raise HttpError(400, {"sortOrder": "order must be asc or desc"})
        out.append((str(name), order.lower()))
    return out


def parse_query(body: dict[str, Any]) -> Query:
    """A POST products body. Unknown fields are ignored; wrong types are a 400."""
    search_text = None if body.get("search") is None else field_str(body, "search")
    return Query(
        skip_first=_optional_int(body, "skipFirst", 0) or 0,
        limit=_optional_int(body, "limit", 1),
        categories=field_str_list(body, "categories"),
        collections=field_str_list(body, "collections"),
        brands=field_str_list(body, "brands"),
        products=field_str_list(body, "products"),
        silk_product=field_str_list(body, "silkProduct"),
        search=search_text,
        related_products=_optional_bool(body, "relatedProducts"),
        swatch_desc=field_str_list(body, "swatch.desc"),
        items_name=field_str_list(body, "items.name"),
        only_available=_optional_bool(body, "onlyAvailable"),
        uri=parse_uri_filter(body.get("uri")),
        sort_order=parse_sort_order(body.get("sortOrder")),
    )


# -- own-data predicates ---------------------------------------------------------------------


def searchable_text(catalog: Catalog, product: Product, language: str) -> str:
    """What search looks at, in the request language: name, variantName, brandName,
    collectionName, the names of every category the product is in (whole paths),
    description and sku."""
    text = product.text(language)
    brand = catalog.brands.get(product.brand)
    collection = catalog.collections.get(product.collection) if product.collection else None
    parts = [
        text.name,
        text.variant_name,
        brand.name if brand else "",
        collection.name if collection else "",
    ]
    for cid in product.categories:
        if cid in catalog.categories:
            parts.extend(catalog.category_name(cid, language))
    parts.extend([text.description, product.sku])
    return "\n".join(parts)


def matches_uri(catalog: Catalog, product: Product, uri: UriFilter) -> bool:
    if "product" in uri.for_:
        if product.uri == uri.uri:
            return True
        for cid in product.categories:
            if (
                cid in catalog.categories
                and f"{catalog.category_uri(cid)}/{product.uri}" == uri.uri
            ):
                return True
    if "category" in uri.for_:
        for cid in product.categories:
            if cid in catalog.categories and catalog.category_uri(cid) == uri.uri:
                return True
    return False


def is_available(
    catalog: Catalog, product: Product, ctx: Context, item_names: list[str] | None
) -> bool:
    """onlyAvailable: a price in the pricelist (any, for "all") and a purchasable item in the
    market (in stock, infinite or preorder); with items.name, one of the named items."""
    if ctx.pricelist != ALL_PRICELISTS and catalog.price(product, ctx.pricelist) is None:
        return False
    wanted = set(item_names) if item_names is not None else None
    return any(
        (wanted is None or item.name in wanted)
        and catalog.item_purchasable(product, item, ctx.market)
        for item in product.items
    )


# -- the engine ------------------------------------------------------------------------------


def run_query(catalog: Catalog, query: Query, ctx: Context) -> Result:
    if ctx.pricelist == ALL_PRICELISTS and any(f == "priceAsNumber" for f, _ in query.sort_order):
        raise HttpError(400, {"sortOrder": "priceAsNumber needs a single pricelist, not all"})
    universe = catalog.market_products(ctx.market)
    filtered = filter_products(catalog, universe, query, ctx)
    ordered = sort_products(catalog, filtered, query, ctx)
    start = query.skip_first
    end = None if query.limit is None else start + query.limit
    # filterCount: each facet counted over the products passing every filter but that
    # field's own (a field without a filter counts over the filtered set).
    without_own: dict[str, list[Product]] = {}
    for field_name, attr in FACET_QUERY_FIELDS.items():
        if getattr(query, attr) is not None:
            loosened = dataclasses.replace(query)
            setattr(loosened, attr, None)
            without_own[field_name] = filter_products(catalog, universe, loosened, ctx)
    return Result(
        page=ordered[start:end],
        count=len(filtered),
        facets=facets(catalog, universe, filtered, ctx.language, without_own),
    )


def filter_products(
    catalog: Catalog, universe: list[Product], query: Query, ctx: Context
) -> list[Product]:
    # Criteria applied with the variant rule: the style (centraProduct) passes when any of
    # its products in the universe matches by its own data.
    variant_criteria: list[Callable[[Product], bool]] = []
    if query.categories is not None:
        wanted_c = set(query.categories)
        variant_criteria.append(lambda p: not wanted_c.isdisjoint(p.categories))
    if query.collections is not None:
        wanted_col = set(query.collections)
        variant_criteria.append(lambda p: p.collection is not None and p.collection in wanted_col)
    if query.brands is not None:
        wanted_b = set(query.brands)
        variant_criteria.append(lambda p: p.brand in wanted_b)
    if query.swatch_desc is not None:
        wanted_s = set(query.swatch_desc)
        variant_criteria.append(lambda p: p.swatch is not None and p.swatch.desc in wanted_s)
    if query.items_name is not None:
        wanted_i = set(query.items_name)
        variant_criteria.append(lambda p: any(i.name in wanted_i for i in p.items))
    if query.search is not None:
        words = sorted(set(search.tokenize(query.search)))
        if words:
            variant_criteria.append(
                lambda p: search.matches(
                    words, search.word_set(searchable_text(catalog, p, ctx.language))
                )
            )

    # Criteria on the product's own data only.
    own_criteria: list[Callable[[Product], bool]] = []
    if query.products is not None:
        wanted_p = set(query.products)
        own_criteria.append(lambda p: p.id in wanted_p)
    if query.silk_product is not None:
        wanted_sp = set(query.silk_product)
        own_criteria.append(lambda p: p.centra_product in wanted_sp)
    if query.uri is not None:
        uri = query.uri
        own_criteria.append(lambda p: matches_uri(catalog, p, uri))
    if query.only_available:
        names = query.items_name
        own_criteria.append(lambda p: is_available(catalog, p, ctx, names))

    result = [p for p in universe if all(c(p) for c in own_criteria)]
    for criterion in variant_criteria:
        styles = {p.centra_product for p in universe if criterion(p)}
        result = [p for p in result if p.centra_product in styles]
    return result


def sort_products(
    catalog: Catalog, products: list[Product], query: Query, ctx: Context
) -> list[Product]:
    """Stable sorts from the least significant key to the most significant one, starting
    from the default order, so ties always fall back to product id ascending."""
    ordered = list(products)
    for name, order in reversed(query.sort_order):
        key = sort_key(catalog, name, query, ctx)
        present = [p for p in ordered if key(p) is not None]
        missing = [p for p in ordered if key(p) is None]
        present.sort(key=lambda p: key(p), reverse=order == "desc")
        ordered = present + missing  # missing values last in both directions
    return ordered


def sort_key(catalog: Catalog, name: str, query: Query, ctx: Context) -> Callable[[Product], Any]:
    if name == "uri":
        return lambda p: p.uri
    if name == "collectionUri":

        def collection_uri(p: Product) -> str | None:
            col = catalog.collections.get(p.collection) if p.collection else None
            return col.uri if col else None

        return collection_uri
    if name == "priceAsNumber":

        def price(p: Product) -> float | None:
            found = catalog.price(p, ctx.pricelist)
            return (
                None if found is None else float(catalog.price_number(found.amount, ctx.pricelist))
            )

        return price
    if name == "createdAt":
        return lambda p: p.created_at
    if name == "modifiedAt":
        return lambda p: p.modified_at
    if name == "categoryItemSort":
        if query.categories:
            first = query.categories[0]
            return lambda p: p.categories.get(first)
        return lambda p: p.categories.get(p.category)
    raise HttpError(400, {"sortOrder": f"unknown field {name}"})


# -- facets ----------------------------------------------------------------------------------


def size_key(name: str) -> tuple[int, float, float, str]:
    """The items.name facet order: letter sizes XXS..XXXL, then numeric sizes by number,
    then waist/length sizes ("W30/L32") by waist then length, then the rest by text."""
    if name in LETTER_SIZES:
        return (0, LETTER_SIZES.index(name), 0, name)
    try:
        return (1, float(name), 0, name)
    except ValueError:
        pass
    waist, sep, length = name.partition("/")
    if (
        sep
        and waist[:1] == "W"
        and length[:1] == "L"
        and waist[1:].isdigit()
        and length[1:].isdigit()
    ):
        return (2, int(waist[1:]), int(length[1:]), name)
    return (3, 0, 0, name)


def _numeric_id_key(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (1 << 62, value)


def _facet_values_of(catalog: Catalog, p: Product) -> list[tuple[str, str]]:
    """(field, value) pairs of one product, each value once."""
    pairs = [("brands", p.brand)] if p.brand else []
    pairs += [("categories", c) for c in dict.fromkeys(p.categories) if c in catalog.categories]
    if p.collection:
        pairs.append(("collections", p.collection))
    if p.swatch:
        pairs.append(("swatch.desc", p.swatch.desc))
    pairs += [("items.name", name) for name in dict.fromkeys(i.name for i in p.items)]
    return pairs


def _facet_order(catalog: Catalog, f: str, vals: list[str]) -> list[str]:
    if f == "categories":
        admin = list(catalog.categories)
        return sorted(vals, key=admin.index)
    if f in ("brands", "collections"):
        return sorted(vals, key=_numeric_id_key)
    if f == "swatch.desc":
        palette = SWATCH_ORDER
        return sorted(
            vals,
            key=lambda v: (palette.index(v), "") if v in palette else (len(palette), v),
        )
    return sorted(vals, key=size_key)


def _facet_data(
    catalog: Catalog, language: str, swatch_data: dict[str, dict[str, str]], f: str, v: str
) -> Any:
    if f == "brands":
        brand = catalog.brands.get(v)
        return {"brand": v, "brandName": brand.name if brand else ""}
    if f == "categories":
        return catalog.category_json(v, language)
    if f == "collections":
        col = catalog.collections.get(v)
        return {"collection": v, "collectionName": col.name if col else ""}
    if f == "swatch.desc":
        return swatch_data[v]
    return catalog.shapes.item_name_data(v)


def facets(
    catalog: Catalog,
    universe: list[Product],
    filtered: list[Product],
    language: str,
    without_own: dict[str, list[Product]] | None = None,
) -> list[dict[str, Any]]:
    """Every value with totalCount > 0 in the universe; count over the filtered set, and
    filterCount over ``without_own[field]`` (the set without that field's own filter; the
    filtered set for fields missing there). Each product is counted once per value, by its
    own data."""
    shapes = catalog.shapes

    # Counter.update counts in C: a page of a 10,000-product market recounts everything.
    totals: Counter[tuple[str, str]] = Counter()
    counts: Counter[tuple[str, str]] = Counter()
    swatch_data: dict[str, dict[str, str]] = {}  # the first product's swatch per desc
    filtered_ids = {p.id for p in filtered}
    for p in universe:
        own = _facet_values_of(catalog, p)
        totals.update(own)
        if p.id in filtered_ids:
            counts.update(own)
        if p.swatch and p.swatch.desc not in swatch_data:
            swatch_data[p.swatch.desc] = p.swatch.as_json()
    total: dict[str, dict[str, int]] = {f: {} for f in FACET_FIELDS}
    count: dict[str, dict[str, int]] = {f: {} for f in FACET_FIELDS}
    for (f, v), n in totals.items():
        total[f][v] = n
    for (f, v), n in counts.items():
        count[f][v] = n
    filter_count: dict[str, dict[str, int]] = {}
    for f, products in (without_own or {}).items():
        loose: Counter[str] = Counter(
            v for p in products for g, v in _facet_values_of(catalog, p) if g == f
        )
        filter_count[f] = dict(loose)

    return [
        {
            "field": f,
            "values": [
                shapes.facet_value(
                    v,
                    count[f].get(v, 0),
                    filter_count[f].get(v, 0) if f in filter_count else count[f].get(v, 0),
                    total[f][v],
                    _facet_data(catalog, language, swatch_data, f, v),
                )
                for v in _facet_order(catalog, f, list(total[f]))
            ],
        }
        for f in FACET_FIELDS
    ]
