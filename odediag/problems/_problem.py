"""The :class:`Problem`: an initial value problem both backends can solve."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from odediag._errors import invalid

RHS = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class Problem:
    """An initial value problem y' = f(t, y), y(t0) = y0.

    One definition serves both backends: ``f`` is torch code, evaluated on
    tensors by torchdiffeq and on float64 tensors wrapped around NumPy arrays
    by SciPy. Write ``f`` with ``y[..., i]`` indexing so it also accepts a
    batch of states of shape ``(batch, d)``.

    Parameters
    ----------
    f
        Right-hand side ``f(t, y) -> dy/dt``; ``t`` a scalar tensor, ``y`` of
        shape ``(d,)`` or ``(batch, d)``.
    y0
        Initial state, shape ``(d,)`` or ``(batch, d)``. Lists and NumPy
        arrays become float64 tensors; a tensor keeps its dtype.
    t_span
        ``(t0, t1)`` with ``t1 > t0``.
    name
        Short name, stored in every trace as the ``problem`` attribute.
    params
        The parameters the problem was built with (for the record).
    jac
        Optional analytic Jacobian ``jac(t, y) -> ∂f/∂y``, shape ``(d, d)``
        for an unbatched ``y`` and ``(batch, d, d)`` for a batched one.
    description
        One line saying what the problem is.
    y_ref
        Optional reference solution at ``t1``, shape ``(d,)``.
    reference
        Where ``y_ref`` comes from.
    stiff
        Whether the problem is known to be stiff (``None`` when unknown).
    """

    f: RHS
    y0: torch.Tensor
    t_span: tuple[float, float]
    name: str = "custom"
    params: Mapping[str, Any] = field(default_factory=dict)
    jac: RHS | None = None
    description: str = ""
    y_ref: np.ndarray | None = None
    reference: str = ""
    stiff: bool | None = None

    def __post_init__(self) -> None:
        if not callable(self.f):
            raise invalid("f", self.f, "pass a callable f(t, y) returning dy/dt")
        self.y0 = _validated_y0(self.y0)
        self.t_span = validate_t_span(self.t_span)
        if self.y_ref is not None:
            self.y_ref = np.asarray(self.y_ref, dtype=np.float64)

    @property
    def dim(self) -> int:
        """Number of state components of one sample."""
        return int(self.y0.shape[-1]) if self.y0.ndim else 1


def _validated_y0(y0: Any) -> torch.Tensor:
    # Python numbers and NumPy arrays become float64 (torch would pick
    # float32 for a list); a tensor keeps the dtype its owner chose.
    if not isinstance(y0, torch.Tensor):
        y0 = np.asarray(y0, dtype=np.float64) if _numeric(y0) else y0
    try:
        y0 = torch.as_tensor(y0)
    except (TypeError, ValueError, RuntimeError) as error:
        raise invalid("y0", y0, f"give a numeric array or tensor ({error})") from None
    if not torch.is_floating_point(y0):
        y0 = y0.to(torch.float64)
    if y0.numel() == 0:
        raise invalid("y0", y0.tolist(), "the initial state needs at least one value")
    if not bool(torch.isfinite(y0).all()):
        raise invalid("y0", y0.tolist(), "every initial value must be finite")
    return y0


def _numeric(value: Any) -> bool:
    try:
        np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def validate_t_span(t_span: Any) -> tuple[float, float]:
    """Check that ``t_span`` is two finite, increasing times.

    Raises
    ------
    OdediagInputError
        Naming the value received and what to pass instead.
    """
    try:
        t0, t1 = (float(v) for v in t_span)
    except (TypeError, ValueError):
        raise invalid("t_span", t_span, "give two times T0 T1 with T1 > T0") from None
    if not (math.isfinite(t0) and math.isfinite(t1)):
        raise invalid("t_span", (t0, t1), "both times must be finite")
    if t1 <= t0:
        raise invalid(
            "t_span", (t0, t1), "the span is empty or decreasing; give T1 > T0"
        )
    return (t0, t1)
