"""The HTML report: one self-contained, static file, like coverage.py's.

Rendered with Jinja2 with autoescaping on for every template, so every candidate-controlled
string (code, file names, test messages, the note) is escaped unless it passed through this
module's builders, which escape each piece themselves (``markupsafe.escape``) and only add
markup they wrote. Code is highlighted with pygments token by token, one line at a time (so
each line can carry its origin), charts are inline SVG built from numbers, and the page has
no script at all; its Content-Security-Policy forbids scripts and any network fetch anyway.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from pygments.lexer import Lexer
from pygments.lexers import DiffLexer, TextLexer, get_lexer_for_filename
from pygments.token import STANDARD_TYPES, _TokenType
from pygments.util import ClassNotFound

from tui_assess.report.style import CSS

#: Line origins (``tui_assess.session.origins``) as the gutter legend names them.
ORIGIN_NAMES = {
    "start": "there at the start", "typed": "typed here", "paste": "pasted",
    "external": "changed outside the app", "outside": "changed without the app seeing it",
    "resume": "different at a resume", "reset": "restored by a reset",
}


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("tui_assess.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["num"] = fmt_num
    env.filters["clock"] = clock
    return env


def fmt_num(value: Any, digits: int = 1) -> str:
    """A recorded number for display ('-' when absent or not a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"


def clock(seconds: Any) -> str:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return "-"
    s = int(max(0.0, seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _num(value: Any) -> float:
    """Numbers from the session only: anything else (a forged file) counts as 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0.0
    return float(value)


# --------------------------------------------------------------------------- code


def _css_class(ttype: _TokenType) -> str:
    while ttype not in STANDARD_TYPES:
        ttype = ttype.parent
    return STANDARD_TYPES[ttype]


def _lexer(path: str) -> Lexer:
    try:
        return get_lexer_for_filename(path, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False, ensurenl=False)


def highlight_lines(text: str, lexer: Lexer) -> list[Markup]:
    """One escaped, highlighted HTML fragment per line of ``text``."""
    lines: list[list[str]] = [[]]
    for ttype, value in lexer.get_tokens(text):
        cls = _css_class(ttype)
        for i, piece in enumerate(value.split("\n")):
            if i:
                lines.append([])
            if piece:
                lines[-1].append(f'<span class="{cls}">{escape(piece)}</span>' if cls
                                 else str(escape(piece)))
    if text.endswith("\n") and not lines[-1]:
        lines.pop()
    return [Markup("".join(parts)) for parts in lines]


def code_lines(f: dict[str, Any]) -> list[dict[str, Any]]:
    text = f.get("text")
    if not isinstance(text, str):
        return []
    origins = f.get("origins") or []
    out = []
    for i, html in enumerate(highlight_lines(text, _lexer(str(f.get("path", ""))))):
        o = origins[i] if i < len(origins) and isinstance(origins[i], dict) else {}
        kind = str(o.get("origin", ""))
        out.append({"n": i + 1, "html": html,
                    "origin": kind if kind in ORIGIN_NAMES else "",
                    "origin_title": str(o.get("detail") or ORIGIN_NAMES.get(kind, kind))})
    return out


def diff_lines(diff: str) -> list[Markup]:
    return highlight_lines(diff, DiffLexer(stripnl=False, ensurenl=False)) if diff else []


# --------------------------------------------------------------------------- charts


MAX_POINTS = 400
"""Points per chart line: more than a chart's width in pixels buys nothing."""


def _polyline(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def svg_series(samples: list[Any], index: int, *, label: str, unit: str,
               width: int = 460, height: int = 110) -> Markup:
    """A line chart of column ``index`` of [t, ...] samples, as inline SVG."""
    pts = [(_num(s[0]), _num(s[index])) for s in samples
           if isinstance(s, (list, tuple)) and len(s) > index]
    if len(pts) > MAX_POINTS:  # a 2-hour session has 7,200 app samples: keep each slice's peak
        step = len(pts) / MAX_POINTS
        pts = [max(pts[int(i * step):max(int((i + 1) * step), int(i * step) + 1)],
                   key=lambda p: p[1]) for i in range(MAX_POINTS)]
    if len(pts) < 2:
        return Markup('<p class="muted">{}</p>').format(f"No {label.lower()} samples recorded.")
    t0, t1 = pts[0][0], max(p[0] for p in pts)
    top = max(max(p[1] for p in pts), 1e-9)
    span = max(t1 - t0, 1e-9)
    pad, w, h = 4, width - 8, height - 24
    line = _polyline((pad + (t - t0) / span * w, pad + h - v / top * h) for t, v in pts)
    return Markup(
        '<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-label="{label}"><rect x="0" y="0" width="{w}" height="{h}" class="frame"/>'
        '<polyline points="{line}" class="series"/>'
        '<text x="6" y="{ty}" class="axis">{label}: peak {peak} {unit}, over {dur} s</text></svg>'
    ).format(w=width, h=height, line=line, label=label, ty=height - 6,
             peak=fmt_num(top), unit=unit, dur=fmt_num(span))


def svg_timeline(timeline: dict[str, Any], width: int = 940, height: int = 70) -> Markup:
    """The session as a bar: edit density per bucket, with runs, pastes and focus losses."""
    edits = [_num(e) for e in timeline.get("edits") or []]
    duration = max(_num(timeline.get("duration_s")), 1e-9)
    peak = max(edits + [1.0])
    bw = width / max(len(edits), 1)
    parts = [Markup('<svg class="timeline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
                    'role="img" aria-label="session timeline">'
                    '<rect x="0" y="0" width="{w}" height="{h}" class="frame"/>').format(
                        w=width, h=height)]
    for i, e in enumerate(edits):
        if e:
            bh = e / peak * (height - 30)
            parts.append(Markup('<rect x="{x:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{bh:.1f}"'
                                ' class="edits"/>').format(x=i * bw, y=height - 14 - bh,
                                                           bw=max(bw - 0.5, 0.5), bh=bh))
    for m in timeline.get("marks") or []:
        if not isinstance(m, dict):
            continue
        x = _num(m.get("t")) / duration * (width - 2) + 1
        kind = str(m.get("kind"))
        css = "mark-" + ("pass" if m.get("status") == "pass" else "fail"
                         if kind == "run_end" else kind.replace("_", "-"))
        parts.append(Markup('<line x1="{x:.1f}" x2="{x:.1f}" y1="2" y2="{y2}" class="mark {css}">'
                            '<title>{t} {label}</title></line>').format(
                                x=x, y2=height - 14, css=css, t=clock(m.get("t")),
                                label=str(m.get("label", ""))))
    parts.append(Markup('<text x="4" y="{y}" class="axis">0:00:00</text>'
                        '<text x="{x}" y="{y}" class="axis" text-anchor="end">{end}</text></svg>'
                        ).format(y=height - 3, x=width - 4, end=clock(duration)))
    return Markup("").join(parts)


# --------------------------------------------------------------------------- page


def _side(row: Any, lines: dict[str, list[int]], evidence: dict[str, Any]) -> dict[str, Any]:
    files = []
    for path, shared in sorted(lines.items()):
        text = row.files.get(path)
        if not isinstance(text, str):
            continue
        marked = set(shared)
        files.append({"path": path, "lines": [
            {"n": i + 1, "html": html, "shared": (i + 1) in marked}
            for i, html in enumerate(highlight_lines(text, _lexer(path)))]})
    return {"who": row.candidate or Path(row.path).name, "name": Path(row.path).name,
            "how": evidence.get("how", "unknown"), "detail": evidence.get("detail", ""),
            "files": files}


def render_review_html(review: Any, folder: str) -> str:
    """The cohort page: the review table and every flagged pair side by side."""
    from tui_assess.report.review import describe_similar

    index = {r.path: r for r in review.rows}
    pairs: list[dict[str, Any]] = []
    numbers: dict[tuple[str, str], int] = {}
    for challenge, found in sorted(review.pairs.items()):
        for p in found:
            numbers[(p.a, p.b)] = numbers[(p.b, p.a)] = len(pairs) + 1
            pairs.append({"challenge": challenge, "score": p.score, "shared": p.shared,
                          "left": _side(index[p.a], p.lines_a, p.evidence.get("a", {})),
                          "right": _side(index[p.b], p.lines_b, p.evidence.get("b", {}))})
    rows = []
    for r in review.rows:
        data = r.to_json()
        data["name"] = Path(r.path).name
        data["receipt_cell"] = r.receipt_cell
        data["similar"] = [{"pair": numbers.get((r.path, s["other"]), 0),
                            "label": describe_similar(s)} for s in r.similar]
        rows.append(data)
    from tui_assess import __version__

    return _env().get_template("review.html.j2").render(
        rows=rows, pairs=pairs, folder=folder, css=Markup(CSS),
        bad=sum(1 for r in review.rows if r.integrity != "intact"), pair_count=len(pairs),
        exams=review.has_exams, receipts_unmatched=review.receipts_unmatched,
        generated_by=f"tui-assess {__version__}")


def render_html(doc: dict[str, Any]) -> str:
    """The whole page for one report document."""
    files = [dict(f, code=code_lines(f), diff_html=diff_lines(str(f.get("diff") or "")))
             for f in doc.get("files", [])]
    res = doc.get("resources") or {}
    charts = {
        "run_cpu": svg_series(res.get("final_run_samples") or [], 1, label="CPU", unit="%"),
        "run_rss": svg_series(res.get("final_run_samples") or [], 2, label="Memory", unit="MB"),
        "app_cpu": svg_series(res.get("app") or [], 1, label="App CPU", unit="%"),
        "app_rss": svg_series(res.get("app") or [], 2, label="App memory", unit="MB"),
    }
    template = _env().get_template("report.html.j2")
    return template.render(doc=doc, files=files, charts=charts, css=Markup(CSS),
                           timeline=svg_timeline(doc.get("timeline") or {}),
                           origin_names=ORIGIN_NAMES)
