"""The `tui-assess` command's entry point.

`tui-assess` and `tui-assess practice [CHALLENGE]` open the TUI at once, without importing
click and the other commands (issue 14: start-up; click alone is ~15 ms of a ~250 ms start).
Every other command line, `practice --help` included, goes to the click commands in cli.py.
"""

from __future__ import annotations

import sys
from typing import Any


def opens_the_tui(args: list[str]) -> bool:
    """`[]`, `["practice"]` or `["practice", CHALLENGE]` (no options)."""
    return args[:1] in ([], ["practice"]) and len(args) <= 2 and not any(
        a.startswith("-") for a in args
    )


def main() -> Any:
    """Returns what the click command returns (the console script exits with it)."""
    args = sys.argv[1:]
    if not opens_the_tui(args):
        from tui_assess.cli import main as cli_main

        return cli_main()
    from tui_assess.errors import UserError
    from tui_assess.printable import one_line
    from tui_assess.ui.launch import practice

    try:
        practice(args[1] if len(args) == 2 else None)
    except UserError as exc:  # as cli.py says it: one line on stderr, exit code 2
        print(f"tui-assess: {one_line(exc)}", file=sys.stderr)
        sys.exit(exc.exit_code)
    return None
