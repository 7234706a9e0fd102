"""What the local pagoPA and App IO servers share: a quiet handler that answers JSON."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps the connection open between requests, as pagoPA's and
    # IO's gateways do: every answer carries its Content-Length.
    protocol_version = "HTTP/1.1"
    # Buffered writes: the status line, headers and body leave in one segment.
    # Unbuffered (the default), the body is a second small write that waits
    # for the client's delayed ACK (Nagle), about 40 ms on every answer.
    wbufsize = -1

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """Serve `handler` on a free loopback port (bound by the server itself: no race) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
