"""Instagram Messaging webhooks (`object: "instagram"`) to inbound events, as pure functions.

Every `entry[]` and every item of its `messaging[]` and `standby[]` arrays is read, in order, so a batch never
loses an item; `changes[]` (comments) are not handled yet and give nothing. Items whose event this parser does not
know (e.g. `message_edit`, handover) give nothing either, but their envelope (sender, recipient, timestamp) must
still be well formed. The signature is checked before this runs (see `meta_signature`).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ....domain.model.channels import DeliveryStatus, Direction, MessageType, Provider
from ....domain.model.inbound import ContactRef, InboundEvent, InboundMessage, MediaRef, MessageDeleted, StatusUpdate
from ._json import as_object, child, flag, join, millis, objects, optional_child, optional_string, plain, string, utc

PROVIDER = Provider.INSTAGRAM_META

_MEDIA_KINDS = {"image": MessageType.IMAGE, "video": MessageType.VIDEO, "ig_reel": MessageType.VIDEO,
                "reel": MessageType.VIDEO, "audio": MessageType.AUDIO, "file": MessageType.DOCUMENT}
_SHARE_TYPES = frozenset({"share", "story_mention", "ig_post"})


@attrs.frozen
class _Item:
    """The envelope of one `messaging[]` / `standby[]` item."""

    account_key: str
    sender: str
    recipient: str
    timestamp: int
    standby: bool

    @property
    def at(self) -> dt.datetime:
        return utc(self.timestamp)

    def message(self, provider_message_id: str, type_: MessageType, *, text: str | None = None,
                media: tuple[MediaRef, ...] = (), meta: dict[str, Any] | None = None, echo: bool = False,
                ) -> InboundMessage:
        meta = dict(meta or {})
        if self.standby:
            meta["standby"] = True  # another app owns the thread: show it, never auto-reply to it
        return InboundMessage(
            provider=PROVIDER, account_key=self.account_key, provider_message_id=provider_message_id,
            # an echo was sent by the business: the other party is the recipient
            contact=ContactRef(external_id=self.recipient if echo else self.sender),
            type=type_, sent_at=self.at, direction=Direction.OUT if echo else Direction.IN,
            text=text, media=media, meta=meta)


def parse(payload: Mapping[str, Any]) -> list[InboundEvent]:
    """All events of one Instagram webhook body, in payload order. Raises ValueError (naming the JSON path)
    when the body is not an Instagram webhook or is malformed."""
    root = as_object(payload, "")
    if root.get("object") != "instagram":
        raise ValueError(f"object: expected 'instagram', got {root.get('object')!r}")
    events: list[InboundEvent] = []
    for entry_path, entry in objects(root, "entry", "", required=True):
        account_key = string(entry, "id", entry_path)
        for field in ("messaging", "standby"):
            for item_path, raw in objects(entry, field, entry_path):
                event = _event(raw, item_path, account_key, standby=field == "standby")
                if event is not None:
                    events.append(event)
    return events


def _event(raw: Mapping[str, Any], path: str, account_key: str, *, standby: bool) -> InboundEvent | None:
    item = _Item(account_key=account_key,
                 sender=string(child(raw, "sender", path), "id", join(path, "sender")),
                 recipient=string(child(raw, "recipient", path), "id", join(path, "recipient")),
                 timestamp=millis(raw, "timestamp", path), standby=standby)
    for key, handler in _HANDLERS:
        if key in raw:
            return handler(item, child(raw, key, path), join(path, key))
    return None


def _message(item: _Item, body: Mapping[str, Any], path: str) -> InboundEvent:
    mid = string(body, "mid", path)
    if flag(body, "is_deleted", path):
        return MessageDeleted(provider=PROVIDER, account_key=item.account_key, provider_message_id=mid, at=item.at)
    text = optional_string(body, "text", path)
    meta: dict[str, Any] = {}
    media = tuple(_attachments(body, path, meta))
    reply_to = optional_child(body, "reply_to", path)
    if reply_to is not None:
        reply_path = join(path, "reply_to")
        story = optional_child(reply_to, "story", reply_path)
        if story is not None:
            story_path = join(reply_path, "story")
            meta["story_reply"] = {"url": optional_string(story, "url", story_path),
                                   "id": string(story, "id", story_path)}
        else:
            meta["context"] = {"provider_message_id": string(reply_to, "mid", reply_path)}
    referral = optional_child(body, "referral", path)
    if referral is not None:
        meta["referral"] = plain(referral)  # Shop product or click-to-Instagram-Direct ad
    quick_reply = optional_child(body, "quick_reply", path)
    if quick_reply is not None:
        meta["reply"] = {"kind": "quick_reply", "title": text,
                         "payload": string(quick_reply, "payload", join(path, "quick_reply"))}
    if flag(body, "is_unsupported", path):
        type_ = MessageType.UNSUPPORTED
    elif quick_reply is not None:
        type_ = MessageType.INTERACTIVE
    elif text is not None:
        type_ = MessageType.TEXT
    elif media:
        type_ = media[0].kind
    else:  # e.g. an echo of a generic template: nothing we can show but its meta
        type_ = MessageType.UNSUPPORTED
    return item.message(mid, type_, text=text, media=media, meta=meta, echo=flag(body, "is_echo", path))


def _attachments(body: Mapping[str, Any], path: str, meta: dict[str, Any]) -> list[MediaRef]:
    """Every attachment as media (in order); shares, templates, ephemeral and unknown types also leave meta."""
    media: list[MediaRef] = []
    for attachment_path, attachment in objects(body, "attachments", path):
        kind_name = string(attachment, "type", attachment_path)
        payload = optional_child(attachment, "payload", attachment_path) or {}
        url = optional_string(payload, "url", join(attachment_path, "payload"))
        if kind_name == "template":  # the business's own structured message, seen in echoes
            meta.setdefault("template", plain(payload))
            continue
        if kind_name in _MEDIA_KINDS:
            kind = _MEDIA_KINDS[kind_name]
        elif kind_name in _SHARE_TYPES:
            kind = MessageType.SHARE
            meta.setdefault("share", {**plain(payload), "type": kind_name, "url": url})
        else:
            kind = MessageType.UNSUPPORTED  # view-once media has no URL; other types are new to us
            if kind_name == "ephemeral":
                meta["ephemeral"] = True
            else:
                meta.setdefault("unknown_attachments", []).append(kind_name)
        media.append(MediaRef(kind=kind, url=url))
    return media


def _reaction(item: _Item, body: Mapping[str, Any], path: str) -> InboundMessage:
    mid = string(body, "mid", path)
    emoji = optional_string(body, "emoji", path)
    reaction = optional_string(body, "reaction", path)
    action = optional_string(body, "action", path) or ("react" if emoji or reaction else "unreact")
    if action not in ("react", "unreact"):
        raise ValueError(f"{join(path, 'action')}: expected 'react' or 'unreact', got {action!r}")
    meta = {"reaction": {"provider_message_id": mid, "emoji": emoji if action == "react" else None,
                         "reaction": reaction, "action": action}}
    # a reaction has no id of its own: target, reacting user and time make a stable, unique key
    return item.message(f"{mid}:reaction:{item.sender}:{item.timestamp}", MessageType.REACTION, meta=meta)


def _postback(item: _Item, body: Mapping[str, Any], path: str) -> InboundMessage:
    title = optional_string(body, "title", path)
    meta = {"reply": {"kind": "postback", "title": title, "payload": optional_string(body, "payload", path)}}
    return item.message(string(body, "mid", path), MessageType.INTERACTIVE, text=title, meta=meta)


def _read(item: _Item, body: Mapping[str, Any], path: str) -> StatusUpdate:
    """messaging_seen: the user (sender) read the business's message `mid` (and those before it)."""
    return StatusUpdate(provider=PROVIDER, account_key=item.account_key, provider_message_id=string(body, "mid", path),
                        status=DeliveryStatus.READ, at=item.at, recipient=item.sender)


def _referral(item: _Item, body: Mapping[str, Any], path: str) -> InboundMessage:
    """An ig.me link opened an existing thread: no message, but the thread should show where the customer came from."""
    return item.message(f"referral:{item.sender}:{item.timestamp}", MessageType.SYSTEM,
                        meta={"referral": plain(body)})


_HANDLERS: tuple[tuple[str, Callable[[_Item, Mapping[str, Any], str], InboundEvent]], ...] = (
    ("message", _message), ("reaction", _reaction), ("postback", _postback), ("read", _read),
    ("referral", _referral))
