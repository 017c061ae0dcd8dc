"""The Textual app: wires screens together. Behaviour lives in screens/ and widgets/."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.screen import Screen
from textual.theme import Theme

from tui_assess.challenge.model import Challenge
from tui_assess.challenge.workspace import init_workspace
from tui_assess.paths import data_home
from tui_assess.ui.checking import Checker, SessionChecker
from tui_assess.ui.hooks import GuardedHooks, SessionHooks
from tui_assess.ui.progress import ProgressStore
from tui_assess.ui.screens.dialogs import ConfirmScreen
from tui_assess.ui.screens.workspace import WorkspaceScreen


def practice_workspace(challenge: Challenge, root: Path | None = None) -> Path:
    """data_home()/workspaces/<id>/, created from the starter when missing or empty."""
    path = (root or data_home() / "workspaces") / challenge.id
    if not path.is_dir() or not any(path.iterdir()):
        init_workspace(challenge, path)
    return path


def load_keymap(path: Path) -> dict[str, str]:
    """`keymap.toml`: binding id = keys (e.g. "workspace.run" = "f5"); bad files are ignored."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def load_settings(path: Path) -> dict[str, object]:
    """`settings.json` in the data folder (the chosen theme); a bad file counts as empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class AssessApp(App[None]):
    """tui-assess: the catalog (no challenge given) or straight into one workspace."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "tui-assess"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+q",
            "request_quit",
            "Quit",
            id="app.quit",
            priority=True,
            tooltip="Quit (asks first when files are unsaved or the session is timed).",
        ),
        Binding(
            "f1",
            "help",
            "Help",
            id="app.help",
            tooltip="Keys, and what a session records, in plain words.",
        ),
    ]

    def __init__(
        self,
        challenges: list[Challenge] | None = None,
        start: Challenge | None = None,
        *,
        checker: Checker | None = None,
        hooks: SessionHooks | None = None,
        progress: ProgressStore | None = None,
        workspaces_root: Path | None = None,
        keymap_path: Path | None = None,
        start_screen: Screen[None] | None = None,
        settings_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.challenges = challenges or []
        self.start_challenge = start
        self.start_screen = start_screen
        """A screen to open instead of the catalog (the reviewer's replay)."""
        self.checker: Checker = checker or SessionChecker()
        self.hooks: SessionHooks = GuardedHooks(  # type: ignore[assignment]
            hooks or SessionHooks(),
            lambda message: self.notify(message, severity="error", timeout=10),
        )
        self.progress = progress or ProgressStore()
        self.workspaces_root = workspaces_root
        self.keymap_path = keymap_path or data_home() / "keymap.toml"
        self.user_keymap: dict[str, str] = {}
        """Binding id -> keys, as read from keymap.toml (the help screen shows them)."""
        self.settings_path = settings_path or self.keymap_path.with_name("settings.json")

    def on_mount(self) -> None:
        self.apply_user_settings()
        if self.start_screen is not None:
            self.push_screen(self.start_screen)
            return
        # The workspace or the catalog is pushed after the app's start-up batch: inside it
        # (on_mount runs there) its first frame would be computed and dropped, and it would
        # appear only after everything scheduled "after refresh" had run too (issue 14).
        self.call_later(self._first_screen)

    def _first_screen(self) -> None:
        if self.start_challenge is not None:
            self.open_challenge(self.start_challenge)
        else:
            from tui_assess.ui.screens.catalog import CatalogScreen

            self.push_screen(CatalogScreen(self.challenges, self.progress))

    def apply_user_settings(self) -> None:
        """The theme and key map the user chose (settings.json, keymap.toml)."""
        theme = load_settings(self.settings_path).get("theme")
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        self.theme_changed_signal.subscribe(self, self._keep_theme)
        keymap = load_keymap(self.keymap_path)
        if keymap:
            self.user_keymap = keymap
            self.set_keymap(keymap)

    def _keep_theme(self, theme: Theme) -> None:
        """The chosen theme (ctrl+p → Theme) is the next session's theme too."""
        settings = load_settings(self.settings_path)
        settings["theme"] = theme.name
        try:
            self.settings_path.parent.mkdir(parents=True, exist_ok=True)
            self.settings_path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            self.notify(f"The theme cannot be kept: {exc.strerror}.", severity="warning")

    def open_challenge(self, challenge: Challenge, from_catalog: bool = False) -> None:
        try:
            workspace = practice_workspace(challenge, self.workspaces_root)
        except Exception as exc:  # UserError: a folder we cannot write
            self.notify(str(exc), severity="error")
            return
        self.push_screen(
            WorkspaceScreen(
                challenge,
                workspace,
                checker=self.checker,
                hooks=self.hooks,
                progress=self.progress,
                from_catalog=from_catalog,
            )
        )

    def leave_workspace(self, screen: WorkspaceScreen) -> None:
        """Back to the catalog: the one underneath, or a new one when the app started
        straight in this workspace (`tui-assess practice ID`)."""

        def answered(go: bool | None) -> None:
            if not go:
                return
            screen.stop()
            if screen.from_catalog:
                self.pop_screen()
                return
            from tui_assess.ui.screens.catalog import CatalogScreen

            if not self.challenges:
                from tui_assess.challenge.catalog import list_challenges

                self.challenges = list_challenges()
            self.switch_screen(CatalogScreen(self.challenges, self.progress))

        if screen.dirty_files:
            self.push_screen(
                ConfirmScreen(
                    f"Leave without saving {', '.join(screen.dirty_files)}?",
                    confirm_label="Leave",
                    title="Unsaved changes",
                ),
                answered,
            )
        else:
            answered(True)

    # -- quit, help, palette -------------------------------------------------------------

    def _workspace(self) -> WorkspaceScreen | None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, WorkspaceScreen):
                return screen
        return None

    def action_request_quit(self) -> None:
        if isinstance(self.screen, ConfirmScreen):
            return  # already asking something
        ws = self._workspace()
        reasons = []
        if ws is not None and ws.dirty_files:
            reasons.append(f"unsaved changes in {', '.join(ws.dirty_files)}")
        if ws is not None and ws.timed:
            reasons.append("a timed session in progress")
        if not reasons:
            self._quit(ws)
            return

        def answered(go: bool | None) -> None:
            if go:
                self._quit(ws)

        self.push_screen(
            ConfirmScreen(
                f"Quit with {' and '.join(reasons)}?", confirm_label="Quit", title="Quit tui-assess"
            ),
            answered,
        )

    def _quit(self, ws: WorkspaceScreen | None) -> None:
        if ws is not None:
            ws.stop()
        self.exit()

    def action_help(self) -> None:
        from tui_assess.ui.screens.help import HelpScreen  # on demand: it loads Markdown

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every action with a binding on the current screen and the app, and the focused
        widget's own keys (the editor's find, go to line, ...), then the built-ins. The screen's
        actions are listed even when the focused widget takes their keys (the terminal)."""
        seen: set[str] = set()
        found: list[tuple[Binding, DOMNode]] = []
        for active in screen.active_bindings.values():
            b = active.binding
            if not b.description or b.action in seen or not active.enabled:
                continue
            if active.node is not screen and active.node is not self and not b.id:
                continue  # a widget's unnamed built-ins (cursor moves): not palette material
            seen.add(b.action)
            found.append((b, active.node))
        for declared in type(screen).BINDINGS:
            if not isinstance(declared, Binding) or not declared.description:
                continue
            if declared.action not in seen and screen.check_action(declared.action, ()):
                seen.add(declared.action)
                found.append((declared, screen))
        for b, node in found:
            yield SystemCommand(
                f"{b.description} ({self.get_key_display(b)})",
                b.tooltip or b.description,
                lambda node=node, action=b.action: self.run_action(action, node),  # type: ignore[misc]
            )
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command

    # -- focus: the recorder notes when the candidate leaves the window ----------------------

    def on_app_blur(self, _event: events.AppBlur) -> None:
        self.hooks.focus_changed(False)

    def on_app_focus(self, _event: events.AppFocus) -> None:
        self.hooks.focus_changed(True)

    def on_resize(self, event: events.Resize) -> None:
        self.hooks.resized(event.size.width, event.size.height)
