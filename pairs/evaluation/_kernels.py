"""Numba kernels of the account: order costs, the leverage cut, liquidation prices, the ledger.

Plain functions on arrays of legs, callable from Python (the portfolio ledger reuses them);
inputs are trusted (validated by the public functions). The formulas are documented in
:mod:`pairs.evaluation._fills`, :mod:`pairs.evaluation._margin` and
:mod:`pairs.evaluation._ledger`.
"""

from __future__ import annotations

import math

import numpy as np

from pairs._numba_cache import njit

__all__ = [
    "EVENT_KINDS",
    "book_equity",
    "book_run",
    "exposure",
    "ledger_kernel",
    "liquidation_price_cross",
    "liquidation_price_isolated",
    "lot_floor",
    "order_costs",
    "order_scale",
]

EVENT_KINDS = ("below_min_notional", "scaled", "refused", "liquidation", "margin_call")
_SMALL, _SCALED, _REFUSED, _LIQUIDATION, _CALL = range(5)


def order_costs(
    price: np.ndarray,
    order: np.ndarray,
    fee_rate: float,
    maker_rate: float,
    maker_share: float,
    slippage_rate: float,
    slippage_price: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fees, rebates, slippage)`` per leg of ``order`` units filled at ``price``, each >= 0.

    Plain Python around the compiled :func:`_order_costs_into` that the ledger calls.

    Rates are fractions (bps / 1e4). A share ``maker_share`` of the notional pays
    ``maker_rate`` (a negative rate is a rebate), the rest ``fee_rate``; with
    ``slippage_price`` the fees are charged on the moved price ``price (1 + s sign(order))``.
    """
    k = order.size
    fees, rebates, slippage = np.empty(k), np.empty(k), np.empty(k)
    _order_costs_into(
        price,
        order,
        fee_rate,
        maker_rate,
        maker_share,
        slippage_rate,
        slippage_price,
        fees,
        rebates,
        slippage,
    )
    return fees, rebates, slippage


@njit(cache=True)
def _order_costs_into(
    price: np.ndarray,
    order: np.ndarray,
    fee_rate: float,
    maker_rate: float,
    maker_share: float,
    slippage_rate: float,
    slippage_price: bool,
    fees: np.ndarray,
    rebates: np.ndarray,
    slippage: np.ndarray,
) -> None:
    """:func:`order_costs` written into ``fees``, ``rebates``, ``slippage`` (the ledger's bars allocate nothing)."""
    maker = maker_share * maker_rate
    for i in range(order.size):
        notional = abs(order[i]) * price[i]
        base = notional * (1.0 + slippage_rate * np.sign(order[i])) if slippage_price else notional
        fees[i] = base * ((1.0 - maker_share) * fee_rate + max(maker, 0.0))
        rebates[i] = base * max(-maker, 0.0)
        slippage[i] = slippage_rate * notional


@njit(cache=True)
def exposure(
    held: np.ndarray, order: np.ndarray, k: float, prices: np.ndarray, long_w: np.ndarray, short_w: np.ndarray
) -> float:
    """``sum (long_w max(u, 0) + short_w max(-u, 0)) p`` of ``u = held + k order``.

    With weights 1, 1: the gross exposure; 1 on spot legs' longs only: the cash spent on coins.
    """
    total = 0.0
    for i in range(held.size):
        u = held[i] + k * order[i]
        total += (long_w[i] * max(u, 0.0) + short_w[i] * max(-u, 0.0)) * prices[i]
    return total


@njit(cache=True)
def order_scale(
    held: np.ndarray,
    order: np.ndarray,
    prices: np.ndarray,
    equity: float,
    cost: float,
    leverage: float,
    long_w: np.ndarray,
    short_w: np.ndarray,
) -> float:
    """Largest ``k`` in [0, 1] such that the order ``k * order`` keeps ``X <= leverage * E``.

    ``X(k)`` is the :func:`exposure` of ``held + k order`` and ``E(k) = equity - k cost``
    (``cost``: the full order's fees and slippage net of rebates). An order that does not raise
    ``X`` is never cut (exchanges accept reduce-only orders); an account already at or above the
    limit gets no order that raises it.
    """
    x0 = exposure(held, order, 0.0, prices, long_w, short_w)
    x1 = exposure(held, order, 1.0, prices, long_w, short_w)
    if x1 <= leverage * (equity - cost) or x1 <= x0:
        return 1.0
    g0 = x0 - leverage * equity
    if g0 > -1e-12 * leverage * abs(equity):  # at the limit (to rounding) or above it: no room
        return 0.0
    # The excess g(k) = X(k) - leverage E(k) is convex and piecewise linear in k, with kinks where
    # a leg crosses zero units, so {k: g(k) <= 0} is an interval [0, k*]: k* lies between the
    # largest kink (or 0) where g <= 0 and the smallest (or 1) where g > 0, on one linear piece.
    a, ga, b, gb = 0.0, g0, 1.0, x1 - leverage * (equity - cost)
    for i in range(held.size):
        if order[i] == 0.0:
            continue
        kink = -held[i] / order[i]
        if 0.0 < kink < 1.0:
            g = exposure(held, order, kink, prices, long_w, short_w) - leverage * (equity - kink * cost)
            if g <= 0.0 and kink > a:
                a, ga = kink, g
            elif g > 0.0 and kink < b:
                b, gb = kink, g
    return a + (b - a) * (-ga) / (gb - ga)


@njit(cache=True)
def _liquidation(num: float, units: float, rate: float) -> float:
    if units == 0.0:
        return math.nan
    price = num / (units - rate * abs(units))
    return price if price > 0.0 else math.nan


def liquidation_price_cross(
    units: np.ndarray, prices: np.ndarray, equity: float, rates: np.ndarray
) -> np.ndarray:
    """Price of each leg at which the account equity meets the maintenance margin (others fixed)."""
    out = np.empty(units.size)
    _liquidation_cross_into(units, prices, equity, rates, out)
    return out


@njit(cache=True)
def _liquidation_cross_into(
    units: np.ndarray, prices: np.ndarray, equity: float, rates: np.ndarray, out: np.ndarray
) -> None:
    total = 0.0
    for i in range(units.size):
        total += rates[i] * abs(units[i]) * prices[i]
    for i in range(units.size):
        own = rates[i] * abs(units[i]) * prices[i]
        out[i] = _liquidation(total - own - equity + units[i] * prices[i], units[i], rates[i])


def liquidation_price_isolated(
    units: np.ndarray, entry: np.ndarray, margin: np.ndarray, rates: np.ndarray
) -> np.ndarray:
    """Price of each leg at which its isolated margin meets its maintenance margin."""
    out = np.empty(units.size)
    _liquidation_isolated_into(units, entry, margin, rates, out)
    return out


@njit(cache=True)
def _liquidation_isolated_into(
    units: np.ndarray, entry: np.ndarray, margin: np.ndarray, rates: np.ndarray, out: np.ndarray
) -> None:
    for i in range(units.size):
        out[i] = _liquidation(units[i] * entry[i] - margin[i], units[i], rates[i])


@njit(cache=True)
def _isolated_margin(
    u: np.ndarray, order: np.ndarray, price: np.ndarray, entry: np.ndarray, margin: np.ndarray, lev: float
) -> None:
    """Update each leg's entry price and isolated margin (in place) for ``order`` filled at ``price``."""
    for i in range(u.size):
        if order[i] == 0.0:
            continue
        old, new = u[i], u[i] + order[i]
        if new == 0.0:
            entry[i] = 0.0
            margin[i] = 0.0
        elif old == 0.0 or np.sign(new) != np.sign(old):
            entry[i] = price[i]
            margin[i] = abs(new) * price[i] / lev
        elif abs(new) > abs(old):
            entry[i] = (abs(old) * entry[i] + abs(order[i]) * price[i]) / abs(new)
            margin[i] += abs(order[i]) * price[i] / lev
        else:
            margin[i] *= abs(new) / abs(old)


@njit(cache=True)
def lot_floor(units: float, lot: float) -> float:
    """``units`` rounded toward zero to a multiple of ``lot`` (> 0): a cut order never adds exposure."""
    return np.sign(units) * math.floor(abs(units) / lot + 1e-9) * lot


@njit(cache=True)
def _carry(
    u: np.ndarray, price: np.ndarray, rate: np.ndarray, perp: np.ndarray, borrow: np.ndarray
) -> tuple[float, float]:
    """``(funding, borrow interest)`` of holding ``u`` at ``price`` over one bar (perpetual legs pay
    ``u p r``, a spot short's borrowed coin ``max(-u, 0) p b``)."""
    paid = lent = 0.0
    for i in range(u.size):
        paid += u[i] * price[i] * (rate[i] * perp[i])
        lent += max(-u[i], 0.0) * price[i] * borrow[i]
    return paid, lent


@njit(cache=True)
def _above_limit(u: np.ndarray, c: np.ndarray, equity: float, leverage: float) -> bool:
    """Is the gross exposure at the close above ``leverage`` times the equity (a margin call)?"""
    gross = 0.0
    for i in range(u.size):
        gross += abs(u[i]) * c[i]
    # An order cut to the limit lands on it: rounding must not count as a call.
    return equity * leverage < gross * (1.0 - 1e-9)


@njit(cache=True)
def _liquidation_prices(
    u: np.ndarray,
    c: np.ndarray,
    equity: float,
    entry: np.ndarray,
    margin: np.ndarray,
    maint: np.ndarray,
    spot: np.ndarray,
    isolated: bool,
    out: np.ndarray,
) -> None:
    """Each leg's liquidation price after the bar into ``out`` (the others' prices fixed; NaN: flat or spot)."""
    if isolated:
        _liquidation_isolated_into(u, entry, margin, maint, out)
    else:
        _liquidation_cross_into(u, c, equity, maint, out)
    for i in range(u.size):
        if spot[i]:  # a spot leg is not liquidated
            out[i] = np.nan


@njit(cache=True)
def _close(
    u: np.ndarray,
    c: np.ndarray,
    f: np.ndarray,
    w: np.ndarray,
    cash: float,
    paid: float,
    lent: float,
    at_open: bool,
    rate: np.ndarray,
    perp: np.ndarray,
    borrow: np.ndarray,
    maint: np.ndarray,
    spot: np.ndarray,
    isolated: bool,
    entry: np.ndarray,
    margin: np.ndarray,
    blocked: np.ndarray,
    mm: np.ndarray,
    hit: np.ndarray,
    gone: np.ndarray,
    fee_rate: float,
    maker_rate: float,
    slippage_rate: float,
    slippage_price: bool,
    fee: np.ndarray,
    reb: np.ndarray,
    slip: np.ndarray,
) -> tuple[float, float, bool, float, float]:
    """The end of a bar after its order: ``(cash, equity, any hit, paid, lent)``.

    With fills at the open, the funding and interest on the units after the order (at ``f``) are
    paid first (``paid``, ``lent``; else they are returned as given). Then the legs are marked at
    the close ``c`` and those below maintenance liquidated: a hit leg (cross: the equity below the
    whole maintenance margin; isolated: its own margin below its own) is closed at the close as a
    taker (its units in ``gone``, its costs per leg in ``fee``, ``reb``, ``slip``) and ``blocked``
    at its target ``w`` (flat until the target changes). ``mm`` and ``hit`` are scratch arrays;
    ``maint`` is 0 on spot legs, which are never liquidated.
    """
    if at_open:
        paid, lent = _carry(u, f, rate, perp, borrow)
        cash -= paid + lent
    k = u.size
    equity, mm_total, any_hit = cash, 0.0, False
    for i in range(k):
        equity += u[i] * c[i]
        mm[i] = maint[i] * abs(u[i]) * c[i]
        mm_total += mm[i]
    for i in range(k):
        if isolated:
            hit[i] = u[i] != 0.0 and not spot[i] and margin[i] + u[i] * (c[i] - entry[i]) < mm[i]
        else:
            hit[i] = u[i] != 0.0 and not spot[i] and equity < mm_total
        any_hit = any_hit or hit[i]
    if not any_hit:
        return cash, equity, False, paid, lent
    for i in range(k):
        gone[i] = -u[i] if hit[i] else 0.0
    _order_costs_into(c, gone, fee_rate, maker_rate, 0.0, slippage_rate, slippage_price, fee, reb, slip)
    for i in range(k):
        cash -= gone[i] * c[i] + fee[i] - reb[i] + slip[i]
    equity = cash
    for i in range(k):
        if hit[i]:
            blocked[i] = w[i]
            u[i] = 0.0
            entry[i] = 0.0
            margin[i] = 0.0
        equity += u[i] * c[i]
    return cash, equity, True, paid, lent


@njit(cache=True)
def ledger_kernel(
    close: np.ndarray,
    fill: np.ndarray,
    target: np.ndarray,
    rates: np.ndarray,
    capital: float,
    at_open: bool,
    fee_rate: float,
    maker_rate: float,
    maker_share: float,
    slippage_rate: float,
    slippage_price: bool,
    min_notional: np.ndarray,
    leverage: float,
    isolated: bool,
    maintenance: np.ndarray,
    spot: np.ndarray,
    borrow: np.ndarray,
    lots: np.ndarray,
    report_liquidation: bool,
) -> tuple[np.ndarray, ...]:
    """The ledger of :mod:`pairs.evaluation._ledger` (``leverage`` NaN: no limit).

    ``spot`` marks the spot legs (their ``rates`` and ``maintenance`` count 0, their liquidation
    price is NaN), ``borrow`` the
    per-bar interest rate of a spot short's borrowed coin, ``lots`` the lot of each leg (0: none;
    a cut order leaves the units on its grid). Returns per-bar ``units``, ``cash``,
    ``equity``, ``traded``, ``fees``, ``rebates``, ``slippage``, ``funding``, ``borrow``,
    ``price_pnl``, ``liquidation_price`` (NaN unless ``report_liquidation``: it is reported, never
    used; a sweep skips it) and the events: bar, kind
    (an index of ``EVENT_KINDS``), units asked and filled. Stops after the first bar whose
    equity is <= 0 (later bars stay 0).
    """
    n, k = close.shape
    units, liq = np.zeros((n, k)), np.full((n, k), np.nan)
    cash_out, equity_out, traded = np.zeros(n), np.zeros(n), np.zeros(n)
    fees_out, rebates_out, slippage_out = np.zeros(n), np.zeros(n), np.zeros(n)
    funding_out, borrow_out, pnl_out = np.zeros(n), np.zeros(n), np.zeros(n)
    ones, nothing = np.ones(k), np.zeros(k)
    spot_w = spot.astype(np.float64)
    has_spot = False
    perp, maint = np.ones(k), maintenance.copy()
    for i in range(k):
        has_spot = has_spot or spot[i]
        if spot[i]:  # a spot leg pays no funding and keeps no margin
            perp[i], maint[i] = 0.0, 0.0
    cap = 4 * n + 1
    ev_bar, ev_kind = np.zeros(cap, np.int64), np.zeros(cap, np.int64)
    ev_asked, ev_filled = np.zeros((cap, k)), np.zeros((cap, k))
    m = 0
    u, entry, margin = np.zeros(k), np.zeros(k), np.zeros(k)
    blocked = np.full(k, np.nan)
    want, asked, reached = np.zeros(k), np.zeros(k), np.zeros(k, np.bool_)
    fee, reb, slip = np.zeros(k), np.zeros(k), np.zeros(k)
    mm, hit, gone = np.zeros(k), np.zeros(k, np.bool_), np.zeros(k)
    cash = capital
    in_call = False
    limited = not math.isnan(leverage)
    # Scalar loops over the legs, not array expressions: the same numbers, far less to compile.
    for t in range(n):
        c, f, w = close[t], fill[t], target[t]
        prev = close[t - 1] if t > 0 else c
        paid = lent = 0.0
        if not at_open:
            paid, lent = _carry(u, prev, rates[t], perp, borrow)
        cash -= paid + lent
        for i in range(k):
            hold = w[i] == blocked[i]
            if not hold:
                blocked[i] = np.nan
            want[i] = -u[i] if hold else w[i] - u[i]
            reached[i] = not hold
        asked[:] = want
        small = moving = False
        for i in range(k):
            if want[i] != 0.0 and w[i] != 0.0 and abs(want[i]) * f[i] < min_notional[i]:
                want[i] = 0.0
                reached[i] = False
                small = True
            moving = moving or want[i] != 0.0
        if small:
            ev_bar[m], ev_kind[m], ev_asked[m], ev_filled[m] = t, _SMALL, asked, want
            m += 1
        _order_costs_into(
            f, want, fee_rate, maker_rate, maker_share, slippage_rate, slippage_price, fee, reb, slip
        )
        fees_t = rebates_t = slippage_t = 0.0
        for i in range(k):
            fees_t += fee[i]
            rebates_t += reb[i]
            slippage_t += slip[i]
        if (limited or has_spot) and moving:
            eq0 = cash
            for i in range(k):
                eq0 += u[i] * f[i]
            cost = fees_t - rebates_t + slippage_t
            # Each limit holds on an interval [0, k*] of k: the smaller cut meets both.
            scale = order_scale(u, want, f, eq0, cost, leverage, ones, ones) if limited else 1.0
            if has_spot:
                scale = min(scale, order_scale(u, want, f, eq0, cost, 1.0, spot_w, nothing))
            if scale < 1.0:
                reached[:] = False
                ev_bar[m], ev_asked[m] = t, want
                ev_kind[m] = _REFUSED if scale == 0.0 else _SCALED
                for i in range(k):
                    want[i] *= scale
                    if lots[i] > 0.0:
                        # The units after a cut order stay on the lot grid, rounded toward zero
                        # (never more exposure than the cut allows).
                        want[i] = lot_floor(u[i] + want[i], lots[i]) - u[i]
                _order_costs_into(
                    f, want, fee_rate, maker_rate, maker_share, slippage_rate, slippage_price, fee, reb, slip
                )
                fees_t, rebates_t, slippage_t = np.sum(fee), np.sum(reb), np.sum(slip)
                ev_filled[m] = want
                m += 1
        pnl = traded_t = 0.0
        for i in range(k):
            cash -= want[i] * f[i]
            pnl += u[i] * (c[i] - prev[i]) + want[i] * (c[i] - f[i])
            traded_t += abs(want[i]) * f[i]
        cash -= fees_t - rebates_t + slippage_t
        if isolated:
            _isolated_margin(u, want, f, entry, margin, leverage)
        for i in range(k):
            u[i] = w[i] if reached[i] else u[i] + want[i]
        cash, equity, any_hit, paid, lent = _close(
            u, c, f, w, cash, paid, lent, at_open, rates[t], perp, borrow, maint, spot, isolated, entry, margin,
            blocked, mm, hit, gone, fee_rate, maker_rate, slippage_rate, slippage_price, fee, reb, slip,
        )  # fmt: skip
        if any_hit:
            for i in range(k):
                traded_t += abs(gone[i]) * c[i]
                fees_t += fee[i]
                rebates_t += reb[i]
                slippage_t += slip[i]
            ev_bar[m], ev_kind[m], ev_asked[m], ev_filled[m] = t, _LIQUIDATION, gone, gone
            m += 1
        if limited:
            call = _above_limit(u, c, equity, leverage)
            if call and not in_call:
                ev_bar[m], ev_kind[m] = t, _CALL
                m += 1
            in_call = call
        units[t], cash_out[t], equity_out[t] = u, cash, equity
        traded[t], pnl_out[t] = traded_t, pnl
        fees_out[t], rebates_out[t], slippage_out[t] = fees_t, rebates_t, slippage_t
        funding_out[t], borrow_out[t] = paid, lent
        if report_liquidation:
            _liquidation_prices(u, c, equity, entry, margin, maint, spot, isolated, liq[t])
        if equity <= 0.0:
            break
    return (
        units,
        cash_out,
        equity_out,
        traded,
        fees_out,
        rebates_out,
        slippage_out,
        funding_out,
        borrow_out,
        pnl_out,
        liq,
        ev_bar[:m],
        ev_kind[:m],
        ev_asked[:m],
        ev_filled[:m],
    )


# --- the portfolio's account (pairs.evaluation._book_account): a block of bars -----------------
# Sums run in index order in compiled code, so the backtest (a window at a time) and the live book
# (a bar at a time), which both call these, hold the same bits whatever their arrays' memory layout
# (a BLAS dot product does not).


@njit(cache=True)
def book_equity(
    u: np.ndarray,
    cash: float,
    prev: np.ndarray,
    close: np.ndarray,
    rate: np.ndarray,
    spot: np.ndarray,
    borrow: np.ndarray,
) -> float:
    """Equity at ``close`` before the bar's orders (fills at the close), its funding and interest paid."""
    perp = 1.0 - spot.astype(np.float64)
    paid, lent = _carry(u, prev, rate, perp, borrow)
    value = cash - (paid + lent)
    for i in range(u.size):
        value += u[i] * close[i]
    return value


@njit(cache=True)
def book_run(
    close: np.ndarray,
    fill: np.ndarray,
    target: np.ndarray,
    rates: np.ndarray,
    prev_close: np.ndarray,
    prev_target: np.ndarray,
    u: np.ndarray,
    entry: np.ndarray,
    margin: np.ndarray,
    blocked: np.ndarray,
    cscale: np.ndarray,
    scalars: np.ndarray,
    at_open: bool,
    fee_rate: float,
    maker_rate: float,
    maker_share: float,
    slippage_rate: float,
    slippage_price: bool,
    min_notional: np.ndarray,
    leverage: float,
    isolated: bool,
    maintenance: np.ndarray,
    spot: np.ndarray,
    borrow: np.ndarray,
    lots: np.ndarray,
    units_out: np.ndarray,
    cscale_out: np.ndarray,
    costs_out: np.ndarray,
    flows_out: np.ndarray,
    liq_out: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run the portfolio's account over a block of bars (rules: :mod:`pairs.evaluation._book_account`).

    ``close``, ``fill``, ``target`` (the units due to fill at each bar) and ``rates``: block x coins;
    ``prev_close``/``prev_target``: the rows of the bar before the block. The state is updated in
    place: units ``u``, isolated ``entry``/``margin``, ``blocked`` (the target a liquidated coin
    is blocked at, NaN), ``cscale`` (each coin's share of its pairs' units, for attribution) and
    ``scalars`` = ``[cash, scale, in_call]``. Per-bar outputs (written): ``units_out``,
    ``cscale_out``, ``costs_out`` (fees - rebates + slippage per coin), ``flows_out`` (cash,
    equity, scale, traded, fees, rebates, slippage, funding, borrow) and ``liq_out`` (each coin's
    liquidation price, :mod:`pairs.evaluation._margin`; NaN for spot coins and flat ones). Returns the events: bar (in
    the block), kind (an index of ``EVENT_KINDS``), coin (-1: the account), units asked, filled.
    """
    n, k = close.shape
    spot_w = spot.astype(np.float64)
    perp, maint = 1.0 - spot_w, maintenance * (1.0 - spot_w)
    has_spot = False
    for i in range(k):
        has_spot = has_spot or spot[i]
    # An upper bound of the cost per unit of traded notional (the scale's budget for costs).
    blend = (1.0 - maker_share) * fee_rate + maker_share * maker_rate
    rate = max(blend * (1.0 + slippage_rate) if slippage_price else blend, 0.0) + slippage_rate
    cap = n * (3 * k + 1) + 1
    ev_bar, ev_kind, ev_coin = np.zeros(cap, np.int64), np.zeros(cap, np.int64), np.zeros(cap, np.int64)
    ev_asked, ev_filled = np.zeros(cap), np.zeros(cap)
    m = 0
    want, new, order = np.zeros(k), np.zeros(k), np.zeros(k)
    free = np.zeros(k, np.bool_)
    fee, reb, slip = np.zeros(k), np.zeros(k), np.zeros(k)
    mm, hit, gone = np.zeros(k), np.zeros(k, np.bool_), np.zeros(k)
    cash, scale, in_call = scalars[0], scalars[1], scalars[2] > 0.0
    for t in range(n):
        c, f, w = close[t], fill[t], target[t]
        prev = prev_close if t == 0 else close[t - 1]
        wprev = prev_target if t == 0 else target[t - 1]
        paid = lent = 0.0
        if not at_open:
            paid, lent = _carry(u, prev, rates[t], perp, borrow)
            cash -= paid + lent
        traded_t = fees_t = rebates_t = slippage_t = 0.0
        costs_out[t] = 0.0
        moving = False
        for i in range(k):
            moving = moving or w[i] != wprev[i]
        if moving:  # an order bar: every coin is traded to its target times one scale
            equity = cash
            fixed = spot_fixed = gross_want = spot_want = held_free = change = 0.0
            for i in range(k):
                hold = w[i] == blocked[i]
                if not hold:
                    blocked[i] = np.nan
                want[i] = 0.0 if hold else w[i]
                equity += u[i] * f[i]
                gap = want[i] - u[i]
                free[i] = not (want[i] != 0.0 and gap != 0.0 and abs(gap) * f[i] < min_notional[i])
                if free[i]:
                    gross_want += abs(want[i]) * f[i]
                    held_free += abs(u[i]) * f[i]
                    change += abs(gap) * f[i]
                    spot_want += spot_w[i] * max(want[i], 0.0) * f[i]
                else:  # below the minimum notional: not sent
                    fixed += abs(u[i]) * f[i]
                    spot_fixed += spot_w[i] * max(u[i], 0.0) * f[i]
                    ev_bar[m], ev_kind[m], ev_coin[m], ev_asked[m], ev_filled[m] = t, _SMALL, i, gap, 0.0
                    m += 1
            scale = 1.0
            if gross_want > 0.0 and gross_want + fixed > leverage * (equity - rate * change):
                # The largest scale whose costs (at most rate * (scale * gross_want + held_free)) keep
                # gross <= leverage * equity after the order; a book without equity goes flat.
                scale = (leverage * (equity - rate * held_free) - fixed) / (
                    gross_want * (1.0 + leverage * rate)
                )
                scale = min(max(scale, 0.0), 1.0)
            if has_spot and spot_want > 0.0 and spot_want + spot_fixed > equity - rate * change:
                # Spot longs are paid in cash: worth at most the equity after the order's costs.
                cut = (equity - rate * held_free - spot_fixed) / (spot_want + rate * gross_want)
                scale = min(scale, min(max(cut, 0.0), 1.0))
            for i in range(k):
                if not free[i]:
                    new[i] = u[i]
                    continue
                new[i] = scale * want[i]
                if scale < 1.0 and lots[i] > 0.0:  # a cut stays on the lot grid, toward zero
                    new[i] = lot_floor(new[i], lots[i])
                if scale < 1.0 and want[i] != u[i]:
                    ev_bar[m], ev_coin[m], ev_asked[m], ev_filled[m] = t, i, want[i] - u[i], new[i] - u[i]
                    ev_kind[m] = _REFUSED if scale == 0.0 else _SCALED
                    m += 1
            for i in range(k):
                order[i] = new[i] - u[i]
                cscale[i] = 0.0 if w[i] == blocked[i] else scale
            _order_costs_into(
                f, order, fee_rate, maker_rate, maker_share, slippage_rate, slippage_price, fee, reb, slip
            )
            for i in range(k):
                cash -= order[i] * f[i]
                costs_out[t, i] = fee[i] - reb[i] + slip[i]
                traded_t += abs(order[i]) * f[i]
                fees_t += fee[i]
                rebates_t += reb[i]
                slippage_t += slip[i]
            cash -= fees_t - rebates_t + slippage_t
            if isolated:
                _isolated_margin(u, order, f, entry, margin, leverage)
            for i in range(k):
                u[i] = new[i]
        cash, equity, any_hit, paid, lent = _close(
            u, c, f, w, cash, paid, lent, at_open, rates[t], perp, borrow, maint, spot, isolated, entry, margin,
            blocked, mm, hit, gone, fee_rate, maker_rate, slippage_rate, slippage_price, fee, reb, slip,
        )  # fmt: skip
        if any_hit:
            for i in range(k):
                if hit[i]:
                    costs_out[t, i] += fee[i] - reb[i] + slip[i]
                    traded_t += abs(gone[i]) * c[i]
                    fees_t += fee[i]
                    rebates_t += reb[i]
                    slippage_t += slip[i]
                    cscale[i] = 0.0
                    ev_bar[m], ev_kind[m], ev_coin[m], ev_asked[m], ev_filled[m] = (
                        t, _LIQUIDATION, i, gone[i], gone[i]
                    )  # fmt: skip
                    m += 1
        call = _above_limit(u, c, equity, leverage)
        if call and not in_call:
            ev_bar[m], ev_kind[m], ev_coin[m], ev_asked[m], ev_filled[m] = t, _CALL, -1, 0.0, 0.0
            m += 1
        in_call = call
        units_out[t] = u
        cscale_out[t] = cscale
        _liquidation_prices(u, c, equity, entry, margin, maint, spot, isolated, liq_out[t])
        flows = flows_out[t]
        flows[0], flows[1], flows[2], flows[3] = cash, equity, scale, traded_t
        flows[4], flows[5], flows[6], flows[7], flows[8] = fees_t, rebates_t, slippage_t, paid, lent
    scalars[0], scalars[1], scalars[2] = cash, scale, 1.0 if in_call else 0.0
    return ev_bar[:m], ev_kind[:m], ev_coin[:m], ev_asked[:m], ev_filled[:m]
