"""The pure side of sending: request bodies, media rules, and provider error codes → kind and domain reason."""
from __future__ import annotations

import json

import pytest

from commsinbox.adapters.providers.graph_errors import graph_reason, read_graph_error
from commsinbox.adapters.providers.http import ErrorKind
from commsinbox.adapters.providers.meta_instagram import outbound as instagram
from commsinbox.adapters.providers.meta_whatsapp import outbound as whatsapp
from commsinbox.adapters.providers.outbound import check_media
from commsinbox.adapters.providers.twilio_whatsapp import outbound as twilio
from commsinbox.domain.model.channels import MessageType, Provider
from commsinbox.domain.model.errors import InvalidInput
from commsinbox.ports.providers import (CredentialsRejected, FailureReason, MediaTooLarge, Outgoing, OutgoingMedia,
                                        OutgoingTemplate, ProviderError)

pytestmark = pytest.mark.unit

PDF = OutgoingMedia(kind=MessageType.DOCUMENT, content_type="application/pdf", size=10,
                    url="https://cdn.example.com/a.pdf", filename="a.pdf")


# Graph errors ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("error, kind, reason", [
    ({"code": 131047}, ErrorKind.PERMANENT, FailureReason.WINDOW_CLOSED),
    ({"code": 130429, "error_subcode": 2494055}, ErrorKind.TRANSIENT, FailureReason.RATE_LIMITED),
    ({"code": 131056}, ErrorKind.TRANSIENT, FailureReason.RATE_LIMITED),
    ({"code": 4}, ErrorKind.TRANSIENT, FailureReason.RATE_LIMITED),
    ({"code": 80007}, ErrorKind.TRANSIENT, FailureReason.RATE_LIMITED),
    ({"code": 131000}, ErrorKind.TRANSIENT, FailureReason.UNAVAILABLE),
    ({"code": 131016}, ErrorKind.TRANSIENT, FailureReason.UNAVAILABLE),
    ({"code": 190}, ErrorKind.CREDENTIALS, FailureReason.CREDENTIALS_REJECTED),
    ({"code": 131026}, ErrorKind.PERMANENT, FailureReason.INVALID_RECIPIENT),
    ({"code": 131050}, ErrorKind.PERMANENT, FailureReason.OPTED_OUT),
    ({"code": 132001}, ErrorKind.PERMANENT, FailureReason.TEMPLATE_REJECTED),
    ({"code": 131053}, ErrorKind.PERMANENT, FailureReason.MEDIA_REJECTED),
    ({"code": 10, "error_subcode": 2534022}, ErrorKind.PERMANENT, FailureReason.WINDOW_CLOSED),
    ({"code": 10}, ErrorKind.PERMANENT, FailureReason.PERMISSION_DENIED),
    ({"code": 250}, ErrorKind.PERMANENT, FailureReason.PERMISSION_DENIED),
    ({"code": 368}, ErrorKind.PERMANENT, FailureReason.ACCOUNT_RESTRICTED),
    ({"code": 613}, ErrorKind.TRANSIENT, FailureReason.RATE_LIMITED),
    ({"code": "100"}, ErrorKind.PERMANENT, FailureReason.INVALID_REQUEST),
    ({"code": 987654}, ErrorKind.PERMANENT, None),
])
def test_graph_error_codes(error: dict[str, object], kind: ErrorKind, reason: FailureReason | None) -> None:
    info = read_graph_error(400, {"error": {"message": "(#x) title", **error}})
    assert (info.kind, info.reason, info.code) == (kind, reason, str(error["code"]))


def test_graph_error_keeps_the_details_and_ignores_bodies_it_cannot_read() -> None:
    body = json.loads('{"error": {"message": "(#131047) Re-engagement message", "code": 131047, '
                      '"error_data": {"messaging_product": "whatsapp", "details": "outside 24 hours"}}}')
    assert read_graph_error(400, body).message == "(#131047) Re-engagement message: outside 24 hours"
    assert read_graph_error(500, {"error": "nope"}).kind is None
    assert read_graph_error(500, None).reason is None
    assert read_graph_error(400, {"error": {"code": True}}).code is None
    assert graph_reason(None) is None and graph_reason("x") is None


# Twilio errors -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code, kind, reason", [
    (21610, None, FailureReason.OPTED_OUT),
    (20429, ErrorKind.TRANSIENT, FailureReason.RATE_LIMITED),
    (63018, ErrorKind.TRANSIENT, FailureReason.RATE_LIMITED),
    (63016, None, FailureReason.WINDOW_CLOSED),
    (21211, None, FailureReason.INVALID_RECIPIENT),
    (21655, None, FailureReason.TEMPLATE_REJECTED),
    (20003, ErrorKind.CREDENTIALS, FailureReason.CREDENTIALS_REJECTED),
    (30001, None, None),
])
def test_twilio_error_codes(code: int, kind: ErrorKind | None, reason: FailureReason | None) -> None:
    info = twilio.read_twilio_error(400, {"code": code, "message": "m", "status": 400})
    assert (info.kind, info.reason, info.code) == (kind, reason, str(code))
    assert twilio.twilio_reason(str(code)) == reason


def test_twilio_problem_json_and_unknown_bodies() -> None:
    info = twilio.read_twilio_error(429, {"type": "https://www.twilio.com/docs/errors/20429", "title": "Too Many",
                                          "status": 429, "code": 20429, "detail": "slow down"})
    assert (info.message, info.kind) == ("slow down", ErrorKind.TRANSIENT)
    assert twilio.read_twilio_error(500, "<html>").code is None


# Errors of the port ------------------------------------------------------------------------------------------------
def test_an_ambiguous_error_is_never_transient_and_subclasses_carry_reasons() -> None:
    assert not ProviderError("x", transient=True, ambiguous=True).transient
    assert ProviderError("x", transient=True).transient and not ProviderError("x", transient=True).ambiguous
    assert CredentialsRejected("x").reason == FailureReason.CREDENTIALS_REJECTED
    assert MediaTooLarge(10, 5).reason == "media_rejected"


# Twilio form -------------------------------------------------------------------------------------------------------
def test_twilio_form_normalises_the_recipient_and_puts_the_caption_in_body() -> None:
    image = OutgoingMedia(kind=MessageType.IMAGE, content_type="image/png", size=5, url="https://cdn.example.com/1")
    form = twilio.message_form("+14155238886", Outgoing(to="16505551234", idempotency_key="k", media=image,
                                                        text="see"))
    assert form == [("To", "whatsapp:+16505551234"), ("From", "whatsapp:+14155238886"),
                    ("MediaUrl", "https://cdn.example.com/1"), ("Body", "see")]
    assert twilio.recipient("whatsapp:+16505551234") == "+16505551234"


def test_twilio_template_without_variables_has_no_content_variables() -> None:
    sid = "HX" + "a" * 32
    form = twilio.message_form("+14155238886", Outgoing(to="+16505551234", idempotency_key="k",
                                                        template=OutgoingTemplate(sid, "en")))
    assert dict(form) == {"To": "whatsapp:+16505551234", "From": "whatsapp:+14155238886", "ContentSid": sid}


@pytest.mark.parametrize("message, path", [
    (Outgoing(to="+16505551234", idempotency_key="k", media=PDF, text="no captions on documents"), "text"),
    (Outgoing(to="+16505551234", idempotency_key="k", text="x" * 1601), "text"),
    (Outgoing(to="+16505551234", idempotency_key="k", text="   "), "text"),
])
def test_twilio_refuses(message: Outgoing, path: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        twilio.message_form("+14155238886", message)
    assert caught.value.fields[0].path == path


# WhatsApp Cloud bodies ---------------------------------------------------------------------------------------------
def test_whatsapp_text_without_a_link_has_no_preview_and_a_long_key_is_not_sent() -> None:
    body = whatsapp.message_payload(Outgoing(to="+5511987654321", idempotency_key="k" * 513, text="oi"))
    assert body == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+5511987654321",
                    "type": "text", "text": {"preview_url": False, "body": "oi"}}


def test_whatsapp_media_by_uploaded_id_and_template_without_variables() -> None:
    body = whatsapp.message_payload(Outgoing(to="16505551234", idempotency_key="k", media=PDF), media_id="77")
    assert body["document"] == {"id": "77", "filename": "a.pdf"}
    template = whatsapp.message_payload(Outgoing(to="16505551234", idempotency_key="k",
                                                 template=OutgoingTemplate("hello_world", "en_US")))
    assert template["template"] == {"name": "hello_world", "language": {"code": "en_US"}}


@pytest.mark.parametrize("template, path", [
    (OutgoingTemplate("Hello World", "en_US"), "template.name"),
    (OutgoingTemplate("hello", "english"), "template.language"),
    (OutgoingTemplate("hello", "en_US", ("ok", "")), "template.variables.1"),
    (OutgoingTemplate("hello", "en_US", ("a     b",)), "template.variables.0"),
])
def test_whatsapp_template_checks(template: OutgoingTemplate, path: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        whatsapp.message_payload(Outgoing(to="16505551234", idempotency_key="k", template=template))
    assert caught.value.fields[0].path == path


def test_whatsapp_template_submission_body() -> None:
    assert whatsapp.template_payload("welcome", "en", "marketing", "Hi there") == {
        "name": "welcome", "language": "en", "category": "MARKETING", "parameter_format": "positional",
        "components": [{"type": "BODY", "text": "Hi there"}]}
    given = whatsapp.template_payload("order", "en_US", "UTILITY", "Order {{1}} for {{2}}, {{1}}",
                                      examples=("#12", "Ana"))
    assert given["components"][0]["example"] == {"body_text": [["#12", "Ana"]]}


@pytest.mark.parametrize("args, path", [
    (("a", "en_US", "authentication", "Code {{1}}"), "category"),
    (("a", "en_US", "utility", "Hi {{2}}"), "body"),
    (("a", "en_US", "utility", "   "), "body"),
    (("a", "en_US", "utility", "x" * 1025), "body"),
    (("a", "en-US", "utility", "Hi"), "language"),
])
def test_whatsapp_template_submission_refusals(args: tuple[str, str, str, str], path: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        whatsapp.template_payload(*args)
    assert caught.value.fields[0].path == path
    with pytest.raises(InvalidInput, match="one example per variable"):
        whatsapp.template_payload("a", "en_US", "utility", "Hi {{1}}", examples=("x", "y"))


def test_whatsapp_read_payload() -> None:
    assert whatsapp.read_payload("wamid.X") == {"messaging_product": "whatsapp", "status": "read",
                                                "message_id": "wamid.X"}
    with pytest.raises(InvalidInput):
        whatsapp.read_payload(" ")


# Instagram bodies --------------------------------------------------------------------------------------------------
def test_instagram_document_is_a_file_attachment_and_recipients_are_igsids() -> None:
    body = instagram.message_payload(Outgoing(to="17841400000000001", idempotency_key="k", media=PDF))
    assert body == {"recipient": {"id": "17841400000000001"}, "messaging_type": "RESPONSE",
                    "message": {"attachment": {"type": "file", "payload": {"url": PDF.url}}}}
    with pytest.raises(ProviderError) as caught:
        instagram.message_payload(Outgoing(to="+16505551234", idempotency_key="k", text="hi"))
    assert caught.value.reason == "invalid_recipient"
    assert instagram.seen_payload("42") == {"recipient": {"id": "42"}, "sender_action": "mark_seen"}


# Media rules -------------------------------------------------------------------------------------------------------
def test_media_rules_check_the_declared_size_against_the_bytes_and_refuse_negative_sizes() -> None:
    table = whatsapp.MEDIA_RULES
    ok = OutgoingMedia(kind=MessageType.IMAGE, content_type="IMAGE/JPEG", size=3, data=b"abc")
    check_media(Provider.WHATSAPP_META, table, ok)
    with pytest.raises(InvalidInput, match="has 3 bytes"):
        check_media(Provider.WHATSAPP_META, table, OutgoingMedia(kind=MessageType.IMAGE, content_type="image/jpeg",
                                                                 size=4, data=b"abc"))
    with pytest.raises(InvalidInput, match="negative"):
        check_media(Provider.WHATSAPP_META, table, OutgoingMedia(kind=MessageType.IMAGE, content_type="image/jpeg",
                                                                 size=-1))
    with pytest.raises(InvalidInput, match="not a media kind"):
        check_media(Provider.WHATSAPP_META, table, OutgoingMedia(kind=MessageType.LOCATION, content_type="x/y",
                                                                 size=1))
