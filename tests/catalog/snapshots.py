"""A small hand-made catalog snapshot for the query engine's tests (no server)."""

from __future__ import annotations

from typing import Any

from catalog.records import IndexRecord
from catalog.snapshot import Snapshot
from catalog.store import GenerationMeta, LoadedGeneration

SORT_FIELDS = "uri, categoryItemSort, collectionUri, priceAsNumber, createdAt, modifiedAt"


CATEGORIES = [
    {"category": "1", "name": ["Women"], "uri": "women"},
    {"category": "2", "name": ["Women", "Tops"], "uri": "women/tops", "inCategory": "1"},
    {"category": "3", "name": ["Sale"], "uri": "sale"},
]


def rec(style: str, uri: str, cats: dict[str, int], *, brand: str = "1", swatch: str = "Red",
        items: list[list[Any]] | None = None, price: float | None = 10, created: str = "2025-01-01",
        words: str = "") -> dict[str, Any]:  # fmt: skip
    return {
        "s": style, "u": uri, "k": next(iter(cats)), "c": cats, "b": brand, "bn": f"B{brand}",
        "l": "", "ln": "", "lu": None, "w": {"desc": swatch, "hex": "x"},
        "i": items if items is not None else [["M", 1]],
        "p": [[price, price, 0, 0] if price is not None else 0],
        "ca": created, "ma": created, "m": None, "r": [], "x": {"en": words},
    }  # fmt: skip


def snapshot() -> Snapshot:
    recs = {
        "10": rec("A", "a-red", {"2": 3, "1": 1}, price=30, words="alva top red"),
        "11": rec(
            "A", "a-blue", {"2": 1, "1": 2}, swatch="Blue", items=[["S", 0]], price=None,
            words="alva top blue",
        ),
        "12": rec(
            "B", "b-red", {"1": 3, "3": 1}, brand="2", price=20, created="2024-01-01",
            words="bo dress",
        ),
        "9": rec(
            "C", "c-green", {"3": 2}, brand="2", swatch="Green", items=[["M", 0], ["L", 1]],
            price=20, words="cy scarf",
        ),
    }  # fmt: skip
    meta = GenerationMeta(
        languages=["en"],
        pricelists=["1"],
        currency_formats={"1": {"decimalDigits": "0"}},
        categories={"en": CATEGORIES},
        facets={"en": {"swatch.desc": [["Red", {}], ["Green", {}], ["Blue", {}]]}},
    )
    records = {pid: IndexRecord.from_stored(stored) for pid, stored in recs.items()}
    return Snapshot(LoadedGeneration("1", 1, 0, meta, records))
