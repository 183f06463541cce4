"""Programs (the tenant), their sites and rooms, staff users and their roles per program."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    PRESCRIBER = "prescriber", _("Prescriber")
    NURSE = "nurse", _("Nurse")
    THERAPIST = "therapist", _("Integration therapist")
    COORDINATOR = "coordinator", _("Coordinator")
    PEER_FACILITATOR = "peer_facilitator", _("Peer facilitator")
    ANALYST = "analyst", _("Analyst")


class Sees(models.TextChoices):
    """What a role is allowed to see: the kinds of data behind its pages."""

    CHARTS = "charts", _("Patients' charts (identity, contacts, clinical record)")
    CIRCLE_MEMBERS = "circle_members", _("Their circles' members: first names and attendance")
    AGGREGATES = "aggregates", _("De-identified aggregates")


# The one table of role rights (issue: foundation; issue 14). Every rule that depends on what a
# role may see is derived from it: who opens charts (CLINICAL_ROLES) and who needs the second
# factor (IDENTIFIER_ROLES). A new role or right is one line here, never a second list elsewhere.
ROLE_SEES: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset({Sees.CHARTS, Sees.AGGREGATES}),
    Role.PRESCRIBER: frozenset({Sees.CHARTS}),
    Role.NURSE: frozenset({Sees.CHARTS}),
    Role.THERAPIST: frozenset({Sees.CHARTS}),
    Role.COORDINATOR: frozenset({Sees.CHARTS, Sees.AGGREGATES}),
    Role.PEER_FACILITATOR: frozenset({Sees.CIRCLE_MEMBERS}),
    Role.ANALYST: frozenset({Sees.AGGREGATES}),
}

# Rights that put a patient identifier (a name, a contact, a date of birth) on the screen.
IDENTIFYING_RIGHTS: frozenset[str] = frozenset({Sees.CHARTS, Sees.CIRCLE_MEMBERS})


def roles_that_see(rights: frozenset[str] | set[str]) -> frozenset[str]:
    """Roles holding any of ``rights`` in :data:`ROLE_SEES`."""
    return frozenset(role for role, sees in ROLE_SEES.items() if sees & rights)


# Roles that may open a patient's chart. Peer facilitators see circle members' first names and
# attendance only; analysts see de-identified aggregates only (issue: foundation).
CLINICAL_ROLES: frozenset[str] = roles_that_see({Sees.CHARTS})
# Roles that see any patient identifier: each needs the second factor (README; HIPAA
# §164.312(d) person authentication).
IDENTIFIER_ROLES: frozenset[str] = roles_that_see(IDENTIFYING_RIGHTS)


class User(AbstractUser):
    """A staff member. Patients have no accounts: they use check-in links."""

    preferred_language = models.CharField(max_length=8, default="en")

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Program(models.Model):
    """The tenant: a clinic or health-centre site. Every patient-data row carries its program."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="America/New_York")
    on_call_name = models.CharField(max_length=200, blank=True)
    on_call_email = models.EmailField(blank=True)
    on_call_phone = models.CharField(max_length=32, blank=True)
    # Urgent alerts not acknowledged within this many minutes go to the on-call contact (★ 60,
    # configurable per program; issue "measurement-based care").
    alert_escalation_minutes = models.PositiveSmallIntegerField(default=60)
    # Synthetic programs hold only made-up patients; the UI and exports label them as such.
    is_synthetic = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["program", "name"], name="site_unique_name")]

    def __str__(self) -> str:
        return self.name


class Room(models.Model):
    class Kind(models.TextChoices):
        DOSING_CHAIR = "dosing_chair", _("Dosing chair")
        THERAPY_ROOM = "therapy_room", _("Therapy room")
        CIRCLE_ROOM = "circle_room", _("Circle room")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="room_unique_name")]

    def __str__(self) -> str:
        return f"{self.site} · {self.name}"


class Membership(models.Model):
    """One role of one staff member in one program. A person may hold several roles."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    languages = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["program", "user", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "program", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.program} · {self.role}"
