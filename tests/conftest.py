"""Test configuration: the Keras oracle runs on the NumPy backend.

`KERAS_BACKEND` must be set before anything imports keras, so it is set here,
at import time of the first conftest pytest loads.
"""
import os
import sys

os.environ["KERAS_BACKEND"] = "numpy"
# Compiled-path tests force once and expect kernels to run on that force, so
# tiered first calls (interpreter now, compile in the background) are off;
# tests/test_tiered.py turns them on where it tests them.
os.environ["LAZYOPS_TIERED"] = "0"
# Likewise kernels run parallel at every size, so that small test arrays still
# exercise the parallel loops; tests/test_compiled.py compares the one-thread
# kernels against them.
os.environ["LAZYOPS_SERIAL_WORK"] = "0"

# Make `tests/oracle.py` importable as `oracle` from every test module.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# Hypothesis: deterministic runs (the same examples every time, so CI does not
# flake and compiles the same kernel structures), no example database, no
# deadline (a first force may compile a kernel).
from hypothesis import settings  # noqa: E402

settings.register_profile("lazyops", max_examples=50, deadline=None, derandomize=True,
                          database=None, print_blob=True)
settings.load_profile("lazyops")
