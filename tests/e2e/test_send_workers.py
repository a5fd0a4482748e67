"""Two `commsinbox worker` processes send one account's queue through the provider simulator: the account's rate
cap holds in every one-second window of the simulator's receive times, and no idempotency key goes out twice."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from commsinbox.adapters.providers.simulator import SimulatorState, create_simulator_app
from commsinbox.domain.model.threads import Dispatch
from commsinbox.domain.usecases.connections import Connect
from commsinbox.domain.usecases.outbound import SendRequest
from commsinbox.entrypoints.container import Services, postgres_services
from tests.conftest import FAST_HASHER, make_team, settings_for
from tests.contracts.test_inbox import threads_of
from tests.contracts.test_ingest import T0, text
from tests.e2e.test_worker import command, stop

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
MESSAGES = 60
CAP, BURST = 10, 1  # messages/second; burst 1: strictly spaced, so no one-second window may hold more than CAP
TIMEOUT = 90.0


def max_in_one_second(times: list[float]) -> int:
    """The most requests in any half-open window [t, t + 1 s) (the worst window starts at a request)."""
    times = sorted(times)
    return max((sum(1 for u in times[i:] if u < t + 1.0) for i, t in enumerate(times)), default=0)


@pytest.fixture
async def simulator() -> AsyncIterator[TestClient]:
    sim = TestClient(TestServer(create_simulator_app(SimulatorState())))
    await sim.start_server()
    yield sim
    await sim.close()


async def queue_sends(services: Services, sim: TestClient) -> tuple[str, str, list[str]]:
    """A Meta account capped at CAP/s, MESSAGES customers who wrote, and one reply to each, queued."""
    meta = await (await sim.post("/_sim/accounts", json={"provider": "whatsapp-meta"})).json()
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
    return owner.team_id, account.id, ids


async def dispatch_states(services: Services, team_id: str, ids: list[str]) -> list[Dispatch | None]:
    async with services.uows.for_team(team_id) as uow:  # type: ignore[arg-type]
        return [m.dispatch if m else None for m in [await uow.messages.get(id) for id in ids]]


async def test_two_workers_never_exceed_the_cap_nor_send_a_key_twice(pg_owner_url: str, tmp_path: Path,
                                                                     simulator: TestClient) -> None:
    sim_url = str(simulator.make_url("")).rstrip("/")
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
            team_id, account_id, ids = await queue_sends(services, simulator)
            deadline, ran_on = time.monotonic() + TIMEOUT, set()
            while (states := await dispatch_states(services, team_id, ids)) != [Dispatch.DONE] * MESSAGES:
                assert time.monotonic() < deadline, f"not all sent in {TIMEOUT:.0f} s: {states}"
                assert all(w.poll() is None for w, _ in workers), "a worker died"
                ran_on |= await send_job_workers(pg_owner_url, account_id)
                await asyncio.sleep(0.1)
    finally:
        codes = [stop(worker) for worker, _ in workers]
    assert codes == [0, 0], [stderr.read_text()[-3000:] for _, stderr in workers]

    log: list[dict[str, Any]] = (await (await simulator.get("/_sim/requests", params={"method": "POST"})).json())[
        "requests"]
    sends = [r for r in log if r["path"].endswith("/messages") and (r["json"] or {}).get("type") == "text"]
    keys = [r["json"]["biz_opaque_callback_data"] for r in sends]
    assert sorted(keys) == sorted(f"two-workers-{n}" for n in range(MESSAGES))  # each key exactly once
    assert max_in_one_second([r["monotonic"] for r in sends]) <= CAP
    assert len(ran_on) == 2, f"the send jobs ran on {len(ran_on)} worker(s) only"


async def send_job_workers(owner_url: str, account_id: str) -> set[int]:
    """The procrastinate workers that have taken this account's send jobs (the id is kept while the worker runs)."""
    engine = sa.create_engine(owner_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT DISTINCT worker_id FROM procrastinate_jobs WHERE task_name = 'outbound.send' "
                                    "AND args->>'account_id' = :account AND worker_id IS NOT NULL"),
                            {"account": account_id}).scalars().all()
    engine.dispose()
    return {int(r) for r in rows}
