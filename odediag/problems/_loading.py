"""Find a problem from a command-line spec: a built-in name, a file or a module."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from odediag._errors import OdediagInputError, invalid
from odediag.problems._builtin import builtin_names, builtin_problem
from odediag.problems._problem import Problem


def load_problem(spec: str, params: Mapping[str, Any] | None = None) -> Problem:
    """Turn ``spec`` into a :class:`Problem`.

    Parameters
    ----------
    spec
        A built-in name (``"rober"``), ``"path/to/file.py:NAME"`` or
        ``"package.module:NAME"``. ``NAME`` is a :class:`Problem` or a
        callable returning one; keyword parameters are passed to the callable.
    params
        Parameters for a built-in problem or for a callable ``NAME``.

    Raises
    ------
    OdediagInputError
        When nothing by that name exists or it is not a problem.
    """
    params = dict(params or {})
    if ":" not in spec:
        if spec.endswith(".py"):
            raise invalid("problem", spec, "name the object too: FILE.py:NAME")
        return builtin_problem(spec, **params)
    where, _, name = spec.rpartition(":")
    if not name.isidentifier():
        raise invalid("problem", spec, "NAME after ':' must be a Python identifier")
    module = _import_file(where) if where.endswith(".py") else _import_module(where)
    if not hasattr(module, name):
        raise invalid("problem", spec, f"{where} defines no object named {name!r}")
    return _as_problem(getattr(module, name), spec, params)


def _import_file(path_text: str):
    path = Path(path_text)
    if not path.is_file():
        raise invalid("problem file", path_text, "no such file; check the path")
    module_name = f"_odediag_user_{abs(hash(path.resolve()))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[module_name]
        raise OdediagInputError(
            f"could not import {path_text}: {type(error).__name__}: {error}"
        ) from None
    return module


def _import_module(module_name: str):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise invalid(
            "problem module",
            module_name,
            f"cannot import it ({error}); is it installed or on PYTHONPATH?",
        ) from None
    except Exception as error:
        raise OdediagInputError(
            f"could not import {module_name}: {type(error).__name__}: {error}"
        ) from None


def _as_problem(obj: Any, spec: str, params: dict[str, Any]) -> Problem:
    if isinstance(obj, Problem):
        if params:
            raise invalid("param", params, f"{spec} is a fixed Problem; drop --param")
        return obj
    if not callable(obj):
        raise invalid(
            "problem",
            spec,
            "NAME must be an odediag.Problem or a callable returning one",
        )
    try:
        made = obj(**_typed_params(obj, params))
    except OdediagInputError:
        raise
    except TypeError as error:
        if params:
            raise invalid(
                "param", params, f"{spec} does not accept them ({error})"
            ) from None
        raise invalid(
            "problem",
            spec,
            f"calling it failed ({error}); NAME must be an odediag.Problem or a "
            "callable that returns one when called without arguments",
        ) from None
    except Exception as error:
        raise OdediagInputError(
            f"calling {spec} failed: {type(error).__name__}: {error}"
        ) from None
    if not isinstance(made, Problem):
        raise invalid(
            "problem",
            spec,
            f"calling it returned {type(made).__name__}, not an odediag.Problem",
        )
    return made


def _typed_params(factory: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Convert command-line strings with the factory's annotations.

    ``g: float`` turns ``"1.62"`` into 1.62; without an annotation a value is
    read as a Python literal when it is one (``"3"``, ``"1e-3"``, ``"(1, 2)"``)
    and kept as a string otherwise.
    """
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        signature = None
    typed = {}
    for key, value in params.items():
        if not isinstance(value, str):
            typed[key] = value
            continue
        parameter = signature.parameters.get(key) if signature else None
        typed[key] = _convert(key, value, parameter)
    return typed


def _convert(key: str, text: str, parameter: inspect.Parameter | None) -> Any:
    annotation = parameter.annotation if parameter is not None else None
    kind = {"float": float, "int": int, "str": str, "bool": None}.get(
        getattr(annotation, "__name__", annotation), None
    )
    if kind in (float, int):
        try:
            return kind(text)
        except ValueError:
            raise invalid(
                "param", f"{key}={text}", f"{key} must be a number ({kind.__name__})"
            ) from None
    if kind is str:
        return text
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


__all__ = ["load_problem", "builtin_names"]
