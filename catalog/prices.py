"""Prices as the cache stores them, and Centra's price fields rebuilt from them.

A product's price in one pricelist is stored as numbers, ``[priceAsNumber,
priceBeforeDiscountAsNumber, discountPercent, flags]``; the formatted strings are rebuilt
from the pricelist's format, which is checked against Centra's own strings at build time: a
price whose string we would format differently keeps Centra's strings (two more entries). So
memory does not grow with the number of pricelists beyond a few bytes each. The format is the
seeds' ``currencyFormat`` or, from today's Centra, the pricelist's ``currency`` object, which
has no ``thousandsSeparator``: a rebuild learns it from the first price of 1000 or more whose
string it explains (:func:`learn_separator`); until then, and wherever it fails, Centra's
strings are kept. :func:`pack_price` and :func:`unpack_price` are the one codec.

``_format_price`` keeps an ``lru_cache``: it is a pure function of its arguments, so an entry
can never be stale (nothing for ``storefront.localcache`` to reset).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from storefront.jsonio import JsonDict

ALL_PRICELISTS = "all"
PRICE_KEYS = (
    "price",
    "priceAsNumber",
    "priceBeforeDiscount",
    "priceBeforeDiscountAsNumber",
    "discountPercent",
    "showAsOnSale",
    "showAsNew",
)
# What a product without a price in the requested pricelist shows (Centra: "price null").
NULL_PRICE: JsonDict = {
    "price": None,
    "priceAsNumber": None,
    "priceBeforeDiscount": None,
    "priceBeforeDiscountAsNumber": None,
    "discountPercent": 0,
    "showAsOnSale": False,
    "showAsNew": False,
}
_ON_SALE = 1
_NEW = 2


def format_price(number: float | int, currency_format: dict[str, str]) -> str | None:
    return _format_price(number, tuple(sorted(currency_format.items())))


@lru_cache(maxsize=65_536)
def _format_price(number: float | int, frozen: tuple[tuple[str, str], ...]) -> str | None:
    """Centra's formatted price from the pricelist's ``currencyFormat``: prefix, the number with
    ``decimalDigits`` digits (half up), ``thousandsSeparator`` between groups of three,
    ``decimalPoint``, suffix; spaces in prefix and suffix are no-break spaces.
    None when the format cannot be read (the caller keeps Centra's string then)."""
    currency_format = dict(frozen)
    try:
        digits = int(currency_format.get("decimalDigits", "2"))
        value = Decimal(str(number)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    except (ValueError, InvalidOperation):
        return None
    whole, _, frac = f"{abs(value):.{digits}f}".partition(".")
    sep = currency_format.get("thousandsSeparator", "")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = sep.join(groups)
    if digits:
        text += currency_format.get("decimalPoint", ".") + frac
    if value < 0:
        text = "-" + text
    prefix = currency_format.get("prefix", "").replace(" ", "\u00a0")
    suffix = currency_format.get("suffix", "").replace(" ", "\u00a0")
    return f"{prefix}{text}{suffix}"


def learn_separator(currency_format: dict[str, str], price: JsonDict) -> None:
    """Learn the thousands separator a format does not name (today's Currency object has none)
    from Centra's own string of a price of 1000 or more, and write it into the format. Only a
    separator that reproduces that string exactly is taken; otherwise nothing is learned, and
    every price keeps whichever strings we cannot reproduce (:func:`pack_price`)."""
    for number_key, text_key in (
        ("priceAsNumber", "price"),
        ("priceBeforeDiscountAsNumber", "priceBeforeDiscount"),
    ):
        if "thousandsSeparator" in currency_format:
            return
        number, text = price.get(number_key), price.get(text_key)
        if isinstance(number, bool) or not isinstance(number, (int, float)) or abs(number) < 1000:
            continue
        if not isinstance(text, str):
            continue
        for candidate in _separator_candidates(text):
            trial = {**currency_format, "thousandsSeparator": candidate}
            if format_price(number, trial) == text:
                currency_format["thousandsSeparator"] = candidate
                break


def _separator_candidates(text: str) -> list[str]:
    """Every run of non-digits between two digits of ``text``, and no separator at all."""
    runs: list[str] = []
    current = ""
    seen_digit = False
    for ch in text:
        if ch.isdigit():
            if seen_digit and current and current not in runs:
                runs.append(current)
            current = ""
            seen_digit = True
        elif seen_digit:
            current += ch
    return [*runs, ""]


def pack_price(price: JsonDict, currency_format: dict[str, str]) -> list[Any] | JsonDict:
    """One pricelist's price as ``[number, before, discountPercent, flags]`` (plus Centra's two
    strings when our formatting would differ); anything unexpected is kept whole."""
    if set(price) != set(PRICE_KEYS):
        return dict(price)
    number = price["priceAsNumber"]
    before = price["priceBeforeDiscountAsNumber"]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (number, before)):
        return dict(price)
    if not isinstance(price["showAsOnSale"], bool) or not isinstance(price["showAsNew"], bool):
        return dict(price)
    flags = (_ON_SALE if price["showAsOnSale"] else 0) | (_NEW if price["showAsNew"] else 0)
    packed: list[Any] = [number, before, price["discountPercent"], flags]
    if (
        format_price(number, currency_format) != price["price"]
        or format_price(before, currency_format) != price["priceBeforeDiscount"]
    ):
        packed += [price["price"], price["priceBeforeDiscount"]]
    return packed


def unpack_price(packed: list[Any] | JsonDict, currency_format: dict[str, str]) -> JsonDict:
    if isinstance(packed, dict):
        return dict(packed)
    number, before, percent, flags = packed[0], packed[1], packed[2], packed[3]
    if len(packed) > 4:
        text, before_text = packed[4], packed[5]
    else:
        text = format_price(number, currency_format)
        before_text = format_price(before, currency_format)
    return {
        "price": text,
        "priceAsNumber": number,
        "priceBeforeDiscount": before_text,
        "priceBeforeDiscountAsNumber": before,
        "discountPercent": percent,
        "showAsOnSale": bool(flags & _ON_SALE),
        "showAsNew": bool(flags & _NEW),
    }


def price_number(packed: list[Any] | JsonDict) -> float | None:
    """The sort key of ``priceAsNumber``."""
    value = packed.get("priceAsNumber") if isinstance(packed, dict) else packed[0]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
