"""Selection endpoints of the Checkout API: the selection, items, lines and vouchers.

Every successful answer is Centra's regular selection response (see
:func:`sandbox.customers.response`). A request is validated before anything changes, so a
4xx never leaves it half-applied (the bulk ``PUT items`` included). Location and language
are in :mod:`sandbox.location_api`; methods, checkout fields and payment in
:mod:`sandbox.payment_api`.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.addresses import MAX_FIELD_LENGTH
from sandbox.catalog import Catalog
from sandbox.customers import response
from sandbox.http import HttpError, Request, field_int, field_str, route
from sandbox.selection import (
    MAX_LINE_QUANTITY,
    MAX_LINES,
    Context,
    Line,
    NotPurchasable,
    Selection,
    find_voucher,
    new_line_id,
    purchasable,
    selection_of,
)
from sandbox.state import Session, Shop

API = "/api/checkout"
QUANTITY_RE = re.compile(r"[0-9]{1,6}")


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


def _check_bulk(
    sel: Selection, cat: Catalog, lines: list[tuple[str, int]], items: list[tuple[str, int]]
) -> None:
    """PUT items' checks before anything changes: 404 for unknown lines and items, 406 for
    an item already in the selection and for an id listed twice."""
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
    _check_bulk(sel, cat, lines, items)

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
