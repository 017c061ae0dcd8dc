"""Author's checks for a challenge: the manifest is right, the starter fails (visibly, so the
first run shows the problem), the solution passes, every mutant is caught, hidden failures speak
plain words, and the solution's hidden suite is not flaky."""

from __future__ import annotations

import ast
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_assess.challenge.check import CheckResult, Suite, run_check
from tui_assess.challenge.model import DEFAULT_GROUP, Challenge, load_challenge
from tui_assess.challenge.mutants import Mutant, MutantError, materialise_mutant, mutants
from tui_assess.challenge.prepare import SandboxError, console_database, prepare_workspace
from tui_assess.challenge.workspace import init_workspace
from tui_assess.errors import UserError


@dataclass
class Row:
    challenge: str
    check: str
    ok: bool
    detail: str = ""
    seconds: float = 0.0
    advice: bool = False
    """An authoring-quality check (the first run shows the problem, failures speak plainly),
    not a correctness one: a challenge written to the original format still validates when it
    misses one (it is reported), unless `--strict` asks for every check."""

    def counts(self, strict: bool) -> bool:
        """Whether this row decides the outcome (required checks always; advice when strict)."""
        return strict or not self.advice

    def to_json(self) -> dict[str, Any]:
        return {
            "challenge": self.challenge,
            "check": self.check,
            "ok": self.ok,
            "level": "advice" if self.advice else "required",
            "detail": self.detail,
            "seconds": round(self.seconds, 2),
        }


def rows_ok(rows: list[Row], strict: bool = False) -> bool:
    """The outcome of a validation: every row that counts passed."""
    return all(r.ok for r in rows if r.counts(strict))


def test_names(folder: Path) -> dict[str, str]:
    """test function name -> file, for every test_*.py in folder (parsed, never imported)."""
    names: dict[str, str] = {}
    for f in sorted(folder.rglob("test_*.py")):
        try:
            tree = ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
        except (SyntaxError, UnicodeDecodeError) as exc:
            raise UserError(f"{f}: cannot parse the test file ({exc}).") from None
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
                "test"
            ):
                names[node.name] = f.name
    return names


@contextmanager
def materialised(challenge: Challenge, layer: Path | Mutant | None) -> Iterator[Path]:
    """A temporary workspace: the starter, the starter with a layer, or a mutant."""
    with tempfile.TemporaryDirectory(prefix="tui-assess-validate-") as tmp:
        dest = Path(tmp) / "ws"
        if isinstance(layer, Mutant):
            yield materialise_mutant(challenge, layer, dest)
        else:
            yield init_workspace(challenge, dest, layer)


_EXCEPTION_RE = re.compile(r"^([A-Za-z_][\w.]*)(?::\s*(.*))?$", re.DOTALL)


def bare_message(message: str) -> str | None:
    """Why a failure message gives a candidate nothing to act on, or None when it speaks.

    Bare: pytest's rendering of an assert without a message (`assert 3 == 4`,
    `assert 'erin' is None`), an exception name alone (`KeyError`), or one with a lone value
    (`AssertionError: sha256`, `KeyError: 'erin'`)."""
    text = message.strip().splitlines()[0].strip() if message.strip() else ""
    if not text:
        return "an empty message"
    if text.startswith("AssertionError: assert"):
        text = text.removeprefix("AssertionError: ")
    if text == "assert" or text.startswith("assert "):
        return "a bare comparison"
    m = _EXCEPTION_RE.match(text)
    if m and (m.group(2) is None or len(re.findall(r"[A-Za-z]{2,}", m.group(2))) < 2):
        return "a bare exception name"
    return None


def _check_seed(challenge: Challenge, workspace: Path) -> tuple[bool, str]:
    """Run the seed step on a fresh starter workspace: (ok, detail)."""
    assert challenge.seed is not None
    try:
        done = prepare_workspace(challenge, workspace)
    except SandboxError as exc:
        return False, f"the sandbox could not start: {exc}"
    if not done.ok:
        said = done.output.strip()[-200:]
        return False, done.reason + (f": {said}" if said else "")
    detail = f"made {', '.join(done.created)} in {done.seconds:.1f} s"
    database = console_database(challenge, workspace)
    if challenge.seed.database is not None:
        if database is None:
            return False, f"seed.database {challenge.seed.database} was not made"
        try:
            uri = f"{database.resolve().as_uri()}?mode=ro"
            with closing(sqlite3.connect(uri, uri=True)) as conn:
                tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
                n_tables = tables.fetchone()[0]
        except sqlite3.Error as exc:
            return False, f"{challenge.seed.database} is not an SQLite database ({exc})"
        if not n_tables:
            return False, f"{challenge.seed.database} has no tables"
        detail += f"; {challenge.seed.database}: {n_tables} tables"
    return True, detail


def _failing(result: CheckResult) -> list[str]:
    return [t.name for t in result.tests if t.status in ("fail", "error")]


def _names(names: list[str], most: int = 4) -> str:
    return ", ".join(names[:most]) + ("..." if len(names) > most else "")


def _summary(result: CheckResult) -> str:
    counts: dict[str, int] = {}
    for t in result.tests:
        counts[t.status] = counts.get(t.status, 0) + 1
    parts = [f"{n} {s}" for s, n in sorted(counts.items())]
    text = ", ".join(parts) or "no tests"
    if result.reason:
        text += f" — {result.reason}"
    return text


def validate(
    path: Path, repeat: int = 1, progress: Callable[[Row], None] | None = None
) -> list[Row]:
    """Every check for one challenge folder, as rows (a bad manifest is one failing row)."""
    rows: list[Row] = []

    def add(row: Row) -> Row:
        rows.append(row)
        if progress:
            progress(row)
        return row

    name = Path(path).name
    try:
        ch = load_challenge(path)
    except UserError as exc:
        add(Row(name, "manifest", False, str(exc)))
        return rows
    add(
        Row(
            ch.id,
            "manifest",
            True,
            f"format_version 1, {ch.difficulty}, {ch.time_limit_minutes} min",
        )
    )
    brief = ch.brief().strip()
    add(Row(ch.id, "brief", bool(brief), f"{len(brief.split())} words" if brief else "empty"))

    try:
        visible, hidden = test_names(ch.tests_dir("visible")), test_names(ch.tests_dir("hidden"))
    except UserError as exc:
        add(Row(ch.id, "test names", False, str(exc)))
        return rows
    shared = sorted(set(visible) & set(hidden))
    add(
        Row(
            ch.id,
            "test names",
            not shared and bool(hidden) and bool(visible),
            f"shared by visible and hidden: {', '.join(shared)}"
            if shared
            else f"{len(visible)} visible, {len(hidden)} hidden",
        )
    )
    if ch.scoring:
        ungrouped = sorted({f for f in hidden.values() if ch.group_of(f) == DEFAULT_GROUP})
        add(
            Row(
                ch.id,
                "scoring groups",
                not ungrouped,
                f"hidden files in no [[scoring]] group: {', '.join(ungrouped)}"
                if ungrouped
                else ", ".join(f"{g.group} {g.weight}" for g in ch.scoring),
            )
        )

    if ch.seed is not None:
        t = time.monotonic()
        with materialised(ch, None) as ws:
            add(Row(ch.id, "seed", *_check_seed(ch, ws), time.monotonic() - t))

    def run(layer: Path | Mutant | None, suite: Suite) -> CheckResult:
        with materialised(ch, layer) as ws:
            return run_check(ch, ws, suite)

    bare: list[str] = []

    def note_bare(who: str, result: CheckResult) -> None:
        for t in result.tests:
            why = bare_message(t.message) if t.status in ("fail", "error") else None
            if why:
                bare.append(f"{who} {t.name}: {why} ({t.message.strip()[:60]!r})")

    t = time.monotonic()
    starter_visible = run(None, "visible")
    fails = _failing(starter_visible)
    add(
        Row(
            ch.id,
            "starter fails visible",
            bool(fails) or starter_visible.status not in ("pass", "error"),
            f"{len(fails)} of {len(starter_visible.tests)} failing: {_names(fails)}"
            if fails
            else _summary(starter_visible)
            + " (the first run should show the problem: make a visible test fail)",
            time.monotonic() - t,
            advice=True,
        )
    )

    t = time.monotonic()
    starter = run(None, "hidden")
    fails = _failing(starter)
    note_bare("starter", starter)
    add(
        Row(
            ch.id,
            "starter fails hidden",
            bool(fails) or starter.status not in ("pass", "error"),
            f"{len(fails)} failing: {_names(fails)}" if fails else _summary(starter),
            time.monotonic() - t,
        )
    )

    limit = ch.limits.timeout_seconds
    for suite in ("visible", "hidden"):
        t = time.monotonic()
        sol = run(ch.solution_dir, suite)  # type: ignore[arg-type]
        add(
            Row(
                ch.id,
                f"solution passes {suite}",
                sol.status == "pass",
                f"{_summary(sol)}; {sol.resources.wall_s:.1f} s of the {limit:g} s limit",
                time.monotonic() - t,
            )
        )

    found = mutants(ch)
    for mutant in found:
        t = time.monotonic()
        check = f"mutant {mutant.name} caught"
        try:
            res = run(mutant, "hidden")
        except MutantError as exc:
            add(Row(ch.id, check, False, str(exc), time.monotonic() - t))
            continue
        caught = _failing(res)
        note_bare(f"mutant {mutant.name}", res)
        add(
            Row(
                ch.id,
                check,
                bool(caught) or res.status not in ("pass", "error"),
                f"failed by {_names(caught, 3)}" if caught else _summary(res),
                time.monotonic() - t,
            )
        )
    if not found:
        add(Row(ch.id, "mutants", True, "none defined"))
    add(
        Row(
            ch.id,
            "hidden failures speak plainly",
            not bare,
            f"{len(bare)} bare: " + "; ".join(bare[:3]) + ("; ..." if len(bare) > 3 else "")
            if bare
            else "no bare comparison or exception name on the starter or any mutant",
            advice=True,
        )
    )

    if repeat > 1:
        t = time.monotonic()
        bad: list[str] = []
        for i in range(repeat):
            res = run(ch.solution_dir, "hidden")
            if res.status != "pass":
                bad.append(f"run {i + 1}: {', '.join(_failing(res)) or res.reason}")
        add(
            Row(
                ch.id,
                f"solution hidden x{repeat} (flakiness)",
                not bad,
                "; ".join(bad[:3]) if bad else f"{repeat} of {repeat} passed",
                time.monotonic() - t,
            )
        )
    return rows


def format_table(rows: list[Row]) -> str:
    w1 = max([len(r.challenge) for r in rows] + [9])
    w2 = max([len(r.check) for r in rows] + [5])
    lines = [f"{'challenge':<{w1}}  {'check':<{w2}}  result  time   detail"]
    for r in rows:
        secs = f"{r.seconds:5.1f}s" if r.seconds else "      "
        result = "ok" if r.ok else "advice" if r.advice else "FAIL"
        lines.append(f"{r.challenge:<{w1}}  {r.check:<{w2}}  {result:<6}  {secs} {r.detail}")
    return "\n".join(lines)
