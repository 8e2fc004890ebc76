"""The settings of a strategy, defined once: default, command-line flag and help text of each.

:class:`pairs.Strategy` and :class:`pairs.SignalRule` take their defaults from :data:`SETTINGS`,
and the command line registers its strategy options (``pairs signal|backtest|report|strategy``)
from the same rows, so a default shown by ``--help`` is the default the library runs. Plain
Python with no import: building the parser (``pairs --help``) must not load numpy or pandas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["CHOICES", "DEFAULTS", "FEE_BPS", "RULE_FIELDS", "SETTINGS", "SLIPPAGE_BPS", "Setting"]

# Costs in basis points of traded notional, the defaults of Strategy, backtest and walk_forward:
# 10 bps is the spot taker fee of the large crypto exchanges at their base tier (Binance, OKX,
# Bybit, Kraken Pro charge 10-40 bps), so a backtest is not free unless asked to be.
FEE_BPS = 10.0
SLIPPAGE_BPS = 0.0


@dataclass(frozen=True)
class Setting:
    """One setting: the ``Strategy`` (or ``SignalRule``) field, its default and its flag.

    ``help`` is the flag's help text, with ``{default}`` replaced by the default; ``group`` is
    the help section; ``kind`` the flag's value type (None: a choice among ``choices``).
    """

    field: str
    default: Any
    flag: str
    help: str
    group: str
    kind: Callable[[str], Any] | None = float
    metavar: str | tuple[str, str] | None = None
    choices: tuple[str, ...] | None = None
    nargs: int | None = None
    dest: str | None = None

    @property
    def name(self) -> str:
        """The argparse destination of the flag."""
        return self.dest or self.flag.lstrip("-").replace("-", "_")


_HEDGE = "hedge and z-score"
_RULE = "entry/exit rule"
_SIZING = "leg sizing"
_COSTS = "costs"
_ACCOUNT = "execution of an account (with --capital)"


def fill_option(text: str) -> str | int:
    """``--fill``: a fill model name or a lag in bars (the Strategy validates it)."""
    return int(text) if text.isascii() and text.isdigit() else text


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "hedge",
        "kalman",
        "--hedge",
        "hedge ratio (default: {default})",
        _HEDGE,
        None,
        choices=("kalman", "rolling", "ols"),
    ),
    Setting(
        "window",
        60,
        "--window",
        "rolling hedge window, and default rolling z-score window (default: {default})",
        _HEDGE,
        int,
        "N",
    ),
    Setting(
        "delta",
        1e-4,
        "--delta",
        "Kalman state noise, 0 < delta < 1 (default: {default:g})",
        _HEDGE,
        float,
        "D",
    ),
    Setting(
        "obs_var",
        1e-3,
        "--obs-var",
        "Kalman observation variance, relative to the first bar (default: {default:g})",
        _HEDGE,
        float,
        "V",
    ),
    Setting(
        "beta", None, "--beta", "fixed hedge ratio of --hedge ols (default: OLS fit)", _HEDGE, float, "B"
    ),
    Setting("alpha", 0.0, "--intercept", "fixed intercept of --hedge ols", _HEDGE, float, "A", dest="alpha"),
    Setting(
        "zscore_method",
        "rolling",
        "--zscore",
        "z-score of the spread (default: {default}; innovation: Kalman only)",
        _HEDGE,
        None,
        choices=("rolling", "ewm", "expanding", "innovation"),
        dest="zscore",
    ),
    Setting(
        "zscore_window",
        None,
        "--zscore-window",
        "rolling z-score window (default: --window)",
        _HEDGE,
        int,
        "N",
    ),
    Setting(
        "zscore_halflife", None, "--zscore-halflife", "half-life of --zscore ewm, in bars", _HEDGE, float, "H"
    ),
    Setting(
        "entry_z", 2.0, "--entry-z", "enter when |z| > entry-z (default: {default:g})", _RULE, float, "Z"
    ),
    Setting(
        "exit_z",
        0.0,
        "--exit-z",
        "exit when z crosses exit-z toward the mean (default: {default:g})",
        _RULE,
        float,
        "Z",
    ),
    Setting("stop_z", None, "--stop-z", "close and block the side when |z| >= stop-z", _RULE, float, "Z"),
    Setting(
        "max_holding", None, "--max-holding", "close after this many bars in a position", _RULE, int, "N"
    ),
    Setting("cooldown", 0, "--cooldown", "flat bars after any exit (default: {default})", _RULE, int, "N"),
    Setting(
        "capital",
        None,
        "--capital",
        "account capital (gross notional of a position): adds y_units, x_units; backtest in currency",
        _SIZING,
        float,
        "C",
    ),
    Setting(
        "sizing_mode",
        "beta_neutral",
        "--sizing",
        "(default: {default})",
        _SIZING,
        None,
        choices=("beta_neutral", "dollar_neutral"),
        dest="sizing",
    ),
    Setting(
        "lot_size",
        (0.0, 0.0),
        "--lot-size",
        "round units to lots",
        _SIZING,
        float,
        ("Y_LOT", "X_LOT"),
        nargs=2,
    ),
    Setting(
        "rebalance_band",
        0.0,
        "--rebalance-band",
        "re-size when beta drifts by this fraction",
        _SIZING,
        float,
        "F",
    ),
    Setting(
        "min_notional",
        (0.0, 0.0),
        "--min-notional",
        "smallest order of each leg, in the quote currency (default: 0 0)",
        _SIZING,
        float,
        ("Y_MIN", "X_MIN"),
        nargs=2,
    ),
    Setting(
        "fee_bps",
        FEE_BPS,
        "--fee-bps",
        "fees, bps of traded notional (default: {default:g})",
        _COSTS,
        float,
        "BPS",
    ),
    Setting(
        "slippage_bps",
        SLIPPAGE_BPS,
        "--slippage-bps",
        "slippage, bps (default: {default:g})",
        _COSTS,
        float,
        "BPS",
    ),
    Setting(
        "maker_fee_bps",
        None,
        "--maker-fee-bps",
        "maker fee, bps; negative: a rebate (default: --fee-bps)",
        _COSTS,
        float,
        "BPS",
    ),
    Setting(
        "maker_share",
        0.0,
        "--maker-share",
        "share of notional filled as maker (default: {default:g})",
        _COSTS,
        float,
        "F",
    ),
    Setting(
        "fill",
        "close",
        "--fill",
        "when orders fill: close, next_open (reads the sources' opens), next_close or a lag in bars "
        "(default: {default})",
        _ACCOUNT,
        fill_option,
        "WHEN",
    ),
    Setting(
        "leverage",
        None,
        "--leverage",
        "largest gross exposure / equity after an order (default: none)",
        _ACCOUNT,
        float,
        "L",
    ),
    Setting(
        "margin",
        "cross",
        "--margin",
        "margin of the legs (default: {default})",
        _ACCOUNT,
        None,
        choices=("cross", "isolated"),
    ),
)
"""Every setting of a strategy that has a flag, in the order of ``--help`` (``log_prices`` is
``--log``, a data option of every command)."""

RULE_FIELDS: tuple[str, ...] = ("entry_z", "exit_z", "stop_z", "max_holding", "cooldown")
"""The settings that belong to the strategy's :class:`~pairs.SignalRule`."""

DEFAULTS: dict[str, Any] = {s.field: s.default for s in SETTINGS}
"""``field -> default`` of every setting."""
CHOICES: dict[str, tuple[str, ...]] = {s.field: s.choices for s in SETTINGS if s.choices is not None}
"""``field -> choices`` of the settings that pick among names."""
