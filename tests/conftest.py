"""Suite-wide settings.

BLAS threads are pinned to one before numpy loads: on a loaded 2-core runner, multi-threaded
OpenBLAS makes the statsmodels reference calls tens of times slower without changing results.
"""

import os
import sys
from typing import Any

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
# The test run keeps Python's bytecode cache (and pytest's cache of rewritten test modules) even
# where PYTHONDONTWRITEBYTECODE is set, as on the shared machines: without it every run recompiles
# and re-rewrites every module, about 5 s of the fast loop. __pycache__ folders are git-ignored.
sys.dont_write_bytecode = False

# The fast loop (`pytest -m "not slow"`) leaves out, besides the tests marked slow in their
# modules, those that start whole processes or repeat one reference comparison over many
# parameter sets; one representative case of each comparison stays in the fast loop. CI runs all.
_SLOW_MODULES = (
    "tests/contracts/test_examples.py",
    "tests/contracts/test_cold_start.py",
)
_SLOW_TESTS = (
    "test_readme_cli_commands_run_as_written",
    "test_batch_size_and_n_jobs_do_not_change_results",
    "test_dask_backend_equals_local",
    "test_sigkill_then_resume_continues_identically",
    "test_second_writer_is_refused_naming_the_holder",
    "test_python_m_pairs_user_error_has_no_traceback",
    "test_console_script_json_round_trip",
    "test_demo_json_is_honest_and_consistent",
    "test_subprocess_pipe",
    "test_report_with_dollar_underscore_symbols",
    "test_intraday_timestamps_show_the_time",
    "test_report_backtest_total_return_closed_form",
    "test_report_command_on_csv_files",
    "test_stream_equals_batch_functions",
    "test_batch_kernel_equals_statsmodels_on_all_pairs_of_a_sample",
    "test_book_lines_equal_the_book",
    "test_false_positive_rates_on_independent_random_walks",
    "test_no_pyplot_state",
    "test_json_lines_equal_csv",
    "test_restart_resumes_and_resent_bar_is_answered_once",
    "test_lock_refuses_a_second_writer_naming_the_holder",
    # Reference comparisons with a faster twin in the fast loop: the pykalman filter on gappy
    # bars (test_nan_bars_match_pykalman_masked), pykalman EM (test_em_matches_pykalman_em),
    # RollingOLS (test_rolling_matches_statsmodels).
    "test_filter_matches_pykalman",
    "test_em_fixed_iterations_equals_pykalman_em",
    "test_rolling_min_periods_matches_statsmodels_expanding_start",
    # The scan against a statsmodels coint loop over 78 pairs: the fast loop keeps scan ==
    # engle_granger (test_matches_engle_granger_and_half_life) and engle_granger == coint.
    "test_matches_statsmodels_coint_loop",
    # 300 hypothesis examples of the hedge fast path against align_pair.
    "test_shortcut_agrees_with_align_pair",
)
# Parametrised comparisons repeated over many cases: (test name, the cases kept in the fast loop).
_ONE_CASE: dict[str, tuple[str, ...]] = {
    "test_expanding_matches_statsmodels": ("[1-levels-True]",),
    "test_rolling_matches_statsmodels": ("[1-60-levels-True]",),
    "test_book_equals_engines_on_78_daily_pairs": ("[kalman_raw]",),
    "test_engle_granger_equals_statsmodels_coint": ("[ETH-BTC-c-aic]", "[XRP-XLM-ctt-None]"),
    "test_adf_equals_statsmodels": ("[BTC-c-aic-None]", "[ETH-ctt-bic-8]", "[XRP-n-None-3]"),
    "test_foreign_or_invalid_cache_content_is_refetched": ("[other_ticker]", "[null_close]"),
    "test_restart_during_warmup_and_in_a_position": ("[kalman]", "[rolling]"),
    "test_ewm_matches_wls_on_prefixes": ("[1-True-levels]", "[3-False-log_returns]"),
    "test_rolling_zscore_matches_batch_and_two_pass_reference": ("[2]", "[120]"),
    "test_johansen_equals_r_urca": ("[crude-const-K2]", "[coins-trend-K3]"),
    "test_equals_statsmodels_loop_on_crude_oil": ("[bic-c]", "[None-rs]"),
}


@pytest.fixture(scope="session")
def btc_eth_daily() -> Any:
    """Daily closes of BTC and ETH from the bundled sample, on the bars where both trade (3,065):
    the suite's reference pair, loaded once. Modules select, reorder, slice or log it; pandas'
    copy-on-write keeps their changes to themselves."""
    import pairs  # after the BLAS settings above

    return pairs.load_sample("binance_1d")[["BTC", "ETH"]].dropna()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = str(config.rootpath)
    seen: dict[str, set[str]] = {}
    for item in items:
        path = str(item.path).removeprefix(root).lstrip("/")
        name = item.name.split("[")[0]
        kept = _ONE_CASE.get(name)
        if kept is not None:
            seen.setdefault(name, set()).update(k for k in kept if item.name.endswith(k))
        if (
            path in _SLOW_MODULES
            or name in _SLOW_TESTS
            or (kept is not None and not item.name.endswith(kept))
        ):
            item.add_marker(pytest.mark.slow)
    # A renamed case must not silently drop a comparison from the fast loop.
    for name, found in seen.items():
        missing = set(_ONE_CASE[name]) - found
        if missing:
            raise pytest.UsageError(f"tests/conftest.py _ONE_CASE: {name} has no case {sorted(missing)}")
