"""The BDD driver for inbound messaging: real signed webhooks into the real HTTP endpoints, read back from the store.

`InboundDriver` builds the aiohttp app over fresh services (memory, or the session's PostgreSQL), starts a test
server inside the scenario's `asyncio.Runner`, gives the scenario one team, and connects that team's accounts
through the connections use case. Webhook bodies are built from the provider corpus (../shared/fixtures/providers)
with fresh account and message ids, so no two scenarios send the same body (raw bodies are deduplicated globally).
Messages are known by the text (or kind) the feature gives them; people by name.
"""
from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hashlib
import io
import itertools
import json
import re
import secrets
import urllib.parse
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import parse
import sqlalchemy as sa
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from pytest_bdd import parsers

from commsinbox.adapters.memory.providers import MemoryProviderRegistry
from commsinbox.adapters.postgres import schema
from commsinbox.adapters.providers import meta_signature
from commsinbox.adapters.providers.twilio_whatsapp import signature as twilio_signature
from commsinbox.adapters.providers.twilio_whatsapp.webhook import parse_form
from commsinbox.domain.model.channels import Channel, DeliveryStatus, Direction, MessageType, Provider
from commsinbox.domain.model.contacts import Contact, Identity, IdentityKind
from commsinbox.domain.model.ids import ContactId, MessageId, ThreadId
from commsinbox.domain.model.paging import PageRequest
from commsinbox.domain.model.phones import identity_key
from commsinbox.domain.model.threads import Attachment, Message, Thread, ThreadStatus
from commsinbox.domain.usecases.clients import ClientFields
from commsinbox.domain.usecases.connections import Connect
from commsinbox.entrypoints.container import Services, memory_services, postgres_services
from commsinbox.entrypoints.web.app import create_app
from commsinbox.entrypoints.web.background import drain
from commsinbox.ports.providers import Media
from tests.conftest import FAST_HASHER, Member, make_team, settings_for
from tests.support.fixtures import fixture
from tests.support.webhooks import (META_APP_SECRET, META_PATHS, META_VERIFY_TOKEN, PUBLIC_BASE_URL, TWILIO_PATH,
                                    TWILIO_TOKEN, post_meta, post_twilio)

PROVIDERS = {"WhatsApp Cloud": Provider.WHATSAPP_META, "Twilio": Provider.WHATSAPP_TWILIO,
             "Instagram": Provider.INSTAGRAM_META}
PATHS = {Provider.WHATSAPP_META: META_PATHS["whatsapp_cloud"], Provider.INSTAGRAM_META: META_PATHS["instagram"],
         Provider.WHATSAPP_TWILIO: TWILIO_PATH}
CREDENTIALS = {Provider.WHATSAPP_META: {"accessToken": "EAAG-test"},
               Provider.INSTAGRAM_META: {"accessToken": "IGQ-test"},
               Provider.WHATSAPP_TWILIO: {"accountSid": "AC" + "0" * 32, "authToken": TWILIO_TOKEN}}
APPS = {"WhatsApp Business app": Provider.WHATSAPP_META, "Instagram app": Provider.INSTAGRAM_META}  # echoes
SIGNINGS = ("a valid signature", "no signature", "an empty signature", "a wrong signature",
            "a signature in the wrong format", "the signature of the original body")
# WhatsApp Cloud message kinds, each from the corpus file that shows it
KINDS = {"a text": "meta_text.json", "an image": "meta_image.json", "a location": "pywa_message_current_location.json",
         "a reaction": "pywa_message_reaction.json",
         "an interactive button reply": "meta_interactive_button_reply.json",
         "an unsupported message": "pywa_message_unsupported.json", "a voice note": "pywa_message_voice.json",
         "a sticker": "meta_sticker.json", "a document": "pywa_message_document.json",
         "a video": "pywa_message_video.json", "shared contacts": "pywa_message_contacts.json",
         "a list reply": "meta_interactive_list_reply.json",
         "a template button reply": "pywa_button_template_quick_reply.json",
         "a number change notice": "pywa_system_phone_number_change.json"}
CLOUD_STATUSES = {"sent": "pywa_status_sent.json", "delivered": "pywa_status_delivered.json",
                  "read": "pywa_status_read.json"}
CLOUD_FAILURES = {"131047": "SYNTH_status_failed_131047_reengagement.json",
                  "131026": "SYNTH_status_failed_131026_undeliverable.json",
                  "131049": "meta_status_failed_131049.json"}
TWILIO_STATUSES = {"sent": "status_whatsapp_sent_sandbox_masked.txt", "read": "SYNTH_status_whatsapp_read.txt",
                   "failed": "SYNTH_status_whatsapp_failed_63016.txt"}
TWILIO_FAILURES = {"63016": "SYNTH_status_whatsapp_failed_63016.txt"}
LARGE = 1024 * 1024  # aiohttp wants bodies this large as a stream
SECONDS_AFTER_SENDING = {"sent": 1, "delivered": 2, "read": 3, "failed": 2}  # when each status happened


def new_id(prefix: str = "", digits: int = 0) -> str:
    return prefix + ("".join(str(secrets.randbelow(10)) for _ in range(digits)) if digits else secrets.token_hex(16))


# -- payload builders over the corpus ----------------------------------------------------------------------------

def corpus_json(relative: str) -> dict[str, Any]:
    return json.loads(fixture(relative).read_bytes())


def encode(payload: dict[str, Any] | bytes) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()


def cloud_value(payload: dict[str, Any]) -> dict[str, Any]:
    return payload["entry"][0]["changes"][0]["value"]


def cloud_messages(phone_number_id: str, person: Person, messages: list[dict[str, Any]],
                   field: str = "messages") -> dict[str, Any]:
    """A WhatsApp Cloud webhook (the envelope of the corpus' text example) carrying these messages."""
    payload = corpus_json("whatsapp_cloud/meta_text.json")
    change = payload["entry"][0]["changes"][0]
    value = change["value"]
    value["metadata"]["phone_number_id"] = phone_number_id
    value["contacts"] = [{"profile": {"name": person.name}, "wa_id": person.digits}]
    if field == "messages":
        value["messages"] = messages
    else:  # smb_message_echoes: what the business sent from the WhatsApp Business app
        change["field"], value["message_echoes"] = field, messages
        del value["messages"]
    return payload


def cloud_text(template: dict[str, Any], wamid: str, sender: str, text: str, at: int) -> dict[str, Any]:
    return {**copy.deepcopy(cloud_value(template)["messages"][0]), "from": sender, "id": wamid,
            "timestamp": str(at), "text": {"body": text}}


def cloud_corpus(name: str, phone_number_id: str, **status: Any) -> dict[str, Any]:
    """A corpus file for this account; `status` replaces fields of its (single) status."""
    payload = corpus_json(f"whatsapp_cloud/{name}")
    value = cloud_value(payload)
    value["metadata"]["phone_number_id"] = phone_number_id
    for message in value.get("messages", []):
        message["id"] = new_id("wamid.")
    if status:
        value["statuses"][0].update(status)
    return payload


def instagram(name: str, account: str, sender: str, recipient: str, at_ms: int, **event: Any) -> dict[str, Any]:
    """An Instagram corpus file for this account, between these two ids; `event` replaces fields of its event."""
    payload = corpus_json(f"instagram/{name}")
    entry = payload["entry"][0]
    entry["id"], entry["time"] = account, at_ms
    item = entry["messaging"][0]
    item.update(sender={"id": sender}, recipient={"id": recipient}, timestamp=at_ms)
    item[next(k for k in ("message", "reaction", "read") if k in item)].update(event)
    return payload


def twilio_form(name: str, *, drop: tuple[str, ...] = (), **changes: str) -> bytes:
    """A Twilio corpus form with these parameters replaced (or added) and `drop` removed, order kept."""
    params = [(k, changes.pop(k, v)) for k, v in parse_form(fixture(f"twilio/{name}").read_bytes()) if k not in drop]
    return urllib.parse.urlencode(params + list(changes.items())).encode()


# -- the driver ---------------------------------------------------------------------------------------------------

@attrs.define
class Person:
    name: str
    phone: str  # E.164
    igsid: str  # Instagram-scoped id

    @property
    def digits(self) -> str:
        return self.phone.removeprefix("+")


@attrs.define
class Sent:
    provider: Provider
    provider_message_id: str
    at: int  # Unix seconds
    person: str = ""  # who sent it (or to whom the business sent it)


class InboundDriver:
    """One team, its connected accounts, and the webhooks its providers send."""

    def __init__(self, backend: str, tmp_path: Path, owner_url: str | None) -> None:
        self.backend, self.tmp_path, self.owner_url = backend, tmp_path, owner_url
        self.gateways = MemoryProviderRegistry()
        self.stack = contextlib.AsyncExitStack()
        self.keys: dict[Provider, str] = {}  # each provider's account id, fixed before it is connected
        self.accounts: dict[Provider, str] = {}
        self.people: dict[str, Person] = {}
        self.sent: dict[str, Sent] = {}  # by label: the text, or the kind, the feature names the message by
        self.clock = itertools.count(1_767_225_600)  # 2026-01-01: every message a second after the previous
        self.responses: list[ClientResponse] = []
        self.last_body, self.marker = b"", ""
        self.started = dt.datetime.now(dt.UTC)
        self.services: Services
        self.member: Member
        self.client: TestClient | None = None  # type: ignore[type-arg]

    async def start(self) -> None:
        settings = settings_for(self.tmp_path, self.owner_url, PUBLIC_BASE_URL=PUBLIC_BASE_URL,
                                META_APP_SECRET=META_APP_SECRET, META_VERIFY_TOKEN=META_VERIFY_TOKEN,
                                TWILIO_AUTH_TOKEN=TWILIO_TOKEN)
        if self.owner_url is None:
            self.services = memory_services(hasher=FAST_HASHER, providers=self.gateways)
        else:
            self.services = await self.stack.enter_async_context(postgres_services(
                settings, owner=self.owner_url, migrate_first=False, hasher=FAST_HASHER, providers=self.gateways))
        self.started = self.services.clock.now() - dt.timedelta(seconds=1)  # the stored webhooks are younger
        self.member = await make_team(self.services)
        self.client = TestClient(TestServer(create_app(settings, self.services)))
        await self.client.start_server()

    async def close(self) -> None:
        """Frees the provider ids it connected and stops the server and the services, whatever the scenario did."""
        try:
            if self.client is not None:
                await drain(self.client.app)  # type: ignore[arg-type]
            for account_id in self.accounts.values():  # provider ids are unique across teams: free them
                await self.services.connections.remove(self.member.actor, account_id)
        finally:
            if self.client is not None:
                await self.client.close()
            await self.stack.aclose()

    # -- arranging ------------------------------------------------------------------------------------------------

    def key(self, provider: Provider) -> str:
        """The account's id at the provider: phone number id, Instagram account id, or Twilio sender number."""
        digits = {Provider.WHATSAPP_META: ("1", 14), Provider.INSTAGRAM_META: ("17841", 12),
                  Provider.WHATSAPP_TWILIO: ("+1415", 7)}[provider]
        return self.keys.setdefault(provider, new_id(*digits))

    async def connect(self, provider: Provider) -> None:
        account = await self.services.connections.connect(self.member.actor, Connect(
            provider.value, f"Shop on {provider.value}", self.key(provider), CREDENTIALS[provider]))
        self.accounts[provider] = account.id
        await drain(self.client.app)  # type: ignore[arg-type]

    def person(self, name: str, phone: str | None = None) -> Person:
        known = self.people.setdefault(name, Person(name, phone or f"+55119876{len(self.people) + 54321:05d}",
                                                    new_id("", 16)))
        if phone is not None:
            known.phone = phone
        return known

    async def add_client(self, name: str, phone: str) -> None:
        await self.services.clients.create(self.member.actor, ClientFields(name, phone=phone))

    async def set_thread_status(self, label: str, status: ThreadStatus) -> None:
        """No use case resolves or snoozes a thread yet: the driver changes it through the team's unit of work."""
        async with self.services.uows.for_team(self.member.team_id) as uow:
            thread = await uow.threads.get((await self._message(uow, label)).thread_id)
            assert thread is not None
            thread.status = status
            await uow.threads.update(thread)
            await uow.commit()

    async def business_sent(self, provider: Provider, name: str, text: str) -> None:
        """The business's message as an outbound message: an echo where the provider sends one (WhatsApp Cloud,
        Instagram); for Twilio, which has none and no send use case exists yet, written as sending would."""
        if provider is not Provider.WHATSAPP_TWILIO:
            return await self.business_echo(provider, name, text)
        person, sent = self.person(name), self._sent(text, provider, new_id("SM"), reported=True)
        async with self.services.uows.for_team(self.member.team_id) as uow:
            identities = [Identity(IdentityKind.WA_ID, person.digits), Identity(IdentityKind.PHONE,
                                                                                identity_key(person.phone))]
            contact = await uow.contacts.find(identities)
            if contact is None:
                contact = Contact(ContactId(new_id()), uow.team_id, self._now(), person.name, person.phone)
                await uow.contacts.add(contact, identities)
            account_id = self.accounts[provider]
            thread = await uow.threads.latest(account_id, contact.id)
            if thread is None:
                thread = Thread(ThreadId(new_id()), uow.team_id, account_id, contact.id, Channel.WHATSAPP,
                                person.digits, ThreadStatus.OPEN, self._now(), self._now())
                await uow.threads.add(thread)
            assert await uow.messages.add(Message(MessageId(new_id()), uow.team_id, thread.id, account_id,
                                                  sent.provider_message_id, Direction.OUT, MessageType.TEXT,
                                                  self._now(sent.at), DeliveryStatus.SENT, self._now(), text))
            await uow.commit()

    # -- webhooks: messages ---------------------------------------------------------------------------------------

    async def customer_sends(self, provider: Provider, name: str, text: str, phone: str | None = None) -> None:
        person = self.person(name, phone)
        if provider is Provider.INSTAGRAM_META:
            sent = self._sent(text, provider, new_id("aWdfZAG1"), by=name)
            await self.post(provider, instagram("docderived_message_text.json", self.key(provider), person.igsid,
                                                self.key(provider), sent.at * 1000, mid=sent.provider_message_id,
                                                text=text))
        elif provider is Provider.WHATSAPP_META:
            await self.post(provider, self._cloud_texts(person, [text]))
        else:
            sent = self._sent(text, provider, new_id("SM"), by=name)
            await self.post(provider, self._twilio_inbound(person, sent, Body=text))

    async def customer_sends_batch(self, name: str, count: int) -> None:
        """One WhatsApp Cloud webhook with `count` messages (Meta batches them), known as "<name> #1" …"""
        labels = [f"{name} #{n}" for n in range(1, count + 1)]
        await self.post(Provider.WHATSAPP_META, self._cloud_texts(self.person(name), labels))

    async def customer_sends_kind(self, kind: str) -> None:
        payload = cloud_corpus(KINDS[kind], self.key(Provider.WHATSAPP_META))
        message = cloud_value(payload)["messages"][0]
        self.sent[kind] = Sent(Provider.WHATSAPP_META, message["id"], int(message["timestamp"]))
        await self.post(Provider.WHATSAPP_META, payload)

    async def resend(self, how: str) -> None:
        """The provider delivers the last webhook again: the very same body, or (Meta re-batches its retries)
        the same message inside another envelope."""
        if how == "another webhook":
            payload = json.loads(self.last_body)
            payload["entry"][0]["id"] = new_id("", 15)
            return await self.post(Provider.WHATSAPP_META, payload)
        provider = next(p for p, path in PATHS.items() if path == self.responses[-1].url.path)
        await self.post(provider, self.last_body)

    async def customer_sends_photo(self, provider: Provider, name: str, size: int) -> bytes:
        """A JPEG photo of `size` bytes, which the provider serves by media id (Meta) or URL (Twilio)."""
        person, photo = self.person(name), (b"\xff\xd8\xff\xe0" + secrets.token_bytes(size))[:size]
        gateway = self.gateways.gateway(provider)
        if provider is Provider.WHATSAPP_META:
            payload = cloud_corpus("meta_image.json", self.key(provider))
            message = cloud_value(payload)["messages"][0]
            message.update(**{"from": person.digits, "timestamp": str(next(self.clock))})
            message["image"].update(id=new_id("", 16), url=None, sha256=hashlib.sha256(photo).hexdigest())
            gateway.media[message["image"]["id"]] = Media(photo, "image/jpeg")
            self.sent["the photo"] = Sent(provider, message["id"], int(message["timestamp"]))
            await self.post(provider, payload)
        else:
            sent = self._sent("the photo", provider, new_id("MM"))
            url = (f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Messages/{sent.provider_message_id}"
                   f"/Media/ME{new_id()}")
            gateway.media[url] = Media(photo, "image/jpeg")
            await self.post(provider, self._twilio_inbound(person, sent, Body="", NumMedia="1", MessageType="image",
                                                           MediaUrl0=url, MediaContentType0="image/jpeg"))
        return photo

    async def business_echo(self, provider: Provider, name: str, text: str) -> None:
        """A message the business sent from the WhatsApp Business app or the Instagram app."""
        person = self.person(name)
        if provider is Provider.INSTAGRAM_META:
            sent = self._sent(text, provider, new_id("aWdfZAG1"), reported=True)
            return await self.post(provider, instagram(
                "docderived_message_is_echo.json", self.key(provider), self.key(provider), person.igsid,
                sent.at * 1000, mid=sent.provider_message_id, text=text))
        sent = self._sent(text, provider, new_id("wamid."), reported=True)
        template = corpus_json("whatsapp_cloud/meta_text.json")
        echo = {**cloud_text(template, sent.provider_message_id, "15550783881", text, sent.at), "to": person.digits}
        await self.post(provider, cloud_messages(self.key(provider), person, [echo], "smb_message_echoes"))

    async def instagram_event(self, name: str, corpus: str, label: str, **event: Any) -> None:
        """The customer acts on a message (unsends, reacts to, sees it, …) in an Instagram webhook."""
        key, person = self.key(Provider.INSTAGRAM_META), self.person(name)
        target = self.sent[label] if label in self.sent else self._sent(label, Provider.INSTAGRAM_META,
                                                                         new_id("aWdfZAG1"))
        at_ms = next(self.clock) * 1000
        await self.post(Provider.INSTAGRAM_META, instagram(corpus, key, person.igsid, key, at_ms,
                                                           mid=target.provider_message_id, **event))

    async def story_reply(self, name: str, text: str, story_id: str) -> None:
        sent = self._sent(text, Provider.INSTAGRAM_META, new_id("aWdfZAG1"))
        key = self.key(Provider.INSTAGRAM_META)
        await self.post(Provider.INSTAGRAM_META, instagram(
            "docderived_message_reply_to_story.json", key, self.person(name).igsid, key, sent.at * 1000,
            mid=sent.provider_message_id, text=text,
            reply_to={"story": {"url": f"https://lookaside.example/{story_id}", "id": story_id}}))

    # -- webhooks: statuses ---------------------------------------------------------------------------------------

    async def report(self, provider: Provider, label: str, status: str, code: str | None = None) -> None:
        """The provider reports a status (or a failure with this error code) of the business's message to the
        first person the scenario named; a message not sent yet gets its provider id now."""
        person, key = self.person(next(iter(self.people), "Ana Souza")), self.key(provider)
        sent = self.sent.get(label) or self._sent(label, provider, new_id("SM" if provider is Provider.WHATSAPP_TWILIO
                                                                           else "wamid."))
        at = sent.at + SECONDS_AFTER_SENDING[status]
        if provider is Provider.WHATSAPP_META:
            corpus = CLOUD_FAILURES[code or "131047"] if status == "failed" else CLOUD_STATUSES[status]
            payload: dict[str, Any] | bytes = cloud_corpus(corpus, key, id=sent.provider_message_id,
                                                           timestamp=str(at), recipient_id=person.digits)
        elif provider is Provider.INSTAGRAM_META:
            assert status == "read", "Instagram reports only that a message was seen"
            payload = instagram("docderived_messaging_seen.json", key, person.igsid, key, at * 1000,
                                mid=sent.provider_message_id)
        else:  # Twilio has no corpus example of "delivered": the "sent" callback with that status
            corpus = TWILIO_FAILURES[code or "63016"] if status == "failed" else TWILIO_STATUSES.get(status, "")
            changes = {"MessageStatus": status, "SmsStatus": status} if status == "delivered" else {}
            payload = twilio_form(corpus or TWILIO_STATUSES["sent"], From=f"whatsapp:{key}",
                                  To=f"whatsapp:{person.phone}", ChannelToAddress=person.phone,
                                  MessageSid=sent.provider_message_id, SmsSid=sent.provider_message_id, **changes)
        await self.post(provider, payload)

    # -- webhooks: security ---------------------------------------------------------------------------------------

    async def signed_text(self, provider: Provider, signing: str) -> None:
        """A customer's text, signed as `signing` says; its message id is the marker `nothing is stored` looks for."""
        person = self.person("Ana Souza")
        if provider is Provider.WHATSAPP_META:
            body = encode(self._cloud_texts(person, ["Olá"]))
        elif provider is Provider.INSTAGRAM_META:
            sent = self._sent("Olá", provider, new_id("aWdfZAG1"))
            body = encode(instagram("docderived_message_text.json", self.key(provider), person.igsid,
                                    self.key(provider), sent.at * 1000, mid=sent.provider_message_id, text="Olá"))
        else:
            body = self._twilio_inbound(person, self._sent("Olá", provider, new_id("SM")), Body="Olá")
        self.marker = self.sent["Olá"].provider_message_id
        if signing == "the signature of the original body":
            tampered = body.replace("Olá".encode(), "Olé".encode()).replace(b"Ol%C3%A1", b"Ol%C3%A9")
            assert tampered != body
            return await self.post(provider, tampered, signing, original=body)
        await self.post(provider, body, signing)

    async def malformed(self, provider: Provider, defect: str) -> None:
        """A correctly signed webhook that the inbox cannot read."""
        self.marker = new_id("marker")
        if defect == "a body that is not JSON":
            return await self.post(provider, b'{"object": "%s", "entry": [' % self.marker.encode())
        person = self.person("Ana Souza")
        if provider is Provider.WHATSAPP_META:
            payload: dict[str, Any] | bytes = self._cloud_texts(person, [self.marker])
            del cloud_value(payload)["messages"][0]["id"]
        elif provider is Provider.INSTAGRAM_META:
            key = self.key(provider)
            payload = instagram("docderived_message_text.json", key, person.igsid, key, 1_767_225_600_000,
                                text=self.marker)
            del payload["entry"][0]["messaging"][0]["message"]["mid"]
        else:
            payload = self._twilio_inbound(person, Sent(provider, "", 0), Body=self.marker,
                                           drop=("MessageSid", "SmsMessageSid", "SmsSid"))
        await self.post(provider, payload)

    async def sized(self, provider: Provider, size: int, chunked: bool) -> None:
        """A correctly signed text webhook padded to exactly `size` bytes."""
        person = self.person("Ana Souza")
        if provider is Provider.WHATSAPP_TWILIO:
            body = self._twilio_inbound(person, self._sent("padded", provider, new_id("SM")), Body="padded")
            body += b"&Pad=" + b"x" * (size - len(body) - len(b"&Pad="))
        else:
            if provider is Provider.WHATSAPP_META:
                body = encode(self._cloud_texts(person, ["padded"]))
            else:
                sent = self._sent("padded", provider, new_id("aWdfZAG1"))
                key = self.key(provider)
                body = encode(instagram("docderived_message_text.json", key, person.igsid, key, sent.at * 1000,
                                        mid=sent.provider_message_id, text="padded"))
            body += b" " * (size - len(body))
        assert len(body) == size
        await self.post(provider, body, chunked=chunked)

    async def handshake(self, provider: Provider, mode: str, token: str | None, challenge: str) -> None:
        params = {k: v for k, v in (("hub.mode", mode), ("hub.verify_token", token), ("hub.challenge", challenge))
                  if v is not None}
        self.responses.append(await self.client.get(PATHS[provider], params=params))

    async def post(self, provider: Provider, payload: dict[str, Any] | bytes, signing: str = "a valid signature", *,
                   original: bytes | None = None, chunked: bool = False) -> None:
        """POSTs the body as the provider would, signed as `signing` says, then waits for background work."""
        body = encode(payload)
        self.last_body = body
        signed_body = original or body
        if provider is Provider.WHATSAPP_TWILIO:
            header = "X-Twilio-Signature"
            params = _form_or_empty(signed_body)
            valid = twilio_signature.compute_signature(PUBLIC_BASE_URL + TWILIO_PATH, params, TWILIO_TOKEN)
            wrong = twilio_signature.compute_signature(PUBLIC_BASE_URL + TWILIO_PATH, params, "0" * 32)
            content_type = "application/x-www-form-urlencoded"
        else:
            header, content_type = meta_signature.SIGNATURE_HEADER, "application/json"
            valid, wrong = meta_signature.sign(signed_body, META_APP_SECRET), meta_signature.sign(body, "f" * 32)
        if signing == "a valid signature" and len(body) < LARGE and not chunked:
            response = await (post_twilio(self.client, body) if provider is Provider.WHATSAPP_TWILIO
                              else post_meta(self.client, PATHS[provider], body))
        else:
            signature = {"a valid signature": valid, "no signature": None, "an empty signature": "",
                         "a wrong signature": wrong, "a signature in the wrong format": "sha1=" + valid[-40:],
                         "the signature of the original body": valid}[signing]
            headers = {"Content-Type": content_type} | ({header: signature} if signature is not None else {})
            data = _chunks(body) if chunked else io.BytesIO(body) if len(body) >= LARGE else body
            response = await self.client.post(PATHS[provider], data=data, headers=headers)
        await response.read()
        self.responses.append(response)
        await drain(self.client.app)  # type: ignore[arg-type]

    # -- observing ------------------------------------------------------------------------------------------------

    async def message(self, label: str) -> Message | None:
        async with self.services.uows.for_team(self.member.team_id) as uow:
            return await self._message(uow, label, required=False)

    async def thread_of(self, label: str) -> Thread:
        async with self.services.uows.for_team(self.member.team_id) as uow:
            thread = await uow.threads.get((await self._message(uow, label)).thread_id)
        assert thread is not None
        return thread

    async def contact_of(self, label: str) -> Contact:
        thread = await self.thread_of(label)
        async with self.services.uows.for_team(self.member.team_id) as uow:
            contact = await uow.contacts.get(thread.contact_id)
        assert contact is not None
        return contact

    async def thread_messages(self, name: str) -> list[Message]:
        """Every message of the thread of `name`'s last message."""
        label = [label for label, sent in self.sent.items() if sent.person == name][-1]
        thread = await self.thread_of(label)
        async with self.services.uows.for_team(self.member.team_id) as uow:
            return await uow.messages.list_for_thread(thread.id, limit=1000)

    async def reactions(self, label: str) -> list[str | None]:
        """The emoji of each reaction to this message kept in its thread (None for a withdrawn one)."""
        target, thread = self.sent[label].provider_message_id, await self.thread_of(label)
        async with self.services.uows.for_team(self.member.team_id) as uow:
            messages = await uow.messages.list_for_thread(thread.id, limit=1000)
        return [m.meta["reaction"]["emoji"] for m in messages if m.type is MessageType.REACTION
                and m.meta["reaction"]["provider_message_id"] == target]

    async def attachments(self, label: str) -> list[Attachment]:
        async with self.services.uows.for_team(self.member.team_id) as uow:
            return await uow.messages.attachments((await self._message(uow, label)).id)

    async def client_id(self, name: str) -> str:
        page = await self.services.clients.list(self.member.actor, PageRequest())
        return next(client.id for client in page.items if client.name == name)

    async def kept_webhooks(self) -> int:
        """How many stored raw webhooks (since this scenario started) carry the last marker."""
        async with self.services.uows.for_accounts() as uow:
            if self.backend == "postgres":
                table = schema.inbound_events
                bodies = [r.body for r in await uow.conn.execute(  # type: ignore[attr-defined]
                    sa.select(table.c.body).where(table.c.received_at >= self.started))]
            else:
                rows = uow.tx.rows("inbound_events").values()  # type: ignore[attr-defined]
                bodies = [row.event.body for row in rows]
        return sum(self.marker.encode() in bytes(body) for body in bodies)

    @property
    def response(self) -> ClientResponse:
        return self.responses[-1]

    # -- helpers --------------------------------------------------------------------------------------------------

    def _sent(self, label: str, provider: Provider, provider_message_id: str, *, reported: bool = False,
              by: str = "") -> Sent:
        """Names a new message `label` (sent `by` a person); with `reported`, keeps the id a status already
        reported for it."""
        if reported and label in self.sent:
            provider_message_id = self.sent[label].provider_message_id
        self.sent[label] = Sent(provider, provider_message_id, next(self.clock), by)
        return self.sent[label]

    def _now(self, seconds: int | None = None) -> dt.datetime:
        return dt.datetime.fromtimestamp(seconds if seconds is not None else next(self.clock), tz=dt.UTC)

    def _cloud_texts(self, person: Person, labels: list[str]) -> dict[str, Any]:
        template = corpus_json("whatsapp_cloud/meta_text.json")
        sent = [self._sent(label, Provider.WHATSAPP_META, new_id("wamid."), by=person.name) for label in labels]
        messages = [cloud_text(template, s.provider_message_id, person.digits, label, s.at)
                    for label, s in zip(labels, sent, strict=True)]
        return cloud_messages(self.key(Provider.WHATSAPP_META), person, messages)

    def _twilio_inbound(self, person: Person, sent: Sent, drop: tuple[str, ...] = (), **changes: str) -> bytes:
        """The corpus' inbound text, from `person` to this team's Twilio number."""
        sid, to = sent.provider_message_id, f"whatsapp:{self.key(sent.provider)}"
        return twilio_form("inbound_whatsapp_text_sandbox_profilename_masked.txt", drop=drop, To=to,
                           From=f"whatsapp:{person.phone}", WaId=person.digits, ProfileName=person.name,
                           MessageSid=sid, SmsMessageSid=sid, SmsSid=sid, AccountSid="AC" + "0" * 32, **changes)

    async def _message(self, uow: Any, label: str, *, required: bool = True) -> Any:
        sent = self.sent[label]
        account_id = self.accounts.get(sent.provider)
        message = await uow.messages.by_provider_id(account_id, sent.provider_message_id) if account_id else None
        assert message is not None or not required, f"no message {label!r} was stored"
        return message


def _form_or_empty(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_form(body)
    except ValueError:
        return []


async def _chunks(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


# -- parameter types -------------------------------------------------------------------------------------------

def _one_of(words: Any, convert: Callable[[str], Any] = lambda text: text) -> Callable[[str], Any]:
    pattern = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return parse.with_pattern(pattern)(lambda text: convert(text))


TYPES = {
    "Provider": _one_of(PROVIDERS, PROVIDERS.__getitem__),
    "App": _one_of(APPS, APPS.__getitem__),
    "Text": parse.with_pattern(r'[^"]*')(lambda text: text),
    "Phone": parse.with_pattern(r"\+[0-9]{8,15}")(lambda text: text),
    "Direction": _one_of(["inbound", "outbound"], lambda text: Direction.IN if text == "inbound" else Direction.OUT),
    "Type": _one_of([t.value for t in MessageType], MessageType),
    "Status": _one_of([s.value for s in DeliveryStatus], DeliveryStatus),
    "Statuses": parse.with_pattern(r"[a-z]+(?:, [a-z]+)*")(lambda text: text.split(", ")),
    "ThreadStatus": _one_of([s.value for s in ThreadStatus], ThreadStatus),
    "Channel": _one_of([c.value for c in Channel], Channel),
    "Kind": _one_of(KINDS),
    "Signing": _one_of(SIGNINGS),
    "Count": parse.with_pattern(r"[0-9]+ messages?")(lambda text: int(text.split()[0])),
    "Article": parse.with_pattern(r"an?")(lambda text: text),
}


def step(text: str) -> parsers.parse:
    return parsers.parse(text, extra_types=TYPES)
