"""Check results as JSON: the `bindmgr check --format json` document and the plan's "check" object.

Values in, dicts and strings out, and strict reading back; no file or terminal I/O. Results are
always written in one stable order (see `sort_results`), whatever order the probes finished in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bindmgr.formats.jsondoc import (
    Chunked,
    JsonReader,
    dumps_json,
    index,
    join,
)
from bindmgr.model import Holder, ProbeResult, ProbeStatus, Proto, sort_results, status_counts

CHECK_HINT = "re-run `bindmgr check --format json` to write a fresh result"
# 2: the "dns" findings of `check --dns` name a PTR by its reverse name and give its address as
#    "ip" (format 1 named it by the address); results and summary are as in format 1, which is
#    still read.
CHECK_FORMAT_VERSION = 2
CHECK_READ_VERSIONS = (1, 2)


def holder_to_dict(holder: Holder | None) -> dict[str, object] | None:
    if holder is None:
        return None
    return {"pid": holder.pid, "name": holder.name, "cmdline": holder.cmdline}


def result_to_dict(result: ProbeResult, ip_text: str | None = None) -> dict[str, object]:
    """`ip_text`: str(result.ip), when the caller has it."""
    return {
        "ip": str(result.ip) if ip_text is None else ip_text,
        "port": result.port,
        "proto": result.proto.value,
        "service": result.service,
        "label": result.label,
        "status": result.status.value,
        "errno": result.errno,
        "holder": holder_to_dict(result.holder),
        "event": result.event,
        "hint": result.hint,
    }


def check_summary(results: Sequence[ProbeResult]) -> dict[str, object]:
    counts = status_counts(results)
    summary: dict[str, object] = {"total": len(results)}
    summary.update({status.value: n for status, n in counts.items()})
    summary["conflicts"] = sum(n for status, n in counts.items() if status.is_conflict)
    return summary


def _rows(ordered: Sequence[ProbeResult], start: int, stop: int) -> list[object]:
    """The result objects of ordered[start:stop]; str() of an address once per address
    object (a check's results share one per IP; ipaddress formats in Python code)."""
    rows: list[object] = []
    last_ip: object = None
    text = ""
    for result in ordered[start:stop]:
        if result.ip is not last_ip:
            last_ip, text = result.ip, str(result.ip)
        rows.append(result_to_dict(result, text))
    return rows


ROWS_PER_CHUNK = 2048


def check_body(results: Iterable[ProbeResult], *, chunk: int | None = None) -> dict[str, object]:
    """{"results": [...], "summary": {...}}: what the plan file embeds under "check".

    `chunk`: "results" is a `Chunked` array whose objects are made as dumps_json writes
    them, `chunk` at a time (for a document that is only written; ROWS_PER_CHUNK)."""
    ordered = sort_results(results)
    count = len(ordered)
    rows: object
    if chunk is not None:
        size, starts = chunk, range(0, count, chunk)
        rows = Chunked(count, lambda: (_rows(ordered, i, i + size) for i in starts))
    else:
        rows = _rows(ordered, 0, count)
    return {"results": rows, "summary": check_summary(ordered)}


def check_to_dict(results: Iterable[ProbeResult], *, chunk: int | None = None) -> dict[str, object]:
    """The whole `bindmgr check --format json` document (`chunk`: see check_body)."""
    return {"format_version": CHECK_FORMAT_VERSION, **check_body(results, chunk=chunk)}


def dumps_check(results: Iterable[ProbeResult]) -> str:
    return dumps_json(check_to_dict(results, chunk=ROWS_PER_CHUNK))


def _read_holder(reader: JsonReader, obj: Mapping[str, object], path: str) -> Holder | None:
    holder = reader.opt_child(obj, "holder", path)
    if holder is None:
        return None
    where = join(path, "holder")
    return Holder(
        pid=reader.opt_integer(holder, "pid", where, low=0),
        name=reader.opt_string(holder, "name", where),
        cmdline=reader.opt_string(holder, "cmdline", where),
    )


def read_result(reader: JsonReader, value: object, path: str) -> ProbeResult:
    obj = reader.obj(value, path)
    label = reader.string(obj, "label", path) if "label" in obj else ""
    return ProbeResult(
        ip=reader.ip(obj, "ip", path),
        port=reader.integer(obj, "port", path, low=0, high=65535),
        proto=reader.enum(obj, "proto", path, Proto),
        service=reader.string(obj, "service", path),
        status=reader.enum(obj, "status", path, ProbeStatus),
        errno=reader.opt_integer(obj, "errno", path, low=0),
        holder=_read_holder(reader, obj, path),
        event=reader.opt_string(obj, "event", path),
        hint=reader.opt_string(obj, "hint", path),
        label=label,
    )


def check_summary_mismatch(
    reader: JsonReader, summary: Mapping[str, object], expected: Mapping[str, object], path: str
) -> None:
    """A count in the file that disagrees with its content means the file was edited or cut."""
    for key, want in expected.items():
        found = summary.get(key, want)
        if type(found) is not type(want) or found != want:
            reader.fail(
                join(path, key),
                f"says {found!r} but the file's content gives {want!r}; "
                "the file was edited or truncated",
            )


def read_check_body(
    reader: JsonReader, obj: Mapping[str, object], path: str
) -> tuple[ProbeResult, ...]:
    """Read {"results": [...], "summary": {...}} at `path` (the summary must match the results)."""
    items = reader.array(obj, "results", path)
    results = tuple(
        read_result(reader, item, index(join(path, "results"), i)) for i, item in enumerate(items)
    )
    summary = reader.child(obj, "summary", path)
    check_summary_mismatch(reader, summary, check_summary(results), join(path, "summary"))
    return results


def loads_check(text: str, source: str) -> tuple[ProbeResult, ...]:
    """Read a `bindmgr check --format json` document; InputError names `source` and the path."""
    reader = JsonReader(source, CHECK_HINT)
    doc = reader.parse(text)
    reader.format_version(
        doc, "a bindmgr check result", CHECK_FORMAT_VERSION, also=CHECK_READ_VERSIONS
    )
    return read_check_body(reader, doc, "")
