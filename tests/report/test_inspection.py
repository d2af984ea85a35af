"""`inspect --json`: the document written in pieces is the one json.dumps(indent=2) writes."""

from __future__ import annotations

import json
from ipaddress import IPv4Address

from hypothesis import given, settings
from hypothesis import strategies as st

from bindmgr.model import Domain, InputFile, Problem
from bindmgr.report.inspection import Inspection, render_json, render_json_pieces
from tests.support.plan import config, domain

# Names with what JSON escapes: quotes, backslashes, control and non-ASCII characters, and
# the text that separates two objects in the writer's one C call.
_TEXT = st.text(st.sampled_from([*'ab"\\\n\t{}[],: ', "é", "€", "\x81", "\ud800"]), max_size=8)


@st.composite
def domains(draw: st.DrawFn) -> Domain:
    ip = draw(st.one_of(st.none(), st.integers(0, 2**32 - 1).map(lambda n: str(IPv4Address(n)))))
    return domain(
        draw(st.one_of(_TEXT, st.just("},\n      {"))),
        ip,
        ipv6=draw(st.sampled_from([None, "2001:db8::1"])),
        bind=draw(st.booleans()),
        fqdn=draw(st.one_of(st.none(), _TEXT)),
        other=tuple(draw(st.lists(_TEXT, max_size=3))),
    )


def _reference(ins: Inspection) -> str:
    """The document as json.dumps(indent=2) writes it from plain values."""
    c = ins.config
    doc = json.loads(render_json(ins))  # everything but the domains, checked elsewhere
    doc["domains"] = [
        {
            "name": d.name,
            "default": d.is_default,
            "ip": None if d.ip is None else str(d.ip),
            "ipv6": None if d.ipv6 is None else str(d.ipv6),
            "bind": d.bind,
            "fqdn": d.fqdn,
            "other_keys": list(d.other_keys),
        }
        for d in c.all_domains()
    ]
    return json.dumps(doc, indent=2, ensure_ascii=True, allow_nan=False) + "\n"


@given(st.lists(domains(), max_size=12), st.integers(1, 5))
@settings(max_examples=200)
def test_the_json_in_pieces_is_json_dumps_with_indent_2(found: list[Domain], chunk: int) -> None:
    c = config(None, *found)
    c = type(c)(
        c.default,
        c.domains,
        c.listeners,
        c.default_keys,
        c.domain_keys,
        inputs=(InputFile("Domains.dat", "0" * 64),),
        problems=(Problem("Domains.dat", 3, 'a "problem"'),),
    )
    ins = Inspection("C:\\MDaemon\\App", "layout.ini", c, (), (IPv4Address("127.0.0.1"),), ())
    pieces = list(render_json_pieces(ins, chunk))
    assert all(p.endswith("\n") for p in pieces)
    assert len(pieces) == 2 + -(-(len(found) + 1) // chunk)
    text = "".join(pieces)
    assert text == render_json(ins) == _reference(ins)
    assert [d["name"] for d in json.loads(text)["domains"]] == [d.name for d in c.all_domains()]
