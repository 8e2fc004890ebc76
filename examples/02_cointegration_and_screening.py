"""Cointegration tests of one pair, then a screen of every pair with multiple-testing correction.

Run: ``python examples/02_cointegration_and_screening.py`` (offline, bundled data).

Testing 78 pairs at 5% finds about four "significant" pairs by chance alone, so the screen
reports p-values adjusted with Benjamini-Hochberg (false discovery rate) and counts only those.
"""

import numpy as np

import pairs

prices = pairs.load_sample("binance_1d")
pair = np.log(prices[["ETH", "BTC"]].dropna())

eg = pairs.engle_granger(pair["ETH"], pair["BTC"], direction="both")
jo = pairs.johansen(pair)
spread = eg.forward.spread  # residual of log ETH on log BTC
print("ETH / BTC (log prices)")
print(f"  Engle-Granger ETH~BTC: stat {eg.forward.stat:.3f}, p-value {eg.forward.pvalue:.3f}")
print(f"  Engle-Granger BTC~ETH: stat {eg.reverse.stat:.3f}, p-value {eg.reverse.pvalue:.3f}")
print(
    f"  Johansen rank at 5%: {jo.rank(0.05)} (trace {jo.trace_stat['r<=0']:.2f}, 5% crit {jo.trace_crit.loc['r<=0', '5%']:.2f})"
)
print(
    f"  spread half-life: {pairs.half_life(spread).bars:.0f} days, Hurst exponent {pairs.hurst(spread).hurst:.3f}"
)

# Every pair with at least 1000 common days; each is tested on its own common history.
result = pairs.scan(prices, log=True, min_overlap=1000, correction="fdr_bh", size=0.05)
print()
print(result.summary(top=8))
raw = int((result.table["pvalue"] < 0.05).sum())
print(
    f"\n{raw} of {result.n_tested} pairs have a raw p-value below 0.05; "
    f"{result.n_significant} remain significant after the correction."
)
if result.n_significant == 0:
    print("No pair is significant after correction: none of these is evidence of cointegration.")
