"""HTTP console: run the candidate's app on a loopback port, send a request, see the reply."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, TextArea

from tui_assess.ui.http_service import AppServer, HttpResponse, parse_headers, send_request

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

    def __init__(self, workspace: Path, module: str) -> None:
        super().__init__()
        self.workspace = workspace
        self.module = module
        self.server: AppServer | None = None
        self.last: HttpResponse | None = None

    @classmethod
    def for_workspace(cls, workspace: Path) -> HttpConsoleScreen | str:
        """The console on the workspace's app, or why there is none (one sentence)."""
        from tui_assess.ui.http_service import find_app_module

        module = find_app_module(workspace)
        if module is None:
            return "No app found: add app.py with a WSGI `app` or `make_app()`."
        return cls(workspace, module)

    def compose(self) -> ComposeResult:
        yield Label(
            f"HTTP console · {self.module}.py · ctrl+r sends · f5 restarts · escape closes",
            id="http-title",
        )
        yield Label("starting your app...", id="http-server")
        with Horizontal(id="http-request-line"):
            yield Select(
                [(m, m) for m in METHODS], value="GET", allow_blank=False, id="http-method"
            )
            yield Input("/", placeholder="/path?query", id="http-path")
            yield Button("Send", id="http-send", variant="primary")
        with Horizontal(id="http-request-body"):
            with Vertical():
                yield Label("Headers (Name: value per line)")
                yield TextArea("", id="http-headers")
            with Vertical():
                yield Label("Body")
                yield TextArea("", id="http-body")
        yield Label("", id="http-status")
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
        server = AppServer(self.workspace, self.module)
        self.server = server
        try:
            port = server.start()
            text = f"your app is listening on http://127.0.0.1:{port}"
        except (RuntimeError, OSError) as exc:
            text = f"your app could not start: {exc}"
        self.app.call_from_thread(self.query_one("#http-server", Label).update, text)

    def action_restart(self) -> None:
        self.query_one("#http-server", Label).update("restarting your app...")
        self._start_server()

    @on(Button.Pressed, "#http-send")
    @on(Input.Submitted, "#http-path")
    def action_send(self) -> None:
        if self.server is None or self.server.port is None or not self.server.running:
            self.query_one("#http-status", Label).update("Your app is not running (f5 restarts).")
            return
        method = str(self.query_one("#http-method", Select).value)
        path = self.query_one("#http-path", Input).value or "/"
        headers = parse_headers(self.query_one("#http-headers", TextArea).text)
        body = self.query_one("#http-body", TextArea).text
        self.query_one("#http-status", Label).update(f"{method} {path} ...")
        self._send_worker(self.server.port, method, path, headers, body)

    @work(thread=True, exclusive=True, group="http-send", exit_on_error=False)
    def _send_worker(
        self, port: int, method: str, path: str, headers: dict[str, str], body: str
    ) -> None:
        response = send_request(port, method, path, headers, body)
        self.app.call_from_thread(self.show_response, response)

    def show_response(self, response: HttpResponse) -> None:
        self.last = response
        status = self.query_one("#http-status", Label)
        if response.error:
            status.update(f"error: {response.error}")
            return
        status.update(f"{response.status} {response.reason} · {response.elapsed_ms:.1f} ms")
        self.query_one("#http-response-headers", TextArea).load_text(
            "\n".join(f"{k}: {v}" for k, v in response.headers)
        )
        self.query_one("#http-response-body", TextArea).load_text(response.body)

    def on_unmount(self) -> None:
        if self.server is not None:
            self.server.stop()

    def action_close(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.dismiss(None)
