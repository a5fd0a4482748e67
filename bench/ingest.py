"""Inbound ingestion throughput: signed WhatsApp Cloud webhooks over HTTP against `commsinbox serve` on
PostgreSQL, at a chosen concurrency, then the raw PostgreSQL rate of the same SQL in the same run.

    .venv/bin/python bench/ingest.py --messages 20000 --batch 10 --concurrency 16

Prints messages/s, request latency percentiles, duplicates and lost events, the raw rate and the ratio."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid

import aiohttp
import psycopg

from _harness import META_APP_SECRET, connect_whatsapp, live_server, percentiles
from commsinbox.adapters.providers.meta_signature import sign

PHONE_NUMBER_ID = "106540352242922"


def webhook(batch: list[tuple[str, str]]) -> bytes:
    """One WhatsApp Cloud webhook carrying (wamid, wa_id) messages, as Meta batches them."""
    messages = [{"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), "type": "text",
                 "text": {"body": f"hello from {wa_id}"}} for wamid, wa_id in batch]
    contacts = [{"profile": {"name": f"Customer {wa_id[-4:]}"}, "wa_id": wa_id} for _, wa_id in batch]
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {
            "display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": contacts, "messages": messages}}]}]}).encode()


async def drive(url: str, bodies: list[bytes], concurrency: int) -> tuple[float, list[float], dict[int, int]]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            async with session.post(f"{url}/webhooks/meta/whatsapp", data=body, headers={
                    "Content-Type": "application/json", "X-Hub-Signature-256": sign(body, META_APP_SECRET)}) as r:
                await r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, statuses


RAW_SQL = [  # per message, what ingestion writes: the equivalent SQL without the application around it
    ("SELECT set_config('app.team_id', %(team)s, true)", False),
    ("INSERT INTO contacts (id, team_id, display_name, phone, created_at) VALUES (%(contact)s, %(team)s, 'x', "
     "%(phone)s, now())", False),
    ("INSERT INTO contact_identities (team_id, kind, value, contact_id) VALUES (%(team)s, 'wa_id', %(wa)s, "
     "%(contact)s) ON CONFLICT DO NOTHING", False),
    ("INSERT INTO communication_threads (id, team_id, account_id, contact_id, channel, external_contact_id, status, "
     "last_message_at, created_at) VALUES (%(thread)s, %(team)s, %(account)s, %(contact)s, 'whatsapp', %(wa)s, "
     "'open', now(), now())", False),
    ("INSERT INTO communication_messages (id, team_id, thread_id, account_id, provider_message_id, direction, type, "
     "content, sent_at, status, created_at) VALUES (%(message)s, %(team)s, %(thread)s, %(account)s, %(wamid)s, "
     "'in', 'text', 'hello', now(), 'delivered', now()) ON CONFLICT DO NOTHING", False),
    ("INSERT INTO outbox (team_id, kind, payload, occurred_at) VALUES (%(team)s, 'message.received', '{}', now())",
     False),
]


async def raw_rate(owner_url: str, team: str, account: str, count: int, concurrency: int) -> float:
    """The same inserts, straight through psycopg as the application role, one transaction per message."""
    async def worker(n: int) -> None:
        async with await psycopg.AsyncConnection.connect(owner_url) as conn:
            await conn.execute("SET ROLE commsinbox_app")
            await conn.commit()
            for _ in range(n):
                ids = {"team": team, "account": account, "contact": str(uuid.uuid4()), "thread": str(uuid.uuid4()),
                       "message": str(uuid.uuid4()), "wa": uuid.uuid4().hex[:12], "phone": "+1555",
                       "wamid": "raw." + uuid.uuid4().hex}
                async with conn.transaction():
                    for sql, _ in RAW_SQL:
                        await conn.execute(sql, ids)

    started = time.perf_counter()
    await asyncio.gather(*(worker(count // concurrency) for _ in range(concurrency)))
    return (count // concurrency * concurrency) / (time.perf_counter() - started)


async def count_messages(owner_url: str, account: str) -> tuple[int, int]:
    async with await psycopg.AsyncConnection.connect(owner_url) as conn:
        total, distinct = await (await conn.execute(
            "SELECT count(*), count(DISTINCT provider_message_id) FROM communication_messages "
            "WHERE account_id = %s AND provider_message_id LIKE 'wamid.bench.%%'", (account,))).fetchone()
        return total, distinct


async def table_stats(owner_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(owner_url) as conn:
        rows = await (await conn.execute(
            "SELECT relname, seq_scan, seq_tup_read, idx_scan, n_tup_ins, n_tup_upd FROM pg_stat_user_tables "
            "ORDER BY seq_tup_read DESC LIMIT 12")).fetchall()
    for row in rows:
        print(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=10, help="messages per webhook (Meta batches)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--duplicates", type=float, default=0.1, help="share of webhooks delivered twice")
    args = parser.parse_args()
    with live_server() as server:
        account = connect_whatsapp(server, PHONE_NUMBER_ID)
        messages = [(f"wamid.bench.{uuid.uuid4().hex}", f"1555{i % args.contacts:07d}") for i in range(args.messages)]
        bodies = [webhook(messages[i:i + args.batch]) for i in range(0, len(messages), args.batch)]
        replays = bodies[: int(len(bodies) * args.duplicates)]
        before = server.cpu_seconds()
        elapsed, latencies, statuses = asyncio.run(drive(server.url, bodies + replays, args.concurrency))
        after = server.cpu_seconds()
        total, distinct = asyncio.run(count_messages(server.owner_url, account))
        if os.environ.get("BENCH_TABLE_STATS"):
            asyncio.run(table_stats(server.owner_url))
        app_rate = args.messages / elapsed
        raw = asyncio.run(raw_rate(server.owner_url, server.team_id, account, min(args.messages, 20000),
                                   args.concurrency))
    figures = {
        "messages": args.messages, "batch": args.batch, "concurrency": args.concurrency,
        "webhooks": len(bodies), "replayed_webhooks": len(replays), "http_statuses": statuses,
        "seconds": round(elapsed, 2), "messages_per_second": round(app_rate),
        "request_latency_ms": {k: round(v, 1) for k, v in percentiles(latencies).items()},
        "stored": total, "duplicates": total - distinct, "lost": args.messages - distinct,
        "cpu_seconds_during_run": {k: round(after[k] - before[k], 1) for k in after},
        "raw_postgres_messages_per_second": round(raw), "ratio_to_raw": round(app_rate / raw, 2),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
