"""Hostile catalog queries (issue 13, items 1 and 6): bounded work per request, strict bodies.

On the session's built cache and sandbox, in process (Django's test client). Work is counted,
not timed: the function calls the request makes (``sys.setprofile``), against a plain
listing's, so a busy machine cannot fail a test. Before the bounds, one 200-letter search word
cost 0.4-0.6 s of CPU and a 60,000-letter one as a form body minutes; now each costs what a
normal listing does.
Where Centra (the sandbox) answers the same input, both answers must be equal; the bounds
that are the BFF's own are 400s naming the field.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from django.test import Client

from catalog.query_body import MAX_FILTER_VALUES, MAX_SEARCH_CHARS, MAX_SEARCH_WORDS
from catalog.webhooks import expected_signature
from tests.catalog.cache_fixtures import BuiltCache, sandbox_call, trusted
from tests.conftest import SandboxProcess
from tests.support import without_token

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
# What a normal listing costs in this process is a few milliseconds; a hostile one may cost
# a small multiple of it, far below the hundreds of milliseconds the unbounded engine spent.
# A hostile request may do at most this many times a plain listing's work.
WORK_BOUND = 3
DEEP = ('{"a":' + "[" * 1000 + "1" + "]" * 1000 + "}").encode()
WEBHOOK_SECRET = "hostile-webhook-secret"


def post(body: Any, path: str = "products", content_type: str = "application/json") -> Any:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return Client().post(f"/api/checkout/{path}", data, content_type=content_type, **trusted())


def work(call: Callable[[], Any]) -> tuple[int, Any]:
    """How much work ``call`` does, counted, not timed: the Python and C function calls it
    makes in this thread (the same on a busy machine as on an idle one)."""
    calls = 0

    def count(_frame: Any, event: str, _arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        result = call()
    finally:
        sys.setprofile(None)
    return calls, result


def normal_work() -> int:
    """A plain listing's work, the yardstick of the bounds below."""
    normal = {**CONTEXT, "limit": 40}
    post(normal)  # the process loads the market's index once
    return work(lambda: post(normal))[0]


def same_as_sandbox(sandbox: SandboxProcess, body: dict[str, Any], path: str = "products") -> Any:
    ours = post(body, path)
    theirs = sandbox_call(sandbox, "POST", path, body)
    assert ours.status_code == theirs.status_code, (ours.content[:300], theirs.text[:300])
    assert ours.json() == without_token(theirs.json())
    return ours


CONTEXT = {"market": "1", "pricelist": "1", "language": "en"}


@pytest.fixture(autouse=True)
def _built(cache: BuiltCache) -> BuiltCache:
    """Every test reads the session's built cache."""
    return cache


# -- item 6: one strict JSON reader ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["products", "uri", "categories"])
def test_a_deeply_nested_body_is_a_400_with_errors(path: str) -> None:
    resp = post(DEEP, path)
    assert resp.status_code == 400
    assert resp.json() == {"errors": {"body": "nested deeper than 32 levels"}}


def test_a_deeply_nested_signed_webhook_is_a_400_with_errors(settings: Any) -> None:
    settings.CENTRA_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    body = b"payload=" + quote(DEEP.decode()).encode()
    t = int(time.time())
    resp = Client().post(
        "/webhooks/centra",
        body,
        content_type=FORM,
        HTTP_X_CENTRA_SIGNATURE=f"t={t},v1={expected_signature(WEBHOOK_SECRET, t, body)}",
    )
    assert resp.status_code == 400
    assert resp.json() == {"errors": {"payload": "nested deeper than 32 levels"}}


# -- item 1: bounded work --------------------------------------------------------------------------


def test_long_search_words_cost_what_a_normal_listing_costs(sandbox: SandboxProcess) -> None:
    normal = normal_work()
    # A word as long as the search may be, a typo'd real word made long, and many words
    for text in (
        "q" * MAX_SEARCH_CHARS,
        "jeanz" * (MAX_SEARCH_CHARS // 5),
        " ".join(f"sweatr{i}" for i in range(MAX_SEARCH_WORDS)),
    ):
        body = {**CONTEXT, "search": text, "limit": 1}
        spent, resp = work(lambda body=body: post(body))
        assert resp.status_code == 200
        assert spent < WORK_BOUND * normal, (text[:40], spent, normal)
        # and the answer is still Centra's
        same_as_sandbox(sandbox, body)


def test_a_60000_letter_word_in_a_form_body_is_refused_at_once() -> None:
    """Both workers spent minutes on this one before (the search reached the typo matcher)."""
    normal = normal_work()
    category = post({**CONTEXT}, "categories").json()["categories"][0]["uri"]
    word = "a" * 60_000
    for path, extra in (("products", {}), ("uri", {"uri": category})):
        fields = {**extra, "search": word, "limit": "1"}
        for raw, content_type in (
            (urlencode(fields), FORM),
            (json.dumps(fields), "application/json"),
        ):
            spent, resp = work(lambda p=path, r=raw, ct=content_type: post(r, p, ct))
            assert resp.status_code == 400
            assert resp.json() == {"errors": {"search": f"at most {MAX_SEARCH_CHARS} characters"}}
            assert spent < normal, (spent, normal)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"search": "x" * (MAX_SEARCH_CHARS + 1)}, {"search": "at most 200 characters"}),
        (
            {"categories": [str(i) for i in range(MAX_FILTER_VALUES + 1)]},
            {"categories": "at most 1000 values"},
        ),
        ({"products": list(range(MAX_FILTER_VALUES + 1))}, {"products": "at most 1000 values"}),
        ({"items.name": ["M"] * (MAX_FILTER_VALUES + 1)}, {"items.name": "at most 1000 values"}),
    ],
)
def test_over_the_bounds_is_a_400_naming_the_field(
    body: dict[str, Any], errors: dict[str, str]
) -> None:
    resp = post({**CONTEXT, **body})
    assert resp.status_code == 400
    assert resp.json() == {"errors": errors}


def test_of_a_search_of_many_words_the_first_twelve_count() -> None:
    words = [f"W{i}" for i in range(MAX_SEARCH_WORDS + 8)]
    many = post({**CONTEXT, "search": " ".join(words)})
    first = post({**CONTEXT, "search": " ".join(words[:MAX_SEARCH_WORDS])})
    assert many.status_code == first.status_code == 200
    assert many.json() == first.json()
    # repeats of a word are one word
    repeated = post({**CONTEXT, "search": "jeans " * 30})
    assert repeated.json() == post({**CONTEXT, "search": "jeans"}).json()


def test_at_the_bounds_answers_as_centra(sandbox: SandboxProcess) -> None:
    listing = post({**CONTEXT, "limit": 1000}).json()["products"]
    ids = [p["product"] for p in listing][:MAX_FILTER_VALUES]
    words = " ".join(p["name"] for p in listing[:3]).split()[:MAX_SEARCH_WORDS]
    same_as_sandbox(sandbox, {**CONTEXT, "products": ids, "limit": 5})
    same_as_sandbox(sandbox, {**CONTEXT, "search": " ".join(words)[:MAX_SEARCH_CHARS]})


def test_paging_numbers_as_centra_reads_them(sandbox: SandboxProcess) -> None:
    # text of more than 18 digits is not a number to Centra (the sandbox) either
    refused = same_as_sandbox(sandbox, {**CONTEXT, "limit": "1234567890123456789"})
    assert refused.status_code == 400
    assert refused.json() == {"errors": {"limit": "must be an integer"}}
    same_as_sandbox(sandbox, {**CONTEXT, "limit": "123456789012345678"})
    # JSON numbers of any size: pages past the end are empty
    normal = normal_work()
    for body in ({"skipFirst": 10**40, "limit": 10**40}, {"skipFirst": 3, "limit": 10**400}):
        spent, _ = work(lambda body=body: post({**CONTEXT, **body}))
        assert spent < WORK_BOUND * normal, (body, spent, normal)
        same_as_sandbox(sandbox, {**CONTEXT, **body})


def test_repeated_sort_entries_and_slash_paths_cost_nothing_extra(sandbox: SandboxProcess) -> None:
    fields = ["priceAsNumber", "uri", "createdAt"]
    sort = [{"field": fields[i % 3], "order": "desc" if i % 2 else "asc"} for i in range(1200)]
    body = {**CONTEXT, "sortOrder": sort, "limit": 20}
    normal = normal_work()
    post(body)
    spent, _ = work(lambda: post(body))
    assert spent < WORK_BOUND * normal, (spent, normal)
    same_as_sandbox(sandbox, body)
    slashes = "a/" * 20_000
    for path, uri_body in (
        ("uri", {**CONTEXT, "uri": slashes}),
        ("products", {**CONTEXT, "uri": {"uri": slashes, "for": ["product"]}}),
    ):
        spent, _ = work(lambda path=path, b=uri_body: post(b, path))
        assert spent < WORK_BOUND * normal, (path, spent, normal)
        same_as_sandbox(sandbox, uri_body, path)


def test_the_search_page_cuts_a_long_query_after_its_last_whole_word() -> None:
    def searched(q: str) -> tuple[int, str]:
        spent, resp = work(
            lambda: Client().get("/se/sv/search", {"q": q}, HTTP_ACCEPT="application/json")
        )
        assert resp.status_code == 200
        canonical = urlsplit(resp.json()["page"]["canonical"])
        return spent, parse_qs(canonical.query)["q"][0]

    words = [f"w{i}" for i in range(MAX_SEARCH_WORDS + 5)]
    assert searched(" ".join(words))[1] == " ".join(words[:MAX_SEARCH_WORDS])
    plain, _ = searched("a")
    spent, q = searched("a" * 60_000)
    assert q == "a" * MAX_SEARCH_CHARS
    assert spent < WORK_BOUND * plain, (spent, plain)
