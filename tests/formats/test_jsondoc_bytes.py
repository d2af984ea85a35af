"""dumps_json writes exactly the bytes of json.dumps(indent=2), whatever the document's shape."""

import json
import math
from enum import StrEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bindmgr.formats.jsondoc import Chunked, dumps_json, write_json


class Color(StrEnum):
    RED = "red"


def reference(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=True, allow_nan=False) + "\n"


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)  # any code point, lone surrogates included
    | st.sampled_from([Color.RED, "},\n      {", '"}', "\\", "\u00e9\u2028"])
)
keys = st.text(max_size=6) | st.sampled_from(["ip", "},", "\n"])
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(keys, inner, max_size=5)
        | st.lists(st.dictionaries(keys, scalars, max_size=4), max_size=6)  # runs of flat rows
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, values, max_size=6))
def test_same_bytes_as_json_dumps_indent_2(document: dict[str, object]) -> None:
    assert dumps_json(document) == reference(document)


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"a": []},
        {"a": {}},
        {"rows": [{}, {"x": 1}, {"x": 2}, {}, {"y": [1]}, {"x": 3}, {"x": 4}, {"x": 5}]},
        {"rows": [{"holder": {"pid": 1, "name": None}}, {"a": 1}, {"a": 2}]},
        {"nested": [[1, 2], [[]], [{}], [{"a": {"b": [1, {"c": None}]}}]]},
        {"keys": {3: "int", 2.5: "float", True: "bool", None: "none"}},
        {"deep": {"k": {1: [{"a": 1}, {"b": 2}]}}},
        {"tuple": (1, (2, 3), ({"a": 1}, {"a": 2}))},
        {"enum": Color.RED, "list": [Color.RED, Color.RED], "row": [{"c": Color.RED}, {"c": 1}]},
    ],
)
def test_edge_shapes(document: dict[object, object]) -> None:
    assert dumps_json(document) == reference(document)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_as_json_refuses_them(bad: float) -> None:
    for document in ({"x": bad}, {"rows": [{"x": 1}, {"x": bad}]}, {"x": {"y": [{"z": bad}]}}):
        with pytest.raises(ValueError, match="Out of range float values"):
            dumps_json(document)


def test_unknown_types_are_refused_as_json_refuses_them() -> None:
    for document in ({"x": object()}, {"rows": [{"x": 1}, {"x": b"bytes"}]}):
        with pytest.raises(TypeError, match="is not JSON serializable"):
            dumps_json(document)


def materialized(value: object) -> object:
    if isinstance(value, Chunked):
        return [materialized(v) for v in value.materialize()]
    if isinstance(value, dict):
        return {k: materialized(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [materialized(v) for v in value]
    return value


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(values, max_size=4), max_size=4), st.dictionaries(keys, values, max_size=2)
)
def test_chunked_arrays_read_as_their_items(
    chunks: list[list[object]], rest: dict[str, object]
) -> None:
    document = {**rest, "rows": Chunked(sum(map(len, chunks)), lambda: iter(chunks))}
    assert dumps_json(document) == reference(materialized(document))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(values, min_size=1, max_size=4), max_size=4),
    st.dictionaries(keys, values, max_size=2),
)
def test_written_in_pieces_the_same_bytes(
    chunks: list[list[object]], rest: dict[str, object]
) -> None:
    """write_json hands on the document after each chunk: the pieces join to dumps_json's bytes,
    and there is one piece per chunk and one for the rest."""
    document = {**rest, "rows": Chunked(sum(map(len, chunks)), lambda: iter(chunks))}
    pieces: list[str] = []
    write_json(document, pieces.append)
    assert "".join(pieces) == dumps_json(document)
    assert len(pieces) == len(chunks) + 1
