"""communications.consent.* and core.audit.* over HTTP (tRPC wire protocol) on both adapters."""
from __future__ import annotations

import datetime as dt

import pytest

from commsinbox.domain.model.values import Role
from commsinbox.entrypoints.container import Services
from tests.conftest import Member, join, make_team
from tests.contracts.test_ingest import connect, text
from tests.support.api import Api
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
async def api(services: Services, api_for) -> Api:  # type: ignore[no-untyped-def]
    return await api_for(services)


async def as_member(api: Api, member: Member) -> Api:
    return api.as_((await api.login(member.email, PASSWORD)).token, member.team_id)


async def a_contact(services: Services, member: Member) -> tuple[str, str]:
    key = await connect(services, member)
    await services.ingest.ingest([text(key, body="hello")])
    async with services.uows.for_team(member.team_id) as uow:
        [opened] = [e.payload for e in await uow.outbox.since(None, 100) if e.kind == "thread.opened"]
    return key, str(opened["contactId"])


async def test_consent_get_and_set_over_the_api(api: Api, services: Services) -> None:
    owner = await make_team(services)
    me = await as_member(api, owner)
    _, contact = await a_contact(services, owner)
    unknown = await me.query("communications.consent.get", {"contactId": contact, "channel": "whatsapp"})
    assert unknown.data == {"status": None, "at": None, "source": None}
    set_ = await me.mutate("communications.consent.set", {"contactId": contact, "channel": "whatsapp",
                                                          "status": "opted_in", "source": "checkout form"})
    assert set_.data["status"] == "opted_in" and isinstance(set_.data["at"], dt.datetime)
    got = await me.query("communications.consent.get", {"contactId": contact, "channel": "whatsapp"})
    assert got.data == set_.data
    for payload, field in (({"contactId": contact, "channel": "sms", "status": "opted_in"}, "channel"),
                           ({"contactId": "nope", "channel": "whatsapp", "status": "opted_in"}, "contactId"),
                           ({"contactId": contact, "channel": "whatsapp"}, "status")):
        bad = await me.mutate("communications.consent.set", payload)
        assert (bad.code, bad.error["data"]["fields"][0]["path"]) == ("BAD_REQUEST", field)
    stranger = await as_member(api, await make_team(services))
    missing = await stranger.query("communications.consent.get", {"contactId": contact, "channel": "whatsapp"})
    assert missing.code == "NOT_FOUND"


async def test_keywords_are_a_team_setting_and_the_audit_log_is_for_owners_and_managers(
        api: Api, services: Services) -> None:
    owner = await make_team(services)
    me = await as_member(api, owner)
    assert "STOP" in (await me.query("core.team.get")).data["consentKeywords"]["en"]["optOut"]
    updated = await me.mutate("core.team.update", {"consentKeywords": {"pt": {"optOut": ["Chega"]}}})
    assert updated.data["consentKeywords"]["pt"] == {"optOut": ["CHEGA"], "optIn": []}
    bad = await me.mutate("core.team.update", {"consentKeywords": {"pt": {"optOut": "CHEGA"}}})
    assert (bad.code, bad.error["data"]["fields"][0]["path"]) == ("BAD_REQUEST", "consentKeywords.pt.optOut")
    key, contact = await a_contact(services, owner)
    await services.ingest.ingest([text(key, body="Chega!", minutes=1)])
    got = await me.query("communications.consent.get", {"contactId": contact, "channel": "whatsapp"})
    assert (got.data["status"], got.data["source"]) == ("opted_out", "keyword:CHEGA")

    page = await me.query("core.audit.list", {"limit": 1})
    [latest] = page.data["items"]
    assert (latest["action"], latest["actor"], latest["seq"]) == ("consent.keyword", "keyword", 2)
    assert len(latest["hash"]) == 64 and page.data["nextCursor"] == "2"
    older = await me.query("core.audit.list", {"limit": 1, "cursor": page.data["nextCursor"]})
    assert [e["action"] for e in older.data["items"]] == ["consent.keywords_changed"]
    assert older.data["items"][0]["hash"] == latest["prevHash"]
    verified = (await me.query("core.audit.verify")).data
    assert verified == {"ok": True, "checked": 2, "headSeq": 2, "headHash": latest["hash"], "firstBroken": None}
    manager = await as_member(api, await join(services, owner, Role.MANAGER))
    assert (await manager.query("core.audit.verify")).data["ok"] is True
    agent = await as_member(api, await join(services, owner, Role.AGENT))
    assert (await agent.query("core.audit.list", {})).code == "FORBIDDEN"
    assert (await agent.query("core.audit.verify")).code == "FORBIDDEN"
