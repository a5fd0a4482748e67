"""Instagram Messaging gateway (Meta Graph): check an account's token, fetch attachment media, send.

* verify: `GET /{version}/{ig_id}?fields=id,username` with `Authorization: Bearer <token>`.
* fetch_media: a plain GET of the attachment URL from the webhook. Those CDN URLs are pre-signed, so no token is
  sent (a 401/403 there means the URL expired, not that the credentials are bad). View-once media has no URL.
* send: `POST /{version}/me/messages` (bearer, JSON) → `message_id`. `/me/messages` is the path both API flavours
  accept (Messenger API for Instagram with a Page token on graph.facebook.com, and Instagram Login), providers.md
  §3. `messaging_type` RESPONSE, or MESSAGE_TAG + `tag: HUMAN_AGENT` when the message asks for it. Graph has no
  idempotency key, so a send that may have arrived is `ambiguous`.
* mark_read: `sender_action: mark_seen` to the contact.
* submit_template: Instagram has no message templates.
"""
from __future__ import annotations

from urllib.parse import quote

import aiohttp
from yarl import URL

from ....domain.model.channels import Provider
from ....domain.model.inbound import MediaRef
from ....ports.providers import (AccountAccess, FailureReason, Media, Outgoing, OutgoingMedia, ProviderError, Sent)
from ..graph_errors import read_graph_error
from ..http import DEFAULT_TIMEOUT, ProviderHttp
from ..meta_whatsapp.gateway import access_token, graph_id
from . import outbound

__all__ = ["MetaInstagramGateway"]

PROVIDER = Provider.INSTAGRAM_META


class MetaInstagramGateway:
    provider = PROVIDER

    def __init__(self, session: aiohttp.ClientSession, base_url: str = "https://graph.facebook.com",
                 version: str = "v23.0", *, timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT) -> None:
        self._base = base_url.rstrip("/")
        self._version = version.strip("/")
        self._http = ProviderHttp(session, PROVIDER, read_graph_error, timeout=timeout)

    async def verify(self, access: AccountAccess) -> None:
        token = access_token(PROVIDER, access)
        ig_id = graph_id(PROVIDER, access.external_id, "Instagram account id")
        found = await self._http.get_json(f"{self._base}/{self._version}/{quote(ig_id, safe='')}",
                                          params={"fields": "id,username"},
                                          headers=_bearer(token), secrets=(token,))
        if not isinstance(found, dict) or str(found.get("id")) != ig_id:
            raise ProviderError(f"{PROVIDER}: Graph did not return Instagram account {ig_id} for this token",
                                transient=False)

    async def fetch_media(self, access: AccountAccess, media: MediaRef, max_bytes: int) -> Media:
        if not media.url:
            raise ProviderError(f"{PROVIDER}: the attachment has no URL (view-once media cannot be fetched)",
                                transient=False)
        try:
            scheme = URL(media.url).scheme
        except ValueError:
            scheme = ""
        if scheme not in ("http", "https"):
            raise ProviderError(f"{PROVIDER}: the attachment URL is not http(s)", transient=False)
        download = await self._http.download(media.url, max_bytes)
        content_type = download.content_type or media.content_type or "application/octet-stream"
        return Media(data=download.data, content_type=content_type)

    def check_media(self, media: OutgoingMedia) -> None:
        outbound.check_media(media)

    async def send(self, access: AccountAccess, message: Outgoing) -> Sent:
        payload = outbound.message_payload(message)
        token = access_token(PROVIDER, access)
        url = self._messages_url()
        answer = await self._http.post(url, headers=_bearer(token), json_body=payload, secrets=(token,))
        mid = answer.get("message_id") if isinstance(answer, dict) else None
        if not isinstance(mid, str) or not mid:
            raise self._http.unreadable(url, "message_id")
        return Sent(provider_message_id=mid)

    async def mark_read(self, access: AccountAccess, provider_message_id: str, contact_external_id: str) -> None:
        """Instagram marks the whole conversation seen (`mark_seen` names the contact, not a message)."""
        payload = outbound.seen_payload(contact_external_id)
        token = access_token(PROVIDER, access)
        await self._http.post(self._messages_url(), headers=_bearer(token), json_body=payload, secrets=(token,),
                              idempotent=True)

    async def submit_template(self, access: AccountAccess, name: str, language: str, category: str,
                              body: str) -> str:
        raise ProviderError(f"{PROVIDER}: Instagram has no message templates; outside the 24-hour window a human "
                            "agent may answer for 7 days with the HUMAN_AGENT tag", transient=False,
                            reason=FailureReason.UNSUPPORTED)

    def _messages_url(self) -> str:
        return f"{self._base}/{self._version}/me/messages"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
