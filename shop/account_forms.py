"""The account forms: log in, register, forgot password, new password, and the customer's
address, email and password. Field names are Centra's, so its ``errors`` land on them."""

from __future__ import annotations

from typing import Any

from shop.forms import ACCOUNT_ADDRESS, Field, Form, address_fields


def _email(label: str = "Email") -> Field:
    return Field("email", label, "email", required=True, autocomplete="email", max_length=254)


def login_form() -> Form:
    return Form(
        _email(),
        Field("password", "Password", "password", required=True, autocomplete="current-password"),
        Field("next", "", "hidden"),
    )


def register_form() -> Form:
    return Form(
        Field("firstName", "First name", required=True, autocomplete="given-name"),
        Field("lastName", "Last name", required=True, autocomplete="family-name"),
        _email(),
        Field("password", "Password", "password", required=True, autocomplete="new-password"),
        Field("newsletter", "Send me the newsletter", "checkbox"),
        Field("next", "", "hidden"),
    )


def forgot_form() -> Form:
    return Form(_email())


def _new_password() -> list[Field]:
    return [
        Field(
            "newPassword", "New password", "password", required=True, autocomplete="new-password"
        ),
        Field(
            "newPassword2",
            "Repeat the new password",
            "password",
            required=True,
            autocomplete="new-password",
        ),
    ]


def reset_form() -> Form:
    """The link's ``id`` and ``i`` ride along hidden; Centra checks them."""
    return Form(Field("id", "", "hidden"), Field("i", "", "hidden"), *_new_password())


def address_form(*, countries: Any, country: str) -> Form:
    required = {name: name not in {"address2", "phoneNumber", "state"} for name in ACCOUNT_ADDRESS}
    return Form(
        *address_fields(ACCOUNT_ADDRESS, required=required, countries=countries, country=country)
    )


def email_form() -> Form:
    # Centra's PUT email takes "newEmail" and names its errors "email".
    return Form(_email("New email address"))


def password_form() -> Form:
    return Form(
        Field(
            "password",
            "Current password",
            "password",
            required=True,
            autocomplete="current-password",
        ),
        *_new_password(),
    )
