"""Inbox read latency: seeds teams, contacts, threads, messages, labels and links straight into PostgreSQL, then
measures `communications.threads.list` over HTTP against `commsinbox serve` (first page, a deep page, filtered
lists, search) and, in the same run, the SQL the adapter runs for each of them sent straight through psycopg.

    .venv/bin/python bench/inbox.py
    BENCH_THREADS=10000 BENCH_MESSAGES=100000 .venv/bin/python bench/inbox.py   # a quick run

Sizes come from BENCH_THREADS (100,000), BENCH_MESSAGES (1,000,000), BENCH_TEAMS (50), BENCH_TEAM_SHARE (0.2:
the measured team's share of the threads; the other teams split the rest evenly), BENCH_SAMPLES (200 requests
per query, fewer for a query that would take more than 30 s) and BENCH_DEEP_PAGE (20).

Prints EXPLAIN (ANALYZE, BUFFERS) and the generic plan of every statement of every query, flagging sequential scans
on the large tables (in either plan),
then p50/p95/p99 per query over HTTP, the same for the raw SQL, and the ratio of the raw p50 to the API's. The seed
runs as the embedded server's superuser, which row-level security does not restrict."""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import attrs
import psycopg
import sqlalchemy as sa

from _harness import live_server, percentiles
from commsinbox.adapters.postgres.engine import app_engine
from commsinbox.adapters.postgres.schema import APP_ROLE
from commsinbox.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from commsinbox.domain.model.paging import PageRequest
from commsinbox.entrypoints.web.routers.inbox import ThreadListInput, _filter

LIST_TARGET_MS, SEARCH_TARGET_MS = 10, 50
MIN_SAMPLES, SECONDS_PER_QUERY = 20, 30  # slow queries get fewer samples, so a full run stays practical
LARGE_TABLES = ("communication_threads", "communication_messages", "contacts", "thread_labels", "thread_links",
                "contact_search_terms", "message_search_terms")
AGENTS_PER_TEAM = 5
LABELS = ["Follow-up", "VIP", "Wholesale", "Returns", "Urgent", "New lead", "Complaint", "Escalated"]  # most used first
FIRST_NAMES = ("Ana Maria João José Pedro Lucas Mariana Juliana Gabriel Rafael Fernanda Camila Bruno Carlos Paulo "
               "Beatriz Larissa Thiago Felipe Amanda Rodrigo Patrícia Letícia Diego Vanessa Marcos Aline Gustavo "
               "Renata Eduardo").split()
LAST_NAMES = ("Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro Martins "
              "Carvalho Almeida Lopes Soares Fernandes Vieira Barbosa Rocha Dias Nascimento Andrade Moreira Nunes "
              "Marques Machado Mendes Freitas").split()
WORDS = ("hi hello thanks please ok yes no order price today tomorrow available size color delivery payment "  # common
         "address shipping when how much can you send photo stock store open pickup week morning afternoon "
         "card pix cash discount catalog new model black white blue red green small medium large dress shirt "
         "shoes bag ring necklace gift box wrapped track tracking code invoice receipt paid received arrived "
         "refund exchange return late early cancel confirm wrong missing damaged broken quality cotton leather "
         "gold silver coupon promo sale brand sizes fits tight loose monday friday saturday weekend holiday "
         "birthday wedding urgent problem complaint manager warranty repair replacement voucher installment "
         "wholesale reseller bulk supplier").split()  # rarer towards the end

SEED = [
    "SELECT setseed(0.42)",
    """CREATE TEMP TABLE seed_teams ON COMMIT DROP AS
       SELECT k, CASE WHEN k = 0 THEN %(team)s::uuid ELSE md5('team' || k)::uuid END AS id,
              md5('whatsapp' || k)::uuid AS whatsapp_account, md5('instagram' || k)::uuid AS instagram_account
       FROM generate_series(0, %(teams)s - 1) k""",
    """INSERT INTO teams (id, name, base_currency, timezone, plan, created_at, version)
       SELECT id, 'Team ' || k, 'USD', 'UTC', 'free', now(), 1 FROM seed_teams WHERE k > 0""",
    """INSERT INTO users (id, email, full_name, created_at)
       SELECT md5('user' || k || '.' || a)::uuid, 'agent' || a || '@team' || k || '.bench', 'Agent ' || a, now()
       FROM seed_teams, generate_series(0, %(agents)s - 1) a""",
    """INSERT INTO team_memberships (team_id, user_id, role, created_at)
       SELECT id, md5('user' || k || '.' || a)::uuid, 'agent', now()
       FROM seed_teams, generate_series(0, %(agents)s - 1) a""",
    """INSERT INTO communication_accounts (id, team_id, provider, external_id, display_name, status, created_at)
       SELECT whatsapp_account, id, 'whatsapp-meta', '1065' || lpad(k::text, 11, '0'), 'WhatsApp', 'active', now()
       FROM seed_teams
       UNION ALL
       SELECT instagram_account, id, 'instagram-meta', '1784' || lpad(k::text, 11, '0'), 'Instagram', 'active',
              now() FROM seed_teams""",
    """INSERT INTO labels (id, team_id, name, created_at)
       SELECT md5('label' || k || '.' || l)::uuid, id, (%(labels)s::text[])[l + 1], now()
       FROM seed_teams, generate_series(0, cardinality(%(labels)s::text[]) - 1) l""",
    # one row per thread, with its contact; the measured team (k = 0) holds the first `own` threads
    """CREATE TEMP TABLE seed_threads ON COMMIT DROP AS
       SELECT n, t.k, t.id AS team_id, md5('thread' || n)::uuid AS id, md5('contact' || n)::uuid AS contact_id,
              CASE WHEN n %% 10 = 0 THEN 'instagram' ELSE 'whatsapp' END AS channel,
              CASE WHEN n %% 10 = 0 THEN t.instagram_account ELSE t.whatsapp_account END AS account_id,
              (%(first)s::text[])[1 + floor(random() * cardinality(%(first)s::text[]))::int] || ' ' ||
              (%(last)s::text[])[1 + floor(random() * cardinality(%(last)s::text[]))::int] AS display_name,
              '55' || (11 + n %% 89) || '9' || lpad(n::text, 8, '0') AS wa_id,
              now() - random() * interval '90 days' AS last_message_at, random() AS r,
              CASE WHEN n %% 10 < 7 THEN md5('user' || t.k || '.' || (n / 10) %% %(agents)s)::uuid END AS assignee_id,
              CASE WHEN (n / 7) %% 10 < 3 THEN 1 + n %% 4 ELSE 0 END AS unread_count,
              %(messages)s / %(threads)s + (n <= %(messages)s %% %(threads)s)::int AS message_count
       FROM generate_series(1, %(threads)s) n
       JOIN seed_teams t ON t.k = CASE WHEN n <= %(own)s THEN 0 ELSE 1 + n %% greatest(%(teams)s - 1, 1) END""",
    # every tenth customer is also one of the team's clients, and their thread is linked to that client
    """INSERT INTO clients (id, team_id, name, phone, created_at)
       SELECT md5('client' || n)::uuid, team_id, display_name, '+' || wa_id, now() FROM seed_threads
       WHERE n %% 10 = 5""",
    """INSERT INTO contacts (id, team_id, display_name, phone, client_id, created_at)
       SELECT contact_id, team_id, display_name, CASE WHEN channel = 'whatsapp' THEN '+' || wa_id END,
              CASE WHEN n %% 10 = 5 THEN md5('client' || n)::uuid END, last_message_at - interval '1 day'
       FROM seed_threads""",
    """INSERT INTO contact_identities (team_id, kind, value, contact_id)
       SELECT team_id, CASE WHEN channel = 'whatsapp' THEN 'wa_id' ELSE 'igsid' END, wa_id, contact_id
       FROM seed_threads""",
    """INSERT INTO communication_threads (id, team_id, account_id, contact_id, channel, external_contact_id, status,
                                         last_message_at, last_inbound_at, created_at, assignee_id, snoozed_until,
                                         unread_count)
       SELECT id, team_id, account_id, contact_id, channel, wa_id,
              CASE WHEN r < 0.55 THEN 'open' WHEN r < 0.65 THEN 'pending' WHEN r < 0.7 THEN 'snoozed'
                   ELSE 'resolved' END,
              last_message_at, last_message_at, last_message_at - interval '1 day', assignee_id,
              CASE WHEN r >= 0.65 AND r < 0.7 THEN now() + (r - 0.675) * interval '40 days' END, unread_count
       FROM seed_threads""",
    # words drawn with a skew (random()^2), so early WORDS are common and late ones rare; every tenth an order number
    """INSERT INTO communication_messages (id, team_id, thread_id, account_id, provider_message_id, direction, type,
                                          content, sent_at, status, created_at)
       SELECT gen_random_uuid(), s.team_id, s.id, s.account_id, 'seed.' || s.n || '.' || j,
              CASE WHEN j %% 2 = 0 THEN 'in' ELSE 'out' END, 'text',
              concat_ws(' ', w[1 + floor(nw * random() ^ 2)::int], w[1 + floor(nw * random() ^ 2)::int],
                        w[1 + floor(nw * random() ^ 2)::int], w[1 + floor(nw * random() ^ 2)::int],
                        w[1 + floor(nw * random() ^ 2)::int], w[1 + floor(nw * random() ^ 2)::int],
                        CASE WHEN random() < 0.1 THEN 'order ' || (100000 + floor(random() * 900000)::int) END),
              s.last_message_at - j * interval '17 minutes', CASE WHEN j %% 2 = 0 THEN 'delivered' ELSE 'read' END,
              s.last_message_at - j * interval '17 minutes'
       FROM seed_threads s CROSS JOIN LATERAL generate_series(0, s.message_count - 1) j,
            (SELECT %(words)s::text[] AS w, cardinality(%(words)s::text[]) AS nw) v""",
    # label l on a thread with chance 0.3 / (l + 1), from 30 % (Follow-up) down to 3.7 % (Escalated); a hash
    # of thread and label draws it, as random() here would be drawn once per label
    """INSERT INTO thread_labels (team_id, thread_id, label_id)
       SELECT team_id, id, md5('label' || k || '.' || l)::uuid
       FROM seed_threads, generate_series(0, cardinality(%(labels)s::text[]) - 1) l
       WHERE abs(hashtext(id || '.' || l)) %% 1000 < 300 / (l + 1)""",
    """INSERT INTO thread_links (team_id, thread_id, record_type, record_id)
       SELECT team_id, id, 'client', md5('client' || n)::uuid FROM seed_threads WHERE n %% 10 = 5""",
]


@attrs.frozen
class Sizes:
    threads: int
    messages: int
    teams: int
    team_share: float
    samples: int
    deep_page: int

    @classmethod
    def from_env(cls) -> Sizes:
        env = os.environ.get
        return cls(int(env("BENCH_THREADS", "100000")), int(env("BENCH_MESSAGES", "1000000")),
                   int(env("BENCH_TEAMS", "50")), float(env("BENCH_TEAM_SHARE", "0.2")),
                   int(env("BENCH_SAMPLES", "200")), int(env("BENCH_DEEP_PAGE", "20")))

    def own_threads(self) -> int:
        return self.threads if self.teams == 1 else round(self.threads * self.team_share)


@attrs.frozen
class Probe:
    name: str
    wire: dict[str, Any]  # the tRPC input of communications.threads.list
    target_ms: int


def seeded_id(key: str) -> str:
    """The id the seed gives `key` (md5('label0.7')::uuid in SQL)."""
    return str(uuid.UUID(hashlib.md5(key.encode()).hexdigest()))


async def seed(owner_url: str, team: str, sizes: Sizes) -> float:
    params = {"team": team, "teams": sizes.teams, "threads": sizes.threads, "messages": sizes.messages,
              "own": sizes.own_threads(), "agents": AGENTS_PER_TEAM, "labels": LABELS, "first": FIRST_NAMES,
              "last": LAST_NAMES, "words": WORDS}
    started = time.perf_counter()
    async with await psycopg.AsyncConnection.connect(owner_url) as conn:
        await conn.execute("SET maintenance_work_mem = '256MB'")
        for statement in SEED:
            await conn.execute(statement, params)
        await conn.commit()
    async with await psycopg.AsyncConnection.connect(owner_url, autocommit=True) as conn:
        await conn.execute("VACUUM (ANALYZE)")  # statistics, the visibility map and the GIN pending list
    return time.perf_counter() - started


async def owner_of(owner_url: str, team: str) -> str:
    async with await psycopg.AsyncConnection.connect(owner_url) as conn:
        row = await (await conn.execute("SELECT user_id FROM team_memberships WHERE team_id = %s AND role = 'owner'",
                                        (team,))).fetchone()
    return str(row[0])


async def phone_of_a_customer(owner_url: str, team: str) -> str:
    """The phone of a customer far down the list, written as an agent would type it."""
    async with await psycopg.AsyncConnection.connect(owner_url) as conn:
        row = await (await conn.execute(
            "SELECT phone FROM contacts WHERE team_id = %s AND phone IS NOT NULL ORDER BY created_at LIMIT 1",
            (team,))).fetchone()
    phone = row[0]
    return f"{phone[3:5]} {phone[5:10]}-{phone[10:]}"


async def list_threads(session: aiohttp.ClientSession, url: str, wire: dict[str, Any]) -> dict[str, Any]:
    params = {"input": json.dumps({"json": wire})}
    async with session.get(f"{url}/trpc/communications.threads.list", params=params) as response:
        response.raise_for_status()
        return (await response.json())["result"]["data"]["json"]


async def deep_cursor(session: aiohttp.ClientSession, url: str, page: int) -> str:
    """The cursor of the `page`-th page of the unfiltered list, following nextCursor from the first page."""
    wire: dict[str, Any] = {}
    for _ in range(page - 1):
        wire = {"cursor": (await list_threads(session, url, wire))["nextCursor"]}
    return wire["cursor"]


async def probes(session: aiohttp.ClientSession, url: str, owner_url: str, team: str, sizes: Sizes) -> list[Probe]:
    return [
        Probe("list, first page", {}, LIST_TARGET_MS),
        Probe(f"list, page {sizes.deep_page}", {"cursor": await deep_cursor(session, url, sizes.deep_page)},
              LIST_TARGET_MS),
        Probe("filter: open + label Escalated", {"status": "open", "labelIds": [seeded_id("label0.7")]},
              LIST_TARGET_MS),
        Probe("filter: open + assignee + unread", {"status": "open", "assigneeId": seeded_id("user0.0"),
                                                   "unread": True}, LIST_TARGET_MS),
        Probe("search: name fragment", {"query": "Carvalh"}, SEARCH_TARGET_MS),
        Probe("search: phone digits", {"query": await phone_of_a_customer(owner_url, team)}, SEARCH_TARGET_MS),
        Probe("search: message words", {"query": "refund damaged"}, SEARCH_TARGET_MS),
    ]


async def sampled(call: Callable[[], Awaitable[Any]], samples: int) -> list[float]:
    """Latencies (ms) of `samples` calls after a tenth as many to warm up; fewer, but at least MIN_SAMPLES, when
    the calls would take more than SECONDS_PER_QUERY."""
    for _ in range(samples // 10):
        await call()
    latencies: list[float] = []
    deadline = time.perf_counter() + SECONDS_PER_QUERY
    while len(latencies) < samples and (len(latencies) < MIN_SAMPLES or time.perf_counter() < deadline):
        started = time.perf_counter()
        await call()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def adapter_sql(owner_url: str, team: str, user: str, wire: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every statement the PostgreSQL adapter sends for this input (the router's own input conversion), as
    psycopg receives it: the transaction's set_config first, then the list query and its label and link reads."""
    engine = app_engine(owner_url, set_role=True, pool_size=1)
    statements: list[tuple[str, Any]] = []
    sa.event.listen(engine.sync_engine, "before_cursor_execute",
                    lambda _conn, _cursor, sql, params, _context, _many: statements.append((sql, params)))
    request = ThreadListInput(**wire)
    async with PostgresUnitOfWorkFactory(engine).for_team(team, user, read_only=True) as uow:  # as InboxService.list
        await uow.inbox.list(_filter(request), dt.datetime.now(dt.UTC), PageRequest.of(request.cursor, request.limit))
    await engine.dispose()
    return statements


async def app_role_connection(owner_url: str) -> psycopg.AsyncConnection[Any]:
    conn = await psycopg.AsyncConnection.connect(owner_url)
    await conn.execute(f"SET ROLE {APP_ROLE}")
    await conn.execute("SET jit = off")  # as the application's engine does
    await conn.commit()
    return conn


async def raw_latencies(owner_url: str, statements: list[tuple[str, Any]], samples: int) -> list[float]:
    """The same statements in one transaction each, straight through psycopg as the application role, as the unit of
    work runs a read: READ ONLY, ended by COMMIT (so psycopg prepares the statements from their fifth execution)."""
    async with await app_role_connection(owner_url) as conn:
        await conn.set_read_only(True)

        async def transaction() -> None:
            async with conn.transaction():
                for sql, params in statements:
                    await (await conn.execute(sql, params)).fetchall()

        return await sampled(transaction, samples)


async def plans(owner_url: str, statements: list[tuple[str, Any]]) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement after the scope, planned with its values as the application plans
    every execution (its read-only units keep statements prepared but set plan_cache_mode = force_custom_plan), then
    the generic plan (EXPLAIN (GENERIC_PLAN), PostgreSQL 16) PostgreSQL would otherwise switch to: one made for an
    average team."""
    scope, *queries = statements
    found = []
    async with await app_role_connection(owner_url) as conn, conn.transaction(force_rollback=True):
        await conn.execute(*scope)
        for sql, params in queries:
            rows = await (await conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)).fetchall()
            generic = await (await conn.execute("EXPLAIN (GENERIC_PLAN) " + numbered(sql))).fetchall()
            found.append("\n".join(row[0] for row in rows) + "\n--- generic plan:\n" +
                         "\n".join(row[0] for row in generic))
    return found


def numbered(sql: str) -> str:
    """psycopg's %(name)s placeholders as $1, $2 … (one number per name), for EXPLAIN (GENERIC_PLAN)."""
    names: dict[str, int] = {}
    return re.sub(r"%\((\w+)\)s", lambda m: f"${names.setdefault(m.group(1), len(names) + 1)}", sql)


def shortened(text: str, width: int = 200) -> str:
    """SQL and plans with their 50-id IN lists cut short."""
    text = re.sub(r"(%\(\w+_1\)s::UUID)(, %\(\w+\)s::UUID)+", r"\1, …", text)
    return "\n".join(line if len(line) <= width else line[:width] + "…" for line in text.splitlines())


def seq_scans(plan: str) -> list[str]:
    return [table for table in re.findall(r"Seq Scan on (\w+)", plan) if table in LARGE_TABLES]


def summary(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), **{k: round(v, 2) for k, v in percentiles(ms).items() if k != "max"}}


def print_plans(probe: Probe, statements: list[tuple[str, Any]], explained: list[str]) -> None:
    print(f"\n=== {probe.name}: {json.dumps(probe.wire)}")
    for (sql, _), plan in zip(statements[1:], explained):
        print(f"\n{shortened(sql)}\n{shortened(plan)}")


async def measure(session: aiohttp.ClientSession, url: str, owner_url: str, team: str, user: str, probe: Probe,
                  samples: int) -> dict[str, Any]:
    api = await sampled(lambda: list_threads(session, url, probe.wire), samples)
    statements = await adapter_sql(owner_url, team, user, probe.wire)
    raw = await raw_latencies(owner_url, statements, samples)
    explained = await plans(owner_url, statements)
    print_plans(probe, statements, explained)
    api_ms, raw_ms = summary(api), summary(raw)
    return {"api_ms": api_ms, "raw_sql_ms": raw_ms, "ratio": round(raw_ms["p50"] / api_ms["p50"], 2),
            "target_p95_ms": probe.target_ms, "p95_within_target": api_ms["p95"] <= probe.target_ms,
            "seq_scans": sorted({table for plan in explained for table in seq_scans(plan)})}


async def run(url: str, owner_url: str, token: str, team: str, sizes: Sizes) -> dict[str, Any]:
    seconds = await seed(owner_url, team, sizes)
    user = await owner_of(owner_url, team)
    headers = {"Authorization": f"Bearer {token}", "x-team-id": team}
    async with aiohttp.ClientSession(headers=headers) as session:
        results = {probe.name: await measure(session, url, owner_url, team, user, probe, sizes.samples)
                   for probe in await probes(session, url, owner_url, team, sizes)}
    return {"sizes": attrs.asdict(sizes), "measured_team_threads": sizes.own_threads(),
            "seed_seconds": round(seconds, 1), "queries": results}


def main() -> None:
    sizes = Sizes.from_env()
    with live_server() as server:
        figures = asyncio.run(run(server.url, server.owner_url, server.token, server.team_id, sizes))
    print("\n" + json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
