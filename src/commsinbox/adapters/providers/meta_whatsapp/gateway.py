"""WhatsApp Cloud API gateway (Meta Graph): check an account's token, fetch inbound media, send.

* verify: `GET /{version}/{phone_number_id}?fields=id,display_phone_number` with `Authorization: Bearer <token>`.
* fetch_media: `GET /{version}/{media_id}` → `{url, mime_type, sha256, file_size, id}` (the URL lives 5 minutes),
  then `GET url` with the same bearer header (providers.md §2.8). A webhook may already carry the URL
  (`image.url`); it is used directly when it points at a Meta host, and the media id is the fallback when that
  URL fails. The SHA-256 given by the webhook (base64) and by Graph (hex) is checked when present.
* send: `POST /{version}/{phone_number_id}/messages` (JSON, bearer) → `messages[0].id` (the wamid). Media without a
  URL is uploaded first (`POST /{version}/{phone_number_id}/media`, multipart) and sent by id. The idempotency key
  goes in `biz_opaque_callback_data` (echoed in status webhooks); Graph has no idempotency, so a send that may
  have arrived is `ambiguous`.
* mark_read: the same endpoint with `{"status": "read", "message_id": wamid}`.
* submit_template: `POST /{version}/{waba_id}/message_templates` (the WABA id from the credentials' `wabaId`).
Bodies are built in `outbound.py`; errors are read by `graph_errors.read_graph_error`.
"""
from __future__ import annotations

import io
import mimetypes
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from ....domain.model.channels import Provider
from ....domain.model.errors import InvalidInput
from ....domain.model.inbound import MediaRef
from ....ports.providers import (AccountAccess, CredentialsRejected, FailureReason, Media, MediaTooLarge, Outgoing,
                                 OutgoingMedia, ProviderError, Sent)
from ..graph_errors import read_graph_error
from ..http import DEFAULT_TIMEOUT, Download, ProviderHttp, check_sha256
from ..outbound import mime_of
from . import outbound

__all__ = ["MetaWhatsAppGateway", "access_token", "graph_id"]

PROVIDER = Provider.WHATSAPP_META
_GRAPH_ID = re.compile(r"[0-9A-Za-z_.-]{1,128}")
# Hosts Meta serves WhatsApp media from; a webhook URL elsewhere never receives the token.
_META_MEDIA_HOSTS = ("fbsbx.com", "facebook.com", "fbcdn.net", "whatsapp.net")


def access_token(provider: Provider, access: AccountAccess) -> str:
    token = access.credentials.get("accessToken")
    if not isinstance(token, str) or not token.strip():
        raise CredentialsRejected(f"{provider}: the credentials have no accessToken")
    return token.strip()


def graph_id(provider: Provider, value: str | None, what: str) -> str:
    """A Graph object id safe to put in a path (ids are digits; anything odd is refused, never sent)."""
    if not isinstance(value, str) or not _GRAPH_ID.fullmatch(value):
        raise ProviderError(f"{provider}: {what} {value!r} is not a Graph object id", transient=False)
    return value


class MetaWhatsAppGateway:
    provider = PROVIDER

    def __init__(self, session: aiohttp.ClientSession, base_url: str = "https://graph.facebook.com",
                 version: str = "v23.0", *, timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT) -> None:
        self._base = base_url.rstrip("/")
        self._version = version.strip("/")
        self._http = ProviderHttp(session, PROVIDER, read_graph_error, timeout=timeout)
        self._base_origin = URL(self._base).origin()

    def _url(self, object_id: str) -> str:
        return f"{self._base}/{self._version}/{quote(object_id, safe='')}"

    async def verify(self, access: AccountAccess) -> None:
        token = access_token(PROVIDER, access)
        phone_number_id = graph_id(PROVIDER, access.external_id, "phone_number_id")
        found = await self._http.get_json(self._url(phone_number_id), params={"fields": "id,display_phone_number"},
                                          headers=_bearer(token), secrets=(token,))
        if not isinstance(found, dict) or str(found.get("id")) != phone_number_id:
            raise ProviderError(f"{PROVIDER}: Graph did not return phone number {phone_number_id} for this token",
                                transient=False)

    async def fetch_media(self, access: AccountAccess, media: MediaRef, max_bytes: int) -> Media:
        token = access_token(PROVIDER, access)
        if media.url and self._may_receive_token(media.url):
            try:
                download = await self._http.download(media.url, max_bytes, headers=_bearer(token), secrets=(token,))
                check_sha256(PROVIDER, download.data, media.sha256)
                return _media(download, media.content_type)
            except MediaTooLarge:
                raise
            except ProviderError as exc:
                if exc.transient or media.media_id is None:
                    raise
                # the webhook URL expired or was refused: ask Graph for a fresh one
        if media.media_id is None:
            raise ProviderError(f"{PROVIDER}: the media has neither an id nor a usable Meta URL", transient=False)
        media_id = graph_id(PROVIDER, media.media_id, "media id")
        info = await self._http.get_json(self._url(media_id), params=_phone_param(access.external_id),
                                         headers=_bearer(token), secrets=(token,))
        url, size, mime, sha256 = _media_info(info, media_id)
        download = await self._http.download(url, max_bytes, headers=_bearer(token), secrets=(token,),
                                             announced_size=size)
        check_sha256(PROVIDER, download.data, sha256)
        check_sha256(PROVIDER, download.data, media.sha256)
        return _media(download, mime or media.content_type)

    def check_media(self, media: OutgoingMedia) -> None:
        outbound.check_media(media)

    async def send(self, access: AccountAccess, message: Outgoing) -> Sent:
        upload = message.media if message.media is not None and not message.media.url else None
        if upload is not None and upload.data is None:
            raise InvalidInput.single("attachmentIds", "the attachment has neither a URL nor data to upload")
        outbound.message_payload(message, media_id="pending" if upload else None)  # every check, before any request
        token = access_token(PROVIDER, access)
        phone_number_id = graph_id(PROVIDER, access.external_id, "phone_number_id")
        media_id = await self._upload(phone_number_id, token, upload) if upload is not None else None
        url = f"{self._url(phone_number_id)}/messages"
        payload = outbound.message_payload(message, media_id)
        answer = await self._http.post(url, headers=_bearer(token), json_body=payload, secrets=(token,))
        messages = answer.get("messages") if isinstance(answer, dict) else None
        first = messages[0] if isinstance(messages, list) and messages else None
        wamid = first.get("id") if isinstance(first, dict) else None
        if not isinstance(wamid, str) or not wamid:
            raise self._http.unreadable(url, "message id")
        return Sent(provider_message_id=wamid)

    async def _upload(self, phone_number_id: str, token: str, media: OutgoingMedia) -> str:
        """Uploads the bytes (`messaging_product`, `type`, `file`) and returns the media id. Safe to repeat (an
        unused upload expires after 30 days), so its network failures are never ambiguous."""
        assert media.data is not None
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_of(media.content_type))
        form.add_field("file", io.BytesIO(media.data), content_type=media.content_type,  # streamed, not inlined
                       filename=media.filename or "attachment" + (mimetypes.guess_extension(mime_of(
                           media.content_type)) or ""))
        url = f"{self._url(phone_number_id)}/media"
        answer = await self._http.post(url, headers=_bearer(token), multipart=form, secrets=(token,),
                                       idempotent=True)
        media_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(media_id, (str, int)) or not str(media_id):
            raise self._http.unreadable(url, "media id", ambiguous=False)
        return str(media_id)

    async def mark_read(self, access: AccountAccess, provider_message_id: str, contact_external_id: str) -> None:
        token = access_token(PROVIDER, access)
        phone_number_id = graph_id(PROVIDER, access.external_id, "phone_number_id")
        await self._http.post(f"{self._url(phone_number_id)}/messages", headers=_bearer(token),
                              json_body=outbound.read_payload(provider_message_id), secrets=(token,),
                              idempotent=True)

    async def submit_template(self, access: AccountAccess, name: str, language: str, category: str, body: str,
                              *, examples: Sequence[str] = ()) -> str:
        payload = outbound.template_payload(name, language, category, body, examples)
        token = access_token(PROVIDER, access)
        raw_waba = access.credentials.get("wabaId")
        if not isinstance(raw_waba, str) or not raw_waba.strip():
            raise ProviderError(f"{PROVIDER}: the credentials have no wabaId (the WhatsApp Business Account id "
                                "templates belong to)", transient=False, reason=FailureReason.NOT_CONFIGURED)
        waba_id = graph_id(PROVIDER, raw_waba.strip(), "wabaId")
        url = f"{self._url(waba_id)}/message_templates"
        answer = await self._http.post(url, headers=_bearer(token), json_body=payload, secrets=(token,))
        template_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(template_id, (str, int)) or not str(template_id):
            raise self._http.unreadable(url, "template id")
        return str(template_id)

    def _may_receive_token(self, url: str) -> bool:
        try:
            parsed = URL(url)
        except ValueError:
            return False
        host = (parsed.host or "").lower()
        if parsed.scheme not in ("http", "https") or not host:
            return False
        if parsed.origin() == self._base_origin:
            return True
        return parsed.scheme == "https" and any(host == h or host.endswith("." + h) for h in _META_MEDIA_HOSTS)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _phone_param(external_id: str) -> dict[str, str]:
    # Graph checks the media belongs to this number when told; harmless when the id is unusual.
    return {"phone_number_id": external_id} if _GRAPH_ID.fullmatch(external_id or "") else {}


def _media_info(info: Any, media_id: str) -> tuple[str, int | None, str | None, str | None]:
    if not isinstance(info, dict) or not isinstance(info.get("url"), str) or not info["url"]:
        raise ProviderError(f"{PROVIDER}: Graph gave no download URL for media {media_id}", transient=False)
    raw_size = info.get("file_size")
    size = int(raw_size) if isinstance(raw_size, (int, str)) and str(raw_size).isdigit() else None
    mime = info.get("mime_type") if isinstance(info.get("mime_type"), str) else None
    sha256 = info.get("sha256") if isinstance(info.get("sha256"), str) else None
    return info["url"], size, mime or None, sha256


def _media(download: Download, preferred_type: str | None) -> Media:
    """WhatsApp's own MIME type (e.g. `audio/ogg; codecs=opus`) is more precise than the CDN's header."""
    content_type = preferred_type or download.content_type or "application/octet-stream"
    return Media(data=download.data, content_type=content_type)
