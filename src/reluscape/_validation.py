"""Argument checks shared by the public entry points.

Every message has one form: which parameter, what it must be, what it got.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise ValueError."""
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(option) for option in allowed)
        raise ValueError(f"{name} must be one of {options}; got {value!r}.")
    return value


def _as_int(value: Any) -> int | None:
    """Return ``value`` as an int, or None where it is not an integer scalar."""
    # operator.index also converts boolean tensors and one-element tensors of any shape, so those go first.
    if isinstance(value, torch.Tensor):
        if value.ndim != 0 or value.dtype == torch.bool:
            return None
    elif isinstance(value, (bool, np.bool_)) or (isinstance(value, np.ndarray) and value.dtype == np.bool_):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def check_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer not below ``minimum``.

    Integers are what ``operator.index`` accepts, except booleans: Python
    ints, NumPy integer scalars and 0-d integer arrays or tensors.
    """
    number = _as_int(value)
    if number is None:
        raise TypeError(f"{name} must be an integer; got {value!r} of type {type(value).__name__}.")
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {number}.")
    return number


def check_float(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive: bool = False,
) -> float:
    """Return ``value`` as a finite float inside the given bounds.

    With ``exclusive=True`` both bounds are excluded, otherwise included.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {value!r} of type {type(value).__name__}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}.")
    low_bad = minimum is not None and (value <= minimum if exclusive else value < minimum)
    high_bad = maximum is not None and (value >= maximum if exclusive else value > maximum)
    if low_bad or high_bad:
        # An infinite end is never included, since only finite values pass.
        left = "(" if exclusive or minimum is None else "["
        right = ")" if exclusive or maximum is None else "]"
        low = "-inf" if minimum is None else f"{minimum:g}"
        high = "inf" if maximum is None else f"{maximum:g}"
        raise ValueError(f"{name} must lie in {left}{low}, {high}{right}; got {value:g}.")
    return value


def check_finite_tensor(name: str, tensor: torch.Tensor) -> None:
    """Raise ValueError naming the first non-finite entry of ``tensor``."""
    finite = torch.isfinite(tensor)
    if bool(finite.all()):
        return
    bad = torch.nonzero(~finite)[0].tolist()
    value = tensor[tuple(bad)].item()
    raise ValueError(f"{name} must be finite; entry {tuple(bad)} is {value}.")
