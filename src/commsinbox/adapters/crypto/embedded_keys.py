"""The credentials keyring of embedded development mode, kept in `<data dir>/credentials.keys`.

One ``id:base64-key`` line per key, newest first (the CREDENTIALS_ENCRYPTION_KEYS entries,
one a line). Created with a single new key, mode 0600, when absent.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from .keyring import AesGcmKeyring, decode_key, generate_key_line

__all__ = ["FILE_NAME", "load_or_create"]

FILE_NAME = "credentials.keys"


def load_or_create(data_dir: Path) -> tuple[tuple[str, bytes], ...]:
    path = Path(data_dir) / FILE_NAME
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        text = _create(path)
    except UnicodeDecodeError:
        raise ValueError(f"{path} is malformed: it is not ASCII") from None
    return _parse(path, text)


def _create(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = generate_key_line(f"dev-{dt.datetime.now(dt.UTC):%Y%m%d}") + "\n"
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{FILE_NAME}.")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)  # atomic, and never replaces a file another process just made
    except FileExistsError:
        return path.read_text(encoding="ascii")
    finally:
        os.unlink(temporary)
    return text


def _parse(path: Path, text: str) -> tuple[tuple[str, bytes], ...]:
    keys: list[tuple[str, bytes]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key_id, sep, key = line.strip().partition(":")
        try:
            raw = decode_key(key) if sep else None
        except ValueError:
            raw = None
        if raw is None:
            raise ValueError(f"{path} is malformed: line {number} is not id:base64-key")
        keys.append((key_id, raw))
    try:
        AesGcmKeyring(keys)  # ids, uniqueness, 32-byte keys, at least one key
    except ValueError as error:  # our own messages: they never quote a key
        raise ValueError(f"{path} is malformed: {error}") from None
    return tuple(keys)
