"""The quotes API: a tiny stdlib HTTP service behind the rate limiter.

    GET /health   always 200, never rate limited
    GET /quote    200 {"quote": ...}, or 429 when the client is over its limit

A client is identified by its X-API-Key header, or by its IP address when it sends none.
"""

from __future__ import annotations

import json
import math
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from limiter import TokenBucketLimiter

QUOTES = [
    "Premature optimization is the root of all evil.",
    "Make it work, make it right, make it fast.",
    "Simple things should be simple, complex things should be possible.",
]


class QuoteHandler(BaseHTTPRequestHandler):
    server: "QuoteServer"

    def client_id(self) -> str:
        return self.headers.get("X-API-Key") or self.client_address[0]

    def send_json(self, code: int, payload: dict, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/health":
            self.send_json(200, {"status": "ok"})
            return
        allowed, retry_after = self.server.limiter.allow(self.client_id())
        if not allowed:
            # Retry-After is whole seconds: round up, so a client that waits that long succeeds.
            seconds = max(1, math.ceil(retry_after))
            self.send_json(429, {"error": "too many requests"}, {"Retry-After": str(seconds)})
            return
        if self.path == "/quote":
            self.server.served += 1
            self.send_json(200, {"quote": QUOTES[self.server.served % len(QUOTES)]})
        else:
            self.send_json(404, {"error": "not found"})

    def log_message(self, format, *args) -> None:  # access log goes to the proxy, not stderr
        pass


class QuoteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, limiter: TokenBucketLimiter):
        super().__init__(address, QuoteHandler)
        self.limiter = limiter
        self.served = 0


def make_server(limiter: TokenBucketLimiter, host: str = "127.0.0.1", port: int = 0) -> QuoteServer:
    """A server bound to (host, port), not yet serving: call serve_forever() in a thread."""
    return QuoteServer((host, port), limiter)


if __name__ == "__main__":
    srv = make_server(TokenBucketLimiter(rate_per_s=5, burst=10), port=8080)
    print("serving on http://127.0.0.1:8080")
    srv.serve_forever()
