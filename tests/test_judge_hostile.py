"""Hostile candidate code against the trusted judge, in every sandbox mode this machine has.

The corpus is tests/hostile/ (see tests/judge_hostile_cases.py): pytest internals patched in
the candidate's process, forged results written to every descriptor, exits at import, at the
first failing input and from a thread, BaseExceptions, asserts stripped by an import hook, an
object that equals everything, hidden source sent back in messages, reaches through lent
objects, ATTACH through a lent SQLite connection. None may raise the score above the
starter's or make the run pass. The same corpus runs as an unprivileged user in
test_judge_hostile_unprivileged.py.
"""

from __future__ import annotations

import pytest
from judge_hostile_cases import ATTACKS, DISRUPTIVE, MARKER, Outcome, problems, run_attack

from tui_assess.sandbox import modes

MODES = [
    pytest.param(m, marks=pytest.mark.skipif(bool(modes.unavailable(m)), reason=f"{m}: {modes.unavailable(m)}"))
    for m in modes.MODES
]


@pytest.fixture(scope="module")
def starters() -> dict[str, Outcome]:
    return {}


def _starter(starters: dict[str, Outcome], mode: str) -> Outcome:
    if mode not in starters:
        starters[mode] = run_attack(None, mode)
    return starters[mode]


@pytest.mark.parametrize("mode", MODES)
def test_the_starter_scores_what_the_corpus_expects(starters, mode: str) -> None:
    starter = _starter(starters, mode)
    assert starter.mode == mode
    assert starter.verdicts == {
        "test_add_hidden": "pass",
        "test_mean_hidden": "pass",
        "test_total_through_a_lent_connection": "pass",
        "test_mean_of_nothing_is_zero_hidden": "fail",
        "test_elapsed_uses_the_lent_clock": "pass",
        "test_clamp_caps_at_high": "fail",
        "test_clamp_raises_low": "pass",
    }
    assert starter.score == pytest.approx(71.67, abs=0.01)
    assert not any(MARKER in m for m in starter.messages)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("attack", ATTACKS)
def test_an_attack_never_beats_the_starter(starters, attack: str, mode: str) -> None:
    starter = _starter(starters, mode)
    outcome = run_attack(attack, mode)
    assert outcome.mode == mode
    found = problems(outcome, starter)
    assert not found, f"{attack} in {mode}: {found}\n{outcome.messages}\n{outcome.output[-2000:]}"
    if attack not in DISRUPTIVE:
        assert outcome.score == starter.score
    if attack == "leak_source" and mode == "namespaces":
        assert "found 0 test files" in outcome.output  # the hidden tests are not even visible
