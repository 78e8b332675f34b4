"""Exceptions and warnings shared by every part of odediag.

User mistakes raise :class:`OdediagInputError` (a :class:`ValueError`) whose
message names the argument, the value received and the fix. Failures of a
solve are outcomes, not crashes: :class:`SolveError` carries the partial trace.
"""

from __future__ import annotations

import warnings
from typing import Any


class OdediagError(Exception):
    """Base class of every exception odediag raises on purpose."""


class OdediagInputError(OdediagError, ValueError):
    """An argument or input file is invalid; the message says how to fix it."""


class SolveError(OdediagError, RuntimeError):
    """A solve stopped before the end of its time span.

    Attributes
    ----------
    trace
        The trace of every step attempted before the failure. Its ``status``
        and ``message`` say why the solve stopped.
    """

    def __init__(self, message: str, trace: Any):
        super().__init__(message)
        self.trace = trace


class SolveInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a solve; ``trace`` keeps every step recorded until then.

    A :class:`KeyboardInterrupt`, so code that stops on Ctrl-C still does.
    """

    def __init__(self, trace: Any):
        super().__init__("interrupted")
        self.trace = trace


class OdediagWarning(UserWarning):
    """Warning category of every warning odediag emits."""


def warn(message: str, stacklevel: int = 2) -> None:
    """Emit an :class:`OdediagWarning` attributed to the caller's caller."""
    warnings.warn(message, OdediagWarning, stacklevel=stacklevel + 1)


def invalid(argument: str, value: Any, fix: str) -> OdediagInputError:
    """Build the one-line error for an invalid argument.

    Parameters
    ----------
    argument
        Name of the argument as the user wrote it.
    value
        The value received.
    fix
        What the user should do instead.
    """
    return OdediagInputError(f"invalid {argument} {value!r}: {fix}")
