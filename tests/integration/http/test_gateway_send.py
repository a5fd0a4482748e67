"""Sending through the three provider gateways against the simulator over real HTTP: the exact requests, the
answers, error mapping (transient, reason, ambiguous), read marks, templates and automatic status webhooks."""
from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import aiohttp
import attrs
import pytest

from commsinbox.adapters.providers import meta_signature
from commsinbox.adapters.providers.meta_instagram import webhook as instagram_webhook
from commsinbox.adapters.providers.meta_whatsapp import webhook as whatsapp_webhook
from commsinbox.adapters.providers.meta_whatsapp.gateway import MetaWhatsAppGateway
from commsinbox.adapters.providers.registry import http_gateways
from commsinbox.adapters.providers.twilio_whatsapp import signature as twilio_signature
from commsinbox.adapters.providers.twilio_whatsapp import webhook as twilio_webhook
from commsinbox.adapters.providers.twilio_whatsapp.gateway import TwilioWhatsAppGateway
from commsinbox.domain.model.channels import DeliveryStatus, MessageType, Provider
from commsinbox.domain.model.errors import InvalidInput
from commsinbox.domain.model.inbound import StatusUpdate
from commsinbox.ports.providers import (CredentialsRejected, FailureReason, Outgoing, OutgoingMedia, OutgoingTemplate,
                                        ProviderError)
from tests.integration.http.conftest import SENDER, WABA_ID, Sim, closed_port_url

pytestmark = pytest.mark.integration

CUSTOMER = "+16505551234"
IGSID = "9000000000000042"
KEY = "msg-0001"
SLOW = aiohttp.ClientTimeout(total=5, sock_read=0.2)
MEDIA = {  # kind → (content type, what Instagram calls the attachment)
    MessageType.IMAGE: ("image/jpeg", "image"), MessageType.VIDEO: ("video/mp4", "video"),
    MessageType.AUDIO: ("audio/aac", "audio"), MessageType.DOCUMENT: ("application/pdf", "file"),
    MessageType.STICKER: ("image/webp", None),
}


def _media(kind: MessageType, **extra: Any) -> OutgoingMedia:
    return OutgoingMedia(kind=kind, content_type=MEDIA[kind][0], size=1000,
                         url=extra.pop("url", f"https://cdn.example.com/{kind}.bin"), **extra)


async def _one(sim: Sim, prefix: str = "") -> dict[str, Any]:
    (request,) = await sim.requests(prefix)
    return request


# WhatsApp Cloud API -------------------------------------------------------------------------------------------------
async def test_whatsapp_text_is_the_graph_request_meta_documents(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    sent = await gateway.send(access, Outgoing(to="16505551234", idempotency_key=KEY, text="Hi! see https://x.io",
                                               reply_to="wamid.ABC"))
    assert sent.provider_message_id.startswith("wamid.") and sent.provider_message_id in sim.state.messages
    request = await _one(sim)
    assert (request["method"], request["path"]) == ("POST", f"/v23.0/{access.external_id}/messages")
    assert request["headers"]["Authorization"] == "Bearer"
    assert request["json"] == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER, "type": "text",
        "text": {"preview_url": True, "body": "Hi! see https://x.io"}, "context": {"message_id": "wamid.ABC"},
        "biz_opaque_callback_data": KEY}


@pytest.mark.parametrize("kind", list(MEDIA))
async def test_whatsapp_sends_each_media_kind_by_link(sim: Sim, whatsapp: Any, kind: MessageType) -> None:
    gateway, access = whatsapp
    captioned = kind in (MessageType.IMAGE, MessageType.VIDEO, MessageType.DOCUMENT)
    media = _media(kind, filename="terms.pdf" if kind is MessageType.DOCUMENT else None)
    await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, media=media,
                                        text="look" if captioned else None))
    body = (await _one(sim))["json"]
    expected: dict[str, Any] = {"link": media.url}
    if captioned:
        expected["caption"] = "look"
    if kind is MessageType.DOCUMENT:
        expected["filename"] = "terms.pdf"
    assert (body["type"], body[str(kind)]) == (str(kind), expected)


async def test_whatsapp_uploads_bytes_first_and_sends_the_media_id(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(3 * 2**20)  # over 1 MB: streamed, not inlined
    media = OutgoingMedia(kind=MessageType.IMAGE, content_type="image/png", size=len(data), data=data,
                          filename="photo.png")
    await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, media=media))
    upload, send = await sim.requests()
    assert (upload["method"], upload["path"]) == ("POST", f"/v23.0/{access.external_id}/media")
    assert upload["headers"]["Authorization"] == "Bearer"
    assert upload["multipart"] == [
        {"name": "messaging_product", "value": "whatsapp"}, {"name": "type", "value": "image/png"},
        {"name": "file", "filename": "photo.png", "contentType": "image/png", "size": len(data)}]
    media_id = send["json"]["image"]["id"]
    assert send["json"]["image"] == {"id": media_id} and sim.state.media[media_id].data == data


async def test_whatsapp_upload_refused_by_meta_stops_before_the_send(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    await sim.fault(f"/v23.0/{access.external_id}/media", code=131053)
    media = OutgoingMedia(kind=MessageType.IMAGE, content_type="image/png", size=3, data=b"png")
    with pytest.raises(ProviderError) as caught:
        await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, media=media))
    assert (caught.value.code, caught.value.reason, caught.value.transient) == ("131053", "media_rejected", False)
    assert [r["path"] for r in await sim.requests()] == [f"/v23.0/{access.external_id}/media"]


async def test_whatsapp_template_with_body_variables(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    await sim.control("templates", {"provider": "whatsapp-meta", "wabaId": WABA_ID, "name": "order_update",
                                    "language": "en_US", "variables": 2})
    template = OutgoingTemplate(name="order_update", language="en_US", variables=("Ana", "#1234"))
    await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, template=template))
    assert (await _one(sim))["json"]["template"] == {
        "name": "order_update", "language": {"code": "en_US"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                                       {"type": "text", "text": "#1234"}]}]}


@pytest.mark.parametrize("registered, variables, code", [
    ({"status": "PENDING", "variables": 1}, ("x",), "132001"),
    (None, ("x",), "132001"),
    ({"status": "PAUSED", "variables": 1}, ("x",), "132015"),
    ({"status": "APPROVED", "variables": 2}, ("x",), "132000"),
])
async def test_whatsapp_templates_meta_would_refuse(sim: Sim, whatsapp: Any, registered: dict[str, Any] | None,
                                                    variables: tuple[str, ...], code: str) -> None:
    gateway, access = whatsapp
    if registered is not None:
        await sim.control("templates", {"provider": "whatsapp-meta", "wabaId": WABA_ID, "name": "promo",
                                        "language": "en_US", **registered})
    with pytest.raises(ProviderError) as caught:
        await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY,
                                            template=OutgoingTemplate("promo", "en_US", variables)))
    error = caught.value
    assert (error.code, error.reason, error.transient, error.ambiguous) == (code, "template_rejected", False, False)


async def test_whatsapp_mark_read(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    await gateway.mark_read(access, "wamid.INBOUND1", "16505551234")
    request = await _one(sim)
    assert request["path"] == f"/v23.0/{access.external_id}/messages"
    assert request["json"] == {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.INBOUND1"}
    assert (await sim.get("reads"))["reads"] == [
        {"provider": "whatsapp-meta", "account": access.external_id, "messageId": "wamid.INBOUND1"}]


async def test_whatsapp_submit_template_then_send_it_once_approved(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    template_id = await gateway.submit_template(access, "shipping_update", "pt_BR", "utility",
                                                "Olá {{1}}, seu pedido {{2}} saiu.")
    request = await _one(sim)
    assert request["path"] == f"/v23.0/{WABA_ID}/message_templates"
    assert request["json"] == {
        "name": "shipping_update", "language": "pt_BR", "category": "UTILITY", "parameter_format": "positional",
        "components": [{"type": "BODY", "text": "Olá {{1}}, seu pedido {{2}} saiu.",
                        "example": {"body_text": [["example 1", "example 2"]]}}]}
    (stored,) = (await sim.get("templates"))["templates"]
    assert (stored["id"], stored["status"], stored["variables"]) == (template_id, "PENDING", 2)
    outgoing = Outgoing(to=CUSTOMER, idempotency_key=KEY,
                        template=OutgoingTemplate("shipping_update", "pt_BR", ("Ana", "#1")))
    with pytest.raises(ProviderError, match="132001"):
        await gateway.send(access, outgoing)
    answer = await sim.control("templates/status", {"id": template_id, "status": "APPROVED"})
    assert answer["httpStatus"] == 200
    (hook,) = sim.received
    assert meta_signature.is_valid(hook.headers[meta_signature.SIGNATURE_HEADER], hook.body, "wa-app-secret")
    value = json.loads(hook.body)["entry"][0]["changes"][0]
    assert value["field"] == "message_template_status_update" and value["value"]["event"] == "APPROVED"
    assert (await gateway.send(access, outgoing)).provider_message_id.startswith("wamid.")


async def test_whatsapp_submit_template_needs_the_waba_id_and_refuses_duplicates(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    with pytest.raises(ProviderError) as caught:
        await gateway.submit_template(attrs.evolve(access, credentials={"accessToken": "x"}), "a", "en_US",
                                      "utility", "Hi")
    assert caught.value.reason == "not_configured" and await sim.requests() == []
    with pytest.raises(InvalidInput) as invalid:
        await gateway.submit_template(access, "Bad Name", "en_US", "utility", "Hi")
    assert invalid.value.fields[0].path == "name"
    await gateway.submit_template(access, "welcome", "en_US", "marketing", "Hi")
    with pytest.raises(ProviderError) as duplicate:
        await gateway.submit_template(access, "welcome", "en_US", "marketing", "Hi")
    assert (duplicate.value.code, duplicate.value.reason) == ("100", "invalid_request")
    assert "subcode 2388024" in str(duplicate.value)


@pytest.mark.parametrize("fault, code, reason, transient", [
    ({"code": 130429}, "130429", "rate_limited", True),
    ({"status": 429}, "4", "rate_limited", True),
    ({"code": 131056}, "131056", "rate_limited", True),
    ({"code": 131047}, "131047", "window_closed", False),
    ({"code": 131026}, "131026", "invalid_recipient", False),
    ({"code": 131050}, "131050", "opted_out", False),
    ({"status": 500}, "2", "unavailable", True),
    ({"status": 502, "body": {"oops": True}}, None, "unavailable", True),
    ({"code": 131009, "status": 500}, "131009", "invalid_request", False),
])
async def test_whatsapp_send_errors_are_mapped(sim: Sim, whatsapp: Any, fault: dict[str, Any], code: str | None,
                                               reason: str, transient: bool) -> None:
    gateway, access = whatsapp
    await sim.fault(f"/v23.0/{access.external_id}/messages", **fault)
    with pytest.raises(ProviderError) as caught:
        await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, text="hi"))
    error = caught.value
    assert (error.code, error.reason, error.transient, error.ambiguous) == (code, reason, transient, False)
    assert not isinstance(error, CredentialsRejected)
    assert access.credentials["accessToken"] not in str(error)


async def test_whatsapp_send_with_a_rejected_token(whatsapp: Any) -> None:
    gateway, access = whatsapp
    with pytest.raises(CredentialsRejected) as caught:
        await gateway.send(attrs.evolve(access, credentials={"accessToken": "EAAstolen-token"}),
                           Outgoing(to=CUSTOMER, idempotency_key=KEY, text="hi"))
    assert (caught.value.code, caught.value.reason) == ("190", "credentials_rejected")
    assert "EAAstolen-token" not in str(caught.value) and "POST" in str(caught.value)


async def test_whatsapp_read_timeout_after_the_provider_accepted_is_ambiguous(sim: Sim, whatsapp: Any) -> None:
    _, access = whatsapp
    gateway = MetaWhatsAppGateway(sim.session, base_url=sim.base, timeout=SLOW)
    await sim.fault(f"/v23.0/{access.external_id}/messages", process=True, delaySeconds=1)
    with pytest.raises(ProviderError) as caught:
        await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, text="hi"))
    error = caught.value
    assert error.ambiguous and not error.transient and error.reason == "unavailable"
    assert "timed out" in str(error) and "may have accepted" in str(error)
    assert len(sim.state.messages) == 1  # it really was sent: retrying would send it twice


async def test_a_connection_dropped_after_the_request_is_ambiguous(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    await sim.fault(f"/v23.0/{access.external_id}/messages", disconnect=True)
    with pytest.raises(ProviderError) as caught:
        await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, text="hi"))
    assert caught.value.ambiguous and not caught.value.transient
    assert "ServerDisconnectedError" in str(caught.value)


async def test_a_refused_connection_sent_nothing_and_is_transient(whatsapp: Any, sim: Sim) -> None:
    _, access = whatsapp
    gateway = MetaWhatsAppGateway(sim.session, base_url=closed_port_url())
    with pytest.raises(ProviderError) as caught:
        await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, text="hi"))
    assert caught.value.transient and not caught.value.ambiguous and caught.value.reason == "unavailable"


async def test_a_success_answer_without_the_message_id_is_ambiguous(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    await sim.fault(f"/v23.0/{access.external_id}/messages", 200, body={"messaging_product": "whatsapp"})
    with pytest.raises(ProviderError, match="no message id") as caught:
        await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, text="hi"))
    assert caught.value.ambiguous and not caught.value.transient


async def test_read_marks_and_uploads_are_safe_to_repeat_so_never_ambiguous(sim: Sim, whatsapp: Any) -> None:
    _, access = whatsapp
    gateway = MetaWhatsAppGateway(sim.session, base_url=sim.base, timeout=SLOW)
    await sim.fault(f"/v23.0/{access.external_id}/", process=True, delaySeconds=1, count=2)
    with pytest.raises(ProviderError) as read:
        await gateway.mark_read(access, "wamid.X", "16505551234")
    media = OutgoingMedia(kind=MessageType.IMAGE, content_type="image/png", size=3, data=b"png")
    with pytest.raises(ProviderError) as upload:
        await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, media=media))
    for error in (read.value, upload.value):
        assert error.transient and not error.ambiguous
    assert [r["path"].rsplit("/", 1)[1] for r in await sim.requests()] == ["messages", "media"]


@pytest.mark.parametrize("message, field", [
    (Outgoing(to=CUSTOMER, idempotency_key=KEY, text="x" * 4097), "text"),
    (Outgoing(to=CUSTOMER, idempotency_key=KEY, text="caption", media=_media(MessageType.AUDIO)), "text"),
    (Outgoing(to=CUSTOMER, idempotency_key=KEY), "text"),
    (Outgoing(to=CUSTOMER, idempotency_key=KEY, text="hi", template=OutgoingTemplate("a", "en_US")), "template"),
    (Outgoing(to=CUSTOMER, idempotency_key=KEY, template=OutgoingTemplate("a", "en_US", ("two\nlines",))),
     "template.variables.0"),
    (Outgoing(to=CUSTOMER, idempotency_key=KEY, media=attrs.evolve(_media(MessageType.IMAGE), size=6 * 2**20)),
     "attachmentIds"),
    (Outgoing(to=CUSTOMER, idempotency_key=KEY, media=attrs.evolve(_media(MessageType.IMAGE), url=None)),
     "attachmentIds"),
])
async def test_whatsapp_refuses_what_it_cannot_carry_before_any_request(sim: Sim, whatsapp: Any, message: Outgoing,
                                                                        field: str) -> None:
    gateway, access = whatsapp
    with pytest.raises(InvalidInput) as caught:
        await gateway.send(access, message)
    assert caught.value.fields[0].path == field
    assert await sim.requests() == []


async def test_a_recipient_that_is_no_number_is_refused_before_any_request(sim: Sim, whatsapp: Any,
                                                                           twilio: Any) -> None:
    for gateway, access in (whatsapp, twilio):
        with pytest.raises(ProviderError) as caught:
            await gateway.send(access, Outgoing(to="not-a-number", idempotency_key=KEY, text="hi"))
        assert caught.value.reason == "invalid_recipient" and not caught.value.transient
    assert await sim.requests() == []


# Twilio ------------------------------------------------------------------------------------------------------------
async def test_twilio_text_is_the_documented_form_with_basic_auth(sim: Sim, twilio: Any) -> None:
    gateway, access = twilio
    callback = f"{sim.target}/webhooks/twilio/status?account=1"
    sent = await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, text="Hello! 👍",
                                               status_callback_url=callback))
    assert sent.provider_message_id.startswith("SM") and len(sent.provider_message_id) == 34
    request = await _one(sim)
    assert (request["method"], request["path"]) == (
        "POST", f"/2010-04-01/Accounts/{access.credentials['accountSid']}/Messages.json")
    assert request["headers"]["Authorization"] == "Basic"  # the simulator checked sid:token
    assert request["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert request["form"] == [["To", f"whatsapp:{CUSTOMER}"], ["From", f"whatsapp:{SENDER}"],
                               ["Body", "Hello! 👍"], ["StatusCallback", callback]]


@pytest.mark.parametrize("kind", list(MEDIA))
async def test_twilio_sends_each_media_kind_by_url(sim: Sim, twilio: Any, kind: MessageType) -> None:
    gateway, access = twilio
    captioned = kind in (MessageType.IMAGE, MessageType.VIDEO)  # Twilio captions no document
    media = _media(kind)
    sent = await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, media=media,
                                               text="look" if captioned else None))
    assert sent.provider_message_id.startswith("MM")
    form = (await _one(sim))["form"]
    assert form[2:] == [["MediaUrl", media.url]] + ([["Body", "look"]] if captioned else [])


async def test_twilio_template_is_a_content_sid_with_numbered_variables(sim: Sim, twilio: Any) -> None:
    gateway, access = twilio
    content = await sim.control("templates", {"provider": "whatsapp-twilio",
                                              "accountSid": access.credentials["accountSid"], "variables": 2})
    template = OutgoingTemplate(name=content["id"], language="en", variables=("12/1", "3 pm – é"))
    await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, template=template))
    form = dict((await _one(sim))["form"])
    assert form["ContentSid"] == content["id"] and "Body" not in form
    assert json.loads(form["ContentVariables"]) == {"1": "12/1", "2": "3 pm – é"}
    unknown = attrs.evolve(template, name="HX" + "0" * 32)
    with pytest.raises(ProviderError) as caught:
        await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, template=unknown))
    assert (caught.value.code, caught.value.reason, caught.value.transient) == ("21655", "template_rejected", False)
    with pytest.raises(InvalidInput, match="Content SID"):
        await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY,
                                            template=OutgoingTemplate("order_update", "en")))


async def test_twilio_has_no_read_receipts_nor_template_submission(sim: Sim, twilio: Any) -> None:
    gateway, access = twilio
    await gateway.mark_read(access, "SM" + "0" * 32, CUSTOMER)
    with pytest.raises(ProviderError) as caught:
        await gateway.submit_template(access, "a", "en", "utility", "Hi")
    assert caught.value.reason == "unsupported" and not caught.value.transient and "Content SID" in str(caught.value)
    assert await sim.requests() == []


@pytest.mark.parametrize("fault, code, reason, transient", [
    ({"status": 429}, "20429", "rate_limited", True),
    ({"code": 63018}, "63018", "rate_limited", True),
    ({"code": 21211}, "21211", "invalid_recipient", False),
    ({"status": 500}, "20500", "unavailable", True),
    ({"status": 503, "body": {"unexpected": "shape"}}, None, "unavailable", True),
])
async def test_twilio_send_errors_are_mapped(sim: Sim, twilio: Any, fault: dict[str, Any], code: str | None,
                                             reason: str, transient: bool) -> None:
    gateway, access = twilio
    await sim.fault("/2010-04-01/Accounts/", **fault)
    with pytest.raises(ProviderError) as caught:
        await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, text="hi"))
    error = caught.value
    assert (error.code, error.reason, error.transient, error.ambiguous) == (code, reason, transient, False)
    assert access.credentials["authToken"] not in str(error)


async def test_twilio_refusals_the_simulator_finds_itself(sim: Sim, twilio: Any) -> None:
    gateway, access = twilio
    await sim.control("accounts", {"provider": "whatsapp-twilio", "accountSid": access.credentials["accountSid"],
                                   "authToken": access.credentials["authToken"], "senders": [SENDER],
                                   "optedOut": [CUSTOMER]})
    with pytest.raises(ProviderError) as opted_out:
        await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, text="hi"))
    assert (opted_out.value.code, opted_out.value.reason, opted_out.value.transient) == ("21610", "opted_out", False)
    with pytest.raises(ProviderError) as not_ours:
        await gateway.send(attrs.evolve(access, external_id="+14155550000"),
                           Outgoing(to="+16505550000", idempotency_key=KEY, text="hi"))
    assert (not_ours.value.code, not_ours.value.reason) == ("63007", "permission_denied")


async def test_twilio_read_timeout_is_ambiguous_a_refused_connection_is_not(sim: Sim, twilio: Any) -> None:
    _, access = twilio
    slow = TwilioWhatsAppGateway(sim.session, base_url=sim.base, timeout=SLOW)
    await sim.fault("/2010-04-01/", process=True, delaySeconds=1)
    with pytest.raises(ProviderError) as timed_out:
        await slow.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, text="hi"))
    assert timed_out.value.ambiguous and not timed_out.value.transient
    unreachable = TwilioWhatsAppGateway(sim.session, base_url=closed_port_url())
    with pytest.raises(ProviderError) as refused:
        await unreachable.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, text="hi"))
    assert refused.value.transient and not refused.value.ambiguous


async def test_twilio_status_callbacks_follow_a_send_by_themselves(sim: Sim, twilio: Any) -> None:
    gateway, access = twilio
    await sim.control("settings", {"autoStatus": True})
    callback = f"{sim.target}/webhooks/twilio/status"
    sent = await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, text="hi",
                                               status_callback_url=callback))
    await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key="k2", text="no callback url"))
    deliveries = (await sim.get("deliveries", wait="1"))["deliveries"]
    assert [(d["status"], d["httpStatus"]) for d in deliveries] == [("sent", 200), ("delivered", 200), ("read", 200)]
    statuses = []
    for hook in sim.received:
        params = twilio_webhook.parse_form(hook.body)
        assert hook.url == callback
        assert twilio_signature.is_valid(hook.headers["X-Twilio-Signature"], hook.url, params,
                                         access.credentials["authToken"])
        statuses += twilio_webhook.parse(params, dt.datetime.now(dt.UTC))
    assert [(s.provider_message_id, s.status) for s in statuses] == [
        (sent.provider_message_id, DeliveryStatus.SENT), (sent.provider_message_id, DeliveryStatus.DELIVERED),
        (sent.provider_message_id, DeliveryStatus.READ)]


async def test_whatsapp_auto_status_can_fail_asynchronously_and_echoes_the_key(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    await sim.control("settings", {"autoStatus": True, "autoStatusOutcome": "failed", "autoStatusErrorCode": 131047})
    sent = await gateway.send(access, Outgoing(to=CUSTOMER, idempotency_key=KEY, text="hi"))
    await sim.get("deliveries", wait="1")
    (hook,) = sim.received
    assert meta_signature.is_valid(hook.headers[meta_signature.SIGNATURE_HEADER], hook.body, "wa-app-secret")
    status = json.loads(hook.body)["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert status["biz_opaque_callback_data"] == KEY
    (update,) = whatsapp_webhook.parse(json.loads(hook.body))
    assert isinstance(update, StatusUpdate) and update.provider_message_id == sent.provider_message_id
    assert (update.status, update.error_code) == (DeliveryStatus.FAILED, "131047")


# Instagram ---------------------------------------------------------------------------------------------------------
async def test_instagram_text_is_a_response_to_me_messages(sim: Sim, instagram: Any) -> None:
    gateway, access = instagram
    sent = await gateway.send(access, Outgoing(to=IGSID, idempotency_key=KEY, text="Olá", reply_to="aWdfmid"))
    assert sent.provider_message_id in sim.state.messages
    request = await _one(sim)
    assert (request["method"], request["path"], request["headers"]["Authorization"]) == (
        "POST", "/v23.0/me/messages", "Bearer")
    assert request["json"] == {"recipient": {"id": IGSID}, "messaging_type": "RESPONSE", "message": {"text": "Olá"},
                               "reply_to": {"mid": "aWdfmid"}}


async def test_instagram_human_agent_tag(sim: Sim, instagram: Any) -> None:
    gateway, access = instagram
    await gateway.send(access, Outgoing(to=IGSID, idempotency_key=KEY, text="late answer", human_agent_tag=True))
    body = (await _one(sim))["json"]
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


@pytest.mark.parametrize("kind", [k for k, (_, attachment) in MEDIA.items() if attachment])
async def test_instagram_sends_each_attachment_kind_by_url(sim: Sim, instagram: Any, kind: MessageType) -> None:
    gateway, access = instagram
    media = _media(kind)
    await gateway.send(access, Outgoing(to=IGSID, idempotency_key=KEY, media=media))
    assert (await _one(sim))["json"]["message"] == {"attachment": {"type": MEDIA[kind][1],
                                                                   "payload": {"url": media.url}}}


@pytest.mark.parametrize("message, field", [
    (Outgoing(to=IGSID, idempotency_key=KEY, template=OutgoingTemplate("a", "en_US")), "template"),
    (Outgoing(to=IGSID, idempotency_key=KEY, text="caption", media=_media(MessageType.IMAGE)), "text"),
    (Outgoing(to=IGSID, idempotency_key=KEY, media=_media(MessageType.STICKER)), "attachmentIds"),
    (Outgoing(to=IGSID, idempotency_key=KEY, text="é" * 501), "text"),  # 1002 bytes
])
async def test_instagram_refuses_what_it_cannot_carry_before_any_request(sim: Sim, instagram: Any,
                                                                         message: Outgoing, field: str) -> None:
    gateway, access = instagram
    with pytest.raises(InvalidInput) as caught:
        await gateway.send(access, message)
    assert caught.value.fields[0].path == field
    assert await sim.requests() == []


async def test_instagram_mark_read_is_mark_seen_and_templates_are_unsupported(sim: Sim, instagram: Any) -> None:
    gateway, access = instagram
    await gateway.mark_read(access, "aWdfmid", IGSID)
    assert (await _one(sim))["json"] == {"recipient": {"id": IGSID}, "sender_action": "mark_seen"}
    assert (await sim.get("reads"))["reads"] == [
        {"provider": "instagram-meta", "account": access.external_id, "recipientId": IGSID}]
    with pytest.raises(ProviderError) as caught:
        await gateway.submit_template(access, "a", "en_US", "utility", "Hi")
    assert caught.value.reason == "unsupported" and not caught.value.transient


@pytest.mark.parametrize("fault, code, reason, transient", [
    ({"code": 10, "subcode": 2534022}, "10", "window_closed", False),
    ({"code": 10}, "10", "permission_denied", False),
    ({"code": 100, "subcode": 2534014}, "100", "invalid_recipient", False),
    ({"code": 613}, "613", "rate_limited", True),
    ({"status": 503}, "2", "unavailable", True),
])
async def test_instagram_send_errors_are_mapped(sim: Sim, instagram: Any, fault: dict[str, Any], code: str,
                                                reason: str, transient: bool) -> None:
    gateway, access = instagram
    await sim.fault("/v23.0/me/messages", **fault)
    with pytest.raises(ProviderError) as caught:
        await gateway.send(access, Outgoing(to=IGSID, idempotency_key=KEY, text="hi"))
    error = caught.value
    assert (error.code, error.reason, error.transient, error.ambiguous) == (code, reason, transient, False)


async def test_instagram_read_status_arrives_as_messaging_seen(sim: Sim, instagram: Any) -> None:
    gateway, access = instagram
    await sim.control("settings", {"autoStatus": True})
    sent = await gateway.send(access, Outgoing(to=IGSID, idempotency_key=KEY, text="hi"))
    await sim.get("deliveries", wait="1")
    (hook,) = sim.received  # sent and delivered have no Instagram webhook
    assert meta_signature.is_valid(hook.headers[meta_signature.SIGNATURE_HEADER], hook.body, "ig-app-secret")
    (seen,) = instagram_webhook.parse(json.loads(hook.body))
    assert isinstance(seen, StatusUpdate) and (seen.provider_message_id, seen.status) == (
        sent.provider_message_id, DeliveryStatus.READ)


# check_media, per provider -----------------------------------------------------------------------------------------
MB = 1024 * 1024


@pytest.mark.parametrize("provider, kind, content_type, size, accepted", [
    ("whatsapp", MessageType.IMAGE, "image/jpeg", 5 * MB, True),
    ("whatsapp", MessageType.IMAGE, "image/png", 5 * MB + 1, False),
    ("whatsapp", MessageType.IMAGE, "image/gif", 10, False),
    ("whatsapp", MessageType.VIDEO, "video/3gpp", 16 * MB, True),
    ("whatsapp", MessageType.AUDIO, "audio/ogg; codecs=opus", 16 * MB, True),
    ("whatsapp", MessageType.AUDIO, "audio/ogg", 16 * MB + 1, False),
    ("whatsapp", MessageType.DOCUMENT, "application/pdf", 100 * MB, True),
    ("whatsapp", MessageType.DOCUMENT, "application/zip", 10, False),
    ("whatsapp", MessageType.STICKER, "image/webp", 500 * 1024, True),
    ("whatsapp", MessageType.STICKER, "image/webp", 500 * 1024 + 1, False),
    ("twilio", MessageType.IMAGE, "image/jpeg", 5 * MB + 1, False),
    ("twilio", MessageType.VIDEO, "video/mp4", 16 * MB, True),
    ("twilio", MessageType.DOCUMENT, "application/pdf", 16 * MB + 1, False),
    ("twilio", MessageType.AUDIO, "audio/amr", 100, True),
    ("instagram", MessageType.IMAGE, "image/png", 8 * MB, True),
    ("instagram", MessageType.IMAGE, "image/png", 8 * MB + 1, False),
    ("instagram", MessageType.VIDEO, "video/quicktime", 25 * MB, True),
    ("instagram", MessageType.AUDIO, "audio/wav", 25 * MB + 1, False),
    ("instagram", MessageType.DOCUMENT, "application/msword", 10, False),
    ("instagram", MessageType.STICKER, "image/webp", 10, False),
    ("instagram", MessageType.TEXT, "text/plain", 10, False),
])
async def test_check_media_limits(sim: Sim, provider: str, kind: MessageType, content_type: str, size: int,
                                  accepted: bool) -> None:
    gateway = http_gateways(sim.session, twilio_base_url=sim.base, graph_base_url=sim.base).gateway(
        {"whatsapp": Provider.WHATSAPP_META, "twilio": Provider.WHATSAPP_TWILIO,
         "instagram": Provider.INSTAGRAM_META}[provider])
    media = OutgoingMedia(kind=kind, content_type=content_type, size=size, url="https://cdn.example.com/x")
    if accepted:
        gateway.check_media(media)
        return
    with pytest.raises(InvalidInput) as caught:
        gateway.check_media(media)
    assert [f.path for f in caught.value.fields] == ["attachmentIds"]
    assert str(gateway.provider) in str(caught.value)
    assert await sim.requests() == []


def test_failure_reasons_compare_as_plain_strings() -> None:
    assert FailureReason.WINDOW_CLOSED == "window_closed"
    error = ProviderError("x", transient=True, reason=FailureReason.RATE_LIMITED, ambiguous=True)
    assert error.reason == "rate_limited" and error.ambiguous and not error.transient
