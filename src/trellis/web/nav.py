"""Navigation entries contributed by each domain app.

An app adds an entry with :func:`nav_item` in its ``AppConfig.ready``; the base template shows the
entries whose roles the signed-in user holds in the current program.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    label: str | Promise  # usually a lazy translation string
    url_name: str
    roles: frozenset[str]
    order: int = 50

    @property
    def url(self) -> str:
        return reverse(self.url_name)


NAV_ITEMS: list[NavItem] = []


def nav_item(label: str | Promise, url_name: str, roles: Iterable[str], order: int = 50) -> None:
    if all(item.url_name != url_name for item in NAV_ITEMS):
        NAV_ITEMS.append(NavItem(label, url_name, frozenset(roles), order))


def items_for(roles: Iterable[str]) -> list[NavItem]:
    held = set(roles)
    return sorted((i for i in NAV_ITEMS if i.roles & held), key=lambda i: (i.order, i.url_name))
