"""Pooled result buffers: a dropped result's memory holds a later result of
its size, never while an array viewing it is alive."""
import numpy as np

import lazyops as lo
from lazyops.codegen import buffers

N = 1 << 19  # 2 MiB of float32: pooled


def _address(a):
    return a.__array_interface__["data"][0]


def _force(x, k):
    with lo.config.override(small_work=0, tiered=False):
        return (lo.convert_to_tensor(x) * float(k) + 1.0).numpy()


def test_dropped_results_hold_later_ones_and_live_views_keep_theirs():
    x = np.arange(N, dtype=np.float32)
    buffers.clear()
    r1 = _force(x, 2)
    assert r1.flags.writeable and r1.flags.c_contiguous and r1.flags.aligned
    assert _address(r1) % 64 == 0  # on a cache line: 64-byte vector stores split none
    view = r1[5:]
    address = _address(r1)
    del r1  # the view keeps the buffer
    r2 = _force(x, 3)
    assert not np.shares_memory(r2, view)
    np.testing.assert_array_equal(view, x[5:] * 2 + 1)
    np.testing.assert_array_equal(r2, x * 3 + 1)
    del view  # the last array on it: the buffer goes back to the pool
    assert buffers.info() == (1, 4 * N)
    r3 = _force(x, 4)
    assert _address(r3) == address and buffers.info() == (0, 0)
    np.testing.assert_array_equal(r3, x * 4 + 1)
    r3[:] = 7  # handed out writable, the user's own
    np.testing.assert_array_equal(_force(x, 5), x * 5 + 1)


def test_pool_bytes_bounds_what_the_pool_keeps():
    x = np.arange(N, dtype=np.float32)
    buffers.clear()
    with lo.config.override(pool_bytes=0):
        r = _force(x, 2)
        del r
        assert buffers.info() == (0, 0)
    rs = [_force(x, k) for k in range(3)]
    del rs
    assert buffers.info() == (3, 12 * N)
    with lo.config.override(pool_bytes=4 * N):  # trimmed at once
        assert buffers.info() == (1, 4 * N)
    small = buffers.empty((10,), np.float32)  # small arrays are NumPy's
    assert small.base is None
