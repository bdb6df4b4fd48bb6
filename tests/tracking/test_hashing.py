"""Meta's normalisation of contact details before hashing."""

from __future__ import annotations

import pytest

from tracking.hashing import (
    hashed_email,
    hashed_phone,
    normalised_email,
    normalised_phone,
    sha256_hex,
)


def test_metas_documented_email_example() -> None:
    # Meta's example: Person@Example.com -> person@example.com -> 542d2401...
    assert normalised_email("  Person@Example.com ") == "person@example.com"
    assert hashed_email("Person@Example.com") == (
        "542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345"
    )


@pytest.mark.parametrize("email", ["", "   ", "no-at-sign", "@", "@@"])
def test_no_email_is_no_hash(email: str) -> None:
    assert hashed_email(email) == ""


@pytest.mark.parametrize(
    ("phone", "country", "normal"),
    [
        ("+44 844 412 4653", "", "448444124653"),  # Meta's example
        ("0044 844 412 4653", "", "448444124653"),  # 00 instead of +
        ("070-123 45 67", "SE", "46701234567"),  # national: trunk 0 off, calling code on
        ("(030) 1234567", "DE", "49301234567"),
        ("+46 70 123 45 67", "DE", "46701234567"),  # an international number wins
        ("070-123 45 67", "", ""),  # national without a country: left out
        ("call me", "SE", ""),
        ("", "SE", ""),
    ],
)
def test_phone_numbers_are_digits_with_the_country_code(
    phone: str, country: str, normal: str
) -> None:
    assert normalised_phone(phone, country) == normal
    assert hashed_phone(phone, country) == (sha256_hex(normal) if normal else "")
