"""The report document: everything a reviewer sees about one session, as plain data.

``build(path)`` reads the session (verify, Timeline) and the stored regrade, if any, and returns
one JSON-ready dict that ``docs/report-schema.json`` describes; every output format renders it.
Candidate-controlled text (code, file names, test messages, the note) is kept verbatim here:
escaping is each renderer's job (the HTML template escapes by default).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from tui_assess import __version__
from tui_assess.errors import UserError
from tui_assess.report.exam import exam_section, parse_receipt
from tui_assess.report.facts import SessionFacts, Submission, unreadable
from tui_assess.report.grade import compare_tests
from tui_assess.report.results import Grade, ResultsStore, default_path
from tui_assess.session.timeline import Timeline, iso
from tui_assess.session.verify import verify

FORMAT = "tui-assess-report"
REPORT_VERSION = 1
#: Largest file shown with its text; bigger ones are summarised (a report stays readable).
MAX_SHOWN_CHARS = 200_000
_BINARY = re.compile("[\x00\udc80-\udcff]")


def is_binary(text: str) -> bool:
    """True for content that is not text (NUL bytes, or bytes that were not UTF-8)."""
    return bool(_BINARY.search(text))


def _unified(old: str, new: str, path: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"start/{path}", tofile=f"submitted/{path}", n=3)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _origins(tl: Timeline, path: str, seq: int, lines: int) -> list[dict[str, Any]] | None:
    """Each of the ``lines`` lines' origin at ``seq`` (``Timeline.origins``, which also counts
    the empty line after a final newline): how the line got its present text, the event that
    gave it, and the reviewer's sentence for it."""
    origins = getattr(tl, "origins", None)
    if origins is None:  # a session reader without origins: nothing is guessed
        return None
    out = []
    for o in origins(path, seq)[:lines]:
        describe = getattr(o, "describe", None)
        out.append({"origin": str(getattr(o, "kind", "unknown")), "seq": getattr(o, "seq", None),
                    "t": getattr(o, "t", None),
                    "detail": describe() if callable(describe) else ""})
    return out


def _files(tl: Timeline, sub: Submission, start: dict[str, str]) -> list[dict[str, Any]]:
    files = []
    for path in sorted(set(sub.files) | set(start)):
        text = sub.files.get(path)
        before = start.get(path)
        entry: dict[str, Any] = {"path": path, "status": (
            "deleted" if text is None else "added" if before is None
            else "unchanged" if text == before else "changed")}
        if text is None:
            entry.update(binary=False, size=0, text=None, lines=0, diff="", origins=None)
        elif is_binary(text) or len(text) > MAX_SHOWN_CHARS:
            entry.update(binary=is_binary(text), size=len(text), text=None,
                         lines=text.count("\n") + 1, diff="", origins=None)
        else:
            entry.update(binary=False, size=len(text), text=text,
                         lines=len(text.splitlines()),
                         diff=_unified(before or "", text, path) if before is not None
                         and not is_binary(before) else "",
                         origins=_origins(tl, path, sub.seq, len(text.splitlines())))
        files.append(entry)
    return files


def _origin_summary(files: list[dict[str, Any]]) -> dict[str, int] | None:
    counts: dict[str, int] = {}
    seen = False
    for f in files:
        if f.get("origins") is None:
            continue
        seen = True
        for o in f["origins"]:
            counts[o["origin"]] = counts.get(o["origin"], 0) + 1
    return counts if seen else None


def _groups(recorded: dict[str, Any] | None, grade: Grade | None) -> list[dict[str, Any]]:
    rec = (recorded or {}).get("groups") or {}
    reg = (grade.result.get("groups") if grade else None) or {}
    out = []
    for name in list(rec) + [g for g in reg if g not in rec]:
        r, g = rec.get(name) or {}, reg.get(name) or {}
        rs, gs = r.get("score"), g.get("score")
        out.append({
            "name": name,
            "score": gs if grade is not None else rs,
            "max_score": g.get("max_score", r.get("max_score")),
            "recorded_score": rs, "regraded_score": gs if grade is not None else None,
            "mismatch": grade is not None and recorded is not None and rs != gs,
        })
    return out


def _tests(recorded: dict[str, Any] | None, grade: Grade | None) -> list[dict[str, Any]]:
    rec = [t for t in (recorded or {}).get("tests") or [] if isinstance(t, dict)]
    reg = [t for t in (grade.result.get("tests") if grade else None) or [] if isinstance(t, dict)]
    by_name: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for source, tests in (("recorded", rec), ("regraded", reg)):
        for t in tests:
            name = str(t.get("name"))
            if name not in by_name:
                by_name[name] = {"name": name, "group": t.get("group"), "weight": t.get("weight"),
                                 "recorded_status": None, "regraded_status": None,
                                 "duration_s": t.get("duration_s"), "message": ""}
                order.append(name)
            entry = by_name[name]
            entry[f"{source}_status"] = t.get("status")
            if t.get("message"):
                entry["message"] = str(t.get("message"))
            if source == "regraded":
                entry["duration_s"] = t.get("duration_s")
    for entry in by_name.values():
        entry["status"] = (entry["regraded_status"] if grade is not None
                           else entry["recorded_status"]) or "missing"
        entry["mismatch"] = (grade is not None and recorded is not None
                             and entry["recorded_status"] != entry["regraded_status"])
    return [by_name[n] for n in order]


def _runs(tl: Timeline) -> list[dict[str, Any]]:
    out = []
    for r in tl.runs():
        tests = [t for t in r.get("tests") or [] if isinstance(t, dict)]
        out.append({
            "run": r.get("run"), "suite": r.get("suite"), "status": r.get("status"),
            "t_start": r.get("t_start"), "t_end": r.get("t_end"),
            "passed": sum(1 for t in tests if t.get("status") == "pass"), "total": len(tests),
            "score": r.get("score"), "max_score": r.get("max_score"),
        })
    return out


def _resources(tl: Timeline, recorded: dict[str, Any] | None) -> dict[str, Any]:
    app = [[round(s["t"], 3), s.get("app_cpu"), s.get("app_rss_mb")]
           for s in tl.resource_series("app")]
    return {
        "final_run": (recorded or {}).get("resources"),
        "final_run_samples": (recorded or {}).get("samples") or [],
        "app": app,
    }


#: Session moments marked on the timeline bar.
MARKED = {"run_end", "paste", "focus_lost", "external_change", "hint_shown", "solution_shown",
          "note", "submit", "time_up", "resumed"}
TIMELINE_BUCKETS = 120


def _timeline(facts: SessionFacts) -> dict[str, Any]:
    """The timeline bar's data: edits per bucket of session time, and the moments to mark."""
    events = facts.events
    t0 = events[0].t
    duration = max(events[-1].t - t0, 0.0)
    bucket = max(duration / TIMELINE_BUCKETS, 1.0)
    edits = [0] * (int(duration / bucket) + 1)
    marks = []
    for ev in events:
        t = ev.t - t0
        if ev.kind == "edit":
            edits[min(int(t / bucket), len(edits) - 1)] += 1
        elif ev.kind in MARKED:
            p = ev.payload
            label = ev.kind
            if ev.kind == "run_end":
                label = f"{p.get('suite')} run: {p.get('status')}"
            elif ev.kind == "paste":
                label = f"paste of {p.get('length')} characters into {p.get('path')}"
            elif ev.kind == "external_change":
                label = f"{p.get('path')} changed outside the app"
            marks.append({"t": round(t, 3), "seq": ev.seq, "kind": ev.kind, "label": label,
                          "status": p.get("status") if ev.kind == "run_end" else None})
    return {"duration_s": round(duration, 3), "bucket_s": round(bucket, 3), "edits": edits,
            "marks": marks}


def _regrade(recorded: dict[str, Any] | None, grade: Grade | None,
             session_hash: Any) -> dict[str, Any] | None:
    if grade is None:
        return None
    diffs = compare_tests((recorded or {}).get("tests") or [], grade.result.get("tests") or [])
    return {
        "status": grade.status, "score": grade.score, "max_score": grade.max_score,
        "snapshot": grade.snapshot, "challenge_hash": grade.challenge_hash,
        "challenge_changed": grade.challenge_hash != session_hash,
        "sandbox": grade.result.get("sandbox"), "worker": grade.result.get("worker"),
        "graded_at": iso(grade.graded_at), "reason": grade.result.get("reason", ""),
        "matches_recorded": None if recorded is None else not diffs,
        "differences": diffs,
    }


def build(path: Path, *, results: Path | None = None,
          receipt: str | None = None) -> dict[str, Any]:
    """The report document of the session at ``path`` (see docs/report-schema.json).

    ``results`` is the regrade results file (default: ``grades.sqlite`` beside the session);
    without a stored regrade the recorded result is shown and marked as such. A tampered file
    still gets a report, its integrity failure first; a file that cannot be read at all raises
    UserError. ``receipt`` is the code the candidate read out at submission, checked against
    the file when it verifies intact; UserError when it cannot be a receipt code, or the
    session is not from an exam.
    """
    path = Path(path)
    if receipt is not None:
        parse_receipt(receipt)  # bad input is refused before any work
    try:
        return _build(path, results, receipt)
    except OSError as exc:
        raise unreadable(path, exc) from None


def _build(path: Path, results: Path | None, receipt: str | None) -> dict[str, Any]:
    integrity = verify(path)
    with Timeline.open(path) as tl:
        facts = SessionFacts(tl)
        summary = tl.summary()
        exam = exam_section(facts, path, integrity.ok, receipt)
        if exam is None and receipt is not None:
            raise UserError(f"{path} is not from an exam: it has no receipt to check.")
        signals = facts.signals()
        sub = facts.submission()
        recorded = facts.recorded_result(sub.seq)
        start_files = facts.start_files()
        files = _files(tl, sub, start_files)
        runs = _runs(tl)
        timeline = _timeline(facts)
        resources = _resources(tl, recorded)
        notes = facts.notes()
        used, limit = facts.time_used(sub.seq), facts.time_limit()
    session_hash = facts.start.get("challenge_hash")
    with ResultsStore(results or default_path(path), readonly=True) as store:
        grade = store.for_snapshot(sub.snapshot, prefer_hash=session_hash)
    source = "regrade" if grade is not None else "recorded" if recorded is not None else None
    score = (grade.score if grade is not None else (recorded or {}).get("score"))
    max_score = (grade.max_score if grade is not None else (recorded or {}).get("max_score"))
    return {
        "format": FORMAT,
        "report_version": REPORT_VERSION,
        "generated_by": f"tui-assess {__version__}",
        "session": {
            "file": path.name, "candidate": summary["candidate"],
            "challenge": summary["challenge"], "challenge_hash": summary["challenge_hash"],
            "mode": summary["mode"], "tool_version": summary["tool_version"],
            "started": summary["started"], "last_event": summary["last_event"],
            "deadline": summary["deadline"], "events": summary["events"],
            "ended": summary["ended"], "final_link": summary["final_link"],
            "machine": summary["machine"],
        },
        "integrity": {
            "ok": integrity.ok, "reason": integrity.reason,
            "first_bad_seq": integrity.first_bad_seq, "sidecar": integrity.sidecar,
            "notes": integrity.notes,
        },
        "submission": {
            "submitted": sub.submitted, "seq": sub.seq, "snapshot": sub.snapshot,
            "recorded_snapshot": sub.recorded_snapshot,
            "snapshot_matches": (sub.recorded_snapshot is None
                                 or sub.recorded_snapshot == sub.snapshot),
        },
        "time": {"used_s": round(used, 3), "limit_s": None if limit is None else round(limit, 3)},
        "score": score, "max_score": max_score, "score_source": source,
        "status": (grade.status if grade is not None else (recorded or {}).get("status")),
        "groups": _groups(recorded, grade),
        "tests": _tests(recorded, grade),
        "recorded": None if recorded is None else {
            "status": recorded.get("status"), "score": recorded.get("score"),
            "max_score": recorded.get("max_score"), "sandbox": recorded.get("sandbox"),
            "snapshot": recorded.get("snapshot"), "reason": recorded.get("reason") or "",
        },
        "regrade": _regrade(recorded, grade, session_hash),
        "runs": runs,
        "timeline": timeline,
        "resources": resources,
        "exam": exam,
        "signals": signals,
        "notes": notes,
        "files": files,
        "origins_summary": _origin_summary(files),
    }
