"""The embedded PostgreSQL server (the `pgserver` wheel) used when DATABASE_URL is unset."""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

log = logging.getLogger("commsinbox.embedded")


def start_embedded(data_dir: Path, *, delete_on_exit: bool = False) -> str:
    """Starts (or reuses) the server under `data_dir/pg`; returns the owner's URL. Stops with this process
    (and deletes its data too with `delete_on_exit`, for throwaway test databases)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about an unset XDG_RUNTIME_DIR in containers
        import pgserver

        path = data_dir / "pg"
        path.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(path, cleanup_mode="delete" if delete_on_exit else "stop")
    log.info("embedded PostgreSQL running", extra={"data_dir": str(path)})
    return str(server.get_uri())
