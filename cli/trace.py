"""``odediag trace``: trace a problem's solve and save it as netCDF."""

from __future__ import annotations

import math
from pathlib import Path

import click
import numpy as np

from odediag.models import checkpoint_problem, default_model_path
from odediag.problems import load_problem, validate_t_span
from odediag.solvers import DEFAULT_MAX_STEPS, check_method, trace_problem
from odediag.stiffness import analyse
from odediag_cli._common import friendly_errors, parse_params, writable_file


@click.command("trace")
@click.argument("problem", required=False)
@click.option(
    "--method",
    "-m",
    default=None,
    help="torchdiffeq method, or scipy:NAME (scipy:Radau, scipy:BDF, ...). "
    "Default: a trained model's own method, else dopri5.",
)
@click.option(
    "--rtol",
    type=float,
    default=None,
    help="Relative tolerance. Default: a trained model's own, else 1e-6.",
)
@click.option(
    "--atol",
    type=float,
    default=None,
    help="Absolute tolerance. Default: a trained model's own, else 1e-8.",
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

    PROBLEM is a built-in name, FILE.py:NAME or package.module:NAME (NAME an
    odediag.Problem or a callable returning one), or a model checkpoint written
    by `odediag train` (RUN_DIR/model.pt or RUN_DIR), traced on its test
    points. Without PROBLEM, the small trained moons model shipped with
    odediag is traced.
    """
    ivp = _load(problem, parse_params(params))
    method = method if method is not None else ivp.params.get("method", "dopri5")
    rtol = rtol if rtol is not None else ivp.params.get("rtol", 1e-6)
    atol = atol if atol is not None else ivp.params.get("atol", 1e-8)
    _check_numbers(rtol, atol, max_steps)
    check_method(method)
    output = writable_file(output)
    span = validate_t_span(t_span if t_span is not None else ivp.t_span)
    click.echo(
        f"tracing {_label(ivp)} with {method} on "
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
    ds = result.to_dataset()
    click.echo(summary(ds))
    click.echo(verdict_line(ds))
    click.echo(
        f"trace written to {output}; `odediag stiffness-report {output}` explains it"
    )
    if result.status == "interrupted":
        click.echo(f"interrupted; the partial trace is in {output}", err=True)
        raise SystemExit(130)
    if result.status != "success":
        raise click.ClickException(
            f"the solve stopped early ({result.status}); "
            f"the partial trace is in {output}"
        )


def _label(ivp) -> str:
    about = ivp.description.split(". ")[0]
    return f"{ivp.name} ({about})" if about else ivp.name


def _load(spec: str | None, params: dict):
    """The problem named by ``spec``: built-in, user code or a checkpoint."""
    if spec is None:
        return _checkpoint(default_model_path(), params)
    path = Path(spec)
    if spec.endswith(".pt") or (path.is_dir() and (path / "model.pt").is_file()):
        return _checkpoint(path / "model.pt" if path.is_dir() else path, params)
    return load_problem(spec, params)


def _checkpoint(path: Path, params: dict):
    if params:
        raise click.ClickException(
            "a trained model takes no --param; drop them or trace a problem"
        )
    if not path.is_file():
        raise click.ClickException(f"{path}: no such checkpoint; check the path")
    return checkpoint_problem(path)


def _check_numbers(rtol, atol, max_steps):
    for name, value in (("--rtol", rtol), ("--atol", atol)):
        if not (value > 0 and math.isfinite(value)):
            raise click.ClickException(
                f"{name} {value} is not a positive finite number; try 1e-6"
            )
    if max_steps < 1:
        raise click.ClickException(f"--max-steps {max_steps} must be at least 1")


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
    h = ds.h.values[accepted]
    sizes = (
        f"smallest {h.min():.3g}, largest {h.max():.3g}" if h.size else "none accepted"
    )
    lines = [
        f"method      {ds.attrs['method']}   problem {ds.attrs.get('problem', '')}",
        f"status      {ds.attrs['status']}: {ds.attrs['message']}",
        f"NFE         {ds.attrs['nfe_total']}",
        f"steps       {int(accepted.sum())} accepted, "
        f"{int((~accepted).sum())} rejected",
        f"step size   {sizes}",
    ]
    if "spectral_radius" in ds:
        lines += _spectrum_lines(ds)
    return "\n".join(lines)


def _spectrum_lines(ds) -> list[str]:
    def top(name):
        values = ds[name].values
        if np.isposinf(values).any():
            return "inf (J singular at some steps)"
        finite = values[np.isfinite(values)]
        return f"{finite.max():.3g}" if finite.size else "n/a"

    return [
        f"spectrum    max spectral radius {top('spectral_radius')}, "
        f"max stiffness ratio {top('stiffness_ratio')}, "
        f"max condition number {top('condition_number')}",
        f"            max h·ρ {top('h_spectral_radius')}",
    ]


def verdict_line(ds) -> str:
    """One line of the stiffness verdict, from :func:`odediag.stiffness.analyse`."""
    if not ds.accepted.values.any():
        return "verdict     none: no step was accepted"
    verdict = analyse(ds)
    if verdict.stiff is None:
        return "verdict     no evidence either way (trace with --spectrum)"
    share = verdict.stability_limited_fraction or 0.0
    where = f" from t ≈ {verdict.stiff_onset:.4g}" if verdict.stiff else ""
    return (
        f"verdict     {'STIFF' if verdict.stiff else 'not stiff'}{where}; "
        f"{100 * share:.1f}% of accepted steps limited by stability "
        f"(evidence: {verdict.evidence})"
    )


__all__ = ["summary", "trace"]
