"""Instagram Messaging webhook parser: the doc-derived corpus field by field, batches, echoes, malformed bodies."""
from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

from commsinbox.adapters.providers.meta_instagram.webhook import parse
from commsinbox.domain.model.channels import DeliveryStatus, Direction, MessageType, Provider
from commsinbox.domain.model.inbound import (
    ContactRef,
    InboundEvent,
    InboundMessage,
    MediaRef,
    MessageDeleted,
    StatusUpdate,
)
from tests.support.fixtures import fixture, fixtures

pytestmark = pytest.mark.unit

IG = Provider.INSTAGRAM_META
USER = ContactRef(external_id="IGSID")
AT_2019 = dt.datetime(2019, 9, 23, 18, 14, 45, 349_000, tzinfo=dt.UTC)  # 1569262485349 ms
AT_2017 = dt.datetime(2017, 8, 16, 17, 52, 56, 377_000, tzinfo=dt.UTC)  # 1502905976377 ms


def _msg(**fields: Any) -> InboundMessage:
    defaults: dict[str, Any] = dict(provider=IG, account_key="IGID", provider_message_id="MESSAGE-ID", contact=USER,
                                    type=MessageType.TEXT, sent_at=AT_2019, text="MESSAGE-TEXT")
    return InboundMessage(**{**defaults, **fields})


# Every docderived_*.json fixture → the events it must give, written out by hand from the payloads.
# NB: the doc's postback/referral examples put the placeholder "IGSID" in entry.id, and its echo example keeps
# sender=IGSID/recipient=IGID: kept verbatim, so account_key / contact follow the placeholders literally.
EXPECTED: dict[str, list[InboundEvent]] = {
    "docderived_message_text.json": [_msg()],
    "docderived_message_attachments_image_video.json": [
        _msg(type=MessageType.IMAGE, text=None,
             media=(MediaRef(kind=MessageType.IMAGE, url="LINK"), MediaRef(kind=MessageType.VIDEO, url="LINK")))],
    "docderived_message_ephemeral.json": [
        _msg(type=MessageType.UNSUPPORTED, text=None, media=(MediaRef(kind=MessageType.UNSUPPORTED, url=None),),
             meta={"ephemeral": True})],
    "docderived_message_is_deleted.json": [
        MessageDeleted(provider=IG, account_key="IGID", provider_message_id="MESSAGE-ID", at=AT_2019)],
    "docderived_message_is_echo.json": [
        _msg(direction=Direction.OUT, contact=ContactRef(external_id="IGID"))],  # the recipient, not the sender
    "docderived_message_is_unsupported.json": [_msg(type=MessageType.UNSUPPORTED, text=None)],
    "docderived_message_quick_reply.json": [
        _msg(type=MessageType.INTERACTIVE, meta={"reply": {"kind": "quick_reply", "title": "MESSAGE-TEXT",
                                                           "payload": "CUSTOMER-RESPONSE-PAYLOAD"}})],
    "docderived_message_reply_to_mid.json": [_msg(meta={"context": {"provider_message_id": "MESSAGE-ID"}})],
    "docderived_message_reply_to_story.json": [_msg(meta={"story_reply": {"url": "CDN-URL", "id": "STORY-ID"}})],
    "docderived_messaging_postback.json": [
        _msg(account_key="IGSID", type=MessageType.INTERACTIVE, sent_at=AT_2017,
             text="SELECTED-ICEBREAKER-REPLY-OR-CTA-BUTTON",
             meta={"reply": {"kind": "postback", "title": "SELECTED-ICEBREAKER-REPLY-OR-CTA-BUTTON",
                             "payload": "CUSTOMER-RESPONSE-PAYLOAD"}})],
    "docderived_messaging_referral_igme.json": [
        _msg(account_key="IGSID", provider_message_id="referral:IGSID:1502905976377", type=MessageType.SYSTEM,
             sent_at=AT_2017, text=None,
             meta={"referral": {"ref": "INFORMATION-INCLUDED-IN-REF-PARAMETER-OF-IGME-LINK",
                                "source": "IGME-SOURCE-LINK", "type": "OPEN_THREAD"}})],
    "docderived_messaging_seen.json": [
        StatusUpdate(provider=IG, account_key="IGID", provider_message_id="MESSAGE-ID", status=DeliveryStatus.READ,
                     at=AT_2019, recipient="IGSID")],
    "docderived_reaction_react.json": [
        _msg(provider_message_id="MESSAGE-ID:reaction:IGSID:1569262485349", type=MessageType.REACTION, text=None,
             meta={"reaction": {"provider_message_id": "MESSAGE-ID", "emoji": "\u2764\ufe0f", "reaction": "love",
                                "action": "react"}})],
    "docderived_reaction_unreact.json": [
        _msg(provider_message_id="MESSAGE-ID:reaction:IGSID:1569262485349", type=MessageType.REACTION, text=None,
             meta={"reaction": {"provider_message_id": "MESSAGE-ID", "emoji": None, "reaction": None,
                                "action": "unreact"}})],
}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_bytes())


def assert_events(actual: list[InboundEvent], expected: list[InboundEvent], label: str) -> None:
    assert len(actual) == len(expected), f"{label}: {len(actual)} events, expected {len(expected)}"
    for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
        where = f"{label}[{index}]"
        assert type(got) is type(want), f"{where}: {type(got).__name__}, expected {type(want).__name__}"
        for field in attrs.fields(type(want)):
            assert getattr(got, field.name) == getattr(want, field.name), f"{where}.{field.name}"


def _stamp(event: InboundEvent) -> dt.datetime:
    return event.sent_at if isinstance(event, InboundMessage) else event.at


# -- the doc-derived corpus ------------------------------------------------------------------------------


def test_every_docderived_fixture_has_an_expectation() -> None:
    assert {path.name for path in fixtures("instagram", "docderived_*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_docderived_fixture(name: str) -> None:
    events = parse(_load(fixture(f"instagram/{name}")))
    assert_events(events, EXPECTED[name], name)
    for event in events:
        assert _stamp(event).utcoffset() == dt.timedelta(0)


# -- the doc syntax templates (not JSON): every kind they document is covered --------------------------

TEMPLATES = "meta_doc_*_template.jsonc.txt"
ENVELOPE = {"object", "entry", "id", "time", "messaging", "sender", "recipient", "timestamp"}
FIELDS = {"mid", "type", "payload", "url", "action", "emoji", "title", "ref", "source"}
# documented key → (docderived fixture, path inside its messaging[0]) that exercises it
KIND_COVERAGE: dict[str, tuple[str, tuple[str, ...]]] = {
    "message": ("docderived_message_text.json", ("message", "mid")),
    "text": ("docderived_message_text.json", ("message", "text")),
    "attachments": ("docderived_message_attachments_image_video.json", ("message", "attachments")),
    "is_deleted": ("docderived_message_is_deleted.json", ("message", "is_deleted")),
    "is_echo": ("docderived_message_is_echo.json", ("message", "is_echo")),
    "is_unsupported": ("docderived_message_is_unsupported.json", ("message", "is_unsupported")),
    "quick_reply": ("docderived_message_quick_reply.json", ("message", "quick_reply", "payload")),
    "reply_to": ("docderived_message_reply_to_mid.json", ("message", "reply_to", "mid")),
    "story": ("docderived_message_reply_to_story.json", ("message", "reply_to", "story", "id")),
    "reaction": ("docderived_reaction_react.json", ("reaction", "reaction")),
    "postback": ("docderived_messaging_postback.json", ("postback", "payload")),
    "read": ("docderived_messaging_seen.json", ("read", "mid")),
    "referral": ("docderived_messaging_referral_igme.json", ("referral", "ref")),
}
# documented keys with no docderived variant (the in-message referral of a Shop product or a CTD ad): synthetic tests
SYNTHETIC_COVERAGE = {"product": "test_message_referral_shop_product",
                      "ad_id": "test_message_referral_ctd_ad", "ads_context_data": "test_message_referral_ctd_ad",
                      "ad_title": "test_message_referral_ctd_ad", "photo_url": "test_message_referral_ctd_ad",
                      "video_url": "test_message_referral_ctd_ad"}
TYPE_VALUE_COVERAGE = {"image": "docderived_message_attachments_image_video.json",
                       "video": "docderived_message_attachments_image_video.json",
                       "ephemeral": "docderived_message_ephemeral.json",
                       "OPEN_THREAD": "docderived_messaging_referral_igme.json"}


def _template_syntax(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return re.sub(r"<!--.*?-->", "", re.sub(r"\s//[^\n]*", "", text), flags=re.DOTALL)


def _dig(payload: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    node: Any = payload["entry"][0]["messaging"][0]
    for key in keys:
        node = node[key]
    return node


def test_templates_document_only_keys_the_tests_cover() -> None:
    templates = fixtures("instagram", TEMPLATES)
    assert len(templates) == 6
    keys = {key for path in templates for key in re.findall(r'"(\w+)"\s*:', _template_syntax(path))}
    unclassified = keys - ENVELOPE - FIELDS - set(KIND_COVERAGE) - set(SYNTHETIC_COVERAGE)
    assert not unclassified, f"template keys with no covering test: {sorted(unclassified)}"
    assert set(KIND_COVERAGE) | set(SYNTHETIC_COVERAGE) <= keys  # the tables name nothing the docs do not
    for key, (name, where) in KIND_COVERAGE.items():
        assert name in EXPECTED, key
        assert _dig(_load(fixture(f"instagram/{name}")), where) is not None, f"{name} does not exercise {key}"
    for test_name in set(SYNTHETIC_COVERAGE.values()):
        assert callable(globals().get(test_name)), test_name


def test_templates_type_values_are_covered() -> None:
    values = {value for path in fixtures("instagram", TEMPLATES)
              for value in re.findall(r'"type"\s*:\s*"(\w+)"', _template_syntax(path))}
    assert values == set(TYPE_VALUE_COVERAGE)
    for value, name in TYPE_VALUE_COVERAGE.items():
        assert f'"{value}"' in fixture(f"instagram/{name}").read_text(encoding="utf-8") and name in EXPECTED


def test_attachment_types_named_in_the_template_comment_are_covered() -> None:
    text = fixture("instagram/meta_doc_messages_template.jsonc.txt").read_text(encoding="utf-8")
    listed = re.search(r"Can be ([^\n]*)", text)
    assert listed
    names = set(re.findall(r"\b[a-z_]+\b", re.sub(r"\(.*?\)|\bor\b", "", listed.group(1))))
    assert names == {"audio", "file", "image", "share", "story_mention", "video", "ig_reel", "reel"}
    assert names <= {"image", "video"} | set(ATTACHMENT_CASES)


# -- synthetic payloads ----------------------------------------------------------------------------------

BIZ = "17841400000000001"
CUSTOMER = "6543210987654321"
T0 = 1_700_000_000_123


def _item(sender: str = CUSTOMER, recipient: str = BIZ, timestamp: int = T0, **event: Any) -> dict[str, Any]:
    return {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": timestamp, **event}


def _payload(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"object": "instagram", "entry": list(entries)}


def _entry(*items: dict[str, Any], account: str = BIZ, field: str = "messaging") -> dict[str, Any]:
    return {"id": account, "time": T0 + 500, field: list(items)}


def _one(*items: dict[str, Any], field: str = "messaging") -> InboundEvent:
    events = parse(_payload(_entry(*items, field=field)))
    assert len(events) == 1
    return events[0]


def test_batch_keeps_every_item_in_order() -> None:
    accounts = [BIZ, "17841400000000002"]
    entries = [_entry(_item(timestamp=T0 + 10 * e, message={"mid": f"m{e}", "text": f"hello {e}"}),
                      _item(timestamp=T0 + 10 * e + 1,
                            reaction={"mid": f"m{e}", "action": "react", "reaction": "like", "emoji": "\U0001f44d"}),
                      _item(timestamp=T0 + 10 * e + 2, read={"mid": f"out{e}"}), account=account)
               for e, account in enumerate(accounts)]
    events = parse(_payload(*entries))
    assert [type(event) for event in events] == [InboundMessage, InboundMessage, StatusUpdate] * 2
    assert [event.account_key for event in events] == [BIZ] * 3 + ["17841400000000002"] * 3
    assert [event.provider_message_id for event in events] == [
        "m0", f"m0:reaction:{CUSTOMER}:{T0 + 1}", "out0", "m1", f"m1:reaction:{CUSTOMER}:{T0 + 11}", "out1"]
    assert [_stamp(event) for event in events] == [
        dt.datetime(2023, 11, 14, 22, 13, 20, 123_000 + 1000 * ms, tzinfo=dt.UTC) for ms in (0, 1, 2, 10, 11, 12)]
    first, reaction, read = events[:3]
    assert isinstance(first, InboundMessage) and first.text == "hello 0" and first.contact == ContactRef(CUSTOMER)
    assert isinstance(reaction, InboundMessage) and reaction.type is MessageType.REACTION
    assert reaction.meta == {"reaction": {"provider_message_id": "m0", "emoji": "\U0001f44d", "reaction": "like",
                                          "action": "react"}}
    assert isinstance(read, StatusUpdate) and read.status is DeliveryStatus.READ and read.recipient == CUSTOMER


def test_echo_contact_is_the_recipient_user() -> None:
    event = _one(_item(sender=BIZ, recipient=CUSTOMER, message={"mid": "e1", "text": "Thanks!", "is_echo": True}))
    assert isinstance(event, InboundMessage)
    assert event.direction is Direction.OUT
    assert event.contact == ContactRef(external_id=CUSTOMER)
    assert event.account_key == BIZ and event.type is MessageType.TEXT and event.text == "Thanks!"


def test_echo_of_a_template_keeps_it_in_meta() -> None:
    template = {"template_type": "generic", "elements": [{"title": "Shoes", "buttons": []}]}
    event = _one(_item(sender=BIZ, recipient=CUSTOMER, message={
        "mid": "e2", "is_echo": True, "attachments": [{"type": "template", "payload": template}]}))
    assert isinstance(event, InboundMessage)
    assert (event.direction, event.contact.external_id, event.type) == (Direction.OUT, CUSTOMER,
                                                                        MessageType.UNSUPPORTED)
    assert event.media == () and event.meta == {"template": template}


def test_standby_items_are_parsed_after_messaging_and_marked() -> None:
    entry = _entry(_item(message={"mid": "a", "text": "one"}))
    entry["standby"] = [_item(message={"mid": "b", "text": "two"}), _item(read={"mid": "c"})]
    events = parse(_payload(entry))
    assert [event.provider_message_id for event in events] == ["a", "b", "c"]
    assert isinstance(events[0], InboundMessage) and events[0].meta == {}
    assert isinstance(events[1], InboundMessage) and events[1].meta == {"standby": True}
    assert isinstance(events[2], StatusUpdate)


def test_comment_changes_are_ignored() -> None:
    entry = {"id": BIZ, "time": T0, "changes": [{"field": "comments", "value": {"id": "c1", "text": "nice"}}]}
    assert parse(_payload(entry)) == []
    assert parse(_payload()) == []


def test_unknown_messaging_events_give_nothing() -> None:
    assert parse(_payload(_entry(_item(message_edit={"mid": "m", "text": "x", "num_edit": 1})))) == []


ATTACHMENT_CASES: dict[str, tuple[MessageType, dict[str, Any]]] = {
    "audio": (MessageType.AUDIO, {}),
    "file": (MessageType.DOCUMENT, {}),
    "ig_reel": (MessageType.VIDEO, {}),
    "reel": (MessageType.VIDEO, {}),
    "share": (MessageType.SHARE, {"share": {"type": "share", "url": "https://cdn.example/x"}}),
    "story_mention": (MessageType.SHARE, {"share": {"type": "story_mention", "url": "https://cdn.example/x"}}),
    "ig_post": (MessageType.SHARE, {"share": {"type": "ig_post", "url": "https://cdn.example/x"}}),
    "like_heart": (MessageType.UNSUPPORTED, {"unknown_attachments": ["like_heart"]}),
}


@pytest.mark.parametrize("kind_name", sorted(ATTACHMENT_CASES))
def test_attachment_type(kind_name: str) -> None:
    kind, meta = ATTACHMENT_CASES[kind_name]
    event = _one(_item(message={"mid": "m", "attachments": [{"type": kind_name,
                                                             "payload": {"url": "https://cdn.example/x"}}]}))
    assert isinstance(event, InboundMessage)
    assert event.type is kind and event.text is None
    assert event.media == (MediaRef(kind=kind, url="https://cdn.example/x"),)
    assert event.meta == meta


def test_share_meta_keeps_the_payload_fields() -> None:
    event = _one(_item(message={"mid": "m", "attachments": [
        {"type": "ig_post",
         "payload": {"url": "https://cdn.example/p", "title": "caption", "ig_post_media_id": "9"}}]}))
    assert isinstance(event, InboundMessage)
    assert event.meta == {"share": {"type": "ig_post", "url": "https://cdn.example/p", "title": "caption",
                                    "ig_post_media_id": "9"}}


def test_text_with_attachments_is_text_and_keeps_all_media() -> None:
    event = _one(_item(message={"mid": "m", "text": "look", "attachments": [
        {"type": "story_mention", "payload": {"url": "https://cdn.example/s"}},
        {"type": "image", "payload": {"url": "https://cdn.example/i"}}]}))
    assert isinstance(event, InboundMessage)
    assert event.type is MessageType.TEXT and event.text == "look"
    assert event.media == (MediaRef(kind=MessageType.SHARE, url="https://cdn.example/s"),
                           MediaRef(kind=MessageType.IMAGE, url="https://cdn.example/i"))


def test_message_referral_ctd_ad() -> None:
    referral = {"ref": "promo", "ad_id": "120200000", "source": "ADS", "type": "OPEN_THREAD",
                "ads_context_data": {"ad_title": "Spring sale", "photo_url": "https://cdn.example/ad.jpg",
                                     "video_url": "https://cdn.example/ad.mp4"}}
    event = _one(_item(message={"mid": "m", "text": "Is this available?", "referral": referral}))
    assert isinstance(event, InboundMessage)
    assert event.type is MessageType.TEXT and event.meta == {"referral": referral}


def test_message_referral_shop_product() -> None:
    event = _one(_item(message={"mid": "m", "text": "price?", "referral": {"product": {"id": "P-1"}}}))
    assert isinstance(event, InboundMessage) and event.meta == {"referral": {"product": {"id": "P-1"}}}


def test_meta_is_detached_from_the_payload() -> None:
    payload = _payload(_entry(_item(referral={"ref": "r", "source": "SHORTLINK", "type": "OPEN_THREAD"})))
    snapshot = copy.deepcopy(payload)
    event = parse(payload)[0]
    assert isinstance(event, InboundMessage)
    event.meta["referral"]["ref"] = "changed"
    assert payload == snapshot


def test_reaction_without_action_is_inferred() -> None:
    react = _one(_item(reaction={"mid": "m", "emoji": "\U0001f602"}))
    unreact = _one(_item(reaction={"mid": "m", "emoji": ""}))
    assert isinstance(react, InboundMessage) and isinstance(unreact, InboundMessage)
    assert react.meta["reaction"]["action"] == "react" and react.meta["reaction"]["emoji"] == "\U0001f602"
    assert unreact.meta["reaction"]["action"] == "unreact" and unreact.meta["reaction"]["emoji"] is None


def test_unreact_never_carries_an_emoji() -> None:
    event = _one(_item(reaction={"mid": "m", "action": "unreact", "reaction": "like", "emoji": "\U0001f44d"}))
    assert isinstance(event, InboundMessage)
    assert event.meta == {"reaction": {"provider_message_id": "m", "emoji": None, "reaction": "like",
                                       "action": "unreact"}}


def test_timestamps_are_exact_milliseconds_in_utc() -> None:
    event = _one(_item(timestamp=1, message={"mid": "m", "text": "x"}))
    assert isinstance(event, InboundMessage)
    assert event.sent_at == dt.datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=dt.UTC)
    assert event.sent_at.tzinfo is not None and event.sent_at.utcoffset() == dt.timedelta(0)


# -- malformed bodies --------------------------------------------------------------------------------------

MSG = {"mid": "m", "text": "x"}
MALFORMED: dict[str, tuple[Any, str]] = {
    "not an object": ([], "$"),
    "whatsapp body": ({"object": "whatsapp_business_account", "entry": []}, "object"),
    "no object": ({"entry": []}, "object"),
    "no entry": ({"object": "instagram"}, "entry"),
    "entry not an array": ({"object": "instagram", "entry": {}}, "entry"),
    "entry item not an object": (_payload("x"), "entry[0]"),  # type: ignore[arg-type]
    "entry without id": (_payload({"messaging": []}), "entry[0].id"),
    "entry id not a string": (_payload({"id": 17841400000000001, "messaging": []}), "entry[0].id"),
    "messaging not an array": (_payload({"id": BIZ, "messaging": {}}), "entry[0].messaging"),
    "standby item not an object": (_payload({"id": BIZ, "standby": [1]}), "entry[0].standby[0]"),
    "no sender": (_payload(_entry({"recipient": {"id": BIZ}, "timestamp": T0, "message": MSG})),
                  "entry[0].messaging[0].sender"),
    "sender id a number": (_payload(_entry(_item(sender=123, message=MSG))),  # type: ignore[arg-type]
                           "entry[0].messaging[0].sender.id"),
    "no recipient": (_payload(_entry({"sender": {"id": CUSTOMER}, "timestamp": T0, "message": MSG})),
                     "entry[0].messaging[0].recipient"),
    "no timestamp": (_payload(_entry({"sender": {"id": CUSTOMER}, "recipient": {"id": BIZ}, "message": MSG})),
                     "entry[0].messaging[0].timestamp"),
    "timestamp a string": (_payload(_entry(_item(timestamp="1569262485349", message=MSG))),  # type: ignore[arg-type]
                           "entry[0].messaging[0].timestamp"),
    "timestamp a boolean": (_payload(_entry(_item(timestamp=True, message=MSG))), "entry[0].messaging[0].timestamp"),
    "message not an object": (_payload(_entry(_item(message="hi"))), "entry[0].messaging[0].message"),
    "message without mid": (_payload(_entry(_item(message={"text": "x"}))), "entry[0].messaging[0].message.mid"),
    "text a number": (_payload(_entry(_item(message={"mid": "m", "text": 5}))), "entry[0].messaging[0].message.text"),
    "is_echo a string": (_payload(_entry(_item(message={"mid": "m", "text": "x", "is_echo": "true"}))),
                         "entry[0].messaging[0].message.is_echo"),
    "attachments not an array": (_payload(_entry(_item(message={"mid": "m", "attachments": {}}))),
                                 "entry[0].messaging[0].message.attachments"),
    "attachment without type": (_payload(_entry(_item(message={"mid": "m", "attachments": [{"payload": {}}]}))),
                                "entry[0].messaging[0].message.attachments[0].type"),
    "attachment url a number": (
        _payload(_entry(_item(message={"mid": "m", "attachments": [{"type": "image", "payload": {"url": 1}}]}))),
        "entry[0].messaging[0].message.attachments[0].payload.url"),
    "reply_to without mid": (_payload(_entry(_item(message={"mid": "m", "text": "x", "reply_to": {}}))),
                             "entry[0].messaging[0].message.reply_to.mid"),
    "quick reply without payload": (_payload(_entry(_item(message={"mid": "m", "text": "x", "quick_reply": {}}))),
                                    "entry[0].messaging[0].message.quick_reply.payload"),
    "reaction with an unknown action": (_payload(_entry(_item(reaction={"mid": "m", "action": "like"}))),
                                        "entry[0].messaging[0].reaction.action"),
    "reaction without mid": (_payload(_entry(_item(reaction={"action": "react"}))),
                             "entry[0].messaging[0].reaction.mid"),
    "read without mid": (_payload(_entry(_item(read={"watermark": T0}))), "entry[0].messaging[0].read.mid"),
    "postback without mid": (_payload(_entry(_item(postback={"title": "Hi", "payload": "P"}))),
                             "entry[0].messaging[0].postback.mid"),
    "second entry broken": (_payload(_entry(_item(message=MSG)), _entry(_item(read=[]))),
                            "entry[1].messaging[0].read"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_payload_raises_naming_the_path(case: str) -> None:
    payload, path = MALFORMED[case]
    with pytest.raises(ValueError, match=rf"^{re.escape(path)}:"):
        parse(payload)
