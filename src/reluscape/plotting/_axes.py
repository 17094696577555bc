"""Shared helpers of the plotting functions."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def get_axes(ax: Axes | None, *, projection: str | None = None) -> Axes:
    """Return ``ax``, or the axes of a new figure when ``ax`` is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(6.0, 4.5))
    return figure.add_subplot(projection=projection)
