"""Read-only units of work: writes fail, and their statements stay prepared across transactions (each execution
still planned with its values)."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from commsinbox.adapters.postgres.engine import app_engine, as_app_role_url
from commsinbox.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from commsinbox.domain.model.ids import TeamId
from commsinbox.entrypoints.container import Services
from tests.conftest import make_team

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

COUNT = sa.text("SELECT count(*) FROM labels")
PREPARED = sa.text("SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT count(*) FROM labels'")


@pytest.fixture
async def one_connection(pg_owner_url: str) -> AsyncIterator[AsyncEngine]:
    engine = app_engine(as_app_role_url(pg_owner_url), set_role=False, pool_size=1)
    yield engine
    await engine.dispose()


async def test_a_read_only_unit_refuses_writes(pg_services: Services, one_connection: AsyncEngine) -> None:
    team = TeamId((await make_team(pg_services)).team_id)
    with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
        async with PostgresUnitOfWorkFactory(one_connection).for_team(team, read_only=True) as uow:
            await uow.conn.execute(sa.text("DELETE FROM labels"))
    async with PostgresUnitOfWorkFactory(one_connection).for_team(team) as uow:  # the next one may write again
        await uow.conn.execute(sa.text("DELETE FROM labels"))


@pytest.mark.parametrize("read_only", [True, False])
async def test_statements_stay_prepared_only_across_read_only_units(
        pg_services: Services, one_connection: AsyncEngine, read_only: bool) -> None:
    team = TeamId((await make_team(pg_services)).team_id)
    for _ in range(7):  # psycopg prepares a statement at its fifth execution
        async with PostgresUnitOfWorkFactory(one_connection).for_team(team, read_only=read_only) as uow:
            await uow.conn.execute(COUNT)
    async with PostgresUnitOfWorkFactory(one_connection).for_team(team, read_only=True) as uow:
        prepared = (await uow.conn.execute(PREPARED)).scalar_one()
        plans = (await uow.conn.execute(sa.text("SHOW plan_cache_mode"))).scalar_one()
    assert prepared == (1 if read_only else 0)  # a ROLLBACK makes psycopg forget them
    assert plans == "force_custom_plan"  # … planned with their values all the same
