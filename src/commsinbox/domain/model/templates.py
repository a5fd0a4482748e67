"""Message templates (WhatsApp): pre-approved bodies with positional variables `{{1}}`..`{{n}}`.

Outside WhatsApp's 24-hour window only an approved template may be sent. A template belongs to one account and
one language; Meta keys it by name + language, Twilio by its ContentSid (`provider_template_id`).
"""
from __future__ import annotations

import datetime as dt
import enum
import re

import attrs

from .errors import InvalidInput
from .languages import language_code

MAX_NAME_LENGTH = 512  # Meta: ^[a-z0-9_]+$, at most 512 characters
MAX_BODY_LENGTH = 1024  # Meta: the body component of a template holds at most 1024 characters

_NAME = re.compile(r"[a-z0-9_]+")
_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_POSITION = re.compile(r"[1-9][0-9]*")


class TemplateStatus(enum.StrEnum):
    DRAFT = "draft"  # ours only, not yet submitted
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAUSED = "paused"  # Meta paused it for low quality; may come back
    DISABLED = "disabled"


# Meta's `message_template_status_update` events → our status; events not listed (FLAGGED: quality dropping, still
# sendable; LIMIT_EXCEEDED, LOCKED …) change nothing. REINSTATED and UNPAUSE bring a template back to approved.
PROVIDER_STATUSES = {"APPROVED": TemplateStatus.APPROVED, "REINSTATED": TemplateStatus.APPROVED,
                     "UNPAUSE": TemplateStatus.APPROVED, "PENDING": TemplateStatus.PENDING,
                     "IN_APPEAL": TemplateStatus.PENDING, "REJECTED": TemplateStatus.REJECTED,
                     "PAUSED": TemplateStatus.PAUSED, "DISABLED": TemplateStatus.DISABLED,
                     "DELETED": TemplateStatus.DISABLED, "PENDING_DELETION": TemplateStatus.DISABLED}


class TemplateCategory(enum.StrEnum):
    MARKETING = "marketing"
    UTILITY = "utility"
    AUTHENTICATION = "authentication"


def template_name(name: str, path: str = "name") -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput.single(path, f"must be 1 to {MAX_NAME_LENGTH} lower-case letters, digits or _")
    return name


def variable_count(body: str, path: str = "body") -> int:
    """How many variables `body` takes: its placeholders must be exactly `{{1}}`..`{{n}}` (each may repeat, in any
    order, but none may be missing). Anything else between double braces is refused."""
    positions: set[int] = set()
    for match in _BRACES.finditer(body):
        inside = match.group(1)
        if not _POSITION.fullmatch(inside):
            raise InvalidInput.single(path, f"placeholder {match.group(0)} must be {{{{1}}}}, {{{{2}}}}, ...")
        positions.add(int(inside))
    if positions != set(range(1, len(positions) + 1)):
        missing = sorted(set(range(1, max(positions) + 1)) - positions)
        raise InvalidInput.single(path, f"placeholders must be numbered 1 to n without gaps; missing {missing}")
    return len(positions)


def _body(_instance: object, _attribute: object, body: str) -> None:
    if not body.strip() or len(body) > MAX_BODY_LENGTH:
        raise InvalidInput.single("body", f"must be 1 to {MAX_BODY_LENGTH} characters")
    variable_count(body)


def _name(_instance: object, _attribute: object, name: str) -> None:
    template_name(name)


def _language(_instance: object, _attribute: object, language: str) -> None:
    if language_code(language) != language:
        raise InvalidInput.single("language", "must be a language code such as en, en_US or pt_BR")


@attrs.define
class Template:
    """A template of one account in one language. `variable_count` is derived from the body.

    Construct with `Template.create` (which normalises the language code); the validators raise `InvalidInput`
    naming `name`, `language` or `body`."""

    id: str
    account_id: str
    name: str = attrs.field(validator=_name)
    language: str = attrs.field(validator=_language)
    category: TemplateCategory
    body: str = attrs.field(validator=_body)
    status: TemplateStatus
    created_at: dt.datetime
    updated_at: dt.datetime
    provider_template_id: str | None = None  # Meta template id, or Twilio ContentSid (HX...)
    rejection_reason: str | None = None
    version: int = 1

    @classmethod
    def create(cls, id: str, account_id: str, name: str, language: str, category: TemplateCategory, body: str,
               now: dt.datetime, *, status: TemplateStatus = TemplateStatus.DRAFT,
               provider_template_id: str | None = None) -> Template:
        return cls(id=id, account_id=account_id, name=template_name(name), language=language_code(language),
                   category=category, body=body, status=status, created_at=now, updated_at=now,
                   provider_template_id=provider_template_id)

    @property
    def variable_count(self) -> int:
        return variable_count(self.body)

    def provider_says(self, event: str, reason: str | None, at: dt.datetime) -> bool:
        """Applies the provider's review event (`APPROVED`, `REJECTED`, …). True when the status or the reason
        changed; a replayed or unknown event changes nothing. A rejection keeps its reason; other statuses
        clear it."""
        status = PROVIDER_STATUSES.get(event.upper())
        if status is None:
            return False
        reason = reason if status is TemplateStatus.REJECTED else None
        if (status, reason) == (self.status, self.rejection_reason):
            return False
        self.status, self.rejection_reason, self.updated_at = status, reason, at
        self.version += 1
        return True
