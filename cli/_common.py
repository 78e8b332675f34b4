"""Pieces shared by the commands: error handling and common options."""

from __future__ import annotations

import functools
import os
import traceback
from pathlib import Path

import click

from odediag import OdediagError


def friendly_errors(command):
    """Turn odediag's errors into one line and a non-zero exit, no traceback.

    Unexpected exceptions also become one line; ``ODEDIAG_DEBUG=1`` shows the
    full traceback for them.
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (click.ClickException, click.Abort, click.exceptions.Exit):
            raise
        except OdediagError as error:
            raise click.ClickException(str(error)) from None
        except KeyboardInterrupt:
            raise click.ClickException("interrupted") from None
        except Exception as error:
            if os.environ.get("ODEDIAG_DEBUG"):
                traceback.print_exc()
            raise click.ClickException(
                f"unexpected {type(error).__name__}: {error} "
                "(set ODEDIAG_DEBUG=1 to see where)"
            ) from None

    return wrapper


def writable_file(path: Path, what: str = "output file") -> Path:
    """Check before any work that ``path`` can be written, so none is lost."""
    if path.is_dir():
        raise click.BadParameter(
            f"{path} is a directory; give a file name", param_hint=what
        )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise click.BadParameter(
            f"folder {parent} does not exist; create it first", param_hint=what
        )
    if not os.access(parent, os.W_OK) or (
        path.exists() and not os.access(path, os.W_OK)
    ):
        raise click.BadParameter(f"{path} is not writable", param_hint=what)
    return path


def parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    """``("mu=1000", "eps=1e-6")`` → ``{"mu": "1000", "eps": "1e-6"}``."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.BadParameter(
                f"{pair!r} is not KEY=VALUE, e.g. --param mu=1000", param_hint="--param"
            )
        params[key.strip()] = value.strip()
    return params
