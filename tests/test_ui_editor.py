"""Pilot tests of the editor widget: pastes, indentation, find, go to line, select all."""

from __future__ import annotations

from pathlib import Path

from fixtures.ui_support import (
    RecordingHooks,
    async_test,
    make_app,
    wait_until,
    workspace_screen,
)
from textual import events

from tui_assess.ui.widgets.code_editor import CodeEditor

SIZE = (100, 32)


async def focused_editor(pilot: object) -> CodeEditor:
    app = pilot.app  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    editor = app.focused
    assert isinstance(editor, CodeEditor)
    return editor


# --------------------------------------------------------------------------- pastes


@async_test
async def test_a_paste_lands_once_and_is_recorded_once(tmp_path: Path) -> None:
    hooks = RecordingHooks()
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        editor = await focused_editor(pilot)
        before = editor.text
        app.post_message(events.Paste("XYZ"))  # what a terminal's bracketed paste produces
        await wait_until(pilot, lambda: editor.text != before)
        await pilot.pause(0.1)
        assert editor.text == "XYZ" + before
        assert [a for n, a in hooks.calls if n == "pasted"] == [("calc.py", "XYZ")]
        assert [a for n, a in hooks.calls if n == "edited"] == [("calc.py", 0, 0, "XYZ")]


@async_test
async def test_a_carriage_return_paste_records_and_saves_newlines(tmp_path: Path) -> None:
    """Terminals send a paste's line breaks as \\r: what is recorded must be what is saved,
    so an honest paste raises no save_mismatch signal."""
    from tui_assess.session.hooks import RecorderHooks
    from tui_assess.session.timeline import Timeline

    hooks = RecorderHooks(sessions_dir=tmp_path / "sessions", sample_interval=None)
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        editor = await focused_editor(pilot)
        before = editor.text
        app.post_message(events.Paste("def f():\r    return 1\r\n\rx = 2\r"))
        await wait_until(pilot, lambda: editor.text != before)
        assert editor.text == "def f():\n    return 1\n\nx = 2\n" + before
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = (workspace_screen(app).workspace / "calc.py").read_text()
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert hooks.path is not None
    with Timeline.open(hooks.path) as tl:
        assert tl.state_at()["calc.py"] == saved
        pastes = [e.payload for e in tl.events() if e.kind == "paste"]
        edits = [e.payload for e in tl.events() if e.kind == "edit"]
        signals = [s.kind for s in tl.integrity_signals()]
    assert [p["text"] for p in pastes] == ["def f():\n    return 1\n\nx = 2\n"]
    assert all("\r" not in e["text"] for e in edits)
    assert "save_mismatch" not in signals


@async_test
async def test_edits_record_the_text_the_document_holds(tmp_path: Path) -> None:
    """A form feed or a Unicode line separator splits lines in the document: the recorded
    edit is what the buffer really holds, so replay matches the saved file."""
    hooks = RecordingHooks()
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        editor = await focused_editor(pilot)
        before = editor.text
        editor.insert("a\u2028b")
        await pilot.pause()
        inserted = [a[3] for n, a in hooks.calls if n == "edited"]
        assert "".join(inserted) + before == editor.text


# --------------------------------------------------------------------------- indentation


@async_test
async def test_enter_keeps_indentation_and_indents_after_a_colon(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await focused_editor(pilot)
        editor.load_text("")
        for ch in "def f(x):":
            await pilot.press("space" if ch == " " else ch)
        await pilot.press("enter", "i", "f", "space", "x", "colon", "enter")
        await pilot.press("r", "enter", "y")
        assert editor.text == "def f(x):\n    if x:\n        r\n        y"


@async_test
async def test_backspace_in_leading_spaces_removes_one_indent_level(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await focused_editor(pilot)
        editor.load_text("def f():\n        x")
        editor.move_cursor((1, 8))
        await pilot.press("backspace")
        assert editor.text == "def f():\n    x"
        await pilot.press("backspace")
        assert editor.text == "def f():\nx"


@async_test
async def test_enter_in_a_non_python_file_keeps_indentation_only(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = workspace_screen(app)
        (screen.workspace / "q.sql").write_text("SELECT a:\n")
        editor = await screen.open_file("q.sql")
        assert editor is not None
        editor.load_text("  SELECT a:")
        editor.move_cursor((0, 11))
        await pilot.press("enter", "x")
        assert editor.text == "  SELECT a:\n  x"


# --------------------------------------------------------------------------- find, go to line


@async_test
async def test_ctrl_f_finds_next_and_previous(tmp_path: Path) -> None:
    from tui_assess.ui.widgets.editor_prompts import FindPrompt

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await focused_editor(pilot)
        editor.load_text("total = 0\nfor x in xs:\n    total += x\nreturn total\n")
        editor.move_cursor((0, 0))
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert isinstance(app.screen, FindPrompt)
        await pilot.press(*"total")
        await pilot.pause()
        assert editor.selection == ((0, 0), (0, 5))  # the first match, as you type
        assert "1 of 3" in app.screen.status_text
        await pilot.press("enter")
        assert editor.selection == ((2, 4), (2, 9))
        await pilot.press("enter")
        assert editor.selection == ((3, 7), (3, 12))
        await pilot.press("enter")  # wraps around
        assert editor.selection == ((0, 0), (0, 5))
        await pilot.press("up")  # previous, wrapping backwards
        assert editor.selection == ((3, 7), (3, 12))
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is editor and editor.selected_text == "total"
        await pilot.press("ctrl+f")  # the last search is offered again
        await pilot.pause()
        assert app.screen.query_one("Input").value == "total"
        await pilot.press(*"zzz")
        await pilot.pause()
        assert "no match" in app.screen.status_text


@async_test
async def test_ctrl_l_goes_to_a_line(tmp_path: Path) -> None:
    from tui_assess.ui.widgets.editor_prompts import GoToLinePrompt

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await focused_editor(pilot)
        editor.load_text("\n".join(f"line {i}" for i in range(1, 201)))
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, GoToLinePrompt)
        await pilot.press("1", "5", "0", "enter")
        await pilot.pause()
        assert app.focused is editor
        assert editor.cursor_location == (149, 0)
        assert editor.scroll_offset.y > 100  # scrolled into view
        await pilot.press("ctrl+l", "x", "enter")  # not a number: says so, stays open
        await pilot.pause()
        assert isinstance(app.screen, GoToLinePrompt)
        assert "1 to 200" in app.screen.status_text
        await pilot.press("escape")
        await pilot.pause()
        assert editor.cursor_location == (149, 0)


@async_test
async def test_ctrl_a_selects_all(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await focused_editor(pilot)
        await pilot.press("ctrl+a")
        assert editor.selected_text == editor.text
        await pilot.press("x")
        assert editor.text == "x"


@async_test
async def test_editor_keys_are_in_help_and_palette(tmp_path: Path) -> None:
    from tui_assess.ui.screens.help import HelpScreen

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await focused_editor(pilot)
        screen = workspace_screen(app)
        titles = [c.title for c in app.get_system_commands(screen)]
        for words in ("Find", "Go to line", "Select all"):
            assert any(t.startswith(words) for t in titles), (words, titles)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.help_markdown
        for needle in ("`editor.find`", "`editor.goto_line`", "`editor.select_all`", "ctrl+z"):
            assert needle in text, needle


@async_test
async def test_ctrl_o_opens_a_file_and_ctrl_pagedown_switches_tabs(tmp_path: Path) -> None:
    from tui_assess.ui.widgets.editor_prompts import OpenFilePrompt

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:  # no file tree at 80 columns
        editor = await focused_editor(pilot)
        screen = workspace_screen(app)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, OpenFilePrompt)
        await pilot.press(*"read", "enter")
        await wait_until(pilot, lambda: "README.md" in screen.editors)
        assert isinstance(app.focused, CodeEditor) and app.focused.rel_path == "README.md"
        await pilot.press("ctrl+pagedown")
        assert app.focused is editor
        await pilot.press("ctrl+pageup")
        assert app.focused.rel_path == "README.md"


# --------------------------------------------------------------------------- size per edit


@async_test
async def test_the_editors_size_follows_every_kind_of_edit() -> None:
    """The editor keeps its document's width and height up to date edit by edit
    (document_size.py) instead of measuring every line per key: after each kind of edit they
    are what TextArea's own full measurement gives."""
    from textual.app import App, ComposeResult
    from textual.geometry import Size

    wide = "x = '" + "wide " * 20 + "'"

    class OneEditor(App[None]):
        def compose(self) -> ComposeResult:
            yield CodeEditor(f"a\tb\n{wide}\nshort\n" + "y = 1\n" * 200, "calc.py")

    def measured(editor: CodeEditor) -> tuple[Size, int]:
        width, height = editor.document.get_size(editor.indent_width)
        visual = sum(len(o) + 1 for o in editor.wrapped_document._wrap_offsets)
        return Size(width + editor.gutter_width + 1, height), visual

    app = OneEditor()
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one(CodeEditor)
        sizes: list[Size] = []

        def check() -> None:
            size, visual = measured(editor)
            assert editor.virtual_size == size
            assert editor.wrapped_document.height == visual
            sizes.append(size)

        check()
        editor.insert("\tmore", (1, len(wide)))  # the widest line grows
        check()
        editor.delete((1, 0), (2, 0))  # the widest line goes: the width shrinks
        check()
        editor.insert("\t\tp = 1\n" + "z" * 150 + "\n", (0, 0))  # lines added, a wider one
        check()
        editor.undo()
        check()
        editor.redo()
        check()
        editor.replace("short", (3, 0), (204, 0))  # most lines replaced by one
        check()
        editor.indent_width = 8  # tabs count wider
        check()
        editor.soft_wrap = True
        await pilot.pause()
        assert editor.wrapped_document.height == measured(editor)[1] > len(editor.document.lines)
        editor.soft_wrap = False
        await pilot.pause()
        check()
        editor.load_text("one\ntwo")
        check()
        assert len(set(sizes)) >= 5  # the edits above changed the size


@async_test
async def test_the_editor_draws_with_its_current_css_after_focus_and_theme_changes() -> None:
    """The editor copies its CSS into its theme only after a style change, not on every draw
    (the cursor's blink): after focus moves and the app's theme changes, what it draws with
    is what a fresh copy of the CSS gives."""
    import dataclasses

    from textual.app import App, ComposeResult
    from textual.widgets import Input

    class EditorAndInput(App[None]):
        def compose(self) -> ComposeResult:
            yield CodeEditor("x = 1\n", "calc.py")
            yield Input()

    def styles(editor: CodeEditor) -> tuple[object, ...]:
        theme = editor._theme
        assert theme is not None
        return (theme.base_style, theme.gutter_style, theme.cursor_style,
                theme.cursor_line_style, theme.selection_style)

    def fresh(editor: CodeEditor) -> tuple[object, ...]:
        theme = dataclasses.replace(editor._themes[editor.theme])
        theme.apply_css(editor)
        return (theme.base_style, theme.gutter_style, theme.cursor_style,
                theme.cursor_line_style, theme.selection_style)

    app = EditorAndInput()
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one(CodeEditor)
        editor.focus()
        await pilot.pause()
        assert styles(editor) == fresh(editor)
        app.query_one(Input).focus()
        await pilot.pause()
        assert styles(editor) == fresh(editor)
        dark = styles(editor)
        app.theme = "textual-light" if app.current_theme.dark else "textual-dark"
        await pilot.pause()
        assert styles(editor) == fresh(editor) != dark
