"""Template approval: a template may be sent only when it is approved for that account and language and every
one of its variables is supplied, non-blank (Meta errors 132001 and 132000 otherwise)."""
from __future__ import annotations

from collections.abc import Sequence

from ..model.templates import Template, TemplateStatus
from .decision import TEMPLATE_NOT_APPROVED, TEMPLATE_VARIABLES_MISMATCH, Allowed, Blocked, Decision


def template_decision(template: Template, account_id: str, language: str, variables: Sequence[str]) -> Decision:
    """`language` is compared exactly: pass it in canonical form (`model.languages.language_code`)."""
    if isinstance(variables, str):
        raise TypeError("variables must be a sequence of strings, not one string")
    if (template.status is not TemplateStatus.APPROVED or template.account_id != account_id
            or template.language != language):
        return Blocked(TEMPLATE_NOT_APPROVED)
    if len(variables) != template.variable_count or any(not isinstance(v, str) or not v.strip() for v in variables):
        return Blocked(TEMPLATE_VARIABLES_MISMATCH)
    return Allowed()
