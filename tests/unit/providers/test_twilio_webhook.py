"""Twilio WhatsApp webhooks → domain events: every webhook fixture field by field, synthetic variants, bad input."""
from __future__ import annotations

import datetime as dt

import pytest

from commsinbox.adapters.providers.twilio_whatsapp.webhook import account_key, parse, parse_form
from commsinbox.domain.model.channels import DeliveryStatus, Direction, MessageType, Provider
from commsinbox.domain.model.inbound import InboundMessage, MediaRef, StatusUpdate
from tests.support.fixtures import fixture, fixtures

pytestmark = pytest.mark.unit

AT = dt.datetime(2026, 3, 1, 9, 30, 15, tzinfo=dt.UTC)
ACCOUNT = "AC1a03647d811fab342c0ad608e382fab2"
MEDIA_BASE = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/MM21151abfaadc1fb79b782f8460862a53/Media/"


def form(name: str) -> list[tuple[str, str]]:
    return parse_form(fixture(f"twilio/{name}").read_bytes())


def one_message(params: list[tuple[str, str]] | dict[str, str]) -> InboundMessage:
    events = parse(params, AT)
    assert len(events) == 1
    assert isinstance(events[0], InboundMessage)
    return events[0]


def one_status(params: list[tuple[str, str]] | dict[str, str]) -> StatusUpdate:
    events = parse(params, AT)
    assert len(events) == 1
    assert isinstance(events[0], StatusUpdate)
    return events[0]


def inbound(**extra: str) -> dict[str, str]:
    """A minimal inbound message webhook plus `extra`."""
    return {"MessageSid": "SM11111111111111111111111111111111", "AccountSid": ACCOUNT,
            "From": "whatsapp:+31612345678", "To": "whatsapp:+14123456789", "WaId": "31612345678",
            "ProfileName": "Jane", "Body": "", "NumMedia": "0", "SmsStatus": "received", **extra}


def status(message_status: str, **extra: str) -> dict[str, str]:
    return {"MessageSid": "SM22222222222222222222222222222222", "AccountSid": ACCOUNT, "MessageStatus": message_status,
            "SmsStatus": message_status, "From": "whatsapp:+14123456789", "To": "whatsapp:+31612345678",
            "ChannelPrefix": "whatsapp", **extra}


# ---- the fixtures ----

def test_every_twilio_form_fixture_is_covered_below() -> None:
    names = {path.name for path in fixtures("twilio", "*.txt")}
    assert names == {
        "inbound_whatsapp_text_sandbox_profilename_masked.txt", "status_whatsapp_sent_sandbox_masked.txt",
        "doc_status_callback_sent_sms_example.txt", "SYNTH_status_whatsapp_read.txt",
        "SYNTH_status_whatsapp_failed_63016.txt", "SYNTH_status_whatsapp_undelivered_63018.txt",
        "SYNTH_inbound_whatsapp_two_media.txt", "SYNTH_inbound_whatsapp_ctwa_referral.txt",
        "SYNTH_rest_create_message_request_freeform.txt", "SYNTH_rest_create_message_request_template_contentsid.txt",
    }


def test_parse_form_of_the_real_inbound_capture() -> None:
    assert form("inbound_whatsapp_text_sandbox_profilename_masked.txt") == [
        ("SmsMessageSid", "SM45e9b726c0314a5524cXXXX"), ("NumMedia", "0"), ("ProfileName", "Ranjit Sankar"),
        ("SmsSid", "SM45e9b726c0314a5524c3f3cbYYYYY"), ("WaId", "91990000000"), ("SmsStatus", "received"),
        ("Body", "hey"), ("To", "whatsapp:+14155238886"), ("NumSegments", "1"), ("ReferralNumMedia", "0"),
        ("MessageSid", "SM45e9b726c0314a5524c3f3cb4ZZZZZ"), ("AccountSid", "AC8e904faad99a05efe123e12DDDDDD"),
        ("From", "whatsapp:+919900000000"), ("ApiVersion", "2010-04-01"),
    ]


def test_real_inbound_text() -> None:
    params = form("inbound_whatsapp_text_sandbox_profilename_masked.txt")
    message = one_message(params)
    assert account_key(params) == "+14155238886"
    assert message.provider is Provider.WHATSAPP_TWILIO
    assert message.account_key == "+14155238886"
    assert message.provider_message_id == "SM45e9b726c0314a5524c3f3cb4ZZZZZ"
    assert message.contact.external_id == "91990000000"  # WaId as sent (the capture masks it differently from From)
    assert message.contact.phone == "+919900000000"
    assert message.contact.display_name == "Ranjit Sankar"
    assert message.type is MessageType.TEXT
    assert message.sent_at == AT
    assert message.direction is Direction.IN
    assert message.text == "hey"
    assert message.media == ()
    assert message.meta == {}  # ReferralNumMedia=0 alone is not a referral


def test_synth_inbound_two_media() -> None:
    params = form("SYNTH_inbound_whatsapp_two_media.txt")
    message = one_message(params)
    assert account_key(params) == "+14123456789"
    assert message.provider is Provider.WHATSAPP_TWILIO
    assert message.account_key == "+14123456789"
    assert message.provider_message_id == "MM21151abfaadc1fb79b782f8460862a53"
    assert message.contact.external_id == "31612345678"
    assert message.contact.phone == "+31612345678"
    assert message.contact.display_name == "Jane Doe"
    assert message.type is MessageType.IMAGE
    assert message.sent_at == AT
    assert message.direction is Direction.IN
    assert message.text == "two photos"
    assert message.media == (
        MediaRef(kind=MessageType.IMAGE, url=MEDIA_BASE + "ME00000000000000000000000000000001",
                 content_type="image/jpeg"),
        MediaRef(kind=MessageType.IMAGE, url=MEDIA_BASE + "ME00000000000000000000000000000002",
                 content_type="image/png"),
    )
    assert message.meta == {}


def test_synth_inbound_click_to_whatsapp_referral() -> None:
    params = form("SYNTH_inbound_whatsapp_ctwa_referral.txt")
    message = one_message(params)
    assert account_key(params) == "+14123456789"
    assert message.account_key == "+14123456789"
    assert message.provider_message_id == "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
    assert message.contact.external_id == "31612345678"
    assert message.contact.phone == "+31612345678"
    assert message.contact.display_name == "Ad Clicker"
    assert message.type is MessageType.TEXT
    assert message.sent_at == AT
    assert message.text == "Can I get more info about this?"
    assert message.media == ()
    assert message.meta == {"referral": {
        "num_media": "0",
        "source_id": "120226305854810726",
        "source_type": "ad",
        "source_url": "https://fb.me/3cr4Wqqkv",
        "headline": "Chat with us",
        "body": "Summer Succulents are here!",
        "ctwa_clid": "Aff-n8ZTODiE79d22KtAwQKj9e_mIEOOj27vDVwFjN80dp4_0NiNhEgpGo0AHemvuSoifXaytfTzcchptiErTKCqTrJ5n"
                     "W1h7IHYeYymGb5K5J5iTROpBhWAGaIAeUzHL50",
    }}


def test_real_status_sent() -> None:
    params = form("status_whatsapp_sent_sandbox_masked.txt")
    update = one_status(params)
    assert account_key(params) == "+14155238886"  # a status callback is routed by From
    assert update.provider is Provider.WHATSAPP_TWILIO
    assert update.account_key == "+14155238886"
    assert update.provider_message_id == "SMc4c96554c26604013c6b7f1b4b6DDDDD"
    assert update.status is DeliveryStatus.SENT
    assert update.at == AT
    assert update.recipient == "+919900000000"
    assert update.error_code is None
    assert update.error_title is None


def test_doc_status_callback_sent() -> None:
    # The doc example is a `"Name": "value"` listing, not a form body: parse_form refuses it (see below), so its
    # parameters are given as pairs. It is an SMS callback: From has no whatsapp: prefix and there is no To.
    params = [("AccountSid", "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), ("From", "+15017250604"),
              ("MessageSid", "SM1342fe1b2c904d1ab04f0fc7a58abca9"), ("MessageStatus", "sent"),
              ("SmsSid", "SM1342fe1b2c904d1ab04f0fc7a58abca9"), ("SmsStatus", "sent")]
    update = one_status(params)
    assert account_key(params) == "+15017250604"
    assert update.account_key == "+15017250604"
    assert update.provider_message_id == "SM1342fe1b2c904d1ab04f0fc7a58abca9"
    assert update.status is DeliveryStatus.SENT
    assert update.at == AT
    assert update.recipient is None
    assert update.error_code is None
    assert update.error_title is None


def test_doc_status_callback_listing_is_not_a_form_body() -> None:
    with pytest.raises(ValueError, match="not application/x-www-form-urlencoded"):
        parse_form(fixture("twilio/doc_status_callback_sent_sms_example.txt").read_bytes())


def test_synth_status_read() -> None:
    params = form("SYNTH_status_whatsapp_read.txt")
    update = one_status(params)
    assert account_key(params) == "+14123456789"
    assert update.account_key == "+14123456789"
    assert update.provider_message_id == "SMdf55df64a2ff4920bb0748193cfbb640"
    assert update.status is DeliveryStatus.READ
    assert update.at == AT
    assert update.recipient == "+31612345678"
    assert update.error_code is None
    assert update.error_title is None


def test_synth_status_failed_63016() -> None:
    params = form("SYNTH_status_whatsapp_failed_63016.txt")
    update = one_status(params)
    assert account_key(params) == "+14123456789"
    assert update.account_key == "+14123456789"
    assert update.provider_message_id == "SM0cec4ed334e74bcbb64eb8b6684e9654"
    assert update.status is DeliveryStatus.FAILED
    assert update.at == AT
    assert update.recipient == "+31612345678"
    assert update.error_code == "63016"
    assert update.error_title == ("Failed to send freeform message because you are outside the allowed window. "
                                  "If you are using WhatsApp, please use a Message Template.")


def test_synth_status_undelivered_63018() -> None:
    params = form("SYNTH_status_whatsapp_undelivered_63018.txt")
    update = one_status(params)
    assert account_key(params) == "+14123456789"
    assert update.account_key == "+14123456789"
    assert update.provider_message_id == "SM0cec4ed334e74bcbb64eb8b6684e9655"
    assert update.status is DeliveryStatus.FAILED
    assert update.at == AT
    assert update.recipient == "+31612345678"
    assert update.error_code == "63018"
    assert update.error_title is None  # the callback carries no ErrorMessage


@pytest.mark.parametrize("name", ["SYNTH_rest_create_message_request_freeform.txt",
                                  "SYNTH_rest_create_message_request_template_contentsid.txt"])
def test_rest_requests_are_not_webhooks(name: str) -> None:
    with pytest.raises(ValueError, match="MessageSid is missing"):
        parse(form(name), AT)


# ---- inbound variants ----

def test_location() -> None:
    message = one_message(inbound(Latitude="52.3676", Longitude="-4.9041", Address="Dam 1, Amsterdam",
                                  Label="Office", MessageType="location"))
    assert message.type is MessageType.LOCATION
    assert message.text is None
    assert message.meta == {"location": {"latitude": 52.3676, "longitude": -4.9041, "address": "Dam 1, Amsterdam",
                                         "label": "Office"}}


def test_location_without_address() -> None:
    message = one_message(inbound(Latitude="0", Longitude="180"))
    assert message.type is MessageType.LOCATION
    assert message.meta == {"location": {"latitude": 0.0, "longitude": 180.0}}


@pytest.mark.parametrize(("extra", "error"), [
    ({"Latitude": "52.1"}, "Longitude is missing"),
    ({"Longitude": "4.1"}, "Latitude is missing"),
    ({"Latitude": "north", "Longitude": "4.1"}, "not a position"),
    ({"Latitude": "91", "Longitude": "4.1"}, "not a position"),
    ({"Latitude": "nan", "Longitude": "4.1"}, "not a position"),
])
def test_bad_location(extra: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse(inbound(**extra), AT)


def test_quick_reply_button() -> None:
    message = one_message(inbound(Body="Yes please", ButtonText="Yes please", ButtonPayload="confirm-42",
                                  ButtonType="REPLY", MessageType="button"))
    assert message.type is MessageType.INTERACTIVE
    assert message.text == "Yes please"
    assert message.meta == {"reply": {"text": "Yes please", "payload": "confirm-42", "button_type": "REPLY"}}


def test_interactive_data_is_decoded_json() -> None:
    data = '{"type":"list_reply","list_reply":{"id":"opt-2","title":"Tuesday"}}'
    message = one_message(inbound(Body="Tuesday", InteractiveData=data, MessageType="interactive"))
    assert message.type is MessageType.INTERACTIVE
    assert message.meta == {"reply": {"interactive_data": {"type": "list_reply",
                                                           "list_reply": {"id": "opt-2", "title": "Tuesday"}}}}


def test_malformed_interactive_data_is_kept_as_text() -> None:
    message = one_message(inbound(Body="x", InteractiveData="{not json", FlowData='{"a": 1}'))
    assert message.type is MessageType.INTERACTIVE
    assert message.meta == {"reply": {"interactive_data": "{not json", "flow_data": {"a": 1}}}


def test_declared_interactive_without_button_fields() -> None:
    assert one_message(inbound(Body="Tuesday", MessageType="interactive")).type is MessageType.INTERACTIVE


def test_reply_to_an_earlier_message() -> None:
    message = one_message(inbound(Body="yes", OriginalRepliedMessageSid="SM33333333333333333333333333333333",
                                  OriginalRepliedMessageSender="whatsapp:+14123456789"))
    assert message.type is MessageType.TEXT
    assert message.meta == {"context": {"provider_message_id": "SM33333333333333333333333333333333",
                                        "sender": "+14123456789"}}


@pytest.mark.parametrize(("extra", "forwarded"), [
    ({"Forwarded": "true"}, {"frequently": False}),
    ({"Forwarded": "true", "FrequentlyForwarded": "true"}, {"frequently": True}),
    ({"FrequentlyForwarded": "True"}, {"frequently": True}),
])
def test_forwarded(extra: dict[str, str], forwarded: dict[str, bool]) -> None:
    assert one_message(inbound(Body="fwd", **extra)).meta == {"forwarded": forwarded}


def test_not_forwarded_when_false() -> None:
    assert one_message(inbound(Body="x", Forwarded="false", FrequentlyForwarded="")).meta == {}


@pytest.mark.parametrize(("content_type", "kind"), [
    ("image/jpeg", MessageType.IMAGE), ("video/mp4", MessageType.VIDEO), ("audio/ogg", MessageType.AUDIO),
    ("audio/ogg; codecs=opus", MessageType.AUDIO), ("application/pdf", MessageType.DOCUMENT),
    ("image/webp", MessageType.STICKER), ("text/vcard", MessageType.CONTACTS), ("text/plain", MessageType.DOCUMENT),
])
def test_single_media(content_type: str, kind: MessageType) -> None:
    url = MEDIA_BASE + "ME1"
    message = one_message(inbound(NumMedia="1", MediaUrl0=url, MediaContentType0=content_type))
    assert message.type is kind
    assert message.text is None
    assert message.media == (MediaRef(kind=kind, url=url, content_type=content_type),)


def test_declared_sticker_wins_over_the_media_type() -> None:
    message = one_message(inbound(NumMedia="1", MediaUrl0="https://m/1", MediaContentType0="image/png",
                                  MessageType="sticker"))
    assert message.type is MessageType.STICKER


def test_no_whatsapp_id_falls_back_to_the_from_digits() -> None:
    params = inbound(Body="hi")
    del params["WaId"], params["ProfileName"]
    message = one_message(params)
    assert message.contact.external_id == "31612345678"
    assert message.contact.phone == "+31612345678"
    assert message.contact.display_name is None


def test_empty_message_is_unsupported_unless_declared() -> None:
    assert one_message(inbound()).type is MessageType.UNSUPPORTED
    assert one_message(inbound(MessageType="reaction")).type is MessageType.REACTION


def test_inbound_with_message_status_received_is_still_a_message() -> None:
    message = one_message(inbound(Body="hello", MessageStatus="received"))
    assert message.text == "hello"
    assert message.account_key == "+14123456789"
    assert account_key(inbound(Body="hello", MessageStatus="received")) == "+14123456789"


def test_unknown_parameters_are_ignored() -> None:
    with_unknown = inbound(Body="hi", SomethingNew="1", ChannelMetadata='{"x":1}')
    assert one_message(with_unknown) == one_message(inbound(Body="hi"))


# ---- status callbacks ----

@pytest.mark.parametrize(("message_status", "expected"), [
    ("queued", DeliveryStatus.QUEUED), ("accepted", DeliveryStatus.QUEUED), ("scheduled", DeliveryStatus.QUEUED),
    ("sending", DeliveryStatus.QUEUED), ("sent", DeliveryStatus.SENT), ("delivered", DeliveryStatus.DELIVERED),
    ("read", DeliveryStatus.READ), ("failed", DeliveryStatus.FAILED), ("undelivered", DeliveryStatus.FAILED),
])
def test_status_mapping(message_status: str, expected: DeliveryStatus) -> None:
    update = one_status(status(message_status))
    assert update.status is expected
    assert update.provider_message_id == "SM22222222222222222222222222222222"
    assert update.account_key == "+14123456789"
    assert update.recipient == "+31612345678"
    assert update.at == AT


def test_canceled_is_failed_with_a_title() -> None:
    update = one_status(status("canceled"))
    assert update.status is DeliveryStatus.FAILED
    assert update.error_title == "canceled"
    assert update.error_code is None


@pytest.mark.parametrize("message_status", ["receiving", "received", "partially_delivered", "brand_new"])
def test_statuses_that_say_nothing_about_an_outbound_message_are_ignored(message_status: str) -> None:
    assert parse(status(message_status), AT) == []


def test_event_type_read_is_read() -> None:
    assert one_status(status("delivered", EventType="READ")).status is DeliveryStatus.READ
    assert one_status(status("delivered", EventType="DELIVERED")).status is DeliveryStatus.DELIVERED


def test_channel_status_message_is_the_fallback_error_title() -> None:
    update = one_status(status("failed", ErrorCode="63049", ChannelStatusMessage="Meta chose not to deliver"))
    assert update.error_code == "63049"
    assert update.error_title == "Meta chose not to deliver"
    both = one_status(status("failed", ErrorCode="1", ErrorMessage="twilio", ChannelStatusMessage="channel"))
    assert both.error_title == "twilio"


# ---- malformed input ----

def test_parse_form_keeps_repeats_order_and_blanks_and_decodes_utf8() -> None:
    assert parse_form(b"b=2&a=1&b=3&c=&Body=Hello%21+%F0%9F%91%8D") == [
        ("b", "2"), ("a", "1"), ("b", "3"), ("c", ""), ("Body", "Hello! \N{THUMBS UP SIGN}")]
    assert parse_form(b"") == []


@pytest.mark.parametrize(("body", "error"), [
    (b"MessageSid=SM1&&To=x", "not application/x-www-form-urlencoded"),
    (b"MessageSid", "not application/x-www-form-urlencoded"),
    (b'{"MessageSid": "SM1"}', "not application/x-www-form-urlencoded"),
    (b"=x&MessageSid=SM1", "no name"),
    (b"Body=%ZZ", "bad percent-escape"),
    (b"Body=100%", "bad percent-escape"),
    (b"Body=%FF", "not UTF-8"),
    (b"Body=\xff", "not UTF-8"),
    (b"&".join(b"a%d=1" % index for index in range(1001)), "not application/x-www-form-urlencoded"),
])
def test_malformed_bodies(body: bytes, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_form(body)


@pytest.mark.parametrize(("params", "error"), [
    ({}, "MessageSid is missing"),
    ({"Body": "hi", "From": "whatsapp:+31612345678"}, r"MessageSid is missing \(parameters: Body, From\)"),
    ({**inbound(), "MessageSid": ""}, "MessageSid is missing"),
    ({k: v for k, v in inbound().items() if k != "To"}, "inbound message has no To"),
    ({k: v for k, v in inbound().items() if k not in ("From", "WaId")}, "no From"),
    ({**inbound(), "To": "messenger:12345"}, "is not a WhatsApp address"),
    ({**inbound(), "To": "whatsapp:+999123456"}, "is not a phone number"),
    ({**inbound(), "From": "whatsapp:abc", "WaId": ""}, "neither WaId nor a phone number"),
    ({k: v for k, v in status("sent").items() if k != "From"}, "status callback has no From"),
    (inbound(NumMedia="2", MediaUrl0="https://m/1", MediaContentType0="image/png"), "MediaUrl1 is missing"),
    (inbound(NumMedia="one"), "NumMedia 'one' is not a count"),
])
def test_webhooks_missing_what_they_need(params: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse(params, AT)


def test_a_name_repeated_with_different_values_is_refused() -> None:
    params = [*inbound(Body="hi").items(), ("MessageSid", "SM99999999999999999999999999999999")]
    with pytest.raises(ValueError, match="MessageSid is given 2 times with different values"):
        parse(params, AT)
    same = [*inbound(Body="hi").items(), ("MessageSid", "SM11111111111111111111111111111111")]
    assert one_message(same).provider_message_id == "SM11111111111111111111111111111111"


def test_received_at_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse(inbound(Body="hi"), dt.datetime(2026, 3, 1, 9, 30))


def test_account_key_of_a_body_without_a_sender() -> None:
    with pytest.raises(ValueError, match="inbound message has no To"):
        account_key({"MessageSid": "SM1"})
