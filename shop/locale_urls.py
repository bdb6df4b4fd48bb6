"""The locale in the URL path: ``/se/sv/womens/jeans`` is the Swedish shop in Swedish.

A catalog page's URL names its country and language, so the URL alone decides the page (its
prices, currency and text): a crawler can reach every locale, hreflang alternates and sitemaps
can list them, and an edge cache keys on the URL without looking at cookies.

- The scheme is the setting ``SHOP_LOCALE_URL``: a path template with ``{country}`` and
  ``{language}`` (``{country}/{language}``, the default; ``{language}-{country}`` works too).
  Codes are lower case in the URL; a country is one the shop ships to (Centra's ``shipTo``)
  with a market, a language one of the shop's languages.
- A URL without a prefix (today's ``/womens/jeans``, the bare ``/``, ``/search``) redirects to
  the visitor's prefix: their chosen country and language (cookies), else the geo header's
  country with its default language, else ``DEFAULT_COUNTRY``. ``?lang=de`` there (the old
  form) picks the language. That redirect is a **302**, not a 301, on purpose: its target
  depends on who asks, and a 301 is kept by browsers and caches as the one answer for
  everyone (Google's advice for locale-adaptive redirects is the same).
- A prefixed URL with ``?lang=`` (an old link kept its parameter) is a 301 to the prefix of
  that language: its target depends only on the URL.
- The shopper's own pages (bag, checkout, account) carry no prefix: they belong to one
  visitor, are never cached, and follow the bag's country (the cookies).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

_COUNTRY = r"(?P<country>[a-z]{2})"
_LANGUAGE = r"(?P<language>[a-z]{2,3}(?:-[a-z0-9]{2,8})?)"


@dataclass(frozen=True)
class Locale:
    country: str  # upper case, as Centra names it ("SE")
    language: str  # the shop's language code ("sv")

    @property
    def prefix(self) -> str:
        """The path prefix of this locale (``/se/sv``); the home page's path."""
        return "/" + _scheme().format(country=self.country.lower(), language=self.language.lower())

    @property
    def hreflang(self) -> str:
        """The ``hreflang`` value of this locale (``sv-SE``)."""
        return f"{self.language}-{self.country.upper()}"


def _scheme() -> str:
    return str(settings.SHOP_LOCALE_URL).strip("/")


@lru_cache(maxsize=4)
def _compiled(scheme: str) -> re.Pattern[str]:
    return re.compile(prefix_regex(scheme) + r"(?=/|\Z)")


def prefix_regex(scheme: str | None = None) -> str:
    """A regular expression (no anchors) matching a prefix, with ``country`` and ``language``
    groups; for URL patterns."""
    scheme = _scheme() if scheme is None else scheme
    if scheme.count("{country}") != 1 or scheme.count("{language}") != 1:
        raise ValueError("SHOP_LOCALE_URL must hold {country} and {language} once each")
    parts = re.split(r"(\{country\}|\{language\})", scheme)
    pieces = {"{country}": _COUNTRY, "{language}": _LANGUAGE}
    return "".join(pieces.get(part, re.escape(part)) for part in parts)


def split(path: str) -> tuple[str, str, str] | None:
    """(country, language, rest) of a path that starts with a prefix-shaped part, the codes as
    the URL spells them and ``rest`` from its ``/`` ('' for the prefix alone); None otherwise.
    Whether the shop has that country and language is for the caller to check."""
    found = _compiled(_scheme()).match(path[1:] if path.startswith("/") else path)
    if found is None:
        return None
    return found["country"], found["language"], path[1 + found.end() :]
