"""Readable description of a :class:`~pairs.Strategy` (for ``summary()``, the CLI and the report)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pairs.strategy._strategy import check_fill

if TYPE_CHECKING:
    from pairs.strategy._strategy import Strategy

__all__ = ["describe", "describe_lines"]


def describe_lines(s: Strategy) -> list[tuple[str, str]]:
    """``(label, text)`` rows describing each step of the chain."""
    prices = "log prices" if s.log_prices else "prices"
    if s.hedge == "kalman":
        hedge = (
            f"Kalman filter on {prices} relative to the first bar (delta {s.delta:g}, obs_var {s.obs_var:g})"
        )
    elif s.hedge == "rolling":
        hedge = f"rolling OLS over {s.window} bars on {prices}"
    elif s.beta is None:
        hedge = f"fixed OLS fit on the whole history of {prices} (looks ahead)"
    else:
        hedge = f"fixed beta {s.beta:g}, alpha {s.alpha:g} on {prices}"
    if s.zscore_method == "rolling":
        z = f"rolling over {s.z_window} bars (current bar included)"
    elif s.zscore_method == "ewm":
        z = f"exponentially weighted, half-life {s.zscore_halflife:g} bars"
    elif s.zscore_method == "expanding":
        z = "expanding (every bar so far)"
    else:
        z = "Kalman innovation / its predicted standard deviation"
    r = s.rule
    rule = f"enter |z| > {r.entry_z:g}, exit at {r.exit_z:g}"
    rule += "" if r.stop_z is None else f", stop |z| >= {r.stop_z:g}"
    rule += "" if r.max_holding is None else f", at most {r.max_holding} bars"
    rule += "" if not r.cooldown else f", cooldown {r.cooldown} bars"
    if s.capital is None:
        sizing = "spread units (no capital)"
    else:
        sizing = f"{s.sizing_mode.replace('_', '-')} legs for {s.capital:,.2f} of capital"
        if any(s.lot_size):
            sizing += f", lots {s.lot_size[0]:g} / {s.lot_size[1]:g}"
        if s.rebalance_band:
            sizing += f", re-size when beta drifts {s.rebalance_band:.0%}"
        if any(s.min_notional):
            sizing += ", orders of at least " + "/".join(f"{v:g}" for v in s.min_notional)
    costs = f"{s.fee_bps:g} bps fee + {s.slippage_bps:g} bps slippage per traded notional"
    if s.maker_share:
        maker = s.fee_bps if s.maker_fee_bps is None else s.maker_fee_bps
        costs += f"; {s.maker_share:.0%} as maker at {maker:g} bps"
    if s.slippage_model == "price":
        costs += " (slippage moves the fill price)"
    lag, at_open = check_fill(s.fill)
    if at_open:
        fill = "at the next bar's open"
    elif lag <= 1:
        fill = "at the signal bar's close" if lag == 0 else "at the next bar's close"
    else:
        fill = f"at the close {lag} bars after the signal"
    rows = [
        ("hedge", hedge),
        ("z-score", z),
        ("rule", rule),
        ("sizing", sizing),
        ("costs", costs),
        ("fills", fill),
    ]
    if s.capital is not None and s.leverage is not None:
        rows.append(("margin", f"{s.margin}, leverage at most {s.leverage:g}x"))
    if s.capital is not None and s.market != ("perp", "perp"):
        rows.append(("markets", f"y {s.market[0]}, x {s.market[1]}"))
    e = s.execution
    if e.guarded or e.entry_order != "together" or e.exit_order != "together":
        live = f"enter {e.entry_order.replace('_', ' ')}, close {e.exit_order.replace('_', ' ')}"
        if e.imbalance_limit is not None:
            live += f"; {e.imbalance_action} when legs differ > {e.imbalance_limit:.0%} for > {e.imbalance_bars} bars"
        live += "" if e.stop_loss is None else f"; stop-loss {e.stop_loss:g}"
        live += "" if e.take_profit is None else f"; take-profit {e.take_profit:g}"
        rows.append(("live", live))
    return rows


def describe(s: Strategy) -> str:
    """Multi-line text of :func:`describe_lines`."""
    rows = describe_lines(s)
    width = max(len(k) for k, _ in rows)
    return "Strategy\n" + "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)
