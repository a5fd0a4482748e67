"""Living documentation of rate caps: features/rate_caps.feature. The driver is the send-job contract tests' world
(tests/contracts/test_send_jobs.py): a still clock, recorded job deferrals, the memory provider."""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from commsinbox.adapters.memory.providers import MemoryProviderRegistry
from commsinbox.domain.model.errors import InvalidInput
from commsinbox.domain.model.threads import Dispatch, Message
from commsinbox.entrypoints.container import memory_services, postgres_services
from tests.bdd.conftest import Run
from tests.conftest import FAST_HASHER, settings_for
from tests.contracts.test_send_jobs import World, world_of

scenarios("rate_caps.feature")


@pytest.fixture
def world(request: pytest.FixtureRequest, run: Run[Any], tmp_path: Path) -> Iterator[World]:
    providers = MemoryProviderRegistry()
    if request.config.getoption("--backend") == "memory":
        yield world_of(memory_services(hasher=FAST_HASHER, providers=providers), providers)
        return
    owner = request.getfixturevalue("pg_owner_url")
    stack = contextlib.AsyncExitStack()
    services = run(stack.enter_async_context(postgres_services(
        settings_for(tmp_path, owner), owner=owner, migrate_first=False, hasher=FAST_HASHER, providers=providers)))
    try:
        yield world_of(services, providers)
    finally:
        run(stack.aclose())


@pytest.fixture
def sent() -> dict[str, Any]:
    return {"messages": [], "refusal": None}


def customer(n: int) -> str:
    return f"55119{n:08d}"


## Given

@given("a WhatsApp Cloud account whose customers wrote in the last minutes")
def _account(run: Run[Any], world: World) -> None:
    run(world.thread(customer(0)))


@given(parsers.parse("the account's cap is {per_second:d} messages per second with a burst of {burst:d}"))
def _cap(run: Run[Any], world: World, per_second: int, burst: int) -> None:
    assert world.owner is not None
    run(world.services.connections.set_rate_cap(world.owner.actor, world.account_id, per_second, burst))


## When

@when(parsers.parse("the business replies to {count:d} different customers at the same instant"))
def _replies(run: Run[Any], world: World, sent: dict[str, Any], count: int) -> None:
    threads = [run(world.thread(customer(n))) for n in range(1, count + 1)]
    sent["messages"] = [run(world.send(thread, f"reply-{n}")) for n, thread in enumerate(threads, 1)]


@when(parsers.parse("the business sends {count:d} replies to one customer and 1 to another"))
def _flood(run: Run[Any], world: World, sent: dict[str, Any], count: int) -> None:
    run(world.set_rate(1000, burst=100))  # the account's own cap out of the way
    busy, other = run(world.thread(customer(1))), run(world.thread(customer(2)))
    sent["messages"] = [run(world.send(busy, f"flood-{n}")) for n in range(1, count + 1)]
    sent["other"] = run(world.send(other, "other-1"))


@when("the send job runs")
def _job(run: Run[Any], world: World, sent: dict[str, Any]) -> None:
    sent["ran_at"] = world.clock.now()
    run(world.run())


@when(parsers.parse("the send job runs every time the cap allows, {times:d} times"))
def _job_again(run: Run[Any], world: World, sent: dict[str, Any], times: int) -> None:
    for _ in range(times):
        waiting = [m for m in states(run, world, sent) if m.dispatch is Dispatch.WAITING]
        world.clock.current = min(m.send_after for m in waiting if m.send_after is not None)
        run(world.run())


@when(parsers.parse("the owner sets the account's cap to {per_second:d} messages per second"))
def _bad_cap(run: Run[Any], world: World, sent: dict[str, Any], per_second: int) -> None:
    assert world.owner is not None
    try:
        run(world.services.connections.set_rate_cap(world.owner.actor, world.account_id, per_second, 1))
    except InvalidInput as error:
        sent["refusal"] = error


## Then

def states(run: Run[Any], world: World, sent: dict[str, Any]) -> list[Message]:
    return [run(world.message(m.id)) for m in sent["messages"]]


@then(parsers.re(r"(?P<count>\d+) repl(y|ies) (has|have) gone to the provider(?P<ordered>, in the order they were "
                 r"written)?"))
def _gone(world: World, sent: dict[str, Any], count: str, ordered: str | None) -> None:
    assert len(world.gateway.sent) == int(count)
    if ordered:
        keys = [m.idempotency_key for m in sent["messages"]]
        assert [s.message.idempotency_key for s in world.gateway.sent] == keys


@then(parsers.re(r"(?P<count>\d+) repl(y|ies) waits?, none failed"))
def _wait(run: Run[Any], world: World, sent: dict[str, Any], count: str) -> None:
    stored = states(run, world, sent)
    assert sum(m.dispatch is Dispatch.WAITING for m in stored) == int(count)
    assert all(m.error_code is None and m.status.value == "queued" for m in stored)


@then(parsers.parse("the 11th reply to the first customer waits {seconds:d} seconds"))
def _pair_wait(run: Run[Any], world: World, sent: dict[str, Any], seconds: int) -> None:
    eleventh = run(world.message(sent["messages"][10].id))
    assert eleventh.dispatch is Dispatch.WAITING
    assert eleventh.send_after == sent["ran_at"] + dt.timedelta(seconds=seconds)
    assert run(world.message(sent["other"].id)).dispatch is Dispatch.DONE


@then(parsers.parse('the cap is refused naming "{field}"'))
def _refused(sent: dict[str, Any], field: str) -> None:
    error = sent["refusal"]
    assert isinstance(error, InvalidInput), "the cap was accepted"
    assert [f.path for f in error.fields] == [field]
