"""Shared check of the service tests: is anything listening on a 127.0.0.1 port?"""

from __future__ import annotations

import socket


def listening(port: int) -> bool:
    """True when a TCP connection to 127.0.0.1:``port`` is accepted."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0
