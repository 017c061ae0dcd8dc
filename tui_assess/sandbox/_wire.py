"""Messages between the runner, the supervisor and trusted clients (stdlib only).

One JSON object per SOCK_SEQPACKET message, file descriptors alongside (SCM_RIGHTS). Nothing
received is ever executed; a message that does not decode is dropped by the receiver.
"""

from __future__ import annotations

import json
import os
import socket

# Annotations only: importing typing would cost the supervisor's start-up (mypy reads this).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_MESSAGE = 1 << 20
MAX_FDS = 64


def pair() -> tuple[socket.socket, socket.socket]:
    """A connected pair of message sockets (both ends close-on-exec)."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def send(sock: socket.socket, msg: dict[str, Any], fds: list[int] | tuple[int, ...] = ()) -> None:
    data = json.dumps(msg, separators=(",", ":")).encode()
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.sendall(data)


def recv(sock: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    """One message and the fds that came with it; (None, []) at end of stream."""
    data, fds, _flags, _addr = socket.recv_fds(sock, MAX_MESSAGE, MAX_FDS)
    if not data:
        for fd in fds:
            os.close(fd)
        return None, []
    try:
        msg = json.loads(data)
    except ValueError:
        msg = None
    if not isinstance(msg, dict):
        for fd in fds:
            os.close(fd)
        return {}, []
    return msg, fds
