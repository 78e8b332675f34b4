"""Butcher tableaux that check their own order conditions.

A Runge–Kutta method with ``s`` stages is the tableau ``(A, b, c)``; its order
is ``p`` when ``b · Φ(τ) = 1 / γ(τ)`` for every rooted tree ``τ`` with at most
``p`` vertices, where ``Φ`` is the elementary weight and ``γ`` the density of
the tree (Butcher 2016, §31; Hairer, Nørsett & Wanner 1993, §II.2, Theorem
2.13). The trees are generated here, so a tableau read from a library at run
time is checked against the order it claims before odediag trusts it.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field

import numpy as np

# Elementary weights are products of many coefficients; tableaux stored as
# float64 quotients of 10-digit integers (dopri8, DOP853) satisfy the order-8
# conditions only to ~1e-10, so the check allows that much.
_ORDER_CONDITION_TOLERANCE = 1e-9

# A rooted tree is the sorted tuple of its subtrees; the single vertex is ().
Tree = tuple


@functools.cache
def rooted_trees(order: int) -> tuple[Tree, ...]:
    """All rooted trees with exactly ``order`` vertices.

    Parameters
    ----------
    order
        Number of vertices, at least 1.

    Returns
    -------
    tuple of Tree
        Each tree is the sorted tuple of the subtrees hanging from its root.
        There are 1, 1, 2, 4, 9, 20, 48, 115 trees of orders 1 to 8 (OEIS
        A000081).
    """
    if order == 1:
        return ((),)
    trees = set()
    for children in _forests(order - 1, max_child=None):
        trees.add(tuple(sorted(children)))
    return tuple(sorted(trees))


def _forests(vertices: int, max_child: Tree | None) -> list[tuple[Tree, ...]]:
    """Multisets of trees with ``vertices`` vertices in all, children ≤ max_child."""
    if vertices == 0:
        return [()]
    forests = []
    for first in range(1, vertices + 1):
        for tree in rooted_trees(first):
            if max_child is not None and tree > max_child:
                continue
            for rest in _forests(vertices - first, max_child=tree):
                forests.append((tree, *rest))
    return forests


def tree_order(tree: Tree) -> int:
    """Number of vertices of ``tree``."""
    return 1 + sum(tree_order(child) for child in tree)


def tree_density(tree: Tree) -> int:
    """Density γ(τ): the order of the tree times the densities of its subtrees."""
    return tree_order(tree) * int(np.prod([tree_density(c) for c in tree]))


def _internal_weight(A: np.ndarray, tree: Tree) -> np.ndarray:
    """Stage vector g(τ) with b · g(τ) the elementary weight Φ(τ), shape (s,)."""
    g = np.ones(A.shape[0])
    for child in tree:
        g = g * (A @ _internal_weight(A, child))
    return g


@dataclass(frozen=True, eq=False)
class ButcherTableau:
    """Coefficients of a Runge–Kutta method, checked against its order.

    Parameters
    ----------
    name
        Name of the method as odediag writes it (``"dopri5"``,
        ``"scipy:RK45"``).
    A
        Stage coefficients, shape (s, s). Strictly lower triangular for an
        explicit method.
    b
        Weights of the propagated solution, shape (s,).
    c
        Nodes, shape (s,); must be the row sums of ``A``.
    order
        Classical order p of the propagated solution.
    source
        Where the coefficients were read from.

    Notes
    -----
    Construction asserts ``c = A 1`` and every order condition up to ``order``:
    the tableaux come from odediag's own method registry, so a failure is a
    bug (or a changed library), not a user error.
    """

    name: str
    A: np.ndarray
    b: np.ndarray
    c: np.ndarray
    order: int
    source: str = ""
    explicit: bool = field(init=False)

    def __post_init__(self) -> None:
        A = np.asarray(self.A, dtype=np.float64)
        b = np.asarray(self.b, dtype=np.float64)
        c = np.asarray(self.c, dtype=np.float64)
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "c", c)
        object.__setattr__(self, "explicit", bool(np.all(np.triu(A) == 0)))

        assert A.shape == (b.size, b.size) and c.shape == b.shape, self.name
        assert np.allclose(A.sum(axis=1), c, atol=1e-12), f"{self.name}: c != A 1"
        residuals = self.order_residuals(self.order)
        worst = max(residuals.values())
        assert worst < _ORDER_CONDITION_TOLERANCE, (
            f"{self.name} violates an order-{self.order} condition by {worst:.1e}"
        )

    @property
    def stages(self) -> int:
        """Number of stages s."""
        return self.b.size

    def order_residuals(self, order: int) -> dict[Tree, float]:
        """Residuals |b · Φ(τ) − 1/γ(τ)| of every tree of at most ``order`` vertices."""
        trees = itertools.chain.from_iterable(
            rooted_trees(n) for n in range(1, order + 1)
        )
        return {
            tree: abs(self.b @ _internal_weight(self.A, tree) - 1 / tree_density(tree))
            for tree in trees
        }

    def stability_polynomial(self) -> np.ndarray:
        """Coefficients of R(z) for an explicit method, highest power first.

        For strictly lower triangular ``A`` the Neumann series of
        ``(I − zA)⁻¹`` ends after s terms, so
        ``R(z) = 1 + Σ_{k=1}^{s} (bᵀ A^{k−1} 1) z^k`` (Hairer & Wanner 1996,
        §IV.2, eq. (2.4)).

        Returns
        -------
        numpy.ndarray
            Shape (s + 1,), in :func:`numpy.polyval` order.
        """
        assert self.explicit, f"{self.name} is implicit: R(z) is not a polynomial"
        coefficients = [1.0]
        power = np.ones(self.stages)
        for _ in range(self.stages):
            coefficients.append(float(self.b @ power))
            power = self.A @ power
        return np.trim_zeros(np.array(coefficients[::-1]), trim="f")

    def stability_function(self, z: np.ndarray | complex) -> np.ndarray:
        """R(z) = 1 + z bᵀ (I − zA)⁻¹ 1, evaluated elementwise.

        Parameters
        ----------
        z
            Points of the complex plane, any shape.

        Returns
        -------
        numpy.ndarray
            Complex, same shape as ``z``.

        References
        ----------
        Hairer, E. and Wanner, G. (1996). *Solving Ordinary Differential
        Equations II*, 2nd ed., Springer, §IV.3, Proposition 3.2.
        """
        z = np.asarray(z, dtype=np.complex128)
        if self.explicit:
            return np.polyval(self.stability_polynomial(), z)

        flat = z.reshape(-1, 1, 1)
        eye = np.eye(self.stages)
        ones = np.ones((flat.shape[0], self.stages, 1))
        stages = np.linalg.solve(eye - flat * self.A, ones)[..., 0]
        return (1 + z.reshape(-1) * (stages @ self.b)).reshape(z.shape)
