"""The hash of a workspace snapshot (the exact files a test run saw).

The runner will own the shared helper at ``tui_assess/runner/snapshot.py``; until it exists
the session log uses this one. The definition is fixed so both agree:

    sha256 over, for each path in sorted order (POSIX separators):
        path as UTF-8, NUL, sha256(content) as 32 raw bytes
"""

from __future__ import annotations

import hashlib


def snapshot_digest(files: dict[str, bytes]) -> str:
    """sha256 (hex) of a workspace given as {relative POSIX path: content bytes}."""
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
        h.update(hashlib.sha256(files[path]).digest())
    return h.hexdigest()
