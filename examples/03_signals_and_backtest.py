"""Spread signals and a cost-aware backtest, in sample and walk-forward.

Run: ``python examples/03_signals_and_backtest.py`` (offline, bundled data).

The hedge is a 60-day rolling OLS on log prices (causal: each beta uses past bars only); the
spread's rolling z-score drives the entry/exit state machine; the backtest holds
``beta * y / x`` units of x per unit of y (the log-price beta is a dollar ratio) and pays
10 bps of traded notional.
"""

import numpy as np

import pairs

prices = pairs.load_sample("binance_1d")[["BNB", "ETH"]].dropna()
y, x = prices["BNB"], prices["ETH"]
hedge = pairs.rolling_hedge(np.log(y), np.log(x), window=60)
z = pairs.zscore(hedge.spread, window=60)
position = pairs.signals(z, entry_z=2.0, exit_z=0.0, stop_z=4.0)
result = pairs.backtest(y, x, beta=hedge.beta * y / x, position=position, fee_bps=10)

print(f"BNB hedged with ETH, {len(prices)} days; {result.n_trades} trades")
print(result.summary())
print("\nLast trades:")
print(result.trades.tail(5).to_string(index=False))

# Walk-forward on price levels: fit an OLS hedge on one year, trade the next quarter with it
# frozen, roll on. Every traded bar is out of sample.
wf = pairs.walk_forward(y, x, train=365, test=90, hedge="ols", rule=pairs.SignalRule(entry_z=2.0), fee_bps=10)
print(
    f"\nWalk-forward over {len(wf.folds)} folds (out of sample): Sharpe {wf.backtest.sharpe:.2f}, "
    f"max drawdown {wf.backtest.max_drawdown:.1%}"
)
