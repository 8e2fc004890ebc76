"""The figure class of :mod:`pairs.plot`: a matplotlib Figure that displays itself in IPython.

pairs builds figures without pyplot, so that making one changes no state of an interactive
session. Such a figure has no display hook in IPython unless matplotlib's inline backend has been
loaded (``%matplotlib inline``, or pyplot imported in a Jupyter kernel): evaluated in a cell it
shows as ``<Figure size 640x280 with 1 Axes>``. ``_repr_png_`` makes it show as its image in any
frontend. IPython looks up the formatters registered for matplotlib's Figure before
``_repr_png_``, so where the inline backend is active its settings (format, dpi) win and the
image is shown once. This module imports matplotlib: :mod:`pairs.plot` imports it on first use.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure as _Figure

__all__ = ["Figure"]


class Figure(_Figure):
    """A :class:`matplotlib.figure.Figure` with a PNG display for IPython and Jupyter."""

    def _repr_png_(self) -> tuple[bytes, dict[str, int]]:
        # Rendered at twice the figure's dpi and shown at its own size: sharp on HiDPI screens,
        # as the inline backend's "retina" format.
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=2 * self.dpi)
        width, height = self.get_size_inches() * self.dpi
        return buffer.getvalue(), {"width": round(width), "height": round(height)}
