"""A client that hangs up mid-response (a timeout, Ctrl-C) is normal: the sandbox prints nothing."""

from __future__ import annotations

import socket
import struct
import time

from toolkit.sandbox import Sandbox

REQUEST = (
    b"GET /v1/customers?limit=100&expand[0]=data.sources HTTP/1.1\r\n"
    b"Host: 127.0.0.1\r\nAuthorization: Bearer sk_test_" + b"h" * 24 + b"\r\n\r\n"
)


def test_hangups_leave_no_traceback(capsys):
    with Sandbox(seed=5, customers=400) as box:
        host, port = box.url.removeprefix("http://").split(":")
        for _ in range(8):
            sock = socket.create_connection((host, int(port)))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.sendall(REQUEST)
            time.sleep(0.02)
            sock.close()  # a reset while the server is still writing a large page
        time.sleep(0.5)
        assert box.requests, "the requests reached the sandbox"
    assert "Traceback" not in capsys.readouterr().err
