"""End-to-end: a real `commsinbox serve` (embedded PostgreSQL) and the OFFICIAL tRPC JavaScript client."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the fixture itself comes from conftest.py, loaded by pytest
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

CLIENT_DIR = Path(__file__).parent / "trpc_client"
NODE_TIMEOUT_S = 180
MIN_NODE_TESTS = 10  # contract.mjs has this many; fewer means scenarios went missing


def _get(url: str) -> tuple[int, str, object]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get_content_type(), json.loads(response.read())


def test_embedded_server_starts_and_answers_health(live_server: LiveServer) -> None:
    startup = [json.loads(line) for line in live_server.stdout_lines() if line.strip()]
    assert startup == [{"status": "starting", "url": live_server.url, "embedded": True, "workers": 1,
                        "jobWorker": True}]

    for path in ("/health", "/health/db"):
        status, content_type, body = _get(live_server.url + path)
        assert (status, content_type, body) == (200, "application/json", {"status": "ok"}), path
    assert (live_server.data_dir / "pg" / "PG_VERSION").is_file(), "the embedded cluster lives in the data dir"


def test_official_trpc_client_contract(live_server: LiveServer) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` (Node.js >= 20) is not on PATH: it runs the tRPC client contract test")
    if not (CLIENT_DIR / "node_modules" / "@trpc" / "client" / "package.json").is_file():
        pytest.fail(f"{CLIENT_DIR}/node_modules is missing: run `make test` "
                    "(or `cd tests/e2e/trpc_client && npm ci`) to install the tRPC client")
    env = {
        **os.environ,
        "CONTRACT_BASE_URL": live_server.url,
        "CONTRACT_EMAIL": live_server.email,
        "CONTRACT_PASSWORD": live_server.password,
        "CONTRACT_TEAM_ID": live_server.team_id,
        "NO_COLOR": "1",
    }
    env.pop("NODE_OPTIONS", None)
    try:
        done = subprocess.run([node, "--test", "--test-reporter=tap", "contract.mjs"], cwd=CLIENT_DIR, env=env,
                              capture_output=True, text=True, timeout=NODE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"node --test contract.mjs timed out after {NODE_TIMEOUT_S} s\n--- stdout ---\n{exc.stdout}\n"
                    f"--- stderr ---\n{exc.stderr}\n--- server stderr (tail) ---\n{live_server.stderr_tail()}")
    report = (f"\n--- node stdout ---\n{done.stdout}\n--- node stderr ---\n{done.stderr}"
              f"\n--- server stderr (tail) ---\n{live_server.stderr_tail()}")
    assert done.returncode == 0, f"node --test contract.mjs exited {done.returncode}{report}"
    counts = {key: int(value) for key, value in re.findall(r"^# (tests|pass|fail) (\d+)$", done.stdout, re.M)}
    assert counts.get("fail") == 0 and counts.get("tests", 0) >= MIN_NODE_TESTS, f"{counts}{report}"
    assert counts["pass"] == counts["tests"], f"{counts}{report}"
