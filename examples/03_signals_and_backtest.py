"""Spread signals and a cost-aware backtest of one Strategy, in sample and walk-forward.

Run: ``python examples/03_signals_and_backtest.py`` (offline, bundled data).

The strategy: a 60-day rolling OLS hedge on log prices (causal: each beta uses past bars only);
the spread's 60-day rolling z-score drives the entry/exit/stop state machine; the backtest holds
``beta * y / x`` units of x per unit of y (the log-price beta is a dollar ratio) and pays
10 bps of traded notional. The same strategy, saved as a file, runs from the command line
(``pairs backtest ... --strategy FILE``) and in a bot (``strategy.stream()``).
"""

import pairs

prices = pairs.load_sample("binance_1d")[["BNB", "ETH"]].dropna()
y, x = prices["BNB"], prices["ETH"]
strategy = pairs.Strategy(
    hedge="rolling", window=60, log_prices=True, rule=pairs.SignalRule(entry_z=2.0, exit_z=0.0, stop_z=4.0)
)
print(strategy.summary())
run = strategy.run(y, x)
result = run.backtest()

print(f"\nBNB hedged with ETH, {len(prices)} days; {result.n_trades} trades")
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
