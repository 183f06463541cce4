"""Patients and their consents. Patient data: every row carries its program (the tenant).

Queries go through ``Patient.objects.visible_to(user)`` inside this app's services; a test walks
the source and fails on a bare ``.objects`` query of a patient-data model anywhere else.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program
from trellis.accounts.scoping import ProgramScopedQuerySet
from trellis.audit.exposure import identifying


class Language(models.TextChoices):
    # The patient-facing pages are translated into English and Spanish; other languages are
    # recorded so that interpreters, language-concordant staff and circles can be arranged.
    ENGLISH = "en", _("English")
    SPANISH = "es", _("Spanish")
    CHINESE = "zh", _("Chinese")
    VIETNAMESE = "vi", _("Vietnamese")
    HAITIAN_CREOLE = "ht", _("Haitian Creole")
    PORTUGUESE = "pt", _("Portuguese")
    ARABIC = "ar", _("Arabic")
    RUSSIAN = "ru", _("Russian")
    KOREAN = "ko", _("Korean")
    TAGALOG = "tl", _("Tagalog")
    FRENCH = "fr", _("French")
    OTHER = "other", _("Other")


class RaceEthnicity(models.TextChoices):
    """OMB SPD 15 (revised March 2024): one combined question, several answers allowed."""

    AMERICAN_INDIAN_ALASKA_NATIVE = "aian", _("American Indian or Alaska Native")
    ASIAN = "asian", _("Asian")
    BLACK = "black", _("Black or African American")
    HISPANIC_LATINO = "hispanic", _("Hispanic or Latino")
    MIDDLE_EASTERN_NORTH_AFRICAN = "mena", _("Middle Eastern or North African")
    NATIVE_HAWAIIAN_PACIFIC_ISLANDER = "nhpi", _("Native Hawaiian or Pacific Islander")
    WHITE = "white", _("White")
    PREFER_NOT_TO_SAY = "prefer_not", _("Prefer not to say")


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    INTERSEX = "intersex", _("Intersex")
    PREFER_NOT_TO_SAY = "prefer_not", _("Prefer not to say")


class Payer(models.TextChoices):
    MEDICAID = "medicaid", _("Medicaid")
    MEDICARE = "medicare", _("Medicare")
    COMMERCIAL = "commercial", _("Commercial insurance")
    VA_TRICARE = "va_tricare", _("VA / TRICARE")
    UNINSURED = "uninsured", _("Uninsured")
    OTHER = "other", _("Other")


class PatientQuerySet(ProgramScopedQuerySet["Patient"]):
    def in_program(self, program: Program) -> PatientQuerySet:
        return self.filter(program=program)


# Reading any of these during a request audits the patient (issue 14, finding 2).
@identifying(
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "email",
    "phone",
    "emergency_contact_name",
    "emergency_contact_phone",
    patient="pk",
)
class Patient(models.Model):
    PATIENT_DATA = True

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="patients")
    given_name = models.CharField(_("first name"), max_length=100)
    family_name = models.CharField(_("last name"), max_length=100)
    preferred_name = models.CharField(_("preferred name"), max_length=100, blank=True)
    date_of_birth = models.DateField(_("date of birth"))
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    interpreter_needed = models.BooleanField(_("interpreter needed"), default=False)
    race_ethnicity = models.JSONField(_("race and ethnicity"), default=list, blank=True)
    sex = models.CharField(_("sex"), max_length=12, choices=Sex.choices, blank=True)
    gender_identity = models.CharField(_("gender identity"), max_length=100, blank=True)
    zip_code = models.CharField(_("ZIP code"), max_length=10, blank=True)
    household_size = models.PositiveSmallIntegerField(_("household size"), null=True, blank=True)
    annual_income = models.DecimalField(
        _("annual household income (USD)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    payer = models.CharField(_("payer"), max_length=12, choices=Payer.choices, blank=True)
    emergency_contact_name = models.CharField(
        _("emergency contact name"), max_length=200, blank=True
    )
    emergency_contact_phone = models.CharField(
        _("emergency contact phone"), max_length=20, blank=True
    )
    emergency_contact_relationship = models.CharField(
        _("emergency contact relationship"), max_length=100, blank=True
    )
    # Only synthetic patients, ever, in demo and test data: labelled in the UI and exports.
    is_synthetic = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [models.Index(fields=["program", "family_name"], name="patient_program_name")]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def staff_label(self) -> str:
        """The name staff see, with the date of birth that tells apart patients who share it.

        Every staff page names a patient through this (the ``patient_name`` template filter),
        so two "Maria Lopez" on the calendar, the alert bar or a list are never confused.
        """
        return _("%(name)s (born %(date)s)") % {
            "name": self.full_name,
            "date": self.date_of_birth.isoformat() if self.date_of_birth else "?",
        }

    @property
    def staff_label_list(self) -> str:
        """``staff_label`` with the family name first, for lists sorted by it."""
        return _("%(name)s (born %(date)s)") % {
            "name": f"{self.family_name}, {self.given_name}",
            "date": self.date_of_birth.isoformat() if self.date_of_birth else "?",
        }

    @property
    def display_first_name(self) -> str:
        return self.preferred_name or self.given_name

    @property
    def race_ethnicity_labels(self) -> str:
        labels = {choice.value: str(choice.label) for choice in RaceEthnicity}
        return ", ".join(labels.get(code, code) for code in self.race_ethnicity)

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", _("Treatment")
    REMINDERS_SMS = "reminders_sms", _("Reminders by text message")
    REMINDERS_EMAIL = "reminders_email", _("Reminders by e-mail")
    RESEARCH = "research_sharing", _("Research data sharing")
    GROUP = "group_participation", _("Group participation")
    # 42 CFR Part 2: records of substance-use treatment need the patient's written consent.
    PART2 = "part2", _("42 CFR Part 2 (substance-use records)")


class ConsentQuerySet(ProgramScopedQuerySet["Consent"]):
    def active(self) -> ConsentQuerySet:
        return self.filter(withdrawn_on__isnull=True)


class Consent(models.Model):
    PATIENT_DATA = True

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("consent"), max_length=24, choices=ConsentKind.choices)
    scope = models.CharField(_("scope"), max_length=300, blank=True)
    given_on = models.DateField(_("date given"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_on = models.DateField(_("date withdrawn"), null=True, blank=True)
    # Who recorded the withdrawal and why, as the patient gave it (asked on a confirm page).
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawal_reason = models.CharField(_("reason for withdrawal"), max_length=500, blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-given_on", "kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.given_on})"

    @property
    def active(self) -> bool:
        return self.withdrawn_on is None
