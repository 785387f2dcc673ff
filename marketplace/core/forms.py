"""Putting domain errors back onto WTForms forms and flash messages (the one place views do it)."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from marketplace.core.errors import DomainError
from marketplace.core.i18n import translate_message

T = TypeVar("T")

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


def flash_error(err: DomainError) -> None:
    """A domain error as a flash message: the messages of the fields it names, else its own."""
    from flask import flash
    texts = [translate_message(m) for ms in (getattr(err, "errors", None) or {}).values()
             for m in ms]
    flash("；".join(texts) or translate_message(err.message), "error")


def commit_or_flash(work: Callable[[], T], success: str | None = None, *,
                    reraise_access: bool = False) -> tuple[bool, T | None]:
    """A view's one service action: run `work`, commit, flash `success`. A domain error rolls
    back and is flashed (401/403/404 raised again with reraise_access). Returns (worked, what
    `work` returned)."""
    from flask import flash

    from marketplace.extensions import db
    try:
        value = work()
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        if reraise_access and err.status in (401, 403, 404):
            raise
        flash_error(err)
        return False, None
    if success:
        flash(success, "success")
    return True, value
