"""A challenge's content hash and its files as data: what a copy of the folder would see.

Grading compares a session's recorded challenge hash with the folder's; links that leave the
folder must never be followed (their target is not part of the challenge and could be
anything the grader can read).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tui_assess.challenge.model import load_challenge
from tui_assess.report.grade import challenge_files

FIXTURE = Path(__file__).parent / "fixtures" / "challenges" / "fix-sum"


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / "fix-sum"
    shutil.copytree(FIXTURE, dest)
    return dest


def test_a_link_out_of_the_folder_is_never_followed(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    before = load_challenge(root).content_hash()
    outside = tmp_path / "outside.txt"
    outside.write_text("not the challenge's")
    os.symlink("../../outside.txt", root / "starter" / "leak.txt")
    os.symlink(str(outside), root / "absolute.txt")
    ch = load_challenge(root)
    assert ch.content_hash() == before
    outside.write_text("changed")
    assert ch.content_hash() == before
    assert not any("leak" in rel or "absolute" in rel for rel in ch.folder_files())


def test_a_link_inside_the_folder_reads_as_its_target(tmp_path: Path) -> None:
    linked, copied = _copy(tmp_path / "a"), _copy(tmp_path / "b")
    os.symlink("calc.py", linked / "starter" / "alias.py")
    shutil.copyfile(copied / "starter" / "calc.py", copied / "starter" / "alias.py")
    a, b = load_challenge(linked), load_challenge(copied)
    assert a.folder_files()["starter/alias.py"] == (linked / "starter" / "calc.py").read_bytes()
    assert a.content_hash() == b.content_hash() != load_challenge(FIXTURE).content_hash()


def test_caches_are_not_content_and_grading_sees_the_same_files(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    before = load_challenge(root).content_hash()
    (root / "tests" / "__pycache__").mkdir(exist_ok=True)
    (root / "tests" / "__pycache__" / "x.pyc").write_bytes(b"\0junk")
    ch = load_challenge(root)
    assert ch.content_hash() == before
    assert challenge_files(ch) == ch.folder_files()
    assert list(ch.folder_files()) == sorted(ch.folder_files())
