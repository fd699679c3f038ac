"""A real `imgsearch review` server, started the way a user starts it, for the web app tests."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from commands import ROOT


@dataclass
class Server:
    url: str  # as printed, with the token
    port: int
    token: str
    process: subprocess.Popen

    def request(self, method: str, path: str, headers: dict | None = None, body: bytes | None = None,
                host: str | None = None) -> tuple[int, bytes, dict]:
        """One raw HTTP request (any Host header, any path): status, body, headers."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", f"127.0.0.1:{self.port}" if host is None else host)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, data, {k.lower(): v for k, v in response.getheaders()}

    def cookie(self) -> dict:
        """The Cookie header the page's first visit earns."""
        status, _, headers = self.request("GET", f"/?token={self.token}")
        assert status == 303, status
        return {"Cookie": headers["set-cookie"].split(";")[0]}

    def csrf(self) -> str:
        status, page, _ = self.request("GET", "/", self.cookie())
        return re.search(rb'name="csrf" content="([^"]+)"', page).group(1).decode()


@contextmanager
def review_server(index: Path, *options, timeout: float = 120):
    """`imgsearch review --no-browser --index INDEX OPTIONS...` until the block ends."""
    process = subprocess.Popen([sys.executable, "-m", "imgsearch_cnn.search.cli", "review", "--no-browser",
                                "--index", str(index), *map(str, options)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ})
    try:
        started = time.monotonic()
        line = process.stdout.readline()
        if "http://" not in line:
            process.kill()
            raise AssertionError(f"review did not start: {line!r} {process.stderr.read()}")
        assert time.monotonic() - started < timeout
        url = re.search(r"http://\S+", line).group(0)
        parsed = urlparse(url)
        yield Server(url, parsed.port, parse_qs(parsed.query)["token"][0], process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
