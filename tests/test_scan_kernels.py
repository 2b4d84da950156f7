"""Scan kernels: cumsum and cumprod compiled as one kernel with the
elementwise work before and after them, rows scanned in parallel, long rows
tiled (tile totals, their prefix, each tile from its carry). Compared with
NumPy's sequential np.cumsum on arrays long enough for several tiles
(SCAN_TILE elements each), with NaN and infinities at tile edges."""
import numpy as np
import pytest

import lazyops as lo
from lazyops.codegen.cpu import SCAN_TILE
from lazyops.engine import plan_of

rng = np.random.default_rng(11)
LONG = 4 * SCAN_TILE + 123  # five tiles, the last one short


def _plan(*tensors):
    plan, _, _ = plan_of([t._value for t in tensors])
    return plan


def _forms(plan, *tensors):
    """The loop-plan form of each kernel of `plan` as launched."""
    return [plan.launchers[k].explain_last()[0] for k in plan.kernels]


def _compiled(*tensors):
    with lo.config.override(small_work=0):
        return lo.evaluate(*tensors)


def _close_to_prefix(got, x, op):
    """`got` against the float64 scan of `x`: a tiled scan rounds in another
    order than NumPy's; both drift from the exact scan as a random walk of
    roundings, about sqrt(k) ulps of the running magnitude after k steps."""
    x64 = x.astype("float64")
    want = np.cumsum(x64) if op == "cumsum" else np.cumprod(x64)
    scale = np.cumsum(np.abs(x64)) if op == "cumsum" else np.abs(want)
    eps = np.finfo(got.dtype).eps
    steps = np.sqrt(np.arange(1, x.size + 1))
    bad = np.abs(got.astype("float64") - want) > (8 * steps + 64) * eps * scale \
        + np.finfo(got.dtype).tiny
    assert not bad.any(), f"{op}: first mismatch at {np.argmax(bad)}"


def test_cumsum_of_exp_times_two_is_one_kernel_with_no_intermediate():
    x = rng.standard_normal(LONG).astype("float32")
    t = lo.cumsum(lo.exp(x)) * 2
    plan = _plan(t)
    assert len(plan.kernels) == 1 and not plan.numpy_ops
    (got,) = _compiled(t)
    assert got.dtype == np.float32 and got.shape == x.shape
    _close_to_prefix(got / 2, np.exp(x), "cumsum")
    assert _forms(plan, t) == ["scan"]


@pytest.mark.parametrize("dtype", ["float32", "float16", "int8", "bool"])
def test_cumsum_dtypes_match_keras(dtype):
    import keras
    n = LONG if dtype != "float16" else 3000  # float16 overflows long sums
    x = (rng.standard_normal(n) * 3).astype(dtype) if dtype != "bool" else rng.random(n) < 0.5
    (got,) = _compiled(lo.cumsum(x))
    want = keras.ops.convert_to_numpy(keras.ops.cumsum(x))
    assert got.dtype == want.dtype and got.shape == want.shape
    if got.dtype.kind == "f":
        _close_to_prefix(got, x.astype(got.dtype), "cumsum")
    else:
        np.testing.assert_array_equal(got, want)


def test_nan_and_inf_at_tile_edges():
    x = rng.random(LONG).astype("float32")
    x[SCAN_TILE - 1] = np.inf          # last element of the first tile
    x[2 * SCAN_TILE] = -np.inf         # first of the third: inf - inf = NaN from there
    y = rng.random(LONG).astype("float32")
    y[3 * SCAN_TILE] = np.nan          # a NaN in the fourth tile's first element
    a, b = _compiled(lo.cumsum(x), lo.cumsum(y))
    want_a, want_b = np.cumsum(x), np.cumsum(y)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(want_a))
    np.testing.assert_array_equal(np.isinf(a), np.isinf(want_a))
    np.testing.assert_array_equal(np.isnan(b), np.isnan(want_b))
    _close_to_prefix(b[:3 * SCAN_TILE], y[:3 * SCAN_TILE], "cumsum")


def test_cumprod_tiled():
    x = (1 + rng.standard_normal(LONG) * 1e-4).astype("float64")
    x[SCAN_TILE] = 0.0  # a zero at a tile edge zeroes everything after it
    (got,) = _compiled(lo.cumprod(x))
    assert got.dtype == np.float32  # Keras converts float64 arrays to float32
    _close_to_prefix(got, x.astype("float32"), "cumprod")
    assert (got[SCAN_TILE:] == 0).all()


def _saturating_rows():
    """Rows whose sequential running product (or sum) leaves the float's
    range where the tiles' regrouped totals or a block of four's prefixes do
    not, or the reverse: NumPy's order keeps 0 (or inf) where a carry times
    a tile total gives 0 * inf = NaN, or inf where the product comes back."""
    rows = np.ones((6, LONG), "float32")
    rows[0] = 0.5                                    # underflows to 0 in the first tile...
    rows[0, 2 * SCAN_TILE:2 * SCAN_TILE + 40] = 1e30  # ...then a tile whose total overflows
    rows[1] = 2.0                                    # overflows, then a tile total underflows
    rows[1, 3 * SCAN_TILE - 2:3 * SCAN_TILE + 60] = 1e-30
    rows[2, SCAN_TILE + 5] = 1e-30                   # a dip and back, within one block of four
    rows[2, SCAN_TILE + 6:SCAN_TILE + 9] = 1e10
    rows[3] = 3e38                                   # sums: inf - inf in the regrouped order only
    rows[3, 1::2] = -3e38
    signs = rng.choice(np.array([-1, 1], "float32"), LONG)
    rows[4] = signs * (10.0 ** rng.uniform(-40, 38, LONG)).astype("float32")
    rows[5] = rng.uniform(0.999, 1.001, LONG)        # ordinary: stays tiled
    return rows


@pytest.mark.parametrize("op", ["cumprod", "cumsum"])
def test_scans_that_saturate_in_one_order_match_numpys_sequential_order(op):
    rows = _saturating_rows()
    plain, fused = _compiled(getattr(lo, op)(rows, axis=1), getattr(lo, op)(rows * 1, axis=1) * 0.5)
    with np.errstate(all="ignore"):
        want = getattr(np, op)(rows, axis=1)
    for got in (plain, fused * 2):
        for k in range(len(rows)):
            np.testing.assert_array_equal(np.isnan(got[k]), np.isnan(want[k]), err_msg=f"row {k}")
            np.testing.assert_array_equal(np.isinf(got[k]), np.isinf(want[k]), err_msg=f"row {k}")
            fine = np.isfinite(want[k]) & (np.abs(want[k]) > 1e-30)
            np.testing.assert_allclose(got[k][fine], want[k][fine], rtol=1e-3, err_msg=f"row {k}")
    for k in range(len(rows)):  # each row alone: one row is tiled across both threads
        (one,) = _compiled(getattr(lo, op)(rows[k]))
        np.testing.assert_array_equal(np.isnan(one), np.isnan(want[k]), err_msg=f"row {k} alone")
        np.testing.assert_array_equal(np.isinf(one), np.isinf(want[k]), err_msg=f"row {k} alone")


@pytest.mark.parametrize("shape,axis", [((3, LONG // 3), -1), ((200, 300), 1), ((300, 200), 0),
                                        ((4, 5, 3000), 1), ((7, 0), 1), ((0,), 0), ((5, 1), 1)])
def test_cumsum_axes_and_shapes(shape, axis):
    x = rng.standard_normal(shape).astype("float32")
    t = lo.cumsum(x * 0.5 + 1, axis=axis)
    (got,) = _compiled(t)
    want = np.cumsum(x * np.float32(0.5) + np.float32(1), axis=axis)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)


def test_row_and_shared_row_inputs():
    """A per-row value (constant along the scan) and a row every row shares."""
    x = rng.standard_normal((40, 2 * SCAN_TILE)).astype("float32")
    s = rng.standard_normal((40, 1)).astype("float32")
    w = rng.standard_normal(2 * SCAN_TILE).astype("float32")
    t = lo.cumsum(x * s + w, axis=1) - s
    (got,) = _compiled(t)
    want = np.cumsum(x * s + w, axis=1) - s
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=2e-2)


def test_outputs_before_and_after_the_scan_forced_together():
    x = rng.standard_normal(LONG).astype("float32")
    e = lo.exp(x)
    c = lo.cumsum(e)
    r = c / lo.arange(1, LONG + 1, dtype="float32")  # a running mean, iota inside
    plan = _plan(e, c, r)
    assert len(plan.kernels) == 1
    ge, gc, gr = _compiled(e, c, r)
    np.testing.assert_allclose(ge, np.exp(x), rtol=2e-6)  # mathlib: within an ulp
    _close_to_prefix(gc, np.exp(x), "cumsum")
    np.testing.assert_allclose(gr, gc / np.arange(1, LONG + 1, dtype="float32"), rtol=1e-6)


def test_scan_of_a_scan_and_a_reduction_of_a_scan_are_separate_kernels():
    x = rng.random((8, 1000)).astype("float32")
    c = lo.cumsum(x, axis=1)
    cc = lo.cumsum(c, axis=1)
    s = lo.sum(c, axis=1)
    plan = _plan(cc, s)
    assert len(plan.kernels) == 3
    got_cc, got_s = _compiled(cc, s)
    np.testing.assert_allclose(got_cc, np.cumsum(np.cumsum(x, 1), 1), rtol=1e-5)
    np.testing.assert_allclose(got_s, np.cumsum(x, 1).sum(1), rtol=1e-5)


def test_serial_and_parallel_scans_agree():
    """One-thread kernels (small work) print the same loops: the same bits."""
    x = rng.standard_normal(LONG).astype("float32")
    with lo.config.override(small_work=0, serial_work=0):
        (par,) = lo.evaluate(lo.cumsum(x))
    with lo.config.override(small_work=0, serial_work=1 << 30):
        (ser,) = lo.evaluate(lo.cumsum(x))
    np.testing.assert_array_equal(par, ser)


# ---------------------------------------------------------------- associative_scan

@pytest.mark.parametrize("combine, scan_op", [("add", "cumsum"), ("maximum", "cummax"),
                                              ("minimum", "cummin")])
def test_associative_scan_of_a_known_combine_is_a_tiled_scan_kernel(combine, scan_op):
    """`associative_scan` of one op over f's two arguments becomes that op's
    scan (Keras's float64 result), tiled in parallel, NaN at a tile edge."""
    x = rng.standard_normal(LONG).astype("float32")
    x[2 * SCAN_TILE] = np.nan
    f = getattr(lo, combine)
    t = lo.associative_scan(lambda a, b: f(b, a), x)  # either argument order
    plan = _plan(t)
    assert [op.name for op in plan.kernels[0].regions[0].block.ops
            if op.name.startswith("lazy.cum")] == [f"lazy.{scan_op}"]
    assert len(plan.kernels) == 1 and not plan.numpy_ops
    (got,) = _compiled(t)
    assert _forms(plan, t) == ["scan"]
    want = getattr(np, combine).accumulate(x.astype("float64"))
    assert got.dtype == np.float64 and got.shape == x.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * np.sqrt(LONG))


@pytest.mark.parametrize("combine", ["add", "multiply", "maximum", "minimum", "logaddexp"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int32"])
@pytest.mark.parametrize("shape, axis, reverse", [((9,), 0, False), ((4, 6), 1, True),
                                                  ((3, 4, 5), 0, True), ((3, 5), -1, False)])
def test_associative_scan_matches_keras(combine, dtype, shape, axis, reverse):
    import keras
    x = (rng.standard_normal(shape) * 2).astype(dtype)
    want = keras.ops.convert_to_numpy(keras.ops.associative_scan(
        getattr(keras.ops, combine), x, reverse=reverse, axis=axis))
    f = getattr(lo, combine)
    # compiled for one float32 case per scan op (each dtype, rank and op is a
    # kernel to compile; the tiled kernels are tested above), not logaddexp,
    # whose general path compiles for seconds per shape
    once = dtype == "float32" and len(shape) == 3 and combine != "logaddexp"
    for compiled in (False, True) if once else (False,):
        with lo.config.override(small_work=0 if compiled else 1 << 40):
            got = lo.associative_scan(f, x, reverse=reverse, axis=axis).numpy()
        assert got.dtype == want.dtype and got.shape == want.shape
        # Keras combines the first pairs in the input dtype, the rest in
        # float32; the scan kernels in float64
        tol = 4e-3 if dtype == "float16" else 1e-6
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_associative_scan_of_other_functions_keeps_the_general_path():
    """A combine of transcendental ops keeps Keras's odd/even recursion
    (recorded lazily), and matches Keras's values."""
    import keras
    x = rng.standard_normal((6, 3)).astype("float32")
    f, kf = (lambda a, b: lo.log(lo.exp(a) + lo.exp(b)),
             lambda a, b: keras.ops.log(keras.ops.exp(a) + keras.ops.exp(b)))
    got = lo.associative_scan(f, x)
    want = keras.ops.convert_to_numpy(keras.ops.associative_scan(kf, x))
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    assert "lazy.scan" not in str(lo.explain(lo.associative_scan(f, x), show="all"))


def _fold(f, elems, axis, reverse):
    """The documented result [a, f(a, b), f(f(a, b), c), ...] of a scan of
    a tuple of NumPy arrays along `axis`, in float64."""
    moved = [np.moveaxis(e.astype("float64"), axis, 0) for e in elems]
    if reverse:
        moved = [m[::-1] for m in moved]
    acc, out = [m[0] for m in moved], [[m[0]] for m in moved]
    for k in range(1, len(moved[0])):
        acc = [np.asarray(v, "float64") for v in f(tuple(acc), tuple(m[k] for m in moved))]
        for o, v in zip(out, acc):
            o.append(v)
    out = [np.stack(o) for o in out]
    return [np.moveaxis(o[::-1] if reverse else o, 0, axis) for o in out]


@pytest.mark.parametrize("shape, axis, reverse", [((3000,), 0, False), ((40, 300), 1, True),
                                                  ((300, 40), 0, True), ((2,), 0, False)])
def test_associative_scan_of_cheap_combines_is_one_recurrence_kernel(shape, axis, reverse):
    """A combine of cheap elementwise ops over a tree of elements (the
    linear recurrence `h = a * h + b` as pairs, a maximum through `where`)
    is the documented left fold [a, f(a, b), f(f(a, b), c), ...], compiled
    as one `lazy.scan` recurrence kernel: Keras's values and float64 dtype
    (its grouping differs only in rounding, f being associative), with a
    NaN and an inf on the way; a function that is not associative gets the
    documented left fold too."""
    import keras
    a = rng.uniform(0.5, 1.0, shape).astype("float32")
    b = rng.standard_normal(shape).astype("float32")
    b.flat[len(b.flat) // 3] = np.inf
    b.flat[len(b.flat) // 2] = np.nan

    def pairs(ops):
        return lambda l, r: (l[0] * r[0], r[0] * l[1] + r[1])

    def biggest(ops):
        return lambda p, q: ops.where(p > q, p, q)

    def lopsided(ops):  # not associative
        return lambda p, q: p * 0.5 + q
    cases = [(pairs, (a, b)), (biggest, a), (lopsided, b)]
    with lo.config.override(small_work=0):
        for make, elems in cases:
            got = lo.associative_scan(make(lo), elems, reverse=reverse, axis=axis)
            assert "lazy.scan" in str(lo.explain(got if make is not pairs else got[1], show="all"))
            got = [t.numpy() for t in (got if isinstance(got, tuple) else (got,))]
            tree = elems if isinstance(elems, tuple) else (elems,)
            want = _fold(lambda l, r: make(np)(l, r) if len(tree) > 1 else (make(np)(l[0], r[0]),),
                         tree, axis, reverse)
            for g, w in zip(got, want):
                assert g.dtype == np.float64 and g.shape == w.shape
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, equal_nan=True)
            if make is not lopsided:
                kwant = keras.ops.associative_scan(make(keras.ops), elems, reverse=reverse, axis=axis)
                for g, w in zip(got, kwant if isinstance(kwant, (tuple, list)) else (kwant,)):
                    w = keras.ops.convert_to_numpy(w)
                    assert g.dtype == w.dtype
                    np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, equal_nan=True)


def _recur_ranks(plan):
    """The rank each recurrence kernel of `plan` last launched with."""
    return sorted(plan.launchers[k].last[1] for k in plan.kernels
                  if plan.launchers[k].last[0] == "recur")


@pytest.mark.parametrize("shape, reverse", [((6000,), False), ((4099,), True), ((3, 2600), False)])
def test_associative_scan_of_a_dear_combine_runs_in_parallel_tiles(shape, reverse):
    """A combine with a division along a long last axis with few other
    elements runs in tiles, each a chain of the recurrence kernels laid out
    chain-major (rank 3): tile totals, their fold, each tile from the fold
    before it; a length the tiles do not divide (4099, prime) is padded.
    The documented left fold's values (f is associative: the grouping
    changes only rounding) and Keras's, in float64, over a tree of
    elements with a NaN at a tile edge and an inf."""
    import keras
    from lazyops.associative import _tiles
    a = rng.uniform(0.5, 2.0, shape).astype("float32")
    b = rng.standard_normal(shape).astype("float32")
    tiles = _tiles(shape[-1], shape, len(shape) - 1)
    assert tiles > 1
    step = -(-shape[-1] // tiles)
    a.reshape(-1, shape[-1])[-1, 2 * step] = np.nan  # the first element of the third tile
    b.reshape(-1, shape[-1])[0, step - 1] = np.inf  # the last of the first

    def make(ops):  # resistors in parallel, beside a running sum
        return lambda l, r: (l[0] * r[0] / (l[0] + r[0]), l[1] + r[1])
    with lo.config.override(small_work=0):
        got = lo.associative_scan(make(lo), (a, b), reverse=reverse, axis=-1)
        plan = _plan(*got)
        got = [np.asarray(t) for t in lo.evaluate(*got)]
    assert 3 in _recur_ranks(plan)
    want = _fold(make(np), (a, b), len(shape) - 1, reverse)
    kwant = keras.ops.associative_scan(make(keras.ops), (a, b), reverse=reverse, axis=-1)
    for g, w, k in zip(got, want, kwant):
        k = keras.ops.convert_to_numpy(k)
        assert g.dtype == k.dtype == np.float64 and g.shape == k.shape == shape
        assert np.array_equal(np.isnan(g), np.isnan(w))
        # float32 roundings: the running sum's near its zeros are large relative errors
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-4, equal_nan=True)
        np.testing.assert_allclose(g, k, rtol=2e-5, atol=1e-4, equal_nan=True)


def test_associative_scan_tiles_only_long_folds_of_dear_combines():
    """Cheap combines, short axes, other axes than the last and many other
    elements keep one chain per element."""
    from lazyops.associative import _tiles
    assert _tiles(6000, (6000,), 0) > 1
    assert _tiles(6000, (6000, 3), 0) == 1  # not the last axis
    assert _tiles(400, (400,), 0) == 1  # too short
    assert _tiles(6000, (600, 6000), 1) == 1  # chains enough
    x = rng.uniform(0.5, 2.0, 6000).astype("float32")
    with lo.config.override(small_work=0):
        cheap = lo.associative_scan(lambda p, q: p * 0.5 + q * 0.5, x)
        plan = _plan(cheap)
        cheap.numpy()
    assert _recur_ranks(plan) == [1]
