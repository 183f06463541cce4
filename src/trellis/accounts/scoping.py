"""The one tenant-scoping queryset for patient-data models (ARCHITECTURE.md, rule 4).

``Model.objects.visible_to(user)`` keeps the rows of programs where ``user`` holds a clinical role
and nothing for anyone else. Every patient-data model uses this queryset (or a subclass that adds
its own methods), so the rule lives in one place.
"""

from __future__ import annotations

from typing import Any, Self, TypeVar

from django.db import models

_M = TypeVar("_M", bound=models.Model)


class ProgramScopedQuerySet(models.QuerySet[_M, _M]):
    def visible_to(self, user: Any) -> Self:
        from trellis.accounts.services import clinical_programs

        return self.filter(program__in=clinical_programs(user))
