"""The HTTP/1.1 keep-alive server on loopback that feeds requests to the dispatcher.

Example::

    server = SandboxServer(("127.0.0.1", 0), box)
    threading.Thread(target=server.serve_forever, daemon=True).start()
"""

from __future__ import annotations

import socket
import sys
import threading
import traceback
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from toolkit.sandbox.dispatch import handle
from toolkit.sandbox.errors import api_error
from toolkit.sandbox.http import Reply
from toolkit.sandbox.running import RunningSandbox

_PHRASES = {s.value: s.phrase for s in HTTPStatus}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: SandboxServer

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:  # the client went away mid-request: never act on a cut body
            self.close_connection = True
            return
        try:
            headers = {k: v for k, v in self.headers.items()}
            reply = handle(self.server.box, method, self.path, headers, body)
        except Exception:  # a sandbox bug: answer like Stripe's 500, keep serving
            traceback.print_exc()
            reply = Reply(500, api_error().body())
        if reply is None:  # injected drop: close without a word
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        lines = [
            f"HTTP/1.1 {reply.status} {_PHRASES.get(reply.status, '')}",
            "Server: stripe-sandbox",
            "Content-Type: application/json",
            f"Content-Length: {len(reply.body)}",
            "Cache-Control: no-cache, no-store",
            self._date(),
        ]
        lines.extend(f"{name}: {value}" for name, value in reply.headers)
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(head + reply.body)

    def _date(self) -> str:
        """The ``Date`` header: the sandbox's clock (``box.date()``), as any server sends its own."""
        return f"Date: {formatdate(self.server.box.date(), usegmt=True)}"

    def do_HEAD(self) -> None:
        """Any path: an empty 200 with the ``Date`` header, outside the API and its request log
        (a session asks it the time before its first answer; Stripe answers a HEAD with its
        Date too, and an unauthenticated request cannot count against any account's reads)."""
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        head = "\r\n".join(["HTTP/1.1 200 OK", "Server: stripe-sandbox", "Content-Length: 0",
                             self._date()])  # fmt: skip
        self.wfile.write((head + "\r\n\r\n").encode("latin-1"))

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the request log has it
        pass


class SandboxServer(ThreadingHTTPServer):
    """A threading HTTP server that remembers open connections so stop() can close them."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], box: RunningSandbox) -> None:
        self.box = box
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-response is normal (timeouts, Ctrl-C): say nothing."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        """Close every open connection (keep-alive clients included)."""
        with self._open_lock:
            sockets = list(self._open)
            self._open.clear()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
