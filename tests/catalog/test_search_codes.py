"""Codes (words with more digits than a typo can edit away) are left out of the typo index
and found by walking the sorted vocabulary (catalog.search.words_within): every match stays."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import search
from catalog.search import MAX_EDITS, Vocabulary, is_code, nearest_word, words_within
from tests.catalog.test_search import matches, osa_distance


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet="ab12", min_size=1, max_size=9), min_size=1, max_size=40),
    st.text(alphabet="ab12", max_size=10),
    st.integers(min_value=0, max_value=3),
)
def test_the_walk_finds_exactly_the_words_within_the_distance(
    words: list[str], q: str, limit: int
) -> None:
    vocabulary = sorted(set(words))
    got = {vocabulary[n] for n in words_within(vocabulary, q, limit)}
    assert got == {w for w in vocabulary if osa_distance(q, w) <= limit}


def test_codes_stay_out_of_the_typo_index_and_are_still_found() -> None:
    # given a catalog whose codes are one per product, as sku tokens are
    codes = [f"alv{n}" for n in range(10_000, 10_400)]
    vocab = Vocabulary(["linne", "svart", "abc12", *codes])
    # when a typo of a word and of a code is looked for
    assert {vocab.words[n] for n in vocab.matching("svrat")} == {"svart"}
    got = {vocab.words[n] for n in vocab.matching("alv10o15")}
    # then the codes within reach match, and the index holds no variant of any code
    assert got == {w for w in codes if matches("alv10o15", w)}
    assert "alv10015" in got
    assert not any(is_code(w) for w in search._deletion_index._known)
    assert is_code("alv10015")
    assert not is_code("ab12")
    assert MAX_EDITS == 2
    # a word of two digits is still indexed (a query without digits can reach it)
    assert {vocab.words[n] for n in vocab.matching("abcde")} == {"abc12"}


def test_a_suggestion_for_a_code_is_found_as_before() -> None:
    postings = {w: [0] for w in ("linne", "alv10015", "alv10016", "alv20031")}
    assert nearest_word("alv1o015", postings) == "alv10015"
    assert nearest_word("alv2o03", postings) == "alv20031"
    assert nearest_word("linen", postings) == "linne"


def test_a_long_query_with_digits_walks_a_band_not_the_word() -> None:
    vocab = Vocabulary(["alv10015", "1" * 40])
    assert vocab.matching("1" * 60_000) == ()
    assert {vocab.words[n] for n in vocab.matching("1" * 41)} == {"1" * 40}
