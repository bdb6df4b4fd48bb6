"""The shopper's forms on the cart, checkout and account pages, and Centra's errors on them.

Small on purpose: Centra is the judge of an address, a voucher or a password, so a form here
reads what was posted, checks only what the browser may have skipped (a required field, an
email's shape, a repeated password), and puts Centra's ``errors`` next to the field they name.

Texts are stored in English and translated when the page is rendered (the ``t`` tag of
``shop``): a sentence of ours is in the shopper's language; a text of Centra's that we
have no sentence for is shown as Centra wrote it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from checkout.shapes import field_required, field_visible

MAX_CHARS = 200  # Centra's limit on names, addresses and comments

# -- Centra's errors in our words ---------------------------------------------------------------

# (field, Centra's text) -> our sentence. The field is the last key of a nested error
# ({"address": {"email": "not valid"}} is ("email", "not valid")).
_FIELD_ERRORS: dict[tuple[str, str], str] = {
    ("email", "already registered"): "An account with this email address already exists.",
    ("email", "not valid"): "Enter a valid email address.",
    ("newEmail", "already registered"): "An account with this email address already exists.",
    ("newEmail", "not valid"): "Enter a valid email address.",
    ("password", "incorrect"): "The email address or password is not correct.",
    ("password", "not valid"): "Choose a longer password (at least 6 characters).",
    ("newPassword", "not valid"): "Choose a longer password (at least 6 characters).",
    ("i", "not valid or already used"): "This link has expired or was already used.",
    ("id", "not valid or already used"): "This link has expired or was already used.",
    ("voucher", "not valid"): "This code is not valid.",
    ("voucher", "not found"): "This code is not on your order.",
    ("termsAndConditions", "must be accepted"): "Please accept the terms and conditions.",
    ("country", "not shippable"): "We cannot ship to this country.",
    ("selection", "is empty"): "Your bag is empty.",
    ("paymentMethod", "the payment was declined"): "Your payment was declined.",
    ("payment", "cancelled"): "The payment was cancelled.",
    ("payment", "not completed"): "The payment was not completed.",
    ("paymentMethodFields", "unknown payment reference"): "We could not find this payment.",
    ("accessRight", "denied"): "Please log in first.",
    ("session", "busy, try again"): "We are still saving your last change. Please try again.",
    ("selection", "a payment result is being processed"): "Your payment is being confirmed.",
    ("payment", "a payment result is already being processed"): "Your payment is being confirmed.",
}
# Centra's text for any field -> our sentence.
_ANY_FIELD_ERRORS: dict[str, str] = {
    "required": "Required",
    "not valid": "Not valid",
    "not found": "Not found",
}
# Our own refusals before a call (the allowlist's parameter rules), per field.
_REFUSED: dict[str, str] = {
    "email": "Enter a valid email address.",
    "voucher": "This code is not valid.",
}


def error_text(name: str, message: Any, *, refused: bool = False) -> str:
    """Our sentence for one of Centra's errors, or Centra's own text when we have none."""
    text = str(message)
    if name == "rateLimit":
        return "Too many attempts. Please wait a minute and try again."
    if refused:
        return _REFUSED.get(name, "Not valid")
    return _FIELD_ERRORS.get((name, text)) or _ANY_FIELD_ERRORS.get(text) or text


def flat_errors(errors: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str, Any]]:
    """``{"address": {"email": "not valid"}}`` -> ``("address.email", "email", "not valid")``."""
    for key, value in errors.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flat_errors(value, path + ".")
        elif isinstance(value, list):
            yield path, str(key), "; ".join(str(v) for v in value)
        else:
            yield path, str(key), value


# -- forms --------------------------------------------------------------------------------------


@dataclass
class Option:
    value: str
    label: str
    selected: bool = False
    note: str = ""  # e.g. a shipping method's price


@dataclass
class Field:
    name: str
    label: str  # English; translated by the template
    kind: str = "text"  # text, email, password, tel, select, radio, checkbox, hidden
    required: bool = False
    autocomplete: str = ""
    value: str = ""
    checked: bool = False
    options: list[Option] = field(default_factory=list)
    error: str = ""
    max_length: int = MAX_CHARS
    # Changing it changes the totals (country, state, shipping): the checkout re-prices.
    updates: bool = False

    def choose(self, value: str) -> None:
        self.value = value
        for option in self.options:
            option.selected = option.value == value


class Form:
    def __init__(self, *fields: Field) -> None:
        self.fields: dict[str, Field] = {f.name: f for f in fields}
        self.errors: list[str] = []  # not about one field

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields.values())

    def __contains__(self, name: str) -> bool:
        return name in self.fields

    def __getitem__(self, name: str) -> Field:
        return self.fields[name]

    @property
    def visible(self) -> list[Field]:
        return [f for f in self.fields.values() if f.kind != "hidden"]

    @property
    def hidden(self) -> list[Field]:
        return [f for f in self.fields.values() if f.kind == "hidden"]

    @property
    def ok(self) -> bool:
        return not self.errors and not any(f.error for f in self.fields.values())

    def bind(self, data: Mapping[str, Any]) -> Form:
        """The posted values (``request.POST``); a checkbox is checked when it was sent."""
        for f in self.fields.values():
            if f.kind == "checkbox":
                f.checked = str(data.get(f.name, "")) in {"1", "on", "true", "yes"}
            else:
                raw = data.get(f.name, "")
                value = raw.strip() if isinstance(raw, str) else ""
                # Passwords are taken as typed: spaces may be part of one.
                if f.kind == "password":
                    value = raw if isinstance(raw, str) else ""
                f.choose(value[: f.max_length])
        return self

    def fill(self, values: Mapping[str, Any]) -> Form:
        """Values known already (Centra's saved address), for the fields still empty."""
        for f in self.fields.values():
            given = values.get(f.name)
            if f.kind in {"password", "hidden"} or f.value or given in (None, ""):
                continue
            if f.kind == "checkbox":
                f.checked = bool(given)
            elif f.options:
                f.choose(str(given))
            else:
                f.value = str(given)
        return self

    def value(self, name: str) -> str:
        return self.fields[name].value

    def values(self) -> dict[str, str]:
        return {f.name: f.value for f in self.fields.values() if f.kind != "checkbox"}

    @property
    def invalid(self) -> list[Field]:
        """The fields with an error, in the form's order (the error summary's links)."""
        return [f for f in self.fields.values() if f.error and f.kind != "hidden"]

    def require(self) -> bool:
        """Every required field left empty, all at once (the checkout's form skips the
        browser's own checks, which stop at the first one; an old browser has none). A box
        that must be ticked (the terms) says so in the words of Centra's error for it."""
        for f in self.fields.values():
            if f.required and not f.error:
                if f.kind == "checkbox":
                    if not f.checked:
                        f.error = _FIELD_ERRORS.get((f.name, "must be accepted"), "Required")
                elif not f.value:
                    f.error = "Required"
        return self.ok

    def check_email(self, name: str) -> None:
        f = self.fields[name]
        if f.value and not f.error:
            try:
                validate_email(f.value)
            except ValidationError:
                f.error = "Enter a valid email address."

    def check_same(self, name: str, repeat: str) -> None:
        if self.fields[name].value != self.fields[repeat].value and not self.fields[repeat].error:
            self.fields[repeat].error = "The passwords do not match."

    def add_errors(self, errors: Mapping[str, Any], *, refused: bool = False) -> None:
        """Centra's ``errors`` next to the fields they name; the rest above the form."""
        for _path, name, message in flat_errors(errors):
            text = error_text(name, message, refused=refused)
            target = self.fields.get(name)
            if target is not None and target.kind != "hidden":
                target.error = target.error or text
            elif text not in self.errors:
                self.errors.append(text)


# -- the address ---------------------------------------------------------------------------------

# Centra's address fields: label, input type, autocomplete token.
ADDRESS_FIELDS: dict[str, tuple[str, str, str]] = {
    "email": ("Email", "email", "email"),
    "firstName": ("First name", "text", "given-name"),
    "lastName": ("Last name", "text", "family-name"),
    "company": ("Company", "text", "organization"),
    "address1": ("Address", "text", "address-line1"),
    "address2": ("Address line 2", "text", "address-line2"),
    "zipCode": ("Postcode", "text", "postal-code"),
    "city": ("City", "text", "address-level2"),
    "state": ("State", "select", "address-level1"),
    "country": ("Country", "select", "country"),
    "phoneNumber": ("Phone", "tel", "tel"),
}
ACCOUNT_ADDRESS = (
    "firstName",
    "lastName",
    "address1",
    "address2",
    "zipCode",
    "city",
    "country",
    "state",
    "phoneNumber",
)


def country_options(countries: Any) -> list[Option]:
    """The countries of a Centra answer (those the shop ships to)."""
    out: list[Option] = []
    for c in countries if isinstance(countries, list) else []:
        if isinstance(c, dict) and isinstance(c.get("country"), str) and c.get("shipTo", True):
            out.append(Option(c["country"].upper(), str(c.get("name") or c["country"])))
    return out


def state_options(countries: Any, country: str) -> list[Option]:
    for c in countries if isinstance(countries, list) else []:
        if isinstance(c, dict) and str(c.get("country", "")).upper() == country.upper():
            states = c.get("states")
            return [
                Option(str(s["state"]), str(s.get("name") or s["state"]))
                for s in (states if isinstance(states, list) else [])
                if isinstance(s, dict) and s.get("state")
            ]
    return []


def address_fields(
    names: Any, *, required: Mapping[str, bool], countries: Any, country: str
) -> list[Field]:
    """The address as Centra asks for it (``paymentFields.address`` on the checkout; the
    customer's one address on the account page), in Centra's order. The state is a choice
    only for a country that has states, and is left out for the others."""
    out: list[Field] = []
    for name in names:
        label, kind, autocomplete = ADDRESS_FIELDS.get(name, (name, "text", ""))
        f = Field(name, label, kind, bool(required.get(name)), autocomplete)
        if name == "country":
            f.options = country_options(countries)
            f.updates = True
            f.required = True
            f.choose(country)
        elif name == "state":
            f.options = state_options(countries, country)
            if not f.options:
                continue
            f.options.insert(0, Option("", "Choose a state"))
            f.required = True
            f.updates = True
        out.append(f)
    return out


def payment_address_form(payment_fields: Any, *, countries: Any, country: str) -> Form:
    """The address fields of Centra's ``paymentFields``, less those it marks ``visible:
    false`` and the yes/no ones (today's Centra lists the newsletter here: a checkbox of the
    checkout's choices, not an address line)."""
    spec = payment_fields.get("address") if isinstance(payment_fields, dict) else None
    spec = {
        name: rule
        for name, rule in (spec if isinstance(spec, dict) else {}).items()
        if field_visible(rule) and not (isinstance(rule, dict) and rule.get("type") == "boolean")
    }
    if not spec:  # Centra asked nothing: the country is still needed for the prices
        spec = {"country": {"required": True}}
    required = {name: field_required(rule) for name, rule in spec.items()}
    return Form(
        *address_fields(spec.keys(), required=required, countries=countries, country=country)
    )
