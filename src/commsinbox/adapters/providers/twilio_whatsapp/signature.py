"""`X-Twilio-Signature`: how Twilio signs the webhooks it sends (providers.md §1.1). Pure functions, no I/O.

The signature is base64(HMAC-SHA1(auth token, URL + every POST parameter as name+value, names sorted, the values
of a repeated name de-duplicated and sorted)). Twilio is inconsistent about the port in the URL it signs, so the
URL is tried with its port removed and with the scheme's default port added. JSON bodies are signed differently:
Twilio adds `bodySHA256=<hex sha256 of the body>` to the URL and signs the URL with no parameters.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl, urlsplit

Params = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]]
"""POST parameters: a mapping (a value may be one string or several) or the (name, value) pairs of the body."""

BODY_HASH_PARAM = "bodySHA256"
_DEFAULT_PORTS = {"http": "80", "https": "443"}
# What a WHATWG URL parser percent-encodes when it re-serialises a URL (twilio-node signs that form): C0 controls,
# everything above U+007E, and these characters in the path / in the query of an http(s) URL.
_PATH_ESCAPED = frozenset(' "#<>?`{}')
_QUERY_ESCAPED = frozenset(' "#<>\'')


def pairs(params: Params) -> list[tuple[str, str]]:
    """The parameters as (name, value) pairs, in the order given (a mapping's multi-values kept in order)."""
    if isinstance(params, Mapping):
        found: list[tuple[str, str]] = []
        for name, value in params.items():
            if isinstance(value, str):
                found.append((name, value))
            else:
                found.extend((name, item) for item in value)
        return found
    return [(name, value) for name, value in params]


def compute_signature(url: str, params: Params, auth_token: str) -> str:
    """The signature of exactly this URL string and these parameters (no URL variants)."""
    if not auth_token:
        raise ValueError("the Twilio auth token is empty; webhooks cannot be verified without it")
    grouped: dict[str, set[str]] = {}
    for name, value in pairs(params):
        grouped.setdefault(name, set()).add(value)
    signed = url + "".join(name + value for name in sorted(grouped) for value in sorted(grouped[name]))
    digest = hmac.new(auth_token.encode("utf-8"), signed.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def url_variants(url: str) -> list[str]:
    """The URL strings Twilio may have signed for a request to `url`, the URL itself first.

    Port removed and default port added (an explicit non-default port is kept in the second); each also with the
    path and query as a WHATWG URL parser re-serialises them (e.g. `'` → `%27` in the query)."""
    start, end = _authority_span(url)
    scheme = url[: start - 3].lower()
    userinfo, host, port = _split_authority(url[start:end])
    without_port = url[:start] + userinfo + host + url[end:]
    with_port = url
    if not port and scheme in _DEFAULT_PORTS:
        with_port = url[:start] + userinfo + host + ":" + _DEFAULT_PORTS[scheme] + url[end:]
    variants = [url]
    for candidate in (without_port, with_port):
        for form in (candidate, _whatwg_form(candidate)):
            if form not in variants:
                variants.append(form)
    return variants


def expected_signatures(url: str, params: Params, auth_token: str) -> set[str]:
    """Every signature that proves a request to `url` with `params` came from Twilio (one per URL variant)."""
    return {compute_signature(variant, params, auth_token) for variant in url_variants(url)}


def is_valid(signature_header: str | None, url: str, params: Params, auth_token: str,
             raw_body: bytes | None = None) -> bool:
    """Whether `X-Twilio-Signature` proves the request came from Twilio.

    `url` is the public URL Twilio requested (see `public_url`); `params` every POST parameter received, unknown
    ones included. When the URL carries `bodySHA256` (a JSON body), `raw_body` is required and must hash to it, and
    the signature covers the URL alone: `params` is then not used. Otherwise `raw_body` is ignored."""
    if not signature_header:
        return False
    body_hash = _body_hash(url)
    if body_hash is not None:
        if raw_body is None or body_hash == "":
            return False
        if not hmac.compare_digest(hashlib.sha256(raw_body).hexdigest().encode("ascii"), body_hash.encode("utf-8")):
            return False
        params = ()
    given = signature_header.strip().encode("utf-8")
    matched = False
    for expected in expected_signatures(url, params, auth_token):
        matched |= hmac.compare_digest(expected.encode("ascii"), given)
    return matched


def public_url(public_base_url: str, path_qs: str) -> str:
    """The URL Twilio requested, rebuilt from the configured public base URL (e.g. `https://inbox.example.com`)
    and the request's path and query string exactly as received (e.g. `/twilio/whatsapp?team=a`).

    Behind a proxy the server sees an internal URL; Twilio signed the public one. A path in the base URL is a
    prefix the proxy removed before the request reached us (`https://example.com/inbox` + `/twilio/whatsapp`)."""
    base = urlsplit(public_base_url)
    if base.scheme not in _DEFAULT_PORTS or not base.netloc or base.query or base.fragment:
        raise ValueError(f"public base URL must be http(s)://host[:port][/prefix], got {public_base_url!r}")
    if not path_qs.startswith("/"):
        raise ValueError(f"request path must start with '/', got {path_qs!r}")
    return public_base_url.rstrip("/") + path_qs


def _authority_span(url: str) -> tuple[int, int]:
    separator = url.find("://")
    if separator <= 0:
        raise ValueError(f"not an absolute URL: {url!r}")
    start = separator + 3
    ends = [index for index in (url.find(char, start) for char in "/?#") if index != -1]
    return start, min(ends, default=len(url))


def _split_authority(authority: str) -> tuple[str, str, str]:
    """(`user:pass@` or "", host, port or "") — split by hand so the URL string is otherwise kept byte for byte."""
    at = authority.rfind("@")
    userinfo, hostport = authority[: at + 1], authority[at + 1:]
    if hostport.startswith("["):  # IPv6 literal
        close = hostport.find("]")
        if close == -1:
            raise ValueError(f"bad IPv6 host in URL authority {authority!r}")
        host, rest = hostport[: close + 1], hostport[close + 1:]
        return userinfo, host, rest[1:] if rest.startswith(":") else ""
    host, _, port = hostport.partition(":")
    return userinfo, host, port


def _whatwg_form(url: str) -> str:
    start, end = _authority_span(url)
    rest, hash_mark, fragment = url[end:].partition("#")
    path, question, query = rest.partition("?")
    return (url[:end] + _escape(path, _PATH_ESCAPED) + question + _escape(query, _QUERY_ESCAPED)
            + hash_mark + fragment)


def _escape(text: str, escaped: frozenset[str]) -> str:
    return "".join(
        "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
        if char in escaped or not 0x20 <= ord(char) <= 0x7E else char
        for char in text)


def _body_hash(url: str) -> str | None:
    """The `bodySHA256` query value, None when absent; "" (never matches) when given more than once."""
    query = url.partition("#")[0].partition("?")[2]
    values = [value for name, value in parse_qsl(query, keep_blank_values=True) if name == BODY_HASH_PARAM]
    if not values:
        return None
    return values[0] if len(values) == 1 else ""
