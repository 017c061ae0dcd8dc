"""The replay redraws only what a move changed (issue 12's redraw target): a step repaints the
code rows it changed, a burst of moves draws once, moves never relayout the screen, a press on
the bar repaints no more than the bar's own cells, and the loaded session is kept out of the
cycle collector's full passes while the screen is open. The figures are bench_replay's; these
tests pin the mechanisms, on the recorded fixture session (tests/fixtures/replay_support.py)."""

from __future__ import annotations

import gc
import random
from pathlib import Path
from typing import Any

import pytest
from fixtures.replay_support import opened, recorded_once
from fixtures.ui_support import async_test
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.geometry import Region
from textual.widgets import Label

from benchmarks.bench_replay import split_unfinished
from benchmarks.bench_tui import ANSI
from tui_assess.ui.screens.replay import ReplayScreen
from tui_assess.ui.widgets.code_editor import CodeEditor, build_highlights
from tui_assess.ui.widgets.timeline_bar import TimelineBar
from tui_assess.ui.widgets.timeline_code import CodeView, _char_spans
from tui_assess.ui.widgets.timeline_lexing import LineColours


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return recorded_once(tmp_path_factory)


def typed_comment(screen: ReplayScreen) -> list[int]:
    """The seqs of the comment line typed at 0:12, one character each."""
    tl = screen.timeline
    return [s for s, t, k in zip(tl.seqs, tl.times, tl.kinds, strict=True)
            if k == "edit" and 12.0 <= t < 17.0]


async def at_comment(pilot: Any, screen: ReplayScreen, index: int) -> list[int]:
    """Go to the ``index``-th character of the typed comment; the comment's seqs."""
    seqs = typed_comment(screen)
    screen.show(seqs[index])
    await pilot.pause()
    return seqs


def spy_calls(obj: Any, name: str, record: Any = lambda *a: 1) -> list[Any]:
    """``record(*args)`` of every call of ``obj.name`` from now on."""
    calls: list[Any] = []
    original = getattr(obj, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(record(*args))
        return original(*args, **kwargs)

    setattr(obj, name, spy)
    return calls


def spy_refreshes(widget: Any) -> list[tuple[Region, ...]]:
    """Every refresh() of ``widget`` from now on, as its regions (() for the whole widget)."""
    return spy_calls(widget, "refresh", lambda *regions: regions)


@async_test
async def test_a_step_repaints_only_the_code_row_it_changed(recorded: tuple[Path, Path],
                                                             tmp_path: Path) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        code = screen.query_one("#replay-code", CodeView)
        seqs = await at_comment(pilot, screen, 5)
        assert len(seqs) > 10
        rows_drawn = spy_calls(code, "_render_row", lambda row: row)
        refreshes = spy_refreshes(code)
        await pilot.press("right")
        await pilot.pause()
        assert screen.seq == seqs[6]
        assert code.lines[code.cursor_line].startswith("# fixed")  # its 7th character
        # One row of a 30-row view changed: one row refreshed, one row drawn.
        assert code.size.height > 20
        assert refreshes and all(len(r) == 1 and r[0].height == 1 for r in refreshes)
        assert {r[0].y for r in refreshes} == {code.cursor_line - int(code.scroll_y)}
        assert rows_drawn == [code.cursor_line]
        # Row refreshes stay inside the view (a wider region would repaint the side panel).
        assert all(r[0].width == code.size.width for r in refreshes)


@async_test
async def test_a_burst_of_moves_is_drawn_once_at_the_last_position(
        recorded: tuple[Path, Path], tmp_path: Path) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        seqs = await at_comment(pilot, screen, 0)
        draws = spy_calls(screen, "_draw", lambda: screen.seq)
        for _ in range(5):  # a held key: five moves before the loop turns
            screen.action_step(1)
        await pilot.pause()
        assert draws == [seqs[5]]
        assert f"event {seqs[5]} of" in str(screen.query_one("#replay-position", Label).render())
        # A drag: three positions posted at once, the last one drawn, once.
        bar = screen.query_one("#replay-bar", TimelineBar)
        draws.clear()
        for seconds in (30.0, 60.0, 95.0):
            bar.post_message(TimelineBar.Seek(bar, seconds))
        await pilot.pause()
        assert draws == [screen.timeline.seq_at(95.0)]
        assert bar.position == 95.0


@async_test
async def test_moves_never_relayout_the_screen(recorded: tuple[Path, Path],
                                               tmp_path: Path) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        seqs = await at_comment(pilot, screen, 0)
        layouts = spy_calls(screen, "_refresh_layout")
        position = screen.query_one("#replay-position", Label)
        width = position.size.width
        code = screen.query_one("#replay-code", CodeView)
        lines = len(code.lines)
        for _ in range(len(seqs) - 1):  # the comment typed, its newline included
            await pilot.press("right")
        await pilot.pause()
        assert screen.seq == seqs[-1] and len(code.lines) == lines + 1
        await pilot.press("left", "left")
        await pilot.pause()
        assert screen.seq == seqs[-3] and len(code.lines) == lines
        # A new line, a longer position text, a moved marker: no relayout (only a scrollbar
        # appearing or another set of files relayouts, and neither happens here).
        assert layouts == []
        assert position.size.width == width


@async_test
async def test_a_click_on_the_bar_repaints_the_bar_cells_not_the_screen(
        recorded: tuple[Path, Path], tmp_path: Path) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        bar = screen.query_one("#replay-bar", TimelineBar)
        full = spy_calls(screen._compositor, "render_full_update")
        refreshes = spy_refreshes(bar)
        for column in (5, bar.size.width // 2, bar.size.width - 3):
            await pilot.click(bar, offset=(column, 0))
            await pilot.pause()
            assert bar.column_of(bar.position) == column
        assert full == []  # a press starts no text selection (that repaints everything)
        # The marker moved three times: two one-column regions each, never the whole bar.
        assert refreshes and all(len(r) == 2 and all(c.width == 1 for c in r) for r in refreshes)


@async_test
async def test_the_loaded_session_is_frozen_out_of_full_collections_while_open(
        recorded: tuple[Path, Path], tmp_path: Path) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0  # the screen went: its objects can be collected again


# --------------------------------------------------------------------------- the harness


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([
    b"abc", b"event 12 of 99", b"\x1b[1;2;3m", b"\x1b[?25l", b"\x1b]0;title\x07",
    b"\x1bP+q\x1b\\", b"\x1b[<0;3;4M", b"\x1b7", b"x", b"\n"]), max_size=200),
    st.integers(0, 2**32))
def test_the_benchmark_un_escapes_output_read_in_pieces_as_a_whole(parts: list[bytes],
                                                                   seed: int) -> None:
    raw = b"".join(parts)
    rnd = random.Random(seed)
    pending, text, at = b"", b"", 0
    while at < len(raw):
        size = rnd.randint(1, 40)
        done, pending = split_unfinished(pending + raw[at:at + size])
        text += ANSI.sub(b"", done)
        at += size
    assert pending == b""
    assert text == ANSI.sub(b"", raw)


# --------------------------------------------------------------------------- line colours


def whole_text_colours(lexer: Any, lines: list[str]) -> dict[int, list[tuple[int, int, str]]]:
    return {row: [(a, b, n) for a, b, n in _char_spans(lines[row], spans) if a < b]
            for row, spans in build_highlights(lexer, "\n".join(lines)).items()}


def strings_joined(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for a, b, name in spans:
        name = "string" if name.startswith("string") and name != "string.escape" else name
        if out and name == "string" == out[-1][2] and out[-1][1] == a:
            out[-1] = (out[-1][0], b, name)
        else:
            out.append((a, b, name))
    return out


@pytest.mark.parametrize("pattern", ["tui_assess/session/*.py", "challenges/*/starter/*.sql"])
def test_line_by_line_colours_equal_whole_text_lexing(pattern: str) -> None:
    root = Path(__file__).resolve().parent.parent
    files = sorted(root.glob(pattern))
    assert files
    for path in files:
        lexer = CodeEditor._lexer_for(path.name)
        assert lexer is not None and LineColours.handles(lexer)
        lines = path.read_text().split("\n")
        colours = LineColours(lexer)
        by_line = colours.spans(lines, 0, 0, len(lines))
        whole = whole_text_colours(lexer, lines)
        for row in range(len(lines)):
            # The one difference: a docstring over several lines is "string" line by line
            # where whole-text lexing says "string.documentation" (the themes colour both
            # alike): compare with strings as one kind, joined where they touch.
            assert strings_joined(by_line.get(row, [])) == strings_joined(whole.get(row, [])), \
                (path, row)
        # Again, from the cache, and starting mid-file: the same colours.
        assert colours.spans(lines, 0, 0, len(lines)) == by_line
        middle = len(lines) // 2
        assert colours.spans(lines, 0, middle, len(lines)) == {
            r: s for r, s in by_line.items() if r >= middle}


def test_markdown_keeps_the_window_lexing() -> None:
    lexer = CodeEditor._lexer_for("NOTES.md")
    assert lexer is not None and not LineColours.handles(lexer)
