"""Row ↔ aggregate mappers for the messaging tables."""
from __future__ import annotations

from typing import Any

import attrs

from ...domain.model.accounts import AccountStatus, CommunicationAccount
from ...domain.model.channels import Channel, DeliveryStatus, Direction, MessageType, Provider
from ...domain.model.contacts import Contact
from ...domain.model.threads import Attachment, Dispatch, Message, Thread, ThreadStatus


def account_values(a: CommunicationAccount) -> dict[str, Any]:
    return {"id": a.id, "team_id": a.team_id, "provider": a.provider.value, "external_id": a.external_id,
            "display_name": a.display_name, "status": a.status.value, "created_at": a.created_at,
            "credentials_sealed": a.credentials_sealed, "settings": a.settings, "rate_config": a.rate_config}


def row_to_account(r: Any) -> CommunicationAccount:
    return CommunicationAccount(id=r.id, team_id=r.team_id, provider=Provider(r.provider), external_id=r.external_id,
                                display_name=r.display_name, status=AccountStatus(r.status), created_at=r.created_at,
                                credentials_sealed=r.credentials_sealed, settings=r.settings,
                                rate_config=r.rate_config)


def contact_values(c: Contact) -> dict[str, Any]:
    return {"id": c.id, "team_id": c.team_id, "display_name": c.display_name, "phone": c.phone,
            "client_id": c.client_id, "created_at": c.created_at}


def row_to_contact(r: Any) -> Contact:
    return Contact(id=r.id, team_id=r.team_id, created_at=r.created_at, display_name=r.display_name, phone=r.phone,
                   client_id=r.client_id)


def thread_values(t: Thread) -> dict[str, Any]:
    return {"id": t.id, "team_id": t.team_id, "account_id": t.account_id, "contact_id": t.contact_id,
            "channel": t.channel.value, "external_contact_id": t.external_contact_id, "status": t.status.value,
            "last_message_at": t.last_message_at, "last_inbound_at": t.last_inbound_at, "created_at": t.created_at,
            "assignee_id": t.assignee_id, "snoozed_until": t.snoozed_until, "unread_count": t.unread_count}


def row_to_thread(r: Any) -> Thread:
    return Thread(id=r.id, team_id=r.team_id, account_id=r.account_id, contact_id=r.contact_id,
                  channel=Channel(r.channel), external_contact_id=r.external_contact_id,
                  status=ThreadStatus(r.status), last_message_at=r.last_message_at, created_at=r.created_at,
                  last_inbound_at=r.last_inbound_at, assignee_id=r.assignee_id, snoozed_until=r.snoozed_until,
                  unread_count=r.unread_count)


def message_values(msg: Message) -> dict[str, Any]:
    values = attrs.asdict(msg, recurse=False)
    values.update(direction=msg.direction.value, type=msg.type.value, status=msg.status.value,
                  dispatch=msg.dispatch.value if msg.dispatch else None)
    return values


def row_to_message(r: Any) -> Message:
    return Message(id=r.id, team_id=r.team_id, thread_id=r.thread_id, account_id=r.account_id,
                   provider_message_id=r.provider_message_id, direction=Direction(r.direction),
                   type=MessageType(r.type), sent_at=r.sent_at, status=DeliveryStatus(r.status),
                   created_at=r.created_at, content=r.content, meta=r.meta, delivered_at=r.delivered_at,
                   read_at=r.read_at, deleted_at=r.deleted_at, error_code=r.error_code, error_message=r.error_message,
                   idempotency_key=r.idempotency_key, dispatch=Dispatch(r.dispatch) if r.dispatch else None,
                   send_after=r.send_after, send_attempts=r.send_attempts)


def attachment_values(a: Attachment) -> dict[str, Any]:
    values = attrs.asdict(a, recurse=False)
    values["kind"] = a.kind.value
    return values


def row_to_attachment(r: Any) -> Attachment:
    return Attachment(id=r.id, team_id=r.team_id, message_id=r.message_id, position=r.position,
                      kind=MessageType(r.kind), source=r.source, created_at=r.created_at,
                      storage_path=r.storage_path, content_type=r.content_type, size=r.size, checksum=r.checksum,
                      error=r.error, attempts=r.attempts, retry_after=r.retry_after)
