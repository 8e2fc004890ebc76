"""Hedge ratios of ETH on BTC with every estimator, and how much risk each one removes.

Run: ``python examples/01_hedge_ratios.py`` (offline: bundled Binance daily closes).

On log prices, ``beta`` is the dollar ratio: hold $beta of BTC short per $1 of ETH long.
Static fits (OLS, TLS) use the whole history, so they look ahead; moving fits (rolling, EWM,
Kalman) only use bars up to each date. Hedge effectiveness compares them out of sample: the
beta known yesterday hedges today's return.
"""

import numpy as np
import pandas as pd

import pairs

prices = pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna()
log_eth, log_btc = np.log(prices["ETH"]), np.log(prices["BTC"])
print(f"ETH on BTC: {len(prices)} daily closes, {prices.index[0]:%Y-%m-%d} .. {prices.index[-1]:%Y-%m-%d}")

fits = {
    "OLS (full sample)": pairs.ols_hedge(log_eth, log_btc),
    "TLS (full sample)": pairs.tls_hedge(log_eth, log_btc),
    "rolling OLS, 90 days": pairs.rolling_hedge(log_eth, log_btc, window=90),
    "EWM OLS, half-life 30 days": pairs.ewm_hedge(log_eth, log_btc, halflife=30, min_periods=30),
    "Kalman filter": pairs.kalman_hedge(log_eth, log_btc, noise_units="log", delta=1e-5),
}
# The minimum-variance hedge of daily returns, for comparison with the cointegrating ratios above.
returns_fit = pairs.rolling_hedge(prices["ETH"], prices["BTC"], window=90, on="returns")


def latest(value):
    return float(value.dropna().iloc[-1]) if isinstance(value, pd.Series) else float(value)


rows = []
for name, fit in fits.items():
    beta = fit.beta if isinstance(fit.beta, pd.Series) else pd.Series(fit.beta, index=prices.index)
    # Yesterday's dollar ratio hedges today's return: no look-ahead for the moving fits.
    eff = pairs.hedge_effectiveness(prices["ETH"], prices["BTC"], beta, on="log_returns")
    rows.append((name, latest(fit.beta), latest(fit.alpha), eff.effectiveness))
table = pd.DataFrame(rows, columns=["estimator", "beta (latest)", "alpha (latest)", "variance removed"])
print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
print(f"\nRolling 90-day minimum-variance hedge of returns: beta = {latest(returns_fit.beta):.4f}")
print("\nOLS fit details:")
print(fits["OLS (full sample)"].summary())
