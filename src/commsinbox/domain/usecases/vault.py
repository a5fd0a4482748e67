"""The team's vault: files stored through the storage port, listed from the database."""
from __future__ import annotations

import hashlib

import attrs

from ...ports.clock import Clock
from ...ports.storage import BlobStorage
from ...ports.unit_of_work import UnitOfWorkFactory
from ..model.errors import InvalidInput, NotFound
from ..model.values import Permission
from ..model.vault import MAX_VAULT_BYTES, VaultFile, vault_path
from .access import Actor


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
