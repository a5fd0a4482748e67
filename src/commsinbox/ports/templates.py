"""Repository port for message templates (team-scoped: a template belongs to one of the team's accounts)."""
from __future__ import annotations

from typing import Protocol

from ..domain.model.templates import Template


class TemplateRepository(Protocol):
    async def add(self, template: Template) -> None:
        """`Conflict` when the account already has a template of that name and language."""
        ...

    async def get(self, id: str) -> Template | None: ...

    async def list(self, account_id: str | None = None) -> list[Template]:
        """The team's templates (of one account when given), by name, language and id."""
        ...

    async def find(self, account_id: str, *, provider_template_id: str | None = None, name: str | None = None,
                   language: str | None = None) -> Template | None:
        """The account's template with this provider id, or else with this name and language."""
        ...

    async def update(self, template: Template) -> bool:
        """Saves it when its stored `version` is `template.version - 1` (optimistic); False when another
        writer changed it first (or it is gone). `Conflict` when the new name + language is taken."""
        ...

    async def delete(self, id: str) -> bool: ...
