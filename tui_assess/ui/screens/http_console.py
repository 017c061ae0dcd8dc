"""HTTP console: run the candidate's app in the sandbox, send a request, see the reply."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, TextArea

from tui_assess.ui.http_service import AppServer, HttpResponse, parse_headers

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class HttpConsoleScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+r",
            "send",
            "Send",
            id="http.send",
            priority=True,
            tooltip="Send the request to your app.",
        ),
        Binding(
            "f5",
            "restart",
            "Restart app",
            id="http.restart",
            tooltip="Restart your app (after you change its code).",
        ),
        Binding(
            "escape",
            "close",
            "Close",
            id="http.close",
            priority=True,
            tooltip="Stop your app and go back to the workspace.",
        ),
    ]

    def __init__(
        self,
        workspace: Path,
        module: str,
        database: Path | None = None,
        draft: dict[str, str] | None = None,
        limits: Any = None,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.module = module
        self.database = database
        self.limits = limits
        """The challenge's [limits]: the app runs in the sandbox under them."""
        self.draft = draft if draft is not None else {}
        """The request as last typed (method, path, headers, body): kept by the caller, so
        the console opens with it again."""
        self.server: AppServer | None = None
        self.last: HttpResponse | None = None

    @classmethod
    def for_workspace(
        cls,
        workspace: Path,
        database: Path | None = None,
        draft: dict[str, str] | None = None,
        limits: Any = None,
    ) -> HttpConsoleScreen | str:
        """The console on the workspace's app, or why there is none (one sentence)."""
        from tui_assess.ui.http_service import find_app_module

        module = find_app_module(workspace)
        if module is None:
            return "No app found: add app.py with a WSGI `app` or `make_app()`."
        return cls(workspace, module, database, draft, limits)

    def compose(self) -> ComposeResult:
        db = f" · data: {self.database.name}" if self.database is not None else ""
        yield Label(
            f"HTTP console · {self.module}.py{db} · ctrl+r sends · f5 restarts · escape closes",
            id="http-title",
            markup=False,
        )
        yield Label("starting your app...", id="http-server", markup=False)
        d = self.draft
        with Horizontal(id="http-request-line"):
            method = d.get("method", "GET")
            yield Select(
                [(m, m) for m in METHODS],
                value=method if method in METHODS else "GET",
                allow_blank=False,
                id="http-method",
            )
            yield Input(d.get("path", "/"), placeholder="/path?query", id="http-path")
            yield Button("Send", id="http-send", variant="primary")
        with Horizontal(id="http-request-body"):
            with Vertical():
                yield Label("Headers (Name: value per line)")
                yield TextArea(d.get("headers", ""), id="http-headers")
            with Vertical():
                yield Label("Body")
                yield TextArea(d.get("body", ""), id="http-body")
        yield Label("", id="http-status", markup=False)
        with Horizontal(id="http-response"):
            yield TextArea("", id="http-response-headers", read_only=True)
            yield TextArea("", id="http-response-body", read_only=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#http-path", Input).focus()
        self._start_server()

    @work(thread=True, exclusive=True, group="http-server", exit_on_error=False)
    def _start_server(self) -> None:
        if self.server is not None:
            self.server.stop()
        server = AppServer(self.workspace, self.module, self.database, self.limits)
        self.server = server
        try:
            server.start()
            mode = server.sandbox_mode
            text = f"your app is running in the sandbox ({mode}) on a copy of your files"
        except (RuntimeError, OSError) as exc:
            text = f"your app could not start: {exc}"
        self.app.call_from_thread(self.query_one("#http-server", Label).update, text)

    def action_restart(self) -> None:
        self.query_one("#http-server", Label).update("restarting your app...")
        self._start_server()

    @on(Button.Pressed, "#http-send")
    @on(Input.Submitted, "#http-path")
    def action_send(self) -> None:
        if self.server is None or self.server.socket is None or not self.server.running:
            self.query_one("#http-status", Label).update("Your app is not running (f5 restarts).")
            return
        self._keep_draft()
        d = self.draft
        self.query_one("#http-status", Label).update(f"{d['method']} {d['path']} ...")
        headers = parse_headers(d["headers"])
        self._send_worker(self.server, d["method"], d["path"], headers, d["body"])

    def _keep_draft(self) -> None:
        self.draft.update(
            method=str(self.query_one("#http-method", Select).value),
            path=self.query_one("#http-path", Input).value or "/",
            headers=self.query_one("#http-headers", TextArea).text,
            body=self.query_one("#http-body", TextArea).text,
        )

    @work(thread=True, exclusive=True, group="http-send", exit_on_error=False)
    def _send_worker(
        self, server: AppServer, method: str, path: str, headers: dict[str, str], body: str
    ) -> None:
        response = server.request(method, path, headers, body)
        self.app.call_from_thread(self.show_response, response)

    def show_response(self, response: HttpResponse) -> None:
        self.last = response
        status = self.query_one("#http-status", Label)
        if response.error:
            status.update(f"error: {response.error}")
            return
        line = f"{response.status} {response.reason} · {response.elapsed_ms:.1f} ms"
        if response.traceback:
            last = response.body.strip().splitlines()[-1:] or [""]
            line += f" · your app raised {last[0]} (traceback below)"
        elif response.status >= 500 and response.log:
            line += " · see what your app printed, below the body"
        status.update(line)
        self.query_one("#http-response-headers", TextArea).load_text(
            "\n".join(f"{k}: {v}" for k, v in response.headers)
        )
        body = response.body
        if response.log and not response.traceback:
            body += "\n\n── printed by your app (stderr) ──\n" + "\n".join(response.log)
        self.query_one("#http-response-body", TextArea).load_text(body)

    def on_unmount(self) -> None:
        if self.server is not None:
            self.server.stop()

    def action_close(self) -> None:
        self._keep_draft()
        if self.server is not None:
            self.server.stop()
        self.dismiss(None)
