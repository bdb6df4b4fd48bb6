"""A stored product as Centra shows it for one pricelist and language.

The document holds the language-neutral fields once and the rest per language; the record
holds prices for every pricelist, media, stock and relations. The projection puts them
back together in Centra's key order (learned from Centra's own payload at build time):

- pricelist ``"all"``: ``prices`` keyed by pricelist (only those with a price), in the
  pricelists' order; a single pricelist: the seven price fields at the top level, nulls
  (``discountPercent`` 0, flags false) when the product has no price there;
- ``available``: a price in the pricelist (any, for ``"all"``) and an item in stock;
- ``relatedProducts``: variant siblings, then standard relations; without
  ``relatedProducts: true`` only the variants, as ``{product, relation, media}``.
"""

from __future__ import annotations

from typing import Any

from catalog.documents import ALL_PRICELISTS, NULL_PRICE, PRICE_KEYS, unpack_price
from catalog.query import Snapshot

JsonDict = dict[str, Any]
_PLACED = frozenset({"prices", "available", "relatedProducts", "media", *PRICE_KEYS})


def price_fields(snap: Snapshot, rec: JsonDict, pricelist: str) -> JsonDict:
    packed = rec["p"][snap.pricelist_index[pricelist]]
    if not packed:
        return dict(NULL_PRICE)
    return unpack_price(packed, snap.meta.currency_formats.get(pricelist, {}))


def all_prices(snap: Snapshot, rec: JsonDict) -> JsonDict:
    formats = snap.meta.currency_formats
    return {
        pl: unpack_price(packed, formats.get(pl, {}))
        for pl, packed in zip(snap.meta.pricelists, rec["p"], strict=True)
        if packed
    }


def project(
    snap: Snapshot,
    o: int,
    doc: JsonDict,
    *,
    pricelist: str,
    language: str,
    related: list[JsonDict] | None,
) -> JsonDict:
    """Product ``o`` of the snapshot. ``related`` is the finished ``relatedProducts`` list,
    or None for a related product in full form (which carries none of its own)."""
    rec = snap.rec_at[o]
    neutral: JsonDict = doc["n"]
    text: JsonDict = doc.get("t", {}).get(language, {})
    out: JsonDict = {}
    for key in snap.meta.keys:
        if key in neutral:
            out[key] = neutral[key]
        elif key in text:
            out[key] = text[key]
        elif key == "prices":
            if pricelist == ALL_PRICELISTS:
                out["prices"] = all_prices(snap, rec)
            else:
                out.update(price_fields(snap, rec, pricelist))
        elif key == "media":
            if rec.get("m") is not None:
                out["media"] = rec["m"]
        elif key == "available":
            out["available"] = snap.available(o, pricelist)
        elif key == "relatedProducts":
            if related is not None:
                out["relatedProducts"] = related
    if len(out) < len(neutral) + len(text):
        # Fields this generation's key order does not know (a product written later).
        for source in (neutral, text):
            for key, value in source.items():
                if key not in out and key not in _PLACED:
                    out[key] = value
    return out


def related_ids(snap: Snapshot, o: int, *, full: bool) -> list[tuple[int, str]]:
    relations = snap.relations(o)
    return relations if full else [(s, rel) for s, rel in relations if rel == "variant"]


def related_list(
    snap: Snapshot,
    o: int,
    docs: dict[int, JsonDict],
    *,
    pricelist: str,
    language: str,
    full: bool,
) -> list[JsonDict]:
    out: list[JsonDict] = []
    for other, relation in related_ids(snap, o, full=full):
        if not full:
            out.append(
                {
                    "product": snap.ids[other],
                    "relation": relation,
                    "media": snap.rec_at[other].get("m"),
                }
            )
            continue
        doc = docs.get(other)
        if doc is None:
            continue  # removed between the index and the read: leave it out
        data = project(snap, other, doc, pricelist=pricelist, language=language, related=None)
        data["relation"] = relation
        out.append(data)
    return out
