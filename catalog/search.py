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

Bounded work, whatever the word: the deletion index holds the variants of each word's first
:data:`INDEXED_LETTERS` letters only, and a query word is looked up by its first
:data:`INDEXED_LETTERS` letters too, so a word of any length costs at most a few hundred
look-ups (a 400-letter word used to cost 10 million, growing with the cube of its length).
That loses no match: two words within distance d have prefixes of that length that are also
within d deletions of a common string (see :func:`candidates_of`). The candidates are then
checked with a banded distance computation, linear in the word's length.

The deletion index holds the words of the language only, not codes: a word with more digits
than :data:`MAX_EDITS` (a sku or style number, one per product: most of a large catalog's
vocabulary) is within reach of a query word only if that one has a digit too, since every edit
changes the count of digits by at most one. Such query words (rare: a shopper typing a code)
walk the generation's sorted vocabulary as a trie instead (:func:`words_within`), which costs
no memory. So the index grows with the language, not with the catalog.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

from catalog.bitsets import bits_from

# Letters NFKD does not decompose into a base letter plus marks.
_EXTRA_FOLDS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ð": "d", "đ": "d", "ł": "l", "þ": "th", "\u0131": "i"}
)
# A word: a run of letters and digits (product texts, queries, and the words a suggestion is
# written back from, shop.catalog_pages).
WORD = re.compile(r"[^\W_]+")
MAX_EDITS = 2
# Words are indexed and looked up by this many first letters: real words are shorter (so they
# are indexed whole), and it caps the deletion variants of any word at 1 + 20 + 190.
INDEXED_LETTERS = 20


def normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.translate(_EXTRA_FOLDS).casefold()


@lru_cache(maxsize=8192)
def _chunk_words(chunk: str) -> tuple[str, ...]:
    if chunk.isascii():
        return tuple(WORD.findall(chunk.lower()))  # NFKD and the folds change no ASCII
    return tuple(WORD.findall(normalize(chunk)))


def forget_pieces() -> None:
    """Empty the cache of text pieces' words (:func:`tokenize`; refilled as texts come): the
    rebuild frees it before it builds the index, over memory the index can reuse."""
    _chunk_words.cache_clear()


def tokenize(text: str) -> list[str]:
    """The words of a text, normalised, in order. Whitespace never becomes part of a word,
    so the text is cut at it first and each piece's words are remembered: product texts
    repeat the same few thousand pieces."""
    out: list[str] = []
    for chunk in text.split():
        out.extend(_chunk_words(chunk))
    return out


def query_words(text: str) -> list[str]:
    """The distinct words of a query; empty means "matches everything". Not through the
    cache of :func:`tokenize`: that one is for product texts, which repeat, and a stream of
    made-up queries would only fill it."""
    return sorted(set(WORD.findall(normalize(text))))


def words_in_order(text: str) -> list[str]:
    """The distinct words of a query in the order they first appear."""
    return list(dict.fromkeys(WORD.findall(normalize(text))))


def allowed_edits(word: str) -> int:
    n = len(word)
    if n <= 3:
        return 0
    return 1 if n == 4 else 2


def osa_within(a: str, b: str, limit: int) -> bool:
    """Optimal string alignment distance of ``a`` and ``b`` is at most ``limit``.

    Only the band of cells within ``limit`` of the diagonal is computed (an alignment that
    leaves it already costs more), so the work is linear in the words' length."""
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return False
    if limit == 0:
        return a == b
    over = limit + 1  # any cost above the limit, kept small
    prev2: list[int] = []
    prev = [j if j <= limit else over for j in range(lb + 1)]
    for i in range(1, la + 1):
        cur = [over] * (lb + 1)
        if i <= limit:
            cur[0] = i
        best = cur[0]
        ai = a[i - 1]
        for j in range(max(1, i - limit), min(lb, i + limit) + 1):
            cost = 0 if ai == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ai == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            v = min(v, over)
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


# A word with more digits than any query word without one can be edited away (MAX_EDITS).
_CODE = re.compile(rf"(?:\D*\d){{{MAX_EDITS + 1}}}")
_DIGIT = re.compile(r"\d")


def is_code(word: str) -> bool:
    """More digits than :data:`MAX_EDITS`: reachable only from a query word with a digit."""
    return _CODE.match(word) is not None


def has_digit(word: str) -> bool:
    return _DIGIT.search(word) is not None


def words_within(words: Sequence[str], query_word: str, limit: int) -> list[int]:
    """Positions in ``words`` (sorted) of the words within optimal string alignment distance
    ``limit`` of ``query_word``: a depth-first walk of the trie the sorted list is (a
    prefix's words are a range, found by bisection), one band of the distance table per
    prefix, a prefix left as soon as its band's best exceeds the limit (no longer word of it
    can come back: the best of a row never decreases). No index: the cost grows with the
    prefixes near the query word and the limit, not with the vocabulary or the word."""
    n = len(query_word)
    over = limit + 1
    # A band holds D[i][i - limit + t] for t in 0..2*limit (i: the prefix's length).
    first = [t - limit if t >= limit and t - limit <= n else over for t in range(2 * limit + 1)]
    found: list[int] = []
    # (prefix, its range [lo, hi) in words, the band of its parent, its band)
    stack: list[tuple[str, int, int, list[int], list[int]]] = [("", 0, len(words), [], first)]
    while stack:
        prefix, lo, hi, parent, band = stack.pop()
        k = len(prefix)
        if lo < hi and len(words[lo]) == k:  # the prefix is a word itself (sorted first)
            t = n - k + limit
            if 0 <= t <= 2 * limit and band[t] <= limit:
                found.append(lo)
            lo += 1
        i = lo
        while i < hi:
            c = words[i][k]
            j = bisect_left(words, prefix + chr(ord(c) + 1), i, hi)
            child = _next_band(query_word, prefix, c, parent, band, limit)
            if min(child) <= limit:
                stack.append((prefix + c, i, j, band, child))
            i = j
    return found


def _next_band(
    query_word: str, prefix: str, c: str, parent: list[int], band: list[int], limit: int
) -> list[int]:
    """The band of the distance table for ``prefix + c`` against ``query_word``'s prefixes,
    from the bands of ``prefix`` and of its parent (see :func:`words_within`)."""
    n = len(query_word)
    over = limit + 1
    width = 2 * limit + 1
    i = len(prefix) + 1
    last = prefix[-1] if prefix else ""
    cur = [over] * width
    for t in range(width):
        j = i - limit + t
        if j < 0 or j > n:
            continue
        if j == 0:
            cur[t] = i if i <= limit else over
            continue
        q = query_word[j - 1]
        v = band[t] + (q != c)  # D[i-1][j-1]
        if t + 1 < width:
            v = min(v, band[t + 1] + 1)  # D[i-1][j]
        if t > 0:
            v = min(v, cur[t - 1] + 1)  # D[i][j-1]
        if j > 1 and last and c == query_word[j - 2] and last == q:
            v = min(v, parent[t] + 1)  # D[i-2][j-2]: a transposition
        cur[t] = min(v, over)
    return cur


def candidates_of(word: str, depth: int, letters: int = INDEXED_LETTERS) -> set[str]:
    """The keys a word is indexed (and looked up) by: its first ``letters`` letters with up
    to ``depth`` of them removed.

    Complete: if the distance of words ``q`` and ``w`` is at most d, the alignment's matched
    characters within both prefixes form a string that d deletions reach from each prefix.
    A prefix holds at most d characters the alignment does not match within the other prefix
    (edited ones, or ones matched past the other's cut, which the cut balances by as many
    unmatched characters on the other side), so the prefixes share a key.
    tests/catalog/test_search.py checks this against the full distance."""
    return deletions(word[:letters], depth)


class DeletionIndex:
    """The deletion keys of every known word (:func:`candidates_of`) -> the words; codes
    (:func:`is_code`) are left out: they are found by :func:`words_within`.

    One per process, shared by every market and generation (their vocabularies overlap almost
    entirely) and only ever grown, so a new generation costs only its new words. Words a
    generation does not have can come back as candidates; they match no product there.
    """

    def __init__(self) -> None:
        # A variant most often stands for one word: then the word itself, not a list of one
        # (a list costs 64 bytes more, and the index holds some 17 variants a word).
        self._variants: dict[str, str | list[str]] = {}
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def add(self, words: Iterable[str]) -> None:
        known = self._known
        new = [w for w in words if w not in known and not is_code(w)]
        if not new:
            return
        with self._lock:
            for word in new:
                if word in self._known:
                    continue
                for variant in candidates_of(word, MAX_EDITS):
                    found = self._variants.get(variant)
                    if found is None:
                        self._variants[variant] = word
                    elif isinstance(found, str):
                        self._variants[variant] = [found, word]
                    else:
                        found.append(word)
                self._known.add(word)

    def candidates(self, query_word: str, limit: int) -> set[str]:
        out: set[str] = set()
        for variant in candidates_of(query_word, limit):
            found = self._variants.get(variant)
            if isinstance(found, str):
                out.add(found)
            elif found is not None:
                out.update(found)
        return out


_deletion_index = DeletionIndex()


class Vocabulary:
    """The distinct words of a generation; typos are found through the shared deletion index.

    Two words within distance d share a string reachable by at most d deletions from
    each (a substitution or a transposition is one deletion on each side, an insertion one
    on the longer side), so the deletion index finds every candidate; the distance check
    then removes the false ones.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self.words: list[str] = sorted(set(words))
        self._position: dict[str, int] | None = None
        self._indexed = False
        self._cache: dict[str, tuple[int, ...]] = {}

    @property
    def position(self) -> dict[str, int]:
        """Word -> its index in ``words``: made when a typo is first looked up (a search
        without typos, and a vocabulary patched between two, never needs it)."""
        position = self._position
        if position is None:
            position = self._position = {w: n for n, w in enumerate(self.words)}
        return position

    def changed(self, came: Iterable[str], gone: Iterable[str]) -> Vocabulary:
        """A vocabulary with the words ``came`` and without ``gone``, from this one's sorted
        words (a copy and a few insertions in C, not a sort: :mod:`catalog.index_patch`)."""
        words = self.words.copy()
        for word in gone:
            i = bisect_left(words, word)
            if i < len(words) and words[i] == word:
                del words[i]
        for word in came:
            i = bisect_left(words, word)
            if i == len(words) or words[i] != word:
                words.insert(i, word)
        out = Vocabulary(())
        out.words = words
        return out

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
        if limit and has_digit(query_word):
            hits.update(words_within(words, query_word, limit))  # codes are not indexed
        elif limit:
            if not self._indexed:
                _deletion_index.add(words)
                self._indexed = True
            for word in _deletion_index.candidates(query_word, limit):
                n = self.position.get(word)
                if n is not None and n not in hits and osa_within(query_word, word, limit):
                    hits.add(n)
        result = tuple(sorted(hits))
        if len(self._cache) > 10_000:
            self._cache.clear()  # a crude bound: query words are few in practice
        self._cache[query_word] = result
        return result


# -- relevance: the shop's search page ---------------------------------------------------------
#
# Centra's API answers a search in its own order (the default order, or a sortOrder), and the
# catalog's API keeps that. The shop's search page ranks instead; see :func:`relevance`.

EXACT = 3
PREFIX = 2
TYPO = 1
# Points of a query word's best match in a product: in the words it is named by (name, colour
# name, brand: :func:`catalog.documents.name_text`), or only in its other words (description,
# categories, collection, sku).
NAMED_POINTS = {EXACT: 3.0, PREFIX: 2.0, TYPO: 1.0}
OTHER_POINTS = {EXACT: 0.5, PREFIX: 0.5, TYPO: 0.25}
# "Did you mean": a word no product has is replaced by the nearest one within this many edits.
MAX_SUGGESTED_EDITS = 3


def match_kind(query_word: str, word: str) -> int:
    """How ``query_word`` matches a product's ``word`` by the rules above: :data:`EXACT`,
    :data:`PREFIX`, :data:`TYPO`, or 0 (no match)."""
    if word == query_word:
        return EXACT
    if word.startswith(query_word):
        return PREFIX
    limit = allowed_edits(query_word)
    if limit and osa_within(query_word, word, limit):
        return TYPO
    return 0


def word_points(kind: int, named: bool) -> float:
    if not kind:
        return 0.0
    return (NAMED_POINTS if named else OTHER_POINTS)[kind]


def relevance(query: Iterable[str], named: Iterable[str], words: Iterable[str]) -> float:
    """How well a product matches a query on the shop's search page: per query word the points
    of its best match among the product's own words, summed.

    ==================================================  ======
    the word as typed, in the name, colour or brand      3
    a prefix of a word there ("tröj" for "tröja")        2
    a typo of a word there (within Centra's distance)    1
    as typed or a prefix, only in other words            0.5
    a typo, only in other words                          0.25
    ==================================================  ======

    Why: what a shopper types is mostly what the product is called or who makes it ("tröja",
    "Grön Atelier"), so a hit there says far more than one in the description, which mentions
    materials, care and fit of every kind of product ("torka plant" is not a sweater). A
    whole word beats a word begun, which beats a correction, whose guess may be wrong. The
    steps are wide: one word in the name outweighs five found only elsewhere. A product only
    in the results through another colour of its style gets points for its own words only,
    so it follows the colours that match. Equal points keep the engine's order (Centra's
    default order). ``named`` are the product's words of name, colour and brand, ``words``
    all its searchable words (``named`` among them).
    """
    named_set = set(named)
    every = named_set.union(words)
    total = 0.0
    for q in query:
        best = 0.0
        for w in every:
            best = max(best, word_points(match_kind(q, w), w in named_set))
        total += best
    return total


def as_typed(query: Iterable[str], words: Iterable[str]) -> bool:
    """Every query word is a word of ``words`` or begins one: no typo needed. When any product
    matches so, the search page shows only those (typos are the fallback; see
    :class:`Ranking`)."""
    own = list(words)
    return all(any(match_kind(q, w) in (EXACT, PREFIX) for w in own) for q in query)


@dataclass(frozen=True)
class Ranking:
    """A query over one language of a generation: ``points`` per ordinal (:func:`relevance`,
    products without any own match left out) and ``typed``, the products that match every
    query word as typed (:func:`as_typed`) by their own words, as a bitset.

    The search page's rule: when ``typed`` is not empty, the results are those products (and
    the other colours of their styles, Centra's variant rule); only a query that nothing
    matches as typed gets the typo matches. "Tröja" then lists the sweaters, not the bags and
    sneakers whose care text says "trasa" or "torka"; "trja" still finds the sweaters.
    Description words as typed stay: "linne" is a tank top by name and linen by description,
    and both are what the shopper wrote; they rank after the names."""

    points: dict[int, float]
    typed: int


def rank(
    words: Iterable[str],
    vocabulary: Vocabulary,
    postings: Mapping[str, Sequence[int]],
    named: Sequence[frozenset[str]] | None,
    size: int,
    *,
    named_by: Mapping[str, Sequence[int]] | None = None,
) -> Ranking:
    """:class:`Ranking` from the vocabulary (the same matching words as the engine's search,
    each classified once) rather than product by product: ``postings`` maps a word to the
    ordinals having it, ``named`` holds each ordinal's named words, or ``named_by`` (what the
    snapshot keeps: no set of words per product) maps a word to the ordinals named by it."""
    points: dict[int, float] = {}
    typed_all = (1 << size) - 1
    for q in words:
        best: dict[int, float] = {}
        typed: list[int] = []
        for n in vocabulary.matching(q):
            word = vocabulary.words[n]
            found = postings.get(word)
            kind = match_kind(q, word)
            if not found or not kind:
                continue
            if kind != TYPO:
                typed.extend(found)
            strong, weak = NAMED_POINTS[kind], OTHER_POINTS[kind]
            named_here = set(named_by.get(word, ())) if named_by is not None else None
            for o in found:
                if named_here is not None:
                    p = strong if o in named_here else weak
                else:
                    p = strong if named is not None and word in named[o] else weak
                if p > best.get(o, 0.0):
                    best[o] = p
        typed_all &= bits_from(typed, size)
        for o, p in best.items():
            points[o] = points.get(o, 0.0) + p
    return Ranking(points=points, typed=typed_all)


def nearest_word(
    query_word: str, postings: Mapping[str, Sequence[int]], words: Sequence[str] | None = None
) -> str | None:
    """The word of ``postings`` nearest to ``query_word`` (optimal string alignment distance,
    at most :data:`MAX_SUGGESTED_EDITS` and at most half the word's length, so "xq" is not
    "turned into" any two letters); of equally near words the one most products have, then
    the first alphabetically. None: nothing near.

    Up to :data:`MAX_EDITS` edits the deletion index finds every candidate (with, for a query
    word with a digit, the walk of the codes it leaves out: :func:`words_within`); a word
    three edits away is looked for only among the words with the same first letter (shoppers
    seldom mistype that one, and it keeps the pass over the vocabulary to a small part of it).
    ``words``: the vocabulary sorted (:attr:`Vocabulary.words`), walked for codes; without it
    the codes of ``postings`` are sorted for the call."""
    n = len(query_word)
    if not n or n > 2 * INDEXED_LETTERS:
        return None
    codes: list[str] | None = None
    for d in range(1, min(MAX_SUGGESTED_EDITS, max(1, n // 2)) + 1):
        if d <= MAX_EDITS:
            if d == 1:
                _deletion_index.add(postings)
            pool: Iterable[str] = _deletion_index.candidates(query_word, d)
            if has_digit(query_word):  # codes are not indexed: a query word with a digit
                if codes is None:
                    codes = list(words) if words is not None else sorted(filter(is_code, postings))
                pool = [*pool, *(codes[i] for i in words_within(codes, query_word, d))]
        else:
            first = query_word[0]
            pool = (w for w in postings if w[:1] == first)
        near = [
            w
            for w in pool
            if w in postings and abs(len(w) - n) <= d and osa_within(query_word, w, d)
        ]
        if near:
            return min(near, key=lambda w: (-len(postings[w]), w))
    return None
