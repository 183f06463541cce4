"""Slot-grid precomputation shared by the solvers (not by the verifier, which stays independent).

Time is an integer slot index ``t = day * slots_per_day + minute // slot_minutes``. For every
resource we precompute ``run[t]``: how many consecutive slots from ``t`` it is free (clinic open,
inside its availability, not blocked by a fixed peer circle). A session of ``d`` slots fits a
resource at ``t`` exactly when ``run[t] >= d``.
"""

from __future__ import annotations

from dataclasses import dataclass

from trellis.core.scheduling.model import Instance, Patient, Track, Window


def _runs(free: list[bool]) -> list[int]:
    run = [0] * (len(free) + 1)
    for t in range(len(free) - 1, -1, -1):
        run[t] = run[t + 1] + 1 if free[t] else 0
    return run[:-1]


@dataclass
class Grid:
    instance: Instance
    spd: int
    horizon: int
    open: list[bool]
    room_run: dict[str, list[int]]
    staff_run: dict[str, list[int]]
    nurse_capacity: list[int]  # doses that may be in progress in each slot
    prescriber_run: list[int]  # best single-prescriber run from each slot
    chairs: list[str]
    therapy_rooms: list[str]
    therapists: list[str]

    def slot(self, day: int, minute: int) -> int:
        return day * self.spd + minute // self.instance.slot_minutes

    def day_minute(self, t: int) -> tuple[int, int]:
        day, s = divmod(t, self.spd)
        return day, s * self.instance.slot_minutes

    def slots(self, minutes: int) -> int:
        return minutes // self.instance.slot_minutes

    def start_range(self, patient: Patient, kind: str, index: int) -> tuple[int, int]:
        """[lo, hi]: the start slots the patient's care-plan window allows for ``kind#index``
        (the whole horizon when the instance gives no window; may be empty: lo > hi)."""
        lo, hi = 0, self.horizon - 1
        w = patient.window(kind, index)
        if w is not None:
            if w.earliest is not None:
                lo = max(lo, w.earliest * self.spd)
            if w.latest is not None:
                hi = min(hi, (w.latest + 1) * self.spd - 1)
        return lo, hi

    def in_window(self, patient: Patient, kind: str, index: int, starts: list[int]) -> list[int]:
        """``starts`` (sorted) restricted to the care-plan window of ``kind#index``."""
        if patient.window(kind, index) is None:
            return starts
        lo, hi = self.start_range(patient, kind, index)
        return [t for t in starts if lo <= t <= hi]

    def patient_run(self, patient: Patient) -> list[int]:
        return _runs(self._free(patient.availability))

    def _free(
        self, windows: tuple[Window, ...] | None, blocked: set[int] | None = None
    ) -> list[bool]:
        inst = self.instance
        free = list(self.open)
        if windows is not None:
            free = [False] * self.horizon
            for day in range(inst.days):
                wd = inst.weekday(day)
                for w in windows:
                    if w.applies(day, wd):
                        for m in range(w.start, w.end, inst.slot_minutes):
                            if m + inst.slot_minutes <= w.end:
                                t = self.slot(day, m)
                                free[t] = self.open[t]
        if blocked:
            for t in blocked:
                free[t] = False
        return free

    def dose_capacity(self) -> tuple[list[int], list[int]]:
        """Per slot, in an empty clinic: (doses that may be in progress = min(free chairs, nurse
        ratio × nurses on duty), the same where a prescriber is on site for esketamine)."""
        h = self.horizon
        chairs = [sum(1 for c in self.chairs if self.room_run[c][t] > 0) for t in range(h)]
        dose = [min(chairs[t], self.nurse_capacity[t]) for t in range(h)]
        esk = [dose[t] if self.prescriber_run[t] > 0 else 0 for t in range(h)]
        return dose, esk

    def therapy_capacity(self, language: str | None = None) -> list[int]:
        """Per slot, in an empty clinic: therapy sessions that may be in progress = min(free
        therapy rooms, free therapists who speak ``language`` (any language when None))."""
        ids = [
            s
            for s in self.therapists
            if language is None or language in _member(self.instance, s).languages
        ]
        return [
            min(
                sum(1 for r in self.therapy_rooms if self.room_run[r][t] > 0),
                sum(1 for s in ids if self.staff_run[s][t] > 0),
            )
            for t in range(self.horizon)
        ]

    def eligible_therapists(self, patient: Patient) -> list[str]:
        return [
            sid
            for sid in self.therapists
            if patient.language in _member(self.instance, sid).languages
        ]

    def static_starts(
        self, patient: Patient, track: Track, kind: str, prun: list[int]
    ) -> list[int]:
        """Starts where the patient, the clinic and *some* suitable resource are free.

        Ignores load (other bookings); the solvers add that."""
        d = self.slots(track.minutes(kind))
        lo = max(0, patient.release_day) * self.spd
        out = []
        if kind == "dose":
            needs_prescriber = (
                track.drug == "esketamine" and self.instance.prescriber_on_site_for_esketamine
            )
            for t in range(lo, self.horizon - d + 1):
                if prun[t] < d:
                    continue
                if needs_prescriber and self.prescriber_run[t] < d:
                    continue
                if min(self.nurse_capacity[t : t + d]) < 1:
                    continue
                if not any(self.room_run[c][t] >= d for c in self.chairs):
                    continue
                out.append(t)
        else:
            ther = self.eligible_therapists(patient)
            for t in range(lo, self.horizon - d + 1):
                if prun[t] < d:
                    continue
                if not any(self.staff_run[s][t] >= d for s in ther):
                    continue
                if not any(self.room_run[r][t] >= d for r in self.therapy_rooms):
                    continue
                out.append(t)
        return out


def _member(instance: Instance, sid: str):  # type: ignore[no-untyped-def]
    member = instance.staff_member(sid)
    assert member is not None
    return member


def build_grid(instance: Instance) -> Grid:
    spd = instance.slots_per_day
    horizon = instance.days * spd
    slot = instance.slot_minutes
    is_open = [False] * horizon
    for day in range(instance.days):
        hours = instance.opening_hours[instance.weekday(day)]
        if hours is None:
            continue
        for m in range(hours[0], hours[1], slot):
            is_open[day * spd + m // slot] = True
    grid = Grid(instance, spd, horizon, is_open, {}, {}, [], [], [], [], [])

    blocked: dict[str, set[int]] = {}
    for c in instance.circles:
        for day in range(instance.days):
            if instance.weekday(day) == c.weekday:
                for m in range(c.start, c.start + c.minutes, slot):
                    if m < 1440:
                        t = day * spd + m // slot
                        blocked.setdefault(c.room, set()).add(t)
                        blocked.setdefault(c.facilitator, set()).add(t)

    for room in instance.rooms:
        grid.room_run[room.id] = _runs(grid._free(room.availability, blocked.get(room.id)))
        if room.kind == "dosing_chair":
            grid.chairs.append(room.id)
        elif room.kind == "therapy_room":
            grid.therapy_rooms.append(room.id)
    nurses_free = [0] * horizon
    prescriber_run = [0] * horizon
    for member in instance.staff:
        free = grid._free(member.availability, blocked.get(member.id))
        run = _runs(free)
        grid.staff_run[member.id] = run
        if "therapist" in member.roles:
            grid.therapists.append(member.id)
        if "nurse" in member.roles:
            for t in range(horizon):
                nurses_free[t] += free[t]
        if "prescriber" in member.roles:
            prescriber_run = [max(a, b) for a, b in zip(prescriber_run, run, strict=True)]
    grid.nurse_capacity = [n * instance.nurse_ratio for n in nurses_free]
    grid.prescriber_run = prescriber_run
    return grid
