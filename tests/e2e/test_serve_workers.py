"""`commsinbox serve --workers 2`: two processes answer on one port, and both stop with the parent."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.conftest import TEST_KEYRING

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_workers_share_the_port_and_stop_together(pg_owner_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": pg_owner_url, "COMMSINBOX_DATA_DIR": str(tmp_path),
           "CREDENTIALS_ENCRYPTION_KEYS": TEST_KEYRING, "LOG_LEVEL": "WARNING"}
    parent = subprocess.Popen([sys.executable, "-m", "commsinbox.entrypoints.cli", "serve", "--port", str(port),
                               "--workers", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        answers = []
        deadline = time.monotonic() + 60
        while len(answers) < 10 and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/db", timeout=2) as response:
                    answers.append(json.loads(response.read()))
            except OSError:
                time.sleep(0.2)
        assert answers == [{"status": "ok"}] * 10
        workers = psutil.Process(parent.pid).children()
        assert len(workers) == 2
        assert json.loads(parent.stdout.readline())["workers"] == 2  # type: ignore[union-attr]
    finally:
        parent.send_signal(signal.SIGTERM)
        parent.wait(timeout=30)
        parent.stdout.close()  # type: ignore[union-attr]
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
