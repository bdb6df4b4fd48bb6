"""The body of POST products (and the query part of POST uri), read and checked exactly as
Centra (the sandbox, ``sandbox/README.md``) answers bad input, with the BFF's own bounds on
what one request may ask of the engine (README.md, "catalog query bounds")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from catalog.search import words_in_order
from storefront.api import ApiError
from storefront.jsonio import JsonDict

SORT_FIELDS = (
    "uri",
    "categoryItemSort",
    "collectionUri",
    "priceAsNumber",
    "createdAt",
    "modifiedAt",
)
URI_FOR = ("product", "category")
# Bounds of what one request may ask of the engine: beyond them a 400 naming the field, except
# that of a search's distinct words only the first MAX_SEARCH_WORDS count. Shoppers type a
# few words; the shop's search page cuts its text to fit (shop.paths).
MAX_SEARCH_CHARS = 200
MAX_SEARCH_WORDS = 12
# Values of one filter field (categories, brands, products, ...): a frontend asks for a
# page's worth of products or a few facet values, never thousands.
MAX_FILTER_VALUES = 1000

_INT_TEXT = re.compile(r"-?[0-9]{1,18}")


def bad_request(key: str, why: str) -> ApiError:
    return ApiError(400, {key: why})


def field_int(body: JsonDict, key: str, minimum: int = 0) -> int:
    value = body.get(key)
    if value is None:
        raise bad_request(key, "required")
    if isinstance(value, bool):
        raise bad_request(key, "must be an integer")
    # Numbers as text only as Centra (the sandbox) reads them: ASCII digits, at most 18 (a
    # "limit" of "1234567890123456789" is refused by both). JSON numbers may be any integer:
    # a page past the end is simply empty.
    if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        value = int(value)
    if not isinstance(value, int):
        raise bad_request(key, "must be an integer")
    if value < minimum:
        raise bad_request(key, f"must be at least {minimum}")
    return value


def field_str(body: JsonDict, key: str) -> str:
    value = body.get(key)
    if value is None:
        raise bad_request(key, "required")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise bad_request(key, "must be a string")
    return value


def field_bool(body: JsonDict, key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool) and _is_in(value, (0, 1, "true", "false", "0", "1")):
        return _is_in(value, (1, "true", "1"))
    if not isinstance(value, bool):
        raise bad_request(key, "must be a boolean")
    return value


def _is_in(value: Any, options: tuple[Any, ...]) -> bool:
    try:
        return value in options
    except TypeError:  # e.g. a dict compared with strings: never equal, never an error
        return False


def field_str_list(body: JsonDict, key: str) -> list[str] | None:
    if body.get(key) is None:
        return None
    value = body[key]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise bad_request(key, "must be a list")
    if len(value) > MAX_FILTER_VALUES:
        raise bad_request(key, f"at most {MAX_FILTER_VALUES} values")
    out: list[str] = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise bad_request(key, "must be a list of strings or integers")
        out.append(str(v))
    return out


def _optional_int(body: JsonDict, key: str, minimum: int) -> int | None:
    if body.get(key) is None:
        return None
    return field_int(body, key, minimum=minimum)


def _optional_bool(body: JsonDict, key: str) -> bool:
    return False if body.get(key) is None else field_bool(body, key)


@dataclass
class UriFilter:
    uri: str
    for_: list[str]


@dataclass
class Query:
    skip_first: int = 0
    limit: int | None = None
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
    # The shop's listings only, never read from a body (Centra has no such field): products
    # that cannot be bought follow every one that can, each part in the requested order.
    sold_out_last: bool = False
    # The shop's search page only, never read from a body: a search keeps the products that
    # match every word as typed when there are any (typos are the fallback), and without a
    # sortOrder lists them by relevance (catalog.search.Ranking).
    relevance: bool = False
    # The shop's listings only, never from a body: with swatch.desc, items.name or search, the
    # products matching them by their own data (a style's matching variants), not every
    # product of a matching style; productCount counts them, the facets stay Centra's.
    own_variants: bool = False


def parse_uri_for(value: Any, key: str = "for") -> list[str]:
    if value is None:
        return list(URI_FOR)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(key, "must be a list of strings")
    return [v for v in URI_FOR if v in value]


def parse_uri_filter(value: Any) -> UriFilter | None:
    if value is None:
        return None
    if isinstance(value, str):
        return UriFilter(value.strip("/"), list(URI_FOR))
    if not isinstance(value, dict):
        raise bad_request("uri", "must be an object with uri and for")
    uri = value.get("uri")
    if not isinstance(uri, str):
        raise bad_request("uri", "uri.uri must be a string")
    return UriFilter(uri.strip("/"), parse_uri_for(value.get("for"), "uri.for"))


def parse_sort_order(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise bad_request("sortOrder", "must be a list of {field, order}")
    out: list[tuple[str, str]] = []
    for entry in value:
        if not isinstance(entry, dict):
            raise bad_request("sortOrder", "must be a list of {field, order}")
        name = entry.get("field")
        order = entry.get("order", "asc")
        if not _is_in(name, SORT_FIELDS):
            raise bad_request("sortOrder", f"field must be one of {', '.join(SORT_FIELDS)}")
        if not isinstance(order, str) or order.lower() not in ("asc", "desc"):
            raise bad_request("sortOrder", "order must be asc or desc")
        out.append((str(name), order.lower()))
    # A field sorted on again only compares products its first entry found equal, and equal
    # values rank equal in both directions: the later entry can never change the order. So
    # at most one entry per field counts, which bounds the sort keys whatever the request.
    first: dict[str, tuple[str, str]] = {}
    for entry in out:
        first.setdefault(entry[0], entry)
    return list(first.values())


def field_search(body: JsonDict) -> str | None:
    """``search``: at most :data:`MAX_SEARCH_CHARS` characters (a 400 beyond), and of more
    than :data:`MAX_SEARCH_WORDS` distinct words only the first ones count (the work of a
    search grows with both; the README says so)."""
    if body.get("search") is None:
        return None
    text = field_str(body, "search")
    if len(text) > MAX_SEARCH_CHARS:
        raise bad_request("search", f"at most {MAX_SEARCH_CHARS} characters")
    words = words_in_order(text)
    if len(words) > MAX_SEARCH_WORDS:
        return " ".join(words[:MAX_SEARCH_WORDS])
    return text


def parse_query(body: JsonDict) -> Query:
    """A POST products body; unknown fields are ignored, wrong types are a 400 naming the
    first bad field in the order Centra checks them. Every user-sized part is bounded: the
    search text (:func:`field_search`), each filter's values (:data:`MAX_FILTER_VALUES`), the
    sort entries (one per field); ``skipFirst`` and ``limit`` may be any integer (pages past
    the end are empty, as Centra's)."""
    search_text = field_search(body)
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
