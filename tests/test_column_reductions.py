"""Reductions over leading axes (`cols` form): chunks of rows fold every
column into their own accumulators, merged per column. Compiled, with NaN,
infinities and extremes on the rows where chunks meet."""
import numpy as np
import pytest

import lazyops as lo
from lazyops.engine import plan_of

rng = np.random.default_rng(11)
N, M = 3000, 37  # 221 rows per chunk: 14 chunks
EDGES = [0, 220, 221, 284, 2999]  # 284: the end of a group of COL_SUM_ROWS (64) rows


def _form(t, args):
    plan, _, leaves = plan_of([t._value])
    (k,) = plan.kernels
    return plan.launchers[k].explain_for([v.data for v in leaves])[0]


def _compiled(*ts):
    with lo.config.override(small_work=0):
        return lo.evaluate(*ts)


@pytest.mark.parametrize("op", ["sum", "max", "min", "argmax", "argmin", "mean", "prod", "any"])
def test_column_reductions_with_specials_at_chunk_edges(op):
    a = rng.standard_normal((N, M)).astype("float32")
    if op == "prod":
        a = (1 + a / 100).astype("float32")
    for k, r in enumerate(EDGES):
        a[r, k] = [np.nan, np.inf, -np.inf, 5.0, -5.0][k]
    t = getattr(lo, op)(a, axis=0)
    assert _form(t, [a]) == "cols"
    (got,) = _compiled(t)
    want = getattr(np, op)(a.astype("float64") if op in ("sum", "mean", "prod") else a, axis=0)
    assert got.shape == want.shape
    if op in ("sum", "mean"):
        _assert_sum_close(got, want, a, 0, op)
        return
    np.testing.assert_allclose(got.astype("float64"), want.astype("float64"), rtol=1e-5,
                               equal_nan=True)


def _assert_sum_close(got, want, a, axis, op="sum"):
    """A float32 sum within a few ulps of the sum of magnitudes of its terms
    (float32 partial sums added in float64: far closer than NumPy's float32
    column sums; a cancelling sum's relative error is larger)."""
    scale = np.abs(np.where(np.isfinite(a), a, 0)).astype("float64").sum(axis)
    if op == "mean":
        scale /= a.shape[axis]
    got, want = got.astype("float64"), want.astype("float64")
    ok = (np.isnan(got) & np.isnan(want)) | (got == want) | (np.abs(got - want) <= 2.0 ** -22 * scale)
    assert ok.all(), (got[~ok], want[~ok])


@pytest.mark.parametrize("dtype", ["int8", "uint8", "float16", "bool"])
def test_column_sums_of_small_dtypes(dtype):
    a = (rng.standard_normal((N, M)) * 3).astype(dtype)
    got = _compiled(lo.sum(a, axis=0), lo.max(a, axis=0))
    np.testing.assert_array_equal(got[1], np.max(a, axis=0))
    want = np.sum(a.astype("float64"), axis=0)
    np.testing.assert_allclose(got[0].astype("float64"), want, rtol=1e-3 if dtype == "float16" else 0)
    assert got[0].dtype == lo.sum(a, axis=0).dtype


def test_leading_axes_of_3d_keepdims_and_epilogue():
    a = rng.standard_normal((20, 30, 50)).astype("float32")
    t = lo.mean(a, axis=(0, 1), keepdims=True) * 2 + lo.max(a, axis=(0, 1), keepdims=True)
    assert _form(t, [a]) == "cols"
    (got,) = _compiled(t)
    a64 = a.astype("float64")
    want = a64.mean((0, 1), keepdims=True) * 2 + a.max((0, 1), keepdims=True)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_standardize_columns_is_one_cols_kernel():
    a = rng.standard_normal((N, 64)).astype("float32") * 4 + 2
    a[221, 3] = np.nan
    t = (a - lo.mean(a, axis=0)) / lo.std(a, axis=0)
    plan, _, _ = plan_of([t._value])
    assert len(plan.kernels) == 1 and _form(t, [a]) == "cols"
    (got,) = _compiled(t)
    a64 = a.astype("float64")
    want = (a64 - a64.mean(0)) / a64.std(0)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, equal_nan=True)
    assert np.isnan(got[:, 3]).all() and not np.isnan(np.delete(got, 3, axis=1)).any()


def test_transposed_input_reduced_over_its_last_axis_uses_cols():
    base = rng.standard_normal((M, N)).astype("float32")
    a = base.T  # (N, M) view whose axis 0 is contiguous: reduce axis 1 along memory
    t = lo.sum(a, axis=1)
    assert _form(t, [a]) == "cols"
    (got,) = _compiled(t)
    _assert_sum_close(got, a.astype("float64").sum(1), a, 1)


def test_strict_math_with_column_sums():
    """exp (strict evaluation order) with sums along columns: `cols` adds
    row by row without a staging buffer (found by the fuzzer)."""
    a = rng.standard_normal((N, M)).astype("float32")
    a[221, 0] = np.nan
    e = lo.exp(a - lo.max(a, axis=0, keepdims=True))
    t = e / lo.sum(e, axis=0, keepdims=True)
    assert _form(t, [a]) == "cols"
    (got,) = _compiled(t)
    ee = np.exp(a - a.max(0, keepdims=True))
    np.testing.assert_allclose(got, ee / ee.sum(0, keepdims=True), rtol=1e-5, atol=1e-9,
                               equal_nan=True)
    x = np.array([[np.inf], [np.nan], [-np.inf]], "float32")  # one column of size 1 rows
    (got,) = _compiled(lo.exp(x - lo.max(x, axis=1, keepdims=True)))
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(got, np.exp(x - x.max(1, keepdims=True)))


def test_epilogue_with_a_value_computed_from_a_size_one_input():
    """`sum(a, 0, keepdims) / argmin(0-d)`: the divisor is a cast of a size-1
    input computed in the kernel, still one value: an epilogue (fuzzer)."""
    a = np.ones((8192, 4), "float32")
    a.flat[16384] = np.nan
    t = lo.sum(a, axis=-2, keepdims=True) / lo.argmin(np.array(-4.0, "float32"), keepdims=True)
    (got,) = _compiled(t)
    with np.errstate(all="ignore"):
        want = a.sum(0, keepdims=True) / np.float32(0)
    assert got.shape == (1, 4)
    np.testing.assert_array_equal(got, want)

