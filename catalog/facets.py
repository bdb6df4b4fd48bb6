"""The ``filter`` array of an answer: every facet value with products in the universe,
counted over the filtered set (``count``) and, where Centra answers with ``filterCount``, over
the set filtered by every field but the value's own; each value with the keys Centra answers
with, learned at build time."""

from __future__ import annotations

import json

from catalog.query import snapshot_cache
from catalog.snapshot import FACET_FIELDS, Snapshot
from storefront.jsonio import JsonDict


def facets_json(
    snap: Snapshot,
    filtered: int,
    language: str,
    without: dict[str, int] | None = None,
    counted: dict[str, int] | None = None,
) -> str:
    """The ``filter`` array as JSON text, each value with the keys Centra answers with. Per
    value only the counts change from request to request; the rest of its text is rendered
    once per snapshot and language. ``counted``: per field, the set ``count`` counts over
    when not ``filtered`` (the shop's ``own_variants`` listings)."""
    without = without or {}
    counted = counted or {}
    fields = [
        _field_json(snap, f, language, counted.get(f, filtered), without.get(f, filtered))
        for f in FACET_FIELDS
    ]
    return "[" + ",".join(fields) + "]"


# Rendered fields kept per snapshot (a few KB each).
FIELDS_KEPT = 256


def _field_json(snap: Snapshot, f: str, language: str, counting: int, base: int) -> str:
    """One field of the ``filter`` array, its values counted over ``counting`` (``count``)
    and ``base`` (``filterCount``). Kept per snapshot by the identity of the two sets: the
    listings asked again get the same set objects (:func:`catalog.query.selection`), and a
    set that is not the same object is counted again, so a kept text is never another
    set's. The kept entry holds the sets, so their identities cannot be reused meanwhile."""
    cache: dict[tuple[str, str, int, int], tuple[int, int, str]] = snapshot_cache(
        snap, "facet_fields"
    )
    key = (language, f, id(counting), id(base))
    found = cache.get(key)
    if found is not None and found[0] is counting and found[1] is base:
        return found[2]
    text = _render_field(snap, f, language, counting, base)
    if len(cache) >= FIELDS_KEPT:
        cache.pop(next(iter(cache)), None)
    cache[key] = (counting, base, text)
    return text


def _counts(snap: Snapshot, f: str, bits: int) -> list[int]:
    """The products of ``bits`` having each value of ``f``, in the field's order: over the
    whole market the values' totals, else one AND and count per value."""
    order = snap.facet_order[f]
    if bits is snap.all_bits:
        total = snap.total[f]
        return [total[v] for v in order]
    own = snap.own_bits[f]
    return [(bits & own[v]).bit_count() for v in order]


def _render_field(snap: Snapshot, f: str, language: str, counting: int, base: int) -> str:
    cache = snap.facet_templates
    totals = snap.total[f]
    counts = _counts(snap, f, counting)
    # Without a filter of its own the field's two counts are over the same set.
    filter_counts = counts if base is counting else None
    values: list[str] = []
    for n, v in enumerate(snap.facet_order[f]):
        key = (language, f, v)
        template = cache.get(key)
        if template is None:
            template = _facet_template(snap, f, v, language)
            cache[key] = template
        count = str(counts[n])
        filter_count = count
        if "\x00filterCount" in template and filter_counts is not counts:
            if filter_counts is None:
                filter_counts = _counts(snap, f, base)
            filter_count = str(filter_counts[n])
        parts: list[str] = []
        for part in template:
            if part == "\x00count":
                parts.append(count)
            elif part == "\x00filterCount":
                parts.append(filter_count)
            elif part == "\x00totalCount":
                parts.append(str(totals[v]))
            else:
                parts.append(part)
        values.append("".join(parts))
    return '{"field":' + json.dumps(f) + ',"values":[' + ",".join(values) + "]}"


def _facet_template(snap: Snapshot, f: str, v: str, language: str) -> list[str]:
    """One facet value's JSON text with holes (``\\x00count``, ``\\x00filterCount``,
    ``\\x00totalCount``) where the counts go: the total changes with the snapshot's version
    (:mod:`catalog.index_patch`), the rest of the text does not. JSON text never holds a raw
    NUL, so a hole cannot be forged."""
    extra = snap.facet_extra(f, v, language)
    parts: list[str] = []
    for key in snap.facet_keys(f):
        if key == "value":
            member = [json.dumps(v, ensure_ascii=False)]
        elif key in ("count", "filterCount", "totalCount"):
            member = ["\x00" + key]
        elif key == "data":
            member = [json.dumps(snap.facet_data(f, v, language), ensure_ascii=False)]
        elif key in extra:
            member = [json.dumps(extra[key], ensure_ascii=False)]
        else:
            continue
        parts.append(("," if parts else "{") + json.dumps(key) + ":")
        parts += member
    parts.append("}" if parts else "{}")
    return parts


def facets(
    snap: Snapshot, filtered: int, language: str, without: dict[str, int] | None = None
) -> list[JsonDict]:
    """The ``filter`` array as data (tests, tools)."""
    result: list[JsonDict] = json.loads(facets_json(snap, filtered, language, without))
    return result
