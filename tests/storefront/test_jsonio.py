"""The one strict JSON reader (storefront.jsonio): no server needed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storefront.jsonio import MAX_DEPTH, JsonTooDeep, parse_json


def nested(depth: int, open_: str = "[", close: str = "]") -> bytes:
    return (open_ * depth + close * depth).encode()


def test_nesting_up_to_the_limit_parses() -> None:
    assert parse_json(nested(MAX_DEPTH)) is not None


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
def test_deeper_nesting_is_a_value_error_not_a_recursion_error(depth: int) -> None:
    with pytest.raises(JsonTooDeep):
        parse_json(b'{"a":' + nested(depth) + b"}")


def test_objects_count_as_levels_too() -> None:
    deep = b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1)
    with pytest.raises(JsonTooDeep):
        parse_json(deep)


@pytest.mark.parametrize(
    "raw", [b"\xef\xbb\xbf{}", "{}".encode("utf-16"), b'{"a": NaN}', b"[Infinity]", b"{", b""]
)
def test_anything_but_strict_utf8_json_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - every kind of ValueError is meant
        parse_json(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(json_values)
def test_any_shallow_json_reads_back_as_written(value: object) -> None:
    assert parse_json(json.dumps(value).encode()) == value
