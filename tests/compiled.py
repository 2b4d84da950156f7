"""Helpers to run a graph both compiled and on the reference interpreter."""
import numpy as np

from lazyops.engine import plan_of

TOL = {"float16": 1e-3, "float32": 2e-6, "float64": 1e-13}


def both_paths(tensors):
    """(compiled outputs, interpreter outputs) for the graph of `tensors`."""
    plan, pending, leaves = plan_of([t._value for t in tensors])
    args = [leaf.data for leaf in leaves]
    return plan.run(args, compiled=True), plan.run(args, compiled=False), plan


def assert_same(got, want, what=""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if want.dtype.kind == "f":
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=what)
        rtol = TOL[want.dtype.name]
        tiny = np.finfo(want.dtype).tiny * 4
        np.testing.assert_allclose(got, want, rtol=rtol, atol=tiny, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)
