"""Access to care: sliding-fee schedules and assessments, price lists, coverage (issue 6).

Fee assessments and coverage are patient data (``PATIENT_DATA = True``, a ``program`` on every
row, queried through ``visible_to(user)`` inside this app's services). Schedules, price lists and
the access settings are program configuration, versioned: a new row per change, the latest
wins, so an assessment can name the schedule version it used.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program
from trellis.accounts.scoping import ProgramScopedQuerySet as ScopedQuerySet
from trellis.patients.models import Patient


class Region(models.TextChoices):
    # HHS poverty guidelines: the 48 contiguous states and DC, Alaska, Hawaii (CLINICAL.md §8).
    CONTIGUOUS = "contiguous", _("48 contiguous states and DC")
    ALASKA = "alaska", _("Alaska")
    HAWAII = "hawaii", _("Hawaii")


class DocumentKind(models.TextChoices):
    TAX_RETURN = "tax_return", _("Tax return")
    PAY_STUBS = "pay_stubs", _("Pay stubs")
    BENEFIT_LETTER = "benefit_letter", _("Benefit letter")
    SELF_ATTESTATION = "self_attestation", _("Self-attestation")
    OTHER = "other", _("Other")


class PriorAuth(models.TextChoices):
    NOT_NEEDED = "not_needed", _("Not needed")
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")


class FeeSchedule(models.Model):
    """A program's sliding-fee schedule, version n (the data as ``trellis.core.fees`` parses it).

    Only schedules that pass ``check_schedule`` (HRSA ch. 9) are stored. A program without a row
    uses the Trellis default schedule (version 0).
    """

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    data = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["program", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["program", "version"], name="feeschedule_version")
        ]

    def __str__(self) -> str:
        return f"{self.program} schedule v{self.version}"


class PriceList(models.Model):
    """A program's prices per session kind and drug (overrides of the core defaults), versioned."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    prices = models.JSONField()  # item -> "123.45" (strings: exact cents)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["program", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["program", "version"], name="pricelist_version")
        ]

    def __str__(self) -> str:
        return f"{self.program} prices v{self.version}"


class AccessSettings(models.Model):
    """Program configuration for the equity dashboard: its ZIP → urban/rural table.

    Trellis ships no RUCA table; a program supplies one for its service area (validated with
    ``trellis.core.equity.parse_rurality_table``), and ZIP codes not in it count as unknown.
    """

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="+")
    rurality_table = models.JSONField(default=dict, blank=True)
    rurality_source = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.program} access settings"


class FeeAssessment(models.Model):
    """One sliding-fee assessment: what was declared and seen, and what Trellis computed.

    The computed fields are stored as they were (guideline, percent, class, discount, nominal fee,
    schedule version), so a later schedule change never rewrites a past assessment.
    """

    PATIENT_DATA = True

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("guideline year"))
    region = models.CharField(_("region"), max_length=12, choices=Region.choices)
    household_size = models.PositiveSmallIntegerField(_("household size"))
    annual_income = models.DecimalField(
        _("annual household income (USD)"), max_digits=12, decimal_places=2
    )
    document_kind = models.CharField(
        _("document seen"), max_length=20, choices=DocumentKind.choices
    )
    document_note = models.CharField(_("document note"), max_length=300, blank=True)
    document_date = models.DateField(_("document date"))
    poverty_guideline = models.PositiveIntegerField()
    percent_of_poverty = models.DecimalField(max_digits=8, decimal_places=1)
    fee_class = models.CharField(max_length=40)
    discount_percent = models.PositiveSmallIntegerField()
    nominal_fee = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    schedule_version = models.PositiveIntegerField(default=0)  # 0: the Trellis default
    schedule_name = models.CharField(max_length=200, blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-assessed_at", "-id"]
        indexes = [models.Index(fields=["program", "patient"], name="feeassessment_patient")]

    def __str__(self) -> str:
        return f"class {self.fee_class} ({self.percent_of_poverty} %)"


class Coverage(models.Model):
    """A patient's coverage as recorded on a date (the latest row is the current one).

    REMS patient enrolment is not kept here: the dosing app's enrolment is its one source,
    read by dosing and by the coverage page (issue 19).
    """

    PATIENT_DATA = True

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    payer = models.CharField(_("payer"), max_length=12)
    plan_name = models.CharField(_("plan name"), max_length=200, blank=True)
    member_id = models.CharField(_("member ID"), max_length=64, blank=True)
    prior_auth_status = models.CharField(
        _("prior authorisation"), max_length=12, choices=PriorAuth.choices
    )
    prior_auth_requested_on = models.DateField(
        _("prior authorisation requested"), null=True, blank=True
    )
    prior_auth_decided_on = models.DateField(
        _("prior authorisation decided"), null=True, blank=True
    )
    prior_auth_expires_on = models.DateField(
        _("prior authorisation expires"), null=True, blank=True
    )
    # Terms for the cost estimate (trellis.core.cost.make_coverage): item -> percent / "copay".
    percent_covered = models.JSONField(default=dict, blank=True)
    copay = models.JSONField(default=dict, blank=True)
    deductible_remaining = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    out_of_pocket_max_remaining = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["program", "patient"], name="coverage_patient")]

    def __str__(self) -> str:
        return f"{self.payer} {self.plan_name}".strip()
