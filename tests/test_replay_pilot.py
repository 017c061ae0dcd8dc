"""Pilot tests of the replay screen: every key, on a session recorded in the test by the real
recorder (tests/fixtures/replay_support.py: real test runs, a paste, a long focus loss, an
outside change, a terminal command); a tampered, an older and a resumed session."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fixtures.replay_support import HELPER, opened, recorded_once, replay_app, settled
from fixtures.ui_support import async_test, wait_until
from test_session_support import session_fixture
from textual.binding import Binding
from textual.widgets import Label, TabbedContent

from tui_assess.session import Timeline
from tui_assess.ui.screens.help import HelpScreen
from tui_assess.ui.screens.replay import ReplayScreen
from tui_assess.ui.screens.replay_dialogs import DiffScreen, PromptScreen
from tui_assess.ui.screens.solution import SolutionScreen
from tui_assess.ui.widgets.timeline_bar import TimelineBar
from tui_assess.ui.widgets.timeline_code import CodeView
from tui_assess.ui.widgets.timeline_events import EventList

SIZE = (120, 40)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return recorded_once(tmp_path_factory)


def code(screen: ReplayScreen) -> CodeView:
    return screen.query_one("#replay-code", CodeView)


def text_of(screen: ReplayScreen) -> str:
    return "\n".join(code(screen).lines)


def label(screen: ReplayScreen, name: str) -> str:
    return str(screen.query_one(name, Label).render())


def kinds_at(screen: ReplayScreen) -> str:
    return screen.timeline.kind_of(screen.seq)


# --------------------------------------------------------------------------- opening


@async_test
async def test_opens_at_the_end_with_the_final_code_origins_and_verdict(
        recorded: tuple[Path, Path], tmp_path: Path) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        tl = screen.timeline
        assert screen.seq == tl.seqs[-1]
        assert code(screen).path == "calc.py"  # the last file edited, not the first by name
        assert text_of(screen) == tl.state_at()["calc.py"]
        assert f"event {tl.seqs[-1]} of {tl.seqs[-1]}" in label(screen, "#replay-position")
        assert label(screen, "#replay-integrity") == "✔ intact"
        # The gutter: the pasted helper shows as pasted, the fixed line as typed.
        lines = code(screen).lines
        at = code(screen).origin_at
        assert at is not None
        pasted = lines.index("def average(items):")
        assert at(pasted).kind == "paste" and at(pasted).shown.paste_length == len(HELPER)
        assert at(lines.index("    return a + b")).kind == "typed"
        assert at(lines.index("def add(a, b):")).kind == "start"  # the comment typed above
        # it did not claim it
        assert [s.kind for s in screen.signals or []] == ["large_paste", "long_focus_loss",
                                                          "external_change"]
        assert screen.query_one("#replay-side", TabbedContent).active == "integrity-pane"


@async_test
async def test_every_key_has_an_id_a_tooltip_and_is_in_the_palette_and_help(
        recorded: tuple[Path, Path], tmp_path: Path) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        bindings = [b for b in ReplayScreen.BINDINGS if isinstance(b, Binding)]
        ids = [b.id for b in bindings]
        assert all(ids) and len(set(ids)) == len(ids)
        assert all(b.tooltip and b.description for b in bindings)
        titles = [c.title for c in app.get_system_commands(screen)]
        for b in bindings:
            assert any(t.startswith(f"{b.description} (") for t in titles), b.description
        await pilot.press("f1")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        shown = help_screen.query_one("#help-text").source  # type: ignore[attr-defined]
        for b in bindings:
            assert f"(id `{b.id}`)" in shown
        assert "Line origins" in shown and "pasted" in shown  # the replay's legend


# --------------------------------------------------------------------------- moving


@async_test
async def test_step_run_signal_and_edge_keys(recorded: tuple[Path, Path], tmp_path: Path) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        tl = screen.timeline
        await pilot.press("home")
        assert screen.seq == tl.seqs[0]
        await pilot.press("right", "right")
        assert screen.seq == screen.steps[2]
        await pilot.press("left")
        assert screen.seq == screen.steps[1]
        runs = [s for s in tl.seqs if tl.kind_of(s) == "run_start"]
        await pilot.press("shift+right")
        assert screen.seq == runs[0]
        await pilot.press("shift+right")
        assert screen.seq == runs[1]
        assert "a + b" in text_of(screen)  # the code run 2 tested
        await pilot.press("shift+left")
        assert screen.seq == runs[0] and "a - b" in text_of(screen)
        signals = sorted(s.seq for s in screen.signals or [])
        await pilot.press("ctrl+right")
        assert screen.seq == signals[0] and kinds_at(screen) == "paste"
        await pilot.press("ctrl+right")
        assert screen.seq == signals[1] and kinds_at(screen) == "focus_lost"
        await pilot.press("ctrl+left")
        assert screen.seq == signals[0]
        await pilot.press("end")
        assert screen.seq == tl.seqs[-1]
        await pilot.press("right")  # nothing after the end: stays, says so
        assert screen.seq == tl.seqs[-1]
        steps = set(screen.steps)
        assert not [s for s in steps if tl.kind_of(s) in ("resource_sample", "keyframe")]


@async_test
async def test_play_speed_and_skip_idle(recorded: tuple[Path, Path], tmp_path: Path) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        assert screen.speed == 1.0 and screen.skip_idle
        await pilot.press("left_square_bracket")
        assert screen.speed == 0.5
        for _ in range(8):
            await pilot.press("right_square_bracket")
        assert screen.speed == 32.0  # the top speed
        await pilot.press("i")
        assert not screen.skip_idle
        await pilot.press("i")
        assert screen.skip_idle
        seen: list[int] = []
        original = screen.show

        def spy(seq: int, at: float | None = None) -> None:
            seen.append(seq)
            original(seq, at)

        screen.show = spy  # type: ignore[method-assign]
        await pilot.press("space")  # at the end: plays from the start
        # 130 s of session at 32x with idle cut to 2 s: a few seconds at most.
        await wait_until(pilot, lambda: not screen.playing, timeout=30)
        assert screen.seq == screen.timeline.seqs[-1]
        assert seen[0] == screen.timeline.seqs[0] and seen == sorted(seen) and len(seen) > 5
        assert "‖ 32x · skip idle" in label(screen, "#replay-position")
        for _ in range(8):
            await pilot.press("left_square_bracket")  # 0.5x: nothing reaches the end here
        await pilot.press("home", "space")
        await pilot.pause(0.3)
        bar = screen.query_one("#replay-bar", TimelineBar)
        assert screen.playing and bar.position > 0  # the marker moves between events
        await pilot.press("space")  # pause
        stopped = (screen.seq, bar.position)
        await pilot.pause(0.3)
        assert not screen.playing and (screen.seq, bar.position) == stopped


@async_test
async def test_go_to_a_time_or_an_event(recorded: tuple[Path, Path], tmp_path: Path) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        tl = screen.timeline
        await pilot.press("g")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"0:31", "enter")
        assert screen.seq == tl.seq_at(31.0) and kinds_at(screen) == "focus_lost"
        await pilot.press("g", *"#5", "enter")
        assert screen.seq == 5
        await pilot.press("g", *"soon", "enter")
        assert screen.seq == 5  # refused in words, stayed
        assert any("neither a time" in n.message for n in app._notifications)
        await pilot.press("g", "escape")
        assert app.screen is screen and screen.seq == 5


@async_test
async def test_search_then_next_and_previous_hit(recorded: tuple[Path, Path], tmp_path: Path
                                                 ) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        await pilot.press("home", "slash", *"average", "enter")
        await wait_until(pilot, lambda: bool(screen.hits))
        assert [h.detail for h in screen.hits][:2] == [
            "calc.py line 16: added (pasted)", "note text: Fixed add: it subtracted. Added "
            "average() for the report page."]
        first, second = sorted({h.seq for h in screen.hits})[:2]
        assert screen.seq == first and kinds_at(screen) == "edit"
        assert "def average(items):" in text_of(screen)
        await pilot.press("n")
        assert screen.seq == second and kinds_at(screen) == "note"
        await pilot.press("N")
        assert screen.seq == first
        bar = screen.query_one("#replay-bar", TimelineBar)
        assert len(bar.hits) == len(screen.hits)


@async_test
async def test_mark_two_moments_and_diff_them(recorded: tuple[Path, Path], tmp_path: Path
                                              ) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        runs = [s for s in screen.timeline.seqs if screen.timeline.kind_of(s) == "run_start"]
        await pilot.press("home", "shift+right", "m", "shift+right", "m")
        assert screen.marks == runs[:2]
        await pilot.press("d")
        diff = app.screen
        assert isinstance(diff, DiffScreen)
        assert "-    return a - b" in diff.diff and "+    return a + b" in diff.diff
        assert "+def average(items):" in diff.diff
        assert f"event {runs[0]}" in diff.diff_title and f"event {runs[1]}" in diff.diff_title
        await pilot.press("escape")
        assert app.screen is screen


@async_test
async def test_origin_key_goes_to_the_moment_a_line_got_its_text(
        recorded: tuple[Path, Path], tmp_path: Path) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        view = code(screen)
        line = view.lines.index("    return a + b")
        view.cursor_line = line
        await pilot.pause()
        assert f"line {line + 1}: typed here at 0:10" in label(screen, "#replay-status")
        await pilot.press("o")
        event = screen.timeline.event(screen.seq)
        assert event.kind == "edit" and event.payload["text"] == "+"
        view.cursor_line = view.lines.index("    return a + b")
        await pilot.press("o")
        assert screen.timeline.event(screen.seq).payload["text"] == "+"  # already there


# --------------------------------------------------------------------------- re-runs


@async_test
async def test_rerun_the_tests_on_the_code_at_the_cursor(recorded: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        await pilot.press("home", "shift+right")  # run 1 starts: the starter code
        await pilot.press("r")
        assert screen.query_one("#replay-side", TabbedContent).active == "runs-pane"
        await wait_until(pilot, lambda: screen._rerun_cancel is None, timeout=120)
        shown = str(screen.query_one("#rerun").render())  # type: ignore[attr-defined]
        assert "visible tests: fail, 1/2 passed" in shown
        assert "Recorded run 1" in shown and ": fail, 1/2 passed" in shown
        assert "Same code as that run tested." in shown
        await pilot.press("end", "R")  # the submitted code, hidden tests
        await wait_until(pilot, lambda: screen._rerun_cancel is None, timeout=120)
        shown = str(screen.query_one("#rerun").render())  # type: ignore[attr-defined]
        assert "hidden tests: pass, 3/3 passed, score 100/100" in shown


@async_test
async def test_escape_stops_a_rerun(recorded: tuple[Path, Path], tmp_path: Path) -> None:
    session, challenge = recorded
    slow = tmp_path / "fix-sum"  # the same challenge, with a visible test that takes 30 s
    shutil.copytree(challenge, slow)
    (slow / "tests" / "visible" / "test_slow.py").write_text(
        "import time\n\n\ndef test_slow():\n    time.sleep(30)\n")
    async with opened(session, slow, tmp_path) as (_app, pilot, screen):
        await pilot.press("r")
        await pilot.pause(0.5)
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen._rerun_cancel is None, timeout=60)
        shown = str(screen.query_one("#rerun").render())  # type: ignore[attr-defined]
        assert "visible tests: cancelled" in shown
        assert "differs from the one recorded" in shown  # the copy is not the recorded one


@async_test
async def test_without_the_challenge_r_and_s_say_how_to_get_it(recorded: tuple[Path, Path],
                                                               tmp_path: Path) -> None:
    session, _challenge = recorded
    async with opened(session, None, tmp_path) as (app, pilot, screen):
        await pilot.press("r", "s")
        assert screen._rerun_cancel is None and app.screen is screen
        messages = [n.message for n in app._notifications]
        assert any("--challenge PATH" in m and "fix-sum" in m for m in messages)


# --------------------------------------------------------------------------- panels


@async_test
async def test_panels_filter_jump_files_and_solution(recorded: tuple[Path, Path],
                                                     tmp_path: Path) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        side = screen.query_one("#replay-side", TabbedContent)
        for key, pane in (("f3", "events"), ("f4", "runs"), ("f6", "resources"),
                          ("f7", "notes"), ("f2", "integrity")):
            await pilot.press(key)
            assert side.active == f"{pane}-pane"
        await pilot.press("k")  # events: only test runs
        events = screen.query_one("#events", EventList)
        assert side.active == "events-pane"
        kinds = {screen.timeline.kind_of(s) for s in events.seqs}
        assert kinds == {"run_end"} and len(events.seqs) == 3
        events.focus()
        await pilot.press("home", "up", "enter")  # home: the start; the list keeps its rows
        assert screen.seq == events.seqs[0]
        await pilot.press("k")  # pastes
        assert {screen.timeline.kind_of(s) for s in events.seqs} == {"paste"}
        files = screen.query_one("#replay-files")
        assert files.display
        await pilot.press("f5")
        assert not files.display
        await pilot.press("f5")
        assert files.display
        notes = str(screen.query_one("#notes-text").source)  # type: ignore[attr-defined]
        assert "Fixed add: it subtracted." in notes and "hint 1: Look at the operator" in notes
        await pilot.press("s")
        assert isinstance(app.screen, SolutionScreen)


@async_test
async def test_click_and_drag_on_the_timeline_bar_seek(recorded: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    async with opened(*recorded, tmp_path) as (app, pilot, screen):
        tl = screen.timeline
        bar = screen.query_one("#replay-bar", TimelineBar)
        await pilot.click(bar, offset=(0, 0))
        assert screen.seq <= tl.seq_at(2.0)
        middle = bar.size.width // 2
        await pilot.mouse_down(bar, offset=(10, 0))
        await pilot.hover(bar, offset=(middle, 0))
        await pilot.mouse_up(bar, offset=(middle, 0))
        await pilot.pause()
        assert screen.seq == tl.seq_at(bar.seconds_at(middle))
        assert bar.column_of(bar.position) == middle


# --------------------------------------------------------------------------- other files


@async_test
async def test_a_tampered_session_opens_with_the_warning_first(recorded: tuple[Path, Path],
                                                               tmp_path: Path) -> None:
    session, challenge = recorded
    tampered = tmp_path / "tampered.tasession"
    shutil.copy(session, tampered)
    with sqlite3.connect(tampered) as db:
        seq, payload = db.execute("SELECT seq, payload FROM events WHERE kind = 'edit' "
                                  "AND payload LIKE '%\"+\"%'").fetchone()
        db.execute("UPDATE events SET payload = ? WHERE seq = ?",
                   (payload.replace('"+"', '"*"'), seq))
    async with opened(tampered, challenge, tmp_path) as (app, pilot, screen):
        assert screen.verified is False
        badge = screen.query_one("#replay-integrity", Label)
        assert str(badge.render()) == f"✘ FAILS VERIFY at event {seq}" and badge.has_class("-bad")
        verdict = screen.query_one("#verdict")
        assert verdict.has_class("-bad")
        assert f"event {seq} (edit) does not match the chain" in str(verdict.render())
        assert screen.query_one("#replay-side", TabbedContent).active == "integrity-pane"
        # Still replayed: the reviewer sees what the file says, under the warning; the next
        # keyframe (the run's files) disagrees with the tampered edit: an "outside" change.
        await pilot.press("g", *f"#{seq}", "enter")
        assert "    return a * b" in text_of(screen)
        await pilot.press("end")
        at = code(screen).origin_at
        assert at is not None and at(code(screen).lines.index("    return a + b")).kind == \
            "outside"


@async_test
async def test_a_session_from_the_first_recorder_opens(tmp_path: Path) -> None:
    old = session_fixture("old-187fc7f", tmp_path)
    async with opened(old, None, tmp_path) as (app, pilot, screen):
        assert screen.verified is True
        assert text_of(screen) == ("def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n"
                                   "    return a - b\n")
        at = code(screen).origin_at
        assert at is not None and [at(i).kind for i in range(3)] == ["start", "typed", "paste"]


@async_test
async def test_a_resumed_session_shows_the_resume(tmp_path: Path) -> None:
    from test_session_support import new_recorder

    from tui_assess.session import SessionRecorder

    path = tmp_path / "resumed.tasession"
    rec = new_recorder(path)
    rec.edit("report.py", 0, 0, "# unsaved, lost in the crash\n")
    rec.close(end=False)  # as after kill -9: no session_end
    rec = SessionRecorder.open_or_resume(
        path, challenge_id="slow-query", challenge_hash="c" * 64, mode="practice",
        files={"report.py": "def report():\n    return 2\n", "notes.md": "# notes\n"})
    rec.edit("report.py", 0, 0, "# back\n")
    rec.close()
    async with opened(path, None, tmp_path) as (app, pilot, screen):
        assert [s.kind for s in screen.signals or []] == ["resume_gap"]
        await pilot.press("ctrl+left")
        assert kinds_at(screen) == "resumed"
        await pilot.press("end")
        at = code(screen).origin_at
        assert at is not None
        assert [at(i).kind for i in range(3)] == ["typed", "start", "resume"]


@async_test
async def test_a_damaged_blob_is_said_in_the_code_view(recorded: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    session, challenge = recorded
    damaged = tmp_path / "damaged.tasession"
    shutil.copy(session, damaged)
    with Timeline.open(damaged) as tl:
        last_keyframe = max(s for s in tl.seqs if tl.kind_of(s) == "keyframe")
        digest = tl.event(last_keyframe).payload["files"]["calc.py"]
    with sqlite3.connect(damaged) as db:
        db.execute("UPDATE blobs SET data = ? WHERE sha256 = ?", (b"not zlib", digest))
    app = replay_app(damaged, challenge, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen: Any = app.screen
        await wait_until(pilot, lambda: screen.verified is not None)
        assert screen.verified is False
        await pilot.press("end")
        assert f"event {last_keyframe} (keyframe) refers to blob" in code(screen).message
        await pilot.press("home")
        assert code(screen).message in ("", "(line origins: indexing…)")


@async_test
async def test_opened_from_the_review_table_escape_goes_back(recorded: tuple[Path, Path],
                                                             tmp_path: Path) -> None:
    from tui_assess.report.review import collect
    from tui_assess.ui.screens.review import ReviewApp, ReviewScreen

    session, challenge = recorded
    cohort = tmp_path / "cohort"
    cohort.mkdir()
    shutil.copy(session, cohort / "ada.tasession")
    app = ReviewApp(collect(cohort, challenge_dirs=[challenge.parent]),
                    challenge_dirs=[challenge.parent])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        replay = await settled(pilot)
        assert replay.challenge is not None and replay.challenge.id == "fix-sum"
        assert text_of(replay) == replay.timeline.state_at()["calc.py"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen))
