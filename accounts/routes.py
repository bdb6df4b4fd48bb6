"""The account allowlist: register, login, logout, password reset, the customer's details and
orders. Logging in and out changes the selection (it is merged on login, emptied on logout),
so those calls also wait for a payment result in flight like any selection change."""

from __future__ import annotations

from storefront.proxy import Route, param

# The HTML living standard's "valid e-mail address", which is what a browser's email field
# accepts; "/", "+" and "%" may occur in the local part and are percent-encoded on the way out.
EMAIL = param(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*",
    "must be an email address",
    254,
)

ACCOUNT_ROUTES: tuple[Route, ...] = (
    Route("POST", "register", changes_selection=True, auth_email="body:email"),
    Route(
        "POST", "login/{email}", {"email": EMAIL}, changes_selection=True, auth_email="param:email"
    ),
    Route("POST", "logout", changes_selection=True),
    Route("POST", "password-reset-email/{email}", {"email": EMAIL}, auth_email="param:email"),
    Route("POST", "password-reset", changes_selection=True),
    Route("GET", "customer"),
    Route("PUT", "address"),
    Route("PUT", "email"),
    Route("PUT", "password"),
    Route("POST", "orders"),
)
