"""Message media, copied from the provider into the team's storage so it outlives the provider's URL."""
from __future__ import annotations

import hashlib
import logging
import mimetypes
from collections.abc import Sequence

import attrs

from ...ports.providers import MediaTooLarge, ProviderError, ProviderRegistry
from ...ports.storage import BlobStorage
from ...ports.unit_of_work import UnitOfWorkFactory
from ..model.channels import MEDIA_TYPES, MessageType
from ..model.ids import MessageId, TeamId
from ..model.inbound import MediaRef
from ..model.threads import Attachment
from .connections import ConnectionService

log = logging.getLogger("commsinbox.media")
MAX_MEDIA_BYTES = 100 * 1024 * 1024  # WhatsApp's own ceiling for documents


def attachment_key(team_id: str, thread_id: str, attachment: Attachment) -> str:
    extension = mimetypes.guess_extension(attachment.content_type or "") or ""
    return f"{team_id}/threads/{thread_id}/{attachment.message_id}-{attachment.position}{extension}"


@attrs.define
class MediaService:
    uows: UnitOfWorkFactory
    storage: BlobStorage
    providers: ProviderRegistry
    connections: ConnectionService
    max_bytes: int = MAX_MEDIA_BYTES

    async def fetch(self, new_messages: Sequence[tuple[str, MessageId]]) -> int:
        """Downloads every attachment of these messages not stored yet; returns how many were stored.
        Too-large media is recorded with an error and not downloaded; other failures are kept for a retry."""
        stored = 0
        for team_id, message_id in new_messages:
            async with self.uows.for_team(TeamId(team_id)) as uow:
                message = await uow.messages.get(message_id)
                attachments = [a for a in await uow.messages.attachments(message_id) if a.storage_path is None]
                account = await uow.accounts.get(message.account_id) if message and attachments else None
            if message is None or account is None:
                continue
            access = self.connections.access(account)
            for attachment in attachments:
                if attachment.kind not in MEDIA_TYPES or not (attachment.source.get("media_id") or
                                                              attachment.source.get("url")):
                    continue
                stored += await self._one(team_id, message.thread_id, attachment, access)
        return stored

    async def _one(self, team_id: str, thread_id: str, attachment: Attachment, access) -> int:  # type: ignore[no-untyped-def]
        ref = MediaRef(**{**attachment.source, "kind": MessageType(attachment.source.get("kind", attachment.kind))})
        try:
            media = await self.providers.gateway(access.provider).fetch_media(access, ref, self.max_bytes)
        except MediaTooLarge as exc:
            attachment.error = f"not downloaded: {exc}"
        except ProviderError as exc:
            attachment.error = f"download failed ({'will retry' if exc.transient else 'permanent'}): {exc}"
            log.warning("media download failed", extra={"attachment": attachment.id, "error": str(exc)})
        else:
            attachment.content_type = media.content_type or attachment.content_type
            attachment.size = len(media.data)
            attachment.checksum = hashlib.sha256(media.data).hexdigest()
            attachment.error = None
            key = attachment_key(team_id, thread_id, attachment)
            await self.storage.put(key, media.data, attachment.content_type or "application/octet-stream")
            attachment.storage_path = key
        async with self.uows.for_team(TeamId(team_id)) as uow:
            await uow.messages.update_attachment(attachment)
            await uow.commit()
        return 1 if attachment.storage_path else 0
