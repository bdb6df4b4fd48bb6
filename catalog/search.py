"""Free-text search over the cache: normalisation, tokens and a vocabulary index.

The rules are Centra's since v2.92 as the sandbox writes them down (sandbox/README.md):
case and diacritics are folded ("grön" finds "gron"), words are runs of letters and
digits, a query word matches a product word it is a prefix of, or (query words longer
than 3 characters) one within an optimal-string-alignment distance of 1 (4 characters)
or 2 (5 or more); a product matches when every query word matches one of its words.

Speed comes from working on the vocabulary, not on products: a query word is matched
against the distinct words of the generation once (prefixes by bisection in the sorted
vocabulary; typos through a symmetric-deletion index, so only a handful of candidates
get a real distance computation), and every matching word brings its product bitset.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable
from itertools import combinations

# Letters NFKD does not decompose into a base letter plus marks.
_EXTRA_FOLDS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ð": "d", "đ": "d", "ł": "l", "þ": "th", "ı": "i"}
)
_WORD = re.compile(r"[^\W_]+")
MAX_EDITS = 2


def normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.translate(_EXTRA_FOLDS).casefold()


def tokenize(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def query_words(text: str) -> list[str]:
    """The distinct words of a query; empty means "matches everything"."""
    return sorted(set(tokenize(text)))


def allowed_edits(word: str) -> int:
    n = len(word)
    if n <= 3:
        return 0
    return 1 if n == 4 else 2


def osa_within(a: str, b: str, limit: int) -> bool:
    """Optimal string alignment distance of ``a`` and ``b`` is at most ``limit``."""
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return False
    prev2: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        best = i
        ai = a[i - 1]
        for j in range(1, lb + 1):
            cost = 0 if ai == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ai == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return False  # every alignment already costs more than allowed
        prev2, prev = prev, cur
    return prev[lb] <= limit


def deletions(word: str, depth: int) -> set[str]:
    """``word`` with up to ``depth`` characters removed (itself included)."""
    out = {word}
    n = len(word)
    for k in range(1, min(depth, n) + 1):
        for idx in combinations(range(n), k):
            drop = set(idx)
            out.add("".join(ch for i, ch in enumerate(word) if i not in drop))
    return out


class Vocabulary:
    """The distinct words of a generation with a lazily built typo index.

    Two words within distance d share a string reachable by at most d deletions from
    each (a substitution or a transposition is one deletion on each side, an insertion one
    on the longer side), so the deletion index finds every candidate; the distance check
    then removes the false ones.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self.words: list[str] = sorted(set(words))
        self._deletes: dict[str, list[int]] | None = None
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[int, ...]] = {}

    def _delete_index(self) -> dict[str, list[int]]:
        index = self._deletes
        if index is None:
            with self._lock:
                index = self._deletes
                if index is None:
                    index = {}
                    for n, word in enumerate(self.words):
                        for variant in deletions(word, MAX_EDITS):
                            index.setdefault(variant, []).append(n)
                    self._deletes = index
        return index

    def matching(self, query_word: str) -> tuple[int, ...]:
        """Indexes (in ``words``) of the words ``query_word`` matches."""
        found = self._cache.get(query_word)
        if found is not None:
            return found
        hits: set[int] = set()
        words = self.words
        i = bisect_left(words, query_word)
        while i < len(words) and words[i].startswith(query_word):
            hits.add(i)
            i += 1
        limit = allowed_edits(query_word)
        if limit:
            index = self._delete_index()
            for variant in deletions(query_word, limit):
                for n in index.get(variant, ()):
                    if n not in hits and osa_within(query_word, words[n], limit):
                        hits.add(n)
        result = tuple(sorted(hits))
        if len(self._cache) > 10_000:
            self._cache.clear()  # a crude bound: query words are few in practice
        self._cache[query_word] = result
        return result
