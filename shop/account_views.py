"""The customer's pages: log in, register, log out, forgot password, the new-password page the
reset mail links to, the account page (address, email, password) and the orders list.

Centra ties a login to the session token (the same one as the bag): logging in merges the
bag into the customer's saved one, logging out empties it. So these pages use the same
session, frame and rules as the bag and checkout (:mod:`shop.frame`), and every call is
one of the account proxy's allowlisted routes (:data:`accounts.routes.ACCOUNT_ROUTES`).
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse, HttpResponseBase
from django.urls import reverse

from accounts.routes import ACCOUNT_ROUTES
from checkout import shapes
from checkout.session import SessionAnswer
from shop.account_forms import (
    address_form,
    email_form,
    forgot_form,
    login_form,
    password_form,
    register_form,
    reset_form,
)
from shop.bag import order_view
from shop.forms import Form
from shop.frame import Frame, Notice, local_path, shopper_page
from storefront.jsonio import JsonDict

ORDERS_PAGE_SIZE = 5
MAX_ORDERS_PAGE = 1000


def _call(frame: Frame, method: str, template: str, **kwargs: Any) -> SessionAnswer:
    return frame.session.call(method, template, routes=ACCOUNT_ROUTES, **kwargs)


def _next(frame: Frame, value: str | None) -> str:
    """Where to go after logging in: a path of this site, else the account page."""
    return local_path(value or "", frame.request) or reverse("account")


def _to_login(frame: Frame, back: str) -> HttpResponse:
    return frame.redirect(
        reverse("account-login") + "?" + urlencode({"next": back}),
        Notice("Please log in first.", "info"),
    )


def _form_page(
    frame: Frame, template: str, form: Form, *, title: str, status: int = 200, **extra: Any
) -> HttpResponse:
    return frame.render(
        template,
        {"form": form, **extra},
        title=title,
        kind="account",
        here=frame.request.path,
        status=status,
    )


def _name(answer: SessionAnswer) -> str:
    logged_in = answer.logged_in or {}
    return str(logged_in.get("firstName") or logged_in.get("email") or "")


# -- log in, register, log out --------------------------------------------------------------------


@shopper_page("GET", "HEAD", "POST")
def login(frame: Frame) -> HttpResponseBase:
    form = login_form()
    request = frame.request
    if request.method != "POST":
        form["next"].value = _next(frame, request.GET.get("next"))
        return _form_page(frame, "shop/accounts/login.html", form, title="Log in")
    form.bind(request.POST)
    form.check_email("email")
    if form.require():
        answer = _call(
            frame,
            "POST",
            "login/{email}",
            body={"password": form.value("password")},
            email=form.value("email"),
        )
        if answer.ok:
            return frame.redirect(
                _next(frame, form.value("next")),
                Notice("Welcome back, {name}!", "ok", {"name": _name(answer)}),
            )
        form.add_errors(answer.errors, refused=answer.refused)
    return _form_page(frame, "shop/accounts/login.html", form, title="Log in", status=422)


@shopper_page("GET", "HEAD", "POST")
def register(frame: Frame) -> HttpResponseBase:
    form = register_form()
    request = frame.request
    if request.method != "POST":
        form["next"].value = _next(frame, request.GET.get("next"))
        return _form_page(frame, "shop/accounts/register.html", form, title="Create an account")
    form.bind(request.POST)
    form.check_email("email")
    if form.require():
        body: JsonDict = {
            "email": form.value("email"),
            "password": form.value("password"),
            "firstName": form.value("firstName"),
            "lastName": form.value("lastName"),
            "country": frame.ctx.country,
            "newsletter": form["newsletter"].checked,
        }
        answer = _call(frame, "POST", "register", body=body)
        if answer.ok:
            return frame.redirect(
                _next(frame, form.value("next")),
                Notice("Welcome, {name}! Your account is ready.", "ok", {"name": _name(answer)}),
            )
        form.add_errors(answer.errors, refused=answer.refused)
    return _form_page(
        frame, "shop/accounts/register.html", form, title="Create an account", status=422
    )


@shopper_page("POST")
def logout(frame: Frame) -> HttpResponseBase:
    answer = _call(frame, "POST", "logout")
    notice = (
        Notice("You are logged out.", "ok")
        if answer.ok
        else Notice("Something went wrong. Please try again.", "error")
    )
    return frame.redirect(reverse("account-login"), notice)


# -- forgotten password ---------------------------------------------------------------------------


@shopper_page("GET", "HEAD", "POST")
def forgot_password(frame: Frame) -> HttpResponseBase:
    form = forgot_form()
    if frame.request.method == "POST":
        form.bind(frame.request.POST)
        form.check_email("email")
        if form.require():
            email = form.value("email")
            answer = _call(frame, "POST", "password-reset-email/{email}", email=email)
            # Sent or not (Centra says 404 for an unknown email), the page says the same:
            # it must not tell a stranger who has an account here.
            if answer.ok or answer.status == 404:
                return frame.redirect(
                    reverse("account-forgot"),
                    Notice(
                        "If there is an account for {email}, we have sent it a link to choose "
                        "a new password.",
                        "ok",
                        {"email": email},
                    ),
                )
            form.add_errors(answer.errors, refused=answer.refused)
        return _form_page(
            frame, "shop/accounts/forgot.html", form, title="Forgot password", status=422
        )
    return _form_page(frame, "shop/accounts/forgot.html", form, title="Forgot password")


@shopper_page("GET", "HEAD", "POST")
def password_reset(frame: Frame) -> HttpResponseBase:
    """The page the reset mail links to (Centra's default link path ``password-reset``, with
    ``?id=..&i=..``): choose a new password; Centra then logs the customer in."""
    form = reset_form()
    request = frame.request
    if request.method != "POST":
        form["id"].value = request.GET.get("id", "")[:64]
        form["i"].value = request.GET.get("i", "")[:128]
        if not form.value("id") or not form.value("i"):
            form.errors.append("This link is not complete. Ask for a new one.")
        return _form_page(frame, "shop/accounts/reset.html", form, title="Choose a new password")
    form.bind(request.POST)
    form.check_same("newPassword", "newPassword2")
    if form.require():
        answer = _call(
            frame,
            "POST",
            "password-reset",
            body={
                "id": form.value("id"),
                "i": form.value("i"),
                "newPassword": form.value("newPassword"),
            },
        )
        if answer.ok:
            return frame.redirect(
                reverse("account"), Notice("Your new password is saved. You are logged in.", "ok")
            )
        form.add_errors(answer.errors, refused=answer.refused)
    return _form_page(
        frame, "shop/accounts/reset.html", form, title="Choose a new password", status=422
    )


# -- the account page -----------------------------------------------------------------------------


def _customer(answer: SessionAnswer) -> JsonDict:
    customer = answer.body.get("customer")
    if isinstance(customer, dict):
        return customer
    return answer.logged_in or {}


def _account_page(
    frame: Frame,
    answer: SessionAnswer,
    *,
    address: Form | None = None,
    email: Form | None = None,
    password: Form | None = None,
    status: int = 200,
) -> HttpResponse:
    customer = _customer(answer)
    if address is None:
        address = address_form(
            countries=answer.body.get("countries"),
            country=str(customer.get("country") or frame.ctx.country),
        ).fill(customer)
    return frame.render(
        "shop/accounts/account.html",
        {
            "customer": customer,
            "address_form": address,
            "email_form": email or email_form(),
            "password_form": password or password_form(),
        },
        title="Your account",
        kind="account",
        here=reverse("account"),
        status=status,
    )


@shopper_page("GET", "HEAD")
def account(frame: Frame) -> HttpResponseBase:
    answer = _call(frame, "GET", "customer") if frame.session.started else None
    if answer is None or not answer.ok:
        return _to_login(frame, reverse("account"))
    return _account_page(frame, answer)


@shopper_page("POST")
def account_address(frame: Frame) -> HttpResponseBase:
    customer = _call(frame, "GET", "customer")
    if not customer.ok:
        return _to_login(frame, reverse("account"))
    form = address_form(
        countries=customer.body.get("countries"),
        country=frame.request.POST.get("country", "").strip().upper() or frame.ctx.country,
    ).bind(frame.request.POST)
    if form.require():
        answer = _call(frame, "PUT", "address", body=form.values())
        if answer.ok:
            return frame.redirect(reverse("account"), Notice("Your address is saved.", "ok"))
        form.add_errors(answer.errors, refused=answer.refused)
    return _account_page(frame, customer, address=form, status=422)


@shopper_page("POST")
def account_email(frame: Frame) -> HttpResponseBase:
    customer = _call(frame, "GET", "customer")
    if not customer.ok:
        return _to_login(frame, reverse("account"))
    form = email_form().bind(frame.request.POST)
    form.check_email("email")
    if form.require():
        answer = _call(frame, "PUT", "email", body={"newEmail": form.value("email")})
        if answer.ok:
            return frame.redirect(reverse("account"), Notice("Your email address is saved.", "ok"))
        form.add_errors(answer.errors, refused=answer.refused)
    return _account_page(frame, customer, email=form, status=422)


@shopper_page("POST")
def account_password(frame: Frame) -> HttpResponseBase:
    customer = _call(frame, "GET", "customer")
    if not customer.ok:
        return _to_login(frame, reverse("account"))
    form = password_form().bind(frame.request.POST)
    form.check_same("newPassword", "newPassword2")
    if form.require():
        answer = _call(
            frame,
            "PUT",
            "password",
            body={"password": form.value("password"), "newPassword": form.value("newPassword")},
        )
        if answer.ok:
            return frame.redirect(reverse("account"), Notice("Your password is changed.", "ok"))
        errors = dict(answer.errors)
        if errors.get("password") == "incorrect":
            # Not the login's "email or password": here only the current password can be wrong.
            errors["password"] = "Your current password is not correct."  # noqa: S105 - a text
        form.add_errors(errors, refused=answer.refused)
    return _account_page(frame, customer, password=form, status=422)


# -- orders ---------------------------------------------------------------------------------------


def _page_number(raw: str | None) -> int:
    if raw and raw.isascii() and raw.isdigit() and len(raw) < 6:
        return max(1, min(int(raw), MAX_ORDERS_PAGE))
    return 1


@shopper_page("GET", "HEAD")
def orders(frame: Frame) -> HttpResponseBase:
    """The customer's orders, newest first, with shipments and tracking links, a page at a
    time (Centra's ``from``/``size``)."""
    if not frame.session.started:
        return _to_login(frame, reverse("account-orders"))
    page = _page_number(frame.request.GET.get("page"))
    answer = _call(
        frame,
        "POST",
        "orders",
        body={"from": (page - 1) * ORDERS_PAGE_SIZE, "size": ORDERS_PAGE_SIZE},
    )
    if not answer.ok:
        return _to_login(frame, frame.request.get_full_path())
    products = shapes.products_by_id(answer.body)
    listed = [order_view(o, products) for o in shapes.orders_of(answer.body)]
    total = shapes.orders_total(answer.body)
    if total is None:
        total = len(listed)
    pages = max(1, math.ceil(total / ORDERS_PAGE_SIZE))
    base = reverse("account-orders")
    return frame.render(
        "shop/accounts/orders.html",
        {
            "orders": listed,
            "page": page,
            "pages": pages,
            "total": total,
            "previous": f"{base}?page={page - 1}" if page > 1 else "",
            "next": f"{base}?page={page + 1}" if page < pages else "",
        },
        title="Your orders",
        kind="account",
        here=base,
        status=200 if listed or page == 1 else 404,
    )
