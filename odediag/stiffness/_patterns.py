"""Step patterns: stiff intervals from per-step flags, rejection runs, Hairer's test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from odediag.stiffness._margin import HAIRER_STIFF_H_LAMBDA

# Flagged runs separated by at most this many unflagged accepted steps are
# one interval: after a rejection the controller restarts from a smaller step
# that sits well inside the region for a few steps. DOPRI5 forgets its stiff
# count after 6 non-stiff steps in a row; we merge across 5 or fewer.
MERGE_GAP_STEPS = 5

# An interval needs this many flagged accepted steps. One or two steps at
# the boundary happen in non-stiff solves too (a step grown ×10 after a
# smooth stretch), a sustained run does not.
MIN_INTERVAL_STEPS = 3

# DOPRI5 announces stiffness once 15 stiff steps have accumulated without 6
# non-stiff ones in a row between them (Hairer & Wanner 1996, §IV.2; the
# DOPRI5 code's IASTI and NONSTI counters).
HAIRER_ANNOUNCE_COUNT = 15
HAIRER_RESET_COUNT = 6


@dataclass(frozen=True)
class Interval:
    """A stretch of the solve flagged stiff.

    Attributes
    ----------
    start, end
        Start of the first and end (t + h) of the last flagged step; end is
        below start for a solve backward in time.
    steps
        Accepted steps from the first to the last flagged one.
    flagged
        How many of them were flagged.
    """

    start: float
    end: float
    steps: int
    flagged: int


def flagged_intervals(
    t: np.ndarray,
    h: np.ndarray,
    flags: np.ndarray,
    max_gap: int = MERGE_GAP_STEPS,
    min_steps: int = MIN_INTERVAL_STEPS,
) -> list[Interval]:
    """Intervals of accepted steps where ``flags`` holds, merged and filtered.

    Parameters
    ----------
    t, h, flags
        Start, signed size (negative when integrating backward in time) and
        flag of each accepted step, shape (n,), in order.
    max_gap
        Runs separated by at most this many unflagged steps are merged.
    min_steps
        Merged intervals with fewer flagged steps are dropped.

    Returns
    -------
    list of Interval
        In time order.
    """
    index = np.flatnonzero(flags)
    if index.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(index) > max_gap + 1)
    firsts = np.concatenate([[0], breaks + 1])
    lasts = np.concatenate([breaks, [index.size - 1]])
    intervals = []
    for first, last in zip(firsts, lasts, strict=True):
        a, b = index[first], index[last]
        if last - first + 1 >= min_steps:
            intervals.append(
                Interval(
                    float(t[a]),
                    float(t[b] + h[b]),
                    int(b - a + 1),
                    int(last - first + 1),
                )
            )
    return intervals


def longest_alternation(accepted: np.ndarray) -> int:
    """Longest run of attempts alternating accept/reject (A R A R … counts 4).

    A long alternation is the classic signature of an explicit method at
    its stability limit: each accepted step lets the step size grow past the
    boundary, the next attempt is rejected, and so on (Hairer & Wanner 1996,
    §IV.2, Fig. 2.3). Runs without a single rejection count 1.
    """
    accepted = np.asarray(accepted, dtype=bool)
    if accepted.size == 0:
        return 0
    alternates = accepted[1:] != accepted[:-1]
    best = run = 1
    for step in alternates:
        run = run + 1 if step else 1
        best = max(best, run)
    return best


def hairer_stiff_steps(trace: xr.Dataset) -> xr.DataArray:
    """Accepted steps where Hairer's estimate h·|λ| exceeds 3.25, bool over step."""
    estimate = trace["hairer_h_lambda"]
    return (estimate > HAIRER_STIFF_H_LAMBDA) & trace["accepted"].astype(bool)


def hairer_announcement(trace: xr.Dataset) -> float | None:
    """Time at which DOPRI5's stiffness test would first announce stiffness.

    Replays the counters of the DOPRI5 code on the trace's estimates: a stiff
    step adds one, six non-stiff steps in a row reset the count, fifteen
    announce. DOPRI5 runs the test only every NSTIFF-th step until a first
    stiff step is seen (NSTIFF = 1000 by default); here every accepted step is
    tested, so the time is the earliest DOPRI5 could report.

    Returns
    -------
    float or None
        Start time of the announcing step; None if never announced or the
        trace has no estimates.
    """
    if "hairer_h_lambda" not in trace:
        return None
    accepted = trace["accepted"].values.astype(bool)
    estimate = trace["hairer_h_lambda"].values[accepted]
    times = trace["t"].values[accepted]
    stiff_count = calm_count = 0
    for t, value in zip(times, estimate, strict=True):
        if not np.isfinite(value):
            continue
        if value > HAIRER_STIFF_H_LAMBDA:
            stiff_count, calm_count = stiff_count + 1, 0
            if stiff_count == HAIRER_ANNOUNCE_COUNT:
                return float(t)
        else:
            calm_count += 1
            if calm_count == HAIRER_RESET_COUNT:
                stiff_count = 0
    return None
