"""Twilio (WhatsApp channel) gateway: credentials, inbound media, and sending.

* verify: `GET /2010-04-01/Accounts/{AccountSid}.json` with HTTP Basic (`AccountSid:AuthToken`); the account must be
  the one asked for and active, and the sender (the account's external id) must look like an E.164 number.
* fetch_media: GET the webhook's `MediaUrl{N}` with Basic auth, following Twilio's redirect to its CDN (aiohttp drops
  the credentials on the cross-origin hop). Credentials go only to the configured API host or `*.twilio.com`.
* send: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded (`To`/`From` `whatsapp:+E164`, `Body`,
  `MediaUrl`, `ContentSid` + `ContentVariables`, `StatusCallback`), answered 201 with the Message resource (`sid`).
  Twilio has no idempotency key: a send that may have arrived is `ambiguous` and never retried here.
* mark_read: Twilio has no API for read receipts on WhatsApp; a documented no-op.
* submit_template: Twilio templates are Content Templates (Content API), referenced by their `HX…` Content SID;
  they are not submitted through this gateway.

Error bodies `{code, message, more_info, status}`: see `outbound.read_twilio_error` (providers.md §1.4).
"""
from __future__ import annotations

import re

import aiohttp
import phonenumbers
from yarl import URL

from ....domain.model.channels import Provider
from ....domain.model.inbound import MediaRef
from ....ports.providers import (AccountAccess, CredentialsRejected, FailureReason, Media, Outgoing, OutgoingMedia,
                                 ProviderError, Sent)
from ..http import DEFAULT_TIMEOUT, ProviderHttp
from . import outbound
from .outbound import read_twilio_error

__all__ = ["TwilioWhatsAppGateway", "read_twilio_error"]

PROVIDER = Provider.WHATSAPP_TWILIO
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
_INACTIVE = ("suspended", "closed")


class TwilioWhatsAppGateway:
    provider = PROVIDER

    def __init__(self, session: aiohttp.ClientSession, base_url: str = "https://api.twilio.com", *,
                 timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT) -> None:
        self._base = base_url.rstrip("/")
        self._base_origin = URL(self._base).origin()
        self._http = ProviderHttp(session, PROVIDER, read_twilio_error, timeout=timeout)

    async def verify(self, access: AccountAccess) -> None:
        _sender(access)  # refused before any request when it is not a number
        sid, token = _credentials(access)
        found = await self._http.get_json(f"{self._base}/2010-04-01/Accounts/{sid}.json",
                                          headers=_basic(sid, token), secrets=(token,))
        if not isinstance(found, dict) or found.get("sid") != sid:
            raise ProviderError(f"{PROVIDER}: Twilio did not return account {sid}", transient=False)
        status = found.get("status")
        if isinstance(status, str) and status.lower() in _INACTIVE:
            raise ProviderError(f"{PROVIDER}: account {sid} is {status.lower()}", transient=False,
                                reason=FailureReason.ACCOUNT_RESTRICTED)

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

    def check_media(self, media: OutgoingMedia) -> None:
        outbound.check_media(media)

    async def send(self, access: AccountAccess, message: Outgoing) -> Sent:
        form = outbound.message_form(_sender(access), message)
        sid, token = _credentials(access)
        url = f"{self._base}/2010-04-01/Accounts/{sid}/Messages.json"
        created = await self._http.post(url, headers=_basic(sid, token), form=form, secrets=(token,))
        message_sid = created.get("sid") if isinstance(created, dict) else None
        if not isinstance(message_sid, str) or not _MESSAGE_SID.fullmatch(message_sid):
            raise self._http.unreadable(url, "message sid")
        return Sent(provider_message_id=message_sid)

    async def mark_read(self, access: AccountAccess, provider_message_id: str, contact_external_id: str) -> None:
        """Twilio's WhatsApp channel has no read-receipt API (Messages are only created, fetched, updated to
        redact or cancel): nothing to do, and nothing is sent."""
        return None

    async def submit_template(self, access: AccountAccess, name: str, language: str, category: str,
                              body: str) -> str:
        raise ProviderError(f"{PROVIDER}: Twilio WhatsApp templates are Content Templates created in the Twilio "
                            "Content API or Console and sent by their Content SID (HX…); they cannot be submitted "
                            "here", transient=False, reason=FailureReason.UNSUPPORTED)

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


def _sender(access: AccountAccess) -> str:
    """The account's sender number (its external id), checked before any request."""
    sender = access.external_id.removeprefix("whatsapp:")
    if not _plausible_sender(sender):
        raise ProviderError(f"{PROVIDER}: the sender {access.external_id!r} is not a phone number in E.164 "
                            "(e.g. +14155238886)", transient=False, reason=FailureReason.NOT_CONFIGURED)
    return sender


def _plausible_sender(sender: str) -> bool:
    if not re.fullmatch(r"\+[1-9][0-9]{6,14}", sender):
        return False
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(sender, None))
    except phonenumbers.NumberParseException:
        return False
