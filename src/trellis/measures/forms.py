"""Staff forms: clinician-rated totals and the C-SSRS screener; every field checked with a
message a person can act on (ranges and skip logic come from ``trellis.core``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trellis.core.errors import InvalidInput
from trellis.core.instruments import get_instrument, normalise_answers
from trellis.core.numbers import strict_whole
from trellis.measures.services import CLINICIAN_ITEMS, CLINICIAN_TOTALS
from trellis.web.forms import StrictIntegerField

# Prefixes keep field ids unique on the chart, where other apps' panels have forms too.
TOTAL_PREFIX = "mtotal"
CSSRS_PREFIX = "cssrs"
ITEMS_PREFIX = "qids"


def _total_choices() -> list[tuple[str, str]]:
    out = []
    for inst_id in CLINICIAN_TOTALS:
        inst = get_instrument(inst_id)
        out.append((inst_id, f"{inst.title} ({inst.range_min}–{inst.range_max})"))
    return out


class ClinicianTotalForm(forms.Form):
    instrument = forms.ChoiceField(label=_("Scale"), choices=_total_choices)
    total = StrictIntegerField(
        label=_("Total score"),
        error_messages={"invalid": _("Enter the total as a whole number.")},
    )
    taken_at = forms.DateTimeField(
        label=_("Rated at"),
        required=False,
        help_text=_("Leave empty for now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": _("Enter a date and time, e.g. 2026-03-01 14:30.")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        inst_id, total = data.get("instrument"), data.get("total")
        if inst_id and total is not None:
            inst = get_instrument(inst_id)
            if not (inst.range_min or 0) <= total <= (inst.range_max or 0):
                self.add_error(
                    "total",
                    _("The %(scale)s total must be from %(lo)s to %(hi)s.")
                    % {"scale": inst_id.upper(), "lo": inst.range_min, "hi": inst.range_max},
                )
        when = data.get("taken_at")
        if when is not None and when > timezone.now() + timedelta(minutes=5):
            self.add_error("taken_at", _("The time cannot be in the future."))
        return data


CSSRS_CODES = [("yes", _("Yes")), ("no", _("No")), ("not_asked", _("Not asked"))]


class CssrsForm(forms.Form):
    """The C-SSRS screener as codes (CLINICAL.md §1: wording not shipped; §2 skip logic)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inst = get_instrument("cssrs")
        for item in inst.items:
            self.fields[item.id] = forms.ChoiceField(
                label=item.label.get("en", item.id),
                choices=CSSRS_CODES,
                widget=forms.RadioSelect,
                error_messages={"required": _("Choose yes, no or not asked.")},
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            normalise_answers({k: data[k] for k in self.fields})
        except InvalidInput as exc:
            field = exc.field if exc.field in self.fields else None
            message: Any
            if "incomplete" in exc.detail:
                # CLINICAL.md §2: an incomplete screen gets no risk level, so it is not saved.
                message = _("Answer this question yes or no: the screen is incomplete without it.")
            elif field in ("q3", "q4", "q5"):
                message = _("Asked only after “yes” to item 2: answer no or not asked.")
            elif field == "q6_3mo":
                message = _("Can be yes only when suicidal behaviour ever (item 6) is yes.")
            else:
                message = str(exc)
            self.add_error(field, message)
        return data

    def radio_groups(self) -> list[Any]:
        return [self[name] for name in self.fields]


class ClinicianItemsForm(forms.Form):
    """QIDS-SR16 item answers from the licensed paper form, entered by staff (CLINICAL.md §1:
    item wording not shipped, neutral labels only); item 12 >= 1 raises the suicide-risk alert
    (CLINICAL.md §2)."""

    instrument_id = CLINICIAN_ITEMS[0]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inst = get_instrument(self.instrument_id)
        for item in inst.items:
            values = [str(v) for v in item.values]
            self.fields[item.id] = forms.ChoiceField(
                label=f"{item.id}. {item.label.get('en', item.id)}",
                choices=[("", "—"), *((v, v) for v in values)],
                error_messages={
                    "required": _("Choose the answer on the paper form (0 to 3)."),
                    "invalid_choice": _("Choose the answer on the paper form (0 to 3)."),
                },
            )

    def answers(self) -> dict[str, int]:
        """The answers as integers (ASCII digits only, trellis.core.numbers)."""
        out: dict[str, int] = {}
        for key in self.fields:
            value = strict_whole(self.cleaned_data[key])
            assert value is not None  # a choice of "0".."3"
            out[key] = value
        return out
