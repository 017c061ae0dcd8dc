"""Similarity across a cohort: planted copies are found, independent solutions of a short fix
are not flagged, starter and reference code are subtracted, and each flagged pair is traced
back through the sessions (pasted, typed in a burst, or grown)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_similarity_support import cohort, disguise, submission

from tui_assess.report.similarity import K, W, compare_cohort, cross_check, winnow
from tui_assess.session import SessionRecorder

TINY = Path(__file__).parent / "fixtures" / "challenges" / "tiny-sum"
STARTER = {"orders.py": (TINY / "starter" / "orders.py").read_text()}
REFERENCE = {"orders.py": (TINY / "solution" / "orders.py").read_text()}


def test_planted_copies_are_found_and_nothing_else() -> None:
    subs, planted = cohort(120, 6)
    result = compare_cohort(subs)
    assert {(p.a, p.b) for p in result.pairs} == planted
    for p in result.pairs:
        assert p.score > 0.9 and p.shared >= 50
        assert p.lines_a["solution.py"] and p.lines_b["solution.py"]


def test_a_partial_copy_is_found_and_located() -> None:
    mine = submission(1)
    theirs = submission(2)
    borrowed = "\n\n".join(theirs.split("\n\n")[:2])  # two of their five functions
    mixed = mine + "\n" + disguise(borrowed, 5)
    subs = {"a": {"x.py": theirs}, "b": {"x.py": mixed},
            **{f"o{i}": {"x.py": submission(100 + i)} for i in range(20)}}
    result = compare_cohort(subs, threshold=0.2)
    assert [(p.a, p.b) for p in result.pairs] == [("a", "b")]
    copied_from = len(mine.splitlines()) + 1
    located = result.pairs[0].lines_b["x.py"]
    inside = [n for n in located if n > copied_from]  # the borrowed region
    assert len(inside) >= 0.9 * len(located) and len(inside) >= 10


FIXES = [
    "def total(amounts):\n    return sum(amounts)\n",
    "def total(amounts):\n    result = 0\n    for i in range(len(amounts)):\n"
    "        result += amounts[i]\n    return result\n",
    "def total(amounts):\n    result = 0\n    for amount in amounts:\n"
    "        result += amount\n    return result\n",
    "def total(amounts):\n    # refunds are negative, they count too\n    return sum(amounts, 0)\n",
]


def test_independent_solutions_of_a_short_fix_are_not_flagged() -> None:
    rng = random.Random(3)
    subs = {}
    for i in range(40):
        text = rng.choice(FIXES).replace("result", rng.choice(["result", "acc", "s", "t"]))
        subs[f"cand{i}"] = {"orders.py": text}
    result = compare_cohort(subs, starter=STARTER, reference=REFERENCE)
    assert result.pairs == []
    # the same submissions with a long shared block appended are flagged: the test above
    # is not passing because nothing could ever be flagged
    block = submission(77)
    subs["cand0"]["orders.py"] += block
    subs["cand1"]["orders.py"] += disguise(block, 1)
    flagged = compare_cohort(subs, starter=STARTER, reference=REFERENCE)
    assert [(p.a, p.b) for p in flagged.pairs] == [("cand0", "cand1")]


def test_starter_and_reference_code_are_subtracted() -> None:
    reference = {"x.py": submission(999)}
    subs = {"a": {"x.py": reference["x.py"] + submission(1, functions=1)},
            "b": {"x.py": reference["x.py"] + submission(2, functions=1)}}
    assert [(p.a, p.b) for p in compare_cohort(subs).pairs] == [("a", "b")]
    assert compare_cohort(subs, reference=reference).pairs == []
    assert compare_cohort(subs, starter=reference).pairs == []


def test_code_most_of_the_cohort_shares_is_ignored() -> None:
    common = submission(5)
    subs = {f"s{i}": {"x.py": common + submission(i, functions=2)} for i in range(30)}
    result = compare_cohort(subs)
    assert result.pairs == [] and result.ignored_common > 20


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=0, max_size=80),
       st.lists(st.integers(1, 40), min_size=0, max_size=80),
       st.lists(st.integers(41, 60), min_size=K + W - 1, max_size=K + W + 10))
def test_winnowing_finds_every_shared_run_of_k_plus_w_minus_1(
        left: list[int], right: list[int], shared: list[int]) -> None:
    a = left + shared + right
    b = right + shared + left
    fa = winnow(a, list(range(len(a))))
    fb = winnow(b, list(range(len(b))))
    assert set(fa) & set(fb)


# --------------------------------------------------------------------------- cross-check


def fake_clock_session(path: Path, steps: list[tuple[float, str, str]]) -> Path:
    """A real session file whose events happen at chosen times: (t, kind, text) where kind is
    "type" (one edit per line) or "paste"."""
    rec = SessionRecorder.create(path, challenge_id="tiny-sum", challenge_hash="0" * 64,
                                 mode="practice", candidate="x", files=dict(STARTER))
    clock = [1.0]
    rec._now = lambda: (clock[0], 1.8e9 + clock[0])  # type: ignore[method-assign]
    text = STARTER["orders.py"]
    rec.edit("orders.py", 0, len(text), "")
    text = ""
    for t, kind, chunk in steps:
        clock[0] = t
        if kind == "paste":
            rec.paste("orders.py", chunk)
            rec.edit("orders.py", len(text), 0, chunk)
            text += chunk
            continue
        lines = chunk.splitlines(keepends=True)
        for i, line in enumerate(lines):
            clock[0] = t + i * 2.0
            rec.edit("orders.py", len(text), 0, line)
            text += line
    clock[0] += 1
    rec.submit({"orders.py": text})
    rec.close()
    return path


def test_cross_check_tells_pasted_burst_and_grown_apart(tmp_path: Path) -> None:
    shared = submission(11)
    lines = {"orders.py": list(range(1, len(shared.splitlines()) + 1))}
    files = {"orders.py": shared}
    pasted = fake_clock_session(tmp_path / "p.tasession", [(10.0, "paste", shared)])
    burst = fake_clock_session(tmp_path / "b.tasession", [(10.0, "type", shared[:0])] + [
        (20.0 + i * 0.5, "type", line) for i, line in enumerate(shared.splitlines(True))])
    half = len(shared.splitlines()) // 2
    parts = shared.splitlines(keepends=True)
    grown = fake_clock_session(tmp_path / "g.tasession", [
        (10.0, "type", "".join(parts[:half])), (1200.0, "type", "".join(parts[half:]))])
    verdicts = {name: cross_check(path, files, lines)
                for name, path in (("pasted", pasted), ("burst", burst), ("grown", grown))}
    assert verdicts["pasted"]["how"] == "pasted" and verdicts["pasted"]["pasted_share"] == 1.0
    assert verdicts["burst"]["how"] == "burst" and verdicts["burst"]["span_s"] < 90
    assert verdicts["grown"]["how"] == "grew" and verdicts["grown"]["span_s"] > 1000


def test_cross_check_of_an_unreadable_session_is_unknown(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tasession"
    junk.write_text("x")
    shared = submission(3)
    verdict = cross_check(junk, {"a.py": shared}, {"a.py": [1, 2, 3]})
    assert verdict["how"] == "unknown" and "not a tui-assess session file" in verdict["detail"]


@pytest.mark.parametrize("n", [50])
def test_the_index_counts_only_pairs_that_share_something(n: int) -> None:
    subs = {f"s{i}": {"x.py": submission(1000 + i)} for i in range(n)}
    result = compare_cohort(subs)
    assert result.pairs == [] and result.candidates < n * (n - 1) // 2
