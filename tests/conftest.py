"""Suite-wide settings.

BLAS threads are pinned to one before numpy loads: on a loaded 2-core runner, multi-threaded
OpenBLAS makes the statsmodels reference calls tens of times slower without changing results.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest

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
)
# Parametrised reference comparisons: (test name, the one case kept in the fast loop).
_ONE_CASE = {
    "test_filter_matches_pykalman": "[identity-default-log]",
    "test_expanding_matches_statsmodels": "[1-levels-True]",
    "test_rolling_matches_statsmodels": "[1-60-levels-True]",
    "test_book_equals_engines_on_78_daily_pairs": "[kalman_raw]",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = str(config.rootpath)
    for item in items:
        path = str(item.path).removeprefix(root).lstrip("/")
        name = item.name.split("[")[0]
        kept = _ONE_CASE.get(name)
        if (
            path in _SLOW_MODULES
            or name in _SLOW_TESTS
            or (kept is not None and not item.name.endswith(kept))
        ):
            item.add_marker(pytest.mark.slow)
