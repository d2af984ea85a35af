"""Lane-only (copied into the Windows lane's interpreter, never shipped with bindmgr).

shutil.copy2 calls kernel32.CopyFile2 since Python 3.12; Wine 8 lacks it and the process aborts.
Without `_winapi.CopyFile2` shutil takes its portable path, as on older Windows.
"""

import _winapi

if hasattr(_winapi, "CopyFile2"):
    del _winapi.CopyFile2
