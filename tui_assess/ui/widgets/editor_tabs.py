"""The workspace's open files: one CodeEditor tab per file, saved to and reloaded from disk.

The folder is the truth. Saves write it; a poller (off the event loop, once a second) notices
files changed by anything else — the terminal pane, another editor — and reloads clean
buffers silently or asks when there are unsaved edits.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.content import Content
from textual.message import Message
from textual.widgets import TabbedContent, TabPane
from textual.worker import get_current_worker

from tui_assess.ui.messages import FilesChangedOnDisk
from tui_assess.ui.screens.dialogs import ConfirmScreen
from tui_assess.ui.widgets.code_editor import CodeEditor
from tui_assess.ui.widgets.file_tree import IGNORED_PARTS

MAX_POLLED_FILES = 2000
POLL_S = 1.0
MAX_EDITABLE_BYTES = 2_000_000


def scan(workspace: Path) -> dict[str, tuple[int, int]]:
    """rel path -> (mtime_ns, size) of every workspace file (caches skipped). Runs off-loop.

    os.scandir, not rglob: ignored folders (a .venv, node_modules) are never entered, and a
    file costs one stat. Linked folders are not followed; linked files are (as `is_file`).
    """
    state: dict[str, tuple[int, int]] = {}
    stack = [(str(workspace), "")]
    while stack and len(state) < MAX_POLLED_FILES:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name in IGNORED_PARTS:
                        continue
                    rel = prefix + entry.name
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append((entry.path, rel + "/"))
                        elif entry.is_file():
                            st = entry.stat()
                            if len(state) < MAX_POLLED_FILES:
                                state[rel] = (st.st_mtime_ns, st.st_size)
                    except OSError:
                        continue
        except OSError:
            continue
    return state


class EditorTabs(TabbedContent):
    """Tabs of CodeEditors over a workspace folder; hooks hear every edit, paste and save."""

    @dataclass
    class DirtyChanged(Message):
        """A buffer went from saved to unsaved or back (the screen's status line)."""

        editors: EditorTabs

    @dataclass
    class TreeChanged(Message):
        """Files appeared or vanished on disk (the file tree reloads)."""

        editors: EditorTabs

    def __init__(self, workspace: Path, hooks: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.workspace = workspace
        self.hooks = hooks
        self.editors: dict[str, CodeEditor] = {}
        self.pane_ids: dict[str, str] = {}
        self._shown_dirty: dict[CodeEditor, bool] = {}
        self._pane_seq = 0
        self._asking_about: set[str] = set()
        self.disk_state: dict[str, tuple[int, int]] = {}
        """The poller's last scan: what the app knows is on disk."""

    def on_mount(self) -> None:
        self.disk_state = scan(self.workspace)
        self._poll_now = threading.Event()
        self._polling = True
        self._poll_loop()

    def on_unmount(self) -> None:
        self._polling = False
        self._poll_now.set()

    # -- opening ------------------------------------------------------------------------------

    async def open_file(self, rel: str, activate: bool = True) -> CodeEditor | None:
        """Open rel (workspace-relative) in a tab, or switch to it when already open."""
        if rel in self.editors:
            if activate:
                self.active = self.pane_ids[rel]
                self.editors[rel].focus()
            return self.editors[rel]
        path = self.workspace / rel
        try:
            if path.stat().st_size > MAX_EDITABLE_BYTES:
                self.notify(f"{rel} is too large to edit here.", severity="warning", markup=False)
                return None
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            hint = " Query it in the SQL console (f3)." if path.suffix in (".db", ".sqlite") else ""
            self.notify(f"{rel} is a binary file.{hint}", severity="warning", markup=False)
            return None
        except OSError as exc:
            self.notify(f"Cannot open {rel}: {exc.strerror}.", severity="error", markup=False)
            return None
        self._pane_seq += 1
        pane_id = f"file-{self._pane_seq}"
        editor = CodeEditor(
            text,
            rel,
            on_edit=self.hooks.edited,
            on_paste=self.hooks.pasted,
            id=f"editor-{self._pane_seq}",
        )
        self.editors[rel] = editor
        self.pane_ids[rel] = pane_id
        # Content, not str: a file name such as "[b]x.py" is not markup.
        await self.add_pane(TabPane(Content(Path(rel).name), editor, id=pane_id))
        if activate:
            self.active = pane_id
            editor.focus()
        self.hooks.file_opened(rel, text)
        return editor

    async def open_files(self, files: list[str]) -> CodeEditor | None:
        """Open files in order; the first becomes the active, focused tab."""
        first: CodeEditor | None = None
        for rel in files:
            editor = await self.open_file(rel, activate=first is None)
            first = first or editor
        if first is not None:
            self.active = self.pane_ids[first.rel_path]
            first.focus()
        return first

    def cycle(self, delta: int) -> None:
        """Switch to the next (1) or previous (-1) open file."""
        order = list(self.pane_ids)
        current = self.active_editor
        if not order or current is None:
            return
        rel = order[(order.index(current.rel_path) + delta) % len(order)]
        self.active = self.pane_ids[rel]
        self.editors[rel].focus()

    async def close_all(self) -> None:
        await self.clear_panes()
        self.editors.clear()
        self.pane_ids.clear()
        self._shown_dirty.clear()

    @property
    def active_editor(self) -> CodeEditor | None:
        pane = self.active_pane
        if pane is None:
            return None
        found = pane.query(CodeEditor)
        return found.first() if found else None

    @property
    def dirty_files(self) -> list[str]:
        return [rel for rel, ed in self.editors.items() if ed.dirty]

    def _refresh_label(self, editor: CodeEditor) -> None:
        self._shown_dirty[editor] = editor.dirty
        name = Path(editor.rel_path).name
        with contextlib.suppress(Exception):  # the tab may be being removed
            self.get_tab(self.pane_ids[editor.rel_path]).label = Content(
                f"● {name}" if editor.dirty else name
            )
        self.post_message(self.DirtyChanged(self))

    @on(CodeEditor.Changed)
    def _editor_changed(self, event: CodeEditor.Changed) -> None:
        editor = event.text_area
        if isinstance(editor, CodeEditor) and editor.dirty != self._shown_dirty.get(editor):
            # Only when clean/dirty flips: relabelling on every keystroke costs a relayout.
            self._refresh_label(editor)

    # -- saving -------------------------------------------------------------------------------

    def save_file(self, rel: str) -> bool:
        editor = self.editors[rel]
        path = self.workspace / rel
        text = editor.text
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            st = path.stat()
        except OSError as exc:
            self.notify(f"Cannot save {rel}: {exc.strerror}.", severity="error", markup=False)
            return False
        self.disk_state[rel] = (st.st_mtime_ns, st.st_size)
        editor.mark_saved(text)
        self._refresh_label(editor)
        self.hooks.saved(rel, text)
        return True

    def save_all(self) -> list[str]:
        return [rel for rel in self.dirty_files if self.save_file(rel)]

    # -- changes on disk (polled off the event loop) --------------------------------------------

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def _poll_loop(self) -> None:
        # One thread for the widget's life, once a second: the event loop hears from it only
        # when something changed (a worker per poll cost the idle app a thread and three
        # state messages a second).
        worker = get_current_worker()
        while True:
            self._poll_now.wait(POLL_S)
            self._poll_now.clear()
            if not self._polling or worker.is_cancelled:
                return
            before = dict(self.disk_state)
            after = scan(self.workspace)
            changed = [rel for rel, st in after.items() if before.get(rel) not in (None, st)]
            changed += [rel for rel in before if rel not in after]
            tree_changed = set(after) != set(before)
            if changed or tree_changed:
                self.post_message(FilesChangedOnDisk(sorted(changed), tree_changed, after))

    def check_disk_now(self) -> None:
        """Look for changes at once (after a terminal command, say) instead of within a second."""
        self._poll_now.set()

    @on(FilesChangedOnDisk)
    def _files_changed(self, event: FilesChangedOnDisk) -> None:
        event.stop()
        # The worker's scan is the truth from now on: no second walk on the event loop.
        self.disk_state = event.state
        if event.tree_changed:
            self.post_message(self.TreeChanged(self))
        for rel in event.changed:
            if rel in self.editors:
                self._file_changed(rel)

    def _file_changed(self, rel: str) -> None:
        editor = self.editors[rel]
        try:
            text: str | None = (self.workspace / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
        if text is not None and text == editor.saved_text:
            return  # our own save, seen late
        self.hooks.external_change(rel, text)
        if text is None:
            editor.saved_text = ""
            self._refresh_label(editor)
            self.notify(
                f"{rel} was deleted on disk; ctrl+s writes it back.",
                severity="warning",
                markup=False,
            )
        elif text == editor.text:
            editor.mark_saved(text)
            self._refresh_label(editor)
        elif not editor.dirty:
            editor.reload(text)
            self.notify(f"Reloaded {rel}: it changed on disk.", timeout=3, markup=False)
        else:
            self._ask_reload(rel, text)

    def _ask_reload(self, rel: str, text: str) -> None:
        if rel in self._asking_about:
            return
        self._asking_about.add(rel)
        editor = self.editors[rel]

        def answered(reload: bool | None) -> None:
            self._asking_about.discard(rel)
            if reload:
                editor.reload(text)
            else:
                editor.saved_text = text  # the buffer stays "changed" relative to the disk
            self._refresh_label(editor)

        self.app.push_screen(
            ConfirmScreen(
                f"{rel} changed on disk, and you have unsaved edits in it.\n"
                "Reload it from disk (your edits are lost), or keep your version?",
                confirm_label="Reload from disk",
                cancel_label="Keep mine",
                title="File changed on disk",
            ),
            answered,
        )

