"""Search normalisation and matching (sandbox.search), with property tests."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sandbox import search

words = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd")), min_size=1,
                max_size=12)  # fmt: skip
ascii_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10)


def test_normalize_folds_case_and_diacritics() -> None:
    assert search.normalize("GRÖN") == "gron"
    assert search.normalize("små") == "sma"
    assert search.normalize("Größe") == "grosse"
    assert search.normalize("Øystein Æble") == "oystein aeble"
    assert search.normalize("Linnéa") == "linnea"


def test_tokenize_splits_on_everything_but_letters_and_digits() -> None:
    assert search.tokenize("W30/L32, t-shirt_x 30°C!") == [
        "w30",
        "l32",
        "t",
        "shirt",
        "x",
        "30",
        "c",
    ]
    assert search.tokenize(" - ") == []


def test_prefix_matches() -> None:
    assert search.matches_text("jea", "Slim jeans")
    assert search.matches_text("sl je", "Slim jeans")
    assert search.matches_text("jeansy", "Slim jeans")  # one edit away
    assert not search.matches_text("jeanszzz", "Slim jeans")


def test_fuzzy_needs_more_than_three_letters() -> None:
    # "tge" is one edit from "tee", but 3-letter words only match as prefixes
    assert not search.matches_text("tge", "tee")
    # 4 letters: one edit
    assert search.matches_text("jaens", "jeans")  # transposition
    assert search.matches_text("bluw", "blue")
    assert not search.matches_text("bxxe", "blue")
    # 5+ letters: two edits
    assert search.matches_text("prdct", "Test Product")
    assert not search.matches_text("prdxt", "prodact")  # three edits


def test_seed_examples() -> None:
    text = "Test Product, made in grön cotton"
    for query in ["test product", "test grön", "product gron", "prdct gron"]:
        assert search.matches_text(query, text), query


def test_osa_distance_known_values() -> None:
    assert search.osa_distance("", "abc") == 3
    assert search.osa_distance("kitten", "sitting") == 3
    assert search.osa_distance("ca", "ac") == 1
    assert search.osa_distance("ca", "abc") == 3  # OSA, not unrestricted Damerau-Levenshtein


@given(words)
def test_normalize_is_idempotent(text: str) -> None:
    once = search.normalize(text)
    assert search.normalize(once) == once


@given(words)
def test_case_never_matters(text: str) -> None:
    assert search.tokenize(text.upper()) == search.tokenize(text.lower()) or any(
        len(ch.upper()) != 1 or len(ch.lower()) != 1 for ch in text
    )


@given(ascii_words, ascii_words)
def test_every_word_matches_itself_and_its_extensions(word: str, tail: str) -> None:
    assert search.matches_text(word, word)
    assert search.matches_text(word, word + tail)
    assert search.matches_text(word.upper(), word + tail)


@given(ascii_words, ascii_words)
def test_distance_is_symmetric_and_bounded(a: str, b: str) -> None:
    d = search.osa_distance(a, b)
    assert d == search.osa_distance(b, a)
    assert abs(len(a) - len(b)) <= d <= max(len(a), len(b))
    assert (d == 0) == (a == b)


@given(st.text(alphabet="abcdefghij", min_size=5, max_size=9), st.integers(0, 8))
def test_one_deletion_still_matches_long_words(word: str, at: int) -> None:
    at %= len(word)
    typo = word[:at] + word[at + 1 :]
    # a 4+ letter query one edit away matches
    if len(typo) >= 4:
        assert search.matches_text(typo, word)


@given(st.lists(ascii_words, min_size=1, max_size=4), st.lists(ascii_words, max_size=4))
def test_all_query_words_must_match(query: list[str], extra: list[str]) -> None:
    text = " ".join(query + extra)
    assert search.matches_text(" ".join(query), text)
    assert search.matches_text(" ".join(reversed(query)), text)


@given(ascii_words)
def test_diacritics_on_the_text_or_the_query_do_not_matter(word: str) -> None:
    accented = word.replace("a", "å").replace("o", "ö").replace("e", "é")
    assert search.matches_text(word, accented)
    assert search.matches_text(accented, word)
