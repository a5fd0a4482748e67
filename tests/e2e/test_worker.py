"""`commsinbox worker` and `serve`'s in-process worker run jobs that another process deferred, on PostgreSQL."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from commsinbox.adapters.jobs.procrastinate_queue import ProcrastinateJobQueue
from commsinbox.adapters.jobs.procrastinate_schema import libpq_url
from commsinbox.adapters.postgres.schema import APP_ROLE
from tests.conftest import TEST_KEYRING
from tests.e2e.test_serve_workers import free_port

pytestmark = pytest.mark.e2e
TIMEOUT = 60.0


def command(*args: str, database: str, data_dir: Path, stderr: Path,
            extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database, "COMMSINBOX_DATA_DIR": str(data_dir),
           "CREDENTIALS_ENCRYPTION_KEYS": TEST_KEYRING, "LOG_LEVEL": "INFO", **(extra or {})}
    env.pop("DATABASE_APP_URL", None)
    with stderr.open("wb") as err:
        return subprocess.Popen([sys.executable, "-m", "commsinbox.entrypoints.cli", *args], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)


def defer_ping(database: str, ping: str) -> None:
    """Defers as another process would: its own procrastinate connection, as the application role."""
    async def defer() -> None:
        queue = ProcrastinateJobQueue(libpq_url(database), set_role=APP_ROLE, housekeeping=False)
        await queue.open()
        try:
            await queue.defer("jobs.ping", {"id": ping})
        finally:
            await queue.aclose()

    asyncio.run(defer())


def ping_statuses(database: str, ping: str) -> list[str]:
    engine = sa.create_engine(database, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT status FROM procrastinate_jobs WHERE task_name = 'jobs.ping' "
                                    "AND args->>'id' = :id"), {"id": ping}).scalars().all()
    engine.dispose()
    return [str(s) for s in rows]


def wait_for(check, what: str, process: subprocess.Popen[bytes], stderr: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what}: not after {TIMEOUT:.0f} s (exit code {process.poll()}); stderr tail:\n"
                        + "\n".join(stderr.read_text(errors="replace").splitlines()[-30:]))
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
    assert process.stdout is not None
    process.stdout.close()
    return int(process.returncode)


def test_the_worker_runs_a_job_another_process_deferred_then_stops_on_sigterm(fresh_database: str,
                                                                              tmp_path: Path) -> None:
    stderr = tmp_path / "worker.stderr"
    worker = command("worker", "--concurrency", "2", database=fresh_database, data_dir=tmp_path, stderr=stderr)
    try:
        assert worker.stdout is not None
        started = json.loads(worker.stdout.readline() or "null")  # printed once migrated and connected
        assert started == {"status": "starting", "concurrency": 2, "embedded": False}, stderr.read_text()
        defer_ping(fresh_database, "e2e-worker")
        wait_for(lambda: ping_statuses(fresh_database, "e2e-worker") == ["succeeded"], "the ping job succeeded",
                 worker, stderr)
    finally:
        code = stop(worker)
    assert code == 0, stderr.read_text()
    lines = [json.loads(line) for line in stderr.read_text().splitlines() if line.startswith("{")]
    assert any(line["msg"] == "ping job ran" and line.get("ping") == "e2e-worker" for line in lines)


def health(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health/db", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.mark.parametrize("flags", [[], ["--no-worker"]], ids=["with-worker", "no-worker"])
def test_serve_runs_jobs_in_process_unless_told_not_to(fresh_database: str, tmp_path: Path,
                                                       flags: list[str]) -> None:
    port = free_port()
    stderr = tmp_path / "serve.stderr"
    server = command("serve", "--port", str(port), *flags, database=fresh_database, data_dir=tmp_path,
                     stderr=stderr)
    try:
        assert server.stdout is not None
        assert json.loads(server.stdout.readline())["jobWorker"] == (not flags)
        wait_for(lambda: health(f"http://127.0.0.1:{port}"), "/health/db answered 200", server, stderr)
        defer_ping(fresh_database, "e2e-serve")
        if not flags:
            wait_for(lambda: ping_statuses(fresh_database, "e2e-serve") == ["succeeded"], "the ping job succeeded",
                     server, stderr)
        else:
            time.sleep(3)  # a worker polls every 5 s at the latest and is woken by NOTIFY at once
            assert ping_statuses(fresh_database, "e2e-serve") == ["todo"]
    finally:
        assert stop(server) == 0, stderr.read_text()
