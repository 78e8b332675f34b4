"""``odediag trace``: trace a problem's solve and save it as netCDF."""

from __future__ import annotations

import math
from pathlib import Path

import click
import numpy as np

from odediag.problems import load_problem, validate_t_span
from odediag.solvers import check_method, trace_problem
from odediag_cli._common import friendly_errors, parse_params, writable_file

DEFAULT_PROBLEM = "vdp"
DEFAULT_MAX_STEPS = 100_000


@click.command("trace")
@click.argument("problem", required=False)
@click.option(
    "--method",
    "-m",
    default="dopri5",
    show_default=True,
    help="torchdiffeq method, or scipy:NAME (scipy:Radau, scipy:BDF, ...).",
)
@click.option(
    "--rtol", type=float, default=1e-6, show_default=True, help="Relative tolerance."
)
@click.option(
    "--atol", type=float, default=1e-8, show_default=True, help="Absolute tolerance."
)
@click.option(
    "--t-span",
    type=(float, float),
    default=None,
    metavar="T0 T1",
    help="Time span; defaults to the problem's own.",
)
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Problem parameter, e.g. -p mu=1000 or -p eigenvalues=-1,-1000.",
)
@click.option(
    "--spectrum/--no-spectrum",
    default=True,
    show_default=True,
    help="Record the Jacobian spectrum at every accepted step.",
)
@click.option(
    "--max-steps",
    type=int,
    default=DEFAULT_MAX_STEPS,
    show_default=True,
    help="Stop after this many attempted steps.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default="trace.nc",
    show_default=True,
    help="netCDF file to write.",
)
@friendly_errors
def trace(problem, method, rtol, atol, t_span, params, spectrum, max_steps, output):
    """Trace every step a solver attempts on PROBLEM and save the trace.

    PROBLEM is a built-in name, FILE.py:NAME or package.module:NAME, where NAME
    is an odediag.Problem or a callable returning one. Without PROBLEM, a
    built-in default is traced.
    """
    _check_numbers(rtol, atol, max_steps)
    output = writable_file(output)
    spec = problem or DEFAULT_PROBLEM
    check_method(method)
    ivp = load_problem(spec, parse_params(params))
    span = validate_t_span(t_span if t_span is not None else ivp.t_span)
    click.echo(
        f"tracing {ivp.name} ({ivp.description.split('. ')[0]}) with {method} on "
        f"[{span[0]:g}, {span[1]:g}], rtol={rtol:g}, atol={atol:g}",
        err=True,
    )
    with _progress_bar(span) as advance:
        result = trace_problem(
            ivp,
            method,
            rtol=rtol,
            atol=atol,
            t_span=t_span,
            spectrum=spectrum,
            max_steps=max_steps,
            progress=advance,
        )
    result.save(output)
    click.echo(summary(result.to_dataset()))
    click.echo(f"trace written to {output}")
    if result.status != "success":
        raise click.ClickException(
            f"the solve stopped early ({result.status}); "
            f"the partial trace is in {output}"
        )


def _check_numbers(rtol, atol, max_steps):
    for name, value in (("--rtol", rtol), ("--atol", atol)):
        if not (value > 0 and math.isfinite(value)):
            raise click.BadParameter(
                f"{value} is not positive; try 1e-6", param_hint=name
            )
    if max_steps < 1:
        raise click.BadParameter(
            f"{max_steps} must be at least 1", param_hint="--max-steps"
        )


class _progress_bar:
    """A progress bar over time, shown on stderr once a solve takes a while."""

    def __init__(self, span):
        self.t0, self.t1 = span
        self.bar = None

    def __enter__(self):
        from tqdm import tqdm

        self.bar = tqdm(
            total=1000,
            desc="t",
            unit="‰",
            delay=2.0,
            leave=False,
            bar_format="{l_bar}{bar}| t/T {n_fmt}‰ [{elapsed}]",
        )
        return self.advance

    def advance(self, t: float) -> None:
        done = int(1000 * (t - self.t0) / (self.t1 - self.t0))
        if done > self.bar.n:
            self.bar.update(min(done, 1000) - self.bar.n)

    def __exit__(self, *exc):
        self.bar.close()


def summary(ds) -> str:
    """A few lines a person can read: cost, steps, outcome, spectrum."""
    accepted = ds.accepted.values
    h = ds.h.values[accepted] if accepted.any() else np.array([np.nan])
    lines = [
        f"method      {ds.attrs['method']}   problem {ds.attrs.get('problem', '')}",
        f"status      {ds.attrs['status']}: {ds.attrs['message']}",
        f"NFE         {ds.attrs['nfe_total']}",
        f"steps       {int(accepted.sum())} accepted, "
        f"{int((~accepted).sum())} rejected",
        f"step size   smallest {np.nanmin(h):.3g}, largest {np.nanmax(h):.3g}",
    ]
    if "spectral_radius" in ds:
        lines += _spectrum_lines(ds)
    return "\n".join(lines)


def _spectrum_lines(ds) -> list[str]:
    def top(name):
        values = ds[name].values
        finite = values[np.isfinite(values)]
        return f"{finite.max():.3g}" if finite.size else "n/a"

    return [
        f"spectrum    max spectral radius {top('spectral_radius')}, "
        f"max stiffness ratio {top('stiffness_ratio')}, "
        f"max condition number {top('condition_number')}",
        f"            max h·ρ {top('h_spectral_radius')} "
        "(explicit methods are stability-limited near 2-6)",
    ]


__all__ = ["summary", "trace"]
