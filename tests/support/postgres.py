"""A PostgreSQL for the test session: DATABASE_URL when set, else an embedded server in a temporary dir."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from commsinbox.adapters.postgres import migrate
from commsinbox.adapters.postgres.embedded import start_embedded
from commsinbox.adapters.postgres.engine import sqlalchemy_url


def owner_url() -> str:
    """The embedded server runs as its own OS user, which needs to reach its data directory: a private
    pytest temporary directory (mode 0700, reset by every pytest run) would lock it out."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        data = Path(tempfile.mkdtemp(prefix="commsinbox-test-"))
        data.chmod(0o755)
        atexit.register(shutil.rmtree, data, True)  # registered first, so it runs after the server's own clean-up
        url = start_embedded(data, delete_on_exit=True)
    migrate.upgrade(sqlalchemy_url(url))
    return sqlalchemy_url(url)
