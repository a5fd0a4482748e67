"""A thin tRPC caller for tests: speaks the wire protocol with superjson, like the official client."""
from __future__ import annotations

import json
from typing import Any

import attrs
from aiohttp.test_utils import TestClient

from commsinbox.entrypoints.web import superjson


@attrs.frozen
class Reply:
    status: int
    body: Any

    @property
    def data(self) -> Any:
        assert "result" in self.body, f"expected a result, got {self.body}"
        return superjson.deserialize(self.body["result"]["data"])

    @property
    def error(self) -> dict[str, Any]:
        assert "error" in self.body, f"expected an error, got {self.body}"
        return superjson.deserialize(self.body["error"])

    @property
    def code(self) -> str:
        return self.error["data"]["code"]


@attrs.define
class Api:
    client: TestClient
    token: str | None = None
    team_id: str | None = None

    def as_(self, token: str | None, team_id: str | None = None) -> Api:
        return Api(self.client, token, team_id)

    def _headers(self) -> dict[str, str]:
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.team_id:
            headers["x-team-id"] = self.team_id
        return headers

    async def query(self, path: str, input: Any = None) -> Reply:
        params = {"input": json.dumps(superjson.serialize(input))} if input is not None else {}
        response = await self.client.get(f"/trpc/{path}", params=params, headers=self._headers())
        return Reply(response.status, await response.json())

    async def mutate(self, path: str, input: Any = None) -> Reply:
        response = await self.client.post(f"/trpc/{path}", json=superjson.serialize(input),
                                          headers=self._headers())
        return Reply(response.status, await response.json())

    async def login(self, email: str, password: str) -> Api:
        reply = await self.mutate("auth.login", {"email": email, "password": password})
        assert reply.status == 200, reply.body
        return self.as_(reply.data["token"])
