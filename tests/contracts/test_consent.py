"""Consent on both adapters: the API's get/set, STOP / START keywords from inbound messages (per-team words),
provider opt-out errors, and the audit entries every change and every refused send leaves."""
from __future__ import annotations

import datetime as dt
import json
import os

import attrs
import pytest

from commsinbox.adapters.memory.providers import MemoryProviderRegistry
from commsinbox.domain.model.channels import Provider
from commsinbox.domain.model.consent import ConsentStatus
from commsinbox.domain.model.errors import Forbidden, InvalidInput, NotFound, PolicyBlocked
from commsinbox.domain.model.paging import PageRequest
from commsinbox.domain.model.values import Permission, Role
from commsinbox.domain.usecases.connections import Connect
from commsinbox.domain.usecases.outbound import SendRequest
from commsinbox.domain.usecases.teams import TeamChanges
from commsinbox.entrypoints.container import Services
from commsinbox.ports.providers import ProviderError
from tests.conftest import Member, make_team
from tests.support.factories import PASSWORD, random_email
from tests.contracts.test_ingest import connect, text
from tests.contracts.test_outbound import NOON, customer_wrote, outbound
from tests.support.sending import dispatch, outbound_at

pytestmark = pytest.mark.integration


async def audit_of(services: Services, member: Member) -> list:  # type: ignore[type-arg]
    """The team's audit entries, oldest first; the chain must verify."""
    assert (await services.audit.verify(member.actor)).ok
    return list(reversed((await services.audit.list(member.actor, None, 200)).items))


async def contact_of(services: Services, member: Member, thread_id: str) -> str:
    async with services.uows.for_team(member.team_id) as uow:
        thread = await uow.threads.get(thread_id)
    assert thread is not None
    return str(thread.contact_id)


async def consent_events(services: Services, member: Member) -> list[dict]:  # type: ignore[type-arg]
    async with services.uows.for_team(member.team_id) as uow:
        return [e.payload for e in await uow.outbox.since(None, 1000) if e.kind == "consent.changed"]


async def inbound_contact(services: Services, member: Member) -> tuple[str, str]:
    """A connected account's key, and the contact of a first "hello" from the customer."""
    key = await connect(services, member)
    await services.ingest.ingest([text(key, body="hello")])
    async with services.uows.for_team(member.team_id) as uow:
        [payload] = [e.payload for e in await uow.outbox.since(None, 100) if e.kind == "thread.opened"]
    return key, str(payload["contactId"])


async def test_unknown_consent_reads_as_nulls_and_a_set_is_recorded_evented_and_audited(services: Services) -> None:
    owner = await make_team(services)
    _, contact = await inbound_contact(services, owner)
    unknown = await services.consent.get(owner.actor, contact, "whatsapp")
    assert (unknown.status, unknown.at, unknown.source) == (None, None, None)
    state = await services.consent.set(owner.actor, contact, "whatsapp", "opted_in", "website form")
    got = await services.consent.get(owner.actor, contact, "whatsapp")
    assert (got.status, got.source, got.at) == (ConsentStatus.OPTED_IN, "website form", state.at)
    assert (await services.consent.get(owner.actor, contact, "instagram")).status is None  # per channel
    assert (await services.consent.set(owner.actor, contact, "whatsapp", "opted_out")).source == "api"
    assert [e["status"] for e in await consent_events(services, owner)] == ["opted_in", "opted_out"]
    entries = await audit_of(services, owner)
    assert [(e.action, e.actor, e.subject) for e in entries] == [
        ("consent.set", f"user:{owner.user_id}", f"contact:{contact}")] * 2
    assert entries[0].details == {"contactId": contact, "channel": "whatsapp", "status": "opted_in",
                                  "source": "website form"}


@pytest.mark.parametrize(("contact", "channel", "status", "source", "error", "field"), [
    ("known", "sms", "opted_in", None, InvalidInput, "channel"),
    ("known", "whatsapp", "maybe", None, InvalidInput, "status"),
    ("known", "whatsapp", None, None, InvalidInput, "status"),
    ("known", "whatsapp", "opted_in", "keyword:STOP", InvalidInput, "source"),
    ("known", "whatsapp", "opted_in", "provider error 21610", InvalidInput, "source"),
    ("known", "whatsapp", "opted_in", "  ", InvalidInput, "source"),
    ("known", "whatsapp", "opted_in", "x" * 101, InvalidInput, "source"),
    ("other team's", "whatsapp", "opted_in", None, NotFound, None),
])
async def test_a_bad_set_names_its_field_and_changes_nothing(
        services: Services, contact: str, channel: str, status: str | None, source: str | None,
        error: type[Exception], field: str | None) -> None:
    owner, other = await make_team(services), await make_team(services)
    _, known = await inbound_contact(services, owner if contact == "known" else other)
    with pytest.raises(error) as refused:
        await services.consent.set(owner.actor, known, channel, status, source)
    if field:
        assert [f.path for f in refused.value.fields] == [field]  # type: ignore[attr-defined]
    assert await consent_events(services, owner) == [] and await audit_of(services, owner) == []


async def test_reading_needs_inbox_read_and_setting_needs_inbox_write(services: Services) -> None:
    owner = await make_team(services)
    _, contact = await inbound_contact(services, owner)
    reader = await _custom(services, owner, Permission.INBOX_READ)
    assert (await services.consent.get(reader.actor, contact, "whatsapp")).status is None
    with pytest.raises(Forbidden):
        await services.consent.set(reader.actor, contact, "whatsapp", "opted_out")
    outsider = await _custom(services, owner, Permission.CLIENTS_READ)
    with pytest.raises(Forbidden):
        await services.consent.get(outsider.actor, contact, "whatsapp")


async def test_stop_then_start_from_inbound_messages_each_record_once(services: Services) -> None:
    owner = await make_team(services)
    key, contact = await inbound_contact(services, owner)
    stop = text(key, body=" Stop! ", minutes=1)
    await services.ingest.ingest([stop])
    await services.ingest.ingest([stop])  # the provider delivers the webhook again
    await services.ingest.ingest([text(key, body="STOP", minutes=2), text(key, body="please stop", minutes=3)])
    state = await services.consent.get(owner.actor, contact, "whatsapp")
    assert (state.status, state.source, state.at) == (ConsentStatus.OPTED_OUT, "keyword:STOP", stop.sent_at)
    await services.ingest.ingest([text(key, body="start", minutes=4), text(key, body="yes", minutes=5)])
    assert (await services.consent.get(owner.actor, contact, "whatsapp")).source == "keyword:START"
    entries = await audit_of(services, owner)
    assert [(e.action, e.actor, e.details["status"], e.details["source"]) for e in entries] == [
        ("consent.keyword", "keyword", "opted_out", "keyword:STOP"),
        ("consent.keyword", "keyword", "opted_in", "keyword:START")]
    events = await consent_events(services, owner)
    assert len(events) == 2 and all(e["threadId"] and e["messageId"] for e in events)


async def test_a_yes_is_not_a_first_opt_in_and_spanish_and_portuguese_words_count(services: Services) -> None:
    owner = await make_team(services)
    key, contact = await inbound_contact(services, owner)
    await services.ingest.ingest([text(key, body="Yes", minutes=1)])
    assert (await services.consent.get(owner.actor, contact, "whatsapp")).status is None
    await services.ingest.ingest([text(key, body="¡Baja!", minutes=2)])
    assert (await services.consent.get(owner.actor, contact, "whatsapp")).source == "keyword:BAJA"
    await services.ingest.ingest([text(key, body="Voltar", minutes=3)])
    assert (await services.consent.get(owner.actor, contact, "whatsapp")).status is ConsentStatus.OPTED_IN
    await services.ingest.ingest([text(key, body="sair", minutes=4)])
    assert (await services.consent.get(owner.actor, contact, "whatsapp")).source == "keyword:SAIR"


async def test_a_team_replaces_a_languages_words_and_bad_words_are_refused(services: Services) -> None:
    owner = await make_team(services)
    key, contact = await inbound_contact(services, owner)
    await services.teams.update(owner.actor, TeamChanges(consent_keywords={"ES": {"optOut": ["Chao"],
                                                                                   "optIn": ["Hola"]}}))
    words = (await services.teams.consent_keywords(owner.actor)).to_mapping()
    assert words["es"] == {"optOut": ["CHAO"], "optIn": ["HOLA"]} and "STOP" in words["en"]["optOut"]
    await services.ingest.ingest([text(key, body="baja", minutes=1)])
    assert (await services.consent.get(owner.actor, contact, "whatsapp")).status is None  # replaced
    await services.ingest.ingest([text(key, body="chao", minutes=2)])
    assert (await services.consent.get(owner.actor, contact, "whatsapp")).source == "keyword:CHAO"
    for bad, path in (({"es": {"optOut": []}}, "consentKeywords.es.optOut"),
                      ({"pt": {"optOut": ["START"]}}, "consentKeywords.pt.optOut[0]"),
                      ({"xx1": {"optOut": ["FIM"]}}, "consentKeywords.xx1"),
                      ({"pt": {"optOut": ["not-a-word"]}}, "consentKeywords.pt.optOut[0]")):
        with pytest.raises(InvalidInput) as refused:
            await services.teams.update(owner.actor, TeamChanges(name="Renamed", consent_keywords=bad))
        assert [f.path for f in refused.value.fields] == [path]
    assert (await services.teams.get(owner.actor)).name != "Renamed"  # nothing of the update was kept
    await services.teams.update(owner.actor, TeamChanges(consent_keywords={}))
    assert (await services.teams.consent_keywords(owner.actor)).to_mapping()["es"]["optOut"] == [
        "ALTO", "BAJA", "CANCELAR", "PARAR"]
    changes = [e for e in await audit_of(services, owner) if e.action == "consent.keywords_changed"]
    assert [e.details["consentKeywords"] for e in changes] == [{"es": {"optOut": ["CHAO"], "optIn": ["HOLA"]}}, {}]


async def test_a_blocked_send_writes_its_audit_entry_and_nothing_else(services: Services) -> None:
    owner = await make_team(services)
    thread = await customer_wrote(services, owner, NOON - dt.timedelta(minutes=5))
    contact = await contact_of(services, owner, thread)
    await services.consent.set(owner.actor, contact, "whatsapp", "opted_out", "phone call")
    with pytest.raises(PolicyBlocked):
        await outbound(services, NOON).send(owner.actor, SendRequest(thread, "k-blocked", "Hi"))
    assert len((await services.outbound.list(owner.actor, thread, PageRequest())).items) == 1  # the customer's
    async with services.uows.for_team(owner.team_id) as uow:
        assert "message.queued" not in {e.kind for e in await uow.outbox.since(None, 1000)}
    last = (await audit_of(services, owner))[-1]
    assert (last.action, last.actor, last.subject, last.details, last.at) == (
        "send.blocked", f"user:{owner.user_id}", f"thread:{thread}", {"reason": "opted_out"}, NOON)


async def test_a_provider_opt_out_error_opts_the_contact_out(services: Services) -> None:
    owner = await make_team(services)
    thread = await customer_wrote(services, owner, NOON - dt.timedelta(minutes=5))
    registry = MemoryProviderRegistry()
    registry.gateway(Provider.WHATSAPP_META).fail_next_sends(ProviderError(
        "the recipient unsubscribed", transient=False, code="21610", reason="opted_out"))
    service = outbound_at(services, NOON, registry)
    queued = await service.send(owner.actor, SendRequest(thread, "k-21610", "Our sale starts today"))
    assert await dispatch(services, service, queued.message) == 1
    contact = await contact_of(services, owner, thread)
    state = await services.consent.get(owner.actor, contact, "whatsapp")
    assert (state.status, state.source) == (ConsentStatus.OPTED_OUT, "provider error 21610")
    last = (await audit_of(services, owner))[-1]
    assert (last.action, last.actor, last.details["messageId"]) == (
        "consent.provider_opt_out", "provider", queued.message.id)
    with pytest.raises(PolicyBlocked) as blocked:
        await service.send(owner.actor, SendRequest(thread, "k-after", "Hello?"))
    assert blocked.value.reason == "opted_out"


async def test_account_connect_rotate_and_remove_are_audited_without_credentials(services: Services) -> None:
    owner = await make_team(services)
    connections = attrs.evolve(services.connections, providers=MemoryProviderRegistry())
    account = await connections.connect(owner.actor, Connect(
        "whatsapp-meta", "Shop", f"pn-{os.urandom(6).hex()}", {"accessToken": "EAAG-first-secret"}))
    await connections.rotate_credentials(owner.actor, account.id, {"accessToken": "EAAG-second-secret"})
    await connections.remove(owner.actor, account.id)
    entries = await audit_of(services, owner)
    assert [(e.action, e.subject) for e in entries] == [
        ("account.connected", f"account:{account.id}"), ("account.credentials_rotated", f"account:{account.id}"),
        ("account.removed", f"account:{account.id}")]
    assert entries[0].details == {"provider": "whatsapp-meta", "externalId": account.external_id,
                                  "status": "active", "displayName": "Shop"}
    assert "secret" not in json.dumps([e.details for e in entries])


async def _custom(services: Services, owner: Member, *permissions: Permission) -> Member:
    """A member of `owner`'s team with a custom role granting exactly `permissions`."""
    user, _ = await services.accounts.create_user(random_email("custom"), PASSWORD)
    await services.teams.invite(owner.actor, user.email, Role.CUSTOM, frozenset(permissions))
    return Member(user.email, user.id, owner.team_id, await services.access.resolve(user.id, owner.team_id))
