"""Search rules: normalisation, words, prefix and typo matching through the vocabulary."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.search import (
    INDEXED_LETTERS,
    Vocabulary,
    allowed_edits,
    candidates_of,
    normalize,
    osa_within,
    query_words,
    tokenize,
)


def osa_distance(a: str, b: str) -> int:
    """The textbook optimal string alignment distance, as the oracle."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def matches(q: str, w: str) -> bool:
    limit = allowed_edits(q)
    return w.startswith(q) or (limit > 0 and osa_distance(q, w) <= limit)


def test_normalize_folds_case_and_diacritics() -> None:
    assert normalize("GRÖN") == normalize("grön") == "gron"
    assert normalize("Øystein Größe Æble") == "oystein grosse aeble"
    assert tokenize("T-shirt W30/L32, Små_Ting") == ["t", "shirt", "w30", "l32", "sma", "ting"]


def test_tokenize_is_the_same_cut_at_whitespace_or_not() -> None:
    text = "Grön\u00a0Atelier   Åsa¨x långärmad\ttopp"
    assert tokenize(text) == __import__("re").findall(r"[^\W_]+", normalize(text))


def test_query_without_words_is_no_criterion() -> None:
    assert query_words("") == []
    assert query_words(" - ") == []
    assert query_words("b a a") == ["a", "b"]


def test_prefix_and_typo_matching() -> None:
    vocab = Vocabulary(["product", "gron", "test", "jeans", "sweater", "top"])
    words = vocab.words

    def found(q: str) -> set[str]:
        return {words[n] for n in vocab.matching(q)}

    assert found("prdct") == {"product"}  # two deletions, five letters
    assert found("gron") == {"gron"}
    assert found("jeens") == {"jeans"}
    assert found("swetr") == {"sweater"}
    assert found("tpo") == set()  # three letters: prefixes only
    assert found("to") == {"top"}
    assert found("tset") == {"test"}  # a transposition is one edit


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcd", max_size=12), st.text(alphabet="abcd", max_size=12))
def test_osa_within_agrees_with_the_textbook_distance(a: str, b: str) -> None:
    d = osa_distance(a, b)
    for limit in range(4):
        assert osa_within(a, b, limit) == (d <= limit)


@settings(max_examples=250, deadline=None)
@given(
    st.lists(st.text(alphabet="abcd0123", min_size=1, max_size=9), min_size=1, max_size=40),
    st.text(alphabet="abcd0123", min_size=1, max_size=9),
)
def test_vocabulary_finds_exactly_the_matching_words(words: list[str], q: str) -> None:
    """Words and codes alike (a code, more digits than edits allowed, is not in the typo
    index but walked: catalog.search.words_within)."""
    vocab = Vocabulary(words)
    got = {vocab.words[n] for n in vocab.matching(q)}
    assert got == {w for w in set(words) if matches(q, w)}


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="abc", max_size=14),
    st.text(alphabet="abc", max_size=14),
    st.integers(min_value=1, max_value=8),
)
def test_prefix_deletion_keys_find_every_word_within_the_distance(
    a: str, b: str, letters: int
) -> None:
    """The index looks words up by their first letters only; no match may be lost by that."""
    d = osa_distance(a, b)
    for depth in (1, 2):
        if d <= depth:
            assert candidates_of(a, depth, letters) & candidates_of(b, depth, letters)


def test_long_words_match_with_typos_as_short_ones_do() -> None:
    long_words = [
        "vattenavvisandefunktionsjacka",
        "regenbekleidungsjackenkollektion",
        "superlightweightwindbreakerjacket",
        "x" * 60,
    ]
    vocab = Vocabulary([*long_words, "jacka", "jacket"])
    queries = [
        "vattenavvisandefunktionsjakca",  # a transposition near the end
        "vatenavvisandefunktionsjacka",  # a letter missing near the start
        "regenbekleidungsjackenkollektiom",
        "superlightweightwindbreakerjackets",  # one letter more
        "superlightweightwindbreaker",  # a prefix
        "x" * 62,
        "x" * 63,  # three edits: no match
        "xx" + "y" * 58,
    ]
    for q in queries:
        got = {vocab.words[n] for n in vocab.matching(q)}
        assert got == {w for w in vocab.words if matches(q, w)}, q


def test_a_word_costs_a_bounded_number_of_lookups_whatever_its_length() -> None:
    # 1 + 20 + 190 keys at most: the first INDEXED_LETTERS letters with up to two removed
    bound = 1 + INDEXED_LETTERS + INDEXED_LETTERS * (INDEXED_LETTERS - 1) // 2
    for n in (5, 20, 21, 400, 60_000):
        word = "".join(chr(97 + i % 26) for i in range(n))
        assert len(candidates_of(word, 2)) <= bound
    # and a long word, which the unbounded matcher took minutes over, matches nothing at once
    vocab = Vocabulary(["jeans", "sweater", "a" * 40])
    for n in (200, 400, 60_000):
        assert vocab.matching("a" * n) == ()
        assert vocab.matching("ab" * (n // 2)) == ()
