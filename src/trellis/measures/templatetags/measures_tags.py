"""Template filters of the measures pages: plain words for codes (``trellis.measures.labels``)."""

from __future__ import annotations

from django import template

from trellis.measures import labels

register = template.Library()

register.filter("status_label", labels.status_label)
register.filter("status_meaning", labels.status_meaning)
register.filter("band_label", labels.band_label)
register.filter("risk_label", labels.risk_label)
