"""Exception hierarchy of :mod:`pairs`.

Every error raised on purpose by the library is a :class:`PairsError`, itself a
``ValueError`` so that generic ``except ValueError`` handlers keep working.
Messages follow the pattern ``"<arg> must be <expectation>; got <actual!r>."``.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "EMConvergenceWarning",
    "InsufficientDataError",
    "KalmanBoundaryWarning",
    "MissingDependencyError",
    "PairsError",
    "PairsWarning",
    "StateError",
]


class PairsError(ValueError):
    """Base class of every error raised on purpose by :mod:`pairs`."""


class DataError(PairsError):
    """Input data is malformed: NaN/inf, bad index, unknown file layout, failed download."""


class InsufficientDataError(PairsError):
    """Too few observations for the requested computation."""


class StateError(PairsError):
    """A saved streaming state is corrupt, of another version, or an update is out of order."""


class MissingDependencyError(PairsError, ImportError):
    """An optional dependency (an extra such as ``plot`` or ``dask``) is not installed."""


class PairsWarning(UserWarning):
    """A warning raised on purpose by :mod:`pairs` (e.g. an option makes a rule unreachable)."""


class EMConvergenceWarning(PairsWarning):
    """An EM fit stopped at its iteration cap before its convergence criterion was met."""


class KalmanBoundaryWarning(PairsWarning):
    """A Kalman noise fit ended at a boundary (``obs_var`` or the state noise at 0).

    The data then cannot tell the fitted value from 0: with ``obs_var`` at 0 the state absorbs
    every move of ``y`` and the spread is about 0; with the state noise at 0 the hedge ratio is
    constant.
    """
