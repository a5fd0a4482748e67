"""Twilio (WhatsApp channel) gateway: check an account's credentials and fetch inbound media.

* verify: `GET /2010-04-01/Accounts/{AccountSid}.json` with HTTP Basic (`AccountSid:AuthToken`); the account must be
  the one asked for and active, and the sender (the account's external id) must look like an E.164 number.
* fetch_media: GET the webhook's `MediaUrl{N}` with Basic auth, following Twilio's redirect to its CDN (aiohttp drops
  the credentials on the cross-origin hop). Credentials go only to the configured API host or `*.twilio.com`.

Error bodies `{code, message, more_info, status}`: 20003 → CredentialsRejected, 20429 → transient
(providers.md §1.4).
"""
from __future__ import annotations

import re
from typing import Any

import aiohttp
import phonenumbers
from yarl import URL

from ....domain.model.channels import Provider
from ....domain.model.inbound import MediaRef
from ....ports.providers import AccountAccess, CredentialsRejected, Media, ProviderError
from ..http import DEFAULT_TIMEOUT, ErrorInfo, ErrorKind, ProviderHttp

__all__ = ["TwilioWhatsAppGateway", "read_twilio_error"]

PROVIDER = Provider.WHATSAPP_TWILIO
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_CREDENTIAL_CODES = frozenset({20003})
_TRANSIENT_CODES = frozenset({20429})
_INACTIVE = ("suspended", "closed")


def read_twilio_error(status: int, body: Any) -> ErrorInfo:
    """The legacy `{code, message, status}` body and the RFC 9457 one (`{type, title, status, code, detail}`)."""
    if not isinstance(body, dict):
        return ErrorInfo()
    raw_code = body.get("code")
    code = str(raw_code) if isinstance(raw_code, (int, str)) and str(raw_code).isdigit() else None
    message = next((body[key] for key in ("message", "detail", "title") if isinstance(body.get(key), str)), None)
    kind = None
    if code is not None:
        if int(code) in _CREDENTIAL_CODES:
            kind = ErrorKind.CREDENTIALS
        elif int(code) in _TRANSIENT_CODES:
            kind = ErrorKind.TRANSIENT
    return ErrorInfo(code=code, message=message, kind=kind)


class TwilioWhatsAppGateway:
    provider = PROVIDER

    def __init__(self, session: aiohttp.ClientSession, base_url: str = "https://api.twilio.com", *,
                 timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT) -> None:
        self._base = base_url.rstrip("/")
        self._base_origin = URL(self._base).origin()
        self._http = ProviderHttp(session, PROVIDER, read_twilio_error, timeout=timeout)

    async def verify(self, access: AccountAccess) -> None:
        sender = access.external_id.removeprefix("whatsapp:")
        if not _plausible_sender(sender):
            raise ProviderError(f"{PROVIDER}: the sender {access.external_id!r} is not a phone number in E.164 "
                                "(e.g. +14155238886)", transient=False)
        sid, token = _credentials(access)
        found = await self._http.get_json(f"{self._base}/2010-04-01/Accounts/{sid}.json",
                                          headers=_basic(sid, token), secrets=(token,))
        if not isinstance(found, dict) or found.get("sid") != sid:
            raise ProviderError(f"{PROVIDER}: Twilio did not return account {sid}", transient=False)
        status = found.get("status")
        if isinstance(status, str) and status.lower() in _INACTIVE:
            raise ProviderError(f"{PROVIDER}: account {sid} is {status.lower()}", transient=False)

    async def fetch_media(self, access: AccountAccess, media: MediaRef, max_bytes: int) -> Media:
        if not media.url:
            raise ProviderError(f"{PROVIDER}: the media has no MediaUrl", transient=False)
        if not self._may_receive_credentials(media.url):
            raise ProviderError(f"{PROVIDER}: the media URL is not on the Twilio API host; the credentials are "
                                "not sent there", transient=False)
        sid, token = _credentials(access)
        download = await self._http.download(media.url, max_bytes, headers=_basic(sid, token), secrets=(token,))
        content_type = download.content_type or media.content_type or "application/octet-stream"
        return Media(data=download.data, content_type=content_type)

    def _may_receive_credentials(self, url: str) -> bool:
        try:
            parsed = URL(url)
        except ValueError:
            return False
        if not parsed.host or parsed.scheme not in ("http", "https"):
            return False
        if parsed.origin() == self._base_origin:
            return True
        host = parsed.host.lower()
        return parsed.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com"))


def _basic(sid: str, token: str) -> dict[str, str]:
    return {"Authorization": aiohttp.encode_basic_auth(sid, token)}


def _credentials(access: AccountAccess) -> tuple[str, str]:
    sid = access.credentials.get("accountSid")
    token = access.credentials.get("authToken")
    if not isinstance(sid, str) or not _ACCOUNT_SID.fullmatch(sid.strip()):
        raise CredentialsRejected(f"{PROVIDER}: accountSid must be an Account SID (AC followed by 32 hex digits)")
    if not isinstance(token, str) or not token.strip():
        raise CredentialsRejected(f"{PROVIDER}: the credentials have no authToken")
    return sid.strip(), token.strip()


def _plausible_sender(sender: str) -> bool:
    if not re.fullmatch(r"\+[1-9][0-9]{6,14}", sender):
        return False
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(sender, None))
    except phonenumbers.NumberParseException:
        return False
