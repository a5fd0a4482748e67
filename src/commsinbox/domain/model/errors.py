"""The error hierarchy. No HTTP statuses here: entrypoints map these to their protocol."""
from __future__ import annotations

import attrs


class CommsInboxError(Exception):
    """Root of every error the product raises on purpose."""


class DomainError(CommsInboxError):
    """A rule of the domain refused the request."""


class NotFound(DomainError):
    def __init__(self, what: str, key: str | None = None) -> None:
        self.what = what
        super().__init__(f"{what} not found" if key is None else f"{what} {key!r} not found")


class Conflict(DomainError):
    """The request collides with existing state (a duplicate number, the last owner ...)."""


class ConcurrencyConflict(Conflict):
    """Someone else changed the aggregate first; retry the whole command."""


class Forbidden(DomainError):
    """The actor is known but may not do this."""


class Unauthenticated(DomainError):
    """No valid credentials."""


class TooManyAttempts(DomainError):
    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(f"too many attempts; retry in {retry_after_seconds} s")


@attrs.frozen
class FieldError:
    path: str
    message: str


class InvalidInput(DomainError):
    """Bad input; `fields` names every offending field path."""

    def __init__(self, fields: list[FieldError] | tuple[FieldError, ...]) -> None:
        self.fields = tuple(fields)
        super().__init__("; ".join(f"{f.path}: {f.message}" for f in self.fields) or "invalid input")

    @classmethod
    def single(cls, path: str, message: str) -> InvalidInput:
        return cls([FieldError(path, message)])


class PolicyBlocked(DomainError):
    """A provider rule forbids a send; `reason` names it (consent_missing, opted_out,
    window_closed_template_required, template_not_approved, template_variables_mismatch …)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the message may not be sent: {reason.replace('_', ' ')}")
        self.reason = reason
