"""Meta `X-Hub-Signature-256` and the `hub.challenge` handshake, against published and corpus vectors."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from commsinbox.adapters.providers.meta_signature import SIGNATURE_HEADER, is_valid, sign, verify_challenge
from tests.support.fixtures import PROVIDER_FIXTURES, fixture

pytestmark = pytest.mark.unit

# WhatsApp/WhatsApp-Nodejs-SDK utils test (providers.md §2.2)
NODE_SDK_SECRET, NODE_SDK_BODY = "TEST_APP_SECRET", b"test"
NODE_SDK_SIGNATURE = "sha256=0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888221"
# pywa tests/test_server.py: a real 511-byte webhook body (providers.md §2.2)
PYWA_BODY_FILE = "whatsapp_cloud/pywa_signed_real_text_raw_body.json"
PYWA_SECRET = "1222e786b144d0e85b9f365372d93676"
PYWA_SIGNATURE = "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441"

CORPUS_SECRET = "test_app_secret"
TEXT_FIXTURE = "whatsapp_cloud/meta_text.json"


def _vectors() -> list[Any]:
    params = []
    for vector in json.loads(fixture("whatsapp_cloud/signature_vectors.json").read_text("utf-8")):
        name = vector.get("raw_body_file", "<inline>")
        missing = "raw_body_file" in vector and not (PROVIDER_FIXTURES / "whatsapp_cloud" / name).exists()
        marks = pytest.mark.skip(reason=f"{name} is listed in signature_vectors.json but absent from the corpus")
        params.append(pytest.param(vector, id=name, marks=[marks] if missing else []))
    return params


def _body(vector: dict[str, Any]) -> bytes:
    if "raw_body" in vector:
        return vector["raw_body"].encode("utf-8")
    return fixture(f"whatsapp_cloud/{vector['raw_body_file']}").read_bytes()


def test_header_name() -> None:
    assert SIGNATURE_HEADER == "X-Hub-Signature-256"


def test_published_node_sdk_vector() -> None:
    assert sign(NODE_SDK_BODY, NODE_SDK_SECRET) == NODE_SDK_SIGNATURE
    assert is_valid(NODE_SDK_SIGNATURE, NODE_SDK_BODY, NODE_SDK_SECRET)


@pytest.mark.skipif(not (PROVIDER_FIXTURES / PYWA_BODY_FILE).exists(),
                    reason=f"{PYWA_BODY_FILE} (cited in providers.md §2.2) is not in the corpus")
def test_published_pywa_real_body_vector() -> None:
    body = fixture(PYWA_BODY_FILE).read_bytes()
    assert len(body) == 511
    assert sign(body, PYWA_SECRET) == PYWA_SIGNATURE
    assert is_valid(PYWA_SIGNATURE, body, PYWA_SECRET)


@pytest.mark.parametrize("vector", _vectors())
def test_corpus_vectors_over_exact_file_bytes(vector: dict[str, Any]) -> None:
    body, secret, expected = _body(vector), vector["app_secret"], vector["x_hub_signature_256"]
    assert sign(body, secret) == expected
    assert is_valid(expected, body, secret)
    assert is_valid(expected.upper().replace("SHA256=", "sha256="), body, secret)  # hex case does not matter
    assert not is_valid(expected, body + b"\n", secret)
    assert not is_valid(expected, body, secret + "x")


def test_corpus_vectors_use_the_documented_secret() -> None:
    vectors = json.loads(fixture("whatsapp_cloud/signature_vectors.json").read_text("utf-8"))
    assert {v["app_secret"] for v in vectors if "raw_body_file" in v} == {CORPUS_SECRET}


def test_signature_covers_raw_bytes_not_the_parsed_json() -> None:
    raw = fixture(TEXT_FIXTURE).read_bytes()
    header = sign(raw, CORPUS_SECRET)
    reserialised = json.dumps(json.loads(raw)).encode("utf-8")
    assert reserialised != raw
    assert not is_valid(header, reserialised, CORPUS_SECRET)


@pytest.mark.parametrize("tamper", [
    lambda b: b.replace(b"another color", b"another colour"),
    lambda b: b[:-1],
    lambda b: b + b" ",
    lambda b: b"",
], ids=["edited", "truncated", "appended", "empty"])
def test_tampered_body_fails(tamper: Any) -> None:
    raw = fixture(TEXT_FIXTURE).read_bytes()
    header = sign(raw, CORPUS_SECRET)
    assert is_valid(header, raw, CORPUS_SECRET)
    assert not is_valid(header, tamper(raw), CORPUS_SECRET)


def test_wrong_or_missing_secret_fails() -> None:
    header = sign(NODE_SDK_BODY, NODE_SDK_SECRET)
    assert not is_valid(header, NODE_SDK_BODY, "test_app_secret")
    assert not is_valid(header, NODE_SDK_BODY, NODE_SDK_SECRET.lower())
    assert not is_valid(header, NODE_SDK_BODY, "")
    with pytest.raises(ValueError):
        sign(NODE_SDK_BODY, "")


@pytest.mark.parametrize("header", [
    None,
    "",
    "sha256=",
    NODE_SDK_SIGNATURE.removeprefix("sha256="),  # no scheme
    NODE_SDK_SIGNATURE.replace("sha256=", "sha1="),
    NODE_SDK_SIGNATURE.replace("sha256=", "sha256:"),
    NODE_SDK_SIGNATURE[:-1],  # 63 hex digits
    NODE_SDK_SIGNATURE + "0",  # 65 hex digits
    NODE_SDK_SIGNATURE[:-1] + "g",  # not hex
    NODE_SDK_SIGNATURE + ",sha256=" + "0" * 64,
    "sha256=" + "0" * 64,  # well-formed but wrong
    "sha256=ａ" + NODE_SDK_SIGNATURE[8:],  # non-ASCII look-alike
])
def test_missing_or_malformed_header_is_invalid(header: str | None) -> None:
    assert not is_valid(header, NODE_SDK_BODY, NODE_SDK_SECRET)


@pytest.mark.parametrize("header", [
    NODE_SDK_SIGNATURE,
    NODE_SDK_SIGNATURE.upper(),
    "sha256=" + NODE_SDK_SIGNATURE[7:].upper(),
    f"  {NODE_SDK_SIGNATURE} ",
])
def test_accepted_spellings(header: str) -> None:
    assert is_valid(header, NODE_SDK_BODY, NODE_SDK_SECRET)


def _documented_query() -> dict[str, str]:
    request_line = fixture("whatsapp_cloud/api/meta_webhook_verification_get_request.txt").read_text("utf-8")
    url = request_line.splitlines()[0].split()[1]
    return dict(parse_qsl(urlsplit(url).query))


def test_challenge_from_the_documented_request() -> None:
    query = _documented_query()
    assert query == {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "meatyhamhock"}
    assert verify_challenge(query, "meatyhamhock") == "1158201444"


@pytest.mark.parametrize("change, token", [
    ({}, "another-token"),
    ({}, "meatyhamhoc"),
    ({}, "meatyhamhock "),
    ({}, ""),  # nothing configured: refuse everyone
    ({"hub.mode": "unsubscribe"}, "meatyhamhock"),
    ({"hub.mode": "SUBSCRIBE"}, "meatyhamhock"),
    ({"hub.mode": None}, "meatyhamhock"),
    ({"hub.verify_token": None}, "meatyhamhock"),
    ({"hub.verify_token": ""}, "meatyhamhock"),
    ({"hub.challenge": None}, "meatyhamhock"),
    ({"hub.challenge": ""}, "meatyhamhock"),
])
def test_challenge_refused(change: dict[str, str | None], token: str) -> None:
    query = {**_documented_query(), **change}
    clean = {key: value for key, value in query.items() if value is not None}
    assert verify_challenge(clean, token) is None


def test_challenge_echoes_the_value_verbatim() -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "s3cret-é", "hub.challenge": "abc 123"}
    assert verify_challenge(query, "s3cret-é") == "abc 123"
