"""Outbound send throughput: queued replies go out through `commsinbox serve`'s in-process job worker to the provider
simulator, first under a rate cap (is the achieved rate the cap?), then uncapped (how fast can dispatch go?); then
the raw PostgreSQL rate of the statements the send job runs per message, in the same run.

    .venv/bin/python bench/send.py
    BENCH_CAP=80 BENCH_CAPPED=800 BENCH_UNCAPPED=5000 .venv/bin/python bench/send.py

Sizes come from BENCH_CAP (messages/s, 80: Meta's default), BENCH_BURST (1), BENCH_CAPPED (messages sent under the
cap, 400) and BENCH_UNCAPPED (messages sent uncapped, 3000). Each message goes to its own customer, so Meta's pair
limit (1 per 6 s per recipient) never applies. The queue is seeded straight into PostgreSQL (as the embedded
server's superuser), then one send job is deferred for the account; rates are measured on the simulator's receive
times (`/_sim/requests`, monotonic clock), so they are what the provider would see.

Prints, for each phase, the achieved rate, the most requests in any one-second window, the seconds from the job's
defer to the last message recorded, duplicates and messages not sent; then the raw rate and the ratio."""
from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
import uuid
from typing import Any

import psycopg

from _harness import connect_whatsapp, live_server
from commsinbox.adapters.jobs.procrastinate_queue import ProcrastinateJobQueue
from commsinbox.adapters.jobs.procrastinate_schema import libpq_url
from commsinbox.adapters.postgres.schema import APP_ROLE
from commsinbox.domain.usecases.outbound import SEND_TASK

PHONE_NUMBER_ID = "106540352242931"
BATCH = 200  # as usecases.dispatch.BATCH

SEED = [
    """INSERT INTO contacts (id, team_id, display_name, phone, created_at)
       SELECT md5(%(run)s || 'c' || i)::uuid, %(team)s, 'Customer ' || i, '+5511' || lpad(i::text, 9, '0'), now()
       FROM generate_series(1, %(n)s) i""",
    """INSERT INTO communication_threads (id, team_id, account_id, contact_id, channel, external_contact_id, status,
                                          last_message_at, last_inbound_at, created_at)
       SELECT md5(%(run)s || 't' || i)::uuid, %(team)s, %(account)s, md5(%(run)s || 'c' || i)::uuid, 'whatsapp',
              '5511' || lpad(i::text, 9, '0'), 'open', now(), now(), now()
       FROM generate_series(1, %(n)s) i""",
    """INSERT INTO communication_messages (id, team_id, thread_id, account_id, direction, type, content, sent_at,
                                           status, created_at, idempotency_key, dispatch, send_after)
       SELECT md5(%(run)s || 'm' || i)::uuid, %(team)s, md5(%(run)s || 't' || i)::uuid, %(account)s, 'out', 'text',
              'Your order ' || i || ' is ready', now(), 'queued', now() + i * interval '1 microsecond',
              %(run)s || '-' || i, 'waiting', now()
       FROM generate_series(1, %(n)s) i""",
]


def seed(owner_url: str, team: str, account: str, run: str, n: int) -> None:
    with psycopg.connect(owner_url) as conn:
        for sql in SEED:
            conn.execute(sql, {"run": run, "team": team, "account": account, "n": n})


def set_cap(owner_url: str, account: str, per_second: float, burst: int) -> None:
    with psycopg.connect(owner_url) as conn:
        conn.execute("UPDATE communication_accounts SET rate_config = %s WHERE id = %s",
                     (json.dumps({"perSecond": per_second, "burst": burst}), account))


async def defer_send_job(owner_url: str, team: str, account: str) -> None:
    queue = ProcrastinateJobQueue(libpq_url(owner_url), set_role=APP_ROLE, housekeeping=False)
    await queue.open()
    try:
        await queue.defer(SEND_TASK, {"team_id": team, "account_id": account})
    finally:
        await queue.aclose()


def sent_count(owner_url: str, run: str) -> int:
    with psycopg.connect(owner_url) as conn:
        row = conn.execute("SELECT count(*) FROM communication_messages WHERE idempotency_key LIKE %s "
                           "AND dispatch = 'done'", (run + "-%",)).fetchone()
    return int(row[0]) if row else 0


def receive_times(simulator: str, run: str) -> list[tuple[str, float]]:
    with urllib.request.urlopen(f"{simulator}/_sim/requests?method=POST", timeout=60) as response:
        requests = json.loads(response.read())["requests"]
    return [(r["json"]["biz_opaque_callback_data"], r["monotonic"]) for r in requests
            if r["path"].endswith("/messages") and str((r["json"] or {}).get("biz_opaque_callback_data", ""))
            .startswith(run + "-")]


def max_in_one_second(times: list[float]) -> int:
    times, best, start = sorted(times), 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def phase(server: Any, account: str, n: int, cap: float, burst: int) -> dict[str, Any]:
    run = "bench" + uuid.uuid4().hex[:8]
    set_cap(server.owner_url, account, cap, burst)
    seed(server.owner_url, server.team_id, account, run, n)
    started = time.monotonic()
    asyncio.run(defer_send_job(server.owner_url, server.team_id, account))
    deadline = started + max(120.0, 3 * n / cap)
    while (done := sent_count(server.owner_url, run)) < n and time.monotonic() < deadline:
        time.sleep(0.2)
    recorded = time.monotonic() - started
    received = receive_times(server.simulator, run)
    keys, times = [k for k, _ in received], sorted(t for _, t in received)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return {"messages": n, "sent": done, "not_sent": n - len(set(keys)), "duplicates": len(keys) - len(set(keys)),
            "achieved_per_second": round((len(times) - 1) / span, 1) if span else None,
            "max_in_any_one_second_window": max_in_one_second(times),
            "first_request_after_defer_seconds": round(times[0] - started, 2) if times else None,
            "seconds_defer_to_last_recorded": round(recorded, 2)}


RAW_CLAIM = """UPDATE communication_messages SET dispatch = 'sending', send_after = now() + interval '2 minutes'
    WHERE team_id = %(team)s AND id IN (SELECT id FROM communication_messages WHERE team_id = %(team)s
      AND account_id = %(account)s AND dispatch = 'waiting' AND send_after <= now() ORDER BY send_after
      LIMIT %(batch)s FOR UPDATE SKIP LOCKED) RETURNING id, thread_id"""
RAW_THREADS = "SELECT * FROM communication_threads WHERE team_id = %(team)s AND id = ANY(%(threads)s)"
RAW_LIMIT = ["""INSERT INTO rate_limits AS r (key, tat) SELECT k, 'epoch' FROM unnest(%(keys)s::text[]) AS k ORDER BY k
                ON CONFLICT (key) DO UPDATE SET tat = r.tat RETURNING r.key, r.tat""",
             """UPDATE rate_limits AS r SET tat = greatest(r.tat, now()) + interval '1 microsecond'
                WHERE r.key = ANY(%(keys)s::text[])"""]
RAW_RECORD = """UPDATE communication_messages SET provider_message_id = %(wamid)s, status = 'queued', dispatch = 'done',
    send_after = NULL, send_attempts = 1, error_code = NULL, error_message = NULL, sent_at = now()
    WHERE team_id = %(team)s AND id = %(id)s"""
RAW_OUTBOX = """INSERT INTO outbox (team_id, kind, payload, occurred_at)
    VALUES (%(team)s, 'message.status_changed', '{}', now())"""


async def raw_rate(owner_url: str, team: str, account: str, n: int) -> float:
    """The send job's statements for `n` seeded messages, straight through psycopg as the application role, in
    the job's transactions per batch (claim and threads; every rate-cap token; the records, pipelined), without
    Python objects, HTTP or the worker around them."""
    run = "raw" + uuid.uuid4().hex[:8]
    await asyncio.to_thread(seed, owner_url, team, account, run, n)
    async with await psycopg.AsyncConnection.connect(owner_url) as conn:
        await conn.execute("SET ROLE " + APP_ROLE)
        await conn.commit()
        started, sent = time.perf_counter(), 0
        while sent < n:
            async with conn.transaction():
                await conn.execute("SELECT set_config('app.team_id', %s, true)", (team,))
                claimed = await (await conn.execute(RAW_CLAIM, {"team": team, "account": account,
                                                                "batch": BATCH})).fetchall()
                await conn.execute(RAW_THREADS, {"team": team, "threads": [t for _, t in claimed]})
            if not claimed:
                break
            async with conn.transaction():
                keys = [f"account:{account}", *(f"pair:{account}:{m}" for m, _ in claimed)]
                for sql in RAW_LIMIT:
                    await conn.execute(sql, {"keys": keys})
            async with conn.transaction():
                await conn.execute("SELECT set_config('app.team_id', %s, true)", (team,))
                async with conn.cursor() as cursor:
                    await cursor.executemany(RAW_RECORD, [{"team": team, "id": m, "wamid": f"wamid.{m}"}
                                                          for m, _ in claimed])
                    await cursor.executemany(RAW_OUTBOX, [{"team": team}] * len(claimed))
            sent += len(claimed)
        return sent / (time.perf_counter() - started)


def main() -> None:
    cap, burst = float(os.environ.get("BENCH_CAP", "80")), int(os.environ.get("BENCH_BURST", "1"))
    capped, uncapped = int(os.environ.get("BENCH_CAPPED", "400")), int(os.environ.get("BENCH_UNCAPPED", "3000"))
    with live_server() as server:
        account = connect_whatsapp(server, PHONE_NUMBER_ID)
        with_cap = phase(server, account, capped, cap, burst)
        before = server.cpu_seconds()
        without = phase(server, account, uncapped, 1_000_000, 10_000)
        after = server.cpu_seconds()
        raw = asyncio.run(raw_rate(server.owner_url, server.team_id, account, uncapped))
    with_cap.update(cap_per_second=cap, burst=burst, within_5_percent_of_cap=bool(
        with_cap["achieved_per_second"] and abs(with_cap["achieved_per_second"] - cap) <= 0.05 * cap),
        never_above_cap_plus_burst=with_cap["max_in_any_one_second_window"] <= cap + burst)
    without["cpu_seconds_during_run"] = {k: round(after[k] - before[k], 1) for k in after}
    achieved = without["achieved_per_second"] or 0
    print(json.dumps({"capped": with_cap, "uncapped": without, "raw_postgres_messages_per_second": round(raw),
                      "uncapped_ratio_to_raw": round(achieved / raw, 2)}, indent=2))


if __name__ == "__main__":
    main()
