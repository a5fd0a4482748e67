"""Message media, copied from the provider into the team's storage so it outlives the provider's URL.
Transient failures are retried with a growing delay; media over the size limit is recorded, not downloaded."""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import mimetypes
from collections.abc import Sequence

import attrs

from ...ports.clock import Clock
from ...ports.providers import AccountAccess, MediaTooLarge, ProviderError, ProviderRegistry
from ...ports.storage import BlobStorage
from ...ports.unit_of_work import UnitOfWorkFactory
from ..model.channels import MEDIA_TYPES, MessageType
from ..model.ids import MessageId, TeamId
from ..model.inbound import MediaRef
from ..model.threads import Attachment, Message
from .connections import ConnectionService

log = logging.getLogger("commsinbox.media")
MAX_MEDIA_BYTES = 100 * 1024 * 1024  # WhatsApp's own ceiling for documents
MAX_ATTEMPTS = 6
FIRST_RETRY = dt.timedelta(seconds=30)  # then 1, 2, 4, 8 minutes
LEASE = dt.timedelta(minutes=5)  # a sweep's claim on an attachment while it downloads


def attachment_key(team_id: str, thread_id: str, attachment: Attachment) -> str:
    extension = mimetypes.guess_extension(attachment.content_type or "") or ""
    return f"{team_id}/threads/{thread_id}/{attachment.message_id}-{attachment.position}{extension}"


@attrs.define
class MediaService:
    uows: UnitOfWorkFactory
    storage: BlobStorage
    providers: ProviderRegistry
    connections: ConnectionService
    clock: Clock
    max_bytes: int = MAX_MEDIA_BYTES

    async def fetch(self, new_messages: Sequence[tuple[str, MessageId]]) -> int:
        """Downloads the attachments of these new messages; returns how many were stored."""
        stored = 0
        for team_id, message_id in new_messages:
            async with self.uows.for_team(TeamId(team_id)) as uow:
                message = await uow.messages.get(message_id)
                pending = [a for a in await uow.messages.attachments(message_id) if a.storage_path is None]
            if message is not None:
                stored += await self._download(team_id, [(a, message) for a in pending])
        return stored

    async def sweep(self) -> int:
        """Downloads what is due again (after a transient failure, or a crash before the first try)."""
        async with self.uows.for_accounts() as system:
            teams = sorted({route.team_id for route in await system.routes.accounts()})
        stored = 0
        for team_id in teams:
            async with self.uows.for_team(TeamId(team_id)) as uow:
                due = await uow.messages.due_attachments(self.clock.now(), LEASE)
                await uow.commit()
            stored += await self._download(team_id, due)
        return stored

    async def _download(self, team_id: str, work: list[tuple[Attachment, Message]]) -> int:
        accesses: dict[str, AccountAccess | None] = {}
        stored = 0
        for attachment, message in work:
            if message.account_id not in accesses:
                async with self.uows.for_team(TeamId(team_id)) as uow:
                    account = await uow.accounts.get(message.account_id)
                accesses[message.account_id] = self.connections.access(account) if account else None
            access = accesses[message.account_id]
            if access is None or not _downloadable(attachment):
                attachment.retry_after = None
                attachment.error = attachment.error or ("the account was removed" if access is None else None)
            else:
                await self._one(team_id, message.thread_id, attachment, access)
            async with self.uows.for_team(TeamId(team_id)) as uow:
                await uow.messages.update_attachment(attachment)
                await uow.commit()
            stored += attachment.storage_path is not None
        return stored

    async def _one(self, team_id: str, thread_id: str, attachment: Attachment, access: AccountAccess) -> None:
        ref = MediaRef(**{**attachment.source, "kind": MessageType(attachment.source.get("kind", attachment.kind))})
        attachment.attempts += 1
        try:
            media = await self.providers.gateway(access.provider).fetch_media(access, ref, self.max_bytes)
        except MediaTooLarge as exc:
            attachment.error, attachment.retry_after = f"not downloaded: {exc}", None
            return
        except Exception as exc:  # noqa: BLE001 — a provider, storage or network failure: try again later
            again = (not isinstance(exc, ProviderError) or exc.transient) and attachment.attempts < MAX_ATTEMPTS
            attachment.error = f"download failed{' (will retry)' if again else ''}: {exc}"
            attachment.retry_after = self.clock.now() + FIRST_RETRY * 2 ** (attachment.attempts - 1) if again else None
            log.warning("media download failed", extra={"attachment": attachment.id, "error": str(exc)})
            return
        attachment.content_type = media.content_type or attachment.content_type
        key = attachment_key(team_id, thread_id, attachment)
        try:
            await self.storage.put(key, media.data, attachment.content_type or "application/octet-stream")
        except Exception as exc:  # noqa: BLE001 — storage unavailable: keep the attachment due for a retry
            attachment.error = f"download failed (will retry): storage: {type(exc).__name__}"
            attachment.retry_after = self.clock.now() + FIRST_RETRY * 2 ** (attachment.attempts - 1)
            return
        attachment.size = len(media.data)
        attachment.checksum = hashlib.sha256(media.data).hexdigest()
        attachment.storage_path, attachment.error, attachment.retry_after = key, None, None


def _downloadable(attachment: Attachment) -> bool:
    return attachment.kind in MEDIA_TYPES and bool(attachment.source.get("media_id") or attachment.source.get("url"))
