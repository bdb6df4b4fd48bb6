"""Checkout endpoints of the Checkout API: shipping and payment methods, checkout fields,
address search, payment, payment result and receipt.

The exceptions to "a 4xx changes nothing" are Centra's own: POST payment's 410 removes what
is out of stock, and an address country that differs from the session's moves the session to
it before the selection is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.addresses import AddressError, address_problems, clean_address
from sandbox.customers import Order as PlacedOrder
from sandbox.customers import accounts_of, current_customer, place_order, receipt_json
from sandbox.http import HttpError, Reply, Request, field_bool, field_str, route
from sandbox.payments import (
    PAYMENT_METHODS,
    Payment,
    decision_form,
    is_page_url,
    pay_url,
    payments_of,
)
from sandbox.selection import (
    SHIPPING_METHODS,
    Context,
    Selection,
    compute_totals,
    prune,
    selection_of,
)
from sandbox.selection_api import ok, set_quantity
from sandbox.selection_json import Money
from sandbox.state import Session, Shop

API = "/api/checkout"

# Klarna's Swedish test identity (seed: address search for Klarna invoice payments).
KLARNA_TEST_IDENTITY = "410321-9202"
KLARNA_TEST_ADDRESS = {
    "firstName": "Testperson-se",
    "lastName": "Approved",
    "address1": "Stårgatan 1",
    "zipCode": "12345",
    "city": "Ankeborg",
    "country": "SE",
}


# -- methods and checkout fields -------------------------------------------------------------


@route("PUT", f"{API}/shipping-methods/{{method}}")
def put_shipping_method(req: Request, shop: Shop) -> dict[str, Any]:
    if req.params["method"] not in SHIPPING_METHODS:
        raise HttpError(404, {"shippingMethod": "not found"})
    selection_of(req.session).shipping_method = req.params["method"]
    return ok(req, shop)


@route("PUT", f"{API}/payment-methods/{{method}}")
def put_payment_method(req: Request, shop: Shop) -> dict[str, Any]:
    if req.params["method"] not in PAYMENT_METHODS:
        raise HttpError(404, {"paymentMethod": "not found"})
    selection_of(req.session).payment_method = req.params["method"]
    return ok(req, shop)


def _addresses(body: dict[str, Any], sel: Selection) -> tuple[dict[str, str], dict[str, str]]:
    """The selection's address and shipping address with the body's fields merged in."""
    try:
        address = dict(sel.address)
        if body.get("address") is not None:
            address.update(clean_address(body["address"], "address"))
        shipping = dict(sel.shipping_address)
        if body.get("shippingAddress") is not None:
            shipping.update(clean_address(body["shippingAddress"], "shippingAddress"))
    except AddressError as e:
        raise HttpError(e.status, e.errors) from None
    return address, shipping


@route("PUT", f"{API}/payment-fields")
def put_payment_fields(req: Request, shop: Shop) -> dict[str, Any]:
    """Pre-fill checkout fields (``address``, ``shippingAddress``, ``newsletter``); only their
    types are checked here, completeness is checked by POST payment."""
    sel = selection_of(req.session)
    address, shipping = _addresses(req.body, sel)
    for key, fields in (("address", address), ("shippingAddress", shipping)):
        if fields.get("country") and fields["country"] not in shop.catalog.countries:
            raise HttpError(406, {key: {"country": "not valid"}})
    newsletter = field_bool(req.body, "newsletter", sel.newsletter)
    sel.address, sel.shipping_address, sel.newsletter = address, shipping, newsletter
    return ok(req, shop)


@route("POST", f"{API}/address-search")
def address_search(req: Request, shop: Shop) -> dict[str, Any]:
    number = field_str(req.body, "identityNumber").strip()
    if number.replace("-", "") != KLARNA_TEST_IDENTITY.replace("-", ""):
        raise HttpError(404, {"identityNumber": "no address found"})
    return {**ok(req, shop), "address": dict(KLARNA_TEST_ADDRESS)}


# -- payment ---------------------------------------------------------------------------------


@dataclass
class PaidSelection:
    """What a payment pays for: the selection as it was at POST payment, where it was priced,
    and who (if anyone) was logged in."""

    selection: Selection
    ctx: Context
    customer_id: int | None


def complete_payment(shop: Shop, session: Session, payment: Payment) -> PlacedOrder:
    paid: PaidSelection = payment.snapshot
    order = place_order(shop, paid.selection, paid.ctx, paid.customer_id)
    payment.status = "authorized"
    payment.order = order.id
    if paid.selection.newsletter:
        email = order.data["address"].get("email", "")
        accounts_of(shop).newsletter.append({"email": email, "country": paid.ctx.country})
    session.data["receipt"] = order.id
    session.data.pop("payment", None)
    selection_of(session).clear()
    return order


def _return_pages(body: dict[str, Any]) -> dict[str, str]:
    pages: dict[str, str] = {}
    for key in ("paymentReturnPage", "paymentFailedPage"):
        pages[key] = field_str(body, key).strip()
        if not is_page_url(pages[key]):
            raise HttpError(400, {key: "must be an absolute http(s) URL"})
    return pages


def _check_addresses(
    session: Session, shop: Shop, address: dict[str, str], shipping: dict[str, str]
) -> None:
    """Fill the address's country (and state) from the session's when not given, then 406
    with the problems of an incomplete address or shipping address."""
    cat = shop.catalog
    if not address.get("country"):
        address["country"] = session.country
    if address["country"] == session.country and not address.get("state") and session.state:
        address["state"] = session.state
    problems: dict[str, Any] = {}
    if address_problems(address, cat):
        problems["address"] = address_problems(address, cat)
    if shipping and address_problems(shipping, cat):
        problems["shippingAddress"] = address_problems(shipping, cat)
    if problems:
        raise HttpError(406, problems)


def _move_to_address_country(session: Session, shop: Shop, address: dict[str, str]) -> None:
    """The address country decides prices and taxes (Centra's docs): a different one than the
    session's moves the session there first, as PUT countries/{country} would, and the
    selection is checked again in the new market."""
    cat = shop.catalog
    if address["country"] != session.country:
        default_market, default_pricelist, _ = cat.country_context(address["country"])
        session.country, session.state = address["country"], address.get("state") or None
        session.market, session.pricelist = default_market, default_pricelist
    sel = selection_of(session)
    prune(sel, cat, Context.of(session))
    if not sel.lines:
        raise HttpError(406, {"selection": "is empty (nothing in it is sold in this country)"})
    country = cat.countries.get(session.country)
    if country is None or not country.ship_to:
        raise HttpError(406, {"country": "not shippable"})


def _check_stock(req: Request, shop: Shop, ctx: Context) -> None:
    """Final stock check (seed: 410 with "unavailable"; those quantities leave the selection)."""
    cat = shop.catalog
    unavailable: list[dict[str, Any]] = []
    for line in list(selection_of(req.session).lines):
        available = cat.sellable(line.item, ctx.market)
        if available is None or line.quantity <= available:
            continue  # infinite and preorder items are never short
        found = cat.find_item(line.item)
        unavailable.append(
            {
                "item": line.item,
                "product": found[0].id if found else "",
                "originalQuantity": line.quantity,
                "unavailable": line.quantity - available,
                "available": available,
            }
        )
        set_quantity(req.session, line, available)
    if unavailable:
        raise HttpError(
            410,
            {"stock": "some items are not available; they were removed from the selection"},
            {"unavailable": unavailable, **ok(req, shop)},
        )


@route("POST", f"{API}/payment")
def post_payment(req: Request, shop: Shop) -> dict[str, Any] | Reply:
    body = req.body
    session = req.session
    cat = shop.catalog
    sel = selection_of(session)

    pages = _return_pages(body)
    if not field_bool(body, "termsAndConditions", False):
        raise HttpError(406, {"termsAndConditions": "must be accepted"})
    method_id = field_str(body, "paymentMethod", sel.payment_method)
    if method_id not in PAYMENT_METHODS:
        raise HttpError(406, {"paymentMethod": "not valid"})
    shipping_id = field_str(body, "shippingMethod", sel.shipping_method)
    if shipping_id not in SHIPPING_METHODS:
        raise HttpError(406, {"shippingMethod": "not valid"})
    newsletter = field_bool(body, "newsletter", sel.newsletter)
    address, shipping = _addresses(body, sel)

    if not sel.lines:
        raise HttpError(406, {"selection": "is empty"})
    _check_addresses(session, shop, address, shipping)
    _move_to_address_country(session, shop, address)
    ctx = Context.of(session)

    sel.address, sel.shipping_address = address, shipping
    sel.payment_method, sel.shipping_method, sel.newsletter = method_id, shipping_id, newsletter
    _check_stock(req, shop, ctx)

    method = PAYMENT_METHODS[method_id]
    if method.action == "failed":
        # 402 as for a declined card: the answer has "errors", so its status is >= 400.
        return Reply(
            {"action": "failed", "errors": {"paymentMethod": "the payment was declined"}}, 402
        )
    customer = current_customer(shop, session)
    totals = compute_totals(sel, cat, ctx)
    payment = payments_of(shop).start(
        method=method_id,
        session_token=session.token,
        return_page=pages["paymentReturnPage"],
        failed_page=pages["paymentFailedPage"],
        amount=Money(cat, ctx.pricelist).text(totals.grand_total),
        snapshot=PaidSelection(sel.snapshot(), ctx, customer.id if customer else None),
    )
    # Only the latest payment of a session can complete: an older, abandoned one is refused.
    session.data["payment"] = payment.ref
    base = shop.config.base_url
    if method.action == "success":
        order = complete_payment(shop, session, payment)
        return {"action": "success", **receipt_json(shop, order, session)}
    if method.action == "redirect":
        return {"action": "redirect", "url": pay_url(base, payment)}
    return {"action": "form", "formHtml": decision_form(base, payment)}


@route("POST", f"{API}/payment-result")
def post_payment_result(req: Request, shop: Shop) -> dict[str, Any]:
    fields = req.body.get("paymentMethodFields")
    if not isinstance(fields, dict):
        raise HttpError(400, {"paymentMethodFields": "required, an object"})
    session = req.session
    ref = fields.get("orderRef")
    payment = payments_of(shop).by_ref.get(ref) if isinstance(ref, str) else None
    if payment is None or payment.session_token != session.token:
        raise HttpError(406, {"paymentMethodFields": "unknown payment reference"})
    if (
        fields.get("transaction_id") != payment.transaction
        or fields.get("paymentMethod") != payment.method
    ):
        raise HttpError(
            406, {"paymentMethodFields": "do not match the payment: pass them on unchanged"}
        )
    accounts = accounts_of(shop)
    if payment.order is not None:  # the same payment again: the same order, not a new one
        return receipt_json(shop, accounts.orders[payment.order], session)
    if payment.status == "cancelled":
        raise HttpError(406, {"payment": "cancelled"})
    if payment.status != "authorized":
        raise HttpError(406, {"payment": "not completed"})
    if session.data.get("payment") != payment.ref:
        raise HttpError(406, {"payment": "replaced by a newer payment"})
    order = complete_payment(shop, session, payment)
    return receipt_json(shop, order, session)


@route("GET", f"{API}/receipt")
def get_receipt(req: Request, shop: Shop) -> dict[str, Any]:
    order_id = req.session.data.get("receipt")
    order = accounts_of(shop).orders.get(order_id) if isinstance(order_id, str) else None
    if order is None:
        raise HttpError(404, {"receipt": "no order placed in this session"})
    return receipt_json(shop, order, req.session)
