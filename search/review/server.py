"""Serving a review: a socket bound to 127.0.0.1 only (port 0: any free port), the app, and
uvicorn running it until Ctrl-C."""

from __future__ import annotations

import socket
import threading
import webbrowser
from typing import Callable

from imgsearch_cnn.search.review.app import Secrets, create_app
from imgsearch_cnn.search.review.state import Review

HOST = "127.0.0.1"  # never another interface: the app acts on the user's files


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (OSError if the port is taken)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(128)
    return sock


def serve(review: Review, sock: socket.socket, open_browser: bool, announce: Callable[[str], None]) -> None:
    """Serve ``review`` on ``sock`` until interrupted; ``announce`` gets the URL with the token
    once the server is listening."""
    import uvicorn

    keys = Secrets.new(sock.getsockname()[1])
    config = uvicorn.Config(create_app(review, keys), log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)

    def ready() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            announce(keys.url())
            if open_browser:
                webbrowser.open(keys.url())

    threading.Thread(target=ready, daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        review.close()
