"""X-Twilio-Signature: the official SDK vectors, vectors for every Twilio webhook fixture, and tampering."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from commsinbox.adapters.providers.twilio_whatsapp.signature import (
    compute_signature,
    expected_signatures,
    is_valid,
    pairs,
    public_url,
    url_variants,
)
from commsinbox.adapters.providers.twilio_whatsapp.webhook import parse_form
from tests.support.fixtures import fixture

pytestmark = pytest.mark.unit

TOKEN = "12345"
URL = "https://example.com/twilio/whatsapp"
URL_443 = "https://example.com:443/twilio/whatsapp"

OFFICIAL: list[dict[str, Any]] = json.loads(fixture("twilio/signature_vectors_official.json").read_text())

# Computed with twilio-python 9.13's RequestValidator.compute_signature (an independent implementation), token
# 12345, over URL and over URL_443, with each fixture's decoded form parameters.
WEBHOOK_VECTORS = {
    "inbound_whatsapp_text_sandbox_profilename_masked.txt":
        ("Gcx6VYSTjKzEtWXBYLdNWwf3s9A=", "nMCY/YyqW58rnE4tE6U9tiBsp/0="),
    "status_whatsapp_sent_sandbox_masked.txt": ("l+ioQR4oE3kijUEpEexZRv0BFIs=", "ygcItNPUWwqYdJIVRDbg0aBCZK4="),
    "doc_status_callback_sent_sms_example.txt": ("+8w2jdGOkJixZMAALOXOvfIe0tA=", "zf72PRhhN0egY2VEXAP91lLveE0="),
    "SYNTH_status_whatsapp_read.txt": ("pMyZeemllQshHaKG7bZY0bnhHec=", "h7GHg6uMGbIfww+p8y/Jjs4IZ+4="),
    "SYNTH_status_whatsapp_failed_63016.txt": ("Ke/8M6I2pOZupxs29Q0wkE89QFE=", "YItmKbGiF5MuVNbp0BcBnVK+T0I="),
    "SYNTH_status_whatsapp_undelivered_63018.txt":
        ("sO3F+nB6EGnCV0p1z/0Y//WXU9g=", "OaD/R2NdjbXvgCyDIDMVpYQyI0w="),
    "SYNTH_inbound_whatsapp_two_media.txt": ("mQ4T20Al2SVHaTDdUNSy8TAltp4=", "EzbEZLWPdXUnfyZUKUf/8f6oUXI="),
    "SYNTH_inbound_whatsapp_ctwa_referral.txt": ("TAlMQf17VD0EWPyDL1DL2LNXc7k=", "gRvSuQTJ6YRqpa4i42LjdsENCS0="),
}


def webhook_params(path: Path) -> list[tuple[str, str]]:
    """The fixture's parameters. The Twilio doc example is a `"Name": "value"` listing, not a form body."""
    raw = path.read_bytes()
    if path.name.startswith("doc_"):
        listing = [line.split(":", 1) for line in raw.decode().splitlines() if line.strip()]
        return [(name.strip().strip('"'), value.strip().strip('"')) for name, value in listing]
    return parse_form(raw)


def test_the_webhook_vectors_cover_every_twilio_webhook_fixture() -> None:
    bodies = {path.name for path in fixture("twilio").glob("*.txt") if "_rest_" not in path.name}
    assert bodies == set(WEBHOOK_VECTORS)


# ---- the official vectors (twilio-python / twilio-node test suites) ----

@pytest.mark.parametrize("vector", OFFICIAL, ids=[vector["id"] for vector in OFFICIAL])
def test_official_vector(vector: dict[str, Any]) -> None:
    url, params, token, expected = vector["url"], vector["params"], vector["auth_token"], vector["expected"]
    raw_body = vector["raw_body"].encode() if "raw_body" in vector else None

    assert compute_signature(vector.get("signed_url", url), params, token) == expected
    assert expected in expected_signatures(url, params, token)
    assert is_valid(expected, url, params, token, raw_body)

    assert not is_valid(expected, url, params, "54321", raw_body)
    assert not is_valid(expected, url.replace("myapp.php", "myapp2.php"), params, token, raw_body)
    assert not is_valid(expected, url.replace("mycompany.com", "othercompany.com"), params, token, raw_body)
    if params:
        name = next(iter(params))
        assert not is_valid(expected, url, {**params, name: "tampered"}, token, raw_body)
        assert not is_valid(expected, url, {**params, "Extra": "1"}, token, raw_body)
    if raw_body is not None:
        assert hashlib.sha256(raw_body).hexdigest() in url
        assert not is_valid(expected, url, params, token, raw_body + b" ")
        assert not is_valid(expected, url, params, token, None)


def test_official_body_vector_ignores_form_params_and_needs_the_hash() -> None:
    t6 = next(vector for vector in OFFICIAL if vector["id"] == "T6")
    body = t6["raw_body"].encode()
    # With bodySHA256 the signature covers the URL alone: parameters are not part of it.
    assert is_valid(t6["expected"], t6["url"], {"property": "value"}, TOKEN, body)
    doubled = t6["url"] + "&bodySHA256=" + t6["body_sha256_hex"]
    assert not is_valid(t6["expected"], doubled, {}, TOKEN, body)


# ---- computed vectors for every Twilio webhook fixture ----

@pytest.mark.parametrize("name", sorted(WEBHOOK_VECTORS))
def test_webhook_fixture_vector(name: str) -> None:
    plain, with_port = WEBHOOK_VECTORS[name]
    params = webhook_params(fixture(f"twilio/{name}"))
    raw = fixture(f"twilio/{name}").read_bytes()

    assert compute_signature(URL, params, TOKEN) == plain
    assert compute_signature(URL_443, params, TOKEN) == with_port
    assert expected_signatures(URL, params, TOKEN) == {plain, with_port}
    assert is_valid(plain, URL, params, TOKEN)
    assert is_valid(with_port, URL, params, TOKEN)  # Twilio signed the default-port form
    assert is_valid(plain, URL_443, params, TOKEN)  # we were given the default-port form
    assert is_valid(plain, URL, params, TOKEN, raw)  # a form body is not hashed
    assert is_valid(plain, URL, list(reversed(params)), TOKEN)  # order of the body does not matter
    assert is_valid(plain, URL, {name: value for name, value in params}, TOKEN)
    # Twilio's validators drop any port in one variant, so a non-default port is not part of what is proven.
    assert is_valid(plain, "https://example.com:8443/twilio/whatsapp", params, TOKEN)


@pytest.mark.parametrize("name", sorted(WEBHOOK_VECTORS))
def test_webhook_fixture_vector_tampered(name: str) -> None:
    plain, _ = WEBHOOK_VECTORS[name]
    params = webhook_params(fixture(f"twilio/{name}"))
    sid = dict(params)["MessageSid"]

    changed = [(key, value + "0" if key == "MessageSid" else value) for key, value in params]
    assert not is_valid(plain, URL, changed, TOKEN)
    assert not is_valid(plain, URL, params[1:], TOKEN)  # a parameter dropped
    assert not is_valid(plain, URL, [*params, ("Unknown", "")], TOKEN)  # unknown params are signed too
    assert not is_valid(plain, URL, [*params, ("MessageSid", sid + "0")], TOKEN)  # a repeated name
    assert not is_valid(plain, URL, params, "123456")
    assert not is_valid(plain, "https://example.com/twilio/whatsapp2", params, TOKEN)
    assert not is_valid(plain, "http://example.com/twilio/whatsapp", params, TOKEN)
    assert not is_valid(plain, URL + "?team=a", params, TOKEN)
    assert not is_valid(("B" if plain[0] == "A" else "A") + plain[1:], URL, params, TOKEN)  # another signature


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_or_empty_header_is_invalid(header: str | None) -> None:
    plain, _ = WEBHOOK_VECTORS["SYNTH_status_whatsapp_read.txt"]
    params = webhook_params(fixture("twilio/SYNTH_status_whatsapp_read.txt"))
    assert not is_valid(header, URL, params, TOKEN)
    assert is_valid(f" {plain} ", URL, params, TOKEN)  # surrounding whitespace is not part of the header value


def test_a_non_ascii_header_is_invalid_not_an_error() -> None:
    assert not is_valid("ü" * 28, URL, {"MessageSid": "SM1"}, TOKEN)


def test_an_empty_auth_token_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="auth token"):
        is_valid("x", URL, {}, "")
    with pytest.raises(ValueError, match="auth token"):
        expected_signatures(URL, {}, "")


# ---- parameters ----

def test_repeated_names_are_deduplicated_and_sorted_whatever_the_shape() -> None:
    as_pairs = [("Sid", "CA123"), ("Digits", "5678"), ("SidAccount", "AC123"), ("Digits", "1234"),
                ("Digits", "1234")]
    as_mapping = {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234", "1234"]}
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert compute_signature(url, as_pairs, TOKEN) == compute_signature(url, as_mapping, TOKEN) \
        == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    assert compute_signature(url, {"Digits": ("1234", "5678"), "Sid": "CA123", "SidAccount": "AC123"}, TOKEN) \
        == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_pairs_flattens_a_mapping_keeping_a_string_value_whole() -> None:
    assert pairs({"A": "xyz", "B": ["1", "2"], "C": ()}) == [("A", "xyz"), ("B", "1"), ("B", "2")]
    assert pairs([("A", "1"), ("A", "1")]) == [("A", "1"), ("A", "1")]


# ---- URL variants ----

@pytest.mark.parametrize(("url", "variants"), [
    ("https://h.example/p?q=1", ["https://h.example/p?q=1", "https://h.example:443/p?q=1"]),
    ("http://h.example/p", ["http://h.example/p", "http://h.example:80/p"]),
    ("https://h.example:443/p", ["https://h.example:443/p", "https://h.example/p"]),
    ("http://h.example:1234/p", ["http://h.example:1234/p", "http://h.example/p"]),
    ("https://u:p@h.example:443/p", ["https://u:p@h.example:443/p", "https://u:p@h.example/p"]),
    ("https://[::1]:8443/p", ["https://[::1]:8443/p", "https://[::1]/p"]),
    ("https://H.Example", ["https://H.Example", "https://H.Example:443"]),
    ("https://h.example/a b?x='y'", ["https://h.example/a b?x='y'", "https://h.example/a%20b?x=%27y%27",
                                     "https://h.example:443/a b?x='y'", "https://h.example:443/a%20b?x=%27y%27"]),
    ("https://h.example/p?x=é%41", ["https://h.example/p?x=é%41", "https://h.example/p?x=%C3%A9%41",
                                    "https://h.example:443/p?x=é%41", "https://h.example:443/p?x=%C3%A9%41"]),
])
def test_url_variants(url: str, variants: list[str]) -> None:
    assert url_variants(url) == variants


@pytest.mark.parametrize("url", ["example.com/twilio", "/twilio/whatsapp", "https://[::1/p"])
def test_url_variants_need_an_absolute_url(url: str) -> None:
    with pytest.raises(ValueError):
        url_variants(url)


# ---- the public URL ----

@pytest.mark.parametrize(("base", "path_qs", "expected"), [
    ("https://inbox.example.com", "/twilio/whatsapp", "https://inbox.example.com/twilio/whatsapp"),
    ("https://inbox.example.com/", "/twilio/whatsapp?team=a&x=%27",
     "https://inbox.example.com/twilio/whatsapp?team=a&x=%27"),
    ("https://example.com:8443/inbox", "/twilio/whatsapp", "https://example.com:8443/inbox/twilio/whatsapp"),
    ("http://localhost:8080", "/", "http://localhost:8080/"),
])
def test_public_url(base: str, path_qs: str, expected: str) -> None:
    assert public_url(base, path_qs) == expected


def test_public_url_is_what_twilio_signed() -> None:
    name = "inbound_whatsapp_text_sandbox_profilename_masked.txt"
    params = webhook_params(fixture(f"twilio/{name}"))
    url = public_url("https://example.com", "/twilio/whatsapp")
    assert is_valid(WEBHOOK_VECTORS[name][0], url, params, TOKEN)


@pytest.mark.parametrize(("base", "path_qs"), [
    ("inbox.example.com", "/twilio"), ("ftp://inbox.example.com", "/twilio"), ("https://", "/twilio"),
    ("https://inbox.example.com?x=1", "/twilio"), ("https://inbox.example.com#f", "/twilio"),
    ("https://inbox.example.com", "twilio/whatsapp"), ("https://inbox.example.com", ""),
])
def test_public_url_rejects_what_cannot_be_a_signed_url(base: str, path_qs: str) -> None:
    with pytest.raises(ValueError):
        public_url(base, path_qs)
