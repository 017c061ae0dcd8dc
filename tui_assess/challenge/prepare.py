"""Preparing a workspace's data: the challenge's `[seed]` command, run once, in the sandbox.

A challenge that needs data (a production-sized database, a catalog to page through) declares
how to make it instead of committing it:

    [seed]
    command = ["python", "seed.py", "shop.db"]
    creates = ["shop.db"]
    database = "shop.db"

`prepare_workspace` runs the command in the workspace folder, as a candidate process of a
sandbox run (the workspace is its only writable folder; no network; the challenge's
[limits]), when any file of `creates` is missing. The CLI's `init` calls it, the TUI calls it
before the SQL and HTTP consoles open, and `console_database` tells the consoles which file to
use. Headless: no Textual here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from tui_assess.challenge.model import Challenge
from tui_assess.sandbox import CandidateSpec, SandboxError, SandboxRun

#: The seed's output kept for the caller (the tail; a seed that prints more is not cut off).
OUTPUT_TAIL_CHARS = 2000


@dataclass
class PrepareResult:
    """What preparing a workspace did."""

    ran: bool = False
    """False when there was nothing to do: no [seed], or every file it makes is there."""
    ok: bool = True
    """The workspace has every file of seed.creates (or there is no [seed])."""
    created: list[str] = field(default_factory=list)
    """Files of seed.creates that the command made."""
    seconds: float = 0.0
    output: str = ""
    """The tail of what the command printed."""
    reason: str = ""
    """Plain words when not ok: the exit code, the limit it hit, or the files still missing."""


def missing_seed_files(challenge: Challenge, workspace: Path) -> list[str]:
    """Files of seed.creates not in the workspace yet ([] when there is no [seed])."""
    if challenge.seed is None:
        return []
    return [rel for rel in challenge.seed.creates if not (Path(workspace) / rel).is_file()]


def console_database(challenge: Challenge, workspace: Path) -> Path | None:
    """The database the SQL and HTTP consoles use: seed.database, once it exists."""
    if challenge.seed is None or challenge.seed.database is None:
        return None
    path = Path(workspace) / challenge.seed.database
    return path if path.is_file() else None


def prepare_workspace(
    challenge: Challenge, workspace: Path, *, sandbox: str = "auto"
) -> PrepareResult:
    """Run the challenge's seed command in `workspace` when a file it makes is missing.

    Blocking (a production-sized database takes a second or two): call it from a worker in
    the TUI. Never raises for what the command does; a sandbox that cannot start raises
    SandboxError.
    """
    workspace = Path(workspace).resolve()
    missing = missing_seed_files(challenge, workspace)
    if challenge.seed is None or not missing:
        return PrepareResult()
    start = time.monotonic()
    limits = challenge.limits
    with SandboxRun(limits, sandbox) as run:
        proc = run.spawn(
            CandidateSpec("seed", list(challenge.seed.command), workspace, {}, rw=[workspace])
        )
        returncode = proc.wait(limits.timeout_seconds + 5)  # the run's monitor stops it first
        if returncode is None:
            run.stop("time")
        run.close()
        output = run.output("seed")
        hit = run.final_resources.limit_hit
        limit_reason = run.final_resources.reason
    still = missing_seed_files(challenge, workspace)
    result = PrepareResult(
        ran=True,
        ok=returncode == 0 and not still and hit is None,
        created=[rel for rel in missing if rel not in still],
        seconds=time.monotonic() - start,
        output=output[-OUTPUT_TAIL_CHARS:],
    )
    command = " ".join(challenge.seed.command)
    if hit is not None:
        result.reason = f"`{command}` was stopped: {limit_reason}"
    elif returncode != 0:
        result.reason = f"`{command}` exited with code {returncode}"
    elif still:
        result.reason = f"`{command}` did not make {', '.join(still)}"
    return result


__all__ = [
    "PrepareResult",
    "SandboxError",
    "console_database",
    "missing_seed_files",
    "prepare_workspace",
]
