"""verify_edit proves an edit did what the changes say and nothing else; apply_changes edits."""

import pytest

from bindmgr.apply.edit import apply_changes
from bindmgr.apply.proof import verify_edit
from bindmgr.errors import WriteError
from bindmgr.model import Action, Change

OLD = (
    b"; domains\r\n"
    b"[a.example]\r\n"
    b"IP=10.0.0.1\r\n"
    b"Bind=No\r\n"
    b"\r\n"
    b"[mail-2.example]\r\n"
    b"; kept by Windows\r\n"
    b"IP=10.0.0.2\r\n"
    b"Bind=Yes\r\n"
    b"[b.example]\r\n"
    b"IP=10.0.0.3"
)
SET_IP = Change("D", "a.example", "IP", "10.0.0.1", "10.0.0.9", "r")
NEW_KEY = Change("D", "a.example", "FQDN", None, "a.example", "r")
NEW_SECTION = Change("D", "mail-3.example", "IP", None, "10.0.0.4", "r")
DROP = Change("D", "mail-2.example", None, None, None, "r", Action.DELETE_SECTION)
DEL_KEY = Change("D", "a.example", "Bind", "No", None, "r", Action.DELETE_KEY)
ALL = [SET_IP, NEW_KEY, NEW_SECTION, DROP, DEL_KEY]


@pytest.mark.parametrize("changes", [[c] for c in ALL] + [ALL], ids=lambda c: str(len(c)))
def test_real_edits_verify(changes: list[Change]) -> None:
    new = apply_changes({"D": OLD}, changes)["D"]
    verify_edit("D", OLD, new, changes)


def test_edit_bytes_are_windows_bytes() -> None:
    new = apply_changes({"D": OLD}, ALL)["D"]
    assert new == (
        b"; domains\r\n"
        b"[a.example]\r\n"
        b"IP=10.0.0.9\r\n"
        b"FQDN=a.example\r\n"
        b"\r\n"
        b"; kept by Windows\r\n"
        b"[b.example]\r\n"
        b"IP=10.0.0.3\r\n"
        b"[mail-3.example]\r\n"
        b"IP=10.0.0.4\r\n"
    )


def test_no_change_is_byte_identical() -> None:
    assert apply_changes({"D": OLD}, []) == {}
    same = apply_changes({"D": OLD}, [Change("D", "a.example", "IP", "10.0.0.1", "10.0.0.1", "r")])
    assert same["D"] == OLD


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ((b"10.0.0.9", b"10.0.0.8"), "reads '10.0.0.8', planned '10.0.0.9'"),
        ((b"; domains", b"; Domains"), "untouched line changed or appeared at line 1"),
        ((b"IP=10.0.0.3", b"IP=10.0.0.7"), "[b.example] IP changed, but the plan does not"),
        ((b"[b.example]\r\n", b"[b.example]\r\nX=1\r\n"), "appeared"),
        ((b"; kept by Windows\r\n", b""), "untouched line"),
    ],
)
def test_tampering_is_caught(tamper: tuple[bytes, bytes], message: str) -> None:
    changes = [SET_IP, DROP]
    new = apply_changes({"D": OLD}, changes)["D"]
    bad = new.replace(*tamper, 1)
    assert bad != new
    with pytest.raises(WriteError, match="verification of D failed") as exc:
        verify_edit("D", OLD, bad, changes)
    assert message in str(exc.value)


def test_deleted_section_must_be_gone() -> None:
    with pytest.raises(WriteError, match=r"section \[mail-2.example\] is still there"):
        verify_edit("D", OLD, OLD, [DROP])


def test_new_file_from_nothing() -> None:
    new = apply_changes({}, [NEW_SECTION])["D"]
    assert new == b"[mail-3.example]\r\nIP=10.0.0.4\r\n"
    verify_edit("D", b"", new, [NEW_SECTION])
