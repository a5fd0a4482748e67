"""PostgreSQL message templates, under RLS."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...domain.model.templates import Template, TemplateCategory, TemplateStatus
from .messaging import _Scoped
from .repositories import _write
from .schema import message_templates as t


def _row_to_template(r: Any) -> Template:
    return Template(id=r.id, account_id=r.account_id, name=r.name, language=r.language,
                    category=TemplateCategory(r.category), body=r.body, status=TemplateStatus(r.status),
                    created_at=r.created_at, updated_at=r.updated_at, provider_template_id=r.provider_template_id,
                    rejection_reason=r.rejection_reason, version=r.version)


def _values(template: Template) -> dict[str, Any]:
    return {"account_id": template.account_id, "name": template.name, "language": template.language,
            "category": template.category.value, "body": template.body, "variable_count": template.variable_count,
            "status": template.status.value, "provider_template_id": template.provider_template_id,
            "rejection_reason": template.rejection_reason, "version": template.version,
            "updated_at": template.updated_at}


class PostgresTemplateRepository(_Scoped):
    def _mine(self) -> sa.Select[Any]:
        return sa.select(t).where(t.c.team_id == self.team_id)

    async def add(self, template: Template) -> None:
        await _write(self.conn, t.insert().values(id=template.id, team_id=self.team_id,
                                                  created_at=template.created_at, **_values(template)),
                     f"template {template.name!r} ({template.language})")

    async def get(self, id: str) -> Template | None:
        row = (await self.conn.execute(self._mine().where(t.c.id == id))).first()
        return _row_to_template(row) if row else None

    async def list(self, account_id: str | None = None) -> list[Template]:
        query = self._mine().order_by(t.c.name, t.c.language, t.c.id)
        if account_id is not None:
            query = query.where(t.c.account_id == account_id)
        return [_row_to_template(r) for r in await self.conn.execute(query)]

    async def find(self, account_id: str, *, provider_template_id: str | None = None, name: str | None = None,
                   language: str | None = None) -> Template | None:
        mine = self._mine().where(t.c.account_id == account_id)
        if provider_template_id:
            row = (await self.conn.execute(mine.where(t.c.provider_template_id == provider_template_id))).first()
            if row:
                return _row_to_template(row)
        if name:
            row = (await self.conn.execute(mine.where(t.c.name == name, t.c.language == language))).first()
            if row:
                return _row_to_template(row)
        return None

    async def update(self, template: Template) -> bool:
        result = await _write(self.conn, t.update().where(
            t.c.team_id == self.team_id, t.c.id == template.id, t.c.version == template.version - 1)
            .values(_values(template)), f"template {template.name!r} ({template.language})")
        return result.rowcount > 0

    async def delete(self, id: str) -> bool:
        result = await self.conn.execute(t.delete().where(t.c.team_id == self.team_id, t.c.id == id))
        return result.rowcount > 0
