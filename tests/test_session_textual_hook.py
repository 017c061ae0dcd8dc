"""SessionRecorder.watch_document records a Textual document's edits exactly.

This is the integration the TUI uses: replaying the recorded (offset, deleted, text) edits must
give the document's text, for multi-line and reversed ranges, CRLF documents, newlines inside
inserted text, and for a real TextArea's typing, undo and redo. Textual is imported here, in a
test, never by tui_assess.session itself.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult
from textual.document._document import Document
from textual.widgets import TextArea

from tui_assess.session import SessionRecorder, Timeline


def new_session(path: Path, text: str) -> SessionRecorder:
    return SessionRecorder.create(path, challenge_id="c", challenge_hash="0" * 64,
                                  mode="practice", files={"f.py": text})


def location(doc: Document, frac_row: float, frac_col: float) -> tuple[int, int]:
    row = int(frac_row * (doc.line_count - 1))
    return row, int(frac_col * len(doc.get_line(row)))


fractions = st.floats(0, 1)
texts = st.text(alphabet=st.sampled_from([*"ab é😀\t", "\n"]), max_size=12)
ops = st.lists(st.tuples(fractions, fractions, fractions, fractions, texts), max_size=25)


@settings(max_examples=30, deadline=None)
@given(start=st.sampled_from(["", "one\ntwo\nthree\n", "crlf\r\nfile\r\n"]), ops=ops)
def test_document_edits_replay_to_the_document_text(start: str, ops: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.tasession"
        rec = new_session(path, start)
        doc = Document(start)
        unhook = rec.watch_document(doc, "f.py")
        for r1, c1, r2, c2, text in ops:
            doc.replace_range(location(doc, r1, c1), location(doc, r2, c2), text)
        unhook()
        doc.replace_range((0, 0), (0, 0), "not recorded")
        rec.close()
        with Timeline.open(path) as tl:
            assert tl.state_at()["f.py"] == doc.text.replace("not recorded", "", 1)
            assert tl.kind_counts().get("edit", 0) == len(ops)


class EditorApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TextArea("def f():\n    return 1\n", id="editor")


def test_textarea_typing_undo_and_redo_are_all_recorded(tmp_path: Path) -> None:
    path = tmp_path / "t.tasession"

    async def scenario() -> tuple[str, str, str]:
        app = EditorApp()
        async with app.run_test() as pilot:
            area = app.query_one(TextArea)
            rec = new_session(path, area.text)
            rec.watch_document(area.document, "f.py")
            area.focus()
            area.move_cursor((1, 12))
            await pilot.press("backspace", "4", "2", "enter", "#", " ", "o", "k")
            typed = area.text
            await pilot.press("ctrl+z")
            undone = area.text
            await pilot.press("ctrl+y")
            area.replace("g", (0, 4), (0, 5))  # an API edit, as a refactoring would make
            await pilot.pause()
            rec.close()
            return typed, undone, area.text

    typed, undone, final = asyncio.run(scenario())
    assert typed == "def f():\n    return 42\n# ok\n"
    assert undone != typed  # undo really changed the text
    with Timeline.open(path) as tl:
        assert tl.state_at()["f.py"] == final
        edits = [e for e in tl.events() if e.kind == "edit"]
        after_k = 1 + min(i for i, e in enumerate(edits) if e.payload["text"] == "k")
        states = [tl.state_at(seq=e.seq) for e in edits[after_k:]]
        assert {"f.py": undone} in states  # the undo's own replace_range calls were recorded
