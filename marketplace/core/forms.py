"""Putting domain errors back onto WTForms forms (the one place views do it)."""
from __future__ import annotations

from marketplace.core.errors import DomainError
from marketplace.core.i18n import translate_message

# service field names that a form calls differently
FIELD_ALIASES = {"origin": "origin_code", "category": "category"}


def apply_error(form, err: DomainError) -> None:
    """Attach `err` to the fields it names; anything else becomes a form-level error."""
    errors = getattr(err, "errors", None) or {}
    if not errors and err.field:
        errors = {err.field: [err.message]}
    placed = False
    for name, messages in errors.items():
        field = getattr(form, FIELD_ALIASES.get(name, name), None) or getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors or []) + [translate_message(m) for m in messages]
            placed = True
    if not placed:
        form.form_errors.append(translate_message(err.message))
