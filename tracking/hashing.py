"""Contact details as the ad platforms match them: normalised, then SHA-256 (hex).

Meta's rules (Conversions API, "Customer Information Parameters"): an email is trimmed and
lower-cased; a phone number is its digits only, with the country code and without a leading
``00``, ``+`` or national trunk ``0``. A number written nationally ("070-123 45 67") takes the
calling code of the order's country (``phonenumbers``, Google's libphonenumber). Raw values
never leave the web process: events carry only these hashes.
"""

from __future__ import annotations

import hashlib

import phonenumbers


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalised_email(email: str) -> str:
    """``" Te.St@Example.com "`` -> ``"te.st@example.com"``; "" for anything without an @."""
    email = email.strip().lower()
    return email if "@" in email.strip("@") else ""


def normalised_phone(phone: str, country: str = "") -> str:
    """Digits with the country code: ``("070-123 45 67", "SE")`` -> ``"46701234567"``,
    ``("+44 844 412 4653", "")`` -> ``"448444124653"``; "" when it cannot be read."""
    phone = phone.strip()
    if not phone:
        return ""
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    try:
        number = phonenumbers.parse(phone, country.upper() or None)
    except phonenumbers.NumberParseException:
        return ""  # no country to read it by: left out rather than guessed
    return f"{number.country_code}{number.national_number}"


def hashed_email(email: str) -> str:
    normal = normalised_email(email)
    return sha256_hex(normal) if normal else ""


def hashed_phone(phone: str, country: str = "") -> str:
    normal = normalised_phone(phone, country)
    return sha256_hex(normal) if normal else ""
