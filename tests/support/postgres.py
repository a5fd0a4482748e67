"""A PostgreSQL for the test session: DATABASE_URL when set, else an embedded server in a temporary dir."""
from __future__ import annotations

import os
from pathlib import Path

from commsinbox.adapters.postgres import migrate
from commsinbox.adapters.postgres.embedded import start_embedded
from commsinbox.adapters.postgres.engine import sqlalchemy_url


def owner_url(tmp: Path) -> str:
    url = os.environ.get("DATABASE_URL") or start_embedded(tmp)
    migrate.upgrade(sqlalchemy_url(url))
    return sqlalchemy_url(url)
