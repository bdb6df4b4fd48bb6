"""The checkout page and the way back from the payment provider.

The payment flow (Centra's "Payment flow" in the seeds):

- ``POST /checkout`` sends ``POST payment`` with the address and the two pages Centra sends the
  shopper back to: ``/checkout/return`` and ``/checkout/failed``. The answer's action decides:
  ``redirect`` (303 to the provider), ``form`` (the provider's HTML, shown in our page),
  ``success`` (the receipt at once), ``failed`` (the failed page); a 410 means items sold out:
  they are gone from the bag, which says which.
- ``/checkout/return`` passes every GET and POST parameter the provider sent, names and values
  unchanged, to ``POST payment-result``, then shows the receipt (``/checkout/receipt``).
  A provider's POST comes from its own site: such a post is never acted on directly. It is
  echoed back as a same-origin form with our CSRF token (submitted by script, or by a button),
  and only that post calls Centra. This also brings back the session cookie, which a browser
  leaves out of a cross-site POST (SameSite=Lax).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
)
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt

from checkout import shapes
from checkout.session import (
    SessionAnswer,
    SessionUnavailable,
)
from shop.bag import basket_of, line_names, money, order_view, text_of
from shop.forms import Field, Form, Option, payment_address_form
from shop.frame import (
    CSRF_FIELD,
    MAX_NOTICE_LINES,
    RETURN_MARK,
    Frame,
    Notice,
    SeeOther,
    current_selection,
    error_notice,
    forbidden_page,
    has_items,
    shopper_page,
)
from storefront.jsonio import JsonDict

log = logging.getLogger(__name__)


# -- checkout ------------------------------------------------------------------------------------


@dataclass
class CheckoutForm:
    """The address Centra asks for (``paymentFields``), the methods and the terms."""

    address: Form
    choices: Form  # shipping method, payment method, newsletter, terms

    @property
    def ok(self) -> bool:
        return self.address.ok and self.choices.ok

    @property
    def errors(self) -> list[str]:
        return self.address.errors + self.choices.errors

    @property
    def invalid(self) -> list[Field]:
        """The fields with an error, in the page's order: the error summary's links."""
        return self.address.invalid + self.choices.invalid

    def check(self) -> bool:
        """What we can judge before Centra, all at once: every required field, the email's
        shape and the terms. Centra's own errors come on top when it is asked (``_pay``)."""
        if "email" in self.address:
            self.address.check_email("email")
        self.address.require()
        self.choices.require()
        return self.ok

    def add_errors(self, errors: Mapping[str, Any], *, refused: bool = False) -> None:
        address = errors.get("address")
        if isinstance(address, Mapping):
            self.address.add_errors(address, refused=refused)
        rest = {k: v for k, v in errors.items() if k != "address"}
        self.choices.add_errors(rest, refused=refused)
        # What the choices form has no field for (e.g. "selection") goes above the form once.
        self.address.errors.extend(e for e in self.choices.errors if e not in self.address.errors)
        self.choices.errors.clear()


def _method_options(methods: Any, key: str) -> list[Option]:
    return [
        Option(str(m[key]), text_of(m.get("name")) or str(m[key]), note=money(m.get("price")))
        for m in (methods if isinstance(methods, list) else [])
        if isinstance(m, dict) and m.get(key)
    ]


def checkout_form(answer: SessionAnswer, data: Mapping[str, Any] | None = None) -> CheckoutForm:
    body, selection = answer.body, answer.selection
    posted_country = str((data or {}).get("country", "")).strip().upper()
    fields = shapes.as_dict(body.get("paymentFields"))
    address = payment_address_form(
        fields,
        countries=body.get("countries"),
        country=posted_country or shapes.session_country(body) or "",
    )
    shipping = Field("shippingMethod", "Delivery", "radio", required=True, updates=True)
    shipping.options = _method_options(body.get("shippingMethods"), "shippingMethod")
    shipping.choose(text_of(selection.get("shippingMethod")))
    payment = Field("paymentMethod", "Payment", "radio", required=True)
    payment.options = _method_options(body.get("paymentMethods"), "paymentMethod")
    payment.choose(text_of(selection.get("paymentMethod")))
    choices = [shipping, payment]
    # The seeds ask for the newsletter beside the address; today's Centra inside it.
    newsletter = fields.get("newsletter", shapes.as_dict(fields.get("address")).get("newsletter"))
    if newsletter is not None and shapes.field_visible(newsletter):
        choices.append(Field("newsletter", "Send me the newsletter", "checkbox"))
    terms = fields.get("termsAndConditions")
    choices.append(
        Field(
            "termsAndConditions",
            "I accept the terms and conditions",
            "checkbox",
            required=not isinstance(terms, dict) or bool(terms.get("required", True)),
        )
    )
    form = CheckoutForm(address=address, choices=Form(*choices))
    if data is not None:
        form.address.bind(data)
        form.choices.bind(data)
    else:
        saved = selection.get("address") if isinstance(selection.get("address"), dict) else {}
        form.address.fill(saved or {})
        logged_in = answer.logged_in
        if logged_in:
            form.address.fill(logged_in)
        if "newsletter" in form.choices:
            form.choices["newsletter"].checked = bool(selection.get("newsletter"))
    return form


def _checkout_page(
    frame: Frame, answer: SessionAnswer, form: CheckoutForm, status: int = 200
) -> HttpResponse:
    return frame.render(
        "shop/checkout/checkout.html",
        {
            "basket": basket_of(answer.selection, shapes.products_by_id(answer.body)),
            "form": form,
            "logged_in": answer.logged_in,
        },
        title="Checkout",
        kind="checkout",
        here=reverse("checkout"),
        status=status,
    )


@shopper_page("GET", "HEAD", "POST")
def checkout(frame: Frame) -> HttpResponseBase:
    answer = current_selection(frame)
    if answer is None or not has_items(answer):
        return frame.redirect(reverse("cart"))  # which says the bag is empty, once
    if frame.request.method != "POST":
        return _checkout_page(frame, answer, checkout_form(answer))
    form = checkout_form(answer, frame.request.POST)
    updating = frame.request.POST.get("action") == "update"
    answer, repriced = _apply_choices(frame, answer, form)
    if not updating:
        # Every field we can judge is flagged in one answer, not one round per submit.
        form.check()
    if not form.ok:
        return _checkout_page(frame, answer, form, status=422)
    if updating or repriced:
        # Keep what was typed (Centra keeps it with the selection), then show the new totals.
        saved = frame.session.call("PUT", "payment-fields", body=_payment_fields(form))
        if not saved.ok:
            form.add_errors(saved.errors, refused=saved.refused)
            return _checkout_page(frame, answer, form, status=422)
        notices = [] if updating else [Notice("Your total has changed. Please check it.", "info")]
        return frame.redirect(reverse("checkout"), *notices)
    # Centra judges the address and the terms; its errors come back next to the fields.
    return _pay(frame, answer, form)


def _apply_choices(
    frame: Frame, answer: SessionAnswer, form: CheckoutForm
) -> tuple[SessionAnswer, bool]:
    """Tell Centra the shipping method, payment method, country and state the shopper chose,
    where they differ from the selection's. Returns the newest answer, and whether the total
    may have changed (a different shipping method or country): then the shopper sees the new
    total before paying, even without the script that re-prices on change."""
    selection = answer.selection
    repriced = False
    calls: list[tuple[str, str, dict[str, str]]] = []
    shipping = form.choices["shippingMethod"].value
    if shipping and shipping != selection.get("shippingMethod"):
        calls.append(("PUT", "shipping-methods/{id}", {"id": shipping}))
        repriced = True
    payment = form.choices["paymentMethod"].value
    if payment and payment != selection.get("paymentMethod"):
        calls.append(("PUT", "payment-methods/{id}", {"id": payment}))
    country_now = shapes.session_country(answer.body)
    state_now = shapes.session_state(answer.body)
    country = form.address.value("country") if "country" in form.address else ""
    state = form.address.value("state") if "state" in form.address else ""
    if country and (country != country_now or (state and state != state_now)):
        if state:
            calls.append(
                ("PUT", "countries/{country}/states/{state}", {"country": country, "state": state})
            )
        else:
            calls.append(("PUT", "countries/{country}", {"country": country}))
        repriced = True
        if country != country_now:
            frame.country_choice = country  # the rest of the shop follows the address
    for method, template, params in calls:
        result = frame.session.call_with(method, template, params)
        if not result.ok:
            form.add_errors(_errors_for(template, result), refused=result.refused)
            return answer, False
        answer = result
    return answer, repriced


def _errors_for(template: str, result: SessionAnswer) -> Mapping[str, Any]:
    """A refused path parameter is named by the route (``id``, ``state``); the form names it
    by what it is."""
    names = {
        "shipping-methods/{id}": "shippingMethod",
        "payment-methods/{id}": "paymentMethod",
    }
    errors = dict(result.errors)
    if template in names and "id" in errors:
        errors[names[template]] = errors.pop("id")
    if "country" in errors or "state" in errors:
        return {"address": errors}
    return errors


def _payment_fields(form: CheckoutForm) -> JsonDict:
    address = form.address.values()
    # No state field for a country without states: clear one saved for another country.
    address.setdefault("state", "")
    body: JsonDict = {"address": address}
    if "newsletter" in form.choices:
        body["newsletter"] = form.choices["newsletter"].checked
    return body


def _pay(frame: Frame, before: SessionAnswer, form: CheckoutForm) -> HttpResponseBase:
    request = frame.request
    body = {
        **_payment_fields(form),
        "paymentReturnPage": request.build_absolute_uri(reverse("checkout-return")),
        "paymentFailedPage": request.build_absolute_uri(reverse("checkout-failed")),
        "termsAndConditions": form.choices["termsAndConditions"].checked,
    }
    answer = frame.session.call("POST", "payment", body=body)
    action = answer.body.get("action")
    if answer.status == 410:
        return frame.redirect(reverse("cart"), _sold_out_notice(before, answer))
    if action == "failed" or answer.status == 402:
        return frame.redirect(reverse("checkout-failed"), error_notice(answer))
    if not answer.ok:
        form.add_errors(answer.errors, refused=answer.refused)
        return _checkout_page(frame, before, form, status=422)
    if action == "redirect":
        url = text_of(answer.body.get("url"))
        if urlsplit(url).scheme in {"http", "https"}:
            return SeeOther(url)
        log.warning("payment: redirect to a URL that is not http(s)")
    elif action == "form":
        html = text_of(answer.body.get("formHtml"))
        if html:
            return frame.render(
                "shop/checkout/payment_form.html",
                # Centra's own HTML for the provider's form: shown as Centra requires.
                {"form_html": mark_safe(html)},  # noqa: S308
                title="Payment",
                kind="checkout",
                here=reverse("checkout"),
            )
    elif action == "success" or shapes.order_number(answer.body):
        return frame.redirect(reverse("checkout-receipt"))
    log.warning("payment: an answer we cannot act on (action %r)", action)
    raise SessionUnavailable("payment answer without a usable action")


def _sold_out_notice(before: SessionAnswer, answer: SessionAnswer) -> Notice:
    names = line_names(before)
    products = shapes.products_by_id(answer.body)
    lines = []
    for u in shapes.as_list(answer.body.get("unavailable")):
        name, size = names.get(str(u.get("item")), ("", ""))
        name = name or shapes.line_name(u, products)
        available = u.get("available")
        lines.append(
            {
                "name": name or str(u.get("item")),
                "size": size,
                "available": available if isinstance(available, int) else 0,
            }
        )
    notice = Notice(
        "Sorry, some items sold out while you were paying. Nothing was charged. "
        "We updated your bag:",
        "error",
    )
    notice.lines = lines[:MAX_NOTICE_LINES]
    return notice


# -- back from the payment provider -------------------------------------------------------------


def provider_fields(request: HttpRequest) -> dict[str, str | list[str]]:
    """The GET and POST parameters the provider sent, names and values as they came (a name
    sent more than once keeps all its values). Only our own echo's two fields are left out."""
    fields: dict[str, str | list[str]] = {}
    for source, ours in ((request.GET, ()), (request.POST, (RETURN_MARK, CSRF_FIELD))):
        for key, values in source.lists():
            if key in ours:
                continue
            fields[key] = values[0] if len(values) == 1 else list(values)
    return fields


# A provider posts from its own site: see the module docstring and _echo_page. No HEAD: a
# link preview must not confirm a payment.
@csrf_exempt
@shopper_page("GET", "POST")
def payment_return(frame: Frame) -> HttpResponseBase:
    request = frame.request
    if request.method == "POST" and RETURN_MARK not in request.POST:
        return _echo_page(frame)
    if request.method == "POST" and not _csrf_ok(request):
        # Our echo of the provider's post comes from our own page, with our CSRF token.
        return forbidden_page(frame)
    return _payment_result(frame)


def _csrf_checked(request: HttpRequest) -> HttpResponse:  # pragma: no cover
    """Never called: the CSRF middleware only looks at the view (is it exempt?)."""
    return HttpResponse()


def _csrf_ok(request: HttpRequest) -> bool:
    """Django's CSRF check (token and Origin), for a view that is exempt from the middleware
    because only some of its requests can carry a token."""
    middleware = CsrfViewMiddleware(_csrf_checked)
    return middleware.process_view(request, _csrf_checked, (), {}) is None


def _echo_page(frame: Frame) -> HttpResponse:
    request = frame.request
    pairs = [
        (key, value)
        for key, values in request.POST.lists()
        if key not in (RETURN_MARK, CSRF_FIELD)
        for value in values
    ]
    return frame.render(
        "shop/checkout/return_echo.html",
        {"action": request.get_full_path(), "pairs": pairs, "mark": RETURN_MARK},
        title="Confirming your payment",
        kind="checkout",
        here=reverse("cart"),
    )


def _payment_result(frame: Frame) -> HttpResponseBase:
    fields = provider_fields(frame.request)
    answer = frame.session.call("POST", "payment-result", body={"paymentMethodFields": fields})
    if answer.ok and shapes.order_number(answer.body):
        return frame.redirect(reverse("checkout-receipt"))
    if answer.status == 409:
        # The same return is being confirmed by another request (a double submit).
        return frame.render(
            "shop/checkout/confirming.html",
            {},
            title="Confirming your payment",
            kind="checkout",
            here=reverse("cart"),
        )
    return frame.redirect(reverse("checkout-failed"), error_notice(answer))


# The provider may post to the failed page from its own site. The page only explains and
# changes nothing, so it needs no CSRF token.
@csrf_exempt
@shopper_page("GET", "HEAD", "POST")
def payment_failed(frame: Frame) -> HttpResponseBase:
    return frame.render(
        "shop/checkout/failed.html",
        {},
        title="Payment not completed",
        kind="checkout",
        here=reverse("cart"),
    )


@shopper_page("GET", "HEAD")
def receipt(frame: Frame) -> HttpResponseBase:
    if not frame.session.started:
        return _no_receipt(frame)
    answer = frame.session.call("GET", "receipt")
    order = shapes.order_of(answer.body)
    if not answer.ok or order is None or not shapes.order_number(answer.body):
        return _no_receipt(frame)
    return frame.render(
        "shop/checkout/receipt.html",
        {
            "order": order_view(order, shapes.products_by_id(answer.body)),
            "message": text_of(order.get("message")) or text_of(answer.body.get("message")),
        },
        title="Thank you for your order",
        kind="receipt",
    )


def _no_receipt(frame: Frame) -> HttpResponse:
    return frame.render(
        "shop/checkout/no_receipt.html", {}, title="No order found", kind="receipt", status=404
    )
