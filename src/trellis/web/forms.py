"""Form helpers shared by the apps' views."""

from __future__ import annotations

from django import forms

from trellis.core.errors import InvalidInput


def show_input_error(form: forms.Form, exc: InvalidInput, default: str | None = None) -> None:
    """Show a service's :class:`InvalidInput` on ``form``: on the field it names when the form
    has that field, else on ``default`` (None: the form as a whole)."""
    form.add_error(exc.field if exc.field in form.fields else default, exc.detail)
