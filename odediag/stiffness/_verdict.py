"""A stiffness verdict for one trace, with the numbers behind it."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import xarray as xr

from odediag._errors import invalid
from odediag.stability import method_names, stability_region
from odediag.stability._methods import TORCHDIFFEQ_FIXED
from odediag.stiffness._margin import (
    STABILITY_THRESHOLD,
    has_spectrum,
    is_implicit,
    is_known_method,
    stability_limited,
    stability_margin,
    step_region,
)
from odediag.stiffness._patterns import (
    Interval,
    flagged_intervals,
    hairer_announcement,
    hairer_stiff_steps,
    longest_alternation,
)
from odediag.trace import Trace, check_trace

# An implicit method's step counts as stiff when a decaying mode's h·λ lies
# beyond the stability region of an explicit reference method: the implicit
# solver is then taking a step no explicit one could take stably, which is
# the operational meaning of stiffness (Shampine & Gear 1979; Hairer & Wanner
# 1996, §IV.1). RK45 stands for the explicit alternative.
EXPLICIT_REFERENCE = "scipy:RK45"

# Alternating accept/reject runs at least this long (in attempts) are reported
# as the pattern of a solve at its stability limit.
ALTERNATION_REPORT = 8

RECOMMENDED_IMPLICIT = "scipy:Radau or scipy:BDF"

# An eigenvalue grows when Re λ exceeds this fraction of its step's spectral
# radius: rounding leaves real parts of order 1e-16·ρ on a pure rotation or
# a conservation law, which must not count as growth.
GROWING_REAL_PART = 1e-9

# The largest |λ| "are growing modes" when the eigenvalue of largest modulus
# grows at this share of the accepted steps or more.
GROWING_SHARE_REPORT = 0.5


@dataclass
class StiffnessVerdict:
    """Whether a solve was stiff, where, and what it cost.

    Attributes
    ----------
    stiff
        True, False, or None when the trace holds no evidence either way.
    evidence
        What the verdict rests on: ``"spectrum"`` (h·λ against the stability
        region), ``"hairer"`` (DOPRI5's h·|λ| estimate), ``"lsoda"`` (LSODA's
        own switch to BDF), ``"rejections"`` (accept/reject alternation only)
        or ``"none"``.
    stiff_onset
        Start of the first stiff interval (time units), or None.
    stiff_intervals
        ``[start, end]`` of each stiff interval (see :func:`analyse`).
    stability_limited_fraction
        Fraction of accepted steps limited by stability; None without
        evidence. For implicit methods, the fraction of steps beyond an
        explicit method's stability limit.
    nfe_stability_limited_fraction
        Fraction of all function evaluations spent in those steps.
    nfe_stiff_intervals_fraction
        Fraction spent in stiff intervals, rejected attempts included.
    growing_modes
        With a spectrum: ``share``, the fraction of accepted steps whose
        eigenvalue of largest |λ| (over samples and modes) grows (Re λ > 0),
        and ``max_real``, the largest Re λ (1/time); None without a spectrum.
    """

    problem: str
    method: str
    status: str
    implicit: bool
    stiff: bool | None
    evidence: str
    stiff_onset: float | None
    stiff_intervals: list[list[float]]
    threshold: float
    n_steps: int
    n_accepted: int
    n_rejected: int
    nfe_total: int
    rejection_rate: float
    longest_alternation: int
    stability_limited_fraction: float | None
    nfe_stability_limited_fraction: float | None
    nfe_stiff_intervals_fraction: float | None
    margin: dict[str, float] | None
    margin_method: str | None
    spectral_radius: dict[str, float] | None
    h_spectral_radius: dict[str, float] | None
    stiffness_ratio: dict[str, float] | None
    condition_number: dict[str, float] | None
    hairer: dict[str, Any] | None
    growing_modes: dict[str, float] | None
    n_samples: int
    limiting_sample: int | None
    limiting_sample_share: float | None
    recommendation: str
    notes: list[str] = field(default_factory=list)

    @property
    def largest_modes_grow(self) -> bool:
        """Whether the largest |λ| are mostly growing modes (Re λ > 0).

        Growing modes sit in the right half plane, outside every stability
        region, yet no step size makes them stable: the exact solution grows
        too. They limit the step through accuracy, never through stability.
        """
        g = self.growing_modes
        return g is not None and g["share"] >= GROWING_SHARE_REPORT

    def to_dict(self) -> dict[str, Any]:
        """The verdict as JSON-safe types: NaN becomes None, ±inf ``"inf"``."""
        return _json_safe(asdict(self))


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        return (
            float(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
        )
    return value


def analyse(
    trace: xr.Dataset | Trace, threshold: float = STABILITY_THRESHOLD
) -> StiffnessVerdict:
    """Decide whether a traced solve was stiff and what stiffness cost it.

    Parameters
    ----------
    trace
        A trace Dataset (``docs/trace-schema.md``), from any method, or the
        :class:`~odediag.Trace` a solve returned. A file is read with
        :func:`odediag.load_trace` first.
    threshold
        Fraction of the stability boundary at which a step counts as
        stability-limited; see :func:`stability_limited`.

    Returns
    -------
    StiffnessVerdict

    Raises
    ------
    OdediagInputError
        When ``trace`` is not a trace (a path, None, a foreign Dataset), holds
        no step, or ``threshold`` is not in (0, 1].

    Notes
    -----
    Each accepted step is flagged from the best evidence in the trace, in
    this order:

    1. spectrum, explicit method: :func:`stability_limited`;
    2. spectrum, implicit method: some decaying h·λ lies outside the
       stability region of scipy's RK45 (:data:`EXPLICIT_REFERENCE`);
    3. dopri5/RK45 without spectrum: Hairer's estimate, as in (1);
    4. LSODA without spectrum: LSODA's own choice of BDF;
    5. otherwise accepted steps inside accept/reject alternations of at
       least :data:`ALTERNATION_REPORT` attempts (weak evidence).

    For implicit methods ``margin`` is measured against RK45's region (how
    far beyond an explicit method's reach the steps went), for explicit ones
    against the method's own; ``margin_method`` names it.

    Flagged steps form stiff intervals once runs closer than
    :data:`~odediag.stiffness._patterns.MERGE_GAP_STEPS` unflagged steps are
    merged and those with fewer than
    :data:`~odediag.stiffness._patterns.MIN_INTERVAL_STEPS` flagged steps
    dropped. The solve is stiff when one interval remains.

    A spectrum that cannot be placed against a stability region (a method
    odediag knows no region for, or no step size recorded) is set aside, and
    the steps are flagged as for a trace without one; the notes say so.
    """
    trace = _as_trace_dataset(trace)
    if not 0 < threshold <= 1:
        raise invalid("threshold", threshold, "use a fraction in (0, 1], e.g. 0.8")
    accepted = trace["accepted"].values.astype(bool)
    flags, evidence = _flag_steps(trace, threshold)
    t, signed_h = _accepted_steps(trace)
    intervals = _clip_to_span(flagged_intervals(t, signed_h, flags[accepted]), trace)
    stiff = bool(intervals) if evidence != "none" else None
    cost = _step_cost(trace)
    within = _within(trace["t"].values, intervals)
    spectral = _spectral_summaries(trace, flags, threshold)
    n_accepted = int(accepted.sum())
    verdict = StiffnessVerdict(
        problem=str(trace.attrs.get("problem", "")),
        method=str(trace.attrs.get("method", "")),
        status=str(trace.attrs.get("status", "")),
        implicit=is_implicit(trace),
        stiff=stiff,
        evidence=evidence,
        stiff_onset=intervals[0].start if intervals else None,
        stiff_intervals=[[i.start, i.end] for i in intervals],
        threshold=threshold,
        n_steps=int(accepted.size),
        n_accepted=n_accepted,
        n_rejected=int(accepted.size - n_accepted),
        nfe_total=int(trace.attrs.get("nfe_total", cost.sum())),
        rejection_rate=_share(accepted.size - n_accepted, accepted.size),
        longest_alternation=longest_alternation(accepted),
        stability_limited_fraction=_fraction(flags.sum(), n_accepted, evidence),
        nfe_stability_limited_fraction=_fraction(
            cost[flags].sum(), cost.sum(), evidence
        ),
        nfe_stiff_intervals_fraction=_fraction(
            cost[within].sum(), cost.sum(), evidence
        ),
        hairer=_hairer_summary(trace),
        growing_modes=_growing_modes(trace),
        n_samples=int(trace.sizes.get("sample", 1)),
        recommendation="",
        **spectral,
    )
    verdict.recommendation = _recommend(trace, verdict)
    verdict.notes = _notes(trace, verdict)
    return verdict


def _as_trace_dataset(trace: Any) -> xr.Dataset:
    """The Dataset view of ``trace``, checked to be a non-empty trace."""
    if isinstance(trace, Trace):
        trace = trace.to_dataset()
    if isinstance(trace, str | os.PathLike):
        raise invalid(
            "trace",
            str(trace),
            "a file name, not a trace; read it with odediag.load_trace first",
        )
    if not isinstance(trace, xr.Dataset):
        raise invalid(
            "trace",
            type(trace).__name__,
            "pass an xarray.Dataset trace or the odediag.Trace of a solve",
        )
    check_trace(trace, "trace")
    return trace


def _share(part: float, whole: float) -> float:
    """part / whole, NaN when whole is 0."""
    return float(part / whole) if whole else math.nan


def _accepted_steps(trace: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Start and signed size of each accepted step.

    Where h is missing (NaN), the step runs to the start of the next accepted
    step, and the last one to ``t_end``.
    """
    accepted = trace["accepted"].values.astype(bool)
    t = trace["t"].values[accepted].astype(np.float64)
    h = trace["h"].values[accepted] * _direction(trace)
    missing = ~np.isfinite(h)
    if missing.any():
        end = float(trace.attrs.get("t_end", t[-1] if t.size else np.nan))
        h = np.where(missing, np.diff(t, append=end), h)
    return t, h


def _direction(trace: xr.Dataset) -> float:
    """+1 for a solve forward in time, −1 backward (h is stored positive)."""
    t = trace["t"].values
    start, end = trace.attrs.get("t_start"), trace.attrs.get("t_end")
    if start is not None and end is not None and float(end) != float(start):
        return float(np.sign(float(end) - float(start)))
    return -1.0 if t.size > 1 and t[-1] < t[0] else 1.0


def _clip_to_span(intervals: list[Interval], trace: xr.Dataset) -> list[Interval]:
    """Intervals cut to the solve's span [t_start, t_end] from the attributes.

    An interval ends at t + h of its last step, which rounding (or a solver
    that records h before its final clip) can carry past the end of the span.
    """
    start, end = trace.attrs.get("t_start"), trace.attrs.get("t_end")
    if start is None or end is None:
        return intervals
    low, high = sorted((float(start), float(end)))
    return [
        replace(
            i,
            start=min(max(i.start, low), high),
            end=min(max(i.end, low), high),
        )
        for i in intervals
    ]


def _flag_steps(trace: xr.Dataset, threshold: float) -> tuple[np.ndarray, str]:
    """Per-step stiff flags (False at rejected steps) and the evidence used."""
    accepted = trace["accepted"].values.astype(bool)
    if not accepted.any():
        return np.zeros_like(accepted), "none"
    if _spectrum_gap(trace):
        return _flag_steps(trace.drop_vars(["eig_real", "eig_imag"]), threshold)
    implicit = is_implicit(trace)
    if has_spectrum(trace) and implicit:
        reference = stability_region(EXPLICIT_REFERENCE)
        beyond = (stability_margin(trace, reference) >= 1).any("sample").values
        return beyond & accepted, "spectrum"
    if not implicit and (has_spectrum(trace) or _has_hairer(trace)):
        limited = stability_limited(trace, threshold)
        return limited.values, limited.attrs["evidence"]
    if "lsoda_method" in trace:
        return (trace["lsoda_method"].values.astype(str) == "bdf") & accepted, "lsoda"
    if implicit:
        return np.zeros_like(accepted), "none"
    return _alternation_flags(accepted), "rejections"


def _spectrum_gap(trace: xr.Dataset) -> str:
    """Why the trace's spectrum cannot be set against a stability region, or ""."""
    if not has_spectrum(trace):
        return ""
    method = str(trace.attrs.get("method", ""))
    if not is_implicit(trace) and step_region(trace) is None:
        return (
            f"the stability region of method {method!r} is unknown to odediag, so "
            "the recorded h·λ cannot be set against it"
        )
    accepted = trace["accepted"].values.astype(bool)
    if accepted.any() and not np.isfinite(trace["h"].values[accepted]).any():
        return (
            "the trace records no finite step size h at its accepted steps, so "
            f"h·λ cannot be set against {method}'s stability region"
        )
    return ""


def _has_hairer(trace: xr.Dataset) -> bool:
    return "hairer_h_lambda" in trace and bool(trace["hairer_h_lambda"].notnull().any())


def _alternation_flags(accepted: np.ndarray) -> np.ndarray:
    """Accepted steps inside accept/reject alternations of ALTERNATION_REPORT+."""
    flags = np.zeros_like(accepted)
    start = 0
    for i in range(1, accepted.size + 1):
        if i == accepted.size or accepted[i] == accepted[i - 1]:
            if i - start >= ALTERNATION_REPORT:
                flags[start:i] = accepted[start:i]
            start = i
    return flags


def _step_cost(trace: xr.Dataset) -> np.ndarray:
    """Function evaluations of each attempt (the first includes the start-up)."""
    nfe = trace["nfe"].values.astype(np.int64)
    return np.diff(nfe, prepend=0)


def _within(t: np.ndarray, intervals) -> np.ndarray:
    inside = np.zeros(t.shape, bool)
    for interval in intervals:
        low, high = sorted((interval.start, interval.end))
        inside |= (t >= low) & (t < high)
    return inside


def _fraction(part: float, whole: float, evidence: str) -> float | None:
    if evidence == "none" or whole == 0:
        return None
    return float(part / whole)


def _summary(values: np.ndarray) -> dict[str, float] | None:
    """Median, 90th percentile and maximum of the finite values, or None."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    summary = {
        "median": float(np.median(finite)),
        "p90": float(np.percentile(finite, 90)),
        "max": float(finite.max()),
    }
    if finite.size < values[~np.isnan(values)].size:
        summary["max"] = math.inf  # e.g. a singular Jacobian
    return summary


def _spectral_summaries(
    trace: xr.Dataset, flags: np.ndarray, threshold: float
) -> dict[str, Any]:
    """Spectral summaries over accepted steps and the step-limiting sample."""
    names = (
        "spectral_radius",
        "h_spectral_radius",
        "stiffness_ratio",
        "condition_number",
    )
    result: dict[str, Any] = dict.fromkeys(names)
    result.update(
        margin=None,
        margin_method=None,
        limiting_sample=None,
        limiting_sample_share=None,
    )
    if not has_spectrum(trace):
        return result
    accepted = trace["accepted"].values.astype(bool)
    for name in names:
        if name in trace:
            per_step = trace[name].values[accepted]
            result[name] = _summary(_row_max(per_step))
    region = step_region(trace)
    if is_implicit(trace):
        region = stability_region(EXPLICIT_REFERENCE)
    if region is not None and not _spectrum_gap(trace):
        margin = stability_margin(trace, region).values[accepted]
        result["margin"] = _summary(_row_max(margin))
        result["margin_method"] = region.name
    result.update(_limiting_sample(trace, accepted))
    return result


def _row_max(values: np.ndarray) -> np.ndarray:
    """Maximum over the last axis ignoring NaN; NaN where a row is all NaN."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    largest = np.where(missing, -np.inf, values).max(axis=-1)
    return np.where(missing.all(axis=-1), np.nan, largest)


def _limiting_sample(trace: xr.Dataset, accepted: np.ndarray) -> dict[str, Any]:
    """The sample whose h·ρ is largest at most accepted steps, and how often."""
    h_rho = trace["h_spectral_radius"].values[accepted]
    valid = ~np.isnan(h_rho).all(axis=1)
    if not valid.any():
        return {}
    winners = np.nanargmax(h_rho[valid], axis=1)
    counts = np.bincount(winners, minlength=h_rho.shape[1])
    return {
        "limiting_sample": int(counts.argmax()),
        "limiting_sample_share": float(counts.max() / valid.sum()),
    }


def _growing_modes(trace: xr.Dataset) -> dict[str, float] | None:
    """How often the eigenvalue of largest |λ| grows, and the largest Re λ."""
    if not has_spectrum(trace):
        return None
    accepted = trace["accepted"].values.astype(bool)
    real = trace["eig_real"].values[accepted]
    imag = trace["eig_imag"].values[accepted]
    n = real.shape[0]
    if n == 0 or real.size == 0:
        return None
    real, modulus = real.reshape(n, -1), np.hypot(real, imag).reshape(n, -1)
    known = ~np.isnan(modulus).all(axis=1)
    if not known.any():
        return None
    real, modulus = real[known], modulus[known]
    top = np.nanargmax(modulus, axis=1)
    rows = np.arange(top.size)
    grows = real[rows, top] > GROWING_REAL_PART * modulus[rows, top]
    return {
        "share": float(grows.mean()),
        "max_real": float(np.nanmax(real)),
    }


def _hairer_summary(trace: xr.Dataset) -> dict[str, Any] | None:
    """Hairer's estimate: stiff-step count, DOPRI5's announcement, ratio to exact."""
    if not _has_hairer(trace):
        return None
    estimate = trace["hairer_h_lambda"].values
    summary: dict[str, Any] = {
        "stiff_steps": int(hairer_stiff_steps(trace).sum()),
        "announced_at": hairer_announcement(trace),
        "h_lambda": _summary(estimate[np.isfinite(estimate)]),
        "ratio_to_exact": None,
    }
    if "h_spectral_radius" in trace:
        exact = trace["h_spectral_radius"].max("sample").values
        both = np.isfinite(estimate) & np.isfinite(exact) & (exact > 0)
        summary["ratio_to_exact"] = _summary(estimate[both] / exact[both])
    return summary


def _recommend(trace: xr.Dataset, v: StiffnessVerdict) -> str:
    """One sentence a newcomer can act on, with the evidence numbers in it."""
    if v.stiff is None:
        return _undetermined(trace, v)
    share = v.stability_limited_fraction or 0.0
    nfe_share = v.nfe_stability_limited_fraction or 0.0
    if v.implicit and v.stiff:
        return (
            "keep an implicit method: the problem is stiff from "
            f"t ≈ {v.stiff_onset:.3g}, and {share:.0%} of the accepted steps were "
            f"larger than an explicit method ({EXPLICIT_REFERENCE}) could take stably"
        )
    if v.implicit:
        return (
            "an explicit method (dopri5 or scipy:RK45) would do: no step went beyond "
            "what an explicit method can take stably"
        )
    if v.stiff:
        return (
            f"switch to an implicit method such as {RECOMMENDED_IMPLICIT} from "
            f"t ≈ {v.stiff_onset:.3g} on: {share:.0%} of the accepted steps "
            f"({nfe_share:.0%} of the function evaluations) were limited by the "
            f"explicit method's stability, not by accuracy"
        )
    return (
        "stay with an explicit method: the steps were set by accuracy, so the "
        "cost follows the tolerances (rtol, atol) and the solution's smoothness"
    )


def _undetermined(trace: xr.Dataset, v: StiffnessVerdict) -> str:
    """The recommendation when the trace holds no evidence either way."""
    if v.n_accepted == 0:
        return (
            "cannot tell whether the problem is stiff: the solver accepted no "
            "step; check why the solve stopped (its status and message), then "
            "loosen the tolerances or check the dynamics near the start"
        )
    if not is_known_method(trace):
        return (
            "cannot tell whether the problem is stiff from this trace: the "
            f"stability region of method {v.method!r} is unknown; trace it again "
            f"with a method odediag knows ({', '.join(method_names())}) and "
            "--spectrum"
        )
    if has_spectrum(trace):
        return (
            "cannot tell whether the problem is stiff from this trace: "
            f"{_spectrum_gap(trace)}; trace it again with odediag, which records "
            "h at every step"
        )
    return (
        "cannot tell whether the problem is stiff from this trace; trace it "
        "again with the Jacobian spectrum (--spectrum)"
    )


def _notes(trace: xr.Dataset, v: StiffnessVerdict) -> list[str]:
    notes = []
    gap = _spectrum_gap(trace)
    if v.n_accepted == 0:
        notes.append("the solver accepted no step, so no step can be attributed")
    elif gap:
        notes.append(
            f"{gap}; the step attribution rests on {_EVIDENCE_WORDS[v.evidence]}"
        )
    elif not is_known_method(trace):
        notes.append(
            f"the stability region of method {v.method!r} is unknown to odediag"
        )
    if v.n_accepted and not has_spectrum(trace):
        notes.append(
            "no Jacobian spectrum in this trace: the step attribution rests on "
            f"{_EVIDENCE_WORDS[v.evidence]}; trace again with --spectrum "
            "(spectrum=True) for h·λ against the stability region, the stiffness "
            "ratio and the condition number"
        )
    if v.longest_alternation >= ALTERNATION_REPORT:
        cause = (
            "the step size kept overshooting the stability boundary"
            if v.stiff
            else "the error controller oscillated, though not at the stability boundary"
        )
        notes.append(
            f"{v.longest_alternation} attempts in a row alternated between accepted "
            f"and rejected: {cause}"
        )
    if v.method in TORCHDIFFEQ_FIXED and v.evidence == "spectrum":
        notes.append(_fixed_grid_note(trace))
    if v.method == "scipy:LSODA":
        notes.append(
            "LSODA rejects and retries steps inside ODEPACK, out of sight: the "
            "trace holds its accepted steps only"
        )
    if v.status not in ("success", ""):
        notes.append(
            f"the solve did not finish: {trace.attrs.get('message', v.status)}"
        )
    return notes


def _fixed_grid_note(trace: xr.Dataset) -> str:
    """For a fixed grid the step is the user's: say which step would be stable."""
    accepted = trace["accepted"].values.astype(bool)
    margin = stability_margin(trace).max("sample").values[accepted]
    h = trace["h"].values[accepted]
    with np.errstate(divide="ignore", invalid="ignore"):
        stable_h = np.where(margin > 0, h / margin, np.inf)
    unstable = int((margin > 1).sum())
    return (
        f"{trace.attrs.get('method')} takes the fixed steps you chose, so 'limited by "
        f"stability' means the step sits near the edge of stability; {unstable} "
        f"steps were beyond it (fast modes amplified), and the largest stable "
        f"step along this solve is h ≈ {float(np.min(stable_h)):.3g}"
    )


_EVIDENCE_WORDS = {
    "hairer": "Hairer's estimate of h·|λ| from the last two stages (dominant mode, "
    "assumed real)",
    "lsoda": "LSODA's own switches between Adams and BDF",
    "rejections": "the pattern of rejected steps only",
    "none": "no evidence at all",
}
