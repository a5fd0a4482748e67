"""WhatsApp Cloud API webhook parser: every corpus payload, batching, edge shapes, malformed structure."""
from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from commsinbox.adapters.providers.meta_whatsapp.webhook import parse
from commsinbox.domain.model.channels import DeliveryStatus, Direction, MessageType, Provider
from commsinbox.domain.model.inbound import (ContactRef, InboundEvent, InboundMessage, MediaRef, MessageDeleted,
                                             StatusUpdate, TemplateStatusChanged)
from tests.support.fixtures import fixture, fixtures

pytestmark = pytest.mark.unit

WA = Provider.WHATSAPP_META
META_PHONE_ID, PYWA_PHONE_ID, WABA = "106540352242922", "1122334455667", "102290129340398"
SHEENA = ContactRef(external_id="16505551234", phone="+16505551234", display_name="Sheena Nelson")
TEST_NAME = ContactRef(external_id="972987654321", phone="+972987654321", display_name="Test Name")
BSUID = {"contact": {"user_id": "US.13491208655302741918", "parent_user_id": "US.ENT.11815799212886844830"}}
WAMID_META = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
WAMID_LIST = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
WAMID_FAILED = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREU"  # + A/B/C/D per file
UNSUPPORTED_ERROR = {"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                     "error_data": {"details": "Message type is currently not supported."}}


def at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def meta_msg(message_id: str, type_: MessageType, sent: int, *, text: str | None = None,
             media: tuple[MediaRef, ...] = (), **meta: Any) -> InboundMessage:
    return InboundMessage(provider=WA, account_key=META_PHONE_ID, provider_message_id=message_id, contact=SHEENA,
                          type=type_, sent_at=at(sent), text=text, media=media, meta=meta)


def pywa_msg(type_: MessageType, sent: int, *, message_id: str = "wamid.xyzxyz", text: str | None = None,
             media: tuple[MediaRef, ...] = (), contact: ContactRef = TEST_NAME, bsuid: bool = True,
             **meta: Any) -> InboundMessage:
    return InboundMessage(provider=WA, account_key=PYWA_PHONE_ID, provider_message_id=message_id, contact=contact,
                          type=type_, sent_at=at(sent), text=text, media=media,
                          meta={**(BSUID if bsuid else {}), **meta})


def status(account: str, message_id: str, status_: DeliveryStatus, sent: int, recipient: str,
           code: str | None = None, title: str | None = None) -> StatusUpdate:
    return StatusUpdate(provider=WA, account_key=account, provider_message_id=message_id, status=status_,
                        at=at(sent), recipient=recipient, error_code=code, error_title=title)


def failed(suffix: str, sent: int, code: str, title: str) -> StatusUpdate:
    return status(META_PHONE_ID, WAMID_FAILED + suffix, DeliveryStatus.FAILED, sent, "+16505551234", code, title)


def media(kind: MessageType, media_id: str, mime: str, sha: str, **extra: str) -> tuple[MediaRef, ...]:
    return (MediaRef(kind=kind, media_id=media_id, content_type=mime, sha256=sha, **extra),)


PYWA_SENT_AT, PYWA_STATUS_AT = 1698266945, 1689380458

EXPECTED: dict[str, list[InboundEvent]] = {
    "SYNTH_status_failed_131026_undeliverable.json": [failed("C", 1751142901, "131026", "Message undeliverable")],
    "SYNTH_status_failed_131047_reengagement.json": [failed(
        "B", 1751142900, "131047", "Re-engagement message: Message failed to send because more than 24 hours have "
        "passed since the customer last replied to this number.")],
    "SYNTH_status_failed_131056_pair_rate_limit.json": [failed(
        "D", 1751142902, "131056", "(Business Account, Consumer Account) pair rate limit hit: Too many messages "
        "sent from the sender phone number to the same recipient phone number in a short period of time.")],
    "meta_status_failed_131049.json": [failed(
        "A", 1751142888, "131049", "This message was not delivered to maintain healthy ecosystem engagement: In "
        "order to maintain a healthy ecosystem engagement, the message failed to be delivered.")],
    "meta_status_sent_marketing_pmp.json": [
        status(META_PHONE_ID, WAMID_LIST, DeliveryStatus.SENT, 1750030073, "+16505551234")],
    "meta_status_v24_minimal.json": [
        status(META_PHONE_ID, WAMID_LIST, DeliveryStatus.SENT, 1750030073, "+16505551234")],
    "meta_text.json": [meta_msg(WAMID_META, MessageType.TEXT, 1749416383, text="Does it come in another color?")],
    "meta_image.json": [meta_msg(WAMID_META, MessageType.IMAGE, 1744344496, media=media(
        MessageType.IMAGE, "1003383421387256", "image/jpeg", "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
        caption="Taj Mahal", url="https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=133..."))],
    "meta_sticker.json": [meta_msg(WAMID_META, MessageType.STICKER, 1744344496, animated=True, media=media(
        MessageType.STICKER, "1908647269898587", "image/webp", "wvqXMe6n7n1W0zphvLPoLj+s/NtKqmr3zZ7YzTP7xFI=",
        url="https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=133..."))],
    "meta_interactive_button_reply.json": [meta_msg(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTZBQzg0MzQ4QjRCM0NGNkVGOAA=", MessageType.INTERACTIVE, 1750025136,
        reply={"kind": "button_reply", "id": "cancel-button", "title": "Cancel"},
        context={"provider_message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MEM2RUJFNkI0RENGQTVDRjUA",
                 "from": "15550783881"})],
    "meta_interactive_list_reply.json": [meta_msg(
        WAMID_LIST, MessageType.INTERACTIVE, 1749854575,
        reply={"kind": "list_reply", "id": "priority_express", "title": "Priority Mail Express",
               "description": "Next Day to 2 Days"},
        context={"provider_message_id": "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=",
                 "from": "15550783881"})],
    "meta_text_ctwa_referral.json": [meta_msg(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUQ0N0VFMDA2MTQ0RkJFNkNDNAA=", MessageType.TEXT, 1750275992,
        text="Can I get more info about this?",
        referral={"source_url": "https://fb.me/3cr4Wqqkv", "source_id": "120226305854810726", "source_type": "ad",
                  "body": "Summer Succulents are here!", "headline": "Chat with us", "media_type": "image",
                  "image_url": "https://scontent.xx.fbcdn.net/v/t45.1...",
                  "ctwa_clid": "Aff-n8ZTODiE79d22KtAwQKj9e_mIEOOj27vDVwFjN80dp4_0NiNhEgpGo0AHemvuSoifXaytfTzcchptiE"
                               "rTKCqTrJ5nW1h7IHYeYymGb5K5J5iTROpBhWAGaIAeUzHL50",
                  "welcome_message": {"text": "Hi there! Let us know how we can help!"}})],
    "meta_text_message_business_button.json": [meta_msg(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTA2NTUwRkNEMDdFQjJCRUU0NQA=", MessageType.TEXT, 1750016800,
        text="Is this still available?",
        context={"provider_message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGA9wcm9kdWN0X2lucXVpcnkA",
                 "from": "15550783881",
                 "referred_product": {"catalog_id": "194836987003835", "product_retailer_id": "di9ozbzfi4"}})],
    "meta_template_status_approved.json": [TemplateStatusChanged(
        provider=WA, account_key=WABA, template_id="1689556908129832", name="order_confirmation", language="en-US",
        status="APPROVED", at=at(1751247548), reason=None)],
    "meta_template_status_rejected.json": [TemplateStatusChanged(
        provider=WA, account_key=WABA, template_id="1689556908129835", name="abandoned_cart", language="en",
        status="REJECTED", at=at(1751247548), reason="INVALID_FORMAT")],
    "pywa_button_template_quick_reply.json": [pywa_msg(
        MessageType.INTERACTIVE, 1698269027, message_id="wamid.xsidjw",
        reply={"kind": "button", "payload": "callback_data", "title": "title"},
        context={"provider_message_id": "wamid.xyzxyz==", "from": "972123456789"})],
    "pywa_interactive_button_reply.json": [pywa_msg(
        MessageType.INTERACTIVE, 1698266730, reply={"kind": "button_reply", "id": "callback_data", "title": "title"},
        context={"provider_message_id": "wamid.xyzxyz", "from": PYWA_PHONE_ID})],
    "pywa_interactive_list_reply_description.json": [pywa_msg(
        MessageType.INTERACTIVE, 1698266905, message_id="wamid.zyzxyz",
        reply={"kind": "list_reply", "id": "callback_data", "title": "title", "description": "description"},
        context={"provider_message_id": "wamid.xyzxyz", "from": PYWA_PHONE_ID})],
    "pywa_message_animated_sticker.json": [pywa_msg(MessageType.STICKER, 1697043785, animated=True, media=media(
        MessageType.STICKER, "1234567890987654321", "image/webp", "HcwyCKrTKXHk0a00ms4HWIA76GY0Du6q4Z/iuwevw="))],
    "pywa_message_static_sticker.json": [pywa_msg(MessageType.STICKER, 1697043760, animated=False, media=media(
        MessageType.STICKER, "1234567890987654321", "image/webp", "OmT4nhjUhCMIPNmj7eeOZeCYjTXkLxoOv85OMCFwSuc="))],
    "pywa_message_audio.json": [pywa_msg(MessageType.AUDIO, 1697043509, voice=False, forwarded="forwarded",
                                         media=media(MessageType.AUDIO, "1234567890987654321",
                                                     "audio/ogg; codecs=opus",
                                                     "E3dxS/PdYZE7ppA3pQ4mpCFaXBJ8pX4SRN/dsfvds/iPGA="))],
    "pywa_message_voice.json": [pywa_msg(MessageType.AUDIO, 1697043473, voice=True, media=media(
        MessageType.AUDIO, "1234567890987654321", "audio/ogg; codecs=opus",
        "m04pFf2ERdaopTyFkGPA0+bX3i+YY2dYgVFwOgDLSDI="))],
    "pywa_message_video.json": [pywa_msg(MessageType.VIDEO, 1697044362, forwarded="forwarded", media=media(
        MessageType.VIDEO, "765756756", "video/mp4", "Jh+2ij6PzUv/J2y+grrtegr/ZMzRxkEPwc24Oyib4s03w9Jc=",
        caption="caption"))],
    "pywa_message_document.json": [pywa_msg(MessageType.DOCUMENT, 1697043666, forwarded="forwarded", media=media(
        MessageType.DOCUMENT, "1234567890987654321", "application/pdf",
        "grwfwe/ZPx0wAbdfbdeFUNItPZ0RylL8gGUvdt3YFqc18SY=", caption="caption", filename="filename.pdf"))],
    "pywa_message_chosen_location.json": [pywa_msg(
        MessageType.LOCATION, 1697044557, forwarded="forwarded",
        location={"latitude": 37.4611978, "longitude": -122.2164385, "name": "Facebook HQ",
                  "address": "1 Hacker Way, Menlo Park, CA 94025",
                  "url": "https://maps.google.com/?cid=2000000000000000000"})],
    "pywa_message_current_location.json": [pywa_msg(
        MessageType.LOCATION, 1697044557, forwarded="forwarded",
        location={"latitude": 12.25089, "longitude": 43.90539})],
    "pywa_message_contacts.json": [pywa_msg(MessageType.CONTACTS, 1697044621, contacts=[
        {"name": {"first_name": "Chandler", "last_name": "Bing", "formatted_name": "Chandler Bing"},
         "phones": [{"phone": "+1 555-555-5555", "wa_id": "972987654321", "type": "CELL"}]},
        {"name": {"first_name": "Monica", "formatted_name": "Monica"},
         "phones": [{"phone": "+1 666-666-6666", "wa_id": "972987654321", "type": "HOME"}]},
        {"name": {"first_name": "Rachel", "last_name": "Green", "formatted_name": "Rachel Green"},
         "phones": [{"phone": "+1 777-777-7777", "wa_id": "972987654321", "type": "WORK"}]}])],
    "pywa_message_forwarded.json": [pywa_msg(MessageType.TEXT, 1697044815, text="forwarded text",
                                             forwarded="forwarded")],
    "pywa_message_reply.json": [pywa_msg(MessageType.TEXT, 1697044746, text="replied text",
                                         context={"provider_message_id": "wamid.xyzxyz==", "from": "972123456789"})],
    "pywa_message_referral.json": [pywa_msg(
        MessageType.TEXT, 1697045000, message_id="wamid.ID", text="BODY",
        referral={"source_url": "AD_OR_POST_FB_URL", "source_id": "ADID", "source_type": "ad or post",
                  "headline": "AD_TITLE", "body": "AD_DESCRIPTION", "media_type": "image or video",
                  "image_url": "RAW_IMAGE_URL", "video_url": "RAW_VIDEO_URL", "thumbnail_url": "RAW_THUMBNAIL_URL",
                  "ctwa_clid": "CTWA_CLID"})],
    "pywa_message_reaction.json": [pywa_msg(MessageType.REACTION, 1697044456,
                                            reaction={"provider_message_id": "wamid.yzxyzx=", "emoji": "\U0001F62E"})],
    "pywa_message_unreaction_empty.json": [pywa_msg(MessageType.REACTION, 1697044456,
                                                    reaction={"provider_message_id": "wamid.yzxyzx=", "emoji": None})],
    "pywa_message_unreaction_no_emoji.json": [pywa_msg(
        MessageType.REACTION, 1697044456, reaction={"provider_message_id": "wamid.yzxyzx=", "emoji": None})],
    "pywa_message_unsupported.json": [pywa_msg(MessageType.UNSUPPORTED, 1697044706, errors=[UNSUPPORTED_ERROR])],
    "pywa_message_unsupported_with_type.json": [pywa_msg(MessageType.UNSUPPORTED, 1697044706,
                                                         errors=[UNSUPPORTED_ERROR], unsupported={"type": "pool"})],
    "pywa_message_revoke.json": [MessageDeleted(provider=WA, account_key="<BUSINESS_PHONE_NUMBER_ID>",
                                                provider_message_id="<ORIGINAL_WHATSAPP_MESSAGE_ID>",
                                                at=at(1697043223))],
    "pywa_system_identity_change.json": [pywa_msg(
        MessageType.SYSTEM, 1697044706, text="User identity changed", bsuid=False,
        contact=attrs.evolve(TEST_NAME, display_name="User A"),
        system={"body": "User identity changed", "type": "customer_identity_changed"},
        identity={"acknowledged": True, "created_timestamp": "1697044706", "hash": "xyzxyz"})],
    "pywa_system_phone_number_change.json": [pywa_msg(
        MessageType.SYSTEM, 1753851315, message_id="wamid.xyzxyz==", bsuid=False,
        text="User A changed from 972987654321 to 972912345678",
        contact=attrs.evolve(TEST_NAME, display_name=None),
        system={"body": "User A changed from 972987654321 to 972912345678", "wa_id": "972912345678",
                "type": "user_changed_number"})],
    "pywa_status_sent.json": [status(PYWA_PHONE_ID, "wamid.xyzxyz", DeliveryStatus.SENT, PYWA_SENT_AT,
                                     "+972987654321")],
    "pywa_status_with_tracker.json": [status(PYWA_PHONE_ID, "wamid.xyzxyz", DeliveryStatus.SENT, PYWA_SENT_AT,
                                             "+972987654321")],
    "pywa_status_delivered.json": [status(PYWA_PHONE_ID, "wamid.xyzxyz", DeliveryStatus.DELIVERED, PYWA_SENT_AT,
                                          "+972987654321")],
    "pywa_status_read.json": [status(PYWA_PHONE_ID, "wamid.xyzxyz", DeliveryStatus.READ, PYWA_STATUS_AT,
                                     "+972987654321")],
    "pywa_status_played.json": [status(PYWA_PHONE_ID, "wamid.xyzxyz", DeliveryStatus.PLAYED, PYWA_STATUS_AT,
                                       "+972987654321")],
    "pywa_status_failed.json": [status(
        PYWA_PHONE_ID, "wamid.xyzxyz", DeliveryStatus.FAILED, PYWA_STATUS_AT, "+972987654321", "130472",
        "User's number is part of an experiment: Failed to send message because this user's phone number is part "
        "of an experiment")],
}


def load(name: str) -> Any:
    return json.loads(fixture(f"whatsapp_cloud/{name}").read_text("utf-8"))


def assert_same_events(got: list[InboundEvent], expected: list[InboundEvent], label: str = "") -> None:
    assert [type(event).__name__ for event in got] == [type(event).__name__ for event in expected], label
    for index, (actual, wanted) in enumerate(zip(got, expected, strict=True)):
        for field in attrs.fields(type(wanted)):
            assert getattr(actual, field.name) == getattr(wanted, field.name), f"{label}[{index}].{field.name}"


def _webhook_fixtures() -> list[Path]:
    return [path for path in fixtures("whatsapp_cloud", "*.json") if path.name != "signature_vectors.json"]


def test_the_table_covers_every_webhook_fixture() -> None:
    assert sorted(path.name for path in _webhook_fixtures()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_payload(name: str) -> None:
    events = parse(load(name))
    assert_same_events(events, EXPECTED[name], name)
    for event in events:
        instant = event.sent_at if isinstance(event, InboundMessage) else event.at
        assert instant.utcoffset() == dt.timedelta(0)
        if isinstance(event, InboundMessage):
            assert event.direction is Direction.IN


def test_meta_is_a_copy_not_a_view_of_the_payload() -> None:
    payload = load("pywa_message_contacts.json")
    [event] = parse(payload)
    assert isinstance(event, InboundMessage)
    event.meta["contacts"][0]["name"]["formatted_name"] = "changed"
    assert payload["entry"][0]["changes"][0]["value"]["messages"][0]["contacts"][0]["name"]["formatted_name"] \
        == "Chandler Bing"


# ------------------------------------------------------------------------------------------------ batching

def _text(tag: str, seconds: int) -> dict[str, Any]:
    return {"from": "16505551234", "id": f"wamid.{tag}", "timestamp": str(seconds), "type": "text",
            "text": {"body": f"body {tag}"}}


def _delivered(tag: str, seconds: int) -> dict[str, Any]:
    return {"id": f"wamid.{tag}", "status": "delivered", "timestamp": str(seconds), "recipient_id": "16505551234"}


def _change(phone_number_id: str, **items: list[dict[str, Any]]) -> dict[str, Any]:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
             "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}], **items}
    return {"field": "messages", "value": value}


def _batch(both_in_each_change: bool) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    entries, expected, seconds = [], [], 1750000000
    for e in range(2):
        phone_id, changes = f"PN{e}", []
        for c in range(2):
            messages, statuses = [], []
            if both_in_each_change or c == 0:
                for m in range(2):
                    seconds += 1
                    messages.append(_text(f"M{e}{c}{m}", seconds))
                    expected.append(("InboundMessage", phone_id, f"wamid.M{e}{c}{m}"))
            if both_in_each_change or c == 1:
                for s in range(2):
                    seconds += 1
                    statuses.append(_delivered(f"S{e}{c}{s}", seconds))
                    expected.append(("StatusUpdate", phone_id, f"wamid.S{e}{c}{s}"))
            changes.append(_change(phone_id, **({"messages": messages} if messages else {}),
                                   **({"statuses": statuses} if statuses else {})))
        entries.append({"id": f"WABA{e}", "changes": changes})
    return {"object": "whatsapp_business_account", "entry": entries}, expected


@pytest.mark.parametrize("both, count", [(False, 8), (True, 16)], ids=["split-changes", "mixed-changes"])
def test_batches_lose_nothing_and_keep_order(both: bool, count: int) -> None:
    payload, expected = _batch(both)
    events = parse(payload)
    assert len(events) == count == len(expected)
    assert [(type(e).__name__, e.account_key, e.provider_message_id) for e in events] == expected
    times = [e.sent_at if isinstance(e, InboundMessage) else e.at for e in events
             if isinstance(e, InboundMessage | StatusUpdate)]
    assert times == sorted(times) and len(set(times)) == count
    for event in events:
        if isinstance(event, InboundMessage):
            assert (event.contact, event.text) == (SHEENA, f"body {event.provider_message_id[6:]}")
        else:
            assert isinstance(event, StatusUpdate)
            assert (event.status, event.recipient) == (DeliveryStatus.DELIVERED, "+16505551234")


def test_mixed_fields_in_one_delivery() -> None:
    template = load("meta_template_status_approved.json")["entry"][0]
    text = load("meta_text.json")["entry"][0]
    payload = {"object": "whatsapp_business_account", "entry": [
        {"id": WABA, "time": 1751247548, "changes": [
            {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}},
            *text["changes"],
            {"field": "phone_number_quality_update", "value": {"current_limit": "TIER_1K"}},
            *template["changes"]]}]}
    assert_same_events(parse(payload), EXPECTED["meta_text.json"] + EXPECTED["meta_template_status_approved.json"])


@pytest.mark.parametrize("field", ["account_update", "phone_number_quality_update", "message_template_quality_update",
                                   "security", "history", "some_future_field"])
def test_other_fields_yield_nothing(field: str) -> None:
    payload = {"object": "whatsapp_business_account",
               "entry": [{"id": WABA, "time": 1, "changes": [{"field": field, "value": ["anything"]}]}]}
    assert parse(payload) == []


def test_empty_deliveries() -> None:
    assert parse({"object": "whatsapp_business_account", "entry": []}) == []
    assert parse({"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": []}]}) == []
    assert parse({"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [
        _change(META_PHONE_ID, messages=[], statuses=[])]}]}) == []
    only_errors = _change(META_PHONE_ID)
    only_errors["value"]["errors"] = [{"code": 131000, "title": "Something went wrong"}]
    assert parse({"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [only_errors]}]}) == []


# ------------------------------------------------------------------------------------------------ synthetic shapes
# Documented shapes (providers.md §2.3–2.5) with no file in the corpus: the netflie_* payloads the reference cites
# (order, nfm_reply, unknown/131051, group and echo shapes) are not present.

def _one(message: dict[str, Any], *, contacts: list[dict[str, Any]] | None = None, field: str = "messages",
         key: str = "messages") -> InboundEvent:
    change = _change(META_PHONE_ID, **{key: [message]})
    change["field"] = field
    if contacts is not None:
        change["value"]["contacts"] = contacts
    [event] = parse({"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [change]}]})
    return event


def _base(type_: str, **body: Any) -> dict[str, Any]:
    return {"from": "16505551234", "id": "wamid.SYN", "timestamp": "1750000000", "type": type_, **body}


def test_order() -> None:
    order = {"catalog_id": "194836987003835", "text": "for the party",
             "product_items": [{"product_retailer_id": "di9ozbzfi4", "quantity": 2, "item_price": 10.5,
                                "currency": "USD"}]}
    event = _one(_base("order", order=order))
    assert_same_events([event], [meta_msg("wamid.SYN", MessageType.ORDER, 1750000000, order=order)])


def test_flow_nfm_reply() -> None:
    reply = {"response_json": '{"flow_token": "t-1", "choice": "a"}', "body": "Sent", "name": "flow"}
    event = _one(_base("interactive", interactive={"type": "nfm_reply", "nfm_reply": reply},
                       context={"from": "15550783881", "id": "wamid.FLOW"}))
    assert_same_events([event], [meta_msg(
        "wamid.SYN", MessageType.INTERACTIVE, 1750000000,
        reply={"kind": "nfm_reply", "id": "flow", "title": "Sent",
               "response_json": '{"flow_token": "t-1", "choice": "a"}'},
        context={"provider_message_id": "wamid.FLOW", "from": "15550783881"})])


def test_unknown_interactive_subtype_and_unknown_types_are_unsupported() -> None:
    event = _one(_base("interactive", interactive={"type": "call_permission_reply", "call_permission_reply": {}}))
    assert_same_events([event], [meta_msg("wamid.SYN", MessageType.UNSUPPORTED, 1750000000,
                                          provider_type="interactive.call_permission_reply")])
    event = _one(_base("request_welcome"))
    assert_same_events([event], [meta_msg("wamid.SYN", MessageType.UNSUPPORTED, 1750000000,
                                          provider_type="request_welcome")])
    errors = [{"code": 131051, "title": "Unsupported message type"}]
    event = _one(_base("unknown", errors=errors))  # the older spelling of "unsupported"
    assert_same_events([event], [meta_msg("wamid.SYN", MessageType.UNSUPPORTED, 1750000000, errors=errors)])


def test_frequently_forwarded_and_forward_flags() -> None:
    text = {"body": "chain letter"}
    event = _one(_base("text", text=text, context={"forwarded": True, "frequently_forwarded": True}))
    assert isinstance(event, InboundMessage)
    assert (event.text, event.meta) == ("chain letter", {"forwarded": "frequently_forwarded"})
    event = _one(_base("text", text=text, context={"forwarded": False}))
    assert isinstance(event, InboundMessage) and event.meta == {}


def test_image_without_url_or_caption_and_empty_text() -> None:
    event = _one(_base("image", image={"id": "M1", "mime_type": "image/png", "sha256": "abc"}))
    assert isinstance(event, InboundMessage)
    assert event.media == (MediaRef(kind=MessageType.IMAGE, media_id="M1", content_type="image/png", sha256="abc"),)
    assert (event.text, event.meta) == (None, {})
    event = _one(_base("text", text={"body": ""}))
    assert isinstance(event, InboundMessage) and event.text == ""


def test_newer_contact_fields_kept_in_meta() -> None:
    contacts = [{"profile": {"name": "Sheena Nelson", "username": "@sheena"}, "wa_id": "16505551234",
                 "user_id": "US.111", "parent_user_id": "US.ENT.222", "identity_key_hash": "hash=="}]
    event = _one(_base("text", text={"body": "hi"}, group_id="GROUP-1"), contacts=contacts)
    assert isinstance(event, InboundMessage)
    assert event.contact == SHEENA
    assert event.meta == {"contact": {"user_id": "US.111", "parent_user_id": "US.ENT.222",
                                      "identity_key_hash": "hash==", "username": "@sheena"}, "group_id": "GROUP-1"}


def test_business_scoped_user_id_without_phone() -> None:
    message = _base("text", text={"body": "hi"}, from_user_id="US.111")
    del message["from"]
    event = _one(message, contacts=[{"profile": {"name": "Sheena Nelson"}, "user_id": "US.111"}])
    assert isinstance(event, InboundMessage)
    assert event.contact == ContactRef(external_id="US.111", phone=None, display_name="Sheena Nelson")
    assert event.meta == {"contact": {"user_id": "US.111"}}


def test_contact_missing_or_number_not_possible() -> None:
    event = _one(_base("text", text={"body": "hi"}, **{"from": "123"}), contacts=[])
    assert isinstance(event, InboundMessage)
    assert event.contact == ContactRef(external_id="123", phone=None, display_name=None)


def test_business_app_echo_is_outbound() -> None:
    echo = {"from": "15550783881", "to": "16505551234", "id": "wamid.ECHO", "timestamp": "1750000000",
            "type": "text", "text": {"body": "sent from my phone"}}
    event = _one(echo, field="smb_message_echoes", key="message_echoes")
    expected = attrs.evolve(meta_msg("wamid.ECHO", MessageType.TEXT, 1750000000, text="sent from my phone"),
                            direction=Direction.OUT)
    assert_same_events([event], [expected])


def test_group_status_names_the_participant() -> None:
    item = {"id": "wamid.G", "status": "read", "timestamp": "1750000000", "recipient_id": "120363025555555555",
            "recipient_type": "group", "recipient_participant_id": "16505551234"}
    event = _one(item, key="statuses")
    assert_same_events([event], [status(META_PHONE_ID, "wamid.G", DeliveryStatus.READ, 1750000000,
                                        "+16505551234")])


def test_unknown_status_value_is_skipped_but_its_neighbours_are_kept() -> None:
    statuses = [_delivered("A", 1750000001), {**_delivered("B", 1750000002), "status": "deleted"},
                _delivered("C", 1750000003)]
    payload = {"object": "whatsapp_business_account",
               "entry": [{"id": WABA, "changes": [_change(META_PHONE_ID, statuses=statuses)]}]}
    assert [e.provider_message_id for e in parse(payload)] == ["wamid.A", "wamid.C"]


@pytest.mark.parametrize("error, code, title", [
    ({"code": 131000, "title": "Something went wrong"}, "131000", "Something went wrong"),
    ({"code": "131000", "message": "Something went wrong"}, "131000", "Something went wrong"),
    ({"title": "Oops", "error_data": {"details": "Oops."}}, None, "Oops"),
    ({"code": 1, "error_data": {"details": "Only details"}}, "1", "Only details"),
    ({"code": 2, "title": "Temporary", "error_data": {"details": "Temporary downtime, retry later"}}, "2",
     "Temporary downtime, retry later"),
    ({}, None, None),
])
def test_status_error_summary(error: dict[str, Any], code: str | None, title: str | None) -> None:
    item = {"id": "wamid.F", "status": "failed", "timestamp": "1750000000", "recipient_id": "16505551234",
            "errors": [error, {"code": 999, "title": "second error is not reported"}]}
    event = _one(item, key="statuses")
    assert isinstance(event, StatusUpdate)
    assert (event.error_code, event.error_title) == (code, title)


def test_template_time_and_ids_may_be_strings_or_ints() -> None:
    payload = load("meta_template_status_rejected.json")
    payload["entry"][0]["time"] = "1751247548"
    payload["entry"][0]["changes"][0]["value"]["message_template_id"] = "1689556908129835"
    payload["entry"][0]["changes"][0]["value"]["reason"] = None
    [event] = parse(payload)
    assert event == attrs.evolve(EXPECTED["meta_template_status_rejected.json"][0], reason=None)


# ------------------------------------------------------------------------------------------------ malformed

V = "$.entry[0].changes[0].value"
M = f"{V}.messages[0]"
S = f"{V}.statuses[0]"


def _value(p: Any) -> Any:
    return p["entry"][0]["changes"][0]["value"]


def _msg(p: Any) -> Any:
    return _value(p)["messages"][0]


def _status(p: Any) -> Any:
    return _value(p)["statuses"][0]


MALFORMED: list[tuple[str, str, Callable[[Any], Any], str]] = [
    ("object-missing", "meta_text.json", lambda p: p.pop("object"), "$.object"),
    ("object-instagram", "meta_text.json", lambda p: p.update(object="instagram"), "$.object"),
    ("entry-missing", "meta_text.json", lambda p: p.pop("entry"), "$.entry"),
    ("entry-object", "meta_text.json", lambda p: p.update(entry={}), "$.entry"),
    ("entry-item-string", "meta_text.json", lambda p: p.update(entry=["x"]), "$.entry[0]"),
    ("changes-missing", "meta_text.json", lambda p: p["entry"][0].pop("changes"), "$.entry[0].changes"),
    ("field-missing", "meta_text.json", lambda p: p["entry"][0]["changes"][0].pop("field"),
     "$.entry[0].changes[0].field"),
    ("field-number", "meta_text.json", lambda p: p["entry"][0]["changes"][0].update(field=1),
     "$.entry[0].changes[0].field"),
    ("value-missing", "meta_text.json", lambda p: p["entry"][0]["changes"][0].pop("value"), V),
    ("metadata-missing", "meta_text.json", lambda p: _value(p).pop("metadata"), f"{V}.metadata"),
    ("phone-number-id-missing", "meta_text.json", lambda p: _value(p)["metadata"].pop("phone_number_id"),
     f"{V}.metadata.phone_number_id"),
    ("messages-object", "meta_text.json", lambda p: _value(p).update(messages={}), f"{V}.messages"),
    ("contacts-string", "meta_text.json", lambda p: _value(p).update(contacts="x"), f"{V}.contacts"),
    ("profile-name-number", "meta_text.json", lambda p: _value(p)["contacts"][0]["profile"].update(name=1),
     f"{V}.contacts[0].profile.name"),
    ("message-string", "meta_text.json", lambda p: _value(p).update(messages=["wamid"]), M),
    ("id-missing", "meta_text.json", lambda p: _msg(p).pop("id"), f"{M}.id"),
    ("id-empty", "meta_text.json", lambda p: _msg(p).update(id=""), f"{M}.id"),
    ("id-number", "meta_text.json", lambda p: _msg(p).update(id=5), f"{M}.id"),
    ("timestamp-missing", "meta_text.json", lambda p: _msg(p).pop("timestamp"), f"{M}.timestamp"),
    ("timestamp-iso", "meta_text.json", lambda p: _msg(p).update(timestamp="2025-06-08T20:59:43Z"),
     f"{M}.timestamp"),
    ("timestamp-float", "meta_text.json", lambda p: _msg(p).update(timestamp=1749416383.5), f"{M}.timestamp"),
    ("timestamp-bool", "meta_text.json", lambda p: _msg(p).update(timestamp=True), f"{M}.timestamp"),
    ("timestamp-negative", "meta_text.json", lambda p: _msg(p).update(timestamp="-1"), f"{M}.timestamp"),
    ("timestamp-huge", "meta_text.json", lambda p: _msg(p).update(timestamp="9" * 30), f"{M}.timestamp"),
    ("type-missing", "meta_text.json", lambda p: _msg(p).pop("type"), f"{M}.type"),
    ("from-missing", "meta_text.json", lambda p: _msg(p).pop("from"), f"{M}.from"),
    ("text-missing", "meta_text.json", lambda p: _msg(p).pop("text"), f"{M}.text"),
    ("text-body-number", "meta_text.json", lambda p: _msg(p)["text"].update(body=3), f"{M}.text.body"),
    ("referral-list", "meta_text_ctwa_referral.json", lambda p: _msg(p).update(referral=[]), f"{M}.referral"),
    ("context-id-number", "meta_interactive_button_reply.json", lambda p: _msg(p)["context"].update(id=1),
     f"{M}.context.id"),
    ("errors-object", "pywa_message_unsupported.json", lambda p: _msg(p).update(errors={}), f"{M}.errors"),
    ("media-id-missing", "meta_image.json", lambda p: _msg(p)["image"].pop("id"), f"{M}.image.id"),
    ("media-mime-number", "meta_image.json", lambda p: _msg(p)["image"].update(mime_type=1),
     f"{M}.image.mime_type"),
    ("media-object-missing", "pywa_message_document.json", lambda p: _msg(p).pop("document"), f"{M}.document"),
    ("reaction-target-missing", "pywa_message_reaction.json", lambda p: _msg(p)["reaction"].pop("message_id"),
     f"{M}.reaction.message_id"),
    ("latitude-string", "pywa_message_chosen_location.json", lambda p: _msg(p)["location"].update(latitude="37"),
     f"{M}.location.latitude"),
    ("longitude-missing", "pywa_message_current_location.json", lambda p: _msg(p)["location"].pop("longitude"),
     f"{M}.location.longitude"),
    ("contacts-message-object", "pywa_message_contacts.json", lambda p: _msg(p).update(contacts={}),
     f"{M}.contacts"),
    ("interactive-type-missing", "meta_interactive_button_reply.json",
     lambda p: _msg(p)["interactive"].pop("type"), f"{M}.interactive.type"),
    ("button-reply-id-missing", "meta_interactive_button_reply.json",
     lambda p: _msg(p)["interactive"]["button_reply"].pop("id"), f"{M}.interactive.button_reply.id"),
    ("button-string", "pywa_button_template_quick_reply.json", lambda p: _msg(p).update(button="yes"),
     f"{M}.button"),
    ("system-missing", "pywa_system_phone_number_change.json", lambda p: _msg(p).pop("system"), f"{M}.system"),
    ("revoke-original-missing", "pywa_message_revoke.json", lambda p: _msg(p)["revoke"].pop("original_message_id"),
     f"{M}.revoke.original_message_id"),
    ("status-id-missing", "pywa_status_sent.json", lambda p: _status(p).pop("id"), f"{S}.id"),
    ("status-timestamp-missing", "pywa_status_sent.json", lambda p: _status(p).pop("timestamp"), f"{S}.timestamp"),
    ("status-missing", "pywa_status_sent.json", lambda p: _status(p).pop("status"), f"{S}.status"),
    ("status-recipient-number", "pywa_status_sent.json", lambda p: _status(p).update(recipient_id=972),
     f"{S}.recipient_id"),
    ("status-errors-object", "pywa_status_failed.json", lambda p: _status(p).update(errors={}), f"{S}.errors"),
    ("status-error-code-float", "pywa_status_failed.json", lambda p: _status(p)["errors"][0].update(code=1.5),
     f"{S}.errors[0].code"),
    ("template-time-missing", "meta_template_status_approved.json", lambda p: p["entry"][0].pop("time"),
     "$.entry[0].time"),
    ("template-time-iso", "meta_template_status_approved.json",
     lambda p: p["entry"][0].update(time="2025-06-30T01:39:08Z"), "$.entry[0].time"),
    ("template-waba-missing", "meta_template_status_approved.json", lambda p: p["entry"][0].pop("id"),
     "$.entry[0].id"),
    ("template-id-missing", "meta_template_status_approved.json", lambda p: _value(p).pop("message_template_id"),
     f"{V}.message_template_id"),
    ("template-id-bool", "meta_template_status_approved.json",
     lambda p: _value(p).update(message_template_id=True), f"{V}.message_template_id"),
    ("template-name-missing", "meta_template_status_approved.json",
     lambda p: _value(p).pop("message_template_name"), f"{V}.message_template_name"),
    ("template-event-missing", "meta_template_status_approved.json", lambda p: _value(p).pop("event"),
     f"{V}.event"),
]


@pytest.mark.parametrize("name, mutate, path", [pytest.param(n, f, p, id=i) for i, n, f, p in MALFORMED])
def test_malformed_structure_names_the_json_path(name: str, mutate: Callable[[Any], Any], path: str) -> None:
    payload = copy.deepcopy(load(name))
    mutate(payload)
    with pytest.raises(ValueError) as bad:
        parse(payload)
    assert f" at {path}: " in str(bad.value)


@pytest.mark.parametrize("payload", [None, [], "whatsapp_business_account", 42])
def test_payload_must_be_an_object(payload: Any) -> None:
    with pytest.raises(ValueError, match=r" at \$: "):
        parse(payload)
