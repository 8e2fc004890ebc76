"""Validation of the execution options of :func:`pairs.backtest` (fills, fees, margin) at the boundary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pairs._validation import check_choice, check_float
from pairs.evaluation._ledger import Execution
from pairs.exceptions import DataError, PairsError
from pairs.strategy._strategy import (
    MAINTENANCE_MARGIN,
    MARGIN_MODES,
    SLIPPAGE_MODELS,
    check_market,
    check_pair,
)
from pairs.trading._sizing import aligned_series

__all__ = ["account_only", "execution", "fee_rate", "gross_rate", "open_prices"]

_ACCOUNT_DEFAULTS: dict[str, Any] = {
    "slippage_model": "cost",
    "min_notional": (0.0, 0.0),
    "margin": "cross",
    "maintenance_margin": MAINTENANCE_MARGIN,
    "market": ("perp", "perp"),
    "borrow_rate": (0.0, 0.0),
}


def fee_rate(fee_bps: Any, maker_fee_bps: Any, maker_share: Any) -> tuple[float, float, float]:
    """``(taker, maker, maker_share)`` as fractions; ``maker_fee_bps=None`` is the taker fee."""
    taker = check_float("fee_bps", fee_bps, minimum=0.0) / 1e4
    maker = taker if maker_fee_bps is None else check_float("maker_fee_bps", maker_fee_bps) / 1e4
    return taker, maker, check_float("maker_share", maker_share, minimum=0.0, maximum=1.0)


def gross_rate(fee_bps: Any, maker_fee_bps: Any, maker_share: Any, slippage_bps: Any) -> float:
    """The cost per unit of turnover of the gross-exposure convention: the blended fee plus slippage."""
    taker, maker, share = fee_rate(fee_bps, maker_fee_bps, maker_share)
    slip = check_float("slippage_bps", slippage_bps, minimum=0.0) / 1e4
    return (1.0 - share) * taker + share * maker + slip


def account_only(**given: Any) -> None:
    """Refuse account options given without ``capital``."""
    for name, value in given.items():
        if value is not None:
            raise PairsError(
                f"{name} must be None without capital (it applies to an account); got {value!r}."
            )


def execution(
    *,
    fee_bps: Any,
    maker_fee_bps: Any,
    maker_share: Any,
    slippage_bps: Any,
    slippage_model: Any,
    min_notional: Any,
    leverage: Any,
    margin: Any,
    maintenance_margin: Any,
    market: Any,
    borrow_rate: Any,
    lots: tuple[float, float],
) -> Execution:
    """Validated :class:`Execution` of an account; ``None`` options take their defaults."""
    given = {
        "slippage_model": slippage_model,
        "min_notional": min_notional,
        "margin": margin,
        "maintenance_margin": maintenance_margin,
        "market": market,
        "borrow_rate": borrow_rate,
    }
    opts = {k: _ACCOUNT_DEFAULTS[k] if v is None else v for k, v in given.items()}
    taker, maker, share = fee_rate(fee_bps, maker_fee_bps, maker_share)
    model = check_choice("slippage_model", opts["slippage_model"], SLIPPAGE_MODELS)
    mode = check_choice("margin", opts["margin"], MARGIN_MODES)
    lev = None if leverage is None else check_float("leverage", leverage, minimum=0.0, strict_min=True)
    if mode == "isolated" and lev is None:
        raise PairsError(
            "leverage must be a number > 0 with margin='isolated' (it sets each leg's initial margin); got None."
        )
    return Execution(
        fee_rate=taker,
        maker_rate=maker,
        maker_share=share,
        slippage_rate=check_float("slippage_bps", slippage_bps, minimum=0.0) / 1e4,
        slippage_price=model == "price",
        min_notional=np.array(check_pair("min_notional", opts["min_notional"])),
        leverage=lev,
        isolated=mode == "isolated",
        maintenance=np.array(check_pair("maintenance_margin", opts["maintenance_margin"], maximum=1.0)),
        spot=np.array(check_market(opts["market"])) == "spot",
        borrow_rate=np.array(check_pair("borrow_rate", opts["borrow_rate"])),
        lots=np.array(lots, dtype=np.float64),
    )


def open_prices(open_y: Any, open_x: Any, index: pd.Index, at_open: bool) -> np.ndarray | None:
    """Open prices (bars x [y, x]) for ``fill="next_open"``; refused otherwise."""
    if not at_open:
        for name, value in (("open_y", open_y), ("open_x", open_x)):
            if value is not None:
                raise PairsError(f"{name} must be None unless fill='next_open'; got {type(value).__name__}.")
        return None
    cols = []
    for name, value in (("open_y", open_y), ("open_x", open_x)):
        if value is None:
            raise PairsError(f"{name} must be given with fill='next_open' (the open prices); got None.")
        values = aligned_series(value, name, index).to_numpy()
        if (values <= 0).any():
            raise DataError(f"{name} must be strictly positive; got {values.min()!r}.")
        cols.append(values)
    return np.column_stack(cols)
