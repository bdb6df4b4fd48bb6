"""Test payment methods and the sandbox's own "payment provider" pages under ``/pay/...``.

One payment method per action ``POST payment`` can answer with:

* ``sandbox-redirect``: ``{"action": "redirect", "url": "<base>/pay/<ref>"}``; the page has
  Pay and Cancel buttons. Pay sends the browser (303) to ``paymentReturnPage`` with the
  provider's parameters in the query string, Cancel to ``paymentFailedPage``.
* ``sandbox-form``: ``{"action": "form", "formHtml": ...}``; the form posts to
  ``<base>/pay/<ref>/complete``, which answers with a self-submitting form that POSTs the
  provider's parameters to ``paymentReturnPage`` (or ``paymentFailedPage``).
* ``sandbox-success``: the payment succeeds at once (the order is placed in ``POST payment``).
* ``sandbox-failed``: the payment fails at once.

The parameters a provider sends back mix naming styles on purpose (``orderRef`` and
``paymentMethod`` in camelCase, ``transaction_id`` in snake_case), as Centra warns real
providers do: ``POST payment-result`` only accepts them unchanged.

This module knows nothing of selections or orders: a payment carries an opaque ``snapshot``
that :mod:`sandbox.payment_api` turns into an order.
"""

from __future__ import annotations

import html
import secrets
import weakref
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sandbox.http import RawReply, Request, route
from sandbox.state import Shop


@dataclass(frozen=True)
class PaymentMethod:
    id: str
    name: str
    action: str  # what POST payment answers: redirect, form, success or failed


PAYMENT_METHODS: dict[str, PaymentMethod] = {
    m.id: m
    for m in (
        PaymentMethod("sandbox-redirect", "Sandbox card (redirect)", "redirect"),
        PaymentMethod("sandbox-form", "Sandbox invoice (form)", "form"),
        PaymentMethod("sandbox-success", "Sandbox instant (success)", "success"),
        PaymentMethod("sandbox-failed", "Sandbox declined (failed)", "failed"),
    )
}
DEFAULT_PAYMENT_METHOD = "sandbox-redirect"


@dataclass
class Payment:
    ref: str  # "orderRef"
    transaction: str  # "transaction_id": a second secret the return parameters must carry
    method: str
    session_token: str | None
    return_page: str
    failed_page: str
    amount: str  # the formatted grand total, shown on the pay page
    snapshot: Any  # what the checkout needs to place the order; opaque here
    status: str = "pending"  # -> "authorized" (Pay) or "cancelled" (Cancel)
    order: str | None = None  # the order id once placed: payment-result is idempotent

    def return_params(self) -> dict[str, str]:
        return {
            "orderRef": self.ref,
            "paymentMethod": self.method,
            "transaction_id": self.transaction,
            "status": self.status,
        }


class Payments:
    def __init__(self) -> None:
        self.by_ref: dict[str, Payment] = {}

    def start(
        self,
        *,
        method: str,
        session_token: str | None,
        return_page: str,
        failed_page: str,
        amount: str,
        snapshot: Any,
    ) -> Payment:
        payment = Payment(
            ref=secrets.token_hex(16),
            transaction=secrets.token_hex(8),
            method=method,
            session_token=session_token,
            return_page=return_page,
            failed_page=failed_page,
            amount=amount,
            snapshot=snapshot,
        )
        self.by_ref[payment.ref] = payment
        return payment


_STORES: weakref.WeakKeyDictionary[Shop, Payments] = weakref.WeakKeyDictionary()


def payments_of(shop: Shop) -> Payments:
    """The shop's payments (the Shop is the lead's; its extra state lives beside it)."""
    store = _STORES.get(shop)
    if store is None:
        store = _STORES[shop] = Payments()
    return store


def is_page_url(value: str) -> bool:
    """paymentReturnPage/paymentFailedPage: an absolute http(s) URL on the frontend."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def pay_url(base_url: str, payment: Payment) -> str:
    return f"{base_url}/pay/{payment.ref}"


def decision_form(base_url: str, payment: Payment) -> str:
    """The provider's form: both buttons post to /complete with ``decision``."""
    action = html.escape(f"{base_url}/pay/{payment.ref}/complete")
    return (
        f'<form method="post" action="{action}" id="sandbox-payment-form">'
        f"<p>Amount: {html.escape(payment.amount)}</p>"
        '<button type="submit" name="decision" value="pay">Pay</button> '
        '<button type="submit" name="decision" value="cancel">Cancel</button>'
        "</form>"
    )


def _page(
    title: str, body: str, status: int = 200, headers: dict[str, str] | None = None
) -> RawReply:
    doc = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return RawReply(doc.encode(), "text/html; charset=utf-8", status, headers or {})


@route("GET", "/pay/{ref}")
def pay_page(req: Request, shop: Shop) -> RawReply:
    payment = payments_of(shop).by_ref.get(req.params["ref"])
    if payment is None:
        return _page("Unknown payment", "<p>No such payment.</p>", 404)
    method = PAYMENT_METHODS[payment.method]
    return _page(f"Sandbox payment: {method.name}", decision_form(shop.config.base_url, payment))


@route("POST", "/pay/{ref}/complete")
def pay_complete(req: Request, shop: Shop) -> RawReply:
    """Pay or Cancel; then the browser goes back to the frontend the way the method does it."""
    payment = payments_of(shop).by_ref.get(req.params["ref"])
    if payment is None:
        return _page("Unknown payment", "<p>No such payment.</p>", 404)
    body = req.body if isinstance(req.body, dict) else {}
    decision = body.get("decision", "pay")
    if decision not in ("pay", "cancel"):
        return _page("Bad request", "<p>decision must be pay or cancel.</p>", 400)
    wanted = "authorized" if decision == "pay" else "cancelled"
    if payment.status == "pending":
        payment.status = wanted
    elif payment.status != wanted:  # pressing the other button after the first one counted
        return _page("Payment already decided", f"<p>This payment is {payment.status}.</p>", 409)
    target = payment.return_page if payment.status == "authorized" else payment.failed_page
    params = payment.return_params()
    if PAYMENT_METHODS[payment.method].action == "redirect":
        location = with_query(target, params)
        return _page(
            "Redirecting",
            f'<a href="{html.escape(location)}">Continue</a>',
            303,
            {"Location": location},
        )
    # The form method hands the parameters over as POST data, as form-based providers do.
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
    )
    return _page(
        "Returning to the shop",
        f'<form method="post" action="{html.escape(target)}" id="sandbox-return">{inputs}'
        '<button type="submit">Continue</button></form>'
        "<script>document.getElementById('sandbox-return').submit();</script>",
    )
