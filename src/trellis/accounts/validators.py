"""Password rules beyond Django's (issue 14, finding 7; OWASP ASVS 2.1, NIST SP 800-63B §5.1.1.2).

NIST asks verifiers to refuse passwords that are "repetitive or sequential characters" and
known-weak values; Django's validators cover length, common passwords, all-digits and similarity
to the user's own name and e-mail. This one refuses the repetitive ones.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# "aaaaaaaaaaaa", "abababababab", "abcabcabcabc", "1234123412341234": a short unit repeated.
_REPEATED_UNIT = re.compile(r"^(.{1,4})\1+$", re.DOTALL)
MIN_DISTINCT = 5


class RepeatedCharacterValidator:
    """Refuse a short unit repeated, or fewer than five distinct characters."""

    def validate(self, password: str, user: Any = None) -> None:
        if _REPEATED_UNIT.match(password) or len(set(password)) < MIN_DISTINCT:
            raise ValidationError(
                _("This password repeats the same few characters. Choose a less predictable one."),
                code="password_repetitive",
            )

    def get_help_text(self) -> str:
        return _("Your password cannot repeat the same few characters.")
