"""Checkout addresses: their fields, how a request's address is cleaned, and what POST payment
requires of one."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.catalog import Catalog

ADDRESS_FIELDS = (
    "email",
    "firstName",
    "lastName",
    "company",
    "address1",
    "address2",
    "zipCode",
    "city",
    "state",
    "country",
    "phoneNumber",
)
# What POST payment insists on (``state`` too, for countries that have states).
REQUIRED_ADDRESS_FIELDS = (
    "email",
    "firstName",
    "lastName",
    "address1",
    "zipCode",
    "city",
    "country",
)
MAX_FIELD_LENGTH = 200
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean_address(value: Any, key: str) -> dict[str, str]:
    """An address object from a request: known fields, strings only; :class:`AddressError`
    (400) when it is malformed."""
    if not isinstance(value, dict):
        raise AddressError(400, {key: "must be an object"})
    out: dict[str, str] = {}
    bad: dict[str, str] = {}
    for name, v in value.items():
        if name not in ADDRESS_FIELDS:
            continue  # Centra ignores fields it does not know
        if v is None:
            v = ""
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)  # zip codes and phone numbers sent as numbers
        if not isinstance(v, str):
            bad[name] = "must be a string"
        elif len(v) > MAX_FIELD_LENGTH:
            bad[name] = f"at most {MAX_FIELD_LENGTH} characters"
        else:
            out[name] = v.strip()
    if bad:
        raise AddressError(400, {key: bad})
    if out.get("country"):
        out["country"] = out["country"].upper()
    if out.get("state"):
        out["state"] = out["state"].upper()
    return out


class AddressError(Exception):
    def __init__(self, status: int, errors: dict[str, Any]) -> None:
        super().__init__(str(errors))
        self.status = status
        self.errors = errors


def address_problems(address: dict[str, str], catalog: Catalog) -> dict[str, str]:
    """Per-field problems of an address for POST payment; empty when it is complete."""
    problems: dict[str, str] = {}
    for name in REQUIRED_ADDRESS_FIELDS:
        if not address.get(name):
            problems[name] = "required"
    email = address.get("email")
    if email and not EMAIL_RE.match(email):
        problems["email"] = "not valid"
    code = address.get("country")
    country = catalog.countries.get(code) if code else None
    if code and country is None:
        problems["country"] = "not valid"
    if country is not None and country.states:
        state = address.get("state")
        if not state:
            problems["state"] = "required"
        elif state not in country.states:
            problems["state"] = "not valid"
    return problems
