"""Failure messages as a candidate wants to read them: the useful line first (headless).

pytest's message for a test that cannot import the candidate's module starts with ~40 lines
of its own import machinery; the line that matters (`IndentationError: ...` in `calc.py`,
line 2) comes last. `summarise_failure` puts that line, with its file and line, on top, then
the code it points at, then the whole message unchanged, so nothing is lost.
"""

from __future__ import annotations

import re
import textwrap

RUN_PATH = re.compile(r"[^\s\"']*?tui-assess-run-[^/\s]+/(?:area/)?work/")
"""The temporary run folder's prefix: a workspace file is named as the candidate knows it."""
EXCEPTION = re.compile(
    r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failed|Timeout|Warning)\b\s*(?::|$)"
)
LOCATION = re.compile(r"^(?P<file>\S+?):(?P<line>\d+): in \S+")
SYNTAX_LOCATION = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')


def _short_path(path: str) -> str:
    path = RUN_PATH.sub("", path)
    for prefix in ("../tests/", "tests/"):
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


def summarise_failure(message: str) -> str:
    """The failure's headline (file, line, error) first, then the full message."""
    lines = message.splitlines()
    e_lines = [(i, line[1:].strip()) for i, line in enumerate(lines) if line[:2] in ("E ", "E\t")]
    if not e_lines:
        return message
    exceptions = [(i, text) for i, text in e_lines if EXCEPTION.match(text)]
    at, headline = exceptions[-1] if exceptions else e_lines[0]
    where, context = "", []
    syntax = [
        (i, m) for i, text in e_lines if i < at and (m := SYNTAX_LOCATION.match(text)) is not None
    ]
    if syntax:
        i, m = syntax[-1]
        where = f"{_short_path(m['file'])}, line {m['line']}: "
        code = textwrap.dedent("\n".join(lines[j][1:] for j in range(i + 1, at)))
        context = ["  " + line for line in code.splitlines()]
    else:
        found = [LOCATION.match(line) for line in lines[:at]]
        located = [m for m in found if m]
        if located:
            where = f"{_short_path(located[-1]['file'])}:{located[-1]['line']}: "
    first = RUN_PATH.sub("", where + headline)
    if first == lines[0].strip():
        return message
    return "\n".join([first, *context, "", "Full output:", message])
