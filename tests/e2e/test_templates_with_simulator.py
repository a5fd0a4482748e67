"""Templates end to end over HTTP: the API, the provider simulator's Graph and Twilio APIs, and Meta's signed
`message_template_status_update` webhook coming back."""
from __future__ import annotations

import json
from typing import Any

import pytest

from commsinbox.entrypoints.web.background import drain
from tests.e2e.test_with_simulator import World, sent_by_the_job, world  # noqa: F401 — the fixture

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


async def customer_thread(world: World, provider: str, external_id: str) -> dict[str, Any]:
    await world.sim_post("/_sim/inbound", {"provider": provider, "to": external_id, "text": "Where is my order?"})
    await drain(world.app)
    [thread] = (await world.api.query("communications.threads.list", {})).data["items"]
    return thread  # type: ignore[no-any-return]


async def sent_requests(world: World) -> list[dict[str, Any]]:
    requests = (await (await world.sim.get("/_sim/requests", params={"method": "POST"})).json())["requests"]
    return [r for r in requests if r["path"].endswith(("/messages", "/Messages.json"))]


async def test_a_meta_template_is_submitted_approved_by_webhook_and_sent_with_its_parameters(world: World) -> None:
    sim_account = await world.sim_post("/_sim/accounts", {"provider": "whatsapp-meta", "wabaId": "102290129340398"})
    account = (await world.api.mutate("communications.accounts.connect", {
        "provider": "whatsapp-meta", "displayName": "Shop", "externalId": sim_account["phoneNumberId"],
        "credentials": {"accessToken": sim_account["accessToken"], "appSecret": sim_account["appSecret"],
                        "wabaId": "102290129340398"}})).data
    created = await world.api.mutate("communications.templates.create", {
        "accountId": account["id"], "name": "order_shipped", "language": "en_US", "category": "utility",
        "body": "Hi {{1}}, your order {{2}} has shipped"})
    assert created.status == 200, created.body
    assert (created.data["status"], created.data["variables"]) == ("draft", 2)
    submitted = (await world.api.mutate("communications.templates.submit", {"id": created.data["id"]})).data
    assert submitted["status"] == "pending"
    [sim_template] = (await (await world.sim.get("/_sim/templates")).json())["templates"]
    assert (sim_template["id"], sim_template["status"], sim_template["variables"]) == (
        submitted["providerTemplateId"], "PENDING", 2)

    thread = await customer_thread(world, "whatsapp-meta", sim_account["phoneNumberId"])
    blocked = await world.api.mutate("communications.messages.send", {
        "threadId": thread["id"], "idempotencyKey": "t-0",
        "template": {"id": created.data["id"], "variables": ["Ana", "#1042"]}})
    assert (blocked.code, blocked.error["data"]["reason"]) == ("PRECONDITION_FAILED", "template_not_approved")

    verdict = await world.sim_post("/_sim/templates/status", {"id": sim_template["id"], "status": "REJECTED",
                                                              "reason": "INVALID_FORMAT"})
    assert verdict["delivered"] and verdict["httpStatus"] == 200, verdict
    await drain(world.app)
    rejected = (await world.api.query("communications.templates.get", {"id": created.data["id"]})).data
    assert (rejected["status"], rejected["rejectionReason"]) == ("rejected", "INVALID_FORMAT")
    await world.sim_post("/_sim/templates/status", {"id": sim_template["id"], "status": "APPROVED"})
    await drain(world.app)
    [listed] = (await world.api.query("communications.templates.list", {"accountId": account["id"]})).data
    assert (listed["status"], listed.get("rejectionReason")) == ("approved", None)

    mismatch = await world.api.mutate("communications.messages.send", {
        "threadId": thread["id"], "idempotencyKey": "t-1", "template": {"id": created.data["id"], "variables": ["Ana"]}})
    assert (mismatch.code, mismatch.error["data"]["reason"]) == ("PRECONDITION_FAILED", "template_variables_mismatch")
    sent = await world.api.mutate("communications.messages.send", {
        "threadId": thread["id"], "idempotencyKey": "t-2",
        "template": {"id": created.data["id"], "variables": ["Ana", "#1042"]}})
    assert sent.status == 200, sent.body
    assert sent.data["message"]["content"] == "Hi Ana, your order #1042 has shipped"
    await sent_by_the_job(world, thread["id"], sent.data["message"]["id"])
    [request] = await sent_requests(world)
    assert request["json"]["type"] == "template"
    assert request["json"]["template"] == {"name": "order_shipped", "language": {"code": "en_US"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#1042"}]}]}
    message = (await world.api.query("communications.messages.list", {"threadId": thread["id"]})).data["items"][0]
    assert message["providerMessageId"] and message["template"]["name"] == "order_shipped"


async def test_a_twilio_content_template_goes_by_its_content_sid_and_variables(world: World) -> None:
    sim_account = await world.sim_post("/_sim/accounts", {"provider": "whatsapp-twilio", "senders": ["+14155238886"]})
    content = await world.sim_post("/_sim/templates", {"provider": "whatsapp-twilio", "variables": 2,
                                                       "accountSid": sim_account["accountSid"]})
    account = (await world.api.mutate("communications.accounts.connect", {
        "provider": "whatsapp-twilio", "displayName": "Shop", "externalId": "+14155238886",
        "credentials": {"accountSid": sim_account["accountSid"], "authToken": sim_account["authToken"]}})).data
    created = await world.api.mutate("communications.templates.create", {
        "accountId": account["id"], "name": "appointment", "language": "en", "body": "See you {{1}} at {{2}}",
        "providerTemplateId": content["id"]})
    assert created.status == 200, created.body
    registered = (await world.api.mutate("communications.templates.submit", {"id": created.data["id"]})).data
    assert (registered["status"], registered["providerTemplateId"]) == ("approved", content["id"])

    thread = await customer_thread(world, "whatsapp-twilio", "+14155238886")
    sent = await world.api.mutate("communications.messages.send", {
        "threadId": thread["id"], "idempotencyKey": "tw-1",
        "template": {"id": created.data["id"], "variables": ["Friday", "3pm"]}})
    assert sent.status == 200, sent.body
    await sent_by_the_job(world, thread["id"], sent.data["message"]["id"])
    [request] = await sent_requests(world)
    form = dict(request["form"])
    assert form["ContentSid"] == content["id"] and "Body" not in form
    assert json.loads(form["ContentVariables"]) == {"1": "Friday", "2": "3pm"}


async def test_templates_are_refused_where_the_provider_has_none(world: World) -> None:
    sim_account = await world.sim_post("/_sim/accounts", {"provider": "instagram-meta"})
    account = (await world.api.mutate("communications.accounts.connect", {
        "provider": "instagram-meta", "displayName": "IG", "externalId": sim_account["igId"],
        "credentials": {"accessToken": sim_account["accessToken"], "appSecret": sim_account["appSecret"]}})).data
    refused = await world.api.mutate("communications.templates.create", {
        "accountId": account["id"], "name": "hello", "language": "en", "body": "Hi"})
    assert (refused.code, refused.error["data"]["fields"][0]["path"]) == ("BAD_REQUEST", "accountId")
    missing = await world.api.mutate("communications.templates.submit", {"id": "7d1f7c3e-7a4e-4c55-9d5e-0e7f3a1b2c3d"})
    assert missing.code == "NOT_FOUND"


async def test_a_stored_photo_is_uploaded_and_sent_back_and_a_refused_type_is_a_bad_request(world: World) -> None:
    sim_account = await world.sim_post("/_sim/accounts", {"provider": "whatsapp-meta"})
    await world.api.mutate("communications.accounts.connect", {
        "provider": "whatsapp-meta", "displayName": "Shop", "externalId": sim_account["phoneNumberId"],
        "credentials": {"accessToken": sim_account["accessToken"], "appSecret": sim_account["appSecret"]}})
    photo = await world.sim_post("/_sim/media", {"contentBase64": "aGVsbG8gcGljdHVyZQ==", "contentType": "image/jpeg"})
    gif = await world.sim_post("/_sim/media", {"contentBase64": "R0lGODlhAQABAAAAACw=", "contentType": "image/gif"})
    await world.sim_post("/_sim/inbound", {"provider": "whatsapp-meta", "to": sim_account["phoneNumberId"],
                                           "media": [photo["id"]]})
    await world.sim_post("/_sim/inbound", {"provider": "whatsapp-meta", "to": sim_account["phoneNumberId"],
                                           "media": [gif["id"]]})
    await drain(world.app)
    [thread] = (await world.api.query("communications.threads.list", {})).data["items"]
    received = (await world.api.query("communications.messages.list", {"threadId": thread["id"]})).data["items"]
    attachments = {a["contentType"]: a["id"] for m in received for a in m["attachments"] if a["storagePath"]}

    refused = await world.api.mutate("communications.messages.send", {
        "threadId": thread["id"], "idempotencyKey": "gif", "attachmentIds": [attachments["image/gif"]]})
    assert (refused.code, refused.error["data"]["fields"][0]["path"]) == ("BAD_REQUEST", "attachmentIds")
    sent = await world.api.mutate("communications.messages.send", {
        "threadId": thread["id"], "idempotencyKey": "photo", "text": "This one?",
        "attachmentIds": [attachments["image/jpeg"]]})
    assert sent.status == 200, sent.body
    assert (sent.data["message"]["type"], sent.data["message"]["content"]) == ("image", "This one?")
    await sent_by_the_job(world, thread["id"], sent.data["message"]["id"])
    requests = (await (await world.sim.get("/_sim/requests", params={"method": "POST"})).json())["requests"]
    uploads = [r for r in requests if r["path"].endswith("/media")]
    [message] = await sent_requests(world)
    assert len(uploads) == 1 and message["json"]["type"] == "image"
    assert message["json"]["image"]["caption"] == "This one?" and message["json"]["image"]["id"]
    newest = (await world.api.query("communications.messages.list", {"threadId": thread["id"]})).data["items"][0]
    assert [a["id"] for a in newest["attachments"]] == [attachments["image/jpeg"]]  # the file it was sent from
