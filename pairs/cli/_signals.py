"""``pairs signal`` (batch and ``--follow``) and ``pairs backtest``.

Both paths read their options into :class:`pairs.StreamEngine` keyword arguments, and the engine
validates them, so the batch series and the streamed signals are two computations of one
model: the batch path runs the library's batch functions (``kalman_hedge``/``rolling_hedge``,
``zscore``, ``signals``, ``step_rule``, ``size_legs``), ``--follow`` runs the O(1) engine.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pairs.cli._io import (
    Pair,
    frame_text,
    load_pair,
    print_csv,
    print_json,
    records,
    records_json,
    rows_text,
    write_frame,
)
from pairs.evaluation._backtest import backtest
from pairs.exceptions import DataError, PairsError, StateError
from pairs.hedge._kalman import kalman_hedge
from pairs.hedge._ols import ols_hedge
from pairs.hedge._rolling import rolling_hedge
from pairs.stream._engine import Signal, StreamEngine
from pairs.trading import RuleState, SignalRule, signals, size_legs, step_rule, zscore

__all__ = ["ENGINE_OPTIONS", "batch_signals", "cmd_backtest", "cmd_signal", "engine_kwargs", "metrics_rows"]

DEFAULT_WINDOW = 60
COLUMNS = ["beta", "alpha", "spread", "zscore", "position", "y_units", "x_units", "action"]
# Options that configure the engine: given on a resumed --follow, they must match the state file.
ENGINE_OPTIONS = (
    "hedge",
    "window",
    "delta",
    "obs_var",
    "beta",
    "alpha",
    "zscore",
    "zscore_window",
    "zscore_halflife",
    "entry_z",
    "exit_z",
    "stop_z",
    "max_holding",
    "cooldown",
    "capital",
    "sizing",
    "lot_size",
    "rebalance_band",
    "log",
)


def _given(args: argparse.Namespace, name: str, default: Any) -> Any:
    value = getattr(args, name)
    return default if value is None else value


def engine_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """:class:`StreamEngine` keyword arguments from the command-line options (defaults filled)."""
    hedge = _given(args, "hedge", "kalman")
    method = _given(args, "zscore", "innovation" if hedge == "kalman" else "rolling")
    if args.window is not None and hedge != "rolling" and method != "rolling":
        raise PairsError(
            f"window must be used with --hedge rolling or --zscore rolling; got --window {args.window} "
            f"with hedge={hedge!r} and zscore={method!r}."
        )
    options: dict[str, Any] = {}
    for name in ("delta", "obs_var", "beta", "alpha"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if hedge == "rolling":
        options["window"] = _given(args, "window", DEFAULT_WINDOW)
    zwin = args.zscore_window
    if method == "rolling" and zwin is None:
        zwin = _given(args, "window", DEFAULT_WINDOW)
    rule = SignalRule(
        entry_z=_given(args, "entry_z", 2.0),
        exit_z=_given(args, "exit_z", 0.0),
        stop_z=args.stop_z,
        max_holding=args.max_holding,
        cooldown=_given(args, "cooldown", 0),
    )
    return {
        "hedge": hedge,
        "rule": rule,
        "zscore_method": method,
        "zscore_window": zwin,
        "zscore_halflife": args.zscore_halflife,
        "capital": args.capital,
        "sizing_mode": _given(args, "sizing", "beta_neutral"),
        "lot_size": tuple(_given(args, "lot_size", (0.0, 0.0))),
        "rebalance_band": _given(args, "rebalance_band", 0.0),
        "log_prices": bool(args.log),
        **options,
    }


def batch_signals(pair: Pair, kwargs: dict[str, Any]) -> pd.DataFrame:
    """Signal series of a history, by the batch functions, with the semantics of ``StreamEngine``.

    ``kwargs`` are validated by building the engine first; columns are those of :class:`Signal`.
    """
    config = StreamEngine(**kwargs).state_dict()["config"]
    log = config["log_prices"]
    yv, xv = (np.log(pair.y), np.log(pair.x)) if log else (pair.y, pair.x)
    opts = config["hedge_options"]
    if config["hedge"] == "kalman":
        fit: Any = kalman_hedge(
            yv,
            xv,
            delta=opts["delta"],
            obs_var=opts["obs_var"],
            initial_state_mean=tuple(opts["initial_state_mean"]),
            initial_state_cov=np.array(opts["initial_state_cov"]),
        )
        beta, alpha, spread = fit.beta, fit.alpha, fit.spread
    elif config["hedge"] == "rolling":
        fit = rolling_hedge(yv, xv, window=opts["window"])
        beta, alpha, spread = fit.beta, fit.alpha, fit.spread
    else:
        beta = pd.Series(opts["beta"], index=yv.index)
        alpha = pd.Series(opts["alpha"], index=yv.index)
        spread = yv - opts["beta"] * xv - opts["alpha"]
    method = config["zscore_method"]
    if method == "innovation":
        z = fit.zscore
    else:
        z = zscore(spread, method=method, window=config["zscore_window"], halflife=config["zscore_halflife"])
    rule = SignalRule.from_dict(config["rule"])
    position = signals(z, rule=rule)
    state, actions = RuleState(), []
    for value in z.to_numpy():
        state, action = step_rule(state, float(value), rule)
        actions.append(action)
    frame = pd.DataFrame(
        {"beta": beta, "alpha": alpha, "spread": spread, "zscore": z, "position": position.astype("int64")},
        index=pair.y.index,
    )
    if config["capital"] is None:
        frame["y_units"] = frame["x_units"] = np.nan
    else:
        units_beta = beta * pair.y / pair.x if log else beta
        legs = size_legs(
            position,
            units_beta,
            pair.y,
            pair.x,
            capital=config["capital"],
            mode=config["sizing_mode"],
            lot_size=tuple(config["lot_size"]),
            rebalance_band=config["rebalance_band"],
        )
        frame["y_units"], frame["x_units"] = legs["y_units"], legs["x_units"]
    frame["action"] = actions
    frame.index.name = "timestamp"
    return frame[COLUMNS]


def _fit_static_beta(pair: Pair, kwargs: dict[str, Any]) -> str | None:
    """For ``--hedge ols`` without ``--beta``: fit it on the whole history (which looks ahead)."""
    if kwargs["hedge"] != "ols" or "beta" in kwargs:
        return None
    if "alpha" in kwargs:
        raise PairsError(f"beta must be given with --alpha; got --alpha {kwargs['alpha']} alone.")
    yv, xv = (np.log(pair.y), np.log(pair.x)) if kwargs["log_prices"] else (pair.y, pair.x)
    fit = ols_hedge(yv, xv)
    kwargs["beta"], kwargs["alpha"] = float(fit.beta), float(fit.alpha)
    return (
        f"beta = {fit.beta:.6g} fitted by OLS on the whole history: the signals look ahead "
        "(pass --beta from a training period for an honest test)."
    )


def metrics_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """Backtest metrics as readable text: percentages, ratios to two decimals."""

    def fmt(value: float, spec: str) -> str:
        return "n/a" if not np.isfinite(value) else format(value, spec)

    return [
        ("total return", fmt(metrics["total_return"], "+.1%")),
        ("APR", fmt(metrics["apr"], "+.1%")),
        ("Sharpe", fmt(metrics["sharpe"], ".2f")),
        ("Sortino", fmt(metrics["sortino"], ".2f")),
        ("max drawdown", fmt(metrics["max_drawdown"], ".1%")),
        ("trades", str(metrics["n_trades"])),
        ("annual turnover", fmt(metrics["annual_turnover"], ".1f") + "x"),
        ("bars", f"{metrics['n_bars']} ({metrics['periods_per_year']:g} per year)"),
    ]


def _counts(frame: pd.DataFrame) -> dict[str, int]:
    return {a: int((frame["action"] == a).sum()) for a in ("enter_long", "enter_short", "exit", "stop")}


def cmd_signal(args: argparse.Namespace) -> int:
    """``pairs signal``: the signal series of a history, or ``--follow`` a stream of bars."""
    if args.follow:
        return follow(args)
    if args.y is None or args.x is None:
        raise PairsError("Y and X must be given (price sources), unless --follow reads bars from stdin.")
    if args.state is not None:
        raise PairsError("state must be used with --follow; got --state without --follow.")
    pair = load_pair(args)
    kwargs = engine_kwargs(args)
    note = _fit_static_beta(pair, kwargs)
    frame = batch_signals(pair, kwargs)
    if args.output:
        write_frame(frame, args.output, None if args.format == "table" else args.format)
    if args.format == "json" and not args.output:
        sys.stdout.write(records_json(frame))
    elif args.format == "csv" and not args.output:
        print_csv(frame)
    elif args.format == "table":
        last = frame.iloc[-1]
        rows = [
            ("hedge", kwargs["hedge"]),
            ("z-score", kwargs["zscore_method"]),
            *[(f"{k} count", v) for k, v in _counts(frame).items()],
            ("last position", int(last["position"])),
            ("last z-score", float(last["zscore"])),
        ]
        print(pair.headline(kwargs["log_prices"]))
        print(rows_text(rows, title="Signals"))
        if note:
            print(f"Note: {note}")
        print(f"\nLast {args.tail} bars:")
        print(frame_text(frame.tail(args.tail)))
        if args.output:
            print(f"\nWrote {len(frame)} rows to {args.output}")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    """``pairs backtest``: signals of a history traded with costs; metrics table."""
    pair = load_pair(args)
    kwargs = engine_kwargs(args)
    note = _fit_static_beta(pair, kwargs)
    frame = batch_signals(pair, kwargs)
    units = frame["beta"] * pair.y / pair.x if kwargs["log_prices"] else frame["beta"]
    result = backtest(
        pair.y,
        pair.x,
        beta=units,
        position=frame["position"],
        fee_bps=args.fee_bps,
        slippage_bps=args.slippage_bps,
        periods_per_year=args.periods_per_year,
    )
    metrics = dict(result._summary_rows())
    settings = {
        "hedge": kwargs["hedge"],
        "zscore": kwargs["zscore_method"],
        "rule": kwargs["rule"].to_dict(),
        "fee_bps": args.fee_bps,
        "slippage_bps": args.slippage_bps,
        "log": kwargs["log_prices"],
    }
    if args.format == "json":
        print_json(
            {
                "data": pair.info(),
                "settings": settings,
                "metrics": metrics,
                "note": note,
                "trades": records(result.trades.rename_axis("trade")),
            }
        )
    elif args.format == "csv":
        print_csv(
            pd.DataFrame(
                {
                    "position": frame["position"],
                    "returns": result.returns,
                    "equity": result.equity,
                    "turnover": result.turnover,
                }
            )
        )
    else:
        print(pair.headline(kwargs["log_prices"]))
        rule = kwargs["rule"]
        stop = "no stop" if rule.stop_z is None else f"stop |z| >= {rule.stop_z:g}"
        print(
            f"Hedge {kwargs['hedge']}, z-score {kwargs['zscore_method']}; enter |z| > {rule.entry_z:g}, "
            f"exit {rule.exit_z:g}, {stop}; costs {args.fee_bps:g} + {args.slippage_bps:g} bps"
        )
        print(rows_text(metrics_rows(metrics), title="Backtest"))
        if note:
            print(f"Note: {note}")
    return 0


def _parse_bar(text: str, first: bool) -> tuple[Any, float, float] | None:
    """``(timestamp, y, x)`` of one input line; None for a CSV header on the first line."""
    if text.startswith("{"):
        try:
            bar = json.loads(text)
        except ValueError as exc:
            raise DataError(f"bar must be valid JSON; got {text[:60]!r} ({exc}).") from None
        if not isinstance(bar, dict) or "y" not in bar or "x" not in bar:
            raise DataError(f"bar must be a JSON object with keys 'y' and 'x'; got {text[:60]!r}.")
        return bar.get("timestamp"), bar["y"], bar["x"]
    fields = [f.strip() for f in text.split(",")]
    if len(fields) != 3:
        raise DataError(
            f"bar must be a CSV line 'timestamp,y,x'; got {len(fields)} field(s) in {text[:60]!r}."
        )
    try:
        y, x = float(fields[1]), float(fields[2])
    except ValueError:
        if first:
            return None
        raise DataError(f"bar must have numeric y and x; got {text[:60]!r}.") from None
    return _timestamp(fields[0]), y, x


def _timestamp(field: str) -> Any:
    if not field:
        return None
    for kind in (int, float):
        try:
            return kind(field)
        except ValueError:
            pass
    return field


def _engine(args: argparse.Namespace) -> StreamEngine:
    """A fresh engine, or the one saved in ``--state`` (resume); explicit options must match it."""
    kwargs = engine_kwargs(args)
    state = Path(args.state) if args.state else None
    if state is None or not state.exists():
        if kwargs["hedge"] == "ols" and "beta" not in kwargs:
            raise PairsError("beta must be given (--beta) with --hedge ols and --follow; got none.")
        return StreamEngine(**kwargs)
    engine = StreamEngine.load(state)
    explicit = [name for name in ENGINE_OPTIONS if getattr(args, name) is not None]
    if explicit:
        saved = engine.state_dict()["config"]
        wanted = StreamEngine(**kwargs).state_dict()["config"]
        differ = sorted(k for k in saved if saved[k] != wanted[k])
        if differ:
            raise StateError(
                f"options must match the state file {str(state)!r} being resumed; got different {differ} "
                "(pass the same options as the first run, or none)."
            )
    return engine


def follow(args: argparse.Namespace) -> int:
    """Read bars from stdin, write one JSON signal per line, flushed; save ``--state`` after each."""
    if args.y is not None or args.output:
        raise PairsError("--follow reads bars from stdin; got price sources or --output as well.")
    engine = _engine(args)
    state = Path(args.state) if args.state else None
    out = sys.stdout
    first = True
    for number, line in enumerate(sys.stdin, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            bar = _parse_bar(text, first)
            first = False
            if bar is None:
                continue
            signal: Signal = engine.update(bar[1], bar[2], bar[0])
        except PairsError as exc:
            raise type(exc)(f"stdin line {number}: {exc}") from None
        # Saved before the signal is written: a reader never acts on a bar the state lacks.
        if state is not None:
            engine.save(state)
        out.write(json.dumps(signal.to_dict()) + "\n")
        out.flush()
    return 0
