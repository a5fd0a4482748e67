"""The rate limiter on both adapters: GCRA per key, all keys or none, and one allowance for concurrent senders."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator

import pytest

from commsinbox.adapters.memory.rates import MemoryRateLimiter
from commsinbox.adapters.postgres.engine import app_engine
from commsinbox.adapters.postgres.rates import PostgresRateLimiter
from commsinbox.domain.model.rates import RateCap
from commsinbox.ports.rates import RateLimiter

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
MS = dt.timedelta(milliseconds=1)


@pytest.fixture(params=["memory", "postgres"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    engine = app_engine(request.getfixturevalue("pg_owner_url"), set_role=True)
    yield PostgresRateLimiter(engine)
    await engine.dispose()


def key(name: str) -> str:
    return f"{name}:{uuid.uuid4().hex}"  # the PostgreSQL state is shared by the whole test session


async def test_a_burst_goes_at_once_then_one_per_interval(limiter: RateLimiter) -> None:
    cap, k = RateCap(10, burst=3), key("account")
    assert [await limiter.acquire([(k, cap)], T0) for _ in range(3)] == [None, None, None]
    assert await limiter.acquire([(k, cap)], T0) == T0 + 100 * MS  # the 4th waits one interval
    assert await limiter.acquire([(k, cap)], T0 + 99 * MS) == T0 + 100 * MS  # a refusal changes nothing
    assert await limiter.acquire([(k, cap)], T0 + 100 * MS) is None
    assert await limiter.acquire([(k, cap)], T0 + 150 * MS) == T0 + 200 * MS


async def test_a_refusal_by_one_key_spends_nothing_of_the_other(limiter: RateLimiter) -> None:
    account, pair = (key("account"), RateCap(10)), (key("pair"), RateCap.every(dt.timedelta(seconds=6)))
    other_pair = (key("pair"), RateCap.every(dt.timedelta(seconds=6)))
    assert await limiter.acquire([account, pair], T0) is None
    assert await limiter.acquire([account, pair], T0 + 200 * MS) == T0 + dt.timedelta(seconds=6)  # the pair refuses
    assert await limiter.acquire([account, other_pair], T0 + 200 * MS) is None  # the account's token was not spent
    assert await limiter.acquire([account, other_pair], T0 + 250 * MS) == T0 + 6200 * MS  # refused by both: the later
    assert await limiter.acquire([account, pair], T0 + dt.timedelta(seconds=6)) is None


async def test_concurrent_senders_share_one_allowance(limiter: RateLimiter) -> None:
    cap, k = RateCap(5, burst=2), key("account")
    results = await asyncio.gather(*(limiter.acquire([(k, cap)], T0) for _ in range(20)))
    assert sum(r is None for r in results) == 2  # the burst, whoever asked first
    assert {r for r in results if r is not None} == {T0 + 200 * MS}
