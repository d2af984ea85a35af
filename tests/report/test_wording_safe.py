"""safe(): every invisible or control character escaped, whichever path it takes."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bindmgr.report.wording import safe

HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def by_character(text: str) -> str:
    """safe() as first written: every character looked up."""
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    out = []
    for ch in text:
        if unicodedata.category(ch) not in HIDDEN:
            out.append(ch)
        elif ch in named:
            out.append(named[ch])
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    return "".join(out)


@given(st.text(max_size=30))
def test_safe_escapes_as_the_character_by_character_look(text: str) -> None:
    assert safe(text) == by_character(text)


def test_printable_text_is_returned_as_is() -> None:
    for text in ("mail-2.example.com", "Zoë Ærø", "a b", "\u00a0nbsp\u3000ideographic"):
        assert safe(text) is text or safe(text) == text
    assert safe("a\u200bb") == "a\\u200bb"  # zero width space: Cf
    assert safe("line\u2028") == "line\\u2028"
