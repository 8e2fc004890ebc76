"""Suite-wide settings.

BLAS threads are pinned to one before numpy loads: on a loaded 2-core runner, multi-threaded
OpenBLAS makes the statsmodels reference calls tens of times slower without changing results.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
