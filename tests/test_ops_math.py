"""Differential tests of nan_to_num, isclose, select, saturate_cast and the
aliases of the bitwise ops against keras.ops (NumPy backend), on the
interpreter and compiled, with a check that the elementwise ones land in a
kernel."""
import numpy as np
import pytest

import lazyops as lo
from lazyops import engine
from oracle import DTYPES, K, assert_same, check, keras_call, values

F = np.array([np.nan, np.inf, -np.inf, -0.0, 1.5, -2.5, 1e30, 3.0], "float32")


def kernel_ops(t):
    """Names of the ops inside the kernels that compute `t`."""
    plan = engine.plan_of([t._value])[0]
    return {op.name.split(".", 1)[1] for k in plan.kernels for op in k.regions[0].block.ops}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [{}, {"nan": 7.0, "posinf": 1e30, "neginf": -5}])
def test_nan_to_num(dtype, kwargs):
    check("nan_to_num", values((3, 4), dtype), **kwargs)


def test_nan_to_num_float16_defaults_and_compiled():
    check("nan_to_num", F.astype("float16"))
    t = lo.nan_to_num(lo.convert_to_tensor(F), nan=2.0) * 2
    assert "nan_to_num" in kernel_ops(t)
    with lo.config.override(small_work=0, tiered=False):
        got = t.numpy()
    want = K.convert_to_numpy(K.nan_to_num(K.convert_to_tensor(F), nan=2.0)) * 2
    assert_same(got, want)


ISCLOSE_PAIRS = [("float32", "float32"), ("float16", "float16"), ("int32", "float32"),
                 ("int8", "int8"), ("bool", "float32"), ("float64", "float32"),
                 ("uint8", "int16"), ("float16", "float32")]


@pytest.mark.parametrize("a,b", ISCLOSE_PAIRS)
@pytest.mark.parametrize("kwargs", [{}, {"rtol": 0.1, "atol": 0.5, "equal_nan": True}])
def test_isclose(a, b, kwargs):
    x = values((3, 4), a)
    y = (values((3, 4), a).astype("float64") * 1.01 + 0.001).astype(b)
    y.reshape(-1)[:4] = x.reshape(-1)[:4]
    check("isclose", x, y, **kwargs)
    check("isclose", x, y[0], **kwargs)  # broadcast


def test_isclose_specials_compiled():
    y = np.array([np.nan, np.inf, np.inf, 0.0, 1.5 + 1e-6, -2.4, 1e30 * 1.000001, np.nan],
                 "float32")
    for kw in ({}, {"equal_nan": True}):
        t = lo.isclose(lo.convert_to_tensor(F), lo.convert_to_tensor(y), **kw)
        assert {"less_equal", "isfinite"} <= kernel_ops(t)
        with lo.config.override(small_work=0, tiered=False):
            got = t.numpy()
        assert_same(got, K.convert_to_numpy(K.isclose(F, y, **kw)))


def test_isclose_errors():
    with pytest.raises(TypeError, match="isclose: `rtol`"):
        lo.isclose(F, F, rtol="x")
    with pytest.raises(ValueError, match="isclose"):
        lo.isclose(F, F[:3])


@pytest.mark.parametrize("dtypes", [("float32", "float32", 0), ("int32", "float32", 0),
                                    ("int8", "int8", 5), ("float16", "float16", 0.5),
                                    ("bool", "bool", False), ("int16", "uint8", -1.5)])
def test_select(dtypes):
    a, b, default = dtypes
    x = values((3, 4), "float32", "small")
    conds = [x > 1, x < -1]
    choices = [values((3, 4), a), values((4,), b)]
    check("select", conds, choices, default,
          lazy_fn=lambda c, v, d: lo.select(c, v, d))


def test_select_broadcasts_to_every_condition_and_compiles():
    x = values((3, 4), "float32", "small")
    c = [x > 0, (x < -1)[0]]
    v = [np.float32(2.0), np.float32(-2.0)]
    check("select", c, v, 0.0, lazy_fn=lambda c, v, d: lo.select(c, v, d))
    t = lo.select([lo.convert_to_tensor(x) > 0], [lo.convert_to_tensor(x) * 3], 1.5)
    assert "where" in kernel_ops(t)
    with lo.config.override(small_work=0, tiered=False):
        got = t.numpy()
    assert_same(got, np.select([x > 0], [x * 3], 1.5).astype("float32"))


def test_select_errors():
    x = lo.convert_to_tensor(F)
    with pytest.raises(ValueError, match="same length"):
        lo.select([x > 0], [x, x])
    with pytest.raises(TypeError, match=r"condlist\[0\] must be boolean"):
        lo.select([x], [x])
    with pytest.raises(ValueError, match="empty"):
        lo.select([], [])


@pytest.mark.parametrize("src", DTYPES)
def test_saturate_cast(src):
    x = np.concatenate([values((8,), src), values((8,), src, "finite", 1) * 100]
                       if src not in ("bool",) else [values((16,), src)])
    if src.startswith("float"):
        x = np.concatenate([x, np.array([1e9, -1e9, 255.5, -0.5], src)])
    for dst in ("uint8", "int8", "int32", "float16", "bool", "uint16"):
        check("saturate_cast", x.astype(src), dst)


def test_saturate_cast_compiled():
    x = np.array([-1.0, 256.0, 254.7, np.inf, -np.inf, 3.0, 1e10, 0.5], "float32")
    t = lo.saturate_cast(lo.convert_to_tensor(x), "uint8")
    with lo.config.override(small_work=0, tiered=False):
        got = t.numpy()
    assert_same(got, K.convert_to_numpy(K.saturate_cast(x, "uint8")))


@pytest.mark.parametrize("alias,op", [("conj", "conjugate"), ("bitwise_not", "bitwise_invert"),
                                      ("bitwise_left_shift", "left_shift"),
                                      ("bitwise_right_shift", "right_shift")])
def test_aliases(alias, op):
    x = values((3, 4), "int16")
    args = (x,) if op in ("conjugate", "bitwise_invert") else (x, np.int16(3))
    check(alias, *args)
    np.testing.assert_array_equal(getattr(lo, alias)(*args).numpy(),
                                  getattr(lo, op)(*args).numpy())


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int32"])
def test_shift_by_python_int(dtype):
    x = values((3, 4), dtype)
    for n in (0, 1, 3):
        check("left_shift", x, n)
        check("right_shift", x, n)


def test_bitwise_rejects_floats_at_the_call():
    with pytest.raises(TypeError, match="bitwise_and takes integer or boolean"):
        lo.bitwise_and(F, F)
    with pytest.raises(TypeError, match="left_shift"):
        lo.left_shift(np.arange(3, dtype="int32"), 1.5)
    expected, err = keras_call("bitwise_and", F, F)
    assert err is not None
