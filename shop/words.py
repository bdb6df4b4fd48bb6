"""The shop's own words in the visitor's language, from the gettext catalogues in ``shop/locale``.

Product and category text comes translated from Centra; these are the words of the pages
themselves ("Add to bag", "Pay {amount}"). The catalogues are Django's: ``msgid`` is the English
text, which is also what a visitor sees when a language or a text has no entry. Values are filled
in with ``str.format`` after translating, so a translation may move them around.

Only the languages the shop has catalogues for are looked up: Django's own catalogues (admin,
auth) also know a few of these texts ("Password"), and a shop language we have no words for,
say French, should read English throughout rather than a sentence of Django's here and there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.translation import trans_real

LOCALE_DIR = Path(__file__).resolve().parent / "locale"

# The languages with a catalogue (shop/locale/<code>/LC_MESSAGES/django.mo). English is the
# catalogues' source language and needs none.
LANGUAGES = frozenset(
    path.parent.parent.name for path in LOCALE_DIR.glob("*/LC_MESSAGES/django.mo")
)


def translate(language: str, text: str, **values: Any) -> str:
    """``text`` in ``language``, else as it is; then ``values`` filled in. A text with braces
    of its own (one of Centra's error texts) is left alone when the values do not fit it."""
    words = text
    if language in LANGUAGES and text:
        # The language's merged catalogue directly, not gettext() under override(): no
        # activate/deactivate per call, and Django caches the object per language (and drops
        # it when LOCALE_PATHS or INSTALLED_APPS change, as in tests). An empty text would
        # give the catalogue's header, hence the ``text`` check above.
        words = trans_real.translation(language).gettext(text)
    if not values:
        return words
    try:
        return words.format(**values)
    except (KeyError, IndexError, ValueError):
        return words
