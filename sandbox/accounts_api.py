"""Customer endpoints of the Checkout API (register, login, logout, password reset, address,
email, password, orders, newsletter) and the sandbox's mail outbox and shipping controls."""

from __future__ import annotations

import re
from typing import Any

from sandbox.customers import (
    DEFAULT_RESET_URI,
    accounts_of,
    check_password,
    current_customer,
    customer_fields,
    email_ok,
    hash_password,
    logged_in_json,
    login,
    logout,
    password_ok,
    require_customer,
    response,
    send_reset_mail,
    ship,
)
from sandbox.http import HttpError, Request, field_bool, field_int, field_str, route
from sandbox.selection import Context
from sandbox.selection_json import products_json
from sandbox.state import Shop

API = "/api/checkout"
# linkUri is a path on the frontend (Centra: "you cannot send emails ... to other domains").
LINK_URI_RE = re.compile(r"[A-Za-z0-9._~\-]+(/[A-Za-z0-9._~\-]+)*")
MAX_PAGE_SIZE = 1000
# Checked against when the email is unknown, so a login costs the same either way.
_DUMMY_HASH = hash_password("not-a-real-password")


def _email(value: str) -> str:
    email = value.strip()
    if not email_ok(email):
        raise HttpError(406, {"email": "not valid"})
    return email


# -- register, login, logout -----------------------------------------------------------------


@route("POST", f"{API}/register")
def register(req: Request, shop: Shop) -> dict[str, Any]:
    body = req.body
    email = _email(field_str(body, "email"))
    password = field_str(body, "password")
    address = customer_fields(body, shop)
    newsletter = field_bool(body, "newsletter", False)
    acc = accounts_of(shop)
    if acc.find(email) is not None:
        raise HttpError(409, {"email": "already registered"})
    if not password_ok(password):
        raise HttpError(406, {"password": "not valid"})
    customer = acc.add(email, password, address)
    customer.newsletter = newsletter
    customer.language = req.session.language
    login(shop, req.session, customer)
    return response(req.session, shop)


@route("POST", f"{API}/login/{{email}}")
def login_route(req: Request, shop: Shop) -> dict[str, Any]:
    password = field_str(req.body, "password")
    customer = accounts_of(shop).find(req.params["email"])
    # The same answer for an unknown email and a wrong password (seed): nothing is revealed.
    if not check_password(customer.password if customer else _DUMMY_HASH, password) or not customer:
        raise HttpError(406, {"password": "incorrect"})
    login(shop, req.session, customer)
    return response(req.session, shop)


@route("POST", f"{API}/logout")
def logout_route(req: Request, shop: Shop) -> dict[str, Any]:
    logout(req.session)
    return response(req.session, shop)


# -- password reset --------------------------------------------------------------------------


@route("POST", f"{API}/password-reset-email/{{email}}")
def password_reset_email(req: Request, shop: Shop) -> dict[str, Any]:
    link_uri = field_str(req.body, "linkUri", DEFAULT_RESET_URI).strip().strip("/")
    if not LINK_URI_RE.fullmatch(link_uri) or ".." in link_uri.split("/"):
        raise HttpError(400, {"linkUri": "must be a path on the frontend, e.g. account/reset"})
    customer = accounts_of(shop).find(req.params["email"])
    if customer is None:
        # The seed: login never tells whether a customer exists, "you will find out if you
        # use register or password-reset-email" -- so this one does.
        raise HttpError(404, {"email": "not found"})
    send_reset_mail(shop, customer, link_uri)
    return response(req.session, shop)


@route("POST", f"{API}/password-reset")
def password_reset(req: Request, shop: Shop) -> dict[str, Any]:
    body = req.body
    reset_id = field_str(body, "id").strip()
    hash_ = field_str(body, "i").strip()
    new_password = field_str(body, "newPassword")
    acc = accounts_of(shop)
    reset = acc.resets.get(reset_id)
    if reset is None or reset.used or reset.hash != hash_ or reset.customer not in acc.customers:
        raise HttpError(406, {"i": "not valid or already used"})
    if not password_ok(new_password):
        raise HttpError(406, {"newPassword": "not valid"})
    customer = acc.customers[reset.customer]
    customer.password = hash_password(new_password)
    reset.used = True
    login(shop, req.session, customer)
    return response(req.session, shop)


# -- the logged-in customer ------------------------------------------------------------------


@route("GET", f"{API}/customer")
def get_customer(req: Request, shop: Shop) -> dict[str, Any]:
    customer = require_customer(shop, req.session)
    return {
        **response(req.session, shop),
        "customer": {**logged_in_json(shop, customer), "newsletter": customer.newsletter},
    }


@route("PUT", f"{API}/address")
def put_address(req: Request, shop: Shop) -> dict[str, Any]:
    customer = require_customer(shop, req.session)
    customer.address.update(customer_fields(req.body, shop))
    return response(req.session, shop)


@route("PUT", f"{API}/email")
def put_email(req: Request, shop: Shop) -> dict[str, Any]:
    customer = require_customer(shop, req.session)
    key = "newEmail" if "newEmail" in req.body else "email"
    email = _email(field_str(req.body, key))
    acc = accounts_of(shop)
    other = acc.find(email)
    if other is not None and other.id != customer.id:
        raise HttpError(409, {"email": "already registered"})
    acc.change_email(customer, email)
    req.session.customer = customer.email
    return response(req.session, shop)


@route("PUT", f"{API}/password")
def put_password(req: Request, shop: Shop) -> dict[str, Any]:
    customer = require_customer(shop, req.session)
    old = field_str(req.body, "password")
    new = field_str(req.body, "newPassword")
    if not check_password(customer.password, old):
        raise HttpError(406, {"password": "incorrect"})
    if not password_ok(new):
        raise HttpError(406, {"newPassword": "not valid"})
    customer.password = hash_password(new)
    return response(req.session, shop)


@route("POST", f"{API}/orders")
def post_orders(req: Request, shop: Shop) -> dict[str, Any]:
    """The customer's orders, newest first; ``from``/``size`` page them (all without)."""
    customer = require_customer(shop, req.session)
    start = field_int(req.body, "from", 0)
    total = len(customer.orders)
    size = field_int(req.body, "size", total)
    if size > MAX_PAGE_SIZE and "size" in req.body:
        raise HttpError(400, {"size": f"at most {MAX_PAGE_SIZE}"})
    acc = accounts_of(shop)
    newest_first = list(reversed(customer.orders))
    orders = [acc.orders[oid] for oid in newest_first[start : start + size]]
    ctx = Context.of(req.session)
    order_products = [pid for o in orders for pid in o.product_ids]
    return shop.catalog.shapes.orders_response(
        response(req.session, shop),
        [(o.as_json(), o.products, o.ctx.language) for o in orders],
        {"from": start, "size": size, "totalSize": total},
        products_json(shop.catalog, order_products, ctx),
    )


# -- newsletter ------------------------------------------------------------------------------


def _subscribe(req: Request, shop: Shop, email: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"email": _email(email)}
    for key in ("country", "language", "product", "item"):
        if req.body.get(key) is not None:
            entry[key] = field_str(req.body, key)
    accounts_of(shop).newsletter.append(entry)
    customer = current_customer(shop, req.session)
    if customer is not None and customer.email.lower() == entry["email"].lower():
        customer.newsletter = True
    # "subscribed": what clients check; neither the seeds nor today's types show this answer,
    # so both dialects send it (sandbox/README.md, "Dialects").
    return {**response(req.session, shop), "subscribed": True}


@route("POST", f"{API}/newsletter-subscription")
def newsletter(req: Request, shop: Shop) -> dict[str, Any]:
    return _subscribe(req, shop, field_str(req.body, "email"))


@route("POST", f"{API}/newsletter-subscription/{{email}}")
def newsletter_email(req: Request, shop: Shop) -> dict[str, Any]:
    return _subscribe(req, shop, req.params["email"])


# -- sandbox controls (shared secret) --------------------------------------------------------


@route("GET", "/sandbox/outbox")
def outbox_get(req: Request, shop: Shop) -> dict[str, Any]:
    return {"mails": [dict(m) for m in accounts_of(shop).outbox]}


@route("DELETE", "/sandbox/outbox")
def outbox_clear(req: Request, shop: Shop) -> dict[str, Any]:
    accounts_of(shop).outbox.clear()
    return {"mails": []}


@route("GET", "/sandbox/newsletter")
def newsletter_get(req: Request, shop: Shop) -> dict[str, Any]:
    return {"subscriptions": [dict(s) for s in accounts_of(shop).newsletter]}


@route("POST", "/sandbox/orders/{order}/shipments")
def order_ship(req: Request, shop: Shop) -> dict[str, Any]:
    """Ship an order (status "shipped", a shipment with a tracking link)."""
    order = accounts_of(shop).orders.get(req.params["order"])
    if order is None:
        raise HttpError(404, {"order": "not found"})
    carrier = field_str(req.body, "carrier", "PostNord")
    service = field_str(req.body, "service", "MyPack Home")
    ship(order, carrier, service)
    return {"order": order.as_json()}
