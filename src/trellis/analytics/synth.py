"""A synthetic network in the ``trellis-network/1`` schema (``trellis synth network``).

Vectorised with numpy, written chunk by chunk with pyarrow (memory stays flat at any size).
Everything is drawn from one seeded generator, so the same ``--seed`` gives the same files.

**Generative model** (documented in docs/network.md; the planted effects are what the analytics
must recover):

- *Programs* differ in size (log-normal weights), track mix (Dirichlet), engagement (each
  program's mean probability that an integration session is done, Beta(6, 3)), data
  completeness (probability a scheduled PHQ-9 is recorded, U(0.55, 0.98)) and baseline capture
  (U(0.70, 0.99)).
- *Patients*: age N(44, 14) in 18–95 (top-coded 90 on writing); sex, OMB race and ethnicity,
  language, rurality, a random three-digit ZIP area (restricted areas written ``000``);
  poverty class A–F or unknown; payer by poverty class (Medicaid and self-pay for A–B,
  commercial for E–F).
- *Doses*: the track's induction series on its schedule (IV: 6 over 12 days; esketamine:
  twice weekly for 4 weeks; AUD: 3 weekly); 8 % withdraw during the induction; after it,
  booster (ketamine) or maintenance (esketamine) doses as a Poisson process of 6 a year, halved
  for engaged patients (the planted maintenance effect).
- *Engagement*: integration sessions on days 0 … L + 7 each done with the patient's propensity
  (Beta around the program's mean), else missed (5 % cancelled); ``engaged`` is then computed
  exactly as CLINICAL.md §9 defines it. Peer circles: 8 weekly meetings from day 7; "circle"
  = attended at least half.
- *PHQ-9*: a baseline on days −14 … 0 (else one on day −20, outside the window, or none),
  then weekly to day 84 and every 14 days to day 364 (0–1 day jitter), each recorded with the
  program's completeness. Baseline N(18, 4) in 10–27. Response by track (probability 0.40–0.55)
  on a week 1–4 visit; responders then score 5–45 % of baseline (below 5: remission).
- *Relapse* among responders: exponential time from the response day with hazard
  ln 2 / 40 days × HR ** engaged × 0.8 ** circle × exp(0.04 × (baseline − 18)); the default
  planted ``HR`` is 0.6. From then on PHQ-9 is at relapse level (≥ 10, reduction < 50 %); 10 %
  of relapses are a hospitalisation that day, 1 % a suicide attempt. Emergency visits occur
  at random (0.3 a year).
- *Follow-up*: L + U(30, 400) days; status completed when follow-up passes L + 180, withdrawn
  when the induction stopped early, active otherwise; ``last_day`` = the last day with a record.
- *Charges*: a consult ($300, day −7), each dose (IV ketamine $450; esketamine $700) and each
  integration session done ($150); the patient's share by payer (self-pay by the HRSA sliding
  fee of CLINICAL.md §8: A pays $20, B–E 80–20 % off, F full; insured 20 % coinsurance; Medicaid
  $0), the payer the rest. Exact cents, written as decimal128.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from trellis.analytics.schema import TABLES, manifest, money_array
from trellis.core.deid import AGE_TOP, RESTRICTED_ZIP3
from trellis.core.errors import InvalidInput

CHUNK = 50_000


@dataclass(frozen=True)
class Track:
    name: str
    drug: str
    schedule: tuple[int, ...]  # induction dose days
    p_response: float


TRACKS = (
    Track("iv-trd", "ketamine", (0, 2, 4, 7, 9, 11), 0.55),
    Track("esketamine-trd", "esketamine", (0, 3, 7, 10, 14, 17, 21, 24), 0.50),
    Track("esketamine-suicidal", "esketamine", (0, 3, 7, 10, 14, 17, 21, 24), 0.55),
    Track("iv-ptsd", "ketamine", (0, 2, 4, 7, 9, 11), 0.45),
    Track("iv-bipolar", "ketamine", (0, 2, 4, 7, 9, 11), 0.50),
    Track("complex-trauma", "ketamine", (0, 3, 7, 10, 14, 17), 0.40),
    Track("iv-ocd", "ketamine", (0, 2, 4, 7, 9, 11), 0.40),
    Track("iv-aud", "ketamine", (0, 7, 14), 0.45),
)
TRACK_WEIGHTS = np.array([8, 5, 2, 2, 2, 1, 1, 1], dtype=float)
SEX = (("female", 0.58), ("male", 0.40), ("intersex", 0.005), ("unknown", 0.015))
RACE = (
    ("white", 0.58),
    ("black", 0.13),
    ("hispanic", 0.16),
    ("asian", 0.06),
    ("aian", 0.01),
    ("nhpi", 0.005),
    ("mena", 0.01),
    ("multiple", 0.025),
    ("unknown", 0.02),
)
LANGUAGE = (("en", 0.80), ("es", 0.14), ("zh", 0.02), ("vi", 0.02), ("other", 0.02))
RURAL = (("urban", 0.74), ("rural", 0.21), ("unknown", 0.05))
POVERTY = ("A", "B", "C", "D", "E", "F", "unknown")
POVERTY_P = (0.14, 0.07, 0.07, 0.07, 0.07, 0.50, 0.08)
PAYER = ("self_pay", "medicaid", "medicare", "commercial", "other", "unknown")
# Payer by poverty class (rows follow POVERTY).
PAYER_P = np.array(
    [
        [0.25, 0.60, 0.08, 0.02, 0.03, 0.02],
        [0.25, 0.50, 0.10, 0.10, 0.03, 0.02],
        [0.25, 0.30, 0.12, 0.28, 0.03, 0.02],
        [0.25, 0.15, 0.12, 0.43, 0.03, 0.02],
        [0.25, 0.05, 0.12, 0.53, 0.03, 0.02],
        [0.20, 0.01, 0.14, 0.60, 0.03, 0.02],
        [0.30, 0.15, 0.10, 0.30, 0.05, 0.10],
    ]
)
# Self-pay share of the gross by class (HRSA sliding fee, CLINICAL.md §8 ★ default schedule).
SELF_PAY_SHARE = (None, 0.20, 0.40, 0.60, 0.80, 1.00, 1.00)  # A: nominal $20 per visit
NOMINAL_CENTS = 2000
ASSESS_GRID = np.array([*range(7, 85, 7), *range(98, 365, 14)], dtype=np.int32)
MEDIAN_RELAPSE_DAYS = 40.0
HR_CIRCLE = 0.8
BETA_BASELINE = 0.04


def _choice(rng: np.random.Generator, table: tuple[tuple[str, float], ...], n: int) -> pa.Array:
    """n draws from ``table`` (name, weight) as an Arrow string array (built in C++)."""
    p = np.array([w for _, w in table])
    codes = rng.choice(len(table), size=n, p=p / p.sum())
    return pa.array([name for name, _ in table], pa.string()).take(pa.array(codes))


def _keys(rng: np.random.Generator, prefix: str, n: int) -> np.ndarray:
    hi = rng.integers(0, 2**62, size=n, dtype=np.int64)
    return np.char.add(prefix, np.char.mod("%016x", hi))


@dataclass
class _Programs:
    keys: np.ndarray
    weights: np.ndarray
    mix: np.ndarray  # programs × tracks
    engage: np.ndarray
    complete: np.ndarray
    baseline_capture: np.ndarray


def _programs(rng: np.random.Generator, n: int, keys: list[str] | None = None) -> _Programs:
    weights = rng.lognormal(0.0, 0.8, size=n)
    names = _keys(rng, "p", n).astype(object)
    for i, k in enumerate((keys or [])[:n]):
        names[i] = k
    return _Programs(
        keys=names,
        weights=weights / weights.sum(),
        mix=rng.dirichlet(TRACK_WEIGHTS * 2, size=n),
        engage=rng.beta(6, 3, size=n),
        complete=rng.uniform(0.55, 0.98, size=n),
        baseline_capture=rng.uniform(0.70, 0.99, size=n),
    )


def _flatten(mask: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rows of a (episodes × slots) grid where ``mask`` is set: episode index, then columns."""
    rows, _ = np.nonzero(mask)
    return (rows, *(c[mask] for c in columns))


def _chunk(
    rng: np.random.Generator, progs: _Programs, n: int, hazard_ratio: float
) -> dict[str, pa.Table]:
    tracks = TRACKS
    prog = rng.choice(len(progs.keys), size=n, p=progs.weights)
    # Track by the program's mix: inverse-CDF per row.
    cdf = np.cumsum(progs.mix[prog], axis=1)
    track = np.minimum((cdf < rng.random(n)[:, None]).sum(axis=1), len(tracks) - 1)
    n_ind = np.array([len(t.schedule) for t in tracks])[track]
    max_ind = max(len(t.schedule) for t in tracks)
    sched = np.full((len(tracks), max_ind), -1, dtype=np.int32)
    for i, t in enumerate(tracks):
        sched[i, : len(t.schedule)] = t.schedule
    ind_days = sched[track]  # n × max_ind, -1 padded
    withdrew = rng.random(n) < 0.08
    given = np.where(withdrew, rng.integers(1, np.maximum(n_ind, 2), size=n), n_ind)
    slot = np.arange(max_ind)[None, :]
    dose_mask = slot < given[:, None]
    big_l = ind_days[np.arange(n), given - 1]
    follow_end = big_l + rng.integers(30, 401, size=n)
    follow_end = np.where(withdrew, big_l + rng.integers(0, 30, size=n), follow_end)

    # Engagement: integration sessions on days 0 … L + 7 (4 + half the induction series).
    n_int = 4 + n_ind // 2
    max_int = int(n_int.max())
    propensity = rng.beta(progs.engage[prog] * 8 + 0.5, (1 - progs.engage[prog]) * 8 + 0.5)
    islot = np.arange(max_int)[None, :]
    int_planned = islot < n_int[:, None]
    int_day = np.floor(
        (islot + rng.random((n, max_int))) / n_int[:, None] * (big_l + 8)[:, None]
    ).astype(np.int32)
    int_day = np.minimum(int_day, (big_l + 7)[:, None])
    u = rng.random((n, max_int))
    int_status = np.where(u < propensity[:, None], 0, 1)  # 0 done, 1 missed
    int_status = np.where(rng.random((n, max_int)) < 0.05, 2, int_status)  # cancelled
    int_exists = int_planned & (int_day <= follow_end[:, None])
    done = ((int_status == 0) & int_exists).sum(axis=1)
    counted = ((int_status < 2) & int_exists).sum(axis=1)
    engaged = (counted > 0) & (5 * done >= 4 * counted)  # CLINICAL.md §9: ≥ 80 %
    # Later integration sessions (monthly after L + 7) do not count for engagement.
    late_slot = np.arange(4)[None, :]
    late_day = (big_l + 8)[:, None] + 30 * late_slot + rng.integers(0, 10, size=(n, 4))
    late_exists = late_day <= follow_end[:, None]
    late_status = np.where(rng.random((n, 4)) < propensity[:, None], 0, 1)
    # Peer circle: 8 weekly meetings from day 7.
    cslot = np.arange(8)[None, :]
    circle_day = 7 + 7 * cslot + np.zeros((n, 1), dtype=np.int64)
    circle_prop = rng.beta(2, 2, size=n)
    circle_exists = (circle_day <= follow_end[:, None]) & (rng.random(n) < 0.6)[:, None]
    circle_status = np.where(rng.random((n, 8)) < circle_prop[:, None], 0, 1)
    attended = ((circle_status == 0) & circle_exists).sum(axis=1)
    circle = attended >= 4

    # PHQ-9.
    baseline = np.clip(np.rint(rng.normal(18, 4, size=n)), 10, 27).astype(np.int32)
    grid = ASSESS_GRID[None, :] + rng.integers(0, 2, size=(n, len(ASSESS_GRID)))
    recorded = rng.random((n, len(ASSESS_GRID))) < progs.complete[prog][:, None]
    recorded &= grid <= follow_end[:, None]
    p_resp = np.array([t.p_response for t in tracks])[track]
    responder = rng.random(n) < p_resp
    resp_visit = rng.integers(0, 4, size=n)  # week 1–4 visit where the response shows
    gslot = np.arange(len(ASSESS_GRID))[None, :]
    after_resp = responder[:, None] & (gslot >= resp_visit[:, None])
    resp_day = grid[np.arange(n), resp_visit]
    hazard = (
        math.log(2)
        / MEDIAN_RELAPSE_DAYS
        * np.where(engaged, hazard_ratio, 1.0)
        * np.where(circle, HR_CIRCLE, 1.0)
        * np.exp(BETA_BASELINE * (baseline - 18))
    )
    relapse_at = resp_day + np.ceil(rng.exponential(1 / hazard)).astype(np.int64)
    relapsed = after_resp & (grid >= relapse_at[:, None])
    base_f = baseline[:, None].astype(float)
    non_resp = np.ceil(base_f * rng.uniform(0.55, 1.0, size=grid.shape) + 0.01)
    well = np.floor(base_f * rng.uniform(0.05, 0.45, size=grid.shape))
    relapse_level = np.maximum(10, np.floor(base_f / 2) + 1) + rng.integers(0, 5, size=grid.shape)
    score = np.where(relapsed, relapse_level, np.where(after_resp, well, non_resp))
    score = np.clip(score, 0, 27).astype(np.int32)
    # Make sure a responder's response visit is recorded half of the time at least.
    recorded[np.arange(n), resp_visit] |= responder & (rng.random(n) < 0.5)
    recorded &= grid <= follow_end[:, None]
    cap = rng.random(n) < progs.baseline_capture[prog]
    base_day = np.where(cap, -rng.integers(0, 15, size=n), -20)
    has_pre = cap | (rng.random(n) < 0.5)

    # Events: relapse as a hospitalisation (10 %) or suicide attempt (1 %); emergency visits.
    true_relapse = responder & (relapse_at <= follow_end)
    u = rng.random(n)
    hosp = true_relapse & (u < 0.10)
    attempt = true_relapse & (u >= 0.10) & (u < 0.11)
    er_day = rng.integers(0, 400, size=n)
    er = (rng.random(n) < 0.3 * np.maximum(follow_end, 0) / 365.25 / 3) & (er_day <= follow_end)

    # Booster / maintenance doses after L: Poisson(6 a year, halved when engaged).
    exposure = np.maximum(follow_end - big_l, 0)
    lam = 6.0 * np.where(engaged, 0.5, 1.0) * exposure / 365.25
    n_boost = np.minimum(rng.poisson(lam), 24)
    bslot = np.arange(24)[None, :]
    boost_mask = bslot < n_boost[:, None]
    boost_day = (
        big_l[:, None] + 1 + np.floor(rng.random((n, 24)) * np.maximum(exposure, 1)[:, None])
    )

    # Preparation (2, before day 0) and follow-up visits (monthly after L).
    prep_day = np.stack([-rng.integers(8, 15, size=n), -rng.integers(1, 8, size=n)], axis=1)
    fslot = np.arange(6)[None, :]
    fu_day = big_l[:, None] + 30 * (fslot + 1)
    fu_exists = fu_day <= follow_end[:, None]
    fu_status = np.where(rng.random((n, 6)) < 0.85, 0, 1)

    ep_idx = np.arange(n)
    # --- assemble rows ---------------------------------------------------------------------
    keys = _keys(rng, "e", n)
    a_rows, a_day, a_total = _flatten(recorded, grid.astype(np.int32), score)
    pre_rows = ep_idx[has_pre]
    assess_ep = np.concatenate([pre_rows, a_rows])
    assess_day = np.concatenate([base_day[has_pre], a_day])
    assess_total = np.concatenate([baseline[has_pre], a_total])

    d_rows, d_day = _flatten(dose_mask, ind_days)
    b_rows, b_day = _flatten(boost_mask, boost_day)
    boost_phase = np.where(np.array([t.drug for t in tracks])[track] == "esketamine", 2, 1)
    dose_ep = np.concatenate([d_rows, b_rows])
    dose_day = np.concatenate([d_day, b_day])
    dose_phase = np.concatenate([np.zeros(len(d_rows), dtype=np.int8), boost_phase[b_rows]])

    i_rows, i_day, i_status = _flatten(int_exists, int_day, int_status)
    l_rows, l_day, l_status = _flatten(late_exists, late_day, late_status)
    c_rows, c_day, c_status = _flatten(circle_exists, circle_day, circle_status)
    f_rows, f_day, f_status = _flatten(fu_exists, fu_day, fu_status)
    p_rows = np.repeat(ep_idx, 2)
    p_day = prep_day.reshape(-1)
    act_ep = np.concatenate([p_rows, i_rows, l_rows, c_rows, f_rows])
    act_day = np.concatenate([p_day, i_day, l_day, c_day, f_day])
    act_kind = np.concatenate(
        [
            np.zeros(len(p_rows), np.int8),
            np.ones(len(i_rows) + len(l_rows), np.int8),
            np.full(len(c_rows), 2, np.int8),
            np.full(len(f_rows), 3, np.int8),
        ]
    )
    act_status = np.concatenate(
        [np.zeros(len(p_rows), np.int64), i_status, l_status, c_status, f_status]
    )

    ev_ep = np.concatenate([ep_idx[hosp], ep_idx[attempt], ep_idx[er]])
    ev_day = np.concatenate([relapse_at[hosp], relapse_at[attempt], er_day[er]])
    ev_kind = np.concatenate(
        [
            np.zeros(hosp.sum(), np.int8),
            np.ones(attempt.sum(), np.int8),
            np.full(er.sum(), 2, np.int8),
        ]
    )

    # last_day: the last day with any record.
    last = np.full(n, -10_000, dtype=np.int64)
    for rows, days in (
        (assess_ep, assess_day),
        (dose_ep, dose_day),
        (act_ep, act_day),
        (ev_ep, ev_day),
    ):
        np.maximum.at(last, rows, days.astype(np.int64))

    # Charges: consult, doses, integration sessions done.
    poverty = rng.choice(len(POVERTY), size=n, p=POVERTY_P)
    payer_cdf = np.cumsum(PAYER_P[poverty], axis=1)
    payer = np.minimum((payer_cdf < rng.random(n)[:, None]).sum(axis=1), len(PAYER) - 1)
    drug_is_esk = np.array([t.drug == "esketamine" for t in tracks])[track]
    integ_done = act_kind == 1
    integ_done &= np.concatenate(
        [
            np.zeros(len(p_rows), bool),
            i_status == 0,
            l_status == 0,
            np.zeros(len(c_rows) + len(f_rows), bool),
        ]
    )
    ch_ep = np.concatenate([ep_idx, dose_ep, act_ep[integ_done]])
    ch_day = np.concatenate([np.full(n, -7), dose_day, act_day[integ_done]])
    ch_item = np.concatenate(
        [
            np.zeros(n, np.int8),
            np.where(drug_is_esk[dose_ep], 2, 1).astype(np.int8),
            np.full(int(integ_done.sum()), 3, np.int8),
        ]
    )
    gross = np.array([30000, 45000, 70000, 15000], dtype=np.int64)[ch_item]
    ch_payer = payer[ch_ep]
    ch_class = poverty[ch_ep]
    share = np.array([s if s is not None else 0.0 for s in SELF_PAY_SHARE])[ch_class]
    self_pay = np.where(
        ch_class == 0, np.minimum(NOMINAL_CENTS, gross), np.rint(gross * share).astype(np.int64)
    )
    patient = np.select(
        [ch_payer == 0, ch_payer == 1, ch_payer == 5],
        [self_pay, np.zeros_like(gross), gross],
        default=np.rint(gross * 0.2).astype(np.int64),
    )

    status = np.where(withdrew, 2, np.where(follow_end >= big_l + 180, 1, 0))
    ages = np.minimum(np.clip(np.rint(rng.normal(44, 14, size=n)), 18, 95), AGE_TOP)
    zip_vocab = pa.array(
        [("000" if f"{i:03d}" in RESTRICTED_ZIP3 else f"{i:03d}") for i in range(1000)], pa.string()
    )
    zips = zip_vocab.take(pa.array(rng.integers(5, 1000, size=n)))
    track_names = tuple(t.name for t in tracks)
    drugs = tuple(t.drug for t in tracks)
    drug_code = np.array([drugs.index(t.drug) for t in tracks])[track]

    key_arr = pa.array(keys.tolist(), pa.string())

    def by_episode(rows: np.ndarray) -> pa.Array:
        """The episode key of each row (a C++ take, no Python strings per row)."""
        return key_arr.take(pa.array(rows, pa.int64()))

    def i32(values: np.ndarray) -> pa.Array:
        return pa.array(np.asarray(values, dtype=np.int32), pa.int32())

    def names(codes: np.ndarray, vocab: tuple[str, ...]) -> pa.Array:
        return pa.DictionaryArray.from_arrays(
            pa.array(np.asarray(codes, dtype=np.int32)), pa.array(vocab)
        ).cast(pa.string())

    episodes = pa.table(
        {
            "episode_key": key_arr,
            "patient_key": pa.array(_keys(rng, "q", n).tolist(), pa.string()),
            "program_key": pa.array(list(progs.keys), pa.string()).take(pa.array(prog)),
            "track": names(track, track_names),
            "drug": names(drug_code, drugs),
            "first_dose_year": i32(rng.integers(2024, 2027, size=n)),
            "age": i32(ages),
            "sex": _choice(rng, SEX, n),
            "race_ethnicity": _choice(rng, RACE, n),
            "language": _choice(rng, LANGUAGE, n),
            "poverty_class": names(poverty, POVERTY),
            "payer": names(payer, PAYER),
            "rurality": _choice(rng, RURAL, n),
            "zip3": zips,
            "induction_doses": i32(n_ind),
            "status": names(status, ("active", "completed", "withdrawn")),
            "last_day": i32(last),
        },
        schema=TABLES["episodes"],
    )
    return {
        "episodes": episodes,
        "doses": pa.table(
            {
                "episode_key": by_episode(dose_ep),
                "day": i32(dose_day),
                "phase": names(dose_phase, ("induction", "booster", "maintenance")),
            },
            schema=TABLES["doses"],
        ),
        "assessments": pa.table(
            {
                "episode_key": by_episode(assess_ep),
                "day": i32(assess_day),
                "instrument": pa.array(["phq9"] * len(assess_ep), pa.string()),
                "total": i32(assess_total),
            },
            schema=TABLES["assessments"],
        ),
        "activities": pa.table(
            {
                "episode_key": by_episode(act_ep),
                "day": i32(act_day),
                "kind": names(act_kind, ("preparation", "integration", "peer_circle", "follow_up")),
                "status": names(act_status, ("done", "missed", "cancelled")),
            },
            schema=TABLES["activities"],
        ),
        "events": pa.table(
            {
                "episode_key": by_episode(ev_ep),
                "day": i32(ev_day),
                "kind": names(ev_kind, ("hospitalization", "suicide_attempt", "emergency_visit")),
            },
            schema=TABLES["events"],
        ),
        "charges": pa.table(
            {
                "episode_key": by_episode(ch_ep),
                "day": i32(ch_day),
                "item": names(ch_item, ("consult", "ketamine_iv", "esketamine", "integration")),
                "gross_usd": money_array(gross),
                "patient_usd": money_array(patient),
                "payer_usd": money_array(gross - patient),
            },
            schema=TABLES["charges"],
        ),
    }


def synthesise(
    out: Path,
    programs: int,
    patients: int,
    seed: int,
    hazard_ratio: float = 0.6,
    progress: Callable[[int], None] | None = None,
    program_keys: list[str] | None = None,
) -> dict[str, Any]:
    """Write a synthetic network of ``patients`` episodes in ``programs`` programs to ``out``.

    ``program_keys`` name the first programs (e.g. a real program's pseudonym, for the demo).
    Returns the manifest (also written as ``manifest.json``).
    """
    if programs < 1:
        raise InvalidInput("--programs", "must be at least 1")
    if patients < 1:
        raise InvalidInput("--patients", "must be at least 1")
    if not 0 < hazard_ratio <= 10:
        raise InvalidInput("--hazard-ratio", "must be in (0, 10]")
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    progs = _programs(rng, programs, program_keys)
    writers = {
        name: pq.ParquetWriter(out / f"{name}.parquet", schema, compression="zstd")
        for name, schema in TABLES.items()
    }
    rows = dict.fromkeys(TABLES, 0)
    try:
        done = 0
        while done < patients:
            n = min(CHUNK, patients - done)
            for name, table in _chunk(rng, progs, n, hazard_ratio).items():
                writers[name].write_table(table)
                rows[name] += table.num_rows
            done += n
            if progress:
                progress(n)
    finally:
        for w in writers.values():
            w.close()
    man = manifest(True, programs, rows)
    (out / "manifest.json").write_text(json.dumps(man, indent=2) + "\n", encoding="utf-8")
    return man
