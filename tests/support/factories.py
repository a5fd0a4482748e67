"""Ids and names that never collide across tests sharing one database (cosmicpython's random_refs)."""
from __future__ import annotations

import uuid


def random_suffix() -> str:
    return uuid.uuid4().hex[:8]


def random_email(name: str = "user") -> str:
    return f"{name}-{random_suffix()}@example.com"


def random_team_name(name: str = "team") -> str:
    return f"{name}-{random_suffix()}"


PASSWORD = "correct horse battery"
