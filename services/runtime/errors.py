"""Error types of every service, mapped to HTTP once, in ``services.runtime.http``."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the errors a command can end in."""

    def __init__(self, detail: str, *, field: str | None = None, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class RuleViolated(DomainError):
    """A business rule refused the command (HTTP 422). ``rule`` names it for the clerk."""

    def __init__(self, rule: str, detail: str, *, field: str | None = None, **extra: object) -> None:
        super().__init__(detail, field=field, rule=rule, **extra)
        self.rule = rule


class NotFound(DomainError):
    """The thing asked for does not exist (HTTP 404)."""


class Conflict(DomainError):
    """A concurrent change or a duplicate (HTTP 409)."""


class Forbidden(DomainError):
    """The caller may not do this here (HTTP 403)."""


class Unauthorized(DomainError):
    """No valid credentials (HTTP 401)."""


class PreconditionRequired(DomainError):
    """The change needs the version it was based on (If-Match) (HTTP 428)."""


class PayloadTooLarge(DomainError):
    """The upload is bigger than the service accepts (HTTP 413)."""


class UnsupportedMediaType(DomainError):
    """The upload is of a kind the service cannot read (HTTP 415)."""
