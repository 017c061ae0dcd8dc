"""What of this machine a candidate may read: system folders, a few /etc files, the base
interpreter and its stdlib. Every site-packages / dist-packages folder, any virtualenv, and the
tui_assess package (with its bundled challenges) are masked wherever they sit below those.

Computed once per process (a few globs); the supervisor turns it into read-only binds
(namespaces) or a Landlock allow-list.
"""

from __future__ import annotations

import functools
import glob
import os
import sys
from pathlib import Path

SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "timezone",
    "nsswitch.conf",
    "alternatives",
    "ssl",
    "ca-certificates",
    "mime.types",
    "protocols",
    "services",
    "bash.bashrc",
    "profile",
    "profile.d",
    "inputrc",
    "terminfo",
    "python3",
    f"python{sys.version_info.major}.{sys.version_info.minor}",
)
PACKAGE_FOLDERS = ("site-packages", "dist-packages")


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def interpreter_prefix() -> str:
    """Where the base interpreter (behind any venv) and its stdlib live, resolved."""
    return os.path.realpath(sys.base_prefix)


@functools.lru_cache(maxsize=1)
def system_view() -> dict[str, list[str]]:
    """{"system": folders bound read-only, "etc": /etc entries, "masks": folders hidden}."""
    system = [p for p in SYSTEM if os.path.lexists(p)]
    real_roots = [os.path.realpath(p) for p in system]
    prefix = interpreter_prefix()
    if not _under(prefix, real_roots):
        system.append(prefix)  # a Python built elsewhere (pyenv, /opt): its own prefix
        real_roots.append(prefix)
    masks: set[str] = set()
    for base in {"/usr", "/usr/local", prefix}:
        for folder in PACKAGE_FOLDERS:
            for pattern in (f"{base}/lib*/python3*/{folder}", f"{base}/lib*/python3/{folder}"):
                masks.update(os.path.realpath(p) for p in glob.glob(pattern))
    import tui_assess

    package = Path(tui_assess.__file__).resolve().parent
    for path in (package, package.parent / "challenges", Path(sys.prefix).resolve()):
        masks.add(str(path))
    visible = sorted(m for m in masks if os.path.isdir(m) and _under(m, real_roots))
    # A mask inside another mask is hidden already.
    visible = [m for m in visible if not _under(os.path.dirname(m), visible)]
    etc = [f"/etc/{name}" for name in ETC if os.path.lexists(f"/etc/{name}")]
    return {"system": system, "etc": etc, "masks": visible, "prefix": [prefix]}
