"""The search page's relevance (catalog.search.relevance, Ranking, nearest_word) and the
engine's ``Query.relevance`` option: fast, no servers."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.prices import ALL_PRICELISTS
from catalog.query import run_query
from catalog.query_body import parse_query
from catalog.records import IndexRecord
from catalog.search import (
    EXACT,
    PREFIX,
    TYPO,
    as_typed,
    match_kind,
    nearest_word,
    query_words,
    rank,
    relevance,
    tokenize,
)
from catalog.snapshot import Snapshot
from catalog.store import GenerationMeta, LoadedGeneration


def test_match_kinds() -> None:
    assert match_kind("troja", "troja") == EXACT
    assert match_kind("troj", "troja") == PREFIX
    assert match_kind("trja", "troja") == TYPO
    assert match_kind("troja", "trasa") == TYPO  # two edits: Centra's rule for 5 letters
    assert match_kind("troja", "polotroja") == 0
    assert match_kind("jea", "jeans") == PREFIX
    assert match_kind("jen", "jean") == 0  # three letters: no typos


def test_the_points_order_named_over_typos_over_other_words() -> None:
    q = ["troja"]
    named_exact = relevance(q, ["troja"], ["troja", "ull"])
    named_prefix = relevance(["troj"], ["troja"], ["troja"])
    named_typo = relevance(q, ["troa"], ["troa"])
    other_exact = relevance(q, ["alva"], ["alva", "troja"])
    other_typo = relevance(q, ["vaska"], ["vaska", "trasa"])
    nothing = relevance(q, ["vaska"], ["vaska"])
    assert named_exact > named_prefix > named_typo > other_exact > other_typo > nothing == 0
    # the best match of each word counts, once; the words add up
    assert relevance(q, ["troja"], ["troja", "trasa", "troja"]) == named_exact
    two = relevance(["alva", "troja"], ["alva", "troja"], ["alva", "troja"])
    assert two == 2 * named_exact
    # one word in the name outweighs the other words of a query found anywhere else
    assert relevance(["troja", "ull", "svart"], ["troja"], ["troja"]) > relevance(
        ["troja", "ull", "svart"], ["alva"], ["alva", "troja", "ull", "svart"]
    )


def test_as_typed() -> None:
    assert as_typed(["troja", "sva"], ["alva", "troja", "svart"])
    assert not as_typed(["troja"], ["vaska", "trasa"])
    assert not as_typed(["troja", "svart"], ["troja"])


PRODUCTS: dict[str, tuple[str, str]] = {
    # id: (name, colour and brand; other words: description, categories)
    "1": ("Alva väska svart Nordhem", "Väska i läder. Torka av med en fuktig trasa."),
    "2": ("Elsa skjorta blå Grön Atelier", "Skjorta i linne."),
    "3": ("Björn linne vit Nordhem", "Linne i ekologisk bomull."),
    "4": ("Greta tröja grön Små Ting", "Tröja i merinoull. Torka plant."),
    "5": ("Greta tröja grå Små Ting", "Tröja i merinoull. Torka plant."),
    "6": ("Nils sneakers grön Acme Denim", "Sneakers i läder. Torka av med en fuktig trasa."),
}
STYLE = {"4": "S4", "5": "S4"}


def _stored(pid: str) -> dict[str, Any]:
    named, other = PRODUCTS[pid]
    return {
        "s": STYLE.get(pid, "S" + pid),
        "u": "p" + pid,
        "i": [["M", 1]],
        "p": [[100, 0]],
        "x": {"sv": " ".join(sorted(set(tokenize(named + " " + other))))},
        "xn": {"sv": " ".join(sorted(set(tokenize(named))))},
    }


def _snapshot(old: bool = False) -> Snapshot:
    recs = {}
    for pid in PRODUCTS:
        stored = _stored(pid)
        if old:
            del stored["xn"]  # a generation written before names were recorded
        recs[pid] = IndexRecord.from_stored(stored)
    meta = GenerationMeta(
        languages=["sv"],
        pricelists=["1"],
        currency_formats={"1": {"decimalDigits": "0"}},
        categories={"sv": []},
        facets={},
    )
    return Snapshot(LoadedGeneration("1", 1, 0, meta, recs))


def _search(snap: Snapshot, text: str, ranked: bool, **body: Any) -> list[str]:
    query = parse_query({"search": text, **body})
    query.relevance = ranked
    result = run_query(snap, query, pricelist=ALL_PRICELISTS, language="sv")
    return [snap.ids[o] for o in result.page]


def test_the_engine_ranks_names_first_and_drops_typos_when_words_match_as_typed() -> None:
    snap = _snapshot()
    # Centra's rule (the API): typos of "trasa" and "torka" find the bag and the sneakers
    assert _search(snap, "Tröja", ranked=False) == ["1", "4", "5", "6"]
    # the page: the sweaters only, as typed
    assert _search(snap, "Tröja", ranked=True) == ["4", "5"]
    # a typo still finds them (nothing matches "trja" as typed)
    assert _search(snap, "trja", ranked=True)[:2] == ["4", "5"]
    # the name's "linne" (a tank top) before the descriptions' (linen)
    assert _search(snap, "linne", ranked=False) == ["2", "3"]
    assert _search(snap, "linne", ranked=True) == ["3", "2"]
    assert _search(snap, "LINNE vit", ranked=True) == ["3"]
    # "grön": the brand and the green products, before the grey colour of a green style
    assert _search(snap, "gron", ranked=False) == ["2", "4", "5", "6"]
    assert _search(snap, "gron", ranked=True) == ["2", "4", "6", "5"]
    # a sort the shopper chose is kept; ranking only picks the set
    assert _search(snap, "tröja", ranked=True, sortOrder=[{"field": "uri", "order": "desc"}]) == [
        "5",
        "4",
    ]
    # paging over the ranked order
    assert _search(snap, "gron", ranked=True, limit=2, skipFirst=1) == ["4", "6"]


def test_the_engine_ranking_is_the_reference_rule() -> None:
    snap = _snapshot()
    named = [frozenset(snap.rec_at[o].name_words["sv"].split()) for o in range(snap.size)]
    words = [set(snap.rec_at[o].search_words["sv"].split()) for o in range(snap.size)]
    for text in ("troja", "trja", "gron", "linne vit", "s", "tor", "ska", "nordhem vaska"):
        q = query_words(text)
        ranking = rank(q, snap.vocabulary, snap.postings["sv"], named, snap.size)
        for o in range(snap.size):
            assert ranking.points.get(o, 0.0) == relevance(q, named[o], words[o]), (text, o)
            assert bool(ranking.typed >> o & 1) == as_typed(q, words[o]), (text, o)


def test_an_old_generation_without_names_still_drops_typos() -> None:
    snap = _snapshot(old=True)
    assert _search(snap, "Tröja", ranked=True) == ["4", "5"]
    # without the names, the points of the words' kinds only: ties keep Centra's order
    assert _search(snap, "linne", ranked=True) == ["2", "3"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("trqjx", "troja"),  # two edits
        ("mxrinqullx", "merinoull"),  # three edits
        ("xq", None),  # too short to guess
        ("zzzzzzzz", None),
    ],
)
def test_nearest_word(word: str, expected: str | None) -> None:
    assert nearest_word(word, _snapshot().postings["sv"]) == expected


def test_nearest_word_prefers_the_word_more_products_have() -> None:
    postings = {"torka": [1, 2, 3], "tarka": [4]}
    assert nearest_word("tqrka", postings) == "torka"
    postings = {"torka": [1], "tarka": [4, 5]}
    assert nearest_word("tqrka", postings) == "tarka"


def test_the_suggestion_of_a_query_has_results() -> None:
    snap = _snapshot()
    # three edits: more than Centra's rule forgives, so nothing is found
    assert snap.search_bits("mxrinqullx", "sv") == 0
    assert snap.suggestion("mxrinqullx", "sv") == "merinoull"
    assert snap.suggestion("bjorn mxrinqullx", "sv") is None  # no product is both
    assert snap.suggestion("greta mxrinqullx", "sv") == "greta merinoull"
    assert snap.suggestion("troja", "sv") is None  # has results: nothing to suggest
    assert snap.suggestion("qqqqqqqq", "sv") is None
    # at most three unknown words are replaced
    assert snap.suggestion("mxrinqullx mxrinqullz mxrinqulla", "sv") == "merinoull"
    assert snap.suggestion("mxrinqullx mxrinqullz mxrinqulla mxrinqullb", "sv") is None
    # a word that matches as it is (here through a typo) is kept as typed
    assert snap.suggestion("trqja mxrinqullx", "sv") == "trqja merinoull"
