from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from trellis.messaging.models import MAX_LENGTH


class MessageForm(forms.Form):
    """The text of one message (patient or staff): not empty, at most MAX_LENGTH characters."""

    body = forms.CharField(
        label=_("Your message"),
        max_length=MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": MAX_LENGTH}),
        error_messages={
            "required": _("Please write your message first."),
            "max_length": _("A message can be at most %(limit_value)d characters long."),
        },
    )

    def __init__(self, *args: Any, label: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if label is not None:
            self.fields["body"].label = label


class AssignForm(forms.Form):
    assigned_to = forms.TypedChoiceField(label=_("Assigned to"), required=False, choices=())

    def __init__(self, *args: Any, staff: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].choices = [("", _("Nobody (shared inbox)"))] + [  # type: ignore[attr-defined]
            (str(u.pk), str(u)) for u in staff
        ]
