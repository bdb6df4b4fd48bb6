"""The ``filter`` array of an answer: every facet value with products in the universe,
counted over the filtered set (``count``) and, where Centra answers with ``filterCount``, over
the set filtered by every field but the value's own; each value with the keys Centra answers
with, learned at build time."""

from __future__ import annotations

import json

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
    cache = snap.facet_templates
    without = without or {}
    counted = counted or {}
    fields: list[str] = []
    for f in FACET_FIELDS:
        own = snap.own_bits[f]
        base = without.get(f, filtered)
        counting = counted.get(f, filtered)
        values: list[str] = []
        for v in snap.facet_order[f]:
            key = (language, f, v)
            template = cache.get(key)
            if template is None:
                template = _facet_template(snap, f, v, language)
                cache[key] = template
            bits = own[v]
            count = str((counting & bits).bit_count())
            # Without a filter of its own the field's two counts are over the same set: one
            # AND of sets as large as the catalog instead of two.
            filter_count = (
                count
                if base is counting or "\x00filterCount" not in template
                else str((base & bits).bit_count())
            )
            parts: list[str] = []
            for part in template:
                if part == "\x00count":
                    parts.append(count)
                elif part == "\x00filterCount":
                    parts.append(filter_count)
                else:
                    parts.append(part)
            values.append("".join(parts))
        fields.append('{"field":' + json.dumps(f) + ',"values":[' + ",".join(values) + "]}")
    return "[" + ",".join(fields) + "]"


def _facet_template(snap: Snapshot, f: str, v: str, language: str) -> list[str]:
    """One facet value's JSON text with holes (``\\x00count``, ``\\x00filterCount``) where the
    per-request counts go; JSON text never holds a raw NUL, so a hole cannot be forged."""
    extra = snap.facet_extra(f, v, language)
    parts: list[str] = []
    for key in snap.facet_keys(f):
        if key == "value":
            member = [json.dumps(v, ensure_ascii=False)]
        elif key in ("count", "filterCount"):
            member = ["\x00" + key]
        elif key == "totalCount":
            member = [str(snap.total[f][v])]
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
