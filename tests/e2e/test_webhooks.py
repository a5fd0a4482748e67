"""Every provider webhook in the fixture corpus, through the real HTTP endpoint with a valid signature, into
PostgreSQL; plus the refusals, duplicates, batches, unrouted events and retries."""
from __future__ import annotations

import asyncio
import io
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from commsinbox.adapters.postgres import schema
from commsinbox.adapters.providers.parsers import ProviderWebhookParsers
from commsinbox.domain.model.channels import Provider
from commsinbox.domain.model.inbound import InboundMessage, MessageDeleted, StatusUpdate, TemplateStatusChanged
from commsinbox.domain.model.templates import PROVIDER_STATUSES, Template, TemplateCategory, TemplateStatus
from commsinbox.domain.usecases.connections import Connect
from commsinbox.adapters.providers.twilio_whatsapp import signature as twilio_signature
from commsinbox.adapters.providers.twilio_whatsapp.webhook import parse_form
from commsinbox.domain.usecases.ingest import IngestService, route_key
from commsinbox.adapters.memory.providers import MemoryProviderRegistry
from commsinbox.entrypoints.container import Services, postgres_services
from commsinbox.entrypoints.web.app import create_app
from commsinbox.entrypoints.web.background import drain
from tests.conftest import FAST_HASHER, Member, make_team, settings_for
from tests.support.fixtures import fixtures
from tests.support.webhooks import (
    META_APP_SECRET,
    META_PATHS,
    META_VERIFY_TOKEN,
    PUBLIC_BASE_URL,
    TWILIO_TOKEN,
    post_meta,
    post_twilio,
    twilio_body,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
PROVIDER_OF = {"twilio": Provider.WHATSAPP_TWILIO, "whatsapp_cloud": Provider.WHATSAPP_META,
               "instagram": Provider.INSTAGRAM_META}


def webhook_fixtures() -> list[Path]:
    twilio = [p for p in fixtures("twilio", "*.txt") if "_rest_" not in p.name]
    return twilio + fixtures("whatsapp_cloud", "*.json") + fixtures("instagram", "docderived_*.json")


def is_webhook(path: Path) -> bool:
    return path.name != "signature_vectors.json"


@attrs.define
class Inbox:
    """The app over PostgreSQL with one team, and helpers to connect accounts and read what was stored."""

    client: Any
    services: Services
    member: Member
    connected: list[str] = attrs.Factory(list)
    app: Any = None

    async def connect(self, provider: Provider, external_id: str, **credentials: str) -> str:
        defaults = {Provider.WHATSAPP_TWILIO: {"accountSid": "AC" + "0" * 32, "authToken": TWILIO_TOKEN},
                    Provider.WHATSAPP_META: {"accessToken": "EAAG-test"},
                    Provider.INSTAGRAM_META: {"accessToken": "IGQ-test"}}[provider]
        if external_id.startswith("waba:"):  # template events route through the account that named its WABA
            credentials = {"wabaId": external_id.removeprefix("waba:"), **credentials}
            external_id = f"pn-{uuid.uuid4().hex[:12]}"
        account = await self.services.connections.connect(self.member.actor, Connect(
            provider.value, "Shop", external_id, {**defaults, **credentials}))
        self.connected.append(account.id)
        return account.id

    async def rows(self, table: sa.Table, **where: Any) -> list[Any]:
        async with self.services.uows.for_team(self.member.team_id) as uow:
            query = sa.select(table).where(*(table.c[k] == v for k, v in where.items()))
            return list(await uow.conn.execute(query))  # type: ignore[attr-defined]

    async def count_raw(self) -> int:
        async with self.services.uows.for_accounts() as uow:
            return (await uow.conn.execute(sa.select(sa.func.count()).select_from(schema.inbound_events))).scalar()  # type: ignore[attr-defined]


@pytest.fixture
def gateways() -> MemoryProviderRegistry:
    return MemoryProviderRegistry()


@pytest.fixture
async def inbox(pg_owner_url: str, gateways: MemoryProviderRegistry, aiohttp_client, tmp_path  # type: ignore[no-untyped-def]
                ) -> AsyncIterator[Inbox]:
    settings = settings_for(tmp_path, pg_owner_url, PUBLIC_BASE_URL=PUBLIC_BASE_URL,
                            META_APP_SECRET=META_APP_SECRET, META_VERIFY_TOKEN=META_VERIFY_TOKEN)
    async with postgres_services(settings, owner=pg_owner_url, migrate_first=False, hasher=FAST_HASHER,
                                 providers=gateways) as services:
        app = create_app(settings, services)
        inbox = Inbox(await aiohttp_client(app), services, await make_team(services))
        inbox.app = app
        yield inbox
        await drain(app)
        for account_id in inbox.connected:  # provider ids are unique across teams: free them for the next test
            await services.connections.remove(inbox.member.actor, account_id)


def parsed(path: Path) -> tuple[Provider, bytes, list[Any]]:
    provider = PROVIDER_OF[path.parent.name]
    body = twilio_body(path) if provider is Provider.WHATSAPP_TWILIO else path.read_bytes()
    events = ProviderWebhookParsers().parser(provider).parse(body, "", dt.datetime.now(dt.UTC))
    return provider, body, events


async def send(inbox: Inbox, provider: Provider, folder: str, body: bytes) -> Any:
    if provider is Provider.WHATSAPP_TWILIO:
        return await post_twilio(inbox.client, body)
    return await post_meta(inbox.client, META_PATHS[folder], body)


@pytest.mark.parametrize("path", [p for p in webhook_fixtures() if is_webhook(p)], ids=lambda p: p.name)
async def test_every_fixture_is_ingested_through_http(inbox: Inbox, path: Path) -> None:
    provider, body, events = parsed(path)
    accounts = {key: await inbox.connect(provider, key) for key in sorted({route_key(e)[1] for e in events})}
    kept: dict[str, str] = {}  # the provider's template id → ours: the team keeps the templates the events name
    for event in (e for e in events if isinstance(e, TemplateStatusChanged)):
        template = Template.create(str(uuid.uuid4()), accounts[route_key(event)[1]], event.name, event.language,
                                   TemplateCategory.UTILITY, "Hello", dt.datetime.now(dt.UTC),
                                   status=TemplateStatus.PENDING, provider_template_id=event.template_id)
        async with inbox.services.uows.for_team(inbox.member.team_id) as uow:
            await uow.templates.add(template)
            await uow.commit()
        kept[event.template_id] = template.id
    response = await send(inbox, provider, path.parent.name, body)
    assert response.status == 200, await response.text()
    for event in events:
        await assert_stored(inbox, event, kept)


async def assert_stored(inbox: Inbox, event: Any, kept: dict[str, str]) -> None:
    if isinstance(event, InboundMessage):
        [row] = await inbox.rows(schema.communication_messages, provider_message_id=event.provider_message_id)
        assert (row.direction, row.type, row.content, row.sent_at) == (
            event.direction.value, event.type.value, event.text,
            event.sent_at if event.provider is not Provider.WHATSAPP_TWILIO else row.sent_at)
        assert row.meta == json.loads(json.dumps(event.meta))
        [thread] = await inbox.rows(schema.communication_threads, id=row.thread_id)
        assert (thread.channel, thread.external_contact_id) == (event.provider.channel.value,
                                                                event.contact.external_id)
        [contact] = await inbox.rows(schema.contacts, id=thread.contact_id)
        assert (contact.display_name, contact.phone) == (event.contact.display_name, event.contact.phone)
        attachments = await inbox.rows(schema.message_attachments, message_id=row.id)
        assert [(a.kind, a.source.get("media_id"), a.source.get("url")) for a in sorted(
            attachments, key=lambda a: a.position)] == [(m.kind.value, m.media_id, m.url) for m in event.media]
    elif isinstance(event, StatusUpdate):
        rows = await inbox.rows(schema.message_status_events, provider_message_id=event.provider_message_id)
        assert [(r.status, r.at, r.error_code, r.error_title) for r in rows] == [
            (event.status.value, event.at if event.provider is not Provider.WHATSAPP_TWILIO else rows[0].at,
             event.error_code, event.error_title)]
    elif isinstance(event, TemplateStatusChanged):
        status = PROVIDER_STATUSES[event.status]
        reason = event.reason if status is TemplateStatus.REJECTED else None
        rows = await inbox.rows(schema.outbox, kind="template.status_changed")
        assert [(r.payload["templateId"], r.payload["status"], r.payload["reason"]) for r in rows] == [
            (kept[event.template_id], status.value, reason)]
        [stored] = await inbox.rows(schema.message_templates, id=kept[event.template_id])
        assert (stored.status, stored.rejection_reason) == (status.value, reason)
    else:
        assert isinstance(event, MessageDeleted)
        assert await inbox.rows(schema.communication_messages, provider_message_id=event.provider_message_id) == []


async def test_meta_text_fixture_field_by_field(inbox: Inbox) -> None:
    payload = json.loads(fixtures("whatsapp_cloud", "meta_text.json")[0].read_bytes())
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"] += uuid.uuid4().hex  # a new event, not a retry
    await inbox.connect(Provider.WHATSAPP_META, "106540352242922")
    assert (await post_meta(inbox.client, META_PATHS["whatsapp_cloud"], payload)).status == 200
    [message] = await inbox.rows(schema.communication_messages)
    assert (message.direction, message.type, message.content, message.status) == ("in", "text",
                                                                                   "Does it come in another color?", "delivered")
    [contact] = await inbox.rows(schema.contacts)
    assert (contact.display_name, contact.phone) == ("Sheena Nelson", "+16505551234")
    kinds = [r.kind for r in await inbox.rows(schema.outbox)]
    assert kinds == ["thread.opened", "message.received"]


def text_payload(phone_number_id: str, *wamids: str, wa_id: str = "5511987654321") -> dict[str, Any]:
    """A WhatsApp Cloud webhook carrying one message per wamid (Meta batches several into one POST)."""
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": wamid, "timestamp": "1767225600", "type": "text",
                      "text": {"body": f"body of {wamid}"}} for wamid in wamids]}}]}]}


def new_key() -> str:
    return f"pn-{uuid.uuid4().hex[:12]}"


async def test_a_batch_of_n_messages_yields_n(inbox: Inbox) -> None:
    key = new_key()
    await inbox.connect(Provider.WHATSAPP_META, key)
    wamids = [f"wamid.{uuid.uuid4().hex}" for _ in range(7)]
    assert (await post_meta(inbox.client, META_PATHS["whatsapp_cloud"], text_payload(key, *wamids))).status == 200
    assert sorted(r.provider_message_id for r in await inbox.rows(schema.communication_messages)) == sorted(wamids)


async def test_the_same_webhook_twice_and_concurrently_yields_one_message(inbox: Inbox) -> None:
    key = new_key()
    await inbox.connect(Provider.WHATSAPP_META, key)
    body = json.dumps(text_payload(key, f"wamid.{uuid.uuid4().hex}")).encode()
    replies = await asyncio.gather(*(post_meta(inbox.client, META_PATHS["whatsapp_cloud"], body) for _ in range(6)))
    replies.append(await post_meta(inbox.client, META_PATHS["whatsapp_cloud"], body))
    assert {r.status for r in replies} == {200}
    assert len(await inbox.rows(schema.communication_messages)) == 1
    # the same message inside a different body (Meta re-batches retries) is still one message
    same_message = text_payload(key, json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]["id"])
    same_message["entry"][0]["id"] = "another-envelope"
    assert (await post_meta(inbox.client, META_PATHS["whatsapp_cloud"], same_message)).status == 200
    assert len(await inbox.rows(schema.communication_messages)) == 1


@pytest.mark.parametrize("signature, status", [(None, 403), ("", 401), ("sha256=" + "0" * 64, 403)])
async def test_a_bad_or_missing_meta_signature_stores_nothing(inbox: Inbox, signature: str | None, status: int) -> None:
    key = new_key()
    await inbox.connect(Provider.WHATSAPP_META, key)
    before = await inbox.count_raw()
    body = text_payload(key, f"wamid.{uuid.uuid4().hex}")
    reply = await post_meta(inbox.client, META_PATHS["whatsapp_cloud"], body, secret="f" * 32, signature=signature)
    assert reply.status == status
    assert await inbox.count_raw() == before and await inbox.rows(schema.communication_messages) == []
    metrics = await (await inbox.client.get("/metrics")).text()
    outcome = "missing_signature" if status == 401 else "bad_signature"
    assert f'commsinbox_webhooks_total{{outcome="{outcome}",provider="whatsapp-meta"}} 1.0' in metrics


async def test_a_bad_twilio_signature_stores_nothing(inbox: Inbox) -> None:
    await inbox.connect(Provider.WHATSAPP_TWILIO, "+14155238886")
    body = twilio_body(fixtures("twilio", "inbound_whatsapp_text_sandbox_profilename_masked.txt")[0])
    before = await inbox.count_raw()
    assert (await post_twilio(inbox.client, body, token="0" * 32)).status == 403
    assert (await post_twilio(inbox.client, body, signature="")).status == 401
    tampered = body.replace(b"Body=hey", b"Body=hex")
    signed_for_original = twilio_signature.compute_signature(PUBLIC_BASE_URL + "/webhooks/twilio/whatsapp",
                                                             parse_form(body), TWILIO_TOKEN)
    assert (await post_twilio(inbox.client, tampered, signature=signed_for_original)).status == 403
    assert await inbox.count_raw() == before


async def test_a_signed_but_malformed_body_is_refused_and_not_stored(inbox: Inbox) -> None:
    before = await inbox.count_raw()
    broken = {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "metadata": {"phone_number_id": "x"}, "messages": [{"id": "wamid.1", "type": "text"}]}}]}]}
    assert (await post_meta(inbox.client, META_PATHS["whatsapp_cloud"], broken)).status == 400
    assert (await post_meta(inbox.client, META_PATHS["instagram"], b"{not json")).status == 400
    assert await inbox.count_raw() == before


async def test_an_oversized_body_is_refused_before_parsing(inbox: Inbox) -> None:
    huge = b'{"object":"instagram","entry":[' + b" " * (3 * 1024 * 1024) + b"]}"
    reply = await inbox.client.post(META_PATHS["instagram"], data=io.BytesIO(huge), headers={
        "Content-Type": "application/json", "Content-Length": str(len(huge)),
        "X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert reply.status == 413


@pytest.mark.parametrize("path", ["/webhooks/meta/whatsapp", "/webhooks/meta/instagram"])
async def test_the_meta_verification_handshake(inbox: Inbox, path: str) -> None:
    ok = await inbox.client.get(path, params={"hub.mode": "subscribe", "hub.challenge": "1158201444",
                                              "hub.verify_token": META_VERIFY_TOKEN})
    assert (ok.status, await ok.text()) == (200, "1158201444")
    wrong = await inbox.client.get(path, params={"hub.mode": "subscribe", "hub.challenge": "1",
                                                 "hub.verify_token": "not-the-token"})
    assert wrong.status == 403


async def test_events_for_an_account_not_connected_yet_are_kept_and_replayed(inbox: Inbox) -> None:
    key = new_key()
    wamid = f"wamid.{uuid.uuid4().hex}"
    assert (await post_meta(inbox.client, META_PATHS["whatsapp_cloud"], text_payload(key, wamid))).status == 200
    assert await inbox.rows(schema.communication_messages) == []
    await inbox.connect(Provider.WHATSAPP_META, key)
    assert [r.provider_message_id for r in await inbox.rows(schema.communication_messages)] == [wamid]


async def test_a_failure_while_processing_is_retried_from_the_store(inbox: Inbox, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    key = new_key()
    await inbox.connect(Provider.WHATSAPP_META, key)
    async def broken(self: IngestService, *args: Any) -> Any:
        raise ConnectionError("database went away")

    original = IngestService.ingest
    monkeypatch.setattr(IngestService, "ingest", broken)
    monkeypatch.setattr("commsinbox.domain.usecases.inbound.FIRST_RETRY", dt.timedelta(0))  # due again at once
    wamid = f"wamid.{uuid.uuid4().hex}"
    assert (await post_meta(inbox.client, META_PATHS["whatsapp_cloud"], text_payload(key, wamid))).status == 200
    assert await inbox.rows(schema.communication_messages) == []
    [event] = [r for r in await _raw_events(inbox) if r.state == "failed"]
    assert "database went away" in event.last_error
    monkeypatch.setattr(IngestService, "ingest", original)
    await inbox.services.inbound.process()
    assert [r.provider_message_id for r in await inbox.rows(schema.communication_messages)] == [wamid]


async def test_media_is_copied_into_storage_with_size_and_checksum(inbox: Inbox, gateways: MemoryProviderRegistry
                                                                   ) -> None:
    import hashlib

    from commsinbox.ports.providers import Media

    key = new_key()
    await inbox.connect(Provider.WHATSAPP_META, key)
    photo, huge = b"\x89PNG fake image bytes", b"x" * 2048
    gateways.gateway(Provider.WHATSAPP_META).media.update({"media-1": Media(photo, "image/png"),
                                                           "media-2": Media(huge, "video/mp4")})
    inbox.services.media.max_bytes = 1024
    payload = text_payload(key, f"wamid.{uuid.uuid4().hex}", f"wamid.{uuid.uuid4().hex}")
    messages = payload["entry"][0]["changes"][0]["value"]["messages"]
    messages[0].update(type="image", image={"id": "media-1", "mime_type": "image/png", "sha256": "x"})
    messages[1].update(type="video", video={"id": "media-2", "mime_type": "video/mp4"})
    for message in messages:
        message.pop("text")
    assert (await post_meta(inbox.client, META_PATHS["whatsapp_cloud"], payload)).status == 200
    await drain(inbox.app)
    rows = {r.kind: r for r in await inbox.rows(schema.message_attachments)}
    image, video = rows["image"], rows["video"]
    assert (image.size, image.checksum, image.content_type) == (len(photo), hashlib.sha256(photo).hexdigest(),
                                                                "image/png")
    assert image.storage_path.startswith(f"{inbox.member.team_id}/threads/")
    assert await inbox.services.storage.get(image.storage_path) == photo
    assert video.storage_path is None and "exceeds" in video.error


async def _raw_events(inbox: Inbox) -> list[Any]:
    async with inbox.services.uows.for_accounts() as uow:
        return list(await uow.conn.execute(sa.select(schema.inbound_events)))  # type: ignore[attr-defined]


async def test_a_failed_media_download_is_retried_by_the_sweep(inbox: Inbox, gateways: MemoryProviderRegistry
                                                                ) -> None:
    from commsinbox.ports.providers import Media

    key = new_key()
    await inbox.connect(Provider.WHATSAPP_META, key)
    meta = gateways.gateway(Provider.WHATSAPP_META)
    meta.media["media-9"] = Media(b"voice note", "audio/ogg")
    meta.outages = 1
    payload = text_payload(key, f"wamid.{uuid.uuid4().hex}")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.pop("text")
    message.update(type="audio", audio={"id": "media-9", "mime_type": "audio/ogg"})
    assert (await post_meta(inbox.client, META_PATHS["whatsapp_cloud"], payload)).status == 200
    await drain(inbox.app)
    [failed] = await inbox.rows(schema.message_attachments)
    assert (failed.storage_path, failed.attempts) == (None, 1) and "will retry" in failed.error
    assert failed.retry_after > failed.created_at
    async with inbox.services.uows.for_team(inbox.member.team_id) as uow:  # as if the delay had passed
        [(attachment, _)] = await uow.messages.due_attachments(failed.retry_after, dt.timedelta(minutes=5))
        assert await uow.messages.due_attachments(failed.retry_after, dt.timedelta(minutes=5)) == []  # leased
        attachment.retry_after = failed.created_at
        await uow.messages.update_attachment(attachment)
        await uow.commit()
    assert await inbox.services.media.sweep() >= 1
    [stored] = await inbox.rows(schema.message_attachments)
    assert (stored.size, stored.error, stored.retry_after, stored.attempts) == (10, None, None, 2)


async def test_an_accounts_own_secret_vouches_only_for_its_own_events(inbox: Inbox) -> None:
    own_key, other_key = new_key(), new_key()
    await inbox.connect(Provider.WHATSAPP_META, own_key, appSecret="a" * 32)
    victim = await make_team(inbox.services)  # another team's account, same provider
    await inbox.services.connections.connect(victim.actor, Connect(
        "whatsapp-meta", "Victim", other_key, {"accessToken": "EAAG-victim"}))
    mine, planted = f"wamid.{uuid.uuid4().hex}", f"wamid.{uuid.uuid4().hex}"
    body = text_payload(own_key, mine)
    body["entry"].append(text_payload(other_key, planted)["entry"][0])
    assert (await post_meta(inbox.client, META_PATHS["whatsapp_cloud"], body, secret="a" * 32)).status == 200
    assert [r.provider_message_id for r in await inbox.rows(schema.communication_messages)] == [mine]
    async with inbox.services.uows.for_team(victim.team_id) as uow:
        account = (await uow.accounts.list())[0]
        assert await uow.messages.by_provider_id(account.id, planted) is None
        await uow.accounts.remove(account.id)
        await uow.commit()


async def test_an_unverified_account_gets_no_webhooks_until_it_is_verified(inbox: Inbox) -> None:
    key, wamid = new_key(), f"wamid.{uuid.uuid4().hex}"
    account = await inbox.services.connections.connect(inbox.member.actor, Connect(
        "whatsapp-meta", "Shop", key, {"accessToken": "EAAG-test"}, verify=False))
    inbox.connected.append(account.id)
    assert account.status.value == "unverified"
    assert (await post_meta(inbox.client, META_PATHS["whatsapp_cloud"], text_payload(key, wamid))).status == 200
    assert await inbox.rows(schema.communication_messages) == []  # kept, but not delivered to the account
    assert [r.state for r in await _raw_events(inbox) if key.encode() in r.body] == ["unrouted"]
    verified = await inbox.services.connections.verify(inbox.member.actor, account.id)
    assert verified.status.value == "active"
    assert [r.provider_message_id for r in await inbox.rows(schema.communication_messages)] == [wamid]
