"""Free-text search as Centra's Checkout API does it since v2.92, written down as exact rules.

1. Normalise: case-fold, decompose (NFKD), drop combining marks, then map the few letters
   that do not decompose (``ø``->``o``, ``æ``->``ae``, ``œ``->``oe``, ``ð``/``đ``->``d``,
   ``ł``->``l``, ``þ``->``th``, dotless ``i``->``i``). So "GRÖN", "grön" and "gron" are all "gron".
2. Tokenise the normalised text into maximal runs of letters and digits (``[^\\W_]+``):
   everything else (spaces, punctuation, ``-``, ``/``, ``_``, ``°``) separates words.
3. A query word matches a product word when the product word starts with it, or, when
   the query word is longer than 3 characters, when their Damerau-Levenshtein distance
   (optimal string alignment: insertions, deletions, substitutions and transpositions of
   adjacent characters, each costing 1, no substring edited twice) is at most 1 for a
   4-character query word and at most 2 for 5 or more characters.
4. A product matches a query when every query word matches at least one of its words.
   A query with no words (empty, or punctuation only) matches everything.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_EXTRA_FOLDS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ð": "d", "đ": "d", "ł": "l", "þ": "th", "\u0131": "i"}
)
_WORD = re.compile(r"[^\W_]+")


def normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Case-folding again catches letters whose decomposition produced new upper-case forms.
    return stripped.translate(_EXTRA_FOLDS).casefold()


def tokenize(text: str) -> list[str]:
    """The words of a text, normalised, in order (duplicates kept)."""
    return _WORD.findall(normalize(text))


@lru_cache(maxsize=200_000)
def word_set(text: str) -> frozenset[str]:
    """The distinct words of a text. Cached on the text itself, so an edited product simply
    produces a new text and a new entry: the cache can never be stale."""
    return frozenset(tokenize(text))


def max_distance(query_word: str) -> int:
    """How many edits a query word may be away from a product word (0: prefix match only)."""
    n = len(query_word)
    if n <= 3:
        return 0
    return 1 if n == 4 else 2


def osa_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance, optimal string alignment variant."""
    rows = len(a) + 1
    cols = len(b) + 1
    d = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        d[i][0] = i
    for j in range(cols):
        d[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


@lru_cache(maxsize=500_000)
def word_matches(query_word: str, product_word: str) -> bool:
    """Rule 3, on normalised words."""
    if product_word.startswith(query_word):
        return True
    limit = max_distance(query_word)
    if limit == 0 or abs(len(query_word) - len(product_word)) > limit:
        return False  # the length difference alone needs more edits than allowed
    return osa_distance(query_word, product_word) <= limit


def matches(query_words: Iterable[str], product_words: frozenset[str]) -> bool:
    """Rule 4: every (normalised) query word matches some product word."""
    return all(any(word_matches(q, w) for w in product_words) for q in query_words)


def matches_text(query: str, text: str) -> bool:
    """Convenience: does ``text`` match the free-text ``query``?"""
    return matches(tokenize(query), word_set(text))
