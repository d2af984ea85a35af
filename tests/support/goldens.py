"""The golden-file helper: compare an output with its file under tests/golden/.

Regenerate with `BINDMGR_REGOLD=1 .venv/bin/pytest tests/...`, then read every changed file in
`git diff` before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def golden_path(folder: str, name: str) -> Path:
    return GOLDEN / folder / name


def assert_golden(folder: str, name: str, text: str) -> None:
    path = golden_path(folder, name)
    if os.environ.get("BINDMGR_REGOLD") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    assert path.exists(), f"{path} is missing; run with BINDMGR_REGOLD=1 and review it"
    expected = path.read_bytes().decode("utf-8")
    assert text == expected, f"{folder}/{name} differs; run with BINDMGR_REGOLD=1 and review it"
