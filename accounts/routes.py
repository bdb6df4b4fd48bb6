"""The account allowlist: register, login, logout, password reset, the customer's details and
orders. Logging in and out changes the selection (it is merged on login, emptied on logout),
so those calls also wait for a payment result in flight like any selection change."""

from __future__ import annotations

from checkout.routes import TEXT, body_of
from storefront.routes import Route, param

# The HTML living standard's "valid e-mail address", which is what a browser's email field
# accepts; "/", "+" and "%" may occur in the local part and are percent-encoded on the way out.
EMAIL = param(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*",
    "must be an email address",
    254,
)

# PUT email: the new address as newEmail (or email), Centra's 400 without either.
EMAIL_CHANGE = body_of(one_of=("newEmail", "email"))
EMAIL_CHANGE["properties"] = {"newEmail": TEXT, "email": TEXT}

ACCOUNT_ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        "register",
        changes_selection=True,
        auth_email="body:email",
        centra_body=body_of(email=TEXT, password=TEXT),
    ),
    Route(
        "POST",
        "login/{email}",
        {"email": EMAIL},
        changes_selection=True,
        auth_email="param:email",
        centra_body=body_of(password=TEXT),
    ),
    Route("POST", "logout", changes_selection=True),
    Route("POST", "password-reset-email/{email}", {"email": EMAIL}, auth_email="param:email"),
    Route(
        "POST",
        "password-reset",
        changes_selection=True,
        centra_body=body_of(id=TEXT, i=TEXT, newPassword=TEXT),
    ),
    Route("GET", "customer"),
    Route("PUT", "address"),
    Route("PUT", "email", centra_body=EMAIL_CHANGE),
    Route("PUT", "password", centra_body=body_of(password=TEXT, newPassword=TEXT)),
    Route("POST", "orders"),
)
