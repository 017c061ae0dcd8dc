"""Every output format of ``tui-assess report``, each a view of the report document.

- ``json``: the document itself (``docs/report-schema.json``).
- ``md``: for an issue or a wiki; candidate text escaped for Markdown *and* inline HTML.
- ``junit``: the final hidden run as JUnit XML (what CI dashboards read).
- ``gradescope``: Gradescope's autograder ``results.json``.
- ``exercism``: Exercism's test-runner ``results.json``, version 3.
- ``asciicast``: an asciicast v3 recording (asciinema 3's default), next to the v2 of
  ``session export``.
- ``html``: :mod:`tui_assess.report.html`.

``docs/reports.md`` maps each field to its published specification.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from tui_assess.report.document import build

FORMATS = ("html", "md", "json", "junit", "gradescope", "exercism", "asciicast")

# --------------------------------------------------------------------------- markdown

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md_text(value: Any) -> str:
    """Candidate text as inert Markdown: HTML entities for <, > and &, backslash before every
    Markdown punctuation character, newlines kept as line breaks."""
    text = str(value if value is not None else "")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("\r", "").replace("\n", "  \n")


def md_cell(value: Any) -> str:
    return md_text(value).replace("  \n", "<br>")


def md_code(text: str, lang: str = "") -> str:
    """A fenced block whose fence is longer than any backtick run inside it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{fence}{lang}\n{body}{fence}\n"


def _n(value: Any, digits: int = 1) -> str:
    from tui_assess.report.html import fmt_num

    return fmt_num(value, digits)


def render_md(doc: dict[str, Any]) -> str:
    from tui_assess.report.html import clock

    s = doc["session"]
    out = [f"# {md_text(s.get('candidate') or 'anonymous candidate')} — "
           f"{md_text(s.get('challenge'))}", ""]
    integ = doc["integrity"]
    if not integ["ok"]:
        out += [f"> **This session file fails verification:** {md_text(integ['reason'])}", ""]
    reg = doc.get("regrade")
    if reg and reg.get("matches_recorded") is False:
        diffs = ", ".join(f"{md_text(d['name'])} (recorded {d['recorded']}, regraded "
                          f"{d['regraded']})" for d in reg["differences"])
        out += [f"> **The regrade differs from the recorded result:** {diffs}.", ""]
    source = {"regrade": "regraded", "recorded": "recorded, not regraded"}.get(
        doc.get("score_source") or "",
        "not recorded under the exam's rules: regrade it" if doc.get("exam") and doc["runs"]
        else "no hidden run")
    exam = doc.get("exam")
    if exam and exam["receipt"]["status"] == "does-not-match":
        out += [f"> **The receipt does NOT match this file:** "
                f"{md_text(exam['receipt']['reason'])}", ""]
    out += [
        "| | |", "|---|---|",
        f"| score | **{_n(doc['score'])} / {_n(doc['max_score'])}** ({source}) |",
        f"| status | {md_cell(doc.get('status') or '-')} |",
        f"| time used | {clock(doc['time']['used_s'])}"
        + (f" of {clock(doc['time']['limit_s'])}" if doc["time"]["limit_s"] else "") + " |",
        f"| mode | {md_cell(s.get('mode'))} |",
        f"| started | {s.get('started')} |",
        f"| test runs | {len(doc['runs'])} |",
        f"| integrity | {'intact' if integ['ok'] else '**TAMPERED**'}, "
        f"{len(doc['signals'])} signals |",
        f"| submitted | {'yes' if doc['submission']['submitted'] else 'no'} |", "",
    ]
    if exam:
        out += md_exam(exam)
    if doc["groups"]:
        out += ["## Score by group", "", "| group | score | recorded | regraded | max |",
                "|---|---:|---:|---:|---:|"]
        for g in doc["groups"]:
            mark = " **(differs)**" if g["mismatch"] else ""
            out.append(f"| {md_cell(g['name'])}{mark} | {_n(g['score'], 2)} | "
                       f"{_n(g['recorded_score'], 2)} | {_n(g['regraded_score'], 2)} | "
                       f"{_n(g['max_score'], 2)} |")
        out.append("")
    if doc["tests"]:
        out += ["## Tests", "", "| test | group | status | recorded | regraded | message |",
                "|---|---|---|---|---|---|"]
        for t in doc["tests"]:
            status = f"**{t['status']}**" if t["mismatch"] else t["status"]
            out.append(f"| {md_cell(t['name'])} | {md_cell(t['group'])} | {status} | "
                       f"{t['recorded_status'] or '-'} | {t['regraded_status'] or '-'} | "
                       f"{md_cell(t['message'])} |")
        out.append("")
    if doc["signals"]:
        out += ["## Integrity signals", ""]
        out += [f"- {clock(sig['t'])} (event {sig['seq']}) {md_text(sig['kind'])}: "
                f"{md_text(sig['detail'])}" for sig in doc["signals"]]
        out.append("")
    out += ["## The candidate's note", ""]
    out += [md_text(n["text"]) + "\n" for n in doc["notes"]] or ["No note.", ""]
    out += ["## Submitted code", ""]
    for f in doc["files"]:
        out.append(f"### {md_text(f['path'])} ({f['status']})")
        out.append("")
        if f["text"] is None:
            out += ["Not shown (binary, deleted or very large).", ""]
            continue
        out.append(md_code(f["text"], "python" if str(f["path"]).endswith(".py") else ""))
        if f["diff"]:
            out += ["<details><summary>Diff from the start of the session</summary>", "",
                    md_code(f["diff"], "diff"), "</details>", ""]
    out += ["---", f"Final link `{s['final_link']}` · {doc['generated_by']}"]
    return "\n".join(out) + "\n"


def exam_lines(exam: dict[str, Any]) -> list[tuple[str, str]]:
    """The exam's terms as (label, value) pairs of plain text, for the formats that print
    them as a list (Markdown, Gradescope's summary); candidate text is the caller's to
    escape."""
    from tui_assess.report.html import clock

    ev = exam["events"]
    allowed = exam["time_allowed_s"]
    receipt = exam["receipt"]
    return [
        ("pack", f"{exam['pack_id']}" + (f" (built {exam['pack_created']})"
                                         if exam["pack_created"] else "")),
        ("candidate", str(exam["candidate"] or "-")),
        ("time allowed", (clock(allowed) if allowed else "-")
         + (f", deadline {exam['deadline']}" if exam["deadline"] else "")),
        ("AI assistants", exam["ai_assistants"] or "not recorded"),
        ("receipt", receipt["summary"] + (f" ({receipt['given']})" if receipt["given"] else "")),
        ("during the exam", f"{ev['start_codes_refused']} wrong start codes, "
                            f"{ev['clock_jumps']} clock jumps, {ev['resumes']} resumes, "
                            f"{ev['submissions']} submissions"
                            + (", time ran out" if ev["time_up"] else "")),
    ]


def md_exam(exam: dict[str, Any]) -> list[str]:
    out = ["## Exam", "", "| | |", "|---|---|"]
    out += [f"| {label} | {md_cell(value)} |" for label, value in exam_lines(exam)]
    out += ["", "The rules, as the candidate was shown them:", ""]
    out += [f"- **{md_text(r['rule'])}:** {md_text(r['text'])}" for r in exam["rules"]]
    if not exam["policy_complete"]:
        out.append("- The recorded rules are incomplete or damaged: "
                   f"`{md_text(json.dumps(exam['policy'], sort_keys=True))}`")
    if exam["programs"]:
        out.append("- Programs started: " + ", ".join(
            f"{md_text(name)} ({n})" for name, n in exam["programs"].items()))
    for note in exam["receipt"]["notes"]:
        out.append(f"- Receipt note: {md_text(note)}")
    return out + [""]


# --------------------------------------------------------------------------- junit

_XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: Any) -> str:
    """Text XML 1.0 can hold: control characters and lone surrogates become U+FFFD
    (ElementTree escapes markup, but would write these raw and break the file)."""
    return _XML_BAD.sub("\ufffd", str(value if value is not None else ""))


def render_junit(doc: dict[str, Any]) -> str:
    s = doc["session"]
    tests = doc["tests"]
    counts = {k: sum(1 for t in tests if t["status"] == k) for k in ("fail", "error", "skip")}
    counts["error"] += sum(1 for t in tests if t["status"] == "missing")
    total_time = sum(t["duration_s"] or 0 for t in tests)
    suites = ET.Element("testsuites", name=xml_text(f"tui-assess {s.get('challenge')}"),
                        tests=str(len(tests)), failures=str(counts["fail"]),
                        errors=str(counts["error"]), skipped=str(counts["skip"]),
                        time=f"{total_time:.3f}")
    suite = ET.SubElement(suites, "testsuite",
                          name=xml_text(f"{s.get('challenge')} hidden tests"),
                          tests=str(len(tests)), failures=str(counts["fail"]),
                          errors=str(counts["error"]), skipped=str(counts["skip"]),
                          time=f"{total_time:.3f}", timestamp=xml_text(s.get("started") or ""))
    props = ET.SubElement(suite, "properties")
    for name, value in (("candidate", s.get("candidate")), ("session", s.get("file")),
                        ("score", doc.get("score")), ("max_score", doc.get("max_score")),
                        ("score_source", doc.get("score_source")),
                        ("integrity", "intact" if doc["integrity"]["ok"] else "tampered"),
                        ("final_link", s.get("final_link"))):
        ET.SubElement(props, "property", name=name, value=xml_text(value))
    exam = doc.get("exam")
    if exam:
        for name, value in (("exam.pack_id", exam["pack_id"]),
                            ("exam.candidate", exam["candidate"]),
                            ("exam.time_allowed_s", exam["time_allowed_s"]),
                            ("exam.deadline", exam["deadline"]),
                            ("exam.ai_assistants", exam["ai_assistants"]),
                            ("exam.receipt", exam["receipt"]["status"]),
                            *((f"exam.rule.{r['rule'].lower().replace(' ', '_')}", r["text"])
                              for r in exam["rules"])):
            ET.SubElement(props, "property", name=name, value=xml_text(value))
    for t in tests:
        case = ET.SubElement(suite, "testcase", name=xml_text(t["name"]),
                             classname=xml_text(f"{s.get('challenge')}.{t['group']}"),
                             time=f"{t['duration_s'] or 0:.3f}")
        message = xml_text(t["message"])
        first = message.splitlines()[0][:200] if message else t["status"]
        if t["status"] == "fail":
            ET.SubElement(case, "failure", message=first, type="AssertionError").text = message
        elif t["status"] in ("error", "missing"):
            ET.SubElement(case, "error", message=first,
                          type="missing" if t["status"] == "missing" else "error").text = message
        elif t["status"] == "skip":
            ET.SubElement(case, "skipped", message=first)
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


# --------------------------------------------------------------------------- platforms


def render_gradescope(doc: dict[str, Any]) -> dict[str, Any]:
    """Gradescope autograder results.json: top-level score, execution_time, output, and one
    test per hidden test (score, max_score, status passed/failed, name, number, output,
    tags, visibility). Every string is marked as plain text (no HTML/Markdown rendering)."""
    tests = []
    for i, t in enumerate(doc["tests"], start=1):
        weight = float(t["weight"] or 0)
        passed = t["status"] == "pass"
        entry: dict[str, Any] = {
            "name": t["name"], "name_format": "text", "number": str(i),
            "score": weight if passed else 0.0, "max_score": weight,
            "status": "passed" if passed else "failed",
            "output": t["message"] or ("" if passed else t["status"]), "output_format": "text",
            "tags": [t["group"]] if t["group"] else [],
            "visibility": "after_published",
        }
        tests.append(entry)
    run = (doc.get("resources") or {}).get("final_run") or {}
    integrity = doc["integrity"]
    summary = (f"{doc['session'].get('challenge')}: {doc.get('status') or 'not run'}; score "
               f"from the {doc.get('score_source') or 'nothing'}; integrity "
               f"{'intact' if integrity['ok'] else 'FAILED: ' + integrity['reason']}.")
    extra: dict[str, Any] = {"candidate": doc["session"].get("candidate"),
                             "max_score": doc.get("max_score"),
                             "final_link": doc["session"].get("final_link"),
                             "snapshot": doc["submission"]["snapshot"]}
    exam = doc.get("exam")
    if exam:
        summary += " Exam: " + "; ".join(f"{label} {value}"
                                         for label, value in exam_lines(exam)) + "."
        extra["exam"] = {k: exam[k] for k in ("pack_id", "candidate", "time_allowed_s",
                                              "deadline", "ai_assistants", "rules",
                                              "events", "receipt")}
    return {
        "score": float(doc["score"] or 0.0),
        "execution_time": round(float(run.get("wall_s") or 0.0), 3),
        "output": summary, "output_format": "text",
        "test_output_format": "text", "test_name_format": "text",
        "visibility": "after_published", "stdout_visibility": "hidden",
        "extra_data": extra,
        "tests": tests,
    }


EXERCISM_OUTPUT_LIMIT = 500
EXERCISM_TRUNCATED = "Output was truncated. Please limit to 500 chars"


def render_exercism(doc: dict[str, Any]) -> dict[str, Any]:
    """Exercism test-runner results.json, version 3: status pass/fail/error, message only on
    error, tests in suite order with name, status (pass/fail/error), message, output."""
    tests = []
    for t in doc["tests"]:
        status = {"pass": "pass", "fail": "fail"}.get(t["status"], "error")
        entry: dict[str, Any] = {"name": t["name"], "status": status,
                                 "message": t["message"] or None}
        if t["status"] == "skip":
            entry["message"] = "skipped"
        output = t.get("output")
        if output:
            output = str(output)
            if len(output) > EXERCISM_OUTPUT_LIMIT:
                output = output[:EXERCISM_OUTPUT_LIMIT - len(EXERCISM_TRUNCATED) - 1] + \
                    "\n" + EXERCISM_TRUNCATED
            entry["output"] = output
        tests.append(entry)
    ran = [t for t in tests if t["status"] != "error"]
    if not tests or not ran:
        status = "error"
    elif all(t["status"] == "pass" for t in tests):
        status = "pass"
    else:
        status = "fail"
    message = None
    if status == "error":
        rec = doc.get("regrade") or doc.get("recorded") or {}
        message = rec.get("reason") or "No test ran: nothing was recorded or regraded."
    return {"version": 3, "status": status, "message": message, "tests": tests}


# --------------------------------------------------------------------------- asciicast v3


def asciicast_v3(v2: str) -> str:
    """Convert an asciicast v2 recording (``session export``) to v3: the header's width and
    height become ``term.cols``/``term.rows`` (TERM goes to ``term.type``), and each event's
    absolute time becomes the interval since the previous event."""
    lines = v2.splitlines()
    header = json.loads(lines[0])
    env = dict(header.get("env") or {})
    term: dict[str, Any] = {"cols": header["width"], "rows": header["height"]}
    if env.get("TERM"):
        term["type"] = env.pop("TERM")
    out_header: dict[str, Any] = {"version": 3, "term": term}
    for key in ("timestamp", "idle_time_limit", "command", "title"):
        if key in header:
            out_header[key] = header[key]
    if env:
        out_header["env"] = env
    out = [json.dumps(out_header, ensure_ascii=False)]
    prev = 0.0
    for line in lines[1:]:
        if not line.strip():
            continue
        t, code, data = json.loads(line)
        out.append(json.dumps([round(max(0.0, float(t) - prev), 6), code, data],
                              ensure_ascii=False))
        prev = max(prev, float(t))
    return "\n".join(out) + "\n"


def render_asciicast(path: Path, marker: str | None = None) -> str:
    """The session as an asciicast v3 recording; ``marker``: a line shown as a marker at 0 s
    (the receipt's summary, when one was checked)."""
    from tui_assess.session.export import export
    from tui_assess.session.timeline import Timeline

    buf = io.StringIO()
    with Timeline.open(path) as tl:
        export(tl, "asciicast", buf)
    cast = asciicast_v3(buf.getvalue())
    if marker is None:
        return cast
    header, _, events = cast.partition("\n")
    return f"{header}\n{json.dumps([0.0, 'm', marker], ensure_ascii=False)}\n{events}"


def _receipt_line(doc: dict[str, Any]) -> str:
    """The receipt's one line (``receipt checked: matches``, ...) of a document built with a
    receipt (``build`` refuses a receipt for a session of no exam)."""
    return str(doc["exam"]["receipt"]["summary"])


# --------------------------------------------------------------------------- dispatch


def render(path: Path, fmt: str, *, results: Path | None = None,
           receipt: str | None = None) -> str:
    """The report of the session at ``path`` in ``fmt``, as text. ``receipt``: the code the
    candidate read out, checked and reported by every format with a summary (exercism has no
    place for it: see render_with_note; asciicast shows it as a marker at 0 s)."""
    return render_with_note(path, fmt, results=results, receipt=receipt)[0]


def render_with_note(path: Path, fmt: str, *, results: Path | None = None,
                     receipt: str | None = None) -> tuple[str, str | None]:
    """``render``'s text, and the receipt's line when ``fmt`` has no field for it (exercism,
    asciicast): the CLI prints that on stderr. None otherwise."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "asciicast":
        line = _receipt_line(build(path, receipt=receipt)) if receipt else None
        return render_asciicast(path, line), line
    doc = build(path, results=results, receipt=receipt)
    if fmt == "json":
        return json.dumps(doc, indent=2) + "\n", None
    if fmt == "html":
        from tui_assess.report.html import render_html

        return render_html(doc), None
    if fmt == "md":
        return render_md(doc), None
    if fmt == "junit":
        return render_junit(doc), None
    if fmt == "gradescope":
        return json.dumps(render_gradescope(doc), indent=2) + "\n", None
    line = _receipt_line(doc) if receipt else None
    return json.dumps(render_exercism(doc), indent=2) + "\n", line
