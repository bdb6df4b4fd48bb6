"""Country names and dates in the page's language, from the Unicode CLDR (the ``babel`` package).

Centra names a country once, in its main language ("Germany" on a Swedish page), and sends
dates as ``YYYY-MM-DD HH:MM:SS``; a product's origin is a bare ISO code. The pages show them
the way the visitor's language writes them: ``country_name("DE", "sv")`` is "Tyskland",
``datetime_text("2026-12-04 20:07:43", "de")`` is "4. Dezember 2026, 20:07". What CLDR does
not know (an odd code, an unreadable date, a language babel has no data for) is shown as
Centra sent it, never an error. Centra's dates carry no zone: they are shown as they are.

The shop's own words (order statuses among them) are in its gettext catalogues
(:mod:`shop.words`); this module is only for what CLDR already translates.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_date, format_time, get_datetime_format

FALLBACK = "en"
# Letters that sort after "z" in these languages' alphabets (Swedish and Finnish: å, ä, ö).
_AFTER_Z = {"sv": "åäö", "fi": "åäö"}


@lru_cache(maxsize=64)
def _locale(language: str) -> Locale:
    """The CLDR locale of a Centra language code (``sv``, ``sv-SE``, ``sv_SE``); English for
    one babel does not know."""
    try:
        return Locale.parse(language.strip().replace("-", "_") or FALLBACK)
    except (ValueError, TypeError, UnknownLocaleError):
        return Locale.parse(FALLBACK)


@lru_cache(maxsize=64)
def main_country(language: str) -> str:
    """The country a language is most spoken in, by CLDR's likely subtags (``sv`` -> SE,
    ``en`` -> US, ``de`` -> DE); '' for a language CLDR does not know."""
    code = language.strip().replace("-", "_").split("_")[0].lower()
    likely = str(get_global("likely_subtags").get(code, ""))
    region = likely.rsplit("_", 1)[-1] if "_" in likely else ""
    return region if len(region) == 2 and region.isalpha() else ""


@lru_cache(maxsize=4096)
def country_name(code: str, language: str, fallback: str = "") -> str:
    """The country ``code`` (ISO 3166 alpha-2, any case) by its name in ``language``; else
    ``fallback`` (Centra's own name), else the code as it came."""
    key = code.strip().upper()
    name = _locale(language).territories.get(key) if key.isalpha() else None
    return name or fallback or code


def sort_key(name: str, language: str) -> tuple[str, ...]:
    """A name's place in an alphabetical list in ``language``: accents do not count (É is E),
    except letters the language's alphabet puts after z (Swedish Å, Ä, Ö)."""
    after = _AFTER_Z.get(language.split("-")[0].split("_")[0].lower(), "")
    out: list[str] = []
    for ch in name.casefold():
        if ch in after:
            out.append("{" + str(after.index(ch)))  # "{" sorts after "z"
        else:
            base = unicodedata.normalize("NFD", ch)[0]
            out.append(base)
    return tuple(out)


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def datetime_text(value: str, language: str) -> str:
    """Centra's ``YYYY-MM-DD HH:MM:SS`` (or an ISO date) as ``language`` writes a date and a
    time ("4 december 2026 20:07"); a date alone as a date; anything else as it came."""
    when = _parse(value)
    if when is None:
        return value
    locale = _locale(language)
    day = format_date(when, "long", locale=locale)
    if len(value.strip()) <= len("YYYY-MM-DD"):
        return day
    time = format_time(when, "short", locale=locale)
    # The way CLDR joins a date and a time in this language ("{1} 'at' {0}"), as babel's own
    # format_datetime joins them (quotes dropped).
    pattern = str(get_datetime_format("long", locale=locale))
    return pattern.replace("'", "").replace("{0}", time).replace("{1}", day)


@lru_cache(maxsize=4096)
def date_text(value: str, language: str) -> str:
    """The date part alone ("4 december 2026"); anything unreadable as it came."""
    when = _parse(value)
    return value if when is None else format_date(when, "long", locale=_locale(language))
