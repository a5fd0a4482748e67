"""Shared benchmark harness: an embedded (or DATABASE_URL) PostgreSQL, a live `commsinbox serve` subprocess,
a signed-in owner with a team, and latency statistics. Benchmarks print figures; they never pass or fail."""
from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
META_APP_SECRET = "0123456789abcdef0123456789abcdef"
KEYRING = "bench-1:" + base64.b64encode(b"b" * 32).decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@attrs.frozen
class Server:
    url: str
    owner_url: str  # the schema owner's libpq URL (for raw SQL and checks)
    token: str
    team_id: str
    env: dict[str, str]
    pid: int
    simulator: str  # the provider simulator the server checks credentials against

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by the server, by PostgreSQL (all its processes) and by this client."""
        server = psutil.Process(self.pid)
        postgres = [p for p in psutil.process_iter(["name"]) if p.info["name"] and "postgres" in p.info["name"]]
        def used(processes: list[psutil.Process]) -> float:
            total = 0.0
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    total += times.user + times.system
            return round(total, 2)
        return {"server": used([server, *server.children(recursive=True)]), "postgres": used(postgres),
                "client": used([psutil.Process()])}


def _call(url: str, path: str, payload: Any, token: str | None = None, team: str | None = None) -> Any:
    request = urllib.request.Request(f"{url}/trpc/{path}", data=json.dumps({"json": payload}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if team:
        request.add_header("x-team-id", team)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["result"]["data"]["json"]


@contextlib.contextmanager
def live_server(**extra_env: str) -> Iterator[Server]:
    data = Path(tempfile.mkdtemp(prefix="commsinbox-bench-"))
    data.chmod(0o755)
    port, sim_port = free_port(), free_port()
    env = {**os.environ, "COMMSINBOX_DATA_DIR": str(data), "META_APP_SECRET": META_APP_SECRET,
           "CREDENTIALS_ENCRYPTION_KEYS": KEYRING, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "META_GRAPH_BASE_URL": f"http://127.0.0.1:{sim_port}", "TWILIO_API_BASE_URL": f"http://127.0.0.1:{sim_port}",
           "LOG_LEVEL": "WARNING", **extra_env}
    simulator = subprocess.Popen([BIN / "commsinbox", "simulator", "--port", str(sim_port), "--target",
                                  f"http://127.0.0.1:{port}"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    created = subprocess.run([BIN / "commsinbox", "create-user", "--email", "bench@example.com", "--password",
                              "bench password!", "--team", "Bench"], env=env, capture_output=True, text=True,
                             check=True)
    team_id = json.loads(created.stdout)["teamId"]
    command = [str(BIN / "commsinbox"), "serve", "--port", str(port), "--workers", os.environ.get("BENCH_WORKERS", "1")]
    if os.environ.get("BENCH_PROFILE"):  # e.g. BENCH_PROFILE=/tmp/serve.svg: py-spy records the server
        command = [str(BIN / "py-spy"), "record", "-d", "25", "-f", "raw", "-o", os.environ["BENCH_PROFILE"], "--", *command]
    process = subprocess.Popen(command, env=env,
                               stdout=subprocess.DEVNULL, stderr=open(data / "serve.log", "w"))
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{url}/health/db", timeout=1):
                    break
            time.sleep(0.2)
        token = _call(url, "auth.login", {"email": "bench@example.com", "password": "bench password!"})["token"]
        owner = os.environ.get("DATABASE_URL") or f"postgresql://postgres:@/postgres?host={data / 'pg'}"
        yield Server(url, owner, token, team_id, env, process.pid, f"http://127.0.0.1:{sim_port}")
    finally:
        process.terminate()
        process.wait(timeout=60)
        simulator.terminate()
        simulator.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def connect_whatsapp(server: Server, phone_number_id: str) -> str:
    """Registers the number at the simulator, then connects it (credentials checked there, as in production)."""
    request = urllib.request.Request(f"{server.simulator}/_sim/accounts", data=json.dumps({
        "provider": "whatsapp-meta", "phoneNumberId": phone_number_id, "accessToken": "bench-token"}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    return _call(server.url, "communications.accounts.connect", {
        "provider": "whatsapp-meta", "displayName": "Bench", "externalId": phone_number_id,
        "credentials": {"accessToken": "bench-token"}}, server.token, server.team_id)["id"]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    quantiles = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {"p50": quantiles[49], "p95": quantiles[94], "p99": quantiles[98], "max": ordered[-1]}
