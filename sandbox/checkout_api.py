"""Selection endpoints of the Checkout API: items, lines, vouchers, location and language,
shipping and payment methods, checkout fields, payment, payment result and receipt.

Every successful answer is Centra's regular selection response (see
:func:`sandbox.customers.response`). A request is validated before anything changes, so a
4xx never leaves it half-applied (the bulk ``PUT items`` included). The exceptions are
Centra's own: POST payment's 410 removes what is out of stock, and an address country that
differs from the session's moves the session to it before the selection is checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandbox.customers import Order as PlacedOrder
from sandbox.customers import accounts_of, current_customer, place_order, receipt_json, response
from sandbox.http import HttpError, Reply, Request, field_bool, field_int, field_str, route
from sandbox.payments import (
    PAYMENT_METHODS,
    Payment,
    decision_form,
    is_page_url,
    pay_url,
    payments_of,
)
from sandbox.selection import (
    MAX_FIELD_LENGTH,
    MAX_LINE_QUANTITY,
    MAX_LINES,
    SHIPPING_METHODS,
    AddressError,
    Context,
    Line,
    Money,
    NotPurchasable,
    Selection,
    address_problems,
    clean_address,
    compute_totals,
    find_voucher,
    new_line_id,
    prune,
    purchasable,
    selection_of,
)
from sandbox.state import Session, Shop

API = "/api/checkout"
QUANTITY_RE = re.compile(r"[0-9]{1,6}")

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


def ok(req: Request, shop: Shop) -> dict[str, Any]:
    return response(req.session, shop)


# -- helpers ---------------------------------------------------------------------------------


def path_quantity(text: str, minimum: int) -> int:
    if not QUANTITY_RE.fullmatch(text):
        raise HttpError(400, {"quantity": "must be a whole number"})
    quantity = int(text)
    if not minimum <= quantity <= MAX_LINE_QUANTITY:
        raise HttpError(400, {"quantity": f"must be from {minimum} to {MAX_LINE_QUANTITY}"})
    return quantity


def add_item(shop: Shop, session: Session, item_id: str, quantity: int) -> None:
    """Add to the item's line (one line per item), or start a new line."""
    sel = selection_of(session)
    try:
        purchasable(shop.catalog, item_id, Context.of(session))
    except NotPurchasable as e:
        raise HttpError(e.status, e.errors) from None
    line = sel.line_for_item(item_id)
    if line is not None:
        if line.quantity + quantity > MAX_LINE_QUANTITY:
            raise HttpError(406, {"quantity": f"at most {MAX_LINE_QUANTITY} per line"})
        line.quantity += quantity
        return
    if len(sel.lines) >= MAX_LINES:
        raise HttpError(406, {"items": f"at most {MAX_LINES} lines in a selection"})
    sel.lines.append(Line(new_line_id(), item_id, quantity))


def find_line(session: Session, line_id: str) -> Line:
    line = selection_of(session).line(line_id)
    if line is None:
        raise HttpError(404, {"line": "not found"})
    return line


def set_quantity(session: Session, line: Line, quantity: int) -> None:
    if quantity <= 0:
        selection_of(session).lines.remove(line)
    else:
        line.quantity = quantity


# -- selection -------------------------------------------------------------------------------


@route("GET", f"{API}/selection")
def get_selection(req: Request, shop: Shop) -> dict[str, Any]:
    return ok(req, shop)


@route("POST", f"{API}/items/{{item}}")
def post_item(req: Request, shop: Shop) -> dict[str, Any]:
    add_item(shop, req.session, req.params["item"], 1)
    return ok(req, shop)


@route("POST", f"{API}/items/{{item}}/quantity/{{quantity}}")
def post_item_quantity(req: Request, shop: Shop) -> dict[str, Any]:
    quantity = path_quantity(req.params["quantity"], 1)
    add_item(shop, req.session, req.params["item"], quantity)
    return ok(req, shop)


def _bulk_entries(
    body: dict[str, Any], key: str, id_key: str, minimum: int
) -> list[tuple[str, int]]:
    value = body.get(key, [])
    if not isinstance(value, list):
        raise HttpError(400, {key: "must be an array"})
    out: list[tuple[str, int]] = []
    for n, entry in enumerate(value):
        where = f"{key}[{n}]"
        if not isinstance(entry, dict):
            raise HttpError(400, {where: "must be an object"})
        ident = entry.get(id_key)
        if not isinstance(ident, str) or not ident:
            raise HttpError(400, {f"{where}.{id_key}": "required, a string"})
        quantity = entry.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise HttpError(400, {f"{where}.quantity": "required, an integer"})
        if not minimum <= quantity <= MAX_LINE_QUANTITY:
            raise HttpError(
                400, {f"{where}.quantity": f"must be from {minimum} to {MAX_LINE_QUANTITY}"}
            )
        out.append((ident, quantity))
    return out


@route("PUT", f"{API}/items")
def put_items(req: Request, shop: Shop) -> dict[str, Any]:
    """The seed's bulk update: 400 malformed, 404 unknown line/item, 406 an item already in
    the selection (use its line); otherwise 200, with ``errors`` listing the operations that
    failed (an item not purchasable in this market/pricelist, or no room for another line)."""
    body = req.body
    if "lines" not in body and "items" not in body:
        raise HttpError(
            400, {"lines": "lines and/or items required", "items": "lines and/or items required"}
        )
    lines = _bulk_entries(body, "lines", "line", 0)
    items = _bulk_entries(body, "items", "item", 1)
    sel = selection_of(req.session)
    cat = shop.catalog

    missing_lines = {lid: "not found" for lid, _ in lines if sel.line(lid) is None}
    missing_items = {
        iid: "product item not found" for iid, _ in items if cat.find_item(iid) is None
    }
    if missing_lines or missing_items:
        errors: dict[str, Any] = {}
        if missing_lines:
            errors["lines"] = missing_lines
        if missing_items:
            errors["items"] = missing_items
        raise HttpError(404, errors)

    conflicts: dict[str, str] = {}
    seen: set[str] = set()
    for iid, _ in items:
        if sel.line_for_item(iid) is not None:
            conflicts[iid] = "already in the selection: update its line instead"
        elif iid in seen:
            conflicts[iid] = "listed more than once"
        seen.add(iid)
    line_ids = [lid for lid, _ in lines]
    twice = {lid: "listed more than once" for lid in line_ids if line_ids.count(lid) > 1}
    if conflicts or twice:
        errors = {}
        if conflicts:
            errors["items"] = conflicts
        if twice:
            errors["lines"] = twice
        raise HttpError(406, errors)

    failed: list[dict[str, Any]] = []
    for lid, quantity in lines:
        line = sel.line(lid)
        assert line is not None  # checked above; nothing ran in between
        set_quantity(req.session, line, quantity)
    ctx = Context.of(req.session)
    for iid, quantity in items:
        try:
            purchasable(cat, iid, ctx)
        except NotPurchasable:
            failed.append({"item": iid, "quantity": quantity})
            continue
        if len(sel.lines) >= MAX_LINES:
            failed.append({"item": iid, "quantity": quantity})
            continue
        sel.lines.append(Line(new_line_id(), iid, quantity))
    out = ok(req, shop)
    if failed:
        out["errors"] = failed
    return out


# -- lines -----------------------------------------------------------------------------------


@route("POST", f"{API}/lines/{{line}}")
def post_line(req: Request, shop: Shop) -> dict[str, Any]:
    """Centra: increase the line's quantity by one."""
    line = find_line(req.session, req.params["line"])
    if line.quantity + 1 > MAX_LINE_QUANTITY:
        raise HttpError(406, {"quantity": f"at most {MAX_LINE_QUANTITY} per line"})
    line.quantity += 1
    return ok(req, shop)


@route("POST", f"{API}/lines/{{line}}/quantity/{{quantity}}")
def post_line_quantity(req: Request, shop: Shop) -> dict[str, Any]:
    """Centra: increase the line's quantity by ``quantity``."""
    line = find_line(req.session, req.params["line"])
    quantity = path_quantity(req.params["quantity"], 1)
    if line.quantity + quantity > MAX_LINE_QUANTITY:
        raise HttpError(406, {"quantity": f"at most {MAX_LINE_QUANTITY} per line"})
    line.quantity += quantity
    return ok(req, shop)


@route("PUT", f"{API}/lines/{{line}}")
def put_line(req: Request, shop: Shop) -> dict[str, Any]:
    """Update a line from the body: ``quantity`` (0 removes it) and/or ``comment`` (Centra's
    per-line comment, e.g. an engraving)."""
    line = find_line(req.session, req.params["line"])
    body = req.body
    if "quantity" not in body and "comment" not in body:
        raise HttpError(400, {"quantity": "quantity and/or comment required"})
    quantity = field_int(body, "quantity", line.quantity, minimum=0)
    if quantity > MAX_LINE_QUANTITY:
        raise HttpError(400, {"quantity": f"must be from 0 to {MAX_LINE_QUANTITY}"})
    comment = field_str(body, "comment", line.comment)
    if len(comment) > MAX_FIELD_LENGTH:
        raise HttpError(400, {"comment": f"at most {MAX_FIELD_LENGTH} characters"})
    line.comment = comment
    set_quantity(req.session, line, quantity)
    return ok(req, shop)


@route("PUT", f"{API}/lines/{{line}}/quantity/{{quantity}}")
def put_line_quantity(req: Request, shop: Shop) -> dict[str, Any]:
    """Set the quantity; 0 removes the line."""
    line = find_line(req.session, req.params["line"])
    set_quantity(req.session, line, path_quantity(req.params["quantity"], 0))
    return ok(req, shop)


@route("DELETE", f"{API}/lines/{{line}}")
def delete_line(req: Request, shop: Shop) -> dict[str, Any]:
    """Remove the whole line."""
    line = find_line(req.session, req.params["line"])
    selection_of(req.session).lines.remove(line)
    return ok(req, shop)


@route("DELETE", f"{API}/lines/{{line}}/quantity/{{quantity}}")
def delete_line_quantity(req: Request, shop: Shop) -> dict[str, Any]:
    """Decrease the quantity; reaching 0 removes the line."""
    line = find_line(req.session, req.params["line"])
    quantity = path_quantity(req.params["quantity"], 1)
    set_quantity(req.session, line, line.quantity - quantity)
    return ok(req, shop)


# -- vouchers --------------------------------------------------------------------------------


@route("POST", f"{API}/vouchers")
def post_voucher(req: Request, shop: Shop) -> dict[str, Any]:
    code = field_str(req.body, "voucher").strip()
    if not code:
        raise HttpError(400, {"voucher": "required"})
    voucher = find_voucher(code)
    if voucher is None:
        raise HttpError(406, {"voucher": "not valid"})
    sel = selection_of(req.session)
    if voucher.code not in sel.vouchers:  # adding an applied code again changes nothing
        sel.vouchers.append(voucher.code)
    return ok(req, shop)


def remove_voucher(req: Request, shop: Shop, code: str) -> dict[str, Any]:
    sel = selection_of(req.session)
    voucher = find_voucher(code)
    if voucher is None or voucher.code not in sel.vouchers:
        raise HttpError(404, {"voucher": "not found"})
    sel.vouchers.remove(voucher.code)
    return ok(req, shop)


@route("DELETE", f"{API}/vouchers/{{voucher}}")
def delete_voucher(req: Request, shop: Shop) -> dict[str, Any]:
    return remove_voucher(req, shop, req.params["voucher"])


@route("DELETE", f"{API}/vouchers")
def delete_voucher_in_body(req: Request, shop: Shop) -> dict[str, Any]:
    """Centra's other form: the code in a JSON body, so it never has to be URL-encoded."""
    code = field_str(req.body, "voucher").strip()
    if not code:
        raise HttpError(400, {"voucher": "required"})
    return remove_voucher(req, shop, code)


# -- location and language -------------------------------------------------------------------


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


@route("POST", f"{API}/payment")
def post_payment(req: Request, shop: Shop) -> dict[str, Any] | Reply:
    body = req.body
    session = req.session
    cat = shop.catalog
    sel = selection_of(session)

    pages: dict[str, str] = {}
    for key in ("paymentReturnPage", "paymentFailedPage"):
        pages[key] = field_str(body, key).strip()
        if not is_page_url(pages[key]):
            raise HttpError(400, {key: "must be an absolute http(s) URL"})
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

    # The address country decides prices and taxes (Centra's docs): a different one than the
    # session's moves the session there first, as PUT countries/{country} would, and the
    # selection is checked again in the new market.
    if address["country"] != session.country:
        default_market, default_pricelist, _ = cat.country_context(address["country"])
        session.country, session.state = address["country"], address.get("state") or None
        session.market, session.pricelist = default_market, default_pricelist
    ctx = Context.of(session)
    prune(sel, cat, ctx)
    if not sel.lines:
        raise HttpError(406, {"selection": "is empty (nothing in it is sold in this country)"})
    country = cat.countries.get(session.country)
    if country is None or not country.ship_to:
        raise HttpError(406, {"country": "not shippable"})

    sel.address, sel.shipping_address = address, shipping
    sel.payment_method, sel.shipping_method, sel.newsletter = method_id, shipping_id, newsletter

    # Final stock check (seed: 410 with "unavailable"; those quantities leave the selection).
    unavailable: list[dict[str, Any]] = []
    for line in list(sel.lines):
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
        set_quantity(session, line, available)
    if unavailable:
        raise HttpError(
            410,
            {"stock": "some items are not available; they were removed from the selection"},
            {"unavailable": unavailable, **ok(req, shop)},
        )

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
