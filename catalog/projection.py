"""A stored product as Centra shows it for one pricelist and language, as JSON text.

The document holds each language's fields pre-serialised, cut where the derived fields go
(:func:`catalog.documents.render_pieces`); the record holds prices for every pricelist,
media, stock and relations. Projecting is splicing strings:

- ``prices``: pricelist ``"all"``: ``prices`` keyed by pricelist (only those with a price), in
  the pricelists' order; one pricelist: the seven price fields at the top level, nulls
  (``discountPercent`` 0, flags false) when the product has no price there;
- ``available``: Centra's own value as fetched with ``pricelist: "all"`` (any item
  purchasable; computed from the items only when Centra sent none), and for one pricelist a
  price there too, which is Centra's rule per pricelist;
- ``relatedProducts``: variant siblings, then standard relations; without
  ``relatedProducts: true`` only the variants, in the small form whose keys Centra showed at
  build time (``{product, relation, media}`` in the seeds, ``{product, available, media,
  relation}`` today); a related product in full form carries no ``relatedProducts`` of its
  own and ends with ``relation``.
"""

from __future__ import annotations

import json
from typing import Any

from catalog.prices import ALL_PRICELISTS, NULL_PRICE, unpack_price
from catalog.snapshot import Snapshot
from storefront.jsonio import JsonDict

SEEDS_RELATED_KEYS = ("product", "relation", "media")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def price_fields(snap: Snapshot, o: int, pricelist: str) -> JsonDict:
    packed = snap.rec_at[o].price(snap.pricelist_index[pricelist])
    if packed is None:
        return dict(NULL_PRICE)
    return unpack_price(packed, snap.meta.currency_formats.get(pricelist, {}))


def all_prices(snap: Snapshot, o: int) -> JsonDict:
    formats = snap.meta.currency_formats
    rec = snap.rec_at[o]
    return {
        pl: unpack_price(packed, formats.get(pl, {}))
        for i, pl in enumerate(snap.meta.pricelists)
        if (packed := rec.price(i)) is not None
    }


def price_text(snap: Snapshot, o: int, pricelist: str) -> str:
    key = (o, pricelist)
    text = snap.text_cache.get(key)
    if text is None:
        if pricelist == ALL_PRICELISTS:
            text = '"prices":' + _dumps(all_prices(snap, o))
        else:
            fields = price_fields(snap, o, pricelist)
            text = ",".join(_dumps(k) + ":" + _dumps(v) for k, v in fields.items())
        snap.remember_fragment(key, text)
    return text


def media_text(snap: Snapshot, o: int) -> str:
    key = (o, "media")
    text = snap.text_cache.get(key)
    if text is None:
        text = _dumps(snap.rec_at[o].media)
        snap.remember_fragment(key, text)
    return text


def product_text(
    snap: Snapshot,
    o: int,
    pieces: list[str],
    *,
    pricelist: str,
    related: str | None,
    extra: str | None = None,
) -> str:
    """Product ``o`` from its document pieces. ``related`` is the finished ``relatedProducts``
    array, or None to leave the field out; ``extra`` is one more ``"key":value`` at the end."""
    parts: list[str] = []
    for i, piece in enumerate(pieces):
        if not i & 1:
            if piece:
                parts.append(piece)
        elif piece == "prices":
            parts.append(price_text(snap, o, pricelist))
        elif piece == "media":
            parts.append('"media":' + media_text(snap, o))
        elif piece == "available":
            available = snap.available(o, pricelist)
            parts.append('"available":true' if available else '"available":false')
        elif piece == "relatedProducts" and related is not None:
            parts.append('"relatedProducts":' + related)
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}"


def related_ids(snap: Snapshot, o: int, *, full: bool) -> list[tuple[int, str]]:
    relations = snap.relations(o)
    return relations if full else [(s, rel) for s, rel in relations if rel == "variant"]


def small_related_text(snap: Snapshot, other: int, relation: str, pricelist: str) -> str:
    """A related product in the small form, with the keys Centra uses, in its order."""
    parts: list[str] = []
    for key in snap.meta.related_keys or SEEDS_RELATED_KEYS:
        if key == "product":
            value = _dumps(snap.ids[other])
        elif key == "relation":
            value = _dumps(relation)
        elif key == "media":
            value = media_text(snap, other)
        elif key == "available":
            value = "true" if snap.available(other, pricelist) else "false"
        else:
            continue  # nothing we could know of it
        parts.append(_dumps(key) + ":" + value)
    return "{" + ",".join(parts) + "}"


def related_text(
    snap: Snapshot,
    o: int,
    pieces_of: dict[int, list[str]],
    *,
    pricelist: str,
    full: bool,
) -> str:
    out: list[str] = []
    for other, relation in related_ids(snap, o, full=full):
        if not full:
            out.append(small_related_text(snap, other, relation, pricelist))
            continue
        pieces = pieces_of.get(other)
        if pieces is None:
            continue  # removed between the index and the read: leave it out
        out.append(
            product_text(
                snap, other, pieces, pricelist=pricelist, related=None,
                extra='"relation":' + _dumps(relation),
            )
        )  # fmt: skip
    return "[" + ",".join(out) + "]"
