"""A parameter sweep judged honestly: the best of a grid, its deflated Sharpe, and walk-forward choice.

Run: ``python examples/06_parameter_sweep.py`` (offline, bundled data).

``pairs.sweep`` backtests every point of a grid of strategy settings (each row equals
``Strategy.backtest`` of its point). The best point of many is flattered by the search; its
deflated Sharpe says whether it beats the best that luck alone gives that many trials, and the
probability of backtest overfitting (PBO) how often the in-sample best falls below the median
out of sample. The walk-forward then chooses the settings on each training year only and trades
the next quarter with them: the in-sample and out-of-sample Sharpe side by side.
"""

import pairs

prices = pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna()
y, x = prices["ETH"], prices["BTC"]
strategy = pairs.Strategy(hedge="rolling", log_prices=True)
grid = {"window": [30, 60, 90, 120], "rule.entry_z": [1.5, 2.0, 2.5], "rule.exit_z": [0.0, 0.5]}

search = pairs.sweep(strategy, grid, y, x)
print(f"{len(search.table)} settings of ETH hedged with BTC over {len(search.returns)} days")
print(search.table.sort_values("sharpe", ascending=False).head(5).round(3).to_string())
print("\nSharpe by window and entry threshold (best over the exit threshold):")
print(search.sensitivity().round(2).to_string())
verdicts = search.verdicts()
print(f"\nDeflated Sharpe: {verdicts['deflated Sharpe']}")
print(f"Overfitting: {verdicts['overfitting']}")

wf = pairs.walk_forward(y, x, train=365, test=90, strategy=strategy, grid=grid)
print(
    f"\nWalk-forward choice over {len(wf.folds)} folds: in-sample Sharpe "
    f"{wf.folds['in_sample_sharpe'].mean():.2f} (mean of folds), out-of-sample "
    f"{wf.backtest.sharpe:.2f} (stitched)"
)
columns = ["test_start", "window", "rule.entry_z", "rule.exit_z", "in_sample_sharpe", "return"]
print(wf.folds[columns].tail(4).round({"in_sample_sharpe": 3, "return": 3}).to_string())
