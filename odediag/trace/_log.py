"""Column storage for step records: growable NumPy arrays, no per-step objects.

A trace of 10^6 attempted steps keeps six numeric columns, about 41 MB, plus
at most as much again of spare capacity while the arrays grow.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

_INITIAL_CAPACITY = 256  # rows allocated before the first growth


class StepLog:
    """Append-only table of per-step records with typed columns.

    Parameters
    ----------
    columns
        Column name to NumPy dtype, in the order :meth:`append` receives values.
    """

    def __init__(self, columns: Mapping[str, np.dtype | type]):
        self.names = tuple(columns)
        self._arrays = [
            np.empty(_INITIAL_CAPACITY, dtype=dtype) for dtype in columns.values()
        ]
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, *values) -> None:
        """Append one row; ``values`` in the order of the columns."""
        if self._size == len(self._arrays[0]):
            self._grow()
        i = self._size
        for array, value in zip(self._arrays, values, strict=True):
            array[i] = value
        self._size = i + 1

    def set_rows(self, name: str, rows, values) -> None:
        """Overwrite column ``name`` at row indices ``rows``."""
        self._arrays[self.names.index(name)][rows] = values

    def column(self, name: str) -> np.ndarray:
        """A view of the filled part of column ``name``."""
        return self._arrays[self.names.index(name)][: self._size]

    def columns(self) -> dict[str, np.ndarray]:
        """Copies of every column, trimmed to the filled rows."""
        return {
            n: a[: self._size].copy()
            for n, a in zip(self.names, self._arrays, strict=True)
        }

    @property
    def nbytes(self) -> int:
        """Bytes held by the column arrays (capacity included)."""
        return sum(a.nbytes for a in self._arrays)

    def _grow(self) -> None:
        # Doubling keeps appends amortised O(1); growth factor 1.5 would cap
        # spare memory lower at the cost of more copies.
        self._arrays = [np.concatenate([a, np.empty_like(a)]) for a in self._arrays]
