"""Row kernels: a reduction broadcast back over the rows it reduced runs in
the same kernel as later passes over each row (softmax, layer norm,
logsumexp, variance, centering), compiled, on arrays big enough for
several parallel blocks, with NaN and infinities where passes meet."""
import numpy as np
import pytest

import lazyops as lo
from lazyops.engine import plan_of

rng = np.random.default_rng(7)


def softmax(x, axis=-1):
    e = lo.exp(x - lo.max(x, axis=axis, keepdims=True))
    return e / lo.sum(e, axis=axis, keepdims=True)


def np_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def layer_norm(x, g, b, eps=1e-5):
    m = lo.mean(x, axis=-1, keepdims=True)
    d = x - m
    v = lo.mean(d * d, axis=-1, keepdims=True)
    return d / lo.sqrt(v + eps) * g + b


def np_layer_norm(x, g, b, eps=1e-5):
    x64 = x.astype("float64")
    m = x64.mean(-1, keepdims=True)
    return ((x64 - m) / np.sqrt(x64.var(-1, keepdims=True) + eps) * g + b)


def logsumexp(x, axis=-1):
    m = lo.max(x, axis=axis, keepdims=True)
    return lo.log(lo.sum(lo.exp(x - m), axis=axis, keepdims=True)) + m


def _kernels_and_passes(*tensors):
    plan, _, leaves = plan_of([t._value for t in tensors])
    return plan, leaves


def _compiled(*tensors):
    with lo.config.override(small_work=0):
        return lo.evaluate(*tensors)


def _interpreted(*tensors):
    plan, leaves = _kernels_and_passes(*tensors)
    return plan.run([v.data for v in leaves], compiled=False)


def test_softmax_is_one_three_pass_kernel():
    x = rng.standard_normal((300, 257)).astype("float32")
    x[5, 0], x[6, 256], x[7, 100] = np.nan, np.inf, -np.inf
    x[8, :] = -np.inf  # a row of -inf: NaN, as NumPy
    t = softmax(x)
    plan, leaves = _kernels_and_passes(t)
    assert len(plan.kernels) == 1 and len(leaves) == 1
    assert "3 passes" in plan.launchers[plan.kernels[0]].explain_for([x])[1].text()
    (got,) = _compiled(t)
    with np.errstate(all="ignore"):
        want = np_softmax(x)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7, equal_nan=True)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64", "float64-array"])
def test_layer_norm_is_one_kernel(dtype):
    """float64-array: NumPy float64 arrays, which Keras converts to float32
    (casts recomputed inside the kernel, the broadcast vectors' included);
    float64: float64 tensors."""
    src = dtype.split("-")[0]
    x = (rng.standard_normal((130, 333)) * 3 + 1).astype(src)
    g = rng.standard_normal(333).astype(src)
    b = rng.standard_normal(333).astype(src)
    if dtype == "float64":
        x, g, b = (lo.convert_to_tensor(a, dtype="float64") for a in (x, g, b))
    t = layer_norm(x, g, b)
    plan, leaves = _kernels_and_passes(t)
    assert len(plan.kernels) == 1 and len(leaves) == 4  # x, eps, g, b
    (interp,) = _interpreted(t)
    (got,) = _compiled(t)
    # Keras's NumPy backend computes float64 tensors' arithmetic in float32
    assert got.dtype == t.dtype == ("float16" if dtype == "float16" else "float32")
    tol = 2e-2 if dtype == "float16" else 2e-5
    want = np_layer_norm(*(np.asarray(a, "float64") for a in (x, g, b)))
    np.testing.assert_allclose(got.astype("float64"), want, rtol=tol, atol=tol)
    np.testing.assert_allclose(got.astype("float64"), interp.astype("float64"),
                               rtol=tol, atol=tol)


def test_logsumexp_and_its_parts_forced_together():
    x = rng.standard_normal((64, 1000)).astype("float32") * 20
    x[3, 999] = np.inf
    x[4, 0] = np.nan
    m = lo.max(x, axis=1, keepdims=True)
    lse = logsumexp(x, axis=1)
    sm = softmax(x, axis=1)
    plan, _ = _kernels_and_passes(lse, sm, m)
    assert len(plan.kernels) == 1
    got = _compiled(lse, sm, m)
    with np.errstate(all="ignore"):
        mm = x.max(1, keepdims=True)
        want = [np.log(np.exp(x - mm).sum(1, keepdims=True)) + mm, np_softmax(x, 1), mm]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("axis", [-1, 1, (1, 2), 0])
def test_var_std_along_axes(axis):
    x = rng.standard_normal((40, 30, 20)).astype("float32") * 5 + 3
    got = _compiled(lo.var(x, axis=axis), lo.std(x, axis=axis, keepdims=True))
    np.testing.assert_allclose(got[0], np.var(x.astype("float64"), axis=axis), rtol=1e-5)
    np.testing.assert_allclose(got[1], np.std(x.astype("float64"), axis=axis, keepdims=True),
                               rtol=1e-5)


@pytest.mark.parametrize("where", [0, 8191, 8192, 16383, 16384, -1])
def test_whole_array_standardize_over_blocks(where):
    n = 3 * 8192 + 5
    x = rng.standard_normal(n).astype("float32")
    clean = (x - lo.mean(x)) / lo.std(x)
    (got,) = _compiled(clean)
    x64 = x.astype("float64")
    np.testing.assert_allclose(got, (x64 - x64.mean()) / x64.std(), rtol=1e-4, atol=1e-5)
    y = x.copy()
    y[where] = np.nan
    (got,) = _compiled((y - lo.mean(y)) / lo.std(y))
    assert np.isnan(got).all()  # a NaN anywhere reaches every element through the mean
    z = x.copy()
    z[where] = np.inf
    (got,) = _compiled(z - lo.max(z))
    assert np.isnan(got[where]) and np.isneginf(np.delete(got, where)).all()  # inf - inf


def test_center_columns_reads_strided_rows():
    a = rng.standard_normal((500, 64)).astype("float32")
    t = (a - lo.mean(a, axis=0)) / lo.std(a, axis=0)
    plan, _ = _kernels_and_passes(t)
    assert len(plan.kernels) == 1
    (got,) = _compiled(t)
    a64 = a.astype("float64")
    np.testing.assert_allclose(got, (a64 - a64.mean(0)) / a64.std(0), rtol=1e-4, atol=1e-5)


def test_row_value_through_a_view_starts_a_new_kernel():
    # keepdims=False then expand_dims: the row value is read through a view
    x = rng.standard_normal((50, 40)).astype("float32")
    t = x - lo.expand_dims(lo.max(x, axis=1), 1)
    (got,) = _compiled(t)
    np.testing.assert_array_equal(got, x - x.max(1, keepdims=True))


def test_reduction_broadcast_along_the_wrong_axis_is_not_a_row_value():
    # mean over axis 1 of a square array, broadcast along axis 0 (keepdims=False)
    x = rng.standard_normal((48, 48)).astype("float32")
    t = x - lo.mean(x, axis=1)
    (got,) = _compiled(t)
    np.testing.assert_allclose(got, x - x.astype("float64").mean(1).astype("float32"),
                               rtol=1e-6, atol=1e-6)


def test_full_reduction_broadcast_against_a_constant_is_a_later_pass():
    """`maximum(zeros_like(x), all(x))`: no per-element operand, yet over the
    whole space: a later pass, not the epilogue (found by the fuzzer)."""
    x = np.ones((2, 3, 5, 5), "float32")
    (got,) = _compiled(lo.maximum(lo.zeros_like(x, dtype="float16"), lo.all(x)))
    assert got.shape == (2, 3, 5, 5) and got.dtype == np.float16 and (got == 1).all()


def test_view_of_a_cheap_op_on_inputs_stays_computed():
    """A cheap op on an input is recomputed in its readers only when they are
    compute ops: a view of it needs the value as a kernel input (fuzzer)."""
    a = np.random.default_rng(0).random((7, 3, 5, 2)) < 0.5
    v1 = lo.transpose(a)
    v3 = lo.maximum(255, v1)
    got = _compiled(v3[1:-1:2], lo.divide(v3, 0.001))
    want = np.maximum(255, a.T)
    np.testing.assert_array_equal(got[0], want[1:-1:2])
    np.testing.assert_allclose(got[1], want / np.float32(0.001), rtol=1e-6)


def test_reduction_of_a_later_pass_value_in_a_degenerate_space():
    """space (1, 1): `any(x) + y` is a later-pass value (its shape is not the
    0-d result's), so `prod` of it folds in that pass (found by the fuzzer)."""
    x, y = np.ones((1, 1), "float32"), np.ones((1, 1), "float32")
    (got,) = _compiled(lo.prod(lo.add(lo.any(x), y), axis=(-2, 1), keepdims=True))
    assert got.shape == (1, 1) and got[0, 0] == 2.0


def test_size_one_space_softmax_like_chain():
    """A one-element space: `x - max(x)` feeds `sum`, so it is an element value
    of a later pass, not an epilogue (found by the fuzzer)."""
    x = np.ones(1, "bool")
    v5 = lo.cast(x, "float16")
    v7 = v5 - lo.max(v5, axis=0, keepdims=True)
    (got,) = _compiled(lo.divide(v7, lo.sum(v7, axis=0, keepdims=True)))
    assert got.shape == (1,) and got.dtype == np.float16 and np.isnan(got[0])


@pytest.mark.parametrize("dtype", ["float32", "float16", "int32"])
def test_a_row_shared_by_every_row_is_read_once_not_broadcast(dtype):
    """`sum((x[:, None] - y[None, :]) ** 2, axis=1)`: the rows kernel reads `y`
    as one row ("col" access) instead of a copy of its broadcast; NaN and
    infinities in it reach every row."""
    x = (rng.standard_normal(300) * 4).astype(dtype)
    y = (rng.standard_normal(9000) * 4).astype(dtype)
    if dtype != "int32":
        y[0], y[8191], y[8999] = np.nan, np.inf, -np.inf
        x[3] = np.inf
    t = lo.sum((lo.convert_to_tensor(x)[:, None] - y[None, :]) ** 2, axis=1)
    (got,) = _compiled(t)
    plan, leaves = _kernels_and_passes(lo.sum((lo.convert_to_tensor(x)[:, None] - y[None, :]) ** 2,
                                              axis=1))
    (launcher,) = plan.launchers.values()
    assert launcher.configure([v.data for v in leaves])[2] == ("row", "col")
    with np.errstate(all="ignore"):
        want = np.sum((x[:, None] - y[None, :]) ** 2, axis=1)
    if dtype == "int32":
        want = want.astype("int32")  # Keras keeps int32 sums int32
    assert got.dtype == want.dtype and got.shape == want.shape
    rtol = {"float16": 2e-2, "float32": 1e-5, "int32": 0}[dtype]
    np.testing.assert_allclose(got, want, rtol=rtol, equal_nan=True)


def test_shared_rows_over_several_reduced_axes():
    x = rng.standard_normal((70, 2)).astype("float32")
    y = rng.standard_normal((30, 40)).astype("float32")
    t = lo.max(lo.abs(lo.convert_to_tensor(x)[:, :, None, None] * y), axis=(2, 3))
    (got,) = _compiled(t)
    np.testing.assert_allclose(got, np.max(np.abs(x[:, :, None, None] * y), axis=(2, 3)), rtol=1e-6)


def test_a_repeated_reduction_shares_its_accumulator():
    """logsumexp without keepdims takes the max twice (keepdims and not): one
    accumulator serves both, and the values are the same."""
    import lazyops as lo
    from lazyops import engine
    from lazyops.codegen.launch import Launcher
    x = np.random.default_rng(3).standard_normal((300, 70)).astype(np.float32)
    x[5, 7] = np.nan
    x[9] = -np.inf
    t = lo.logsumexp(x, axis=1)
    plan = engine.plan_of([t._value])[0]
    (k,) = plan.kernels
    launcher = Launcher(k, plan.launchers[k].target)
    assert len(launcher.plan("rows", 2, ("elem",)).accs) == 2  # one max, one sum
    with lo.config.override(small_work=0, tiered=False):
        got = t.numpy()
    from scipy.special import logsumexp
    with np.errstate(all="ignore"):
        want = logsumexp(x, axis=1)
    np.testing.assert_allclose(got, want, rtol=2e-6, equal_nan=True)


def test_chunks_of_rows_keep_nan_and_inf_in_their_rows():
    """`rows` kernels run chunks of rows (1003 rows: 4 a chunk) and reuse one
    scratch row per chunk: NaN and inf at chunk edges stay in their rows."""
    import lazyops as lo
    from scipy.special import logsumexp
    x = np.random.default_rng(4).standard_normal((1003, 300)).astype(np.float32)
    x[3, 0], x[4, 299], x[7, 150], x[1002, 5] = np.nan, np.inf, -np.inf, np.nan
    x[8] = -np.inf
    t = lo.convert_to_tensor(x)
    outs = [lo.logsumexp(t, axis=1), lo.max(t, axis=1), lo.argmax(t, axis=1), lo.sum(t, axis=1),
            lo.exp(t - lo.max(t, axis=1, keepdims=True)) / lo.sum(
                lo.exp(t - lo.max(t, axis=1, keepdims=True)), axis=1, keepdims=True)]
    with lo.config.override(small_work=0, tiered=False), np.errstate(all="ignore"):
        got = lo.evaluate(*outs)
        e = np.exp(x - x.max(1, keepdims=True))
        want = [logsumexp(x, axis=1), x.max(1), np.argmax(x, 1), x.sum(1, dtype=np.float64),
                e / e.sum(1, keepdims=True)]
    # a float32 sum is as accurate as NumPy's pairwise one: within an ulp of
    # the sum of magnitudes (a cancelling row's relative error is larger)
    scale = np.abs(np.where(np.isfinite(x), x, 0)).sum(1, dtype=np.float64)
    for k, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        if k == 3:
            ok = np.isnan(w) | (g == w) | (np.abs(g - w) <= 2.0 ** -23 * scale)
            assert ok.all(), (g[~ok], w[~ok])
        else:
            np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6, equal_nan=True)
