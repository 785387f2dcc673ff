"""Domain errors. Views map them to form errors and flashes, the API to JSON, in one place."""
from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    validation_failed = "validation_failed"  # input does not have the right shape
    not_found = "not_found"  # absent, or not visible to the caller
    forbidden = "forbidden"  # authenticated but not allowed
    unauthorized = "unauthorized"  # no or bad credentials
    conflict = "conflict"  # duplicates or a state that changed meanwhile
    duplicate = "duplicate"  # a unique value (ID number, credit code, e-mail) is taken
    rule_broken = "rule_broken"  # the request is well formed but a business rule forbids it
    illegal_transition = "illegal_transition"  # a status change that is not allowed from here


class DomainError(Exception):
    status = 422
    code = ErrorCode.rule_broken

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None,
                 code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = dict(details or {})
        if code:
            self.code = code
        if field and "field" not in self.details:
            self.details["field"] = field


class ValidationFailed(DomainError):
    status = 400
    code = ErrorCode.validation_failed

    def __init__(self, message: str, *, field: str | None = None, errors: dict | None = None,
                 details: dict | None = None):
        details = dict(details or {})
        if errors:
            details["fields"] = errors
        super().__init__(message, field=field, details=details)
        self.errors = errors or ({field: [message]} if field else {})


class NotFound(DomainError):
    status = 404
    code = ErrorCode.not_found


class Forbidden(DomainError):
    status = 403
    code = ErrorCode.forbidden


class Unauthorized(DomainError):
    status = 401
    code = ErrorCode.unauthorized


class Conflict(DomainError):
    status = 409
    code = ErrorCode.conflict


class Duplicate(Conflict):
    code = ErrorCode.duplicate


class RuleBroken(DomainError):
    status = 422
    code = ErrorCode.rule_broken


class IllegalTransition(DomainError):
    status = 409
    code = ErrorCode.illegal_transition
