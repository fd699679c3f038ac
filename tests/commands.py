"""Running the installed command line the way a user does, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imgsearch(*args, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """`imgsearch ARGS...`, output captured as text."""
    return subprocess.run([sys.executable, "-m", "imgsearch_cnn.search.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, env={**os.environ, **(env or {})}, timeout=600)
