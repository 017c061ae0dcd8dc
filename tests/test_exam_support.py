"""Helpers shared by the exam tests (no tests here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui_assess.challenge.model import load_challenge
from tui_assess.exam.pack import build_pack
from tui_assess.exam.policy import ExamPolicy
from tui_assess.exam.runtime import Exam
from tui_assess.session.store import Event
from tui_assess.session.timeline import Timeline

FIXTURES = Path(__file__).parent / "fixtures" / "challenges"
FIX_SUM = FIXTURES / "fix-sum"
TINY_SUM = FIXTURES / "tiny-sum"
CHEAP_SCRYPT = 2**10
FIXED_ADD = "def add(a, b):\n    return a + b\n"


def sealed_pack(folder: Path, challenges: list[Path] | None = None,
                **policy: Any) -> tuple[Path, str]:
    """A pack of ``challenges`` (default: fix-sum) in ``folder``; (path, start code)."""
    policy.setdefault("time_minutes", 30)
    chs = [load_challenge(p) for p in (challenges or [FIX_SUM])]
    out = folder / f"exam-{len(list(folder.glob('*.tapack')))}.tapack"
    built = build_pack(chs, out, ExamPolicy(**policy), scrypt_n=CHEAP_SCRYPT)
    return out, built.start_code


def opened_exam(pack: Path, code: str, candidate: str = "Ada Lovelace",
                home: Path | None = None) -> Exam:
    exam = Exam.load(pack, home=home)
    exam.unlock(code)
    exam.start(candidate, terminal_size=(100, 30), sample_interval=None)
    return exam


def events(path: Path) -> list[Event]:
    with Timeline.open(path) as tl:
        return tl.events()


def kinds(path: Path) -> list[str]:
    return [e.kind for e in events(path)]


def of_kind(path: Path, kind: str) -> list[Event]:
    return [e for e in events(path) if e.kind == kind]


def fix_workspace(workspace: Path) -> None:
    calc = workspace / "calc.py"
    calc.write_text(calc.read_text().replace("return a - b", "return a + b"))
