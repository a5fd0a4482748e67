"""The provider simulator end to end: signed inbound webhooks the real verifiers and parsers accept, the REST and
Graph send APIs with recorded requests, and status callback sequences."""
from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
from typing import Any

import aiohttp
import pytest

from commsinbox.adapters.providers import meta_signature
from commsinbox.adapters.providers.meta_instagram import webhook as instagram_webhook
from commsinbox.adapters.providers.meta_whatsapp import webhook as whatsapp_webhook
from commsinbox.adapters.providers.registry import http_gateways
from commsinbox.adapters.providers.twilio_whatsapp import signature as twilio_signature
from commsinbox.adapters.providers.twilio_whatsapp import webhook as twilio_webhook
from commsinbox.domain.model.channels import DeliveryStatus, MessageType, Provider
from commsinbox.domain.model.inbound import InboundMessage, StatusUpdate
from commsinbox.ports.providers import AccountAccess
from tests.integration.http.conftest import Received, Sim

pytestmark = pytest.mark.integration

SENDER = "+14155238886"
CUSTOMER = "+31612345678"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20


async def media_json(sim: Sim, data: bytes, content_type: str, **extra: Any) -> dict[str, Any]:
    """Registers media in the JSON/base64 form (Sim.media posts raw bytes)."""
    return await sim.control("media", {"contentBase64": base64.b64encode(data).decode(),
                                       "contentType": content_type, **extra})


async def _twilio(sim: Sim) -> dict[str, Any]:
    return await sim.control("accounts", {"provider": "whatsapp-twilio", "senders": [SENDER],
                                          "optedOut": ["+15550000000"]})


async def _whatsapp(sim: Sim) -> dict[str, Any]:
    return await sim.control("accounts", {"provider": "whatsapp-meta", "phoneNumberId": "106540352242922",
                                          "wabaId": "102290129340398", "displayPhoneNumber": "+15550783881",
                                          "appSecret": "wa-app-secret"})


async def _instagram(sim: Sim) -> dict[str, Any]:
    return await sim.control("accounts", {"provider": "instagram-meta", "igId": "17841400000000001",
                                          "appSecret": "ig-app-secret"})


def _twilio_params(received: Received) -> list[tuple[str, str]]:
    return twilio_webhook.parse_form(received.body)


# Inbound webhooks --------------------------------------------------------------------------------------------------
async def test_twilio_inbound_is_signed_parseable_and_its_media_fetchable(sim: Sim) -> None:
    account = await _twilio(sim)
    media = await media_json(sim, PNG, "image/png", accountSid=account["accountSid"])
    answer = await sim.control("inbound", {"provider": "whatsapp-twilio", "from": CUSTOMER, "to": SENDER,
                                           "text": "two photos", "media": [media["id"]], "profileName": "Jane"})
    assert answer["httpStatus"] == 200 and answer["delivered"]
    (hook,) = sim.received
    params = _twilio_params(hook)
    assert hook.url == f"{sim.state.target}/webhooks/twilio/whatsapp"
    assert twilio_signature.is_valid(hook.headers["X-Twilio-Signature"], hook.url, params, account["authToken"])
    assert not twilio_signature.is_valid(hook.headers["X-Twilio-Signature"], hook.url, params, "another-token")
    (message,) = twilio_webhook.parse(params, dt.datetime.now(dt.UTC))
    assert isinstance(message, InboundMessage)
    assert (message.account_key, message.contact.phone, message.text) == (SENDER, CUSTOMER, "two photos")
    assert message.provider_message_id == answer["messageIds"][0] and message.provider_message_id.startswith("MM")
    gateway = http_gateways(sim.session, twilio_base_url=sim.base).gateway(Provider.WHATSAPP_TWILIO)
    access = AccountAccess(Provider.WHATSAPP_TWILIO, SENDER,
                           {"accountSid": account["accountSid"], "authToken": account["authToken"]})
    fetched = await gateway.fetch_media(access, message.media[0], max_bytes=1 << 20)
    assert (fetched.data, fetched.content_type) == (PNG, "image/png")


async def test_whatsapp_inbound_batch_is_signed_and_every_message_parses(sim: Sim) -> None:
    account = await _whatsapp(sim)
    media = await media_json(sim, PNG, "image/png")
    answer = await sim.control("inbound", {"provider": "whatsapp-meta", "from": "16505551234", "text": "hello",
                                           "count": 3, "media": [media["id"]]})
    (hook,) = sim.received  # one POST carrying four messages
    assert meta_signature.is_valid(hook.headers[meta_signature.SIGNATURE_HEADER], hook.body, "wa-app-secret")
    assert not meta_signature.is_valid(hook.headers[meta_signature.SIGNATURE_HEADER], hook.body + b" ", "wa-app-secret")
    events = whatsapp_webhook.parse(answer["payload"])
    assert [e.provider_message_id for e in events] == answer["messageIds"]
    assert [e.text for e in events if isinstance(e, InboundMessage)][:3] == ["hello #1", "hello #2", "hello #3"]
    assert {e.account_key for e in events} == {account["phoneNumberId"]}
    image = events[3]
    assert isinstance(image, InboundMessage) and image.type is MessageType.IMAGE
    gateway = http_gateways(sim.session, graph_base_url=sim.base).gateway(Provider.WHATSAPP_META)
    access = AccountAccess(Provider.WHATSAPP_META, account["phoneNumberId"], {"accessToken": account["accessToken"]})
    assert (await gateway.fetch_media(access, image.media[0], max_bytes=1 << 20)).data == PNG  # sha256 checked


async def test_instagram_inbound_is_signed_and_its_attachment_fetchable(sim: Sim) -> None:
    account = await _instagram(sim)
    media = await media_json(sim, PNG, "image/png")
    answer = await sim.control("inbound", {"provider": "instagram-meta", "from": "9000000000000042",
                                           "text": "look", "media": [media["id"]]})
    (hook,) = sim.received
    assert hook.url.endswith("/webhooks/meta/instagram")
    assert meta_signature.is_valid(hook.headers[meta_signature.SIGNATURE_HEADER], hook.body, "ig-app-secret")
    text, photo = instagram_webhook.parse(answer["payload"])
    assert isinstance(text, InboundMessage) and text.text == "look" and text.contact.external_id == "9000000000000042"
    assert isinstance(photo, InboundMessage) and photo.account_key == account["igId"]
    gateway = http_gateways(sim.session, graph_base_url=sim.base).gateway(Provider.INSTAGRAM_META)
    access = AccountAccess(Provider.INSTAGRAM_META, account["igId"], {"accessToken": account["accessToken"]})
    assert (await gateway.fetch_media(access, photo.media[0], max_bytes=1 << 20)).data == PNG


async def test_inbound_can_be_built_without_delivering(sim: Sim) -> None:
    await _whatsapp(sim)
    answer = await sim.control("inbound", {"provider": "whatsapp-meta", "text": "hi", "deliver": False})
    assert answer["delivered"] is False and answer["httpStatus"] is None and sim.received == []
    assert answer["payload"]["entry"][0]["changes"][0]["value"]["messages"][0]["text"] == {"body": "hi"}


# Send APIs and recorded requests -----------------------------------------------------------------------------------
async def _twilio_send(sim: Sim, account: dict[str, Any], to: str, **extra: str) -> aiohttp.ClientResponse:
    form = {"To": f"whatsapp:{to}", "From": f"whatsapp:{SENDER}", "Body": "Hello! 👍", **extra}
    return await sim.session.post(f"{sim.base}/2010-04-01/Accounts/{account['accountSid']}/Messages.json",
                                  data=form, headers={"Authorization": aiohttp.encode_basic_auth(
                                      account["accountSid"], account["authToken"])})


async def test_twilio_send_answers_a_message_resource_and_is_recorded(sim: Sim) -> None:
    account = await _twilio(sim)
    async with await _twilio_send(sim, account, CUSTOMER) as response:
        assert response.status == 201
        resource = await response.json()
    assert re.fullmatch(r"SM[0-9a-f]{32}", resource["sid"]) and resource["status"] == "queued"
    assert resource["direction"] == "outbound-api" and resource["body"] == "Hello! 👍"
    (recorded,) = await sim.requests("/2010-04-01/")
    assert recorded["method"] == "POST" and recorded["headers"]["Authorization"] == "Basic"
    assert recorded["form"] == [["To", f"whatsapp:{CUSTOMER}"], ["From", f"whatsapp:{SENDER}"],
                                ["Body", "Hello! 👍"]]
    assert account["authToken"] not in str(recorded)


async def test_twilio_send_to_an_opted_out_number_is_21610(sim: Sim) -> None:
    account = await _twilio(sim)
    async with await _twilio_send(sim, account, "+15550000000") as response:
        assert response.status == 400
        assert (await response.json())["code"] == 21610


async def test_meta_sends_and_templates_answer_like_graph(sim: Sim) -> None:
    wa, ig = await _whatsapp(sim), await _instagram(sim)
    bearer = {"Authorization": f"Bearer {wa['accessToken']}"}
    send = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+16505551234", "type": "text",
            "text": {"body": "hi"}}
    async with sim.session.post(f"{sim.base}/v23.0/{wa['phoneNumberId']}/messages", json=send,
                                headers=bearer) as response:
        sent = await response.json()
    assert sent["contacts"] == [{"input": "+16505551234", "wa_id": "16505551234"}]
    assert sent["messages"][0]["id"].startswith("wamid.")
    template = {"name": "order_update", "language": "en_US", "category": "utility", "components": []}
    async with sim.session.post(f"{sim.base}/v23.0/{wa['wabaId']}/message_templates", json=template,
                                headers=bearer) as response:
        created = await response.json()
    assert created["status"] == "PENDING" and created["category"] == "UTILITY" and created["id"].isdigit()
    async with sim.session.post(f"{sim.base}/v23.0/me/messages",
                                headers={"Authorization": f"Bearer {ig['accessToken']}"},
                                json={"recipient": {"id": "9000000000000001"}, "message": {"text": "hey"}}) as response:
        assert set(await response.json()) == {"recipient_id", "message_id"}
    async with sim.session.post(f"{sim.base}/v23.0/{wa['phoneNumberId']}/messages", json=send,
                                headers={"Authorization": "Bearer nope"}) as response:
        assert response.status == 401 and (await response.json())["error"]["code"] == 190
    recorded = await sim.requests("/v23.0/")
    assert [r["path"] for r in recorded] == [
        f"/v23.0/{wa['phoneNumberId']}/messages", f"/v23.0/{wa['wabaId']}/message_templates", "/v23.0/me/messages",
        f"/v23.0/{wa['phoneNumberId']}/messages"]
    assert recorded[0]["json"] == send and recorded[1]["json"]["name"] == "order_update"
    assert all(r["headers"]["Authorization"] == "Bearer" for r in recorded)


# Status callbacks --------------------------------------------------------------------------------------------------
async def test_whatsapp_status_callbacks_go_sent_delivered_read(sim: Sim) -> None:
    wa = await _whatsapp(sim)
    async with sim.session.post(f"{sim.base}/v23.0/{wa['phoneNumberId']}/messages",
                                headers={"Authorization": f"Bearer {wa['accessToken']}"},
                                json={"messaging_product": "whatsapp", "to": "16505551234", "type": "text",
                                      "text": {"body": "hi"}}) as response:
        wamid = (await response.json())["messages"][0]["id"]
    answer = await sim.control("status", {"messageId": wamid})
    assert [(d["status"], d["httpStatus"]) for d in answer["deliveries"]] == [
        ("sent", 200), ("delivered", 200), ("read", 200)]
    updates = []
    for hook in sim.received:
        assert meta_signature.is_valid(hook.headers[meta_signature.SIGNATURE_HEADER], hook.body, "wa-app-secret")
        updates += whatsapp_webhook.parse(json.loads(hook.body))
    assert [(u.provider_message_id, u.status) for u in updates] == [
        (wamid, DeliveryStatus.SENT), (wamid, DeliveryStatus.DELIVERED), (wamid, DeliveryStatus.READ)]
    sim.received.clear()
    await sim.control("status", {"messageId": wamid, "outcome": "failed", "errorCode": 131047})
    (failed,) = whatsapp_webhook.parse(json.loads(sim.received[0].body))
    assert isinstance(failed, StatusUpdate) and failed.status is DeliveryStatus.FAILED
    assert failed.error_code == "131047"


async def test_twilio_status_callbacks_are_signed_for_the_status_callback_url(sim: Sim) -> None:
    account = await _twilio(sim)
    callback = f"{sim.state.target}/webhooks/twilio/whatsapp?team=a"
    async with await _twilio_send(sim, account, CUSTOMER, StatusCallback=callback) as response:
        sid = (await response.json())["sid"]
    answer = await sim.control("status", {"messageId": sid})
    assert [(d["status"], d["httpStatus"]) for d in answer["deliveries"]] == [
        ("sent", 200), ("delivered", 200), ("read", 200)]
    statuses = []
    for hook in sim.received:
        assert hook.url == callback
        params = _twilio_params(hook)
        assert twilio_signature.is_valid(hook.headers["X-Twilio-Signature"], hook.url, params, account["authToken"])
        statuses += twilio_webhook.parse(params, dt.datetime.now(dt.UTC))
    assert [(s.provider_message_id, s.status, s.account_key) for s in statuses] == [
        (sid, DeliveryStatus.SENT, SENDER), (sid, DeliveryStatus.DELIVERED, SENDER), (sid, DeliveryStatus.READ, SENDER)]
    sim.received.clear()
    await sim.control("status", {"messageId": sid, "outcome": "failed", "errorCode": 63016})
    (failed,) = twilio_webhook.parse(_twilio_params(sim.received[0]), dt.datetime.now(dt.UTC))
    assert isinstance(failed, StatusUpdate) and failed.status is DeliveryStatus.FAILED and failed.error_code == "63016"


async def test_instagram_read_is_messaging_seen_and_the_rest_is_skipped(sim: Sim) -> None:
    ig = await _instagram(sim)
    async with sim.session.post(f"{sim.base}/v23.0/{ig['igId']}/messages",
                                headers={"Authorization": f"Bearer {ig['accessToken']}"},
                                json={"recipient": {"id": "9000000000000007"}, "message": {"text": "hey"}}) as response:
        mid = (await response.json())["message_id"]
    answer = await sim.control("status", {"messageId": mid})
    assert [("skipped" in d, d["status"]) for d in answer["deliveries"]] == [
        (True, "sent"), (True, "delivered"), (False, "read")]
    (hook,) = sim.received
    assert meta_signature.is_valid(hook.headers[meta_signature.SIGNATURE_HEADER], hook.body, "ig-app-secret")
    (seen,) = instagram_webhook.parse(json.loads(hook.body))
    assert isinstance(seen, StatusUpdate) and (seen.provider_message_id, seen.status) == (mid, DeliveryStatus.READ)


async def test_status_for_an_unknown_message_is_404_and_reset_forgets_everything(sim: Sim) -> None:
    await _whatsapp(sim)
    await sim.control("status", {"messageId": "wamid.unknown"}, expect=404)
    async with sim.session.get(f"{sim.base}/v23.0/106540352242922") as response:
        assert response.status == 401
    assert len(await sim.requests()) == 1
    await sim.control("reset", {})
    assert await sim.requests() == [] and sim.state.meta == {}


# Send checks, recorded times, settings -----------------------------------------------------------------------------
async def test_requests_are_recorded_in_order_with_their_arrival_time(sim: Sim) -> None:
    account = await _twilio(sim)
    for _ in range(3):
        async with await _twilio_send(sim, account, CUSTOMER):
            pass
    recorded = await sim.requests()
    assert [r["seq"] for r in recorded] == [1, 2, 3]
    assert {r["at"] for r in recorded} == {sim.state.clock.now().isoformat()}  # the simulator's clock
    assert recorded[0]["monotonic"] <= recorded[1]["monotonic"] <= recorded[2]["monotonic"]


@pytest.mark.parametrize("extra, code", [
    ({"To": CUSTOMER}, 21910),
    ({"To": "whatsapp:12345"}, 21211),
    ({"From": "whatsapp:+15550009999"}, 63007),
    ({"Body": "x" * 1601}, 21617),
    ({"MediaUrl": "ftp://example.com/a.png"}, 21620),
    ({"StatusCallback": "not a url"}, 21609),
    ({"ContentVariables": '{"1": "a"}'}, 21654),
    ({"ContentSid": "HX" + "0" * 32}, 21655),
])
async def test_twilio_send_is_checked_like_twilio(sim: Sim, extra: dict[str, str], code: int) -> None:
    account = await _twilio(sim)
    async with await _twilio_send(sim, account, CUSTOMER, **extra) as response:
        assert response.status == 400
        assert (await response.json())["code"] == code
    assert sim.state.messages == {}


async def test_twilio_content_variables_must_be_a_json_object_of_clean_values(sim: Sim) -> None:
    account = await _twilio(sim)
    content = await sim.control("templates", {"provider": "whatsapp-twilio", "accountSid": account["accountSid"]})
    for variables, status in (('{"1": "two\\nlines"}', 400), ("[1]", 400), ('{"1": "Ana"}', 201)):
        async with await _twilio_send(sim, account, CUSTOMER, ContentSid=content["id"],
                                      ContentVariables=variables) as response:
            assert response.status == status, variables


async def test_whatsapp_upload_refuses_types_and_sizes_meta_refuses(sim: Sim) -> None:
    wa = await _whatsapp(sim)
    url = f"{sim.base}/v23.0/{wa['phoneNumberId']}/media"
    for content_type, size, status in (("image/gif", 10, 400), ("image/jpeg", 5 * 2**20 + 1, 400),
                                       ("image/jpeg", 10, 200)):
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("file", io.BytesIO(b"x" * size), content_type=content_type, filename="f")
        async with sim.session.post(url, data=form,
                                    headers={"Authorization": f"Bearer {wa['accessToken']}"}) as response:
            body = await response.json()
            assert response.status == status, body
            assert status == 200 or body["error"]["code"] == 131053


@pytest.mark.parametrize("body, ok", [
    ({"messaging_type": "MESSAGE_TAG", "message": {"text": "x"}}, False),
    ({"messaging_type": "MESSAGE_TAG", "tag": "CONFIRMED_EVENT_UPDATE", "message": {"text": "x"}}, False),
    ({"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT", "message": {"text": "x"}}, True),
    ({"message": {"text": "x", "attachment": {"type": "image", "payload": {"url": "https://a.b/c"}}}}, False),
    ({"message": {"attachment": {"type": "image", "payload": {"url": "file:///etc/passwd"}}}}, False),
    ({"sender_action": "mark_seen"}, True),
    ({"sender_action": "dance"}, False),
])
async def test_instagram_send_is_checked_like_graph(sim: Sim, body: dict[str, Any], ok: bool) -> None:
    ig = await _instagram(sim)
    async with sim.session.post(f"{sim.base}/v23.0/me/messages", json={"recipient": {"id": "42"}, **body},
                                headers={"Authorization": f"Bearer {ig['accessToken']}"}) as response:
        assert (response.status == 200) is ok, await response.text()
        if not ok:
            assert (await response.json())["error"]["code"] == 100


async def test_faults_by_code_and_method_and_settings(sim: Sim) -> None:
    wa = await _whatsapp(sim)
    await sim.control("faults", {"path_prefix": "/v23.0/", "method": "POST", "code": 131047})
    await sim.control("faults", {"path_prefix": "/v23.0/"}, expect=400)  # says nothing to do
    async with sim.session.get(f"{sim.base}/v23.0/{wa['phoneNumberId']}",
                               headers={"Authorization": f"Bearer {wa['accessToken']}"}) as response:
        assert response.status == 200  # a GET: the fault waits for a POST
    async with sim.session.post(f"{sim.base}/v23.0/{wa['phoneNumberId']}/messages", json={},
                                headers={"Authorization": f"Bearer {wa['accessToken']}"}) as response:
        error = (await response.json())["error"]
    assert response.status == 400 and error["code"] == 131047
    assert error["error_data"]["details"].startswith("Message failed to send because more than 24 hours")
    async with sim.session.get(f"{sim.base}/_sim/settings") as response:
        assert (await response.json())["autoStatus"] is False
    changed = await sim.control("settings", {"autoStatus": True, "autoStatusOutcome": "delivered"})
    assert (changed["autoStatus"], changed["autoStatusOutcome"]) == (True, "delivered")
    await sim.control("settings", {"autoStatusOutcome": "lost"}, expect=400)
