"""How a portfolio picks its pairs from a formation window: one frozen, validated, JSON spec.

:class:`Selection` is to the choice of pairs what :class:`~pairs.Strategy` is to trading one pair:
the single place where the rule and its defaults are defined. :meth:`Selection.select` runs it on
one window of prices (see :func:`pairs.screening._select.select_pairs` for the exact steps); the
portfolio runs it on every formation window.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from pairs._results import Summary, format_table
from pairs._typing import Correction
from pairs._validation import check_choice, check_flag, check_float, check_int
from pairs.exceptions import PairsError
from pairs.strategy._spec_io import check_header, read_spec, write_spec

__all__ = ["METHODS", "MIN_FORMATION", "Selection"]

METHODS: tuple[str, ...] = ("coint", "distance")
# The shortest formation window: Engle-Granger needs 30 observations (scan's smallest min_overlap).
MIN_FORMATION = 30
CONFIRMS: tuple[str, ...] = ("kss", "phillips_ouliaris", "gregory_hansen")
FORMAT = "pairs.Selection"
VERSION = 1


@dataclass(frozen=True)
class Selection:
    """The rule that picks the pairs of a portfolio from a formation window of prices.

    Parameters
    ----------
    method
        ``"coint"`` (default): Engle-Granger on every pair through :func:`pairs.scan`, ranked by
        p-value. ``"distance"`` (Gatev, Goetzmann & Rouwenhorst 2006): the sum of squared
        differences of the two prices normalised to 1 at the window's first bar, smallest first.
    top
        How many pairs to keep (default 5).
    size
        ``"coint"`` only: keep only pairs whose adjusted p-value (``correction``) is below this
        test size; ``None`` (default) ranks every pair by p-value without a significance filter,
        as the published crypto rotation studies do (on 30-day hourly windows of the bundled
        universe, most windows have no pair significant at 5% after Benjamini-Hochberg).
    correction, direction, log
        As in :func:`pairs.scan` (defaults ``"fdr_bh"``, ``"y~x"``, False). ``log`` also applies
        to ``"distance"`` (differences of normalised log prices) and to the formation spread of
        the filters below. With ``direction="both"`` the pair's legs are those of the reported
        regression (the dependent leg is ``y``).
    min_half_life, max_half_life
        Keep pairs whose formation spread has a half-life (bars, AR(1) fit as
        :func:`pairs.half_life`) within these bounds; ``None``: no bound.
    min_crossings
        Keep pairs whose formation spread, minus its mean, changes sign at least this many times
        (default 0: no filter).
    max_pairs_per_coin
        At most this many selected pairs share a coin (``None``: no limit); applied greedily in
        rank order.
    confirm, confirm_size
        A second test a pair must pass, run in rank order on the pairs that reach it (so on few
        of them): ``"phillips_ouliaris"`` (``Zt``, no cointegration rejected), ``"gregory_hansen"``
        (no cointegration rejected, allowing one level break in the window), or ``"kss"`` (a unit
        root of the formation spread rejected against a nonlinear ESTAR reversion); rejection at
        ``confirm_size`` (0.01, 0.05 or 0.1: their tabulated levels). ``None`` (default): no
        confirmation. On an estimated Engle-Granger residual the KSS critical values, tabulated
        for an observed series, are liberal; on a distance spread (no estimated hedge) they hold.

    Notes
    -----
    The formation spread is the Engle-Granger residual ``y - beta x - alpha`` for ``"coint"`` and
    the difference of the normalised prices for ``"distance"`` (on logs with ``log=True``). Ties
    in the ranking are broken by the names ``(y, x)``.

    Examples
    --------
    >>> import pairs
    >>> selection = pairs.Selection(top=3, max_half_life=500)
    >>> prices = pairs.load_sample("binance_1h").iloc[:720]
    >>> table = selection.select(prices)
    >>> int(table["selected"].sum())
    3
    >>> pairs.Selection.from_dict(selection.to_dict()) == selection
    True
    """

    method: Literal["coint", "distance"] = "coint"
    top: int = 5
    size: float | None = None
    correction: Correction = "fdr_bh"
    direction: Literal["y~x", "both"] = "y~x"
    log: bool = False
    min_half_life: float | None = None
    max_half_life: float | None = None
    min_crossings: int = 0
    max_pairs_per_coin: int | None = None
    confirm: Literal["kss", "phillips_ouliaris", "gregory_hansen"] | None = None
    confirm_size: float = 0.05

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        check_choice("method", self.method, METHODS)
        set_(self, "top", check_int("top", self.top, minimum=1, maximum=1_000_000))
        if self.size is not None:
            level = check_float("size", self.size, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)
            set_(self, "size", level)
        check_choice("correction", self.correction, ("fdr_bh", "bonferroni", "none"))
        check_choice("direction", self.direction, ("y~x", "both"))
        set_(self, "log", check_flag("log", self.log))
        for name in ("min_half_life", "max_half_life"):
            value = getattr(self, name)
            if value is not None:
                set_(self, name, check_float(name, value, minimum=0.0))
        lo, hi = self.min_half_life, self.max_half_life
        if lo is not None and hi is not None and lo > hi:
            raise PairsError(f"max_half_life must be >= min_half_life ({lo}); got {hi!r}.")
        set_(self, "min_crossings", check_int("min_crossings", self.min_crossings, minimum=0))
        if self.max_pairs_per_coin is not None:
            set_(
                self,
                "max_pairs_per_coin",
                check_int("max_pairs_per_coin", self.max_pairs_per_coin, minimum=1),
            )
        if self.confirm is not None:
            check_choice("confirm", self.confirm, CONFIRMS)
        if isinstance(self.confirm_size, bool) or self.confirm_size not in (0.01, 0.05, 0.1):
            raise PairsError(f"confirm_size must be 0.01, 0.05 or 0.1; got {self.confirm_size!r}.")
        set_(self, "confirm_size", float(self.confirm_size))

    def replace(self, **changes: Any) -> Selection:
        """A copy with some settings changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every setting; :meth:`from_dict` inverts it."""
        return {"format": FORMAT, "version": VERSION, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: Any) -> Selection:
        """Rebuild a selection from :meth:`to_dict` output; missing settings take their defaults."""
        data = check_header(data, FORMAT, VERSION, {f.name for f in dataclasses.fields(cls)}, "selection")
        return cls(**data)

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The selection as indented JSON text; written atomically to ``path`` if given."""
        return write_spec(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Selection:
        """Read a selection file written by :meth:`to_json` (or by hand)."""
        return cls.from_dict(read_spec(path, "selection"))

    def summary(self) -> str:
        """The settings, one per line."""
        rows = [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self)]
        return Summary(format_table([(k, "None" if v is None else v) for k, v in rows], title="Selection"))

    def select(self, prices: pd.DataFrame) -> pd.DataFrame:
        """Rank the pairs of one formation window and mark those kept.

        Parameters
        ----------
        prices
            Closes of the formation window, one column per coin. Coins without a price on every
            row are not candidates (they are listed with reason ``"missing prices"``).

        Returns
        -------
        pandas.DataFrame
            One row per candidate pair in rank order: ``y``, ``x`` (the legs as traded: ``y`` is
            hedged with ``x``), ``rank`` (1 = best), ``score`` (p-value or distance), ``pvalue``,
            ``pvalue_adj``, ``distance``, ``beta``, ``alpha`` (the formation hedge), ``half_life``,
            ``crossings``, ``selected`` and ``reason`` (why a pair was not kept: ``"not
            significant"``, ``"half-life"``, ``"crossings"``, ``"coin cap"``, ``"not confirmed"``,
            ``"beyond top"``; empty when selected).
        """
        from pairs.screening._select import select_pairs

        return select_pairs(self, prices)
