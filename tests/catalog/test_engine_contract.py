"""The two query engines' shared contract, in process: the sandbox's (``sandbox/query.py``, the
reference, written from the seeds) and the BFF's (``catalog.query_body`` + ``catalog.query``)
get the same random and hostile POST products bodies over the same small generated catalog,
and must agree on accept or refuse, and where both accept on the products (count and page,
in order).

No server: the sandbox's catalog is generated here, its products rendered as Centra shows them
(``pricelist: "all"``) and merged into the BFF's index records as a rebuild would.

The BFF refuses, on purpose, what the sandbox does not bound (README.md, "catalog query
bounds"): a ``search`` over 200 characters and more than 1,000 values in one filter list; and of
more than 12 distinct search words only the first 12 count. Those bodies are expected to differ
in exactly that way.
"""

from __future__ import annotations

import functools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.documents import merge_product, standard_relations
from catalog.query import run_query as bff_run_query
from catalog.query_body import MAX_FILTER_VALUES, MAX_SEARCH_CHARS, MAX_SEARCH_WORDS
from catalog.query_body import parse_query as bff_parse_query
from catalog.search import words_in_order
from catalog.snapshot import Snapshot
from catalog.store import GenerationMeta, LoadedGeneration
from sandbox import query as sandbox_query
from sandbox.config import SandboxConfig
from sandbox.generator import generate
from sandbox.http import HttpError
from storefront.api import ApiError

PRICELIST = "all"
LIST_FIELDS = (
    "categories",
    "collections",
    "brands",
    "products",
    "silkProduct",
    "swatch.desc",
    "items.name",
)
KNOWN = (
    "skipFirst",
    "limit",
    "search",
    "relatedProducts",
    "onlyAvailable",
    "uri",
    "sortOrder",
    *LIST_FIELDS,
)


@functools.cache
def engines() -> tuple[Any, Snapshot, str, str]:
    """The sandbox's catalog and the BFF's snapshot of one of its markets."""
    catalog = generate(SandboxConfig(seed=3, products=40, markets=1, pricelists=2, languages=1))
    market = next(iter(catalog.markets))
    language = next(iter(catalog.languages))
    pricelists = list(catalog.pricelists)
    formats = {pl: dict(catalog.pricelists[pl].currency_format) for pl in pricelists}
    recs = {}
    for product in catalog.market_products(market):
        payload = catalog.product_json(
            product, market=market, pricelist=PRICELIST, language=language, full_related=True
        )
        doc = merge_product(
            {language: payload},
            pricelists=pricelists,
            currency_formats=formats,
            standard_related=standard_relations(payload),
        )
        recs[doc.id] = doc.rec
    meta = GenerationMeta(
        languages=[language],
        pricelists=pricelists,
        currency_formats=formats,
        categories={language: [catalog.category_json(c, language) for c in catalog.categories]},
    )
    snap = Snapshot(LoadedGeneration(market, 1, 0, meta, recs))
    return catalog, snap, market, language


def sandbox_answer(body: dict[str, Any]) -> tuple[int, list[str]] | None:
    """(productCount, page ids) from the sandbox's engine; None when it refuses the body."""
    catalog, _, market, language = engines()
    try:
        query = sandbox_query.parse_query(body)
        ctx = sandbox_query.Context(market=market, pricelist=PRICELIST, language=language)
        result = sandbox_query.run_query(catalog, query, ctx)
    except HttpError as e:
        return None if e.status == 400 else (e.status, [])
    return result.count, [p.id for p in result.page]


def bff_answer(body: dict[str, Any]) -> tuple[int, list[str]] | None:
    _, snap, _, language = engines()
    try:
        query = bff_parse_query(body)
        result = bff_run_query(snap, query, pricelist=PRICELIST, language=language)
    except ApiError as e:
        return None if e.status_code == 400 else (e.status_code, [])
    return result.count, [snap.ids[o] for o in result.page]


def bff_only_bound(body: dict[str, Any]) -> bool:
    """Whether the body meets one of the BFF's own bounds (the module's docstring)."""
    search = body.get("search")
    if isinstance(search, (str, int)) and not isinstance(search, bool):
        text = str(search)
        if len(text) > MAX_SEARCH_CHARS or len(words_in_order(text)) > MAX_SEARCH_WORDS:
            return True
    return any(
        isinstance(body.get(f), list) and len(body[f]) > MAX_FILTER_VALUES for f in LIST_FIELDS
    )


def assert_agree(body: dict[str, Any]) -> None:
    sandbox, bff = sandbox_answer(body), bff_answer(body)
    if bff_only_bound(body):
        return  # documented: the BFF bounds what the sandbox does not
    assert (sandbox is None) == (bff is None), (body, sandbox, bff)
    assert sandbox == bff, body


# -- hostile values ------------------------------------------------------------------------------

junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=30)
    | st.sampled_from(["1234567890123456789", "123456789012345678", "-1", "0", " 5 ", "²", "1e3"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
big_ints = st.sampled_from([0, 1, -1, 2**63, -(2**63), 10**30, 1234567890123456789])
int_texts = st.sampled_from(["1234567890123456789", "999999999999999999", "-5", "3", "03", "+3"])


@st.composite
def plausible(draw: st.DrawFn) -> dict[str, Any]:
    """Bodies a frontend might send, with real values of the catalog, so that accepted bodies
    also compare answers."""
    catalog, snap, _, _ = engines()
    values = {
        "categories": list(catalog.categories),
        "brands": sorted(snap.own_bits["brands"]),
        "collections": sorted(snap.own_bits["collections"]),
        "products": snap.ids,
        "silkProduct": sorted(snap.style_members),
        "swatch.desc": sorted(snap.own_bits["swatch.desc"]),
        "items.name": sorted(snap.own_bits["items.name"]),
    }
    body: dict[str, Any] = {}
    for f in draw(st.lists(st.sampled_from(LIST_FIELDS), max_size=3, unique=True)):
        body[f] = draw(st.lists(st.sampled_from(values[f]) | st.text(max_size=4), max_size=4))
    if draw(st.booleans()):
        body["skipFirst"] = draw(st.integers(0, 50) | big_ints | int_texts)
    if draw(st.booleans()):
        body["limit"] = draw(st.integers(1, 50) | big_ints | int_texts)
    if draw(st.booleans()):
        body["search"] = draw(st.sampled_from(["shirt", "gron", "a", "jackte", "x" * 201]))
    if draw(st.booleans()):
        body["onlyAvailable"] = draw(st.sampled_from([True, False, "true", 1, 0, "yes"]))
    if draw(st.booleans()):
        fields = [*sandbox_query.SORT_FIELDS, "price"]
        body["sortOrder"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"field": st.sampled_from(fields), "order": st.sampled_from(["asc", "DESC"])}
                ),
                max_size=3,
            )
        )
    return body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plausible())
def test_plausible_bodies_get_the_same_products(body: dict[str, Any]) -> None:
    assert_agree(body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KNOWN) | st.text(max_size=6), junk, max_size=5))
def test_hostile_bodies_are_refused_alike(body: dict[str, Any]) -> None:
    assert_agree(body)


def test_numbers_as_text_over_18_digits_are_refused_by_both() -> None:
    body = {"limit": "1234567890123456789"}
    assert sandbox_answer(body) is None
    assert bff_answer(body) is None
    assert bff_answer({"limit": "123456789012345678"}) is not None
    assert bff_answer({"limit": 1234567890123456789}) is not None  # a JSON number: any size


def test_the_bffs_own_bounds_refuse_where_the_sandbox_answers() -> None:
    long_search = {"search": "x" * (MAX_SEARCH_CHARS + 1)}
    many = {"products": [str(n) for n in range(MAX_FILTER_VALUES + 1)]}
    for body in (long_search, many):
        assert bff_only_bound(body)
        assert sandbox_answer(body) is not None
        assert bff_answer(body) is None
