"""Text from a session file or a candidate's workspace, made safe to print on a terminal.

Session files are hostile input (a reviewer opens strangers' files): a file name, a candidate
name or a note can hold escape sequences that retitle the terminal, move the cursor or worse.
Everything the CLI prints from such a file goes through `one_line`.
"""

from __future__ import annotations


def one_line(text: object, limit: int | None = None) -> str:
    """`text` on one printable line: control characters (newlines, ESC, BEL, C1, bidi
    overrides...) spelled as Python escapes, cut at `limit` characters with an ellipsis."""
    s = str(text)
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 1, 0)] + "…"
    return out
