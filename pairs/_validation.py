"""Input checks shared by every public entry point.

Public functions validate once, at their boundary, with the helpers below; inner
kernels trust their input. Every failure raises a :class:`~pairs.exceptions.PairsError`
subclass whose message names the argument and what was expected.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from pairs.exceptions import DataError, InsufficientDataError, PairsError

__all__ = [
    "MAX_INT",
    "MAX_WINDOW",
    "MIN_LOT",
    "align_pair",
    "as_frame",
    "as_positive_duration",
    "as_series",
    "check_choice",
    "check_flag",
    "check_float",
    "check_halflife",
    "check_int",
    "check_keys",
    "check_lot_size",
    "check_not_constant",
    "check_window",
    "clean_pair_values",
    "raise_if_constant",
    "renamed_attribute",
    "renamed_option",
    "shown",
]

T = TypeVar("T")

MAX_INT = 2**53 - 1
"""Largest integer option (a count of bars, a window): every count is exact as a float, in the
compiled kernels (int64) and in a JSON state file, so a larger one is refused at the boundary."""
MAX_WINDOW = 1_000_000
"""Longest window or half-life, in bars, of a strategy and its streaming engines (about two years
of one-minute bars): an engine keeps a window of bars in memory, and an EWM weight
``0.5 ** (1 / halflife)`` rounds to 1 (a division by zero) long before 2**53 bars."""


def shown(value: Any) -> str:
    """``repr(value)``, shortened for integers too long to read in a one-line message."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and abs(int(value)) > 10**30:
        return f"an integer of {len(str(abs(int(value))))} digits"
    return repr(value)


def _describe(obj: Any) -> str:
    if isinstance(obj, pd.Series):
        return f"Series of dtype {obj.dtype} and length {len(obj)}"
    if isinstance(obj, pd.DataFrame):
        return f"DataFrame of shape {obj.shape}"
    if isinstance(obj, np.ndarray):
        return f"ndarray of dtype {obj.dtype} and shape {obj.shape}"
    return type(obj).__name__


def check_choice(name: str, value: Any, choices: Iterable[T]) -> T:
    """Return ``value`` if it is one of ``choices``, else raise naming ``name``."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(c) for c in options)
        raise PairsError(f"{name} must be one of {listed}; got {value!r}.")
    return value  # type: ignore[return-value]


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = MAX_INT) -> int:
    """Return ``value`` as ``int`` if it is an integer within ``[minimum, maximum]``.

    ``maximum`` defaults to :data:`MAX_INT` (2**53 - 1); ``None`` lifts the bound (a seed).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise PairsError(f"{name} must be an integer; got {value!r}.")
    ivalue = int(value)
    if minimum is not None and ivalue < minimum:
        raise PairsError(f"{name} must be an integer >= {minimum}; got {shown(value)}.")
    if maximum is not None and ivalue > maximum:
        raise PairsError(f"{name} must be an integer <= {maximum}; got {shown(value)}.")
    return ivalue


def check_float(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
    strict_max: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise PairsError(f"{name} must be a real number; got {value!r}.")
    try:
        fvalue = float(value)
    except OverflowError:  # an int beyond the float range
        fvalue = math.inf
    if not math.isfinite(fvalue):
        raise PairsError(f"{name} must be a finite number; got {shown(value)}.")
    if minimum is not None:
        if strict_min and fvalue <= minimum:
            raise PairsError(f"{name} must be > {minimum}; got {shown(value)}.")
        if not strict_min and fvalue < minimum:
            raise PairsError(f"{name} must be >= {minimum}; got {shown(value)}.")
    if maximum is not None:
        if strict_max and fvalue >= maximum:
            raise PairsError(f"{name} must be < {maximum}; got {shown(value)}.")
        if not strict_max and fvalue > maximum:
            raise PairsError(f"{name} must be <= {maximum}; got {shown(value)}.")
    return fvalue


def check_halflife(name: str, value: Any) -> float:
    """Return a half-life in bars: a number in ``(0, MAX_WINDOW]``."""
    return check_float(name, value, minimum=0.0, maximum=MAX_WINDOW, strict_min=True)


MIN_LOT = 1e-18
"""Smallest lot size other than 0 (no rounding): the smallest unit of a crypto asset (1 wei is
1e-18 ether, 1 satoshi 1e-8 bitcoin); a position divided by a smaller lot overflows."""


def check_lot_size(value: Any) -> tuple[float, float]:
    """Return ``(y_lot, x_lot)``: each 0 (fractional units) or at least :data:`MIN_LOT`."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise PairsError(f"lot_size must be a pair (y_lot, x_lot); got {value!r}.")
    lots = tuple(check_float(f"lot_size[{k}]", lot, minimum=0.0) for k, lot in enumerate(value))
    for k, lot in enumerate(lots):
        if 0.0 < lot < MIN_LOT:
            raise PairsError(f"lot_size[{k}] must be 0 or at least {MIN_LOT:g}; got {value[k]!r}.")
    return lots[0], lots[1]


def check_window(name: str, value: Any, n_obs: int, *, minimum: int = 2) -> int:
    """Return a window length that is an integer in ``[minimum, n_obs]``."""
    window = check_int(name, value, minimum=minimum, maximum=None)
    if window > n_obs:
        raise InsufficientDataError(
            f"{name} must be <= the number of observations ({n_obs}); got {shown(value)}."
        )
    return window


def _check_index(name: str, index: pd.Index) -> None:
    if isinstance(index, pd.MultiIndex):
        raise DataError(
            f"{name} index must have one level (timestamps); got a MultiIndex of {index.nlevels} levels "
            "(select one group, or .droplevel() the others)."
        )
    if index.hasnans:
        raise DataError(
            f"{name} index must not contain missing timestamps (NaT/NaN); got {int(index.isna().sum())}."
        )
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise DataError(f"{name} index must have unique timestamps; got duplicate {dup!r}.")
    if not index.is_monotonic_increasing:
        raise DataError(
            f"{name} index must be sorted in increasing order; got an unsorted index "
            "(sort it with .sort_index())."
        )


def _check_values(name: str, values: np.ndarray, *, allow_nan: bool, positive: bool) -> None:
    if np.isinf(values).any():
        raise DataError(f"{name} must contain only finite values; got inf.")
    nan_mask = np.isnan(values)
    if not allow_nan and nan_mask.any():
        raise DataError(
            f"{name} must not contain NaN; got {int(nan_mask.sum())} NaN value(s) "
            "(drop them or use pairs.align())."
        )
    if positive and (values[~nan_mask] <= 0).any():
        raise DataError(
            f"{name} must be strictly positive (prices, or logs are taken); "
            f"got minimum {np.nanmin(values)!r}."
        )


def _numeric_array(name: str, obj: Any) -> np.ndarray:
    try:
        dtype = obj.dtype
    except AttributeError:
        dtype = None
    if dtype is not None and not (pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)):
        raise DataError(f"{name} must have a numeric dtype; got {_describe(obj)}.")
    return np.asarray(obj, dtype=np.float64)


def as_series(
    obj: Any,
    name: str,
    *,
    allow_nan: bool = False,
    positive: bool = False,
    min_length: int = 2,
) -> pd.Series:
    """Validate a one-dimensional numeric input and return it as a float ``Series``.

    Accepts a ``Series``, a one-column ``DataFrame`` or a 1-d array-like (which gets a
    ``RangeIndex``). The index must be sorted and unique; values must be finite
    (NaN only when ``allow_nan``) and strictly positive when ``positive``.
    """
    if isinstance(obj, pd.DataFrame):
        if obj.shape[1] != 1:
            raise DataError(f"{name} must be a Series or 1-d array; got {_describe(obj)}.")
        obj = obj.iloc[:, 0]
    if isinstance(obj, pd.Series):
        values = _numeric_array(name, obj)
        _check_index(name, obj.index)
        series = pd.Series(values, index=obj.index, name=obj.name)
    elif isinstance(obj, (np.ndarray, Sequence)) and not isinstance(obj, (str, bytes)):
        arr = np.asarray(obj)
        if arr.ndim != 1:
            raise DataError(f"{name} must be one-dimensional; got {_describe(arr)}.")
        if arr.dtype.kind not in "fiu":
            raise DataError(f"{name} must have a numeric dtype; got {_describe(arr)}.")
        series = pd.Series(arr.astype(np.float64))
        values = series.to_numpy()
    else:
        raise DataError(f"{name} must be a pandas Series or 1-d array; got {_describe(obj)}.")
    if len(series) < min_length:
        raise InsufficientDataError(
            f"{name} must have at least {min_length} observations; got {len(series)}."
        )
    _check_values(name, values, allow_nan=allow_nan, positive=positive)
    return series


def as_frame(
    obj: Any,
    name: str,
    *,
    allow_nan: bool = False,
    positive: bool = False,
    min_length: int = 2,
    min_columns: int = 1,
) -> pd.DataFrame:
    """Validate a numeric ``DataFrame`` (or 2-d array) and return it as float64."""
    if isinstance(obj, pd.Series):
        obj = obj.to_frame()
    if isinstance(obj, np.ndarray):
        if obj.ndim != 2:
            raise DataError(f"{name} must be two-dimensional; got {_describe(obj)}.")
        obj = pd.DataFrame(obj, columns=[f"{name}{i}" for i in range(obj.shape[1])])
    if not isinstance(obj, pd.DataFrame):
        raise DataError(f"{name} must be a pandas DataFrame or 2-d array; got {_describe(obj)}.")
    if obj.shape[1] < min_columns:
        raise DataError(f"{name} must have at least {min_columns} column(s); got {obj.shape[1]}.")
    if isinstance(obj.columns, pd.MultiIndex):
        raise DataError(
            f"{name} columns must have one level (names); got a MultiIndex of {obj.columns.nlevels} levels."
        )
    if obj.columns.has_duplicates:
        raise DataError(f"{name} must have unique column names; got {list(obj.columns)!r}.")
    for col in obj.columns:
        dtype = obj[col].dtype
        if not (pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)):
            raise DataError(f"{name} column {col!r} must be numeric; got dtype {dtype}.")
    _check_index(name, obj.index)
    frame = obj.astype(np.float64)
    if len(frame) < min_length:
        raise InsufficientDataError(f"{name} must have at least {min_length} observations; got {len(frame)}.")
    _check_values(name, frame.to_numpy(), allow_nan=allow_nan, positive=positive)
    return frame


def check_not_constant(name: str, values: pd.Series | pd.DataFrame | np.ndarray) -> None:
    """Raise when a series (or any column) has zero variance over its finite values."""
    arr = np.asarray(values, dtype=np.float64)
    arr2 = arr.reshape(len(arr), -1)
    for j in range(arr2.shape[1]):
        col = arr2[:, j]
        col = col[np.isfinite(col)]
        # A single observed value is too little data, not a constant: the length checks say so.
        if col.size > 1 and np.all(col == col[0]):
            raise DataError(f"{name} must not be constant; got every value equal to {col[0]!r}.")


def _mismatch(y_index: pd.Index, x_index: pd.Index, y_name: str, x_name: str) -> str:
    """Why two unequal indexes differ, in terms the user can act on."""
    if isinstance(y_index, pd.DatetimeIndex) and isinstance(x_index, pd.DatetimeIndex):
        ty, tx = y_index.tz, x_index.tz
        if (ty is None) != (tx is None):
            kind_y, kind_x = ("naive" if tz is None else "aware" for tz in (ty, tx))
            return (
                f"{x_name} index must have the same timezone awareness as {y_name} ({kind_y}); got {kind_x}."
            )
        if ty is not None and str(ty) != str(tx):
            return (
                f"{x_name} index must have the same timezone as {y_name} ({ty}); got {tx} "
                "(convert both, e.g. with .tz_convert('UTC'))."
            )
    return (
        f"{x_name} index must equal {y_name} index; got misaligned indexes "
        "(align them first with pairs.align())."
    )


def align_pair(
    y: Any,
    x: Any,
    *,
    allow_nan: bool = False,
    positive: bool = False,
    min_length: int = 2,
    allow_frame_x: bool = False,
    y_name: str = "y",
    x_name: str = "x",
) -> tuple[pd.Series, pd.Series | pd.DataFrame]:
    """Validate ``y`` and ``x`` and check that they share one index.

    Pandas inputs must carry the same index (no silent intersection: call
    :func:`pairs.align` first). An array adopts the index of the pandas partner.
    ``x`` may be a DataFrame of several legs when ``allow_frame_x``.
    """
    ys = as_series(y, y_name, allow_nan=allow_nan, positive=positive, min_length=min_length)
    if allow_frame_x and (isinstance(x, pd.DataFrame) or (isinstance(x, np.ndarray) and x.ndim == 2)):
        xs: pd.Series | pd.DataFrame = as_frame(
            x, x_name, allow_nan=allow_nan, positive=positive, min_length=min_length
        )
    else:
        xs = as_series(x, x_name, allow_nan=allow_nan, positive=positive, min_length=min_length)
    y_pandas = isinstance(y, (pd.Series, pd.DataFrame))
    x_pandas = isinstance(x, (pd.Series, pd.DataFrame))
    if len(ys) != len(xs):
        raise DataError(
            f"{x_name} must have the same length as {y_name} ({len(ys)}); got {len(xs)} "
            "(align them first with pairs.align())."
        )
    if y_pandas and x_pandas:
        if not ys.index.equals(xs.index):
            raise DataError(_mismatch(ys.index, xs.index, y_name, x_name))
    elif y_pandas:
        xs.index = ys.index
    elif x_pandas:
        ys.index = xs.index
    if ys.name is None:
        ys.name = y_name
    if isinstance(xs, pd.Series) and xs.name is None:
        xs.name = x_name
    return ys, xs


_FLOAT64 = np.dtype(np.float64)


def raise_if_constant(name: str, values: np.ndarray) -> None:
    """:func:`~pairs._validation.check_not_constant` for a float64 array, compiled.

    Only a constant input reaches the general check, which then raises its usual error.
    """
    from pairs._kernels import any_constant  # numba loads on first use, not at import

    # Writable and C-contiguous (pandas hands out read-only views): one compiled any_constant.
    if any_constant(np.require(values.reshape(len(values), -1), requirements=["C", "W"])):
        check_not_constant(name, values)


def clean_pair_values(
    y: Any, x: Any, *, allow_nan: bool = False, positive: bool = False, min_length: int = 2
) -> tuple[np.ndarray, np.ndarray] | None:
    """The values of ``y`` and ``x`` when :func:`~pairs._validation.align_pair` would accept them
    as they are, else None.

    A shortcut for the common case, two float64 Series on one index: ``align_pair`` copies each
    into a new Series, which costs about as much as a Kalman filter over 3,000 bars. It proves
    the same conditions (same index, without NaT, sorted and unique, length, no inf, NaN only
    if allowed, positive if asked) without copying and returns None on anything else, so the caller runs
    ``align_pair``, which raises the precise error or converts the input.
    """
    if not (isinstance(y, pd.Series) and isinstance(x, pd.Series)):
        return None
    if y.dtype != _FLOAT64 or x.dtype != _FLOAT64:
        return None
    index = y.index
    if len(index) < min_length or len(x) != len(index):
        return None
    # Equal indexes of different dtypes (time units, timezone names) are left to align_pair.
    if index is not x.index and not (index.dtype == x.index.dtype and index.equals(x.index)):
        return None
    if isinstance(index, pd.MultiIndex) or index.hasnans:
        return None
    if not (index.is_unique and index.is_monotonic_increasing):
        return None
    from pairs._kernels import inf_nan_min

    yv, xv = y.to_numpy(), x.to_numpy()
    for values in (yv, xv):
        has_inf, has_nan, lo = inf_nan_min(values)
        if has_inf or (has_nan and not allow_nan) or (positive and not lo > 0.0):
            return None
    return yv, xv


def check_keys(data: Any, known: Iterable[str], kind: str = "") -> dict[str, Any]:
    """``data`` as a new dict, refused unless it is a dict whose keys are all in ``known`` (the fields of
    a spec: ``from_dict`` of a rule or a strategy file). ``kind`` qualifies the dict in the message."""
    if not isinstance(data, dict):
        raise PairsError(f"data must be a dict{kind}; got {type(data).__name__}.")
    names = set(known)
    unknown = sorted(set(data) - names)
    if unknown:
        raise PairsError(f"data must only have keys {sorted(names)}; got unknown {unknown!r}.")
    return dict(data)


def check_flag(name: str, value: Any) -> bool:
    """Return ``value`` if it is a ``bool`` (NumPy's included), else raise naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise PairsError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def as_positive_duration(value: Any) -> pd.Timedelta | None:
    """``value`` (a string such as ``"6h"``, or a timedelta) as a positive ``Timedelta``, else None.

    The caller decides which types it accepts and raises its own message on None.
    """
    try:
        duration = pd.Timedelta(value)
    except (ValueError, TypeError, OverflowError):
        return None
    if duration is pd.NaT or not duration > pd.Timedelta(0):
        return None
    return duration


def renamed_option(name: str, value: Any, old_name: str, old_value: Any, default: Any) -> Any:
    """The value of option ``name``, also accepted for one release under its former name.

    ``old_value`` is None when the former name is not given. The former name warns
    (``FutureWarning``, pointing at the caller of the public function); giving it with ``name``
    is refused. ``name`` at its ``default`` counts as not given, because passing a default
    explicitly must not change a result.
    """
    if old_value is None:
        return value
    if value != default:
        raise PairsError(
            f"{old_name} must not be given with {name} ({old_name} is the former name of {name}); "
            f"got {old_name}={old_value!r} and {name}={value!r}."
        )
    warnings.warn(
        f"{old_name}= was renamed {name}= and will be removed in the next release; pass {name}={old_value!r}.",
        FutureWarning,
        stacklevel=3,
    )
    return old_value


def renamed_attribute(name: str, old_name: str, convert: Any = None) -> Any:
    """A read-only property ``old_name`` of a result, kept for one release after its rename to ``name``.

    Reading it warns (``FutureWarning``, pointing at the reader) and returns attribute ``name``,
    passed through ``convert`` when the former attribute held the value in another form.
    """

    def former(self: Any) -> Any:
        warnings.warn(
            f"{type(self).__name__}.{old_name} was renamed .{name} and will be removed in the next release.",
            FutureWarning,
            stacklevel=2,
        )
        value = getattr(self, name)
        return value if convert is None else convert(value)

    return property(former, doc=f"Deprecated: the former name of ``{name}``.")
