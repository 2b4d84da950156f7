"""Test configuration: the Keras oracle runs on the NumPy backend, kernels
are cached in a folder of the checkout.

`KERAS_BACKEND` and `LAZYOPS_CACHE_DIR` must be set before anything imports
keras or lazyops, so they are set here, at import time of the first conftest
pytest loads.
"""
import os
import sys

os.environ["KERAS_BACKEND"] = "numpy"
# Kernels compiled by the suite go to a cache folder of this checkout, never
# the user's: shared by every test and subprocess of a run, and kept between
# runs (the suite relies on a warm cache to stay fast). Ignored by git.
os.environ["LAZYOPS_CACHE_DIR"] = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                               ".kernel-cache")
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
