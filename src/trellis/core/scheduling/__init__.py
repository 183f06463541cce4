"""Scheduling: book preparation, every dose and every integration session of a course together.

Pure core (no I/O, no clock): the JSON instance and plan formats (:mod:`.model`), an independent
verifier (:mod:`.verify`), a first-come first-fit baseline (:mod:`.greedy`), a CP-SAT optimiser
(:mod:`.cpsat`), repair after a cancellation (:mod:`.repair`), an upper bound (:mod:`.bound`) and a
seeded instance generator (:mod:`.generate`). See ``docs/scheduling.md``.
"""

from trellis.core.scheduling.generate import generate_instance
from trellis.core.scheduling.greedy import solve_greedy
from trellis.core.scheduling.model import (
    Appointment,
    Instance,
    Plan,
    parse_instance,
    parse_plan,
    plan_to_json,
)
from trellis.core.scheduling.verify import CONSTRAINTS, Verification, Violation, verify

__all__ = [
    "CONSTRAINTS",
    "Appointment",
    "Instance",
    "Plan",
    "Verification",
    "Violation",
    "generate_instance",
    "parse_instance",
    "parse_plan",
    "plan_to_json",
    "solve_greedy",
    "verify",
]
