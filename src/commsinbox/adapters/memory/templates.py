"""In-memory message templates, team-scoped as RLS makes them in PostgreSQL."""
from __future__ import annotations

import attrs

from ...domain.model.errors import Conflict
from ...domain.model.templates import Template
from .messaging import _Scoped

TABLE = "message_templates"


@attrs.define
class _Row:
    team_id: str
    template: Template


class MemoryTemplateRepository(_Scoped):
    def _mine(self) -> list[Template]:
        return [attrs.evolve(r.template) for r in self.tx.rows(TABLE).values() if r.team_id == self.team_id]

    def _check_unique(self, template: Template) -> None:
        if any(t.id != template.id and (t.account_id, t.name, t.language) ==
               (template.account_id, template.name, template.language) for t in self._mine()):
            raise Conflict(f"template {template.name!r} ({template.language}) already exists for this account")

    async def add(self, template: Template) -> None:
        self._check_unique(template)
        if (template.id,) in self.tx.rows(TABLE):
            raise Conflict(f"template {template.id} already exists")
        self.tx.put(TABLE, (template.id,), _Row(self.team_id, attrs.evolve(template)))

    async def get(self, id: str) -> Template | None:
        row = self.tx.rows(TABLE).get((id,))
        return attrs.evolve(row.template) if row is not None and row.team_id == self.team_id else None

    async def list(self, account_id: str | None = None) -> list[Template]:
        return sorted((t for t in self._mine() if account_id is None or t.account_id == account_id),
                      key=lambda t: (t.name, t.language, t.id))

    async def find(self, account_id: str, *, provider_template_id: str | None = None, name: str | None = None,
                   language: str | None = None) -> Template | None:
        mine = [t for t in self._mine() if t.account_id == account_id]
        found = next((t for t in mine if provider_template_id and t.provider_template_id == provider_template_id),
                     None)
        return found or next((t for t in mine if name and (t.name, t.language) == (name, language)), None)

    async def update(self, template: Template) -> bool:
        stored = await self.get(template.id)
        if stored is None or stored.version != template.version - 1:
            return False
        self._check_unique(template)
        self.tx.put(TABLE, (template.id,), _Row(self.team_id, attrs.evolve(template)))
        return True

    async def delete(self, id: str) -> bool:
        if await self.get(id) is None:
            return False
        return self.tx.pop(TABLE, (id,))
