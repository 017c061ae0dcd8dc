"""The cohort view: one row per session file in a folder, and the similar pairs among them.

Every file gets a row, whatever state it is in: a tampered, truncated or corrupt file is a row
that says so (``integrity``), never an exception. Scores are the stored regrade's when
``tui-assess grade`` made one, the recorded ones otherwise (``score_source``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_assess.challenge.model import Challenge
from tui_assess.errors import UserError
from tui_assess.report.exam import Receipts, receipt_for
from tui_assess.report.facts import SessionFacts, unreadable
from tui_assess.report.grade import compare_tests, find_challenge
from tui_assess.report.results import DEFAULT_NAME, ResultsStore
from tui_assess.report.similarity import Pair, compare_cohort, cross_check
from tui_assess.session import store as session_store
from tui_assess.session.timeline import Timeline
from tui_assess.session.verify import verify

#: integrity column values
INTACT, TAMPERED, TRUNCATED, UNREADABLE = "intact", "tampered", "truncated", "unreadable"


@dataclass
class ReviewRow:
    """One session file, as the review table shows it."""

    path: str
    integrity: str
    """intact | tampered | truncated | unreadable"""
    integrity_detail: str = ""
    candidate: str | None = None
    challenge: str | None = None
    mode: str | None = None
    score: float | None = None
    max_score: float | None = None
    score_source: str | None = None
    """regrade | recorded | None (no hidden run)"""
    regrade_matches: bool | None = None
    """False when a stored regrade differs from the recorded result."""
    time_used_s: float | None = None
    runs: int = 0
    submitted: bool = False
    signals: dict[str, int] = field(default_factory=dict)
    similar: list[dict[str, Any]] = field(default_factory=list)
    """Flagged pairs this session is in: other, score, shared, how (here and there)."""
    receipt: dict[str, Any] | None = None
    """For a session of an exam: whether a receipt was checked (report.exam.receipt_status:
    status, summary, given, reason, notes); None for a practice session."""
    files: dict[str, str] = field(default_factory=dict, repr=False)
    """The submitted files (for similarity; not in the table)."""

    @property
    def signal_count(self) -> int:
        return sum(self.signals.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "session": self.path, "candidate": self.candidate, "challenge": self.challenge,
            "mode": self.mode, "score": self.score, "max_score": self.max_score,
            "score_source": self.score_source, "regrade_matches": self.regrade_matches,
            "time_used_s": self.time_used_s, "runs": self.runs, "submitted": self.submitted,
            "integrity": self.integrity, "integrity_detail": self.integrity_detail,
            "signals": self.signals, "signal_count": self.signal_count,
            "similar": self.similar,
            "receipt": self.receipt,
        }

    @property
    def receipt_cell(self) -> str:
        """The receipt column: '-' for a practice session."""
        if self.receipt is None:
            return "-"
        return {"matches": "matches", "does-not-match": "MISMATCH", "not-checked": "none",
                "file-not-intact": "unchecked", "not-an-exam": "no exam"}.get(
                    self.receipt["status"], self.receipt["status"])


@dataclass
class Review:
    rows: list[ReviewRow]
    pairs: dict[str, list[Pair]]
    """Flagged pairs per challenge id (session paths as ids)."""
    receipts_unmatched: list[str] = field(default_factory=list)
    """Keys of the --receipts mapping that named no session file here."""

    @property
    def has_exams(self) -> bool:
        return any(r.receipt is not None for r in self.rows)

    def to_json(self) -> dict[str, Any]:
        return {"sessions": [r.to_json() for r in self.rows],
                "similar_pairs": {c: [p.to_json() for p in ps] for c, ps in self.pairs.items()},
                "receipts_unmatched": self.receipts_unmatched}


def read_row(path: Path, results: ResultsStore | None,
             receipts: Receipts | None = None) -> ReviewRow:
    """One session's row; never raises for a bad file."""
    row = ReviewRow(str(path), UNREADABLE)
    try:
        report = verify(path)
    except UserError as exc:
        row.integrity_detail = str(exc)
        return row
    except OSError as exc:
        row.integrity_detail = str(unreadable(path, exc))
        return row
    if report.ok:
        row.integrity, row.integrity_detail = INTACT, report.reason
    else:
        truncated = "truncated" in report.reason
        row.integrity = TRUNCATED if truncated else TAMPERED
        row.integrity_detail = report.reason
    try:
        with Timeline.open(path) as tl:
            facts = SessionFacts(tl)
            sub = facts.submission()
            recorded = facts.recorded_result(sub.seq)
            row.runs = len(tl.runs())
            for s in facts.signals():
                row.signals[s["kind"]] = row.signals.get(s["kind"], 0) + 1
            row.time_used_s = round(facts.time_used(sub.seq), 3)
            row.receipt = receipt_for(facts, path, report.ok, receipts)
    except (UserError, OSError) as exc:
        row.integrity = UNREADABLE if report.ok else row.integrity
        row.integrity_detail = str(exc if isinstance(exc, UserError) else unreadable(path, exc))
        return row
    start = facts.start
    row.candidate, row.challenge, row.mode = (start.get("candidate"), start.get("challenge_id"),
                                              start.get("mode"))
    row.submitted = sub.submitted
    row.files = sub.files
    grade = results.for_snapshot(sub.snapshot, start.get("challenge_hash")) if results else None
    if grade is not None:
        row.score, row.max_score, row.score_source = grade.score, grade.max_score, "regrade"
        if recorded is not None:
            row.regrade_matches = not compare_tests(recorded.get("tests") or [],
                                                    grade.result.get("tests") or [])
    elif recorded is not None:
        row.score, row.max_score = recorded.get("score"), recorded.get("max_score")
        row.score_source = "recorded"
    return row


def _challenge_code(ch: Challenge | None) -> tuple[dict[str, str], dict[str, str]]:
    """(starter files, reference files laid over the starter) as text, for subtraction."""
    if ch is None:
        return {}, {}

    def read(root: Path) -> dict[str, str]:
        if not root.is_dir():
            return {}
        return {p.relative_to(root).as_posix(): session_store.decode_text(p.read_bytes())
                for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}

    starter = read(ch.starter_dir)
    return starter, {**starter, **read(ch.solution_dir)}


def similar_pairs(rows: list[ReviewRow], challenge_dirs: list[Path],
                  cross: bool = True) -> dict[str, list[Pair]]:
    """Flag similar submissions per challenge and trace each pair through both sessions."""
    by_challenge: dict[str, list[ReviewRow]] = {}
    for r in rows:
        if r.challenge and r.files:
            by_challenge.setdefault(r.challenge, []).append(r)
    out: dict[str, list[Pair]] = {}
    index = {r.path: r for r in rows}
    for cid, group in sorted(by_challenge.items()):
        if len(group) < 2:
            continue
        starter, reference = _challenge_code(find_challenge(cid, challenge_dirs))
        result = compare_cohort({r.path: r.files for r in group}, starter=starter,
                                reference=reference)
        for p in result.pairs:
            if cross:
                p.evidence = {
                    "a": cross_check(Path(p.a), index[p.a].files, p.lines_a),
                    "b": cross_check(Path(p.b), index[p.b].files, p.lines_b),
                }
            for me, other, side, there in ((p.a, p.b, "a", "b"), (p.b, p.a, "b", "a")):
                index[me].similar.append({
                    "other": other, "score": round(p.score, 3), "shared": p.shared,
                    "how": p.evidence.get(side, {}).get("how"),
                    "how_other": p.evidence.get(there, {}).get("how"),
                })
        out[cid] = result.pairs
    return out


def collect(folder: Path, *, results: Path | None = None, challenge_dirs: list[Path] | None = None,
            similarity: bool = True,
            progress: Callable[[int, int], None] | None = None,
            receipts: Path | None = None) -> Review:
    """Review every ``*.tasession`` under ``folder``: rows sorted by score, best first.
    ``receipts``: a file mapping session files to receipt codes (``exam.load_receipts``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder of session files.")
    paths = sorted(folder.rglob(f"*{session_store.SUFFIX}"))
    codes = Receipts.load(receipts, paths, [folder]) if receipts is not None else None
    rows = []
    with ResultsStore(results or folder / DEFAULT_NAME, readonly=True) as store:
        for i, path in enumerate(paths, start=1):
            rows.append(read_row(path, store, codes))
            if progress:
                progress(i, len(paths))
    pairs = similar_pairs(rows, list(challenge_dirs or [])) if similarity else {}
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0.0), r.candidate or "", r.path))
    return Review(rows, pairs, codes.unused() if codes is not None else [])


CSV_COLUMNS = ["candidate", "challenge", "score", "max_score", "score_source",
               "regrade_matches", "time_used_s", "runs", "submitted", "integrity",
               "integrity_detail", "signal_count", "signals", "receipt", "similar", "session"]


def to_csv(review: Review) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for r in review.rows:
        data = r.to_json()
        data["signals"] = "; ".join(f"{k} {n}" for k, n in sorted(r.signals.items()))
        data["similar"] = "; ".join(describe_similar(s) for s in r.similar)
        data["receipt"] = r.receipt["summary"] if r.receipt else None
        writer.writerow(["" if data[c] is None else _csv_safe(data[c]) for c in CSV_COLUMNS])
    return buf.getvalue()


def describe_similar(s: dict[str, Any]) -> str:
    """``other.tasession (93%; here pasted, there burst)``."""
    return (f"{Path(s['other']).name} ({s['score']:.0%}; here {s['how'] or '?'}, "
            f"there {s['how_other'] or '?'})")


def _csv_safe(value: Any) -> Any:
    """Spreadsheet programs run cells that start with = + - @ as formulas: candidate-controlled
    text (a name like ``=HYPERLINK(...)``) is quoted with a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def format_table(review: Review) -> list[str]:
    """The review as aligned text lines (what `review` prints when not in a terminal)."""
    exams = review.has_exams  # the receipt column only where there is an exam
    out = [f"{'score':>11}  {'time':>8}  {'runs':>4}  {'integrity':<10} {'signals':>7}  "
           + (f"{'receipt':<9}  " if exams else "")
           + f"{'candidate':<16} {'challenge':<18} similar"]
    for r in review.rows:
        score = (f"{r.score:g}/{r.max_score:g}" if isinstance(r.score, (int, float))
                 and isinstance(r.max_score, (int, float)) else "-")
        if r.score_source == "recorded":
            score += "*"
        if r.regrade_matches is False:
            score += "!"
        secs = None if r.time_used_s is None else int(r.time_used_s)
        used = "-" if secs is None else f"{secs // 60}:{secs % 60:02d}"
        similar = "; ".join(describe_similar(s) for s in r.similar) or "-"
        who = (r.candidate or Path(r.path).name)[:16]
        out.append(f"{score:>11}  {used:>8}  {r.runs:>4}  {r.integrity:<10} "
                   f"{r.signal_count:>7}  " + (f"{r.receipt_cell:<9}  " if exams else "")
                   + f"{who:<16} {(r.challenge or '-')[:18]:<18} {similar}")
        if r.integrity != "intact":
            out.append(f"{'':>13}{r.integrity_detail}")
        if r.receipt is not None and r.receipt["status"] in ("does-not-match", "not-an-exam"):
            out.append(f"{'':>13}receipt {r.receipt['given']}: {r.receipt['reason']}")
    out += [f"receipt for {key}: no such session file here." for key in review.receipts_unmatched]
    out.append("score: * recorded, not regraded (tui-assess grade); ! the regrade differs "
               "from the recorded result.")
    if exams:
        out.append("receipt: matches / MISMATCH (not the file submitted) / none given / "
                   "unchecked (the file fails verification); - not an exam.")
    return out
