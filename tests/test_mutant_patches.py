"""Mutants as patches: the strict applier, and what `challenge validate` says about them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_assess.challenge.model import load_challenge
from tui_assess.challenge.mutants import MutantError, materialise_mutant, mutants
from tui_assess.challenge.patch import PatchError, apply_patch, make_patch, parse_patch
from tui_assess.challenge.validate import bare_message, validate
from tui_assess.errors import UserError

BEFORE = "".join(f"line {i}\n" for i in range(1, 31))


def patched(comment: str, before: dict[str, str], after: dict[str, str], root: Path) -> Path:
    for rel, text in before.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    apply_patch(parse_patch(make_patch(comment, before, after)), root)
    return root


lines = st.lists(st.sampled_from(["a", "b", "c", "", "def f():", "    return 1", "x = 'y'"]))


@settings(max_examples=150, deadline=None)
@given(old=lines, new=lines, old_eol=st.booleans(), new_eol=st.booleans())
def test_make_patch_then_apply_gives_the_new_text(
    tmp_path_factory: pytest.TempPathFactory,
    old: list[str],
    new: list[str],
    old_eol: bool,
    new_eol: bool,
) -> None:
    before = "\n".join(old) + ("\n" if old and old_eol else "")
    after = "\n".join(new) + ("\n" if new and new_eol else "")
    if before == after:
        return
    root = tmp_path_factory.mktemp("p")
    patched("Changes some lines of text", {"m.py": before}, {"m.py": after}, root)
    assert (root / "m.py").read_text() == after


def test_a_hunk_applies_at_an_offset_when_its_context_matches(tmp_path: Path) -> None:
    after = BEFORE.replace("line 20\n", "line twenty\n")
    patch = parse_patch(make_patch("Renames line twenty in words", {"m.py": BEFORE}, {"m.py": after}))
    (tmp_path / "m.py").write_text("new first line\nanother\n" + BEFORE)
    apply_patch(patch, tmp_path)
    assert (tmp_path / "m.py").read_text() == "new first line\nanother\n" + after


def test_context_that_no_longer_matches_names_file_hunk_and_line(tmp_path: Path) -> None:
    after = BEFORE.replace("line 20\n", "line twenty\n")
    patch = parse_patch(make_patch("Renames line twenty in words", {"m.py": BEFORE}, {"m.py": after}))
    (tmp_path / "m.py").write_text(BEFORE.replace("line 18\n", "line eighteen\n"))
    with pytest.raises(PatchError, match=r"m\.py: hunk 1 \(at line 17\) does not apply: line 18 "):
        apply_patch(patch, tmp_path)
    assert "line eighteen" in (tmp_path / "m.py").read_text()  # nothing written


def test_apply_is_all_or_nothing_across_files(tmp_path: Path) -> None:
    before = {"a.py": BEFORE, "b.py": BEFORE}
    after = {"a.py": BEFORE.replace("line 3\n", ""), "b.py": BEFORE.replace("line 5\n", "")}
    patch = parse_patch(make_patch("Drops two lines from two files", before, after))
    (tmp_path / "a.py").write_text(BEFORE)
    (tmp_path / "b.py").write_text("something else entirely\n")
    with pytest.raises(PatchError, match=r"b\.py"):
        apply_patch(patch, tmp_path)
    assert (tmp_path / "a.py").read_text() == BEFORE


def test_files_can_be_created_and_deleted(tmp_path: Path) -> None:
    root = patched(
        "Moves the helper into a new module",
        {"old.py": "x = 1\n"},
        {"pkg/new.py": "x = 2\n"},
        tmp_path,
    )
    assert not (root / "old.py").exists()
    assert (root / "pkg" / "new.py").read_text() == "x = 2\n"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-a\n+b\n", "first line must be a comment"),
        ("# x\n--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-a\n+b\n", "first line must be a comment"),
        ("# Wrong in words\n", "changes no file"),
        ("# Wrong in words\n--- m.py\n+++ m.py\n@@ -1 +1 @@\n-a\n+b\n", "should start with 'a/'"),
        ("# Wrong in words\n--- a/../x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n", "inside the workspace"),
        ("# Wrong in words\n--- a//etc/x\n+++ b//etc/x\n@@ -1 +1 @@\n-a\n+b\n", "inside"),
        ("# Wrong in words\n--- a/m.py\n+++ b/n.py\n@@ -1 +1 @@\n-a\n+b\n", "renames"),
        ("# Wrong in words\n--- a/m.py\n+++ b/m.py\n@@ -1,2 +1 @@\n-a\n+b\n", "promises -2 +1"),
        ("# Wrong in words\n--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n*a\n", "must start with"),
        ("# Wrong in words\n--- a/m.py\n+++ b/m.py\n", "without any '@@' hunk"),
        ("# Wrong in words\nsome prose\n", "expected a '--- a/FILE' line"),
        ("# Wrong in words\nBinary files a/x and b/x differ\n", "binary patches"),
    ],
)
def test_malformed_patches_are_refused_in_one_sentence(text: str, error: str) -> None:
    with pytest.raises(PatchError, match=error.replace("(", r"\(").replace("+", r"\+")):
        parse_patch(text)


def test_git_headers_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("a\n")
    patch = parse_patch(
        "# Changes a into b, as git diff prints it\n"
        "diff --git a/m.py b/m.py\nindex 1234567..89abcde 100644\n"
        "--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-a\n+b\n"
    )
    assert patch.comment == "Changes a into b, as git diff prints it"
    apply_patch(patch, tmp_path)
    assert (tmp_path / "m.py").read_text() == "b\n"


@pytest.mark.parametrize(
    ("message", "bare"),
    [
        ("assert 3 == 4", True),
        ("AssertionError: assert 'erin' is None", True),
        ("assert 'quinn' not in 'quinn-1'", True),
        ("AssertionError: sha256", True),
        ("KeyError: 'files'", True),
        ("KeyError", True),
        ("", True),
        ("AssertionError: a token must expire after its ttl", False),
        ("sqlite3.OperationalError: no such table: bookings", False),
        ("Failed: DID NOT RAISE <class 'ValueError'>", False),
        ("TypeError: 'NoneType' object is not subscriptable", False),
    ],
)
def test_bare_messages_are_recognised(message: str, bare: bool) -> None:
    assert (bare_message(message) is not None) is bare


def test_folder_and_patch_mutants_live_side_by_side(tiny_challenge: Path) -> None:
    ch = load_challenge(tiny_challenge)
    sol = (ch.solution_dir / "orders.py").read_text()
    wrong = sol.replace("sum(amounts)", "sum(a for a in amounts if a > 0)")
    (tiny_challenge / "mutants" / "skips-refunds.patch").write_text(
        make_patch("Refunds (negative amounts) are left out", {"orders.py": sol}, {"orders.py": wrong})
    )
    found = {m.name: m for m in mutants(load_challenge(tiny_challenge))}
    assert set(found) == {"off-by-one", "ignores-negatives", "skips-refunds"}
    assert found["skips-refunds"].is_patch and not found["off-by-one"].is_patch
    assert found["skips-refunds"].description() == "Refunds (negative amounts) are left out"
    ws = materialise_mutant(ch, found["skips-refunds"], tiny_challenge.parent / "ws")
    assert (ws / "orders.py").read_text() == wrong


def test_a_mutant_both_folder_and_patch_is_refused(tiny_challenge: Path) -> None:
    (tiny_challenge / "mutants" / "off-by-one.patch").write_text("# Anything at all here\n")
    with pytest.raises(UserError, match="'off-by-one' is both a folder and a .patch file"):
        load_challenge(tiny_challenge)


def test_validate_names_a_stale_patch_a_passing_starter_and_bare_messages(
    tiny_challenge: Path,
) -> None:
    ch = load_challenge(tiny_challenge)
    sol = (ch.solution_dir / "orders.py").read_text()
    stale = make_patch(
        "Adds one to every total",
        {"orders.py": sol.replace("sum", "math.fsum")},
        {"orders.py": sol.replace("sum(amounts)", "math.fsum(amounts) + 1")},
    )
    (tiny_challenge / "mutants" / "plus-one.patch").write_text(stale)
    # The starter now passes the visible test: its first run shows nothing.
    (tiny_challenge / "tests" / "visible" / "test_orders.py").write_text(
        "import orders\n\n\ndef test_no_orders():\n    assert orders.total([]) == 0, 'no orders'\n"
    )
    with pytest.raises(MutantError, match="mutant plus-one no longer applies"):
        materialise_mutant(ch, mutants(ch)[-1], tiny_challenge.parent / "ws")

    rows = {r.check: r for r in validate(tiny_challenge)}
    row = rows["mutant plus-one caught"]
    assert not row.ok and "no longer applies" in row.detail and "orders.py: hunk 1" in row.detail
    assert rows["mutant off-by-one caught"].ok
    assert not rows["starter fails visible"].ok
    assert "first run should show the problem" in rows["starter fails visible"].detail
    plain = rows["hidden failures speak plainly"]
    assert not plain.ok and plain.advice  # reported; it fails the run only under --strict
    assert "starter test_many_orders: a bare comparison" in plain.detail
