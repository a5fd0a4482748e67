"""The three provider gateways against the provider simulator over real HTTP: credentials, media, limits, errors."""
from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

import aiohttp
import attrs
import pytest
from yarl import URL

from commsinbox.adapters.providers.meta_instagram.gateway import MetaInstagramGateway
from commsinbox.adapters.providers.meta_whatsapp.gateway import MetaWhatsAppGateway
from commsinbox.adapters.providers.registry import GatewayRegistry, ProviderNotSupported, http_gateways
from commsinbox.adapters.providers.twilio_whatsapp.gateway import TwilioWhatsAppGateway
from commsinbox.domain.model.channels import MessageType, Provider
from commsinbox.domain.model.inbound import MediaRef
from commsinbox.ports.providers import AccountAccess, CredentialsRejected, MediaTooLarge, ProviderError
from tests.integration.http.conftest import Sim, closed_port_url

pytestmark = pytest.mark.integration

MB = 1024 * 1024
JPEG = b"\xff\xd8\xff\xe0" + os.urandom(50_000)


def _with_token(access: AccountAccess, **credentials: str) -> AccountAccess:
    return attrs.evolve(access, credentials={**access.credentials, **credentials})


# WhatsApp Cloud API -------------------------------------------------------------------------------------------------
async def test_whatsapp_verify_accepts_the_numbers_token(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    await gateway.verify(access)
    (request,) = await sim.requests("/v23.0/")
    assert request["path"] == f"/v23.0/{access.external_id}"
    assert request["query"]["fields"] == "id,display_phone_number"
    assert request["headers"]["Authorization"] == "Bearer"  # recorded with the scheme only


async def test_whatsapp_verify_rejects_a_bad_token_without_echoing_it(whatsapp: Any) -> None:
    gateway, access = whatsapp
    with pytest.raises(CredentialsRejected) as caught:
        await gateway.verify(_with_token(access, accessToken="EAAwrong-token-value"))
    assert caught.value.code == "190" and not caught.value.transient
    assert "whatsapp-meta" in str(caught.value) and "190" in str(caught.value)
    assert "EAAwrong-token-value" not in str(caught.value)


async def test_whatsapp_verify_with_another_accounts_token_is_permanent_not_credentials(sim: Sim, whatsapp: Any,
                                                                                    ) -> None:
    gateway, access = whatsapp
    other = await sim.control("accounts", {"provider": "whatsapp-meta"})
    with pytest.raises(ProviderError) as caught:
        await gateway.verify(_with_token(access, accessToken=other["accessToken"]))
    assert not isinstance(caught.value, CredentialsRejected)
    assert caught.value.code == "100" and not caught.value.transient


async def test_whatsapp_fetch_media_resolves_the_id_then_downloads_with_the_bearer(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    media = await sim.media(JPEG)
    ref = MediaRef(kind=MessageType.IMAGE, media_id=media["id"], sha256=media["sha256Base64"])
    got = await gateway.fetch_media(access, ref, max_bytes=MB)
    assert got.data == JPEG and got.content_type == "image/jpeg"
    paths = [(r["path"], r["headers"].get("Authorization")) for r in await sim.requests()]
    assert paths == [(f"/v23.0/{media['id']}", "Bearer"), (f"/media-download/{media['id']}", "Bearer")]


async def test_whatsapp_fetch_media_uses_a_webhook_url_directly(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    media = await sim.media(JPEG)
    ref = MediaRef(kind=MessageType.IMAGE, media_id=media["id"], url=media["urls"]["download"],
                   content_type="image/jpeg")
    assert (await gateway.fetch_media(access, ref, max_bytes=MB)).data == JPEG
    assert [r["path"] for r in await sim.requests()] == [f"/media-download/{media['id']}"]


async def test_whatsapp_falls_back_to_the_media_id_when_the_webhook_url_fails(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    media = await sim.media(JPEG)
    ref = MediaRef(kind=MessageType.IMAGE, media_id=media["id"], url=f"{sim.base}/media-download/expired")
    assert (await gateway.fetch_media(access, ref, max_bytes=MB)).data == JPEG
    assert [r["path"] for r in await sim.requests()] == [
        "/media-download/expired", f"/v23.0/{media['id']}", f"/media-download/{media['id']}"]


async def test_whatsapp_never_sends_the_token_to_a_foreign_webhook_url(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    media = await sim.media(JPEG)
    ref = MediaRef(kind=MessageType.IMAGE, media_id=media["id"], url=f"{closed_port_url()}/steal")
    assert (await gateway.fetch_media(access, ref, max_bytes=MB)).data == JPEG  # went through Graph instead


async def test_whatsapp_refuses_a_blob_over_the_limit_before_downloading(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    media = await sim.media(os.urandom(2 * MB))
    with pytest.raises(MediaTooLarge) as caught:
        await gateway.fetch_media(access, MediaRef(kind=MessageType.DOCUMENT, media_id=media["id"]), max_bytes=MB)
    assert caught.value.size == 2 * MB and caught.value.limit == MB
    assert not [r for r in await sim.requests("/media-download/")]  # Graph's file_size was enough


async def test_whatsapp_stops_a_streamed_blob_at_the_limit(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    media = await sim.media(os.urandom(2 * MB), chunked=True)
    ref = MediaRef(kind=MessageType.DOCUMENT, media_id=media["id"], url=media["urls"]["download"])
    with pytest.raises(MediaTooLarge) as caught:  # no Content-Length: counted while streaming
        await gateway.fetch_media(access, ref, max_bytes=MB)
    assert caught.value.size is None


async def test_whatsapp_checks_the_sha256_graph_announces(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    media = await sim.media(JPEG, sha256=hashlib.sha256(b"something else").hexdigest())
    with pytest.raises(ProviderError, match="checksum") as caught:
        await gateway.fetch_media(access, MediaRef(kind=MessageType.IMAGE, media_id=media["id"]), max_bytes=MB)
    assert not caught.value.transient and not isinstance(caught.value, MediaTooLarge)


async def test_whatsapp_checks_the_sha256_of_the_webhook(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    media = await sim.media(JPEG)
    wrong = base64.b64encode(hashlib.sha256(b"tampered").digest()).decode()
    with pytest.raises(ProviderError, match="checksum"):
        await gateway.fetch_media(access, MediaRef(kind=MessageType.IMAGE, media_id=media["id"], sha256=wrong),
                                  max_bytes=MB)


@pytest.mark.parametrize("status, body", [
    (503, None), (500, {"error": {"code": 131000, "message": "Something went wrong"}}),
    (429, None), (400, {"error": {"code": 130429, "message": "Rate limit hit", "error_subcode": 2494055}}),
])
async def test_whatsapp_outages_and_throttling_are_transient(sim: Sim, whatsapp: Any, status: int, body: Any) -> None:
    gateway, access = whatsapp
    await sim.fault("/v23.0/", status, body=body)
    with pytest.raises(ProviderError) as caught:
        await gateway.verify(access)
    assert caught.value.transient and not isinstance(caught.value, CredentialsRejected)
    await gateway.verify(access)  # the fault was used up: the next call goes through


async def test_whatsapp_other_graph_errors_are_permanent(sim: Sim, whatsapp: Any) -> None:
    gateway, access = whatsapp
    await sim.fault("/v23.0/", 500, body={"error": {"code": 131009, "message": "Parameter value is not valid"}})
    with pytest.raises(ProviderError) as caught:
        await gateway.verify(access)
    assert not caught.value.transient and caught.value.code == "131009"


async def test_an_unreachable_provider_is_transient(sim: Sim, whatsapp: Any) -> None:
    _, access = whatsapp
    gateway = MetaWhatsAppGateway(sim.session, base_url=closed_port_url())
    with pytest.raises(ProviderError) as caught:
        await gateway.verify(access)
    assert caught.value.transient and "network error" in str(caught.value)


async def test_a_provider_that_stalls_past_the_timeout_is_transient(sim: Sim, whatsapp: Any) -> None:
    _, access = whatsapp
    gateway = MetaWhatsAppGateway(sim.session, base_url=sim.base, timeout=aiohttp.ClientTimeout(total=0.2))
    await sim.control("faults", {"path_prefix": "/v23.0/", "status": 200, "delaySeconds": 1})
    with pytest.raises(ProviderError) as caught:
        await gateway.verify(access)
    assert caught.value.transient and "timed out" in str(caught.value)


# Instagram ---------------------------------------------------------------------------------------------------------
async def test_instagram_verify(sim: Sim, instagram: Any) -> None:
    gateway, access = instagram
    await gateway.verify(access)
    (request,) = await sim.requests("/v23.0/")
    assert request["query"]["fields"] == "id,username"
    with pytest.raises(CredentialsRejected):
        await gateway.verify(_with_token(access, accessToken="IGwrong"))


async def test_instagram_fetches_the_cdn_url_without_credentials(sim: Sim, instagram: Any) -> None:
    gateway, access = instagram
    media = await sim.media(JPEG)
    got = await gateway.fetch_media(access, MediaRef(kind=MessageType.IMAGE, url=media["urls"]["instagram"]), MB)
    assert got.data == JPEG and got.content_type == "image/jpeg"
    (request,) = await sim.requests("/ig-cdn/")
    assert "Authorization" not in request["headers"]


async def test_instagram_expired_cdn_url_is_permanent_not_credentials(sim: Sim, instagram: Any) -> None:
    gateway, access = instagram
    media = await sim.media(JPEG)
    expired = media["urls"]["instagram"].split("?")[0] + "?sig=expired"
    with pytest.raises(ProviderError) as caught:
        await gateway.fetch_media(access, MediaRef(kind=MessageType.IMAGE, url=expired), MB)
    assert not isinstance(caught.value, CredentialsRejected) and not caught.value.transient
    assert "expired" not in str(caught.value)  # query strings (signatures) stay out of messages


async def test_instagram_refuses_by_content_length(sim: Sim, instagram: Any) -> None:
    gateway, access = instagram
    media = await sim.media(os.urandom(2 * MB), "video/mp4")
    with pytest.raises(MediaTooLarge) as caught:
        await gateway.fetch_media(access, MediaRef(kind=MessageType.VIDEO, url=media["urls"]["instagram"]), MB)
    assert caught.value.size == 2 * MB


async def test_instagram_view_once_media_has_no_url(instagram: Any) -> None:
    gateway, access = instagram
    with pytest.raises(ProviderError, match="no URL"):
        await gateway.fetch_media(access, MediaRef(kind=MessageType.UNSUPPORTED), MB)


# Twilio ------------------------------------------------------------------------------------------------------------
async def test_twilio_verify_with_basic_auth(sim: Sim, twilio: Any) -> None:
    gateway, access = twilio
    await gateway.verify(access)
    (request,) = await sim.requests("/2010-04-01/")
    assert request["path"] == f"/2010-04-01/Accounts/{access.credentials['accountSid']}.json"
    assert request["headers"]["Authorization"] == "Basic"


async def test_twilio_verify_rejects_a_bad_token(twilio: Any) -> None:
    gateway, access = twilio
    with pytest.raises(CredentialsRejected) as caught:
        await gateway.verify(_with_token(access, authToken="not-the-token"))
    assert caught.value.code == "20003" and "whatsapp-twilio" in str(caught.value)
    assert "not-the-token" not in str(caught.value)


async def test_twilio_verify_checks_the_sender_and_the_sid_format(sim: Sim, twilio: Any) -> None:
    gateway, access = twilio
    with pytest.raises(ProviderError, match="E.164"):
        await gateway.verify(attrs.evolve(access, external_id="14155238886"))
    with pytest.raises(CredentialsRejected, match="Account SID"):
        await gateway.verify(_with_token(access, accountSid="SKnot-an-account"))
    assert await sim.requests() == []  # neither reached Twilio


async def test_twilio_fetch_media_follows_the_cdn_redirect(sim: Sim, twilio: Any) -> None:
    gateway, access = twilio
    media = await sim.media(JPEG, accountSid=access.credentials["accountSid"])
    ref = MediaRef(kind=MessageType.IMAGE, url=media["urls"]["twilio"], content_type="image/jpeg")
    got = await gateway.fetch_media(access, ref, max_bytes=MB)
    assert got.data == JPEG and got.content_type == "image/jpeg"
    stored = sim.state.media[media["id"]]
    requests = await sim.requests()
    assert [r["path"] for r in requests] == [URL(media["urls"]["twilio"]).path,
                                             f"/twilio-cdn/{stored.cdn_key}/{stored.twilio_sid}"]
    assert requests[0]["headers"]["Authorization"] == "Basic"


async def test_twilio_streamed_media_over_the_limit(sim: Sim, twilio: Any) -> None:
    gateway, access = twilio
    media = await sim.media(os.urandom(2 * MB), "video/mp4", chunked=True, accountSid=access.credentials["accountSid"])
    with pytest.raises(MediaTooLarge):
        await gateway.fetch_media(access, MediaRef(kind=MessageType.VIDEO, url=media["urls"]["twilio"]), MB)


async def test_twilio_keeps_credentials_off_foreign_hosts(twilio: Any) -> None:
    gateway, access = twilio
    with pytest.raises(ProviderError, match="not on the Twilio API host"):
        await gateway.fetch_media(access, MediaRef(kind=MessageType.IMAGE, url="https://example.com/x.jpg"), MB)


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_twilio_throttling_and_outages_are_transient(sim: Sim, twilio: Any, status: int) -> None:
    gateway, access = twilio
    await sim.fault("/2010-04-01/", status)
    with pytest.raises(ProviderError) as caught:
        await gateway.verify(access)
    assert caught.value.transient
    if status == 429:
        assert caught.value.code == "20429"


# Registry ----------------------------------------------------------------------------------------------------------
async def test_the_registry_serves_each_http_provider_and_names_the_missing_one(sim: Sim) -> None:
    registry = http_gateways(sim.session, twilio_base_url=sim.base, graph_base_url=sim.base)
    assert isinstance(registry.gateway(Provider.WHATSAPP_META), MetaWhatsAppGateway)
    assert isinstance(registry.gateway(Provider.INSTAGRAM_META), MetaInstagramGateway)
    assert isinstance(registry.gateway(Provider.WHATSAPP_TWILIO), TwilioWhatsAppGateway)
    with pytest.raises(ProviderNotSupported, match="whatsapp-baileys") as caught:
        registry.gateway(Provider.WHATSAPP_BAILEYS)
    assert isinstance(caught.value, ProviderError) and not caught.value.transient
    with pytest.raises(ValueError, match="says it serves"):
        GatewayRegistry({Provider.WHATSAPP_TWILIO: MetaWhatsAppGateway(sim.session)})
