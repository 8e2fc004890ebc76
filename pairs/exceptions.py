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
