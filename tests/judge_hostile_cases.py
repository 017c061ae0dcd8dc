"""The hostile-code corpus against the trusted judge: attacks live in the candidate's module.

Each file in tests/hostile/attacks/ is appended to the starter of tests/hostile/challenges/hostile-base
(`hostile-base`, module `calc.py`): the starter's functions stay, the attack adds to them or replaces some. Every
attack must leave the hidden score at most at the starter's and the run not `pass`; a quiet
attack (one that does not break the candidate's own process) leaves every verdict exactly as
the starter's. No message may quote the hidden tests, and nothing the attack reaches is
printed ("REACHED ...").

Shared by tests/test_judge_hostile.py (as root, in each sandbox mode) and the unprivileged
run, which executes this module as a script.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tui_assess.challenge.check import CheckResult, run_check
from tui_assess.challenge.model import load_challenge
from tui_assess.challenge.workspace import init_workspace

CORPUS = Path(__file__).resolve().parent / "hostile"
CHALLENGE = CORPUS / "challenges" / "hostile-base"
ATTACKS = sorted(p.stem for p in (CORPUS / "attacks").glob("*.py"))
MARKER = "SECRET-MARKER-7f3a"
"""A string only the hidden tests contain: it must never reach a message."""
DISRUPTIVE = {"exit_at_import", "exit_on_failing_input", "exit_from_thread", "write_every_fd"}
"""Attacks that end or break the candidate's process: the tests after it fail."""


@dataclass
class Outcome:
    attack: str
    mode: str
    status: str
    score: float
    verdicts: dict[str, str]
    messages: list[str]
    output: str
    judge: str
    verdicts_row: str


def run_attack(attack: str | None, mode: str) -> Outcome:
    """The hidden suite on the starter, or on the starter with `attack` appended."""
    challenge = load_challenge(CHALLENGE)
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(challenge, Path(tmp) / "ws")
        if attack is not None:
            code = (CORPUS / "attacks" / f"{attack}.py").read_text()
            with open(ws / "calc.py", "a") as f:
                f.write("\n" + code)
        result: CheckResult = run_check(challenge, ws, "hidden", sandbox=mode)
    return Outcome(
        attack=attack or "starter",
        mode=result.run.sandbox,
        status=result.status,
        score=result.score,
        verdicts={t.name: t.status for t in result.tests},
        messages=[t.message for t in result.tests],
        output=result.output,
        judge=result.run.judge,
        verdicts_row=result.run.guarantees.get("verdicts", ""),
    )


def problems(outcome: Outcome, starter: Outcome) -> list[str]:
    """What is wrong with an attack's outcome (empty when the judge held)."""
    found = []
    if outcome.status == "pass":
        found.append("the run passed")
    if outcome.score > starter.score:
        found.append(f"score {outcome.score} above the starter's {starter.score}")
    if outcome.attack not in DISRUPTIVE and outcome.verdicts != starter.verdicts:
        changed = {n: v for n, v in outcome.verdicts.items() if starter.verdicts.get(n) != v}
        found.append(f"verdicts moved: {changed}")
    if set(outcome.verdicts) != set(starter.verdicts):
        found.append("not every test has a verdict")
    if any(MARKER in m for m in outcome.messages):
        found.append("a message quoted the hidden tests")
    reached = [ln for ln in outcome.output.splitlines() if ln.startswith("REACHED")]
    if reached:
        found.append(f"reached: {reached[:5]}")
    if outcome.judge != "isolated" or "outside the candidate's" not in outcome.verdicts_row:
        found.append("the result does not say the judge was isolated")
    return found


def main() -> int:
    """Script mode (an unprivileged user): the starter, then every attack; a JSON line each."""
    mode = sys.argv[1] if len(sys.argv) > 1 else "auto"
    starter = run_attack(None, mode)
    print(json.dumps({"attack": "starter", "mode": starter.mode, "score": starter.score}))
    for attack in ATTACKS:
        outcome = run_attack(attack, mode)
        print(
            json.dumps(
                {
                    "attack": attack,
                    "mode": outcome.mode,
                    "score": outcome.score,
                    "problems": problems(outcome, starter),
                    "found_tests": "found 0 test files" not in outcome.output,
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
