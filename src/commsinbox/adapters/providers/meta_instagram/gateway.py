"""Instagram Messaging gateway (Meta Graph): check an account's token and fetch attachment media.

* verify: `GET /{version}/{ig_id}?fields=id,username` with `Authorization: Bearer <token>`.
* fetch_media: a plain GET of the attachment URL from the webhook. Those CDN URLs are pre-signed, so no token is
  sent (a 401/403 there means the URL expired, not that the credentials are bad). View-once media has no URL.
"""
from __future__ import annotations

from urllib.parse import quote

import aiohttp
from yarl import URL

from ....domain.model.channels import Provider
from ....domain.model.inbound import MediaRef
from ....ports.providers import AccountAccess, Media, ProviderError
from ..http import DEFAULT_TIMEOUT, ProviderHttp, read_graph_error
from ..meta_whatsapp.gateway import access_token, graph_id

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
                                          headers={"Authorization": f"Bearer {token}"}, secrets=(token,))
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
