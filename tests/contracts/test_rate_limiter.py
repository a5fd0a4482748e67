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


async def until(limiter: RateLimiter, keys: list[tuple[str, RateCap]], at: dt.datetime) -> dt.datetime | None:
    """None when allowed, else when the same send would be."""
    refused = await limiter.acquire(keys, at)
    return None if refused is None else refused.retry_at


async def test_a_burst_goes_at_once_then_one_per_interval(limiter: RateLimiter) -> None:
    keys = [(key("account"), RateCap(10, burst=3))]
    assert [await until(limiter, keys, T0) for _ in range(3)] == [None, None, None]
    assert await until(limiter, keys, T0) == T0 + 100 * MS  # the 4th waits one interval
    assert await until(limiter, keys, T0 + 99 * MS) == T0 + 100 * MS  # a refusal changes nothing
    assert await until(limiter, keys, T0 + 100 * MS) is None
    assert await until(limiter, keys, T0 + 150 * MS) == T0 + 200 * MS


async def test_a_refusal_by_one_key_spends_nothing_of_the_other(limiter: RateLimiter) -> None:
    account, pair = (key("account"), RateCap(10)), (key("pair"), RateCap.every(dt.timedelta(seconds=6)))
    other_pair = (key("pair"), RateCap.every(dt.timedelta(seconds=6)))
    assert await limiter.acquire([account, pair], T0) is None
    refused = await limiter.acquire([account, pair], T0 + 200 * MS)
    assert refused is not None and (refused.retry_at, dict(refused.keys)) == (T0 + 6000 * MS, {pair[0]: T0 + 6000 * MS})
    assert await limiter.acquire([account, other_pair], T0 + 200 * MS) is None  # the account's token was not spent
    refused = await limiter.acquire([account, other_pair], T0 + 250 * MS)  # both refuse: the later instant counts
    assert refused is not None and dict(refused.keys) == {account[0]: T0 + 300 * MS, other_pair[0]: T0 + 6200 * MS}
    assert refused.retry_at == T0 + 6200 * MS
    assert await limiter.acquire([account, pair], T0 + 6000 * MS) is None


async def test_concurrent_senders_share_one_allowance(limiter: RateLimiter) -> None:
    keys = [(key("account"), RateCap(5, burst=2))]
    results = await asyncio.gather(*(until(limiter, keys, T0) for _ in range(20)))
    assert results.count(None) == 2  # the burst, whoever asked first
    assert set(results) - {None} == {T0 + 200 * MS}


async def test_a_batch_takes_tokens_in_order_each_send_seeing_the_earlier_ones(limiter: RateLimiter) -> None:
    account, pair = (key("account"), RateCap(10, burst=2)), (key("pair"), RateCap.every(dt.timedelta(seconds=6)))
    other = (key("pair"), RateCap.every(dt.timedelta(seconds=6)))
    results = await limiter.acquire_many([[account, pair], [account, pair], [account, other], [account, other]], T0)
    assert results[0] is None and results[2] is None  # the pair refuses the 2nd; the 3rd takes the burst's second
    assert results[1] is not None and dict(results[1].keys) == {pair[0]: T0 + 6000 * MS}
    assert results[3] is not None and results[3].retry_at == T0 + 6000 * MS  # both the account and its pair refuse
    assert await until(limiter, [account], T0 + 100 * MS) is None  # refusals spent nothing
