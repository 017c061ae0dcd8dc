"""Similarity across a cohort: which submissions share unusual code.

Winnowing (Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for document
fingerprinting", SIGMOD 2003) over pygments tokens:

1. each file is lexed by pygments; comments and whitespace are dropped, every identifier
   becomes ``N``, every string ``S`` and every number ``0`` (renaming variables or changing
   literals does not hide a copy), keywords, operators and punctuation stay;
2. every run of ``k`` tokens is hashed; in every window of ``w`` consecutive hashes the
   smallest is kept (the rightmost on ties): a submission's fingerprints, each with the line
   where its run starts;
3. fingerprints of the challenge's starter and reference solution are removed (everyone starts
   from the one and may converge on the other), and so are fingerprints shared by more than
   ``common_fraction`` of the cohort (a short constrained fix looks the same in everyone's
   hands);
4. an inverted index (fingerprint -> submissions) yields, for every pair sharing anything,
   how many fingerprints they share, without comparing every pair (copydetect, the
   pip-installable MIT option, compares all pairs: 326 s for 1,000 submissions in a trial
   here; this index takes a few seconds, see BENCHMARKS.md);
5. a pair is flagged when it shares at least ``min_shared`` fingerprints and they cover at
   least ``threshold`` of the smaller submission's fingerprints.

Each flagged pair can then be cross-checked against both sessions (:func:`cross_check`): was
the shared region pasted, typed in one burst, or did it grow over the session?
"""

from __future__ import annotations

import bisect
import keyword
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pygments.lexer import Lexer, RegexLexer
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.token import (
    Comment,
    Literal,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
    _TokenType,
)
from pygments.util import ClassNotFound

K = 12
"""Tokens per hashed run (the noise threshold: shorter shared runs are never found)."""
W = 6
"""Winnowing window: any shared run of at least K + W - 1 tokens is always found."""
COMMON_FRACTION = 0.2
MIN_COHORT_FOR_COMMON = 10
MIN_SHARED = 8
THRESHOLD = 0.5
BURST_SECONDS = 90.0

class WinnowPythonLexer(RegexLexer):
    """A small pygments lexer for comparing Python: names, numbers, strings, comments,
    operators and punctuation, nothing finer. pygments' own PythonLexer tries about forty
    rules per token (28,000 tokens/s here); this one tries a few (290,000 tokens/s), which is
    what lets a cohort of 1,000 be compared in seconds. Keywords are told apart from names
    afterwards (``keyword.iskeyword``)."""

    name = "winnow-python"
    tokens = {"root": [
        (r"[ \t\r\n\f]+", Whitespace),
        (r"[A-Za-z_]\w*", Name),
        (r"[()\[\]{}:,.;@]", Punctuation),
        (r"#[^\n]*", Comment),
        (r"[-+*/%<>=!&|^~]+", Operator),
        (r"(?s)[rRbBfFuU]{0,2}(\"\"\"|\'\'\').*?\1", String),
        (r"[rRbBfFuU]{0,2}(\"([^\"\\\n]|\\.)*\"|'([^'\\\n]|\\.)*')", String),
        (r"\d[\d_]*(\.\d*)?([eE][-+]?\d+)?[jJ]?|\.\d+", Number),
        (r".", Text),
    ]}


_LEXERS: dict[str, Lexer] = {}


def _lexer(path: str) -> Lexer:
    suffix = Path(path).suffix or path
    lexer = _LEXERS.get(suffix)
    if lexer is None:
        if suffix == ".py":
            lexer = WinnowPythonLexer(stripnl=False, ensurenl=False)
        else:
            try:
                lexer = get_lexer_for_filename(path, stripnl=False, ensurenl=False)
            except ClassNotFound:
                lexer = TextLexer(stripnl=False, ensurenl=False)
        _LEXERS[suffix] = lexer
    return lexer


#: How each token type is compared: None (ignored), "" (by its text), or a placeholder.
_CATEGORY: dict[_TokenType, str | None] = {}


def _category(ttype: _TokenType) -> str | None:
    found = _CATEGORY.get(ttype, "?")
    if found != "?":
        return found
    if ttype in Comment or ttype in Text:
        cat: str | None = None
    elif ttype in Name:
        cat = "N"
    elif ttype in String:
        cat = "S"
    elif ttype in Number:
        cat = "0"
    elif ttype in Literal:
        cat = "L"
    else:
        cat = ""
    _CATEGORY[ttype] = cat
    return cat


def _normal(ttype: _TokenType, value: str) -> str | None:
    """A token as the comparison sees it (identifiers ``N``, strings ``S``, numbers ``0``,
    keywords and operators as written); None for comments and whitespace."""
    cat = _category(ttype)
    if cat is None or not value.strip():
        return None
    if cat == "N":
        return value if keyword.iskeyword(value) else "N"
    return cat or value


class Vocabulary:
    """Tokens -> small ints (so a k-gram's hash is a hash of ints: stable across runs), with
    each (token type, text) normalised once."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.seen: dict[tuple[_TokenType, str], int] = {}
        """(token type, text) -> id, or 0 for what is ignored."""

    def id(self, ttype: _TokenType, value: str) -> int:
        key = (ttype, value)
        found = self.seen.get(key)
        if found is None:
            norm = _normal(ttype, value)
            if norm is None:
                found = 0
            else:
                found = self.ids.get(norm) or self.ids.setdefault(norm, len(self.ids) + 1)
            self.seen[key] = found
        return found


def tokens(text: str, path: str, vocab: Vocabulary) -> tuple[list[int], list[int]]:
    """(token ids, character offset of each token) for one file."""
    ids: list[int] = []
    offsets: list[int] = []
    seen, lookup = vocab.seen, vocab.id
    for offset, ttype, value in _lexer(path).get_tokens_unprocessed(text):
        tid = seen.get((ttype, value))
        if tid is None:
            tid = lookup(ttype, value)
        if tid:
            ids.append(tid)
            offsets.append(offset)
    return ids, offsets


def winnow(ids: list[int], lines: list[int], k: int = K, w: int = W) -> dict[int, int]:
    """{fingerprint: position of its first occurrence} selected by winnowing: the smallest
    hash of every window of ``w`` consecutive k-gram hashes (the rightmost on ties).
    ``lines`` gives each token's position (a line or an offset), returned as is."""
    n = len(ids) - k + 1
    if n <= 0:
        return {}
    hashes = [hash(tuple(ids[i:i + k])) for i in range(n)]
    out: dict[int, int] = {}
    if n <= w:
        low = min(hashes)
        pos = n - 1 - hashes[::-1].index(low)
        return {low: lines[pos]}
    pos = -1
    for end in range(w - 1, n):
        start = end - w + 1
        if pos < start:  # the previous minimum left the window: scan it again
            pos = start
            for i in range(start + 1, end + 1):
                if hashes[i] <= hashes[pos]:
                    pos = i
        elif hashes[end] <= hashes[pos]:
            pos = end
        else:
            continue
        out.setdefault(hashes[pos], lines[pos])
    return out


def fingerprint_files(files: Mapping[str, str], vocab: Vocabulary,
                      k: int = K, w: int = W) -> dict[int, tuple[str, int]]:
    """{fingerprint: (path, line)} over every text file of a submission."""
    out: dict[int, tuple[str, int]] = {}
    for path in sorted(files):
        text = files[path]
        if not isinstance(text, str) or "\x00" in text:
            continue
        ids, offsets = tokens(text, path, vocab)
        picked = winnow(ids, offsets, k, w)
        if not picked:
            continue
        newlines = [i for i, ch in enumerate(text) if ch == "\n"] if len(picked) > 8 else None
        for fp, offset in picked.items():
            line = (bisect.bisect_left(newlines, offset) if newlines is not None
                    else text.count("\n", 0, offset)) + 1
            out.setdefault(fp, (path, line))
    return out


@dataclass
class Pair:
    """Two submissions that share unusual code."""

    a: str
    b: str
    shared: int
    """Fingerprints they share (after subtracting starter, reference and common ones)."""
    score: float
    """shared / the smaller submission's fingerprint count."""
    lines_a: dict[str, list[int]] = field(default_factory=dict)
    """Where the shared code is in ``a``: {path: sorted line numbers}."""
    lines_b: dict[str, list[int]] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    """From :func:`cross_check`: how the shared code arose in each session."""

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "shared": self.shared, "score": round(self.score, 3),
                "lines_a": self.lines_a, "lines_b": self.lines_b, "evidence": self.evidence}


@dataclass
class CohortResult:
    pairs: list[Pair]
    """Flagged pairs, most similar first."""
    counts: dict[str, int]
    """Fingerprints per submission after subtraction."""
    ignored_common: int
    """Fingerprints ignored because too much of the cohort shares them."""
    candidates: int
    """Pairs that shared at least one fingerprint (what the index had to count)."""


def compare_cohort(
    submissions: Mapping[str, Mapping[str, str]],
    *,
    starter: Mapping[str, str] | None = None,
    reference: Mapping[str, str] | None = None,
    k: int = K, w: int = W,
    common_fraction: float = COMMON_FRACTION,
    min_shared: int = MIN_SHARED,
    threshold: float = THRESHOLD,
) -> CohortResult:
    """Flag pairs of submissions ({id: {path: text}}) of one challenge that share unusual code."""
    vocab = Vocabulary()
    known: set[int] = set()
    for base in (starter, reference):
        if base:
            known.update(fingerprint_files(base, vocab, k, w))
    prints: dict[str, dict[int, tuple[str, int]]] = {}
    for sid, files in submissions.items():
        fps = fingerprint_files(files, vocab, k, w)
        prints[sid] = {fp: at for fp, at in fps.items() if fp not in known}
    index: dict[int, list[str]] = {}
    for sid, fps in prints.items():
        for fp in fps:
            index.setdefault(fp, []).append(sid)
    n = len(prints)
    limit = max(2, int(common_fraction * n)) if n >= MIN_COHORT_FOR_COMMON else n
    common = {fp for fp, ids in index.items() if len(ids) > limit}
    counts = {sid: sum(1 for fp in fps if fp not in common) for sid, fps in prints.items()}
    # The inverted index answers "who else has this fingerprint" for each of a submission's
    # fingerprints; Counter.update counts them in C. Only pairs that share something cost.
    order = {sid: i for i, sid in enumerate(prints)}
    postings = {fp: ids for fp, ids in index.items() if len(ids) > 1 and fp not in common}
    pairs = []
    candidates = 0
    for a, fps in prints.items():
        others: Counter[str] = Counter()
        for fp in fps:
            ids = postings.get(fp)
            if ids is not None:
                others.update(ids)
        for b, count in others.items():
            if order[b] <= order[a]:
                continue
            candidates += 1
            smaller = min(counts[a], counts[b])
            if count < min_shared or not smaller or count / smaller < threshold:
                continue
            both = set(prints[a]) & set(prints[b]) - common
            x, y = sorted((a, b))
            pairs.append(Pair(x, y, count, count / smaller, _where(prints[x], both),
                              _where(prints[y], both)))
    pairs.sort(key=lambda p: (-p.score, -p.shared, p.a, p.b))
    return CohortResult(pairs, counts, len(common), candidates)


def _where(fps: dict[int, tuple[str, int]], chosen: Iterable[int]) -> dict[str, list[int]]:
    out: dict[str, set[int]] = {}
    for fp in chosen:
        path, line = fps[fp]
        out.setdefault(path, set()).add(line)
    return {p: sorted(lines) for p, lines in sorted(out.items())}


# --------------------------------------------------------------------------- cross-check


def _present(files: Mapping[str, str], wanted: set[int], vocab: Vocabulary) -> int:
    return len(wanted & set(fingerprint_files(files, vocab)))


def cross_check(session: Path, shared_files: Mapping[str, str], lines: Mapping[str, list[int]],
                *, burst_seconds: float = BURST_SECONDS) -> dict[str, Any]:
    """How the code a pair shares arose in one session, from its events.

    ``shared_files`` are this session's submitted files and ``lines`` where the shared code is
    in them; the region traced runs from the first of those lines to K lines past the last.
    Answers with ``how``: ``pasted`` (most of the shared fingerprints came in a paste),
    ``burst`` (they appeared within ``burst_seconds`` of each other), ``grew`` (over a longer
    span), or ``unknown`` (the file cannot be read), with the times in plain words.
    """
    from tui_assess.errors import UserError
    from tui_assess.session.timeline import Timeline

    vocab = Vocabulary()
    region = {p: "\n".join(text.splitlines()[max(0, min(ls) - 1):max(ls) + K])
              for p, text in shared_files.items() if (ls := lines.get(p))}
    wanted = set(fingerprint_files(region, vocab)) & set(fingerprint_files(shared_files, vocab))
    if not wanted:
        return {"how": "unknown", "detail": "no shared fingerprints to trace."}
    try:
        with Timeline.open(session) as tl:
            events = tl.events()
            pasted = [ev for ev in events if ev.kind == "paste"]
            seqs = [ev.seq for ev in events if ev.kind in ("edit", "external_change", "keyframe")]
            in_pastes = set()
            for ev in pasted:
                text = str(ev.payload.get("text", ""))
                path = str(ev.payload.get("path", "x.py"))
                in_pastes |= wanted & set(fingerprint_files({path: text}, vocab))
            first = _first_seq_with(tl, seqs, wanted, vocab, 0.1)
            most = _first_seq_with(tl, seqs, wanted, vocab, 0.9)
            t_first = tl.event(first).t if first else None
            t_most = tl.event(most).t if most else None
    except (UserError, OSError) as exc:
        return {"how": "unknown", "detail": str(exc)}
    share = len(in_pastes) / len(wanted)
    span = (t_most - t_first) if t_first is not None and t_most is not None else None
    if share >= 0.5:
        how = "pasted"
        detail = f"{share:.0%} of the shared code arrived in {len(pasted)} paste(s)."
    elif span is not None and span <= burst_seconds:
        how = "burst"
        detail = f"typed in one burst: 10% to 90% of it within {span:.0f} s."
    elif span is not None:
        how = "grew"
        detail = f"grew over {span / 60:.1f} min (10% to 90% of it)."
    else:
        how, detail = "unknown", "the shared code never appears in the recorded states."
    return {"how": how, "detail": detail, "pasted_share": round(share, 3),
            "span_s": None if span is None else round(span, 3),
            "first_t": t_first, "most_t": t_most}


def _first_seq_with(tl: Any, seqs: list[int], wanted: set[int], vocab: Vocabulary,
                    fraction: float) -> int | None:
    """The first of ``seqs`` after which at least ``fraction`` of ``wanted`` is in the files
    (binary search over the recorded states: the shared code, once written, mostly stays)."""
    need = max(1, int(fraction * len(wanted) + 0.999))
    lo, hi = 0, len(seqs)
    while lo < hi:
        mid = (lo + hi) // 2
        if _present(tl.state_at(seq=seqs[mid]), wanted, vocab) >= need:
            hi = mid
        else:
            lo = mid + 1
    return seqs[lo] if lo < len(seqs) else None


def flagged_by(result: CohortResult) -> dict[str, list[Pair]]:
    """{submission id: the flagged pairs it is in}."""
    out: dict[str, list[Pair]] = {}
    for p in result.pairs:
        out.setdefault(p.a, []).append(p)
        out.setdefault(p.b, []).append(p)
    return out
