"""Forms of the access app: every field validated, with a specific message beside it.

The rules (guidelines, HRSA, coverage terms) are checked again by the services through the
pure core; a service's :class:`InvalidInput` is put back on the field it names.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trellis.access.models import DocumentKind, PriorAuth, Region
from trellis.core import cost as core_cost
from trellis.core import fees as core_fees
from trellis.core.errors import InvalidInput
from trellis.core.protocols import ADAPTATIONS, list_protocols
from trellis.patients.models import Payer

MAX_HOUSEHOLD = 20
MAX_INCOME = Decimal("10000000")
MAX_PRICE = Decimal("100000")
SCHEDULE_ROWS = 8

ITEM_LABELS = {
    "preparation": _("Preparation session"),
    "integration": _("Integration session"),
    "peer_circle": _("Peer circle"),
    "assessment": _("Assessment"),
    "follow_up": _("Follow-up check-in"),
    "ketamine_iv": _("Ketamine dose (IV)"),
    "esketamine_56": _("Esketamine dose, 56 mg or less"),
    "esketamine_84": _("Esketamine dose, above 56 mg"),
}
ADAPTATION_LABELS = {
    "language-concordant": _("Language-concordant care"),
    "interpreter": _("Interpreter"),
    "chw-navigator": _("Community health worker navigator"),
    "medical-distrust": _("Extra trust-building preparation"),
    "family-involved": _("Family or community member involved"),
    "transport": _("Transport"),
}
CRITERIA = [
    ("income", _("Income")),
    ("household_size", _("Household size")),
    ("assets", _("Assets")),
    ("insurance_status", _("Insurance status")),
    ("residency", _("Residency")),
]


class FeeAssessmentForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Poverty-guideline year"), coerce=int)
    region = forms.ChoiceField(
        label=_("Region"),
        choices=Region.choices,
        initial=Region.CONTIGUOUS,
        help_text=_("Alaska and Hawaii have their own guidelines: choose them explicitly."),
    )
    household_size = forms.IntegerField(label=_("Household size (people)"))
    annual_income = forms.DecimalField(
        label=_("Annual household income (USD)"), max_digits=12, decimal_places=2
    )
    document_kind = forms.ChoiceField(label=_("Document seen"), choices=DocumentKind.choices)
    document_note = forms.CharField(
        label=_("Note on the document"),
        required=False,
        max_length=300,
        help_text=_("Required when the document is “Other”."),
    )
    document_date = forms.DateField(
        label=_("Document date"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        years = core_fees.known_years()
        self.fields["year"].choices = [(y, str(y)) for y in reversed(years)]  # type: ignore[attr-defined]
        if not self.is_bound:
            latest = max((y for y in years if y <= self.today.year), default=years[-1])
            self.fields["year"].initial = latest

    def clean_household_size(self) -> int:
        value: int = self.cleaned_data["household_size"]
        if not 1 <= value <= MAX_HOUSEHOLD:
            raise forms.ValidationError(
                _("Household size is from 1 to %(n)s people.") % {"n": MAX_HOUSEHOLD}
            )
        return value

    def clean_annual_income(self) -> Decimal:
        value: Decimal = self.cleaned_data["annual_income"]
        if value < 0:
            raise forms.ValidationError(_("Income cannot be negative."))
        if value >= MAX_INCOME:
            raise forms.ValidationError(_("Check the amount: enter yearly income in dollars."))
        return value

    def clean_document_date(self) -> date:
        value: date = self.cleaned_data["document_date"]
        if value > self.today:
            raise forms.ValidationError(_("The document date cannot be in the future."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("document_kind") == DocumentKind.OTHER and not data.get("document_note"):
            self.add_error("document_note", _("Say which document was seen."))
        return data


class ScheduleForm(forms.Form):
    """The schedule editor: a name, the criteria used, and up to 8 pay classes in order."""

    name = forms.CharField(label=_("Schedule name"), max_length=200)
    criteria = forms.MultipleChoiceField(
        label=_("What the schedule is based on"),
        choices=CRITERIA,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("HRSA allows only income and household size."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(SCHEDULE_ROWS):
            n = i + 1
            self.fields[f"label_{i}"] = forms.CharField(
                label=_("Class %(n)s label") % {"n": n}, max_length=40, required=False
            )
            self.fields[f"max_percent_{i}"] = forms.DecimalField(
                label=_("Class %(n)s: up to %% of poverty") % {"n": n},
                required=False,
                max_digits=7,
                decimal_places=2,
                help_text=_("Leave empty on the last class (no upper limit)."),
            )
            self.fields[f"discount_{i}"] = forms.IntegerField(
                label=_("Class %(n)s: discount %%") % {"n": n}, required=False
            )
            self.fields[f"nominal_fee_{i}"] = forms.DecimalField(
                label=_("Class %(n)s: nominal fee per visit (USD)") % {"n": n},
                required=False,
                max_digits=8,
                decimal_places=2,
            )

    def rows(self) -> list[list[forms.BoundField]]:
        return [
            [
                self[f"label_{i}"],
                self[f"max_percent_{i}"],
                self[f"discount_{i}"],
                self[f"nominal_fee_{i}"],
            ]
            for i in range(SCHEDULE_ROWS)
        ]

    @staticmethod
    def initial_from(data: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {"name": data["name"], "criteria": data["criteria"]}
        for i, c in enumerate(data["classes"][:SCHEDULE_ROWS]):
            initial[f"label_{i}"] = c["label"]
            initial[f"max_percent_{i}"] = c["max_percent"]
            initial[f"discount_{i}"] = c["discount_percent"]
            initial[f"nominal_fee_{i}"] = c["nominal_fee"]
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        classes = []
        ended = False
        for i in range(SCHEDULE_ROWS):
            label = (data.get(f"label_{i}") or "").strip()
            values = [data.get(f"{k}_{i}") for k in ("max_percent", "discount", "nominal_fee")]
            if not label:
                if any(v is not None for v in values):
                    self.add_error(f"label_{i}", _("Give this class a label, or clear its row."))
                ended = True
                continue
            if ended:
                self.add_error(f"label_{i}", _("Fill the classes in order, without empty rows."))
                continue
            discount = data.get(f"discount_{i}")
            if discount is None:
                self.add_error(f"discount_{i}", _("Give the discount (0 to 100)."))
                continue
            if not 0 <= discount <= 100:
                self.add_error(f"discount_{i}", _("A discount is from 0 to 100 %."))
                continue
            max_percent = data.get(f"max_percent_{i}")
            nominal = data.get(f"nominal_fee_{i}")
            if max_percent is not None and max_percent <= 0:
                self.add_error(f"max_percent_{i}", _("A bound is a percent above 0."))
                continue
            if nominal is not None and nominal < 0:
                self.add_error(f"nominal_fee_{i}", _("A fee cannot be negative."))
                continue
            classes.append(
                {
                    "label": label,
                    "max_percent": None if max_percent is None else str(max_percent),
                    "discount_percent": discount,
                    "nominal_fee": None if nominal is None else str(nominal),
                    "row": i,
                }
            )
        if not classes and not self.errors:
            self.add_error("label_0", _("A schedule needs at least one class."))
        data["classes"] = classes
        return data

    def schedule_data(self) -> dict[str, Any]:
        return {
            "name": self.cleaned_data["name"],
            "source": "edited in Trellis",
            "criteria": list(self.cleaned_data["criteria"]),
            "classes": [
                {k: v for k, v in c.items() if k != "row"} for c in self.cleaned_data["classes"]
            ],
        }

    def add_violations(self, violations: list[core_fees.Violation]) -> None:
        """Put each refused rule next to the row (or field) it is about."""
        rows = {c["label"]: c["row"] for c in self.cleaned_data.get("classes", [])}
        for v in violations:
            text = f"{v.rule}: {v.message}"
            target = None
            if v.rule == "hrsa_criteria":
                target = "criteria"
            else:
                for label, row in rows.items():
                    if v.message.startswith(f"class {label} ") or v.message.startswith(
                        f"class {label}:"
                    ):
                        target = {
                            "hrsa_full_discount": f"discount_{row}",
                            "hrsa_graduated": f"discount_{row}",
                            "hrsa_no_discount_above_200": f"discount_{row}",
                            "structure_discount": f"discount_{row}",
                            "structure_monotone": f"discount_{row}",
                            "structure_nominal_fee": f"nominal_fee_{row}",
                            "structure_bounds": f"max_percent_{row}",
                        }.get(v.rule, f"label_{row}")
                        break
                if target is None and v.rule == "structure_coverage" and rows:
                    target = f"max_percent_{max(rows.values())}"
            self.add_error(target, text)


class PriceListForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item in core_cost.ITEMS:
            self.fields[item] = forms.DecimalField(
                label=ITEM_LABELS[item], max_digits=9, decimal_places=2, min_value=Decimal(0)
            )
            self.fields[item].error_messages["min_value"] = _("A price cannot be negative.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for item in core_cost.ITEMS:
            value = data.get(item)
            if value is not None and value > MAX_PRICE:
                self.add_error(item, _("Check the amount: a price per session in dollars."))
        return data


class CoverageForm(forms.Form):
    payer = forms.ChoiceField(label=_("Payer"), choices=Payer.choices)
    plan_name = forms.CharField(label=_("Plan name"), max_length=200, required=False)
    member_id = forms.CharField(label=_("Member ID"), max_length=64, required=False)
    prior_auth_status = forms.ChoiceField(
        label=_("Prior authorisation (esketamine)"), choices=PriorAuth.choices
    )
    prior_auth_requested_on = forms.DateField(
        label=_("Prior authorisation requested on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    prior_auth_decided_on = forms.DateField(
        label=_("Prior authorisation decided on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    prior_auth_expires_on = forms.DateField(
        label=_("Prior authorisation expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    covered_percent = forms.IntegerField(
        label=_("Plan pays (% after deductible)"),
        required=False,
        help_text=_("Applied to every session the plan covers; leave empty if not covered."),
    )
    covers_ketamine_iv = forms.BooleanField(label=_("Plan covers IV ketamine"), required=False)
    deductible_remaining = forms.DecimalField(
        label=_("Deductible remaining (USD)"), required=False, max_digits=10, decimal_places=2
    )
    out_of_pocket_max_remaining = forms.DecimalField(
        label=_("Out-of-pocket maximum remaining (USD)"),
        required=False,
        max_digits=10,
        decimal_places=2,
    )

    def clean_covered_percent(self) -> int | None:
        value: int | None = self.cleaned_data.get("covered_percent")
        if value is not None and not 0 <= value <= 100:
            raise forms.ValidationError(_("A percent is from 0 to 100."))
        return value

    def clean_deductible_remaining(self) -> Decimal:
        value: Decimal | None = self.cleaned_data.get("deductible_remaining")
        if value is not None and value < 0:
            raise forms.ValidationError(_("An amount cannot be negative."))
        return value or Decimal(0)

    def clean_out_of_pocket_max_remaining(self) -> Decimal | None:
        value: Decimal | None = self.cleaned_data.get("out_of_pocket_max_remaining")
        if value is not None and value < 0:
            raise forms.ValidationError(_("An amount cannot be negative."))
        return value

    def service_kwargs(self) -> dict[str, Any]:
        """The form's data as :func:`trellis.access.services.record_coverage` arguments.

        The plan's percent applies to the items a plan may cover: esketamine doses and the
        therapy sessions always, IV ketamine only when ticked (off-label; CLINICAL.md §4).
        """
        d = self.cleaned_data
        percents: dict[str, object] = {}
        if d.get("covered_percent") is not None and d["payer"] != "uninsured":
            items = [i for i in core_cost.ITEMS if i != "ketamine_iv"]
            if d.get("covers_ketamine_iv"):
                items.append("ketamine_iv")
            percents = dict.fromkeys(items, d["covered_percent"])
        uninsured = d["payer"] == "uninsured"
        return {
            "payer": d["payer"],
            "plan_name": d.get("plan_name", ""),
            "member_id": d.get("member_id", ""),
            "prior_auth_status": d["prior_auth_status"],
            "prior_auth_requested_on": d.get("prior_auth_requested_on"),
            "prior_auth_decided_on": d.get("prior_auth_decided_on"),
            "prior_auth_expires_on": d.get("prior_auth_expires_on"),
            "percent_covered": percents,
            "deductible_remaining": Decimal(0) if uninsured else d["deductible_remaining"],
            "out_of_pocket_max_remaining": None
            if uninsured
            else d.get("out_of_pocket_max_remaining"),
        }

    def add_service_error(self, exc: InvalidInput) -> None:
        field = exc.field.removeprefix("coverage.")
        if field.startswith("percent_covered"):
            field = "covered_percent"
        self.add_error(field if field in self.fields else None, exc.detail)


class CostForm(forms.Form):
    """Choose a track and adaptations to see the cost of a course before enrolment."""

    protocol = forms.ChoiceField(label=_("Track"), required=False)
    adaptations = forms.MultipleChoiceField(
        label=_("Adaptations"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(a, ADAPTATION_LABELS.get(a, a)) for a in ADAPTATIONS],
    )
    later_dose_mg = forms.TypedChoiceField(
        label=_("Esketamine dose after the first"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Higher label dose (estimate)")), ("56", "56 mg"), ("84", "84 mg")],
    )

    def __init__(
        self, *args: Any, has_episode: bool = False, program: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        first = (
            [("", _("The active course's plan"))] if has_episode else [("", _("Choose a track"))]
        )
        # The program's tracks (its library: packaged and its own adapted copies, issue 19).
        if program is not None:
            from trellis.care.services import enabled_protocols

            tracks = enabled_protocols(program)
        else:
            tracks = list(list_protocols())
        self.fields["protocol"].choices = first + [  # type: ignore[attr-defined]
            (p.id, p.title) for p in tracks
        ]
