"""Vault file: a team's stored document, addressed by a relative path."""
from __future__ import annotations

import datetime as dt
import re

import attrs

from .errors import InvalidInput
from .ids import TeamId

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_VAULT_BYTES = 25 * 1024 * 1024


def vault_path(path: str) -> str:
    """A safe relative path: segments of letters, digits, dot, dash, underscore; no `..`."""
    segments = path.strip("/").split("/")
    if len(path) > 512 or not all(_SEGMENT.match(s) and ".." not in s for s in segments):
        raise InvalidInput.single("path", "must be a relative path of letters, digits, '.', '_' or '-' segments")
    return "/".join(segments)


@attrs.frozen
class VaultFile:
    team_id: TeamId
    path: str
    content_type: str
    size: int
    checksum: str  # sha256 hex
    created_at: dt.datetime
