"""The fast engine (the BFF's cache) against the reference (the sandbox): 300 random catalog
requests across markets, pricelists (and "all"), languages, filters, facets, sorts, searches
(diacritics, typos) and pages, plus uri, single products, categories, countries and
languages. The same body goes to both; the JSON must be equal apart from ``token``."""

from __future__ import annotations

import json
import random
import unicodedata
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from tests.catalog.cache_fixtures import BuiltCache, memberships, sandbox_call, trusted
from tests.conftest import SandboxProcess
from tests.support import first_difference, without_token

SEED = 20250601
REQUESTS = 300
SORT_FIELDS = [
    "uri",
    "categoryItemSort",
    "collectionUri",
    "priceAsNumber",
    "createdAt",
    "modifiedAt",
]


@dataclass
class World:
    markets: list[str]
    pricelists: list[str]
    languages: list[str]
    categories: list[dict[str, Any]]
    facets: dict[str, list[str]]
    products: list[dict[str, Any]]  # market 1, pricelist all, language en


def world(sandbox: SandboxProcess) -> World:
    markets = [m["market"] for m in sandbox_call(sandbox, "GET", "markets").json()["markets"]]
    pricelists = [
        p["pricelist"] for p in sandbox_call(sandbox, "GET", "pricelists").json()["pricelists"]
    ]
    languages = [
        lang["language"] for lang in sandbox_call(sandbox, "GET", "languages").json()["languages"]
    ]
    categories = sandbox_call(sandbox, "GET", "categories", {"language": "en"}).json()["categories"]
    listing = sandbox_call(
        sandbox, "POST", "products", {"market": markets[0], "pricelist": "all", "language": "en"}
    ).json()
    facets = {f["field"]: [v["value"] for v in f["values"]] for f in listing["filter"]}
    return World(markets, pricelists, languages, categories, facets, listing["products"])


def mangle(rng: random.Random, word: str) -> str:
    """A search word as a shopper might type it: cut short, with a typo, without its
    diacritics, in capitals."""
    choice = rng.random()
    if choice < 0.2 and len(word) > 3:
        return word[: rng.randint(2, len(word) - 1)]
    if choice < 0.4 and len(word) > 4:
        i = rng.randrange(len(word) - 1)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # transposition
    if choice < 0.55 and len(word) > 4:
        i = rng.randrange(len(word))
        return word[:i] + word[i + 1 :]  # a letter missing
    if choice < 0.65 and len(word) > 5:
        i = rng.randrange(len(word))
        return word[:i] + rng.choice("aeioxz") + word[i + 1 :]  # a wrong letter
    if choice < 0.8:
        folded = unicodedata.normalize("NFKD", word)
        return "".join(c for c in folded if not unicodedata.combining(c))
    return word.upper()


def search_text(rng: random.Random, w: World) -> str:
    product = rng.choice(w.products)
    words = " ".join([product["name"], product["brandName"], product["sku"]]).split()
    picked = rng.sample(words, k=min(len(words), rng.choice([1, 1, 2, 3])))
    text = " ".join(mangle(rng, x) for x in picked)
    if rng.random() < 0.1:
        text = rng.choice(["grön", "GRON", "små", "sma ting", "jeens", "swetr", "zzzz", "", "!!"])
    return text


def context_fields(rng: random.Random, w: World) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rng.random() < 0.9:
        out["market"] = rng.choice(w.markets)
    if rng.random() < 0.9:
        out["pricelist"] = "all" if rng.random() < 0.25 else rng.choice(w.pricelists)
    if rng.random() < 0.9:
        out["language"] = rng.choice(w.languages)
    return out


def filter_fields(rng: random.Random, w: World, body: dict[str, Any]) -> None:
    """The filters of a products body: categories, facet values, search, ids, uri."""
    cats = [c["category"] for c in w.categories]
    if rng.random() < 0.4:
        body["categories"] = rng.sample(cats, k=rng.choice([1, 1, 2]))
        if rng.random() < 0.2:
            body["categories"] = [int(c) for c in body["categories"]]
    for name in ("brands", "collections", "swatch.desc", "items.name"):
        values = w.facets.get(name) or []
        if values and rng.random() < 0.2:
            body[name] = rng.sample(values, k=min(len(values), rng.choice([1, 1, 2])))
    if rng.random() < 0.3:
        body["search"] = search_text(rng, w)
    if rng.random() < 0.15:
        body["onlyAvailable"] = True
    if rng.random() < 0.15:
        body["relatedProducts"] = True
    if rng.random() < 0.05:
        body["products"] = [p["product"] for p in rng.sample(w.products, k=3)]
    if rng.random() < 0.05:
        body["silkProduct"] = rng.choice(w.products)["centraProduct"]
    if rng.random() < 0.07:
        product = rng.choice(w.products)
        target = rng.choice(
            [product["uri"], f"{product['categoryUri']}/{product['uri']}", product["categoryUri"]]
        )
        body["uri"] = {
            "uri": target,
            "for": rng.choice([["product"], ["category"], ["product", "category"]]),
        }


def products_body(rng: random.Random, w: World) -> dict[str, Any]:
    body = context_fields(rng, w)
    filter_fields(rng, w, body)
    if rng.random() < 0.5:
        fields = rng.sample(SORT_FIELDS, k=rng.choice([1, 1, 2]))
        if body.get("pricelist") == "all" and rng.random() < 0.8:
            fields = [f for f in fields if f != "priceAsNumber"] or ["uri"]
        body["sortOrder"] = [{"field": f, "order": rng.choice(["asc", "desc"])} for f in fields]
    if rng.random() < 0.6:
        body["limit"] = rng.choice([1, 5, 10, 40])
    if rng.random() < 0.3:
        body["skipFirst"] = rng.choice([0, 3, 10, 40, 200])
    if rng.random() < 0.04:  # bad input: same 4xx and errors
        bad = rng.choice(
            [
                ("limit", 0),
                ("limit", "ten"),
                ("skipFirst", -1),
                ("categories", {"a": 1}),
                ("sortOrder", [{"field": "name"}]),
                ("sortOrder", [{"field": "uri", "order": "up"}]),
                ("onlyAvailable", "yes"),
                ("market", "999"),
                ("pricelist", "999"),
                ("language", "xx"),
                ("search", ["a"]),
                ("uri", 5),
            ]
        )
        body[bad[0]] = bad[1]
    return body


def uri_body(rng: random.Random, w: World) -> dict[str, Any]:
    body = context_fields(rng, w)
    product = rng.choice(w.products)
    category = rng.choice(w.categories)
    body["uri"] = rng.choice(
        [
            product["uri"],
            f"{product['categoryUri']}/{product['uri']}",
            f"{rng.choice(memberships(product))['uri']}/{product['uri']}",
            category["uri"],
            f"/{category['uri']}/",
            "no/such/thing",
            f"{category['uri']}/no-such-product",
        ]
    )
    body["for"] = rng.choice([["product", "category"], ["category"], ["product"], "category"])
    if rng.random() < 0.5:
        body["limit"] = rng.choice([2, 10])
    if rng.random() < 0.3:
        body["sortOrder"] = [{"field": "categoryItemSort", "order": rng.choice(["asc", "desc"])}]
    if rng.random() < 0.2:
        body["relatedProducts"] = True
    return body


def make_requests(w: World) -> list[tuple[str, str, dict[str, Any]]]:
    rng = random.Random(SEED)
    out: list[tuple[str, str, dict[str, Any]]] = []
    for _ in range(REQUESTS):
        roll = rng.random()
        if roll < 0.62:
            out.append(("POST", "products", products_body(rng, w)))
        elif roll < 0.77:
            out.append(("POST", "uri", uri_body(rng, w)))
        elif roll < 0.89:
            params = {k: str(v) for k, v in context_fields(rng, w).items()}
            if rng.random() < 0.4:
                params["relatedProducts"] = rng.choice(["true", "false", "1"])
            pid = rng.choice(w.products)["product"] if rng.random() < 0.9 else "999999"
            out.append(("GET", f"products/{pid}", params))
        elif roll < 0.95:
            params = {"language": rng.choice(w.languages)} if rng.random() < 0.8 else {}
            out.append((rng.choice(["GET", "POST"]), "categories", params))
        elif roll < 0.975:
            out.append(("GET", "countries", {}))
        else:
            out.append(("GET", rng.choice(["languages", "markets", "pricelists"]), {}))
    return out


def bff_call(client: Client, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    url = f"/api/checkout/{path}"
    if method == "GET":
        resp = client.get(url, body, **trusted())
    else:
        resp = client.post(url, json.dumps(body), content_type="application/json", **trusted())
    assert resp["X-Cache"] in ("HIT", "STALE"), (path, body, resp["X-Cache"])
    return resp.status_code, resp.json()


@pytest.mark.django_db
def test_bff_answers_as_the_sandbox_does(cache: BuiltCache, sandbox: SandboxProcess) -> None:
    # Given every market of the sandbox built into the cache
    w = world(sandbox)
    client = Client()
    failures: list[str] = []
    statuses: dict[int, int] = {}
    for n, (method, path, body) in enumerate(make_requests(w)):
        # When the same request goes to the BFF (trusted) and to the sandbox (server-side)
        ref = sandbox_call(sandbox, method, path, body)
        status, got = bff_call(client, method, path, body)
        statuses[ref.status_code] = statuses.get(ref.status_code, 0) + 1
        # Then status and JSON are the same, token apart
        if status != ref.status_code:
            failures.append(f"#{n} {method} {path} {body}: status {status} != {ref.status_code}")
            continue
        diff = first_difference(without_token(got), without_token(ref.json()))
        if diff:
            failures.append(f"#{n} {method} {path} {json.dumps(body, ensure_ascii=False)}: {diff}")
    assert not failures, f"{len(failures)} of {REQUESTS} differ:\n" + "\n".join(failures[:15])
    # And again, now that the BFF has rendered these products once (its in-process copies)
    for n, (method, path, body) in enumerate(make_requests(w)):
        ref = sandbox_call(sandbox, method, path, body)
        status, got = bff_call(client, method, path, body)
        diff = first_difference(without_token(got), without_token(ref.json()))
        if status != ref.status_code or diff:
            failures.append(f"#{n} (second pass) {method} {path} {body}: {status} {diff}")
    assert not failures, "\n".join(failures[:15])
    assert statuses.get(200, 0) > REQUESTS * 0.7
    assert statuses.get(404, 0)
    assert statuses.get(400, 0)
