"""Two `commsinbox worker` processes send one account's queue through the provider simulator: the account's rate
cap holds in every one-second window of the simulator's receive times, and no idempotency key goes out twice."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import aiohttp
import attrs

from commsinbox.domain.model.threads import Dispatch
from commsinbox.domain.usecases.connections import Connect
from commsinbox.domain.usecases.outbound import SendRequest
from commsinbox.entrypoints.container import Services, postgres_services
from tests.conftest import FAST_HASHER, make_team, settings_for
from tests.contracts.test_inbox import threads_of
from tests.contracts.test_ingest import T0, text
from tests.e2e.test_serve_workers import free_port
from tests.e2e.test_worker import command, stop

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
MESSAGES = 60
CAP, BURST = 10, 1  # messages/second; burst 1: strictly spaced, so no one-second window may hold more than CAP
TIMEOUT = 90.0


def max_in_one_second(times: list[float]) -> int:
    """The most requests in any half-open window [t, t + 1 s) (the worst window starts at a request)."""
    times = sorted(times)
    return max((sum(1 for u in times[i:] if u < t + 1.0) for i, t in enumerate(times)), default=0)


@attrs.frozen
class Simulator:
    url: str
    session: aiohttp.ClientSession

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        async with self.session.post(self.url + path, json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def get(self, path: str, **params: str) -> Any:
        async with self.session.get(self.url + path, params=params) as response:
            return await response.json()


def _before_others() -> None:
    with contextlib.suppress(OSError):  # raising priority needs privileges: without them, a plain process
        os.nice(-10)


@pytest.fixture
async def simulator(tmp_path: Path) -> AsyncIterator[Simulator]:
    """The simulator in a process of its own, like a provider on other machines: what it records as a request's
    arrival is not delayed by this test's work (a shared event loop holds requests back, then takes them in a
    burst), and, where allowed, it is scheduled before the workers on this shared 2-core machine."""
    port = free_port()
    with (tmp_path / "simulator.stderr").open("wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "commsinbox.entrypoints.cli", "simulator", "--port", str(port),
                                    "--target", "http://127.0.0.1:9"], stdout=subprocess.DEVNULL, stderr=err,
                                   env={**os.environ, "COMMSINBOX_DATA_DIR": str(tmp_path)}, preexec_fn=_before_others)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 30
            while True:
                try:
                    async with session.get(url + "/_sim/settings") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline and process.poll() is None, "the simulator did not start"
                await asyncio.sleep(0.1)
            yield Simulator(url, session)
    finally:
        process.terminate()
        process.wait(timeout=30)


async def queue_sends(services: Services, sim: Simulator) -> tuple[str, str, str, list[str]]:
    """A Meta account capped at CAP/s, MESSAGES customers who wrote, and one reply to each, queued."""
    meta = await sim.post("/_sim/accounts", {"provider": "whatsapp-meta"})
    owner = await make_team(services)
    account = await services.connections.connect(owner.actor, Connect(
        "whatsapp-meta", "Shop", meta["phoneNumberId"], {"accessToken": meta["accessToken"]}))
    await services.connections.set_rate_cap(owner.actor, account.id, CAP, BURST)
    minutes = int((services.clock.now() - T0).total_seconds() // 60)  # just now: inside the window and the grace
    await services.ingest.ingest([text(account.external_id, wa_id=f"55119{n:08d}", phone=f"+55119{n:08d}",
                                       minutes=minutes) for n in range(MESSAGES)])
    threads = [view.thread.id for view in await threads_of(services, owner, limit=100)]
    assert len(threads) == MESSAGES
    ids = []
    for n, thread in enumerate(threads):
        ids.append((await services.outbound.send(owner.actor, SendRequest(thread, f"two-workers-{n}", "hi"))).message.id)
    return owner.team_id, account.id, account.external_id, ids


async def dispatch_states(services: Services, team_id: str, ids: list[str]) -> list[Dispatch | None]:
    async with services.uows.for_team(team_id) as uow:  # type: ignore[arg-type]
        return [m.dispatch if m else None for m in [await uow.messages.get(id) for id in ids]]


async def test_two_workers_never_exceed_the_cap_nor_send_a_key_twice(pg_owner_url: str, tmp_path: Path,
                                                                     simulator: Simulator) -> None:
    sim_url = simulator.url
    env = {"META_GRAPH_BASE_URL": sim_url, "TWILIO_API_BASE_URL": sim_url}
    workers = []
    for n in range(2):
        stderr = tmp_path / f"worker-{n}.stderr"
        workers.append((command("worker", "--concurrency", "2", database=pg_owner_url, data_dir=tmp_path,
                                stderr=stderr, extra=env), stderr))
    try:
        for worker, stderr in workers:
            assert worker.stdout is not None
            started = json.loads(await asyncio.to_thread(worker.stdout.readline) or "null")
            assert started and started["status"] == "starting", stderr.read_text()
        settings = settings_for(tmp_path, pg_owner_url, **env)
        async with postgres_services(settings, owner=pg_owner_url, migrate_first=False, hasher=FAST_HASHER) as services:
            team_id, account_id, phone_number_id, ids = await queue_sends(services, simulator)
            deadline, ran_on = time.monotonic() + TIMEOUT, set()
            while (states := await dispatch_states(services, team_id, ids)) != [Dispatch.DONE] * MESSAGES:
                assert time.monotonic() < deadline, f"not all sent in {TIMEOUT:.0f} s: {states}"
                assert all(w.poll() is None for w, _ in workers), "a worker died"
                ran_on |= await asyncio.to_thread(send_job_workers, pg_owner_url, account_id)
                await asyncio.sleep(0.1)
    finally:
        codes = [stop(worker) for worker, _ in workers]
    assert codes == [0, 0], [stderr.read_text()[-3000:] for _, stderr in workers]

    log: list[dict[str, Any]] = (await simulator.get("/_sim/requests", method="POST"))["requests"]
    sends = [r for r in log if r["path"].endswith(f"/{phone_number_id}/messages")]  # this account's, nothing else
    keys = [r["json"]["biz_opaque_callback_data"] for r in sends]
    assert sorted(keys) == sorted(f"two-workers-{n}" for n in range(MESSAGES))  # each key exactly once
    arrivals = sorted(r["monotonic"] for r in sends)
    gaps = [round((b - a) * 1000) for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert max_in_one_second(arrivals) <= CAP, f"gaps between arrivals (ms): {gaps}"
    assert len(ran_on) == 2, f"the send jobs ran on {len(ran_on)} worker(s) only"


def send_job_workers(owner_url: str, account_id: str) -> set[int]:
    """The procrastinate workers that have taken this account's send jobs (the id is kept while the worker runs)."""
    engine = sa.create_engine(owner_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT DISTINCT worker_id FROM procrastinate_jobs WHERE task_name = 'outbound.send' "
                                    "AND args->>'account_id' = :account AND worker_id IS NOT NULL"),
                            {"account": account_id}).scalars().all()
    engine.dispose()
    return {int(r) for r in rows}
