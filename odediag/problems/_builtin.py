"""Built-in problems: linear test systems, Van der Pol, and the Bari test set.

Every right-hand side is written with ``y[..., i]`` indexing so that it takes
one state of shape ``(d,)`` or a batch of shape ``(batch, d)``, and every
problem carries its analytic Jacobian.

References
----------
F. Mazzia, C. Magherini, F. Iavernaro. Test Set for IVP Solvers, University
of Bari, Report 43/2006, Release 2.3 (problems ``rober``, ``vdpol``).
E. Hairer, G. Wanner. Solving Ordinary Differential Equations II, 2nd ed.,
Springer 1996, §IV.1 (Robertson, Van der Pol as stiff examples).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from odediag._errors import invalid
from odediag.problems._problem import Problem


@dataclass(frozen=True)
class Param:
    """One parameter of a built-in problem, as the command line parses it."""

    name: str
    default: Any
    parse: Callable[[str], Any]
    help: str
    positive: bool = False


def _floats(text: str) -> tuple[float, ...]:
    values = tuple(float(v) for v in text.split(",") if v.strip())
    if not values:
        raise ValueError("no numbers")
    return values


def _stack(*components: torch.Tensor) -> torch.Tensor:
    return torch.stack(torch.broadcast_tensors(*components), dim=-1)


def _jac_rows(*rows: tuple[torch.Tensor | float, ...], like: torch.Tensor):
    """Assemble a Jacobian of shape ``(..., d, d)`` from its rows."""
    batch = like.shape[:-1]
    as_tensor = [
        [torch.as_tensor(v, dtype=like.dtype).expand(batch) for v in row]
        for row in rows
    ]
    return torch.stack([torch.stack(r, dim=-1) for r in as_tensor], dim=-2)


# --------------------------------------------------------------------------
# linear


def linear(eigenvalues: tuple[float, ...] = (-1.0, -1000.0), t_end: float = 10.0):
    """Diagonal linear system y' = diag(λ) y, y0 = 1.

    The exact solution is y_i(t) = exp(λ_i t), and the stiffness ratio is
    max|λ| / min|λ| over the (negative) eigenvalues: 1000 by default.
    """
    lam = torch.tensor(eigenvalues, dtype=torch.float64)
    if lam.numel() == 0:
        raise invalid("eigenvalues", eigenvalues, "give at least one eigenvalue")

    def f(t, y):
        return y * lam.to(y.dtype)

    def jac(t, y):
        return torch.diag_embed(lam.to(y.dtype).expand(y.shape))

    y_end = torch.exp(lam * t_end).numpy()
    return Problem(
        f,
        torch.ones_like(lam),
        (0.0, t_end),
        name="linear",
        params={"eigenvalues": list(eigenvalues), "t_end": t_end},
        jac=jac,
        description="diagonal linear system y' = diag(λ) y, y(0) = 1",
        y_ref=y_end,
        reference="exact solution exp(λ t)",
        stiff=_linear_is_stiff(eigenvalues),
    )


def _linear_is_stiff(eigenvalues: tuple[float, ...]) -> bool:
    decaying = [-v for v in eigenvalues if v < 0]
    return len(decaying) > 1 and max(decaying) / min(decaying) >= 100.0


# --------------------------------------------------------------------------
# Van der Pol in three scalings


def _van_der_pol(mu: float):
    """Right-hand side and Jacobian of y1' = y2, y2' = μ (1 − y1²) y2 − y1."""

    def f(t, y):
        y1, y2 = y[..., 0], y[..., 1]
        return _stack(y2, mu * (1 - y1**2) * y2 - y1)

    def jac(t, y):
        y1, y2 = y[..., 0], y[..., 1]
        return _jac_rows((0.0, 1.0), (-2 * mu * y1 * y2 - 1, mu * (1 - y1**2)), like=y)

    return f, jac


def vdp(mu: float = 10.0, t_end: float = 30.0):
    """Van der Pol oscillator y1' = y2, y2' = μ (1 − y1²) y2 − y1, y(0) = (2, 0).

    Stiff for large μ: the relaxation oscillation has slow phases with an
    eigenvalue near −μ·(y1² − 1) and fast jumps.
    """
    f, jac = _van_der_pol(mu)
    return Problem(
        f,
        torch.tensor([2.0, 0.0], dtype=torch.float64),
        (0.0, t_end),
        name="vdp",
        params={"mu": mu, "t_end": t_end},
        jac=jac,
        description=f"Van der Pol oscillator, mu = {mu:g}",
        stiff=mu >= 100,
    )


def vdpol(eps: float = 1e-6):
    """Van der Pol in singular-perturbation form (Bari test set ``vdpol``).

    y1' = y2, y2' = ((1 − y1²) y2 − y1) / ε on [0, 2], y(0) = (2, 0).
    """

    def f(t, y):
        y1, y2 = y[..., 0], y[..., 1]
        return _stack(y2, ((1 - y1**2) * y2 - y1) / eps)

    def jac(t, y):
        y1, y2 = y[..., 0], y[..., 1]
        return _jac_rows(
            (0.0, 1.0), ((-2 * y1 * y2 - 1) / eps, (1 - y1**2) / eps), like=y
        )

    return _from_testset("vdpol", f, jac, {"eps": eps}, eps == 1e-6)


def vdpolm(mu: float = 1000.0):
    """Van der Pol with μ = 1000 on [0, 2000] (the ``vdpol`` test problem in
    the time scaling of Hairer & Wanner II, §IV.1)."""
    f, jac = _van_der_pol(mu)
    return _from_testset("vdpolm", f, jac, {"mu": mu}, mu == 1000.0)


# --------------------------------------------------------------------------
# Robertson


def rober():
    """Robertson's chemical kinetics (Bari test set ``rober``) on [0, 1e11]."""

    def f(t, y):
        y1, y2, y3 = y[..., 0], y[..., 1], y[..., 2]
        r1, r2, r3 = 0.04 * y1, 1e4 * y2 * y3, 3e7 * y2**2
        return _stack(-r1 + r2, r1 - r2 - r3, r3)

    def jac(t, y):
        y2, y3 = y[..., 1], y[..., 2]
        return _jac_rows(
            (-0.04, 1e4 * y3, 1e4 * y2),
            (0.04, -1e4 * y3 - 6e7 * y2, -1e4 * y2),
            (0.0, 6e7 * y2, 0.0),
            like=y,
        )

    return _from_testset("rober", f, jac, {}, True)


# --------------------------------------------------------------------------
# a non-stiff classic


def lotka_volterra(
    alpha: float = 1.5,
    beta: float = 1.0,
    gamma: float = 3.0,
    delta: float = 1.0,
    t_end: float = 15.0,
):
    """Lotka–Volterra predator–prey model, a non-stiff classic.

    y1' = α y1 − β y1 y2, y2' = −γ y2 + δ y1 y2, y(0) = (1, 1). The orbits are
    closed; the eigenvalues of the Jacobian stay of moderate size.
    """

    def f(t, y):
        y1, y2 = y[..., 0], y[..., 1]
        return _stack(alpha * y1 - beta * y1 * y2, -gamma * y2 + delta * y1 * y2)

    def jac(t, y):
        y1, y2 = y[..., 0], y[..., 1]
        return _jac_rows(
            (alpha - beta * y2, -beta * y1), (delta * y2, -gamma + delta * y1), like=y
        )

    params = {"alpha": alpha, "beta": beta, "gamma": gamma, "delta": delta}
    return Problem(
        f,
        torch.tensor([1.0, 1.0], dtype=torch.float64),
        (0.0, t_end),
        name="lotka_volterra",
        params={**params, "t_end": t_end},
        jac=jac,
        description="Lotka-Volterra predator-prey model (non-stiff)",
        stiff=False,
    )


# --------------------------------------------------------------------------
# reference data


@cache
def _testset() -> dict[str, Any]:
    text = resources.files("odediag").joinpath("_data", "ivp_testset.json").read_text()
    return json.loads(text)


def _from_testset(name, f, jac, params, is_reference: bool) -> Problem:
    entry = _testset()["problems"][name]
    return Problem(
        f,
        torch.tensor(entry["y0"], dtype=torch.float64),
        tuple(entry["t_span"]),
        name=name,
        params=params,
        jac=jac,
        description=entry["description"],
        y_ref=entry["y_ref"] if is_reference else None,
        reference=_testset()["source"] if is_reference else "",
        stiff=bool(entry["stiff"]),
    )


BUILTIN: dict[str, tuple[Callable[..., Problem], tuple[Param, ...]]] = {
    "linear": (
        linear,
        (
            Param(
                "eigenvalues",
                (-1.0, -1000.0),
                _floats,
                "comma-separated numbers, e.g. -1,-1000",
            ),
            Param("t_end", 10.0, float, "a number, the end of the time span", True),
        ),
    ),
    "vdp": (
        vdp,
        (
            Param("mu", 10.0, float, "a number, the stiffness parameter μ"),
            Param("t_end", 30.0, float, "a number, the end of the time span", True),
        ),
    ),
    "vdpol": (
        vdpol,
        (Param("eps", 1e-6, float, "a number, the perturbation parameter ε", True),),
    ),
    "vdpolm": (
        vdpolm,
        (Param("mu", 1000.0, float, "a number, the stiffness parameter μ"),),
    ),
    "rober": (rober, ()),
    "lotka_volterra": (
        lotka_volterra,
        (
            Param("alpha", 1.5, float, "prey growth rate"),
            Param("beta", 1.0, float, "predation rate"),
            Param("gamma", 3.0, float, "predator death rate"),
            Param("delta", 1.0, float, "predator growth per prey"),
            Param("t_end", 15.0, float, "a number, the end of the time span", True),
        ),
    ),
}


def builtin_names() -> list[str]:
    """Names of the built-in problems."""
    return sorted(BUILTIN)


def builtin_problem(name: str, **params: Any) -> Problem:
    """Build a built-in problem by name.

    Parameters
    ----------
    name
        One of :func:`builtin_names`.
    **params
        Parameters of that problem; strings are parsed as on the command line
        (``eigenvalues="-1,-1000"``).
    """
    if name not in BUILTIN:
        raise invalid("problem", name, f"choose one of {', '.join(builtin_names())}")
    factory, specs = BUILTIN[name]
    known = {p.name: p for p in specs}
    kwargs = {}
    for key, value in params.items():
        if key not in known:
            allowed = ", ".join(known) or "none"
            raise invalid(
                "param", key, f"problem {name!r} takes these parameters: {allowed}"
            )
        spec = known[key]
        kwargs[key] = (
            _parse(spec, value) if isinstance(value, str) else _finite(spec, value)
        )
    return factory(**kwargs)


def _parse(spec: Param, text: str) -> Any:
    try:
        value = spec.parse(text)
    except ValueError:
        raise invalid(
            "param", f"{spec.name}={text}", f"{spec.name} must be {spec.help}"
        ) from None
    return _finite(spec, value)


def _finite(spec: Param, value: Any) -> Any:
    values = value if isinstance(value, tuple) else (value,)
    if not all(math.isfinite(float(v)) for v in values):
        raise invalid("param", f"{spec.name}={value}", f"{spec.name} must be finite")
    if spec.positive and not all(float(v) > 0 for v in values):
        raise invalid("param", f"{spec.name}={value}", f"{spec.name} must be > 0")
    return value


def reference_path() -> Path:
    """Path of the packaged copy of the IVP test-set reference values."""
    return Path(str(resources.files("odediag").joinpath("_data", "ivp_testset.json")))
