from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from commsinbox.adapters.crypto.embedded_keys import load_or_create
from commsinbox.adapters.crypto.keyring import AesGcmKeyring, decode_key, generate_key_line
from commsinbox.entrypoints.config import Settings
from commsinbox.ports.crypto import SecretBox, SecretUnreadable

pytestmark = pytest.mark.unit

AD = b"team:t1|account:a1|purpose:credentials"
PLAINTEXT = b'{"auth_token": "0123456789abcdef0123456789abcdef"}'
OLD, NEW = os.urandom(32), os.urandom(32)


def _flip(sealed: str, part: int) -> str:
    """Flip one bit in the decoded bytes of part 2 (nonce) or 3 (ciphertext+tag)."""
    parts = sealed.split(".")
    raw = bytearray(base64.urlsafe_b64decode(parts[part] + "=" * (-len(parts[part]) % 4)))
    raw[0] ^= 1
    parts[part] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    return ".".join(parts)


def test_round_trip_in_the_v1_format() -> None:
    box: SecretBox = AesGcmKeyring([("k1", OLD)])
    sealed = box.seal(PLAINTEXT, associated_data=AD)
    version, key_id, nonce, body = sealed.split(".")
    assert (version, key_id, box.current_key_id) == ("v1", "k1", "k1")
    assert sealed.isascii() and len(base64.urlsafe_b64decode(nonce + "==")) == 12
    assert box.open(sealed, associated_data=AD) == PLAINTEXT
    assert box.open(box.seal(b"", associated_data=AD), associated_data=AD) == b""


def test_every_sealing_is_different() -> None:
    box = AesGcmKeyring([("k1", OLD)])
    seals = {box.seal(PLAINTEXT, associated_data=AD) for _ in range(50)}
    assert len(seals) == 50
    assert len({s.split(".")[2] for s in seals}) == 50


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s: _flip(s, 3), id="ciphertext"),
        pytest.param(lambda s: _flip(s, 2), id="nonce"),
        pytest.param(lambda s: s.replace("v1.k2.", "v1.k1.", 1), id="key-id"),
        pytest.param(lambda s: s[:-1], id="truncated"),
        pytest.param(lambda s: s.replace("v1.", "v2.", 1), id="version"),
        pytest.param(lambda s: "garbage", id="garbage"),
    ],
)
def test_tampering_is_detected(tamper) -> None:  # type: ignore[no-untyped-def]
    box = AesGcmKeyring([("k2", NEW), ("k1", OLD)])
    sealed = box.seal(PLAINTEXT, associated_data=AD)
    with pytest.raises(SecretUnreadable) as caught:
        box.open(tamper(sealed), associated_data=AD)
    assert PLAINTEXT.decode() not in str(caught.value)


def test_other_associated_data_is_refused() -> None:
    box = AesGcmKeyring([("k1", OLD)])
    sealed = box.seal(PLAINTEXT, associated_data=AD)
    with pytest.raises(SecretUnreadable, match="failed authentication"):
        box.open(sealed, associated_data=b"team:t2|account:a1|purpose:credentials")


def test_a_wrong_key_with_the_same_id_is_refused() -> None:
    sealed = AesGcmKeyring([("k1", OLD)]).seal(PLAINTEXT, associated_data=AD)
    with pytest.raises(SecretUnreadable):
        AesGcmKeyring([("k1", NEW)]).open(sealed, associated_data=AD)


def test_an_unknown_key_id_is_named() -> None:
    sealed = AesGcmKeyring([("gone", OLD)]).seal(PLAINTEXT, associated_data=AD)
    with pytest.raises(
        SecretUnreadable,
        match="sealed under key 'gone', which is not in CREDENTIALS_ENCRYPTION_KEYS",
    ):
        AesGcmKeyring([("k1", OLD)]).open(sealed, associated_data=AD)


def test_old_seals_open_after_rotation_and_need_rotation() -> None:
    old_sealed = AesGcmKeyring([("k1", OLD)]).seal(PLAINTEXT, associated_data=AD)
    rotated = AesGcmKeyring([("k2", NEW), ("k1", OLD)])
    assert rotated.current_key_id == "k2"
    assert rotated.open(old_sealed, associated_data=AD) == PLAINTEXT
    assert rotated.needs_rotation(old_sealed)
    new_sealed = rotated.seal(PLAINTEXT, associated_data=AD)
    assert new_sealed.startswith("v1.k2.")
    assert not rotated.needs_rotation(new_sealed)


@pytest.mark.parametrize(
    "keys",
    [[], [("k1", OLD), ("k1", NEW)], [("k1", OLD[:16])], [("k.1", OLD)], [("", OLD)]],
)
def test_bad_keyrings_are_refused(keys: list[tuple[str, bytes]]) -> None:
    with pytest.raises(ValueError) as caught:
        AesGcmKeyring(keys)
    assert OLD.hex() not in str(caught.value) and repr(OLD) not in str(caught.value)


def test_repr_hides_keys() -> None:
    box = AesGcmKeyring([("k2", NEW), ("k1", OLD)])
    shown = repr(box)
    assert shown == "AesGcmKeyring(key_ids=('k2', 'k1'))"
    for key in (NEW, OLD):
        assert key.hex() not in shown and repr(key) not in shown
        assert base64.b64encode(key).decode() not in shown


def test_from_settings_with_two_keys() -> None:
    new_line, old_line = generate_key_line("k2"), generate_key_line("k1")
    settings = Settings.from_env({"CREDENTIALS_ENCRYPTION_KEYS": f"{new_line},{old_line}"})
    box = AesGcmKeyring.from_settings(settings)
    assert box.current_key_id == "k2" and box.key_ids == ("k2", "k1")
    old_key = decode_key(old_line.partition(":")[2])
    sealed = AesGcmKeyring([("k1", old_key)]).seal(PLAINTEXT, associated_data=AD)
    assert box.open(sealed, associated_data=AD) == PLAINTEXT


def test_generate_key_line() -> None:
    key_id, _, key = generate_key_line("2025-01").partition(":")
    assert key_id == "2025-01" and len(base64.b64decode(key, validate=True)) == 32
    assert generate_key_line("a") != generate_key_line("a")
    with pytest.raises(ValueError):
        generate_key_line("has.dot")


def test_embedded_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "var" / "nested"
    first = load_or_create(data_dir)
    path = data_dir / "credentials.keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 1 and len(first[0][1]) == 32
    assert load_or_create(data_dir) == first
    assert [p.name for p in data_dir.iterdir()] == ["credentials.keys"]
    box = AesGcmKeyring(first)
    assert box.open(box.seal(PLAINTEXT, associated_data=AD), associated_data=AD) == PLAINTEXT


def test_embedded_key_file_reads_several_keys_newest_first(tmp_path: Path) -> None:
    lines = [generate_key_line("k2"), generate_key_line("k1")]
    (tmp_path / "credentials.keys").write_text("\n".join(lines) + "\n\n")
    assert [key_id for key_id, _ in load_or_create(tmp_path)] == ["k2", "k1"]


@pytest.mark.parametrize(
    "content",
    ["", "no-colon-here\n", "k1:not*base64\n", "k1:" + base64.b64encode(b"short").decode(),
     "{line}\n{line}\n"],
)
def test_a_malformed_embedded_key_file_names_the_file_only(tmp_path: Path, content: str) -> None:
    path = tmp_path / "credentials.keys"
    path.write_text(content.format(line=generate_key_line("k1")))
    with pytest.raises(ValueError, match="credentials.keys is malformed") as caught:
        load_or_create(tmp_path)
    for part in path.read_text().replace("\n", ":").split(":"):
        if len(part) > 3:
            assert part not in str(caught.value)
