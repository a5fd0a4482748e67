"""Blob storage in process memory (tests, embedding)."""
from __future__ import annotations

import attrs

from ...domain.model.errors import NotFound


@attrs.define
class MemoryBlobStorage:
    blobs: dict[str, tuple[bytes, str]] = attrs.field(factory=dict)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self.blobs[key] = (data, content_type)

    async def get(self, key: str) -> bytes:
        if key not in self.blobs:
            raise NotFound("file", key)
        return self.blobs[key][0]

    async def delete(self, key: str) -> None:
        self.blobs.pop(key, None)
