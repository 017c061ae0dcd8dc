"""The exam a session was recorded in, as reports show it: its terms and its receipt.

A session of an exam carries the pack's rules in ``session_start["exam"]`` (written by
``tui_assess.exam.runtime``). Reports print them in the policy's own plain words
(``ExamPolicy.rules``), with the facts an exam adds (wrong start codes, clock jumps, resumes,
time-up), and say whether the receipt the candidate read out was checked against the file
(``tui_assess.exam.receipt.check_receipt``, only on a file that verifies intact, as
``session verify --receipt`` does). A practice session has no exam section at all.

Receipts for many files (``grade`` / ``review --receipts FILE``) come as a CSV or JSON mapping
of session file -> receipt code.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from tui_assess.errors import UserError
from tui_assess.exam import codes
from tui_assess.exam.policy import ExamPolicy
from tui_assess.exam.receipt import check_receipt, exam_facts
from tui_assess.report.facts import SessionFacts
from tui_assess.session.store import SUFFIX
from tui_assess.session.timeline import iso

#: receipt ``status`` values, and the line every format prints for each.
MATCHES, MISMATCH, NOT_CHECKED, NOT_INTACT = ("matches", "does-not-match", "not-checked",
                                              "file-not-intact")
NOT_AN_EXAM = "not-an-exam"
"""In grade and review only: a receipt was given for a session of no exam."""
RECEIPT_LINES = {
    MATCHES: "receipt checked: matches",
    MISMATCH: "receipt does NOT match this file",
    NOT_CHECKED: "no receipt checked",
    NOT_INTACT: "receipt not checked: the file fails verification",
}


def parse_receipt(code: str) -> str:
    """A receipt code as typed, grouped (``ABCD-EFGH-JKMN-PQRS``); UserError when it cannot be
    one (the exam's own parser decides: case, spaces and dashes do not matter)."""
    canonical = codes.normalise(code)
    if canonical is None:
        raise UserError(f"{code.strip()!r} is not a receipt code: one has "
                        f"{codes.CODE_CHARS} letters and digits in groups of {codes.GROUP} "
                        "(like ABCD-EFGH-JKMN-PQRS).")
    return codes.grouped(canonical)


def receipt_status(path: Path, intact: bool, code: str | None) -> dict[str, Any]:
    """Whether ``code`` pins the file at ``path``: checked only when the file is intact."""
    notes: list[str] = []
    if code is None:
        status, given, reason = NOT_CHECKED, None, "no receipt code was given."
    elif not intact:
        status, given = NOT_INTACT, parse_receipt(code)
        reason = "the file fails verification, so no receipt can vouch for it."
    else:
        check = check_receipt(path, parse_receipt(code))
        status = MATCHES if check.ok else MISMATCH
        given, reason, notes = check.given, check.reason, list(check.notes)
    return {"status": status, "summary": RECEIPT_LINES[status], "given": given,
            "reason": reason, "notes": notes}


def receipt_for(facts: SessionFacts, path: Path, intact: bool,
                receipts: Receipts | None) -> dict[str, Any] | None:
    """A row's receipt in grade and review: None for a practice session nobody gave a receipt
    for; otherwise its status (``receipt_status``, or ``not-an-exam``)."""
    code = receipts.code_for(path) if receipts is not None else None
    if exam_facts(facts.start) is None:
        return None if code is None else {
            "status": NOT_AN_EXAM, "summary": "a receipt was given for a session of no exam",
            "given": code, "reason": "this session is not from an exam: it has no receipt.",
            "notes": []}
    return receipt_status(path, intact, code)


def _rules(policy: Any) -> tuple[list[dict[str, str]], bool]:
    """The recorded policy in the policy's own plain words; ([], False) when the recorded
    table is not a complete set of rules (a damaged or forged file)."""
    try:
        rules = ExamPolicy.from_json(policy).rules()
    except UserError:
        return [], False
    return [{"rule": rule, "text": text} for rule, text in rules], True


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _programs(facts: SessionFacts) -> dict[str, int] | None:
    """Program names started during the exam and how often (None when none were recorded)."""
    seen: dict[str, int] = {}
    for ev in facts.of_kind("processes_started"):
        counts = ev.payload.get("counts")
        if isinstance(counts, dict):
            for name, n in counts.items():
                seen[str(name)] = seen.get(str(name), 0) + _count(n)
    return dict(sorted(seen.items())) if seen else None


def exam_section(facts: SessionFacts, path: Path, intact: bool,
                 receipt: str | None) -> dict[str, Any] | None:
    """The report's ``exam`` object, or None for a session of no exam."""
    exam = exam_facts(facts.start)
    if exam is None:
        return None
    recorded = exam.get("policy")
    policy: dict[str, Any] = recorded if isinstance(recorded, dict) else {}
    rules, complete = _rules(policy)
    minutes = policy.get("time_minutes")
    ai = exam.get("ai_assistants")
    if ai not in ("allowed", "not allowed") and isinstance(policy.get("ai_assistants"), bool):
        ai = "allowed" if policy["ai_assistants"] else "not allowed"
    deadline = facts.start.get("deadline")
    refused = sum(_count(ev.payload.get("count")) for ev in facts.of_kind("start_code_refused"))
    created = exam.get("pack_created")
    return {
        "pack_id": exam["pack_id"],
        "pack_created": created if isinstance(created, str) else None,
        "candidate": facts.start.get("candidate"),
        "time_allowed_s": (minutes * 60 if isinstance(minutes, int)
                           and not isinstance(minutes, bool) and minutes > 0 else None),
        "deadline": iso(deadline) if isinstance(deadline, (int, float))
        and not isinstance(deadline, bool) else None,
        "ai_assistants": ai if ai in ("allowed", "not allowed") else None,
        "rules": rules,
        "policy_complete": complete,
        "policy": policy,
        "programs": _programs(facts),
        "events": {
            "start_codes_refused": refused,
            "clock_jumps": len(facts.of_kind("clock_jump")),
            "resumes": len(facts.of_kind("resumed")),
            "submissions": len(facts.of_kind("submit")),
            "time_up": bool(facts.of_kind("time_up")),
        },
        "receipt": receipt_status(path, intact, receipt),
    }


# --------------------------------------------------------------------------- many receipts


def load_receipts(file: Path) -> dict[str, str]:
    """Session file -> receipt code, from a JSON object or a CSV of two columns (a header
    row such as ``file,receipt`` is optional). Every code is checked here: UserError names the first
    that cannot be one, and any file that is not such a mapping."""
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise UserError(f"{file} cannot be read: {why}.") from None
    pairs: list[tuple[str, str]] = []
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise UserError(f"{file} is not valid JSON.") from None
        if not all(isinstance(v, str) for v in data.values()):
            raise UserError(f"{file} must map each session file to a receipt code (text).")
        pairs = list(data.items())
    else:
        for i, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            if len(cells) != 2:
                raise UserError(f"{file}, line {i}: expected two columns, the session file "
                                "and its receipt code.")
            if not pairs and codes.normalise(cells[1]) is None and \
                    not cells[0].endswith(SUFFIX):
                continue  # a header row (file,receipt or the like)
            pairs.append((cells[0], cells[1]))
    out: dict[str, str] = {}
    for name, code in pairs:
        try:
            out[name] = parse_receipt(code)
        except UserError as exc:
            raise UserError(f"{file}, {name}: {exc}") from None
    return out


class Receipts:
    """Receipt codes looked up by session path: the mapping's key is the file's path as
    given, its path under ``root``, or its bare name when that name is unambiguous."""

    def __init__(self, mapping: dict[str, str], sessions: list[Path],
                 roots: list[Path] | None = None) -> None:
        self.mapping = mapping
        self.used: set[str] = set()
        names: dict[str, int] = {}
        for s in sessions:
            names[s.name] = names.get(s.name, 0) + 1
        self._ambiguous = {n for n, k in names.items() if k > 1}
        self.roots = [Path(r) for r in roots or []]

    def _keys(self, path: Path) -> list[str]:
        keys = [str(path), path.as_posix()]
        keys += [path.relative_to(r).as_posix() for r in self.roots if path.is_relative_to(r)]
        if path.name not in self._ambiguous:
            keys.append(path.name)
        return keys

    @classmethod
    def load(cls, file: Path, sessions: list[Path], roots: list[Path]) -> Receipts:
        return cls(load_receipts(file), sessions, roots)

    def code_for(self, path: Path) -> str | None:
        for key in self._keys(Path(path)):
            if key in self.mapping:
                self.used.add(key)
                return self.mapping[key]
        return None

    def unused(self) -> list[str]:
        """Keys that matched no session: a receipt whose file is missing from the folder."""
        return sorted(k for k in self.mapping if k not in self.used)
