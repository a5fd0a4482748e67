"""The search-term tables follow the rows they index (triggers of migration 0009), as the application role."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from commsinbox.domain.model.labels import ThreadFilter
from commsinbox.entrypoints.container import Services
from tests.conftest import make_team
from tests.contracts.test_inbox import threads_of
from tests.contracts.test_ingest import connect, text

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


async def test_terms_follow_a_changed_name_phone_and_text_and_go_with_deleted_rows(pg_services: Services) -> None:
    member = await make_team(pg_services)
    key = await connect(pg_services, member)
    await pg_services.ingest.ingest([text(key, wa_id="5511912340001", phone="+5511912340001", body="blue dress")])

    async def found(query: str) -> int:
        return len(await threads_of(pg_services, member, ThreadFilter(query=query)))

    async def terms() -> list[int]:
        async with pg_services.uows.for_team(member.team_id) as uow:
            return [(await uow.conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one()
                    for table in ("contact_search_terms", "message_search_terms")]

    assert (await found("ana"), await found("40001"), await found("dress")) == (1, 1, 1)
    assert all(await terms())
    async with pg_services.uows.for_team(member.team_id) as uow:  # as the application role, under RLS
        await uow.conn.execute(sa.text(
            "UPDATE contacts SET display_name = 'Bruna', phone = '+5521900007777'"))
        await uow.conn.execute(sa.text("UPDATE communication_messages SET content = 'red shoes'"))
        await uow.commit()
    assert (await found("ana"), await found("40001"), await found("dress")) == (0, 0, 0)
    assert (await found("brun"), await found("0000777"), await found("shoes red")) == (1, 1, 1)
    async with pg_services.uows.for_team(member.team_id) as uow:
        await uow.conn.execute(sa.text("DELETE FROM communication_threads"))  # its messages go by cascade
        assert (await uow.conn.execute(sa.text("SELECT count(*) FROM message_search_terms"))).scalar_one() == 0
        await uow.conn.execute(sa.text("DELETE FROM contacts"))
        await uow.commit()
    assert await terms() == [0, 0]
