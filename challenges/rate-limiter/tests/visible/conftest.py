"""Fixtures: a controllable clock, and the quotes API served on 127.0.0.1 (ephemeral port)."""

from __future__ import annotations

import http.client
import json
import threading

import pytest


class FakeClock:
    """A monotonic clock the test moves by hand (starts at 1000.0 s)."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Client:
    def __init__(self, port: int):
        self.port = port

    def get(self, path="/quote", api_key=None, headers=None):
        """One request; returns (status, headers with lower-case names, parsed JSON or None)."""
        hdrs = dict(headers or {})
        if api_key is not None:
            hdrs["X-API-Key"] = api_key
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers=hdrs)
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def serve():
    """serve(limiter) starts app.make_server(limiter) in a thread and returns a Client."""
    import app  # the candidate's module, from the workspace copy

    running = []

    def start(limiter):
        server = app.make_server(limiter, "127.0.0.1", 0)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.daemon = True
        thread.start()
        running.append((server, thread))
        return Client(server.server_address[1])

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
