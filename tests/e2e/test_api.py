"""The API over HTTP (tRPC wire protocol) on both adapters: auth, team guard, bad input, isolation."""
from __future__ import annotations

import base64
from typing import Any

import pytest

from commsinbox.domain.model.values import Role
from commsinbox.entrypoints.container import Services
from commsinbox.entrypoints.web.app import PROCEDURES
from tests.conftest import make_team
from tests.support.api import Api
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
async def api(services: Services, api_for) -> Api:  # type: ignore[no-untyped-def]
    return await api_for(services)


async def signed_in(api: Api, services: Services, role: Role = Role.OWNER) -> tuple[Api, str]:
    member = await make_team(services, role)
    return (await api.login(member.email, PASSWORD)).as_(None, None).__class__(
        api.client, (await api.login(member.email, PASSWORD)).token, member.team_id), member.team_id


async def test_login_whoami_and_cookie_session(api: Api, services: Services) -> None:
    member = await make_team(services)
    response = await api.client.post("/trpc/auth.login", json={"json": {"email": member.email, "password": PASSWORD}})
    assert response.status == 200
    cookie = response.cookies["commsinbox_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    who = await api.client.get("/trpc/auth.whoami")  # the cookie jar sends the session cookie
    body = await who.json()
    assert body["result"]["data"]["json"]["user"]["email"] == member.email
    assert body["result"]["data"]["json"]["team"] == {"id": member.team_id, "name": body["result"]["data"]["json"][
        "teams"][0]["name"], "role": "owner"}
    await api.client.post("/trpc/auth.logout", json={"json": None})
    assert (await api.client.get("/trpc/auth.whoami")).status == 401


async def test_no_or_bad_credentials_are_unauthorized(api: Api) -> None:
    assert (await api.query("core.clients.list", {})).code == "UNAUTHORIZED"
    assert (await api.as_("ci_not-a-real-token").query("core.clients.list", {})).code == "UNAUTHORIZED"
    wrong = await api.mutate("auth.login", {"email": "nobody@example.com", "password": "whatever-it-is"})
    assert (wrong.status, wrong.code) == (401, "UNAUTHORIZED")


async def test_api_tokens_work_as_bearer(api: Api, services: Services) -> None:
    member = await make_team(services)
    session = await api.login(member.email, PASSWORD)
    created = (await session.mutate("auth.tokens.create", {"name": "zapier"})).data
    assert set(created) == {"id", "token"}
    assert (await api.as_(created["token"]).query("core.team.get")).data["id"] == member.team_id


async def test_bad_input_names_the_field_and_writes_nothing(api: Api, services: Services) -> None:
    member = await make_team(services)
    me = (await api.login(member.email, PASSWORD)).as_((await api.login(member.email, PASSWORD)).token,
                                                        member.team_id)
    wrong_type = await me.mutate("core.clients.create", {"name": 5})
    assert (wrong_type.status, wrong_type.code) == (400, "BAD_REQUEST")
    assert wrong_type.error["data"]["fields"] == [{"path": "name", "message": "invalid value for type, expected str"}]
    unknown_field = await me.mutate("core.clients.create", {"name": "Ana", "nickname": "A"})
    assert unknown_field.error["data"]["fields"] == [{"path": "nickname", "message": "is not a known field"}]
    bad_phone = await me.mutate("core.clients.create", {"name": "Ana", "phone": "12"})
    assert bad_phone.error["data"]["fields"][0]["path"] == "phone"
    bad_id = await me.query("core.clients.get", {"id": "42"})
    assert (bad_id.code, bad_id.error["data"]["fields"][0]["path"]) == ("BAD_REQUEST", "id")
    malformed = await me.client.post("/trpc/core.clients.create", data=b"{not json",
                                     headers={"Authorization": f"Bearer {me.token}", "Content-Type": "application/json"})
    assert malformed.status == 400
    assert (await me.query("core.clients.list", {})).data == {"items": []}


async def test_unknown_procedure_and_wrong_method(api: Api) -> None:
    missing = await api.query("core.nothing.here")
    assert (missing.status, missing.code) == (404, "NOT_FOUND")
    as_post = await api.mutate("core.clients.list", {})
    assert (as_post.status, as_post.code) == (405, "METHOD_NOT_SUPPORTED")
    as_get = await api.query("core.clients.create", {"name": "x"})
    assert (as_get.status, as_get.code) == (405, "METHOD_NOT_SUPPORTED")


async def test_duplicate_order_number_is_a_conflict(api: Api, services: Services) -> None:
    member = await make_team(services)
    me = api.as_((await api.login(member.email, PASSWORD)).token, member.team_id)
    first = await me.mutate("core.orders.create", {"number": "1001", "amount": "99.90", "currency": "BRL"})
    assert (first.data["number"], first.data["amount"], first.data["currency"]) == ("1001", "99.9", "BRL")
    again = await me.mutate("core.orders.create", {"number": "1001"})
    assert (again.status, again.code) == (409, "CONFLICT")
    assert len((await me.query("core.orders.list", {})).data["items"]) == 1


async def test_an_agent_is_forbidden_to_update_the_team(api: Api, services: Services) -> None:
    member = await make_team(services, Role.AGENT)
    me = api.as_((await api.login(member.email, PASSWORD)).token, member.team_id)
    refused = await me.mutate("core.team.update", {"name": "Mine now"})
    assert (refused.status, refused.code) == (403, "FORBIDDEN")
    assert (await me.query("core.team.get")).data["name"] != "Mine now"


async def test_the_reply_grace_is_a_team_setting(api: Api, services: Services) -> None:
    member = await make_team(services)
    me = api.as_((await api.login(member.email, PASSWORD)).token, member.team_id)
    assert (await me.query("core.team.get")).data["replyGraceMinutes"] == 30
    assert (await me.mutate("core.team.update", {"replyGraceMinutes": 0})).data["replyGraceMinutes"] == 0
    bad = await me.mutate("core.team.update", {"replyGraceMinutes": 1441, "name": "Renamed"})
    assert (bad.code, bad.error["data"]["fields"][0]["path"]) == ("BAD_REQUEST", "replyGraceMinutes")
    team = (await me.query("core.team.get")).data
    assert team["replyGraceMinutes"] == 0 and team["name"] != "Renamed"  # nothing changed


async def test_login_is_rate_limited(api: Api, services: Services) -> None:
    member = await make_team(services)
    for _ in range(10):
        await api.mutate("auth.login", {"email": member.email, "password": "wrong password!"})
    limited = await api.mutate("auth.login", {"email": member.email, "password": PASSWORD})
    assert (limited.status, limited.code) == (429, "TOO_MANY_REQUESTS")
    assert limited.error["data"]["retryAfter"] > 0


def core_calls(record: dict[str, str]) -> dict[str, tuple[str, Any]]:
    """One call per core procedure, aimed at team B's records (kind, input)."""
    calls: dict[str, tuple[str, Any]] = {
        "core.team.get": ("query", None),
        "core.team.update": ("mutation", {"name": "Taken over"}),
        "core.team.members.list": ("query", None),
        "core.team.members.invite": ("mutation", {"email": "intruder@example.com", "role": "owner"}),
        "core.team.members.setRole": ("mutation", {"userId": record["user"], "role": "agent"}),
        "core.team.members.remove": ("mutation", {"userId": record["user"]}),
        "core.clients.list": ("query", {}),
        "core.clients.get": ("query", {"id": record["client"]}),
        "core.clients.create": ("mutation", {"name": "Planted"}),
        "core.clients.update": ("mutation", {"id": record["client"], "name": "Changed"}),
        "core.clients.delete": ("mutation", {"id": record["client"]}),
        "core.vault.list": ("query", {}),
        "core.vault.upload": ("mutation", {"path": "planted.txt", "contentBase64": "eA==", "contentType": "text/plain"}),
        "core.vault.download": ("query", {"path": "secret.txt"}),
        "core.transactions.attachFile": ("mutation", {"id": record["transaction"], "path": "secret.txt"}),
        "core.transactions.files": ("query", {"id": record["transaction"]}),
        "core.audit.list": ("query", {}),
        "core.audit.verify": ("query", None),
    }
    for kind in ("order", "invoice", "transaction", "measurement"):
        calls[f"core.{kind}s.list"] = ("query", {})
        calls[f"core.{kind}s.get"] = ("query", {"id": record[kind]})
        calls[f"core.{kind}s.create"] = ("mutation", {"number": "X", "amount": "1", "currency": "USD",
                                                      "clientId": record["client"], "name": "n"})
    return calls


async def seed_team_b(api: Api, services: Services) -> tuple[Api, dict[str, str]]:
    member = await make_team(services)
    b = api.as_((await api.login(member.email, PASSWORD)).token, member.team_id)
    record = {"user": member.user_id, "team": member.team_id,
              "client": (await b.mutate("core.clients.create", {"name": "Secret client"})).data["id"]}
    for kind, extra in (("order", {"number": "B-1"}), ("invoice", {"number": "B-1"}),
                        ("transaction", {"amount": "5", "currency": "USD"}),
                        ("measurement", {"clientId": record["client"], "name": "h", "amount": "1"})):
        record[kind] = (await b.mutate(f"core.{kind}s.create", extra)).data["id"]
    await b.mutate("core.vault.upload", {"path": "secret.txt", "contentBase64": base64.b64encode(b"s").decode(),
                                         "contentType": "text/plain"})
    return b, record


async def test_every_core_procedure_refuses_another_teams_data(api: Api, services: Services) -> None:
    b, record = await seed_team_b(api, services)
    member_a = await make_team(services)
    a_token = (await api.login(member_a.email, PASSWORD)).token
    calls = core_calls(record)
    assert set(calls) == {p for p in PROCEDURES if p.startswith("core.")}, "add new core procedures to the probe"
    for path, (kind, payload) in calls.items():
        foreign_team = api.as_(a_token, record["team"])
        reply = await (foreign_team.query if kind == "query" else foreign_team.mutate)(path, payload)
        assert reply.code == "NOT_FOUND", (path, reply.body)
        if payload and any(v in payload.values() for v in record.values()):
            own_team = api.as_(a_token, member_a.team_id)
            reply = await (own_team.query if kind == "query" else own_team.mutate)(path, payload)
            assert reply.code in ("NOT_FOUND", "FORBIDDEN"), (path, reply.body)
    assert (await b.query("core.clients.get", {"id": record["client"]})).data["name"] == "Secret client"
    assert (await b.query("core.team.get")).data["name"] != "Taken over"
    assert len((await b.query("core.team.members.list")).data) == 1
    assert len((await b.query("core.orders.list", {})).data["items"]) == 1
    assert [f["path"] for f in (await b.query("core.vault.list", {})).data["items"]] == ["secret.txt"]


async def test_dates_travel_as_superjson_dates(api: Api, services: Services) -> None:
    member = await make_team(services)
    me = api.as_((await api.login(member.email, PASSWORD)).token, member.team_id)
    raw = await me.client.post("/trpc/core.clients.create", json={"json": {"name": "Ana"}},
                               headers={"Authorization": f"Bearer {me.token}", "x-team-id": member.team_id})
    body = await raw.json()
    assert body["result"]["data"]["meta"]["values"]["createdAt"] == ["Date"]
    assert body["result"]["data"]["json"]["createdAt"].endswith("Z")


async def test_x_team_id_must_be_a_uuid(api: Api, services: Services) -> None:
    member = await make_team(services)
    reply = await api.as_((await api.login(member.email, PASSWORD)).token, "team-1").query("core.team.get")
    assert (reply.code, reply.error["data"]["fields"][0]["path"]) == ("BAD_REQUEST", "x-team-id")


def inbox_calls(record: dict[str, str]) -> dict[str, tuple[str, Any]]:
    """One call per communications.threads/labels procedure, aimed at team B's thread and label."""
    thread, label, user = record["thread"], record["label"], record["user"]
    link = {"id": thread, "recordType": "client", "recordId": record["client"]}
    return {
        "communications.threads.list": ("query", {}),
        "communications.threads.get": ("query", {"id": thread}),
        "communications.threads.assign": ("mutation", {"id": thread, "userId": user}),
        "communications.threads.unassign": ("mutation", {"id": thread}),
        "communications.threads.setStatus": ("mutation", {"id": thread, "status": "resolved"}),
        "communications.threads.markRead": ("mutation", {"id": thread}),
        "communications.threads.link": ("mutation", link),
        "communications.threads.unlink": ("mutation", link),
        "communications.labels.list": ("query", None),
        "communications.labels.create": ("mutation", {"name": "Planted"}),
        "communications.labels.update": ("mutation", {"id": label, "name": "Changed"}),
        "communications.labels.delete": ("mutation", {"id": label}),
        "communications.labels.apply": ("mutation", {"id": label, "threadId": thread}),
        "communications.labels.remove": ("mutation", {"id": label, "threadId": thread}),
    }


async def test_every_inbox_procedure_refuses_another_teams_data(api: Api, services: Services) -> None:
    from tests.contracts.test_ingest import connect, text

    b, record = await seed_team_b(api, services)
    member_b = await services.access.resolve(record["user"], record["team"])  # type: ignore[arg-type]
    await services.ingest.ingest([text(await connect(services, _member(member_b)))])
    [thread] = (await b.query("communications.threads.list", {})).data["items"]
    record["thread"] = thread["id"]
    record["label"] = (await b.mutate("communications.labels.create", {"name": "Secret"})).data["id"]
    member_a = await make_team(services)
    a_token = (await api.login(member_a.email, PASSWORD)).token
    calls = inbox_calls(record)
    wanted = {p for p in PROCEDURES if p.startswith(("communications.threads.", "communications.labels."))}
    assert set(calls) == wanted, "add new inbox procedures to the probe"
    for path, (kind, payload) in calls.items():
        foreign_team = api.as_(a_token, record["team"])
        reply = await (foreign_team.query if kind == "query" else foreign_team.mutate)(path, payload)
        assert reply.code == "NOT_FOUND", (path, reply.body)
        if payload and any(v in payload.values() for v in (record["thread"], record["label"])):
            own = dict(payload, userId=member_a.user_id) if "userId" in payload else payload
            own_team = api.as_(a_token, member_a.team_id)
            reply = await (own_team.query if kind == "query" else own_team.mutate)(path, own)
            assert reply.code == "NOT_FOUND", (path, reply.body)
    still = (await b.query("communications.threads.get", {"id": record["thread"]})).data
    assert still["status"] == "open" and still["unreadCount"] == 1 and still["labels"] == []
    assert still["contact"]["phone"] == "+5511987654321" and "assigneeId" not in still
    assert (await b.query("communications.labels.list")).data == [{"id": record["label"], "name": "Secret"}]


async def test_an_agent_works_a_thread_over_the_api(api: Api, services: Services) -> None:
    from tests.contracts.test_ingest import connect, text

    me, team_id = await signed_in(api, services)
    member = await services.access.resolve((await me.query("auth.whoami")).data["user"]["id"], team_id)
    await services.ingest.ingest([text(await connect(services, _member(member)))])
    [thread] = (await me.query("communications.threads.list", {"status": "open", "unread": True})).data["items"]
    assert thread["unreadCount"] == 1 and thread["channel"] == "whatsapp"
    label = (await me.mutate("communications.labels.create", {"name": "VIP"})).data
    assert (await me.mutate("communications.labels.create", {"name": "vip"})).code == "CONFLICT"
    await me.mutate("communications.labels.apply", {"id": label["id"], "threadId": thread["id"]})
    snoozed = await me.mutate("communications.threads.setStatus", {"id": thread["id"], "status": "snoozed"})
    assert snoozed.code == "BAD_REQUEST"
    past = await me.mutate("communications.threads.setStatus", {
        "id": thread["id"], "status": "snoozed", "snoozedUntil": "2020-01-01T00:00:00+00:00"})
    assert past.code == "BAD_REQUEST" and past.error["data"]["fields"][0]["path"] == "snoozedUntil"
    stranger = await me.mutate("communications.threads.assign", {"id": thread["id"], "userId": team_id})
    assert stranger.code == "BAD_REQUEST" and stranger.error["data"]["fields"][0]["path"] == "userId"
    read = (await me.mutate("communications.threads.markRead", {"id": thread["id"]})).data
    assert read["unreadCount"] == 0 and read["labels"] == [label]
    listed = await me.query("communications.threads.list", {"labelIds": [label["id"]], "unread": False})
    assert [t["id"] for t in listed.data["items"]] == [thread["id"]]
    searched = await me.query("communications.threads.list", {"query": "HI"})
    assert [t["id"] for t in searched.data["items"]] == [thread["id"]]
    too_long = await me.query("communications.threads.list", {"query": "x" * 201})
    assert (too_long.code, too_long.error["data"]["fields"][0]["path"]) == ("BAD_REQUEST", "query")


def _member(actor: Any) -> Any:
    from tests.conftest import Member

    return Member("", actor.user_id, actor.team_id, actor)
