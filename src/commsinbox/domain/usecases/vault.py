"""The team's vault: files stored through the storage port, listed from the database, and attached to
transactions. Storage layout: `<teamId>/threads/<threadId>/…` (the conversations' media, written only by
the media download), `<teamId>/transactions/…`, `<teamId>/inbox/…` and the team's other uploads."""
from __future__ import annotations

import datetime as dt
import hashlib

import attrs

from ...ports.clock import Clock
from ...ports.storage import BlobStorage
from ...ports.unit_of_work import TeamUnitOfWork, UnitOfWorkFactory
from ..model.errors import InvalidInput, NotFound
from ..model.values import Permission
from ..model.vault import MAX_VAULT_BYTES, VaultFile, vault_path
from .access import Actor
from .inbox import visible_thread


THREADS = "threads"


def storage_key(file: VaultFile) -> str:
    return f"{file.team_id}/{file.path}"


@attrs.define
class VaultService:
    uows: UnitOfWorkFactory
    clock: Clock
    storage: BlobStorage

    async def upload(self, actor: Actor, path: str, data: bytes, content_type: str) -> VaultFile:
        actor.require(Permission.VAULT_WRITE)
        if len(data) > MAX_VAULT_BYTES:
            raise InvalidInput.single("contentBase64", f"must be at most {MAX_VAULT_BYTES} bytes")
        if "/" not in content_type or len(content_type) > 255:
            raise InvalidInput.single("contentType", "must be a media type such as application/pdf")
        file = VaultFile(actor.team_id, vault_path(path), content_type, len(data),
                         hashlib.sha256(data).hexdigest(), self.clock.now())
        if file.path.split("/")[0] == THREADS:
            raise InvalidInput.single("path", "threads/ holds the conversations' media and cannot be written")
        await self.storage.put(storage_key(file), data, content_type)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            await uow.vault.upsert(file)
            await uow.commit()
        return file

    async def download(self, actor: Actor, path: str) -> tuple[VaultFile, bytes]:
        actor.require(Permission.VAULT_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            file = await uow.vault.get(vault_path(path))
        if file is None:
            raise NotFound("file", path)
        return file, await self.storage.get(storage_key(file))

    async def list(self, actor: Actor, prefix: str | None) -> list[VaultFile]:
        actor.require(Permission.VAULT_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            return await uow.vault.list(vault_path(prefix) if prefix else None)

    async def attach(self, actor: Actor, transaction_id: str, *, attachment_id: str | None = None,
                     path: str | None = None) -> VaultFile:
        """Attaches a vault file, or a message's stored attachment, to a transaction. Nothing is copied: the
        attachment becomes the vault file at its storage path (under threads/)."""
        actor.require(Permission.RECORDS_WRITE)
        if (attachment_id is None) == (path is None):
            raise InvalidInput.single("attachmentId", "give either attachmentId or path")
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            if await uow.transactions.get(transaction_id) is None:
                raise NotFound("transaction", transaction_id)
            if attachment_id is not None:
                file = await _attachment_file(uow, actor, attachment_id, self.clock.now())
            elif (found := await uow.vault.get(vault_path(path or ""))) is None:
                raise NotFound("file", path or "")
            else:
                file = found
            await uow.vault.attach(transaction_id, file.path, self.clock.now())
            await uow.commit()
        return file

    async def attached(self, actor: Actor, transaction_id: str) -> list[VaultFile]:
        actor.require(Permission.RECORDS_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            if await uow.transactions.get(transaction_id) is None:
                raise NotFound("transaction", transaction_id)
            return await uow.vault.attached(transaction_id)


async def _attachment_file(uow: TeamUnitOfWork, actor: Actor, attachment_id: str, now: dt.datetime) -> VaultFile:
    """The vault file of a stored attachment of a message the actor may see (registered on first use)."""
    actor.require(Permission.INBOX_READ)
    attachment = await uow.messages.attachment(attachment_id)
    message = await uow.messages.get(attachment.message_id) if attachment else None
    if message is None:
        raise NotFound("attachment", attachment_id)
    try:
        await visible_thread(uow, actor, message.thread_id, now)
    except NotFound:
        raise NotFound("attachment", attachment_id) from None
    if attachment.storage_path is None or attachment.size is None or attachment.checksum is None:
        raise InvalidInput.single("attachmentId", "is not stored yet: its media has not been downloaded")
    path = attachment.storage_path.removeprefix(f"{actor.team_id}/")
    file = await uow.vault.get(path)
    if file is None:
        file = VaultFile(actor.team_id, path, attachment.content_type or "application/octet-stream",
                         attachment.size, attachment.checksum, attachment.created_at)
        await uow.vault.upsert(file)
    return file
