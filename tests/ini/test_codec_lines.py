"""split_lines: exact terminators, the same lines whichever way it splits them."""

from hypothesis import given
from hypothesis import strategies as st

from bindmgr.ini.codec import _LINE, split_lines

CHARS = st.sampled_from(
    ["a", "=", ";", " ", "\r", "\n", "\r\n", "\v", "\f", "\x1c", "\x85", "\u2028"]
)


@given(st.lists(CHARS, max_size=40).map("".join))
def test_split_lines_is_the_line_regex(text: str) -> None:
    assert split_lines(text) == _LINE.findall(text)
    assert "".join(split_lines(text)) == text


def test_only_cr_and_lf_end_lines() -> None:
    assert split_lines("a\x85b\r\nc\rd\ne") == ["a\x85b\r\n", "c\r", "d\n", "e"]
    assert split_lines("a\r\nb\n") == ["a\r\n", "b\n"]
    assert split_lines("") == []
