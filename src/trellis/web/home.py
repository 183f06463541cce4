"""The home page: each role's day (work queues) and summary cards, contributed by the apps.

Work queues. An app adds a queue to the home page of the roles that do that work with
:func:`work_queue` in its ``AppConfig.ready`` (or by decorating the function in a module imported
there)::

    @work_queue("dosing.today", roles=[Role.NURSE], order=10)
    def doses_today(request, now) -> QueueSection | None: ...

The function gets the request (user and program already checked) and the time, reads its own
app's data through its own services (never another app's tables) with a constant number of
queries, and returns a :class:`QueueSection`: a title, the total count, a link to the full list,
the first rows, and what to do next when the queue is empty. ``None`` hides the section. The home
page calls only the queues of the roles the user holds in the current program and writes one
audit event naming the patients shown (these pages show patient names).

Cards. ``CARD_PROVIDERS`` is the older, simpler hook: a callable ``(request) -> card | None``
where a card is a dict (title, number, url, link_text).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise

Card = dict[str, Any]
CARD_PROVIDERS: list[Callable[[HttpRequest], Card | None]] = []

#: Rows shown per queue on the home page; the count and the link lead to the rest.
ROWS_SHOWN = 8


def home_cards(request: HttpRequest) -> list[Card]:
    cards = []
    for provider in CARD_PROVIDERS:
        card = provider(request)
        if card is not None:
            cards.append(card)
    return cards


@dataclass(frozen=True)
class QueueAction:
    """A button on a queue row: a link (GET) or, with ``post``, a small form posting ``post``."""

    label: str | Promise
    url: str
    post: dict[str, str] | None = None


@dataclass(frozen=True)
class QueueRow:
    """One piece of work: who (the patient or circle), what is due, when and where."""

    who: str
    what: str | Promise
    url: str = ""
    when: str = ""
    where: str = ""
    action: QueueAction | None = None
    urgent: bool = False
    # The patient named in the row, for the audit event of the home page (never shown).
    patient_id: Any = None


@dataclass(frozen=True)
class QueueSection:
    title: str | Promise
    count: int
    url: str
    link_text: str | Promise
    rows: list[QueueRow] = field(default_factory=list)
    # Shown when the queue is empty: what to do next, optionally with a link.
    empty: str | Promise = ""
    empty_url: str = ""
    empty_link_text: str | Promise = ""
    key: str = ""


QueueBuilder = Callable[[HttpRequest, datetime], QueueSection | None]


@dataclass(frozen=True)
class QueueProvider:
    key: str
    roles: frozenset[str]
    order: int
    build: QueueBuilder


QUEUE_PROVIDERS: list[QueueProvider] = []


def work_queue(
    key: str, *, roles: Iterable[str], order: int = 50
) -> Callable[[QueueBuilder], QueueBuilder]:
    """Register ``build`` as the work queue ``key`` on the home page of ``roles`` (idempotent:
    registering the same key again replaces nothing)."""

    def register(build: QueueBuilder) -> QueueBuilder:
        if all(p.key != key for p in QUEUE_PROVIDERS):
            QUEUE_PROVIDERS.append(QueueProvider(key, frozenset(roles), order, build))
        return build

    return register


def providers_for(roles: Iterable[str]) -> list[QueueProvider]:
    held = set(roles)
    return sorted((p for p in QUEUE_PROVIDERS if p.roles & held), key=lambda p: (p.order, p.key))


def home_queues(request: HttpRequest, now: datetime | None = None) -> list[QueueSection]:
    """The queues of the roles the user holds in the current program, in order; one audit event
    names the patients the page shows."""
    from dataclasses import replace

    from trellis.accounts.services import roles_in
    from trellis.audit.models import Action
    from trellis.audit.services import record

    program = getattr(request, "program", None)
    if program is None:
        return []
    now = now or timezone.now()
    sections = []
    for provider in providers_for(roles_in(request.user, program)):
        section = provider.build(request, now)
        if section is not None:
            sections.append(replace(section, key=provider.key, rows=section.rows[:ROWS_SHOWN]))
    shown = sorted({str(r.patient_id) for s in sections for r in s.rows if r.patient_id})
    if shown:
        record(
            action=Action.VIEW,
            request=request,
            program=program,
            object_type="web.work_queues",
            detail={"patients": shown, "queues": [s.key for s in sections]},
        )
    return sections
