"""The views' one idiom for changing something: form > service call > domain error back onto the
form > commit > redirect, and the one place views turn domain errors into form errors and
flash messages.

A page with a form (or a row of a list with its own small form) uses `submit`:

    done = submit(form, lambda: service.do(db.session, current_user, ...), success=_("已保存"))
    if done.ok:
        return redirect(...)
    return render_template(..., form=form), form_status(form)

A one-click POST button without a page of its own (cancel, delete, remove) uses
`commit_or_flash` and redirects back whatever happened.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField

from marketplace.core.errors import DomainError
from marketplace.core.i18n import translate_message
from marketplace.core.inputs import BIGINT_MAX, check_text, text_problem

T = TypeVar("T")

# service field names that a form calls differently
FIELD_ALIASES = {"origin": "origin_code", "category": "category"}
# domain errors that are no form errors: the error pages answer them (core.errorhandlers)
ACCESS_STATUSES = (403, 404)


class Form(FlaskForm):
    """Every form of the site (tests/unit/test_inputs.py checks that no FlaskForm skips it):
    CSRF from Flask-WTF, and the input rules of core.inputs on every field before the form's
    own validators: a text with a lone surrogate, a control character (newline and tab only in
    a multi-line TextAreaField), a bidi override or a zero-width character is refused on the
    field, in the reader's language; a whole number must fit the database."""

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field, StringField) and isinstance(field.data, str):
                multiline = isinstance(field, TextAreaField)
                problem = text_problem(field.data, multiline=multiline)
                if problem is not None:
                    field.errors = [translate_message(problem)]
                    ok = False
                elif multiline:
                    field.data = check_text(field.data, field.name, multiline=True)
            elif isinstance(field, IntegerField) and isinstance(field.data, int):
                if not -BIGINT_MAX <= field.data <= BIGINT_MAX:
                    field.errors = [translate_message(NUMBER_TOO_LARGE)]
                    ok = False
        return ok


NUMBER_TOO_LARGE = "数值超出范围"


def posted_text(name: str, label: str = "", *, multiline: bool = False) -> str:
    """A posted field that no Form declares (a one-click action's reason, a carrier name), held
    to the same rule as a Form's fields: the text, stripped, or ValidationFailed naming it."""
    from flask import request
    value = request.form.get(name) or ""
    return check_text(value, name, label, multiline=multiline).strip()


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


class Submitted(NamedTuple):
    """What `submit` did: `ok` when the work ran and was committed (redirect now), with what it
    returned as `value`; otherwise the form holds the errors, and `error` is the domain error
    put there (None when the form itself did not validate or was not posted)."""

    ok: bool
    value: Any = None
    error: DomainError | None = None


def submit(form, work: Callable[[], T], *,
           success: str | Callable[[T], str] | None = None) -> Submitted:
    """When `form` was posted and validates: run `work` (the service calls), commit and flash
    `success` (a text, or a function of what `work` returned). A domain error rolls back and
    lands on the form (`apply_error`); 403 and 404 are raised again for the error pages."""
    from flask import flash

    from marketplace.extensions import db
    if not form.validate_on_submit():
        return Submitted(False)
    try:
        value = work()
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        if err.status in ACCESS_STATUSES:
            raise
        apply_error(form, err)
        return Submitted(False, None, err)
    if success:
        flash(success(value) if callable(success) else success, "success")
    return Submitted(True, value)


def form_status(form) -> int:
    """The status a page with `form` answers with: 400 while it shows errors, else 200."""
    return 400 if (form.errors or form.form_errors) else 200


def form_messages(form) -> list[str]:
    """Every message on a form, field errors first (for a list row that shows its form's
    errors in one place)."""
    return [m for field in form for m in field.errors if isinstance(m, str)] + list(
        form.form_errors)


def flash_error(err: DomainError) -> None:
    """A domain error as a flash message: the messages of the fields it names, else its own."""
    from flask import flash
    texts = [translate_message(m) for ms in (getattr(err, "errors", None) or {}).values()
             for m in ms]
    flash("；".join(texts) or translate_message(err.message), "error")


def commit_or_flash(work: Callable[[], T], success: str | None = None, *,
                    reraise_access: bool = False) -> tuple[bool, T | None]:
    """A one-click POST action: run `work`, commit, flash `success`. A domain error rolls back
    and is flashed (401/403/404 raised again with reraise_access). Returns (worked, what
    `work` returned)."""
    from flask import flash

    from marketplace.extensions import db
    try:
        value = work()
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        if reraise_access and err.status in (401, *ACCESS_STATUSES):
            raise
        flash_error(err)
        return False, None
    if success:
        flash(success, "success")
    return True, value
