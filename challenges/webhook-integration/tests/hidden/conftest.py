"""Fixtures: a scripted fake fulfilment provider on 127.0.0.1, and a handler factory."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from _wh import NOW, SECRET, FakeSleep, Slow


class FakeProvider:
    def __init__(self):
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.script: list = []
        self.default = 200
        self.requests: list[dict] = []
        self.url = ""

    def respond(self, *script, default: int = 200) -> None:
        """Answer the next requests with `script` (status codes or Slow), then `default`."""
        with self.lock:
            self.script = list(script)
            self.default = default

    def _next(self, record: dict):
        with self.lock:
            self.requests.append(record)
            return self.script.pop(0) if self.script else self.default


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client that timed out: not our problem
        pass


def _handler_class(provider: FakeProvider):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            action = provider._next(
                {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
            )
            status = action
            if isinstance(action, Slow):
                provider.release.wait(action.seconds)
                status = action.status
            payload = json.dumps({"ok": status < 300}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def provider():
    fake = FakeProvider()
    server = _Server(("127.0.0.1", 0), _handler_class(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def sleeper():
    return FakeSleep()


@pytest.fixture
def make_handler(tmp_path, provider, sleeper):
    """make_handler(**overrides) -> webhooks.WebhookHandler on a fresh database."""
    import webhooks

    def make(**overrides):
        kwargs = dict(clock=lambda: NOW, sleep=sleeper, timeout=5.0)
        kwargs.update(overrides)
        db_path = kwargs.pop("db_path", tmp_path / "webhooks.db")
        url = kwargs.pop("provider_url", provider.url)
        return webhooks.WebhookHandler(SECRET, db_path, url, **kwargs)

    return make
