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
    """Check before any work that ``path`` can be written, so none is lost.

    The check opens the file for appending (and removes it again if it did
    not exist): permission bits alone do not tell, for root or on read-only
    or virtual file systems.
    """
    if path.is_dir():
        raise click.ClickException(f"{what} {path} is a directory; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise click.ClickException(
            f"{what} {path}: folder {parent} does not exist; create it first"
        )
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as error:
        raise click.ClickException(
            f"{what} {path} cannot be written ({error.strerror or error}); "
            "choose another path"
        ) from None
    if not existed:
        path.unlink()
    return path


def parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    """``("mu=1000", "eps=1e-6")`` → ``{"mu": "1000", "eps": "1e-6"}``."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.ClickException(
                f"--param {pair!r} is not KEY=VALUE, e.g. --param mu=1000"
            )
        params[key.strip()] = value.strip()
    return params
