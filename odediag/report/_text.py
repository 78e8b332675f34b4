"""The stiffness report as plain text and as JSON."""

from __future__ import annotations

import json
import textwrap

import xarray as xr

from odediag.stiffness import StiffnessVerdict

_EXPLAINER = (
    "How to read this: an explicit solver such as {method} stays stable only while "
    "h·λ (step size times each eigenvalue λ of the Jacobian ∂f/∂y) lies inside a "
    "bounded region of the complex plane. On a stiff problem some λ is large and "
    "negative, so stability - not the accuracy you asked for - caps the step size: "
    "the solver creeps along with h·λ pinned at the region's edge. A step counts "
    "as stability-limited here when a decaying mode's h·λ sits at {threshold:g} or "
    "more of the distance from 0 to that edge along its direction."
)

_STIFFNESS_RATIO = (
    "The stiffness ratio divides the fastest decay rate (the largest |Re λ| among "
    "modes with Re λ < 0) by the slowest rate at which any mode moves, decaying or "
    "growing (the smallest |Re λ| among modes whose real part is not negligible); "
    "it is n/a where no mode decays."
)

_GROWING = (
    "The largest |λ| here belong to growing modes (Re λ > 0) at {share:.0%} of the "
    "accepted steps, with Re λ up to {max_real:+.3g}: the flow expands and separates "
    "nearby trajectories. Their h·λ lie in the right half plane, outside the "
    "stability region, but that is no stability problem for an explicit solver: "
    "the exact solution grows as well, and such modes limit the step through "
    "accuracy only."
)

_EXPLAINER_IMPLICIT = (
    "How to read this: an implicit solver such as {method} stays stable for any "
    "h·λ in (most of) the left half plane, so its steps follow accuracy alone. "
    "The problem counts as stiff where the solver took steps that an explicit "
    "method (scipy:RK45) could not have taken stably."
)


def report_json(verdict: StiffnessVerdict, indent: int | None = 2) -> str:
    """The verdict as a JSON document (see :meth:`StiffnessVerdict.to_dict`)."""
    return json.dumps(verdict.to_dict(), indent=indent, ensure_ascii=False)


def report_text(trace: xr.Dataset, verdict: StiffnessVerdict) -> str:
    """A plain-text stiffness report for a terminal.

    Parameters
    ----------
    trace
        The trace the verdict was computed from.
    verdict
        From :func:`odediag.stiffness.analyse`.

    Returns
    -------
    str
        Lines of at most ~88 characters, newline-terminated.
    """
    sections = [
        _header(trace, verdict),
        _verdict_lines(verdict),
        _spectrum_lines(verdict),
        _growing_lines(verdict),
        _hairer_lines(verdict),
        [f"Recommendation: {verdict.recommendation}."],
        [f"Note: {note}." for note in verdict.notes],
        [_explainer(verdict)],
    ]
    blocks = ("\n".join(_wrap_line(line) for line in s) for s in sections if s)
    return "\n\n".join(blocks) + "\n"


def _wrap_line(line: str, width: int = 88) -> str:
    """Wrap one report line, continuing indented lines with a deeper indent."""
    indent = " " * (len(line) - len(line.lstrip()))
    return textwrap.fill(
        line, width=width, subsequent_indent=indent + "  ", break_on_hyphens=False
    )


def _header(trace: xr.Dataset, v: StiffnessVerdict) -> list[str]:
    span = (
        f"t from {_num(trace.attrs.get('t_start'))} to {_num(trace.attrs.get('t_end'))}"
    )
    backend = trace.attrs.get("backend", "?")
    tolerances = (
        f"rtol {_num(trace.attrs.get('rtol'))}, atol {_num(trace.attrs.get('atol'))}"
    )
    problem = v.problem or "an unnamed problem"
    lines = [
        f"Stiffness report: {v.method} ({backend}) on {problem}, {span}",
        f"  tolerances: {tolerances}",
        f"  {v.n_steps} attempted steps: {v.n_accepted} accepted, {v.n_rejected} "
        f"rejected ({v.rejection_rate:.1%}); {v.nfe_total} function evaluations",
    ]
    if v.status and v.status != "success":
        lines.append(f"  solve status: {v.status}")
    if v.n_samples > 1:
        lines.append(f"  batch of {v.n_samples} samples sharing one step size")
    return lines


def _verdict_lines(v: StiffnessVerdict) -> list[str]:
    if v.stiff is None:
        return ["Verdict: UNDETERMINED (no evidence of stiffness either way)"]
    if not v.stiff:
        lines = ["Verdict: NOT STIFF"]
    else:
        lines = [f"Verdict: STIFF from t ≈ {v.stiff_onset:.4g}"]
        spans = ", ".join(f"[{a:.4g}, {b:.4g}]" for a, b in v.stiff_intervals)
        lines.append(f"  stiff intervals: {spans}")
    what = "beyond explicit stability" if v.implicit else "limited by stability"
    lines.append(
        f"  accepted steps {what}: {_pct(v.stability_limited_fraction)} "
        f"(evidence: {v.evidence})"
    )
    lines.append(
        f"  function evaluations spent in those steps: "
        f"{_pct(v.nfe_stability_limited_fraction)}; in the stiff intervals, "
        f"rejected attempts included: {_pct(v.nfe_stiff_intervals_fraction)}"
    )
    if v.margin is not None:
        lines.append(
            f"  |h·λ| / {v.margin_method}'s stability boundary, largest decaying "
            f"mode per step (median / p90 / max): {_stats(v.margin)}"
        )
    lines.append(
        f"  rejections: {v.rejection_rate:.1%} of attempts; longest accept/reject "
        f"alternation: {v.longest_alternation} attempts"
    )
    return lines


def _spectrum_lines(v: StiffnessVerdict) -> list[str]:
    rows = [
        ("spectral radius ρ = max|λ|", v.spectral_radius),
        ("h·ρ", v.h_spectral_radius),
        ("stiffness ratio (see below)", v.stiffness_ratio),
        ("condition number σmax/σmin", v.condition_number),
    ]
    if all(stats is None for _, stats in rows):
        return []
    lines = [
        "Jacobian along the solve (accepted steps; median / 90th percentile / max):"
    ]
    lines += [f"  {label:<38} {_stats(stats)}" for label, stats in rows]
    if v.limiting_sample is not None and v.n_samples > 1:
        lines.append(
            f"  sample {v.limiting_sample} had the largest h·ρ at "
            f"{v.limiting_sample_share:.0%} of the steps: it sets the shared step"
        )
    return lines


def _growing_lines(v: StiffnessVerdict) -> list[str]:
    if not v.largest_modes_grow:
        return []
    return [_GROWING.format(**v.growing_modes)]


def _hairer_lines(v: StiffnessVerdict) -> list[str]:
    h = v.hairer
    if h is None:
        return []
    announced = (
        f"DOPRI5's test would announce stiffness at t ≈ {h['announced_at']:.4g}"
        if h["announced_at"] is not None
        else "DOPRI5's test would not announce stiffness"
    )
    lines = [
        "Hairer's estimate of h·|λ| from the last two stages (stiff above 3.25):",
        f"  {h['stiff_steps']} steps above 3.25; {announced}",
        f"  estimate (median / p90 / max): {_stats(h['h_lambda'])}",
    ]
    if h["ratio_to_exact"] is not None:
        lines.append(
            f"  estimate / exact h·ρ (median / p90 / max): "
            f"{_stats(h['ratio_to_exact'])}"
        )
    return lines


def _explainer(v: StiffnessVerdict) -> str:
    template = _EXPLAINER_IMPLICIT if v.implicit else _EXPLAINER
    text = template.format(method=v.method, threshold=v.threshold)
    if v.stiffness_ratio is not None or v.spectral_radius is not None:
        text += " " + _STIFFNESS_RATIO
    return _wrap(text)


def _wrap(text: str, width: int = 88) -> str:
    return textwrap.fill(text, width=width)


def _stats(stats: dict[str, float] | None) -> str:
    if stats is None:
        return "n/a"
    return " / ".join(_num(stats[key]) for key in ("median", "p90", "max"))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value) -> str:
    if value is None or value == "":
        return "?"
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)
