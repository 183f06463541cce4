"""Bridges from a protocol track (:mod:`trellis.core.protocols`) to the safety rules.

The track's YAML holds its dose rule (``dose_rule``) and screening items; these functions turn a
loaded :class:`~trellis.core.protocols.Protocol` into the safety module's
:class:`~trellis.core.safety.dose.DoseRule` and
:class:`~trellis.core.safety.predose.TrackRequirements`, so that a dose is computed "from the
track's rule" and the pre-dose check asks what the track asks.
"""

from __future__ import annotations

from trellis.core.protocols import Protocol
from trellis.core.safety.dose import DoseRule
from trellis.core.safety.predose import TrackRequirements

#: Esketamine is not approved under 18 (CLINICAL.md §4, Spravato label).
ESKETAMINE_MIN_AGE = 18


def dose_rule_from_protocol(protocol: Protocol) -> DoseRule:
    """The safety :class:`DoseRule` for a protocol track.

    Ketamine: ``mg_per_kg`` is both the prescribed rate and the highest allowed rate (a track
    that allows titration adds a higher one through :meth:`DoseRule.from_mapping`); ``max_mg``
    and ``infusion_minutes`` as in the file. Esketamine (Spravato label, CLINICAL.md §4): the
    allowed doses are ``fixed_mg``; at 65+ the track's 65+ first dose (28 mg) is allowed too;
    not under 18 (or the track's hard ``age_below`` screening item, if higher).
    """
    rule = protocol.dose_rule
    hard_ages = [
        item.age_below
        for item in protocol.screening
        if item.kind == "hard" and item.age_below is not None
    ]
    if protocol.drug == "ketamine":
        return DoseRule(
            drug="ketamine",
            route=protocol.route,
            mg_per_kg=rule.mg_per_kg,
            max_mg_per_kg=rule.mg_per_kg,
            max_mg=rule.max_mg,
            infusion_minutes=rule.infusion_minutes,
            min_age=max(hard_ages, default=0),
        )
    allowed = tuple(sorted(rule.fixed_mg))
    allowed_65: tuple[int, ...] = ()
    if rule.first_dose_mg_age_65_plus is not None:
        allowed_65 = tuple(sorted({*allowed, rule.first_dose_mg_age_65_plus}))
    return DoseRule(
        drug="esketamine",
        route=protocol.route,
        allowed_mg=allowed,
        allowed_mg_65_plus=allowed_65,
        first_dose_mg=rule.first_dose_mg,
        first_dose_mg_65_plus=rule.first_dose_mg_age_65_plus,
        min_age=max([ESKETAMINE_MIN_AGE, *hard_ages]),
    )


def track_requirements_from_protocol(protocol: Protocol) -> TrackRequirements:
    """The pre-dose :class:`TrackRequirements` for a protocol track.

    The track "asks" pregnancy status when its screening lists a ``pregnancy`` item; a ``hard``
    item makes pregnancy exclude (IV/IM tracks, CLINICAL.md §5), a ``review`` item makes it
    need a prescriber's review (esketamine tracks). Fasting times are the
    esketamine label's (CLINICAL.md §4: no food 2 h, no liquids 30 min before).
    """
    kinds = {item.kind for item in protocol.screening if item.id == "pregnancy"}
    return TrackRequirements(
        drug=protocol.drug,
        route=protocol.route,
        asks_pregnancy=bool(kinds),
        pregnancy_excludes="hard" in kinds,
    )
