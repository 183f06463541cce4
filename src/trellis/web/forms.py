"""Form helpers shared by the apps' views."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from trellis.core.errors import InvalidInput
from trellis.core.numbers import strict_decimal, strict_whole


def show_input_error(form: forms.Form, exc: InvalidInput, default: str | None = None) -> None:
    """Show a service's :class:`InvalidInput` on ``form``: on the field it names when the form
    has that field, else on ``default`` (None: the form as a whole)."""
    form.add_error(exc.field if exc.field in form.fields else default, exc.detail)


class StrictIntegerField(forms.IntegerField):
    """An integer field that takes ASCII digits only (:mod:`trellis.core.numbers`): Django's
    own field calls ``int()``, which reads ``0_1`` as 1 and accepts ``+1`` and non-ASCII
    digits, so a typo would become a score or a vital sign (issue 18)."""

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        parsed = strict_whole(str(value))
        if parsed is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class StrictDecimalField(forms.DecimalField):
    """A decimal field that takes ASCII digits and one decimal point only
    (:mod:`trellis.core.numbers`; see :class:`StrictIntegerField`)."""

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            return value
        parsed = strict_decimal(str(value))
        if parsed is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed
