"""Wrong results and errors found by users and fuzzers, each pinned down.

Reductions run compiled on arrays big enough to be split into parallel
blocks, with NaN and infinities at block edges.
"""
import warnings

import numpy as np
import pytest

import lazyops as lo
from compiled import assert_same, both_paths
from lazyops.codegen.cpu import BLOCK
from lazyops.engine import plan_of

REDUCE = ["sum", "prod", "max", "min", "mean", "any", "all", "argmax", "argmin"]
N = 3 * BLOCK + 5
POSITIONS = [0, 1, BLOCK - 1, BLOCK, N // 2, 2 * BLOCK, N - 1]


def _reductions(x, axis, keepdims):
    outs = []
    for name in REDUCE:
        if name.startswith("arg") and not (axis is None or isinstance(axis, int)):
            continue
        kw = {} if name.startswith("arg") and keepdims is False else {"keepdims": keepdims}
        outs.append(getattr(lo, name)(x, axis=axis, **kw))
    return outs


def _check_all(shape, axis, keepdims, dtype):
    # near 1, so that products neither overflow nor underflow (inf * 0 is NaN)
    base = (1 + (np.random.default_rng(0).random(shape) - 0.5) * 1e-3).astype(dtype)
    for special in (np.nan, np.inf, -np.inf):
        for pos in POSITIONS:
            a = base.copy()
            a.reshape(-1)[pos % a.size] = special
            x = lo.convert_to_tensor(a)
            got, want, plan = both_paths(_reductions(x, axis, keepdims))
            assert plan.launchers, "the reductions must run compiled"
            for k, (g, w) in enumerate(zip(got, want)):
                if REDUCE[k] == "prod" and dtype == "float32":
                    # NumPy's chain of float32 products drifts about sqrt(n)
                    # ulps; the kernel accumulates in float64
                    assert g.dtype == w.dtype
                    np.testing.assert_allclose(g, w, rtol=2e-5, equal_nan=True)
                    continue
                assert_same(g, w, f"{special} at {pos}, axis={axis}")
            ref = [np.max(a, axis=axis, keepdims=keepdims), np.min(a, axis=axis, keepdims=keepdims)]
            assert_same(want[2], ref[0].astype(want[2].dtype), "max against NumPy")
            assert_same(want[3], ref[1].astype(want[3].dtype), "min against NumPy")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_whole_array_reductions_keep_nan_and_inf_across_blocks(dtype):
    _check_all((N,), None, False, dtype)


@pytest.mark.parametrize("axis,keepdims", [(1, False), (0, True), ((0, 1), False)])
def test_axis_reductions_keep_nan_and_inf(axis, keepdims):
    _check_all((7, N // 7), axis, keepdims, "float32")


def test_max_of_large_array_with_nan_is_nan():
    x = np.random.default_rng(1).random(100_000).astype("float32")
    x[12345] = np.nan
    with lo.config.override(small_work=0):
        assert np.isnan(lo.max(x).numpy()) and np.isnan(lo.min(x).numpy())
        assert lo.argmax(x).numpy() == 12345


def _shared_subexpressions():
    x0 = np.array([5, 2, 5, -1, 1], "int32").reshape((1, 1, 5))
    v1 = lo.less_equal(x0, -1)
    v2 = lo.abs(x0)
    v3 = lo.maximum(v1, x0)
    v4 = lo.expand_dims(x0, -2)
    v5 = lo.equal(v1, v4)
    v7 = lo.subtract(v4, v4)
    v8 = lo.clip(x0, -1.0, 1.5)
    v9 = lo.transpose(v2, axes=(1, 0, 2))
    v10 = lo.logical_and(v1, v2)
    v11 = lo.greater_equal(v3, v9)
    v12 = lo.minimum(v2, v1)
    v13 = lo.negative(v7)
    v14 = lo.divide(v13, v8)
    v15 = lo.power(v3, v13)
    v16 = lo.where(v5, v11, v11)
    v17 = lo.power(v5, v12)
    return [v10, v14, v15, v16, v17]


def test_several_outputs_sharing_subexpressions_schedule_without_cycles():
    got, want, _ = both_paths(_shared_subexpressions())
    for g, w in zip(got, want):
        assert_same(g, w)
    lo.evaluate(*_shared_subexpressions())  # the default path too


def test_view_of_a_value_computed_in_the_kernel_starts_a_new_kernel():
    x = lo.convert_to_tensor(np.arange(12, dtype="float32").reshape(3, 4))
    e = lo.exp(x)
    y = e + lo.transpose(lo.transpose(e))  # e is used twice: the view is not sunk
    got, want, _ = both_paths([y, lo.transpose(e) * 2])
    for g, w in zip(got, want):
        assert_same(g, w)


def test_zero_d_value_broadcast_among_other_outputs():
    x0 = np.array(4, "int32")
    x2 = np.array(-0.625, "float16")
    v4 = lo.clip(x2, -2.0, -1.5)
    v14 = lo.broadcast_to(lo.rsqrt(x0), (3,))
    a, b = lo.evaluate(v14, lo.subtract(lo.floor(lo.trunc(v4)), v4))
    np.testing.assert_array_equal(a, np.zeros(3, "int32"))
    assert b.dtype == np.float16 and b == 0.5
    got, want, _ = both_paths([v14, lo.broadcast_to(lo.exp(x2), (2, 3))])
    for g, w in zip(got, want):
        assert_same(g, w)


def _uniform_chain(shape=()):
    a = lo.where(np.array(True), True, lo.broadcast_to(np.array(3.375, "float16"), shape))
    return lo.floor_divide(lo.clip(a, -1.0, 1.5), np.array(-3.0, "float32"))


def _source(t):
    """Generated source of the kernel computing `t` (the graph's last)."""
    plan, pending, leaves = plan_of([t._value])
    *_, launcher = plan.launchers.values()
    env = dict(zip(plan.scheduled.args, [leaf.data for leaf in leaves]))
    for op in plan.scheduled.ops[:-1]:
        vals = [env[o] for o in op.operands]
        if plan.launchers[op] is launcher:
            return launcher.explain_for(vals)[2]
        env.update(zip(op.results, plan.launchers[op](vals)))


def test_kernel_of_zero_d_values_computes_them_outside_the_loop():
    """Invariant branches inside a parallel loop let LLVM unswitch it once per
    condition: such a kernel took minutes to compile."""
    c = _uniform_chain()
    assert "prange" not in _source(c).split("def kernel")[1]  # a 0-d space needs no loop
    wide = _uniform_chain((100,)) * np.arange(100, dtype="float32")
    src = _source(wide)
    loop = src[src.index("prange(("):]
    assert "floor_divide" not in loop and " if " not in loop, src
    with lo.config.override(small_work=0):
        assert c.numpy() == np.float32(-1.0)
        np.testing.assert_array_equal(wide.numpy(), -np.arange(100, dtype="float32"))


def test_invariant_conditions_compile_without_numba_warnings():
    t = lo.convert_to_tensor(np.arange(64, dtype="float32"))
    for i in range(4):
        t = lo.where(np.array(i % 2 == 0), t * 2, lo.floor_divide(t, 3.0))
    want = np.arange(64, dtype="float32")
    for i in range(4):
        want = want * 2 if i % 2 == 0 else np.floor_divide(want, np.float32(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with lo.config.override(small_work=0):
            np.testing.assert_array_equal(t.numpy(), want)


def _keras():
    import keras
    return keras.ops


def test_clip_of_unsigned_ints_with_bounds_beyond_the_dtype():
    x = np.array([0, 1, 2, 5], np.uint8)
    for bounds in [(-1, 3), (1, 300), (-5, 400)]:
        got = lo.clip(x, *bounds).numpy()
        want = _keras().clip(x, *bounds)
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype
    for bounds in [(-3, -1), (300, 400)]:
        with pytest.raises(OverflowError, match="clip"):
            lo.clip(x, *bounds)


@pytest.mark.parametrize("dtype,values", [("float32", [-1e-40, -0.0, -1e-41]),
                                          ("float16", [-2e-07, -0.0, 0.0]),
                                          ("float64", [-0.0, 0.0, -1e-310])])
def test_arg_reductions_order_negative_zero_as_keras(dtype, values):
    a = np.array(values * 3, dtype)
    for name in ("argmax", "argmin"):
        want = getattr(_keras(), name)(a)
        assert getattr(lo, name)(a).numpy() == want, name
        with lo.config.override(small_work=0):
            assert getattr(lo, name)(lo.convert_to_tensor(a) * 1).numpy() == want, name


def test_comparisons_with_python_ints_beyond_the_dtype():
    x = np.array([1, -2, 127], np.int8)
    u = np.array([0, 3, 255], np.uint8)
    for name, a, b in [("less", x, 1000), ("equal", x, 1000), ("greater", x, -10**30),
                       ("less_equal", -1, u), ("not_equal", u, 2**64)]:
        got = getattr(lo, name)(a, b).numpy()
        np.testing.assert_array_equal(got, getattr(np, name)(a, b), err_msg=name)
    with pytest.raises(OverflowError, match="add"):
        lo.add(x, 1000)


def test_full_casts_floats_unsafely_and_round_refuses_bool_decimals():
    np.testing.assert_array_equal(lo.full((2,), -2.5, dtype="uint8").numpy(),
                                  _keras().full((2,), -2.5, dtype="uint8"))
    assert lo.round(np.array([True, False])).numpy().dtype == np.float16
    with pytest.raises(TypeError, match="round: boolean"):
        lo.round(np.array([True, False]), decimals=1)


def test_comparisons_promote_as_numpy_does():
    """Keras's NumPy backend compares with plain NumPy: int32 against float32
    compares in float64, so an int that float32 rounds is not equal to it."""
    a = np.array([362212484, -1566693089, 3, 16777217], "int32")
    b = a.astype("float32")
    for name in ("greater", "equal", "less_equal"):
        want = getattr(_keras(), name)(a, b)
        np.testing.assert_array_equal(getattr(lo, name)(a, b).numpy(), want, err_msg=name)
        with lo.config.override(small_work=0):
            got = getattr(lo, name)(lo.convert_to_tensor(a) * 1, b).numpy()
        np.testing.assert_array_equal(got, want, err_msg=name)
    np.testing.assert_array_equal(lo.greater(a, 2.5).numpy(), _keras().greater(a, 2.5))


def test_empty_integer_tensor_to_a_negative_power_is_empty():
    got = lo.power(np.zeros((0,), "int32"), -2).numpy()
    want = np.zeros((0,), "int32") ** -2
    assert got.shape == want.shape and got.dtype == want.dtype
    with pytest.raises(ValueError, match="negative integer powers"):
        lo.power(np.array([2], "int32"), -2)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_maximum_minimum_signed_zero_ties_as_numpy(dtype):
    """NumPy's float16 loops keep the first operand on a tie of +0.0 and -0.0,
    its float32/float64 loops the second (found by the fuzzer via argmin)."""
    z = np.array([0.0, 0.0, -0.0, -0.0] * 3000, dtype)
    w = np.array([-0.0, 0.0, 0.0, -0.0] * 3000, dtype)
    with lo.config.override(small_work=0):
        lo_min, lo_max = lo.evaluate(lo.minimum(z, w), lo.maximum(z, w))
    np.testing.assert_array_equal(np.signbit(lo_min), np.signbit(np.minimum(z, w)))
    np.testing.assert_array_equal(np.signbit(lo_max), np.signbit(np.maximum(z, w)))


@pytest.mark.parametrize("decimals", [-2, 1, 2, 3])
def test_round_float16_rounds_the_scaled_value_to_float16(decimals):
    """NumPy's float16 round scales in float16 (0.825 * 100 is 82.5 there,
    which rounds to 82): every finite float16, compiled."""
    allf = np.arange(65536, dtype=np.uint16).view(np.float16)
    allf = allf[np.isfinite(allf)]
    with lo.config.override(small_work=0):
        got = lo.round(allf, decimals=decimals).numpy()
    with np.errstate(all="ignore"):
        want = np.round(allf, decimals)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("sw", [0, 1 << 62])
def test_var_of_large_int32_deviates_in_float64_as_keras(sw):
    """Keras calls np.var(x, dtype=float32): the mean in float32 but int32
    deviations in float64, so 1431468294 (not a float32) has variance 36
    around its float32 mean (found by the fuzzer)."""
    from oracle import K
    for a in [np.array([[1431468294]], "int32"), np.array([2**31 - 1, -2**31, 5], "int32"),
              np.arange(12, dtype="int8").reshape(3, 4)]:
        with lo.config.override(small_work=sw):
            got = lo.var(a, axis=-1).numpy()
        want = K.convert_to_numpy(K.var(a, axis=-1))
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # Keras's np.var of inf
def test_var_of_float64_tensor_computes_in_the_converted_dtype():
    """Float inputs keep the cast-first path: Keras's float64 tensors arrive
    converted, so the deviations are not recomputed in float64 (fuzzer)."""
    from oracle import K
    a = np.array([[1e40], [-3.0], [2e-40]], "float64")
    got = lo.var(lo.convert_to_tensor(a, dtype="float64"), axis=1).numpy()
    want = K.convert_to_numpy(K.var(K.convert_to_tensor(a, dtype="float64"), axis=1))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_power_one_half_as_numpy_with_a_scalar_exponent(dtype):
    """NumPy's float32/float64 power takes sqrt for a scalar exponent of 0.5:
    (-inf) ** 0.5 is NaN and (-0.0) ** 0.5 is -0.0 there, unlike C's pow
    (found by the fuzzer: float64 values beyond float32's range)."""
    a = np.array([-np.inf, np.inf, -0.0, 0.0, -4.0, np.nan, 2.0, -1e39] * 2000, "float64")
    a = a.astype(dtype)
    with np.errstate(all="ignore"):
        keras_want = _keras().power(a, 0.5)   # float64 computes in float32, as Keras does
        rt = keras_want.dtype
        want = np.power(a.astype(rt), np.array(0.5, rt))
    for tensor in (lo.convert_to_tensor(a) ** 0.5, lo.power(a, 0.5)):
        got, interpreted, plan = both_paths([tensor])
        assert plan.launchers, "power must run compiled"
        for g in (got[0], interpreted[0]):
            np.testing.assert_array_equal(g, want)
            np.testing.assert_array_equal(np.signbit(g) & ~np.isnan(g), np.signbit(want) & ~np.isnan(want))
            np.testing.assert_array_equal(g, keras_want)


@pytest.mark.parametrize("src", ["float16", "float32", "float64"])
def test_float_to_int_casts_as_numpy(src):
    """Casts of NaN and infinities to 8/16-bit ints give 0 as NumPy's loops
    do (a direct conversion saturated to -32768 where LLVM vectorized it);
    in-range values convert alike (the rest is undefined in C, and NumPy's
    results differ between its SIMD builds)."""
    special = np.array([np.nan, np.inf, -np.inf] * 3000, src)
    with np.errstate(all="ignore"):
        normal = np.tile(np.array([-129.0, -1.5, 2.7, 255.0, 300.0, 65535.0, -40000.5], src), 1000)
        for dst in ["int8", "int16", "uint8", "uint16", "int32", "uint32", "int64", "uint64"]:
            arrays = ([special] if dst in ("int8", "int16", "uint8", "uint16") else []) + \
                [normal[(normal >= 0) & (normal <= np.iinfo(dst).max)] if dst.startswith("uint")
                 else normal[np.abs(normal) <= np.iinfo(dst).max]]
            for a in arrays:
                with lo.config.override(small_work=0):
                    got = lo.cast(lo.convert_to_tensor(a, dtype=src), dst).numpy()
                np.testing.assert_array_equal(got, a.astype(dst), err_msg=f"{src} -> {dst}")


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_clip_keeps_x_on_a_signed_zero_tie_as_numpy(dtype):
    """np.clip(-0.0, 0, 1) is -0.0 and np.clip(0.0, -1, -0.0) is 0.0: x wins
    a tie with a bound (found by the fuzzer through Keras's argmin, which
    takes -0.0 as less than 0.0)."""
    x = np.array([-0.0, 0.0, -0.0, 0.0, 0.5, -0.5, np.nan] * 3000, dtype)
    for lo_, hi in ((0.0, 1.0), (-0.0, 1.0), (-1.0, 0.0), (-1.0, -0.0)):
        want = np.clip(x, np.array(lo_, dtype), np.array(hi, dtype))
        got, interpreted, plan = both_paths([lo.clip(x, lo_, hi)])
        assert plan.launchers, "clip must run compiled"
        for g in (got[0], interpreted[0]):
            np.testing.assert_array_equal(g, want)
            np.testing.assert_array_equal(np.signbit(g), np.signbit(want), err_msg=f"{lo_}, {hi}")
    k = np.asarray(_keras().argmin(_keras().clip(x[:6], 0, 1)))
    assert lo.argmin(lo.clip(x[:6], 0, 1)).numpy() == k


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32", "bool"])
def test_clip_of_integers_against_python_floats_as_keras(dtype):
    """np.clip of an integer array against a Python float bound computes in
    float64 and Keras casts back: a float bound beyond the dtype is no error
    (found by the fuzzer: clip(uint8, -3, -2.5) is 254 everywhere)."""
    a = np.array([0, 1, 5, 100, 127, 3] * 3000).astype(dtype)
    cases = [(-3, -2.5), (-3.5, 300.7), (2.5, 300), (1.5, 3.5), (-300.0, 5), (0.5, 2)]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lo_, hi in cases:
            want = np.asarray(_keras().clip(a, lo_, hi))
            got, interpreted, plan = both_paths([lo.clip(a, lo_, hi)])
            for g in (got[0], interpreted[0]):
                assert g.dtype == want.dtype, (lo_, hi)
                np.testing.assert_array_equal(g, want, err_msg=f"clip({dtype}, {lo_}, {hi})")


@pytest.mark.parametrize("n", [1, 3])
def test_an_iota_beside_a_reduction_is_an_element_value(n):
    """`min(arange(1), 0, keepdims) + arange(1)`: an iota of one element was
    taken for a kernel-wide value and read after the loop, where it was never
    computed (found by the fuzzer)."""
    v = lo.arange(n, dtype="float32")
    t = lo.min(v, axis=0, keepdims=True) + v
    got, interpreted, plan = both_paths([t])
    assert plan.launchers
    np.testing.assert_array_equal(got[0], np.arange(n, dtype="float32"))
    np.testing.assert_array_equal(interpreted[0], got[0])


def test_reductions_do_not_regroup_chained_float_ops():
    """`1000 * (x / max(x, 0))` fused with a reduction: fast-math `reassoc`
    for the reduction let LLVM regroup the product and quotient, an ulp off
    NumPy, visible after `v - max(v, 1)` (found by the fuzzer). Kernels with
    such chains keep NumPy's order and stage their float sums instead."""
    a = (np.random.default_rng(335316).integers(-32, 33, size=(128, 257)) / 8).astype("float32")
    x = lo.convert_to_tensor(a)
    v = 1000.0 * (x / lo.max(x, axis=0, keepdims=True))
    t = v - lo.max(v, axis=1, keepdims=True)
    got, interpreted, plan = both_paths([t])
    assert plan.launchers
    np.testing.assert_array_equal(got[0], interpreted[0])


def test_column_variance_with_a_temp_beside_grouped_sums():
    """A `cols` kernel keeping a value between passes (temp `S0`) beside a
    float32 sum of 64-row groups: their names once clashed (fuzzer)."""
    x0 = np.array([[0, 1, 0, 1], [1, 1, 0, 1], [0, 1, 1, 0]], dtype=bool)
    x2 = np.array([[True, False, True, True]])

    def program():
        v3 = lo.add(np.zeros((1, 4), bool), x0)
        v8 = lo.var(lo.convert_to_tensor(x2) - -1, axis=(0,))
        return lo.evaluate(lo.concatenate((v8, v8), axis=0), lo.cast(v3, "uint8"),
                           lo.divide(v3, x2), lo.minimum(1.0, v8))
    with lo.config.override(small_work=0, tiered=False, serial_work=0):
        got = program()
    with lo.config.override(small_work=1 << 62):
        want = program()
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-6)


INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


def test_integer_reciprocal_of_zero_as_numpy():
    """NumPy's integer reciprocal of 0 is what x86 makes of 1.0 / 0 (the
    least int32 or int64, wrapped): compiled, the value is given explicitly,
    where LLVM folded the conversion of a constant inf to garbage (found by
    the fuzzer: `reciprocal(abs(isnan(all(x))))`, isnan of a bool folding to
    False) or converted a runtime inf to 0."""
    x = np.array([0.0, 1.0, -1.0, 2.0, -3.0, np.nan] * 2000, np.float32)
    b = lo.convert_to_tensor(x > 0)
    outs, wants = [], []
    for dt in INTS:
        outs += [lo.reciprocal(lo.cast(lo.convert_to_tensor(x), dt)),  # zeros at run time
                 lo.reciprocal(lo.cast(lo.isnan(b), dt))]            # a folded zero
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            wants += [np.reciprocal(x.astype(dt)), np.reciprocal(np.zeros(x.shape, dt))]
    got, interpreted, plan = both_paths(outs)
    assert plan.launchers, "the reciprocals must run compiled"
    for k, (g, i, w) in enumerate(zip(got, interpreted, wants)):
        assert_same(g, w, f"compiled {INTS[k // 2]} case {k % 2}")
        assert_same(i, w, f"interpreted {INTS[k // 2]} case {k % 2}")


def test_casts_of_folded_non_finite_floats_as_numpy():
    """A float's conversion to an integer is a select in the kernel (x86's
    value for NaN, infinities and out of range): LLVM folded the conversion
    of a constant NaN or inf (here 0/0 and 1/0 of a literal 0, isnan of a
    bool tensor) to garbage, leaving the output unwritten."""
    x = np.linspace(-3, 3, 3 * BLOCK + 5, dtype=np.float32)
    zero = lo.cast(lo.isnan(lo.convert_to_tensor(x > 0)), "float32")
    outs, wants = [], []
    for dt in INTS:
        for folded, value in ((zero / 0.0, np.nan), (1.0 / zero, np.inf), (-1.0 / zero, -np.inf)):
            outs.append(lo.cast(folded, dt))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                wants.append(np.full(x.shape, value, np.float32).astype(dt))
    got, interpreted, plan = both_paths(outs)
    assert plan.launchers, "the casts must run compiled"
    for k, (g, i, w) in enumerate(zip(got, interpreted, wants)):
        # NumPy's own loop converts its last elements another way (NaN to
        # uint32: 2**31 in its vector body, 0 in its tail): the kernel gives
        # the body's value throughout
        assert_same(g, np.full_like(w, w[0]), f"compiled {INTS[k // 3]} case {k % 3}")
        assert_same(i, w, f"interpreted {INTS[k // 3]} case {k % 3}")
