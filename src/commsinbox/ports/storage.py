"""Blob storage for vault files and media. Keys look like `<teamId>/threads/<threadId>/<name>`."""
from __future__ import annotations

from typing import Protocol


class BlobStorage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes:
        """The stored bytes; raises `NotFound` when absent."""
        ...

    async def delete(self, key: str) -> None: ...
