"""Centra's text forms of amounts and texts: ``...AsNumber``, formatted prices, ``...Html``,
uri segments."""

from __future__ import annotations

import functools
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal


@functools.lru_cache(maxsize=65536)
def as_number(amount: float, digits: int) -> float | int:
    """``priceAsNumber``: rounded to the currency's digits; whole amounts as JSON integers."""
    rounded = float(Decimal(str(amount)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))
    return int(rounded) if rounded == int(rounded) else rounded


def format_amount(amount: float, currency_format: dict[str, str]) -> str:
    """Centra's formatted price: prefix + number + suffix, spaces in prefix/suffix as U+00A0."""
    # A page of 500 products formats thousands of prices; the answer depends on nothing else.
    return _format_amount(amount, tuple(sorted(currency_format.items())))


@functools.lru_cache(maxsize=65536)
def _format_amount(amount: float, format_items: tuple[tuple[str, str], ...]) -> str:
    currency_format = dict(format_items)
    digits = int(currency_format.get("decimalDigits", "2"))
    value = Decimal(str(amount)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    negative = value < 0
    whole, _, frac = f"{abs(value):.{digits}f}".partition(".")
    sep = currency_format.get("thousandsSeparator", "")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    number = sep.join(groups)
    if digits:
        number += currency_format.get("decimalPoint", ".") + frac
    if negative:
        number = "-" + number
    nbsp = "\u00a0"
    prefix = currency_format.get("prefix", "").replace(" ", nbsp)
    suffix = currency_format.get("suffix", "").replace(" ", nbsp)
    return f"{prefix}{number}{suffix}"


def to_html(text: str) -> str:
    """Plain text to Centra's ``...Html`` form: paragraphs in <p>, line breaks as <br />."""
    if not text:
        return ""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return "\n".join(
        "<p>" + "<br />\n".join(_escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slugify(text: str) -> str:
    """A uri segment from a name: ASCII letters and digits, words joined by "-"."""
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O"))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
