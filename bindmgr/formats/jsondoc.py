"""JSON documents bindmgr writes and reads back: stable writing and strict, path-naming reading.

Strings in, values out: no file I/O here. Every reading failure is an `InputError` that names the
source, the JSON path (`changes[3].action`) and what to do next; nothing missing is guessed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import NoReturn, TypeVar

from bindmgr.errors import InputError
from bindmgr.model import IPAddress

E = TypeVar("E", bound=StrEnum)


class Chunked:
    """An array dumps_json writes a chunk at a time, each chunk made when it is written: a long
    array of objects (a check's results) never exists as objects all at once."""

    def __init__(self, length: int, chunks: Callable[[], Iterable[list[object]]]) -> None:
        self.length, self.chunks = length, chunks

    def materialize(self) -> list[object]:
        """Every item, as the document reads once written."""
        return [item for chunk in self.chunks() for item in chunk]


def dumps_json(document: Mapping[str, object]) -> str:
    """Indent 2, keys in the order the builder put them, pure ASCII, one trailing newline.

    ASCII-only (`\\uXXXX` escapes) keeps the file byte-identical whatever code page writes it and
    carries any Python string, even a lone surrogate from an undecodable INI byte, losslessly.

    The bytes are those of `json.dumps(document, indent=2, ensure_ascii=True, allow_nan=False)`
    (property-tested), made faster: with `indent`, json takes its pure-Python encoder (0.33 s
    for a 4,096-IP check result, against 0.06 s compact in C). Here every container whose values
    are all scalars, and every run of such objects in an array, goes through json's C encoder
    in one call, with the line break and indentation as its item separator; only the
    containers above them are walked in Python.
    """
    out: list[str] = []
    _encode(document, 0, out)
    out.append("\n")
    return "".join(out)


class _Sink(list[str]):
    """The pieces of a document written so far, handed on after each chunk of a Chunked
    array (write_json)."""

    def __init__(self, write: Callable[[str], None]) -> None:
        super().__init__()
        self.write = write

    def flush(self) -> None:
        if self:
            self.write("".join(self))
            self.clear()


def write_json(document: Mapping[str, object], write: Callable[[str], None]) -> None:
    """dumps_json's bytes handed to `write` in pieces, one after each chunk of a Chunked array:
    the document of a 4,096-IP check never exists whole, nor its encoded bytes."""
    out = _Sink(write)
    _encode(document, 0, out)
    out.append("\n")
    out.flush()


# Exact types: a subclass (a StrEnum value) takes the walk in Python, where json encodes it.
_SCALARS = frozenset({str, int, float, bool, type(None)})
_ENCODERS: list[Callable[[object], str]] = []


def _c_encoder(depth: int) -> Callable[[object], str]:
    """json's C encoder for a container at `depth` whose items sit one level deeper."""
    while len(_ENCODERS) <= depth:
        pad = ",\n" + "  " * (len(_ENCODERS) + 1)
        encoder = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(pad, ": "))
        make: Callable[..., Callable[[object, int], Iterable[str]]] | None
        make = getattr(json.encoder, "c_make_encoder", None)
        if make is None:  # no C accelerator (not CPython): json's own way, the same bytes
            _ENCODERS.append(encoder.encode)
            continue
        # What JSONEncoder.encode builds on every call, built once: default (TypeError), the
        # ASCII string encoder, no indent; no markers (a shared dict would keep the entries
        # of a failed call): bindmgr's documents are trees, a cycle would be a RecursionError.
        chunks = make(
            None, encoder.default, json.encoder.encode_basestring_ascii, None,
            ": ", pad, False, False, False,
        )  # fmt: skip
        _ENCODERS.append(_joined(chunks))
    return _ENCODERS[depth]


def _joined(chunks: Callable[[object, int], Iterable[str]]) -> Callable[[object], str]:
    return lambda value: "".join(chunks(value, 0))


def _flat(value: object) -> bool:
    """A non-empty dict, list or tuple whose values are all plain scalars."""
    kind = type(value)
    if kind is dict:
        return bool(value) and _SCALARS.issuperset(map(type, value.values()))  # type: ignore[attr-defined]
    if kind is list or kind is tuple:
        return bool(value) and _SCALARS.issuperset(map(type, value))  # type: ignore[call-overload]
    return False


def _encode(value: object, depth: int, out: list[str]) -> None:
    pad, inner = "\n" + "  " * depth, "\n" + "  " * (depth + 1)
    if _flat(value):
        text = _c_encoder(depth)(value)  # "{a,<inner>b}": the ends need their line breaks
        out += (text[0], inner, text[1:-1], pad, text[-1])
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        if not all(isinstance(key, str) for key in value):  # json's key coercion: its own way
            text = json.dumps(value, indent=2, ensure_ascii=True, allow_nan=False)
            out.append(text.replace("\n", pad))
            return
        out.append("{")
        _encode_members(list(value.items()), depth, out)
        out.append(pad + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        out.append("[")
        _encode_items(value, depth, out)
        out.append(pad + "]")
    elif isinstance(value, Chunked):
        wrote = False
        out.append("[")
        for chunk in value.chunks():
            if chunk:
                _encode_items(chunk, depth, out, after_items=wrote)
                wrote = True
                if isinstance(out, _Sink):
                    out.flush()
        out.append(pad + "]" if wrote else "]")
    else:
        out.append(_c_encoder(depth)(value))  # a scalar (or json's TypeError for the rest)


def _encode_members(members: list[tuple[str, object]], depth: int, out: list[str]) -> None:
    """The members of a non-empty object at `depth` that holds a container; runs of scalar
    members in one C call each (an object of them encoded, its braces dropped)."""
    inner = "\n" + "  " * (depth + 1)
    i = 0
    while i < len(members):  # every pass consumes at least one member: bounded
        j = i
        while j < len(members) and type(members[j][1]) in _SCALARS:
            j += 1
        out += ("," if i else "", inner)
        if j - i > 1:
            out.append(_c_encoder(depth)(dict(members[i:j]))[1:-1])
            i = j
        else:
            key, item = members[i]
            out += (json.encoder.encode_basestring_ascii(key), ": ")
            _encode(item, depth + 1, out)
            i += 1


def _encode_items(
    items: list[object] | tuple[object, ...],
    depth: int,
    out: list[str],
    *,
    after_items: bool = False,
) -> None:
    """The items of a non-empty array at `depth`; runs of flat objects in one C call each.

    A run encoded with the separators of depth + 1 reads `[{a,<deep>b},<deep>{c}]`, where
    `<deep>` is the indentation of the objects' keys; `},<deep>{` occurs only between two of
    them (inside an object a separator follows a scalar, never a `}`), so one replace puts each
    object on lines of its own."""
    inner, deep = "\n" + "  " * (depth + 1), "\n" + "  " * (depth + 2)
    between = "}," + deep + "{"
    i = 0
    while i < len(items):  # every pass consumes at least one item: bounded
        if i or after_items:
            out.append(",")
        out.append(inner)
        j = i
        while j < len(items) and type(items[j]) is dict and _flat(items[j]):
            j += 1
        if j - i > 1:
            text = _c_encoder(depth + 1)(list(items[i:j]))[2:-2]
            out += ("{", deep, text.replace(between, inner + "}," + inner + "{" + deep))
            out += (inner, "}")
            i = j
        else:
            _encode(items[i], depth + 1, out)
            i += 1


def join(path: str, key: str) -> str:
    return key if not path else f"{path}.{key}"


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


class _DuplicateKeyError(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _no_constant(name: str) -> object:
    raise ValueError(name)


class JsonReader:
    """Reads one document strictly; `hint` is the next step every error message ends with."""

    def __init__(self, source: str, hint: str) -> None:
        self.source = source
        self.hint = hint

    def fail(self, path: str, message: str) -> NoReturn:
        where = path or "the top level"
        raise InputError(f"{self.source}: {where}: {message}", hint=self.hint)

    def parse(self, text: str) -> Mapping[str, object]:
        """Parse the text (one leading BOM tolerated) into its top-level object."""
        try:
            value = json.loads(
                text.removeprefix("\ufeff"),
                object_pairs_hook=_no_duplicates,
                parse_constant=_no_constant,
            )
        except _DuplicateKeyError as exc:
            self.fail("", f'the key "{exc.args[0]}" appears twice in one object')
        except json.JSONDecodeError as exc:
            self.fail("", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        except ValueError as exc:
            self.fail("", f"not valid JSON: {exc.args[0]} is not a number JSON allows")
        except RecursionError:
            self.fail("", "not valid JSON: nested too deeply")
        return self.obj(value, "")

    def obj(self, value: object, path: str) -> Mapping[str, object]:
        if not isinstance(value, dict):
            self.fail(path, f"must be an object, found {_kind(value)}")
        return value

    def field(self, obj: Mapping[str, object], key: str, path: str) -> object:
        if key not in obj:
            self.fail(join(path, key), "is missing")
        return obj[key]

    def child(self, obj: Mapping[str, object], key: str, path: str) -> Mapping[str, object]:
        return self.obj(self.field(obj, key, path), join(path, key))

    def opt_child(
        self, obj: Mapping[str, object], key: str, path: str
    ) -> Mapping[str, object] | None:
        value = self.field(obj, key, path)
        return None if value is None else self.obj(value, join(path, key))

    def array(self, obj: Mapping[str, object], key: str, path: str) -> list[object]:
        value = self.field(obj, key, path)
        if not isinstance(value, list):
            self.fail(join(path, key), f"must be an array, found {_kind(value)}")
        return value

    def string(self, obj: Mapping[str, object], key: str, path: str) -> str:
        value = self.field(obj, key, path)
        if not isinstance(value, str):
            self.fail(join(path, key), f"must be a string, found {_kind(value)}")
        return value

    def opt_string(self, obj: Mapping[str, object], key: str, path: str) -> str | None:
        return None if self.field(obj, key, path) is None else self.string(obj, key, path)

    def item_string(self, value: object, path: str) -> str:
        if not isinstance(value, str):
            self.fail(path, f"must be a string, found {_kind(value)}")
        return value

    def boolean(self, obj: Mapping[str, object], key: str, path: str) -> bool:
        value = self.field(obj, key, path)
        if not isinstance(value, bool):
            self.fail(join(path, key), f"must be true or false, found {_kind(value)}")
        return value

    def integer(
        self, obj: Mapping[str, object], key: str, path: str, *, low: int, high: int | None = None
    ) -> int:
        value = self.field(obj, key, path)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(join(path, key), f"must be a whole number, found {_kind(value)}")
        if value < low or (high is not None and value > high):
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            self.fail(join(path, key), f"{value} is out of range; it must be {bounds}")
        return value

    def opt_integer(
        self, obj: Mapping[str, object], key: str, path: str, *, low: int, high: int | None = None
    ) -> int | None:
        if self.field(obj, key, path) is None:
            return None
        return self.integer(obj, key, path, low=low, high=high)

    def enum(self, obj: Mapping[str, object], key: str, path: str, cls: type[E]) -> E:
        value = self.string(obj, key, path)
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            self.fail(join(path, key), f'"{value}" is not one of: {allowed}')

    def ip(self, obj: Mapping[str, object], key: str, path: str) -> IPAddress:
        value = self.string(obj, key, path)
        try:
            return ip_address(value)
        except ValueError:
            self.fail(join(path, key), f'"{value}" is not an IPv4 or IPv6 address')

    def opt_ipv4(self, obj: Mapping[str, object], key: str, path: str) -> IPv4Address | None:
        value = self.opt_string(obj, key, path)
        if value is None:
            return None
        try:
            return IPv4Address(value)
        except ValueError:
            self.fail(join(path, key), f'"{value}" is not an IPv4 address')

    def opt_ipv6(self, obj: Mapping[str, object], key: str, path: str) -> IPv6Address | None:
        value = self.opt_string(obj, key, path)
        if value is None:
            return None
        try:
            return IPv6Address(value)
        except ValueError:
            self.fail(join(path, key), f'"{value}" is not an IPv6 address')

    def format_version(
        self,
        doc: Mapping[str, object],
        what: str,
        expected: int,
        *,
        also: tuple[int, ...] = (),
    ) -> int:
        """Accept the version this bindmgr writes (`expected`) or an older one it still reads
        (`also`); say which side is newer otherwise."""
        version = self.field(doc, "format_version", "")
        if isinstance(version, bool) or not isinstance(version, int):
            self.fail("format_version", f"must be the number {expected}; is this {what}?")
        if version > expected:
            self.fail(
                "format_version",
                f"{version} comes from a newer bindmgr; this one reads only format_version "
                f"{expected}, so upgrade bindmgr to use this file",
            )
        if version != expected and version not in also:
            self.fail("format_version", f"{version} is unknown; this bindmgr reads {expected}")
        return version
