"""Request/reply over a supervisor socket, with a reader thread for unsolicited events."""

from __future__ import annotations

import itertools
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from tui_assess.sandbox import _wire
from tui_assess.sandbox.spec import SandboxError

EventHandler = Callable[[dict[str, Any], list[int]], None]


class Channel:
    """One socket to the supervisor. `request` blocks for its reply; events go to a callback.

    The callback owns the fds that arrive with an event (it must close them).
    """

    def __init__(
        self,
        sock: socket.socket,
        on_event: EventHandler,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.sock = sock
        self._on_event = on_event
        self._on_close = on_close
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()
        self._waiting: dict[int, list[Any]] = {}
        self._state_lock = threading.Lock()
        self.closed = False
        self._thread = threading.Thread(target=self._read, name="sandbox-channel", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                msg, fds = _wire.recv(self.sock)
            except OSError:
                msg, fds = None, []
            if msg is None:
                break
            if "re" in msg:
                with self._state_lock:
                    slot = self._waiting.get(msg["re"])
                if slot is not None:
                    slot[1] = msg
                    slot[0].set()
                for fd in fds:
                    os.close(fd)
                continue
            try:
                self._on_event(msg, fds)
            except Exception:  # noqa: BLE001 - a bad callback must not end the channel
                pass
        with self._state_lock:
            self.closed = True
            for slot in self._waiting.values():
                slot[0].set()
        if self._on_close is not None:
            self._on_close()

    def request(
        self, msg: dict[str, Any], fds: list[int] | tuple[int, ...] = (), timeout: float = 30.0
    ) -> dict[str, Any]:
        """Send one request and wait for its reply; SandboxError when it fails or times out."""
        ident = next(self._ids)
        slot: list[Any] = [threading.Event(), None]
        with self._state_lock:
            if self.closed:
                raise SandboxError("the sandbox supervisor is gone")
            self._waiting[ident] = slot
        try:
            with self._send_lock:
                _wire.send(self.sock, {**msg, "id": ident}, fds)
            if not slot[0].wait(timeout):
                raise SandboxError(f"the sandbox supervisor did not answer {msg.get('op')!r}")
        except OSError as exc:
            raise SandboxError(f"the sandbox supervisor is gone ({exc})") from exc
        finally:
            with self._state_lock:
                self._waiting.pop(ident, None)
        reply = slot[1]
        if reply is None:
            raise SandboxError("the sandbox supervisor is gone")
        if "error" in reply:
            raise SandboxError(str(reply["error"]))
        return dict(reply)

    def notify(self, msg: dict[str, Any]) -> None:
        """Send a request without waiting for its reply (safe from any thread, the reader's
        own included: waiting there for a reply only it can read would never end)."""
        try:
            with self._send_lock:
                _wire.send(self.sock, {**msg, "id": 0})
        except OSError:
            pass

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
