"""Readers for the shapes of Centra's checkout answers, in both dialects the BFF meets.

Today's Centra (its OAS spec, read as the types in ``noaignite/accelerator``'s
``centra-types``) and the seeds' older examples answer the same calls in different shapes:

- a payment result, a ``success`` payment answer and a receipt carry the order **nested** under
  ``order`` (``OrderCompleteResponse``, ``OrderCreatedDirectlyResponse``); the seeds put the
  order's fields at the top level, ``order`` being its number;
- selection and order lines carry their product **nested** as ``items[].product``
  (``SelectionItem.product``); the seeds list the products once at the top level
  (``products``) and name the line with ``productName``;
- the session's language is ``location.language`` (an object) today, the top-level
  ``language`` object in the seeds (:func:`storefront.locations.read_location` reads both);
- a currency is a code or a ``Currency`` object (``{currency, name, prefix, ...}``);
- payment fields may say ``visible: false``.

Pages, the session code and the cart count read answers through these functions only, so no
view or template branches on a dialect. Every reader accepts anything (Centra's JSON, or our
own error bodies) and answers a neutral value instead of raising.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storefront.jsonio import JsonDict
from storefront.locations import read_location


def as_dict(value: Any) -> JsonDict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[JsonDict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def id_text(value: Any) -> str:
    """An id Centra sends as a string or a number (never a bool)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def code_of(value: Any, key: str) -> str:
    """A code sent either as itself (``"SEK"``) or inside its object (``{"currency": "SEK"}``)."""
    if isinstance(value, dict):
        value = value.get(key)
    return value.strip() if isinstance(value, str) else ""


# -- the session ---------------------------------------------------------------------------------


def session_country(body: Mapping[str, Any]) -> str | None:
    location = read_location(body)
    return location.country if location else None


def session_language(body: Mapping[str, Any]) -> str | None:
    """The language the session answers in; None when the answer does not say."""
    location = read_location(body)
    return location.language if location else None


def session_state(body: Mapping[str, Any]) -> str:
    return text(as_dict(body.get("location")).get("state"))


def currency_code(data: Mapping[str, Any]) -> str:
    """A selection's or an order's currency code: ``currency`` (a code, or an object), else its
    ``currencyFormat``'s code. Never an object: a page prints it."""
    return code_of(data.get("currency"), "currency") or code_of(
        data.get("currencyFormat"), "currency"
    )


# -- lines ---------------------------------------------------------------------------------------


def products_by_id(body: Mapping[str, Any]) -> dict[str, JsonDict]:
    """The seeds' top-level ``products`` of an answer, by product id (empty today)."""
    return {id_text(p.get("product")): p for p in as_list(body.get("products"))}


def line_product(item: Mapping[str, Any], products: Mapping[str, JsonDict]) -> JsonDict:
    """A line's product: nested in the line (today), or found by its id in ``products``."""
    product = item.get("product")
    if isinstance(product, dict):
        return product
    return products.get(id_text(product), {})


def line_name(item: Mapping[str, Any], products: Mapping[str, JsonDict]) -> str:
    return text(item.get("productName")) or text(line_product(item, products).get("name"))


def line_brand(item: Mapping[str, Any], products: Mapping[str, JsonDict]) -> str:
    return text(item.get("brandName")) or text(line_product(item, products).get("brandName"))


def line_image(item: Mapping[str, Any], products: Mapping[str, JsonDict]) -> str:
    """The first image of the line's product (``media`` maps an image size to its URLs)."""
    for images in as_dict(line_product(item, products).get("media")).values():
        if isinstance(images, list) and images and isinstance(images[0], str):
            return images[0]
    return ""


def line_uri(item: Mapping[str, Any], products: Mapping[str, JsonDict]) -> str:
    return text(line_product(item, products).get("uri"))


# -- orders --------------------------------------------------------------------------------------


def order_of(body: Mapping[str, Any]) -> JsonDict | None:
    """The order an answer carries: nested under ``order`` (today), or the answer itself when
    ``order`` is its number (the seeds); None when it carries none."""
    order = body.get("order")
    if isinstance(order, dict):
        return order
    if id_text(order):
        return dict(body)
    return None


def order_number(body: Mapping[str, Any]) -> str:
    """The number of the order an answer carries, or "" when there is none."""
    order = order_of(body)
    return id_text(order.get("order")) if order is not None else ""


def orders_of(body: Mapping[str, Any]) -> list[JsonDict]:
    return as_list(body.get("orders"))


def orders_total(body: Mapping[str, Any]) -> int | None:
    total = as_dict(body.get("ordersPaging")).get("totalSize")
    return total if isinstance(total, int) and not isinstance(total, bool) else None


# -- the bag count -------------------------------------------------------------------------------


def cart_count(body: Mapping[str, Any], status: int) -> int | None:
    """Items in the selection an answer carries; 0 after an order; None when it says nothing."""
    selection = body.get("selection")
    if isinstance(selection, dict):
        quantity = as_dict(selection.get("totals")).get("totalQuantity")
        if isinstance(quantity, int) and not isinstance(quantity, bool):
            return max(0, quantity)
        items = selection.get("items")
        if isinstance(items, list):
            return sum(
                i["quantity"]
                for i in as_list(items)
                if isinstance(i.get("quantity"), int) and not isinstance(i["quantity"], bool)
            )
    if status < 300 and order_of(body) is not None:
        return 0  # a completed payment empties the selection
    return None


# -- payment fields ------------------------------------------------------------------------------


def field_visible(rule: Any) -> bool:
    """Whether Centra wants a payment field shown (``visible`` is today's; absent: shown)."""
    return not (isinstance(rule, dict) and rule.get("visible") is False)


def field_required(rule: Any) -> bool:
    return isinstance(rule, dict) and bool(rule.get("required"))
