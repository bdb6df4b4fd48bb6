"""Customers, their saved selections, orders, password resets and the sandbox mail outbox.

A logged-in session holds the customer's id in ``session.data["customer_id"]`` (and the email
in ``session.customer``, kept in step). The customer's selection object is shared by all their
sessions: what one session adds, another sees ("log in on a different computer and you have
the same items").

Passwords are stored salted and hashed, even in a sandbox, so a dump of its state shows none.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from sandbox.addresses import EMAIL_RE, MAX_FIELD_LENGTH
from sandbox.http import HttpError
from sandbox.selection import (
    MAX_LINE_QUANTITY,
    MAX_LINES,
    Context,
    Line,
    Selection,
    selection_of,
)
from sandbox.selection_json import (
    build_response,
    language_json,
    location_json,
    order_json,
    products_json,
)
from sandbox.state import Session, Shop

MIN_PASSWORD_LENGTH = 6  # Centra's rule is unknown ("not good enough"); ours: 6 to 200 chars
MAX_PASSWORD_LENGTH = 200
DEFAULT_RESET_URI = "password-reset"
# The loggedIn object of the seed, minus the email.
CUSTOMER_FIELDS = (
    "firstName",
    "lastName",
    "address1",
    "address2",
    "zipCode",
    "city",
    "state",
    "country",
    "phoneNumber",
)

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo1234"  # noqa: S105 - the documented demo account
DEMO_ORDERS = 7


@dataclass
class Customer:
    id: int
    email: str
    password: str  # "salt$hex digest"
    address: dict[str, str]
    newsletter: bool = False
    language: str | None = None  # the language the customer registered in (LoggedIn.language)
    selection: Selection = field(default_factory=Selection)
    orders: list[str] = field(default_factory=list)  # order ids, oldest first


@dataclass
class Order:
    id: str
    data: dict[str, Any]  # the order as placed (frozen prices); status/shipments change
    customer: int | None
    ctx: Context
    product_ids: list[str]
    # The lines' products as they were when the order was placed (today's Centra nests them in
    # the order's lines), keyed by product id.
    products: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {**self.data, "shipments": [dict(s) for s in self.data["shipments"]]}


@dataclass
class Reset:
    id: str
    customer: int
    hash: str
    used: bool = False


class Accounts:
    def __init__(self) -> None:
        self.customers: dict[int, Customer] = {}
        self.by_email: dict[str, int] = {}  # lower-cased email -> customer id
        self.orders: dict[str, Order] = {}
        self.resets: dict[str, Reset] = {}
        self.outbox: list[dict[str, Any]] = []
        self.newsletter: list[dict[str, Any]] = []
        self._next_customer = 1
        self._next_order = 1001
        self._next_reset = 1

    # -- customers ---------------------------------------------------------------------------

    def find(self, email: str) -> Customer | None:
        cid = self.by_email.get(email.strip().lower())
        return self.customers.get(cid) if cid is not None else None

    def add(self, email: str, password: str, address: dict[str, str]) -> Customer:
        customer = Customer(self._next_customer, email.strip(), hash_password(password), address)
        self._next_customer += 1
        self.customers[customer.id] = customer
        self.by_email[customer.email.lower()] = customer.id
        return customer

    def change_email(self, customer: Customer, email: str) -> None:
        del self.by_email[customer.email.lower()]
        customer.email = email.strip()
        self.by_email[customer.email.lower()] = customer.id

    # -- orders ------------------------------------------------------------------------------

    def next_order_id(self) -> str:
        order_id = str(self._next_order)
        self._next_order += 1
        return order_id

    # -- password resets ---------------------------------------------------------------------

    def new_reset(self, customer: Customer) -> Reset:
        # A new mail makes the customer's earlier links useless: only the latest one works.
        for r in self.resets.values():
            if r.customer == customer.id:
                r.used = True
        reset = Reset(str(self._next_reset), customer.id, secrets.token_hex(16))
        self._next_reset += 1
        self.resets[reset.id] = reset
        return reset


_STORES: weakref.WeakKeyDictionary[Shop, Accounts] = weakref.WeakKeyDictionary()


def accounts_of(shop: Shop) -> Accounts:
    """The shop's accounts, created (with the demo customer) on first use."""
    store = _STORES.get(shop)
    if store is None:
        store = _STORES[shop] = Accounts()
        seed_demo(shop, store)
    return store


# -- passwords and validation ----------------------------------------------------------------


def hash_password(password: str) -> str:
    salt = secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 20_000).hex()
    return f"{salt}${digest}"


def check_password(stored: str, password: str) -> bool:
    salt, _, digest = stored.partition("$")
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 20_000).hex()
    return hmac.compare_digest(candidate, digest)


def password_ok(password: str) -> bool:
    return MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH


def email_ok(email: str) -> bool:
    return len(email) <= MAX_FIELD_LENGTH and bool(EMAIL_RE.match(email))


def customer_fields(body: dict[str, Any], shop: Shop) -> dict[str, str]:
    """Address fields from a request body: flat (``firstName``, ...) or in an ``address``
    object (which wins). 400 for wrong types, 406 for an unknown country."""
    merged: dict[str, Any] = {k: body[k] for k in CUSTOMER_FIELDS if k in body}
    nested = body.get("address")
    if nested is not None:
        if not isinstance(nested, dict):
            raise HttpError(400, {"address": "must be an object"})
        merged.update({k: nested[k] for k in CUSTOMER_FIELDS if k in nested})
    out: dict[str, str] = {}
    for name, value in merged.items():
        if value is None:
            value = ""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise HttpError(400, {name: "must be a string"})
        if len(value) > MAX_FIELD_LENGTH:
            raise HttpError(400, {name: f"at most {MAX_FIELD_LENGTH} characters"})
        out[name] = value.strip()
    if out.get("country"):
        out["country"] = out["country"].upper()
        if out["country"] not in shop.catalog.countries:
            raise HttpError(406, {"country": "not valid"})
    if out.get("state"):
        out["state"] = out["state"].upper()
    return out


# -- sessions --------------------------------------------------------------------------------


def current_customer(shop: Shop, session: Session) -> Customer | None:
    cid = session.data.get("customer_id")
    customer = accounts_of(shop).customers.get(cid) if isinstance(cid, int) else None
    session.customer = customer.email if customer else None
    return customer


def require_customer(shop: Shop, session: Session) -> Customer:
    customer = current_customer(shop, session)
    if customer is None:
        raise HttpError(403, {"accessRight": "denied"})
    return customer


def logged_in_json(shop: Shop, customer: Customer) -> dict[str, Any]:
    fields = {"email": customer.email, **{k: customer.address.get(k, "") for k in CUSTOMER_FIELDS}}
    return shop.catalog.shapes.logged_in(
        fields, language=customer.language, newsletter=customer.newsletter
    )


def response(session: Session, shop: Shop) -> dict[str, Any]:
    """The regular selection response of a session, with ``loggedIn`` when logged in."""
    customer = current_customer(shop, session)
    return build_response(
        selection_of(session),
        shop.catalog,
        Context.of(session),
        logged_in_json(shop, customer) if customer else None,
    )


def merge_into(saved: Selection, current: Selection) -> None:
    """The seed: a login keeps the saved items and adds the ones of the current selection."""
    for ln in current.lines:
        existing = saved.line_for_item(ln.item)
        if existing is not None:
            existing.quantity = min(MAX_LINE_QUANTITY, existing.quantity + ln.quantity)
        elif len(saved.lines) < MAX_LINES:
            saved.lines.append(Line(ln.id, ln.item, ln.quantity, ln.comment))
    for code in current.vouchers:
        if code not in saved.vouchers:
            saved.vouchers.append(code)
    # The choices made in this session just before logging in are the fresher ones.
    saved.shipping_method = current.shipping_method
    saved.payment_method = current.payment_method
    if current.address:
        saved.address = dict(current.address)
    if current.shipping_address:
        saved.shipping_address = dict(current.shipping_address)


def login(shop: Shop, session: Session, customer: Customer) -> None:
    previous = current_customer(shop, session)
    if previous is not None and previous.id != customer.id:
        logout(session)  # never carry one customer's items into another's account
    saved = customer.selection
    current = selection_of(session)
    if current is not saved:
        merge_into(saved, current)
    session.data["selection"] = saved
    session.data["customer_id"] = customer.id
    session.customer = customer.email


def logout(session: Session) -> None:
    """The seed: the login is removed from the token and the selection is empty (the
    customer's saved selection keeps its items for the next login)."""
    session.data.pop("customer_id", None)
    session.customer = None
    session.data["selection"] = Selection()


# -- orders ----------------------------------------------------------------------------------


def now_text() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


def place_order(
    shop: Shop,
    snapshot: Selection,
    ctx: Context,
    customer_id: int | None,
    date: str | None = None,
    take_stock: bool = True,
) -> Order:
    """Turn a paid selection snapshot into an order and take its items from stock."""
    acc = accounts_of(shop)
    cat = shop.catalog
    order_id = acc.next_order_id()
    data = order_json(snapshot, cat, ctx, order_id=order_id, date=date or now_text())
    product_ids: list[str] = []
    for line in data["items"]:
        product_ids.append(line["product"])
        if take_stock and cat.find_item(line["item"]) is not None:
            cat.set_stock(
                line["item"], ctx.market, cat.stock(line["item"], ctx.market) - line["quantity"]
            )
    products = {p["product"]: p for p in products_json(cat, product_ids, ctx)}
    order = Order(order_id, data, customer_id, ctx, product_ids, products)
    acc.orders[order_id] = order
    customer = acc.customers.get(customer_id) if customer_id is not None else None
    if customer is not None:
        customer.orders.append(order_id)
    return order


def ship(
    order: Order, carrier: str = "PostNord", service: str = "MyPack Home", date: str | None = None
) -> dict[str, Any]:
    tracking = f"SBX{order.id}{len(order.data['shipments']) + 1:02d}"
    shipment = {
        "shippedDate": date or now_text(),
        "carrier": carrier,
        "service": service,
        "trackingId": tracking,
        "trackingUrl": f"https://tracking.example.com/track?id={tracking}",
    }
    order.data["shipments"].append(shipment)
    order.data["status"] = "shipped"
    order.data["statusDescription"] = "Shipped"
    return shipment


def receipt_json(shop: Shop, order: Order, session: Session) -> dict[str, Any]:
    """The payment-result / receipt answer: the order's fields at the top level (seed: token,
    order, status, ...) plus its products and the session's location and language."""
    ctx = Context.of(session)
    out = order.as_json()
    out["products"] = products_json(shop.catalog, order.product_ids, order.ctx)
    out["location"] = location_json(shop.catalog, ctx)
    out["language"] = language_json(shop.catalog, ctx.language)
    customer = current_customer(shop, session)
    if customer is not None:
        out["loggedIn"] = logged_in_json(shop, customer)
    return shop.catalog.shapes.receipt(
        out,
        products=order.products,
        order_language=order.ctx.language,
        catalog=shop.catalog,
        ctx=ctx,
    )


# -- mail ------------------------------------------------------------------------------------


def send_reset_mail(shop: Shop, customer: Customer, link_uri: str) -> dict[str, Any]:
    reset = accounts_of(shop).new_reset(customer)
    link = f"{shop.config.frontend_url}/{link_uri}?id={reset.id}&i={reset.hash}"
    mail = {
        "to": customer.email,
        "subject": "Reset your password",
        "body": f"Hello,\n\nFollow this link to choose a new password:\n{link}\n",
        "link": link,
        "id": reset.id,
        "i": reset.hash,
    }
    accounts_of(shop).outbox.append(mail)
    return mail


# -- the demo customer -----------------------------------------------------------------------


def seed_demo(shop: Shop, acc: Accounts) -> None:
    """A customer with an order history (some orders shipped), so order pages and paging can
    be tried without placing orders first. Built from the catalog; stock is not touched."""
    ctx = Context.of(shop.new_session(None))
    customer = acc.add(
        DEMO_EMAIL,
        DEMO_PASSWORD,
        {
            "firstName": "Demo",
            "lastName": "Customer",
            "address1": "Storgatan 1",
            "address2": "",
            "zipCode": "111 22",
            "city": "Stockholm",
            "state": "",
            "country": ctx.country,
            "phoneNumber": "+46700000000",
        },
    )
    cat = shop.catalog
    buyable = [
        p for p in cat.market_products(ctx.market) if cat.price(p, ctx.pricelist) and p.items
    ]
    if not buyable:
        return
    address = {"email": customer.email, **customer.address}
    for n in range(DEMO_ORDERS):
        sel = Selection(address=dict(address))
        for k in range(1 + n % 2):
            product = buyable[(2 * n + k) % len(buyable)]
            item = product.items[(n + k) % len(product.items)]
            if sel.line_for_item(item.id) is None:
                line_id = hashlib.md5(f"demo-{n}-{k}".encode(), usedforsecurity=False).hexdigest()
                sel.lines.append(Line(line_id, item.id, 1 + k))
        day = 1 + 3 * n
        date = f"2024-03-{day:02d} 12:00:00"
        order = place_order(shop, sel, ctx, customer.id, date, take_stock=False)
        if n % 2 == 0:
            ship(order, date=f"2024-03-{day + 2:02d} 09:30:00")
