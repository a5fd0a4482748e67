"""A real `commsinbox serve` for end-to-end tests: embedded PostgreSQL, a fresh user and team, a free port.

The server runs as a subprocess exactly as `make serve` runs it (no DATABASE_URL, so the embedded
PostgreSQL starts under `$COMMSINBOX_DATA_DIR/pg`). At the end of the session it gets SIGTERM (then
SIGKILL), and the fixture checks that the embedded PostgreSQL went down with it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

STARTUP_TIMEOUT_S = 90.0
CREATE_USER_TIMEOUT_S = 120.0  # the first command on a data dir runs initdb and the migrations
STOP_TIMEOUT_S = 30.0
#: Variables that would point the server away from its own embedded database or local storage.
_SCRUBBED = ("DATABASE_URL", "DATABASE_APP_URL")


@dataclasses.dataclass(frozen=True)
class LiveServer:
    url: str
    email: str
    password: str
    team_id: str
    user_id: str
    data_dir: Path
    stdout_path: Path
    stderr_path: Path

    def stdout_lines(self) -> list[str]:
        return self.stdout_path.read_text(errors="replace").splitlines()

    def stderr_tail(self, lines: int = 40) -> str:
        return _tail(self.stderr_path, lines)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:]) or "<empty>"


def _commsinbox() -> str:
    script = Path(sys.executable).with_name("commsinbox")
    if not script.exists():
        pytest.fail(f"console script {script} not found: install the package (`make install`)")
    return str(script)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(data_dir: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(COMMSINBOX_DATA_DIR=str(data_dir), COMMSINBOX_ENV="development", STORAGE_BACKEND="local",
               PUBLIC_BASE_URL=url, LOG_LEVEL="INFO")
    return env


def _create_user(env: dict[str, str], email: str, password: str, team: str) -> dict[str, Any]:
    command = [_commsinbox(), "create-user", "--email", email, "--password", password, "--team", team,
               "--role", "owner"]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=CREATE_USER_TIMEOUT_S,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"`commsinbox create-user` did not finish in {CREATE_USER_TIMEOUT_S:.0f} s; stderr tail:\n"
                    + "\n".join(str(exc.stderr or "").splitlines()[-40:]))
    if done.returncode != 0:
        pytest.fail(f"`commsinbox create-user` exited {done.returncode}; stderr tail:\n"
                    + "\n".join(done.stderr.splitlines()[-40:]))
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"create-user should print one JSON line, printed: {done.stdout!r}"
    created = json.loads(lines[0])
    assert set(created) == {"userId", "teamId"} and all(created.values()), created
    return created


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code
    except (urllib.error.URLError, OSError):
        return None  # not listening yet


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, stderr_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last: int | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`commsinbox serve` exited with {process.returncode} before /health/db answered 200;"
                        f" stderr tail:\n{_tail(stderr_path)}")
        last = _status(f"{url}/health/db")
        if last == 200:
            return
        time.sleep(0.25)
    pytest.fail(f"`commsinbox serve` not ready after {STARTUP_TIMEOUT_S:.0f} s (last /health/db status: {last});"
                f" stderr tail:\n{_tail(stderr_path)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


def _postgres_pids(pgdata: Path) -> list[int]:
    """Live processes (not zombies) whose command line names `pgdata`: the postmaster (its children go with it)."""
    found = []
    needle = str(pgdata).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes()  # empty for zombies and kernel threads
            if needle in cmdline and b"postgres" in cmdline:
                found.append(int(entry.name))
    pid_file = pgdata / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
        if Path(f"/proc/{pid}/cmdline").read_bytes():
            found.append(pid)
    return sorted(set(found))


def _stop_leftover_postgres(pids: list[int]) -> None:
    for pid in pids:  # SIGQUIT: PostgreSQL's immediate shutdown
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGQUIT)


def _wait_for_postgres_to_stop(pgdata: Path, seconds: float = 60.0) -> None:
    """Starting the next server on the same data directory waits for the previous one to be gone."""
    deadline = time.monotonic() + seconds
    while _postgres_pids(pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("live")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = _server_env(data_dir, url)
    email = f"contract-{secrets.token_hex(4)}@example.com"
    password = f"contract-{secrets.token_urlsafe(12)}"
    created = _create_user(env, email, password, f"Contract team {secrets.token_hex(3)}")
    _wait_for_postgres_to_stop(data_dir / "pg")  # create-user's embedded server shuts down as it exits

    stdout_path, stderr_path = data_dir / "serve.stdout", data_dir / "serve.stderr"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen([_commsinbox(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                   env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    try:
        _wait_until_ready(process, url, stderr_path)
        yield LiveServer(url=url, email=email, password=password, team_id=created["teamId"],
                         user_id=created["userId"], data_dir=data_dir, stdout_path=stdout_path,
                         stderr_path=stderr_path)
    finally:
        _stop(process)
        pgdata = data_dir / "pg"
        leftover = _postgres_pids(pgdata)
        if leftover:
            _stop_leftover_postgres(leftover)
            pytest.fail(f"embedded PostgreSQL ({pgdata}) still running after `commsinbox serve` exited with "
                        f"{process.returncode}: pids {leftover}; serve's stderr tail:\n{_tail(stderr_path)}")
