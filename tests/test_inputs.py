"""User arrays are referenced, not copied: strided, transposed and
Fortran-ordered inputs are read through their strides by compiled kernels,
64-bit inputs are cast inside the consuming kernel, and `check_inputs`
catches an input written to between recording and forcing."""
import numpy as np
import pytest

import lazyops as lo
from lazyops.engine import plan_of

N = 3 * 8192 + 5  # several parallel blocks


def compiled():
    return lo.config.override(small_work=0)


def test_convert_to_tensor_references_the_array():
    x = np.arange(12, dtype="float32").reshape(3, 4)
    t = lo.convert_to_tensor(x)
    assert t.is_materialized and t._value.data is x
    assert x.flags.writeable  # the user's array is left as it was


def test_writes_before_forcing_change_the_result():
    x = np.ones(N, "float32")
    y = lo.multiply(x, 3.0)
    x[N // 2] = 5.0
    with compiled():
        r = y.numpy()
    assert r[N // 2] == 15.0 and r[0] == 3.0
    x[0] = 7.0  # after forcing: the result stays
    assert y.numpy()[0] == 3.0


def test_copy_true_snapshots():
    x = np.ones(5, "float32")
    t = lo.convert_to_tensor(x, copy=True)
    x[:] = 2.0
    np.testing.assert_array_equal((t + 1).numpy(), np.full(5, 2.0, "float32"))


def _layouts():
    base = np.random.default_rng(0).standard_normal((260, 200)).astype("float32")
    base[0, 0], base[128, 100], base[-1, -1] = np.nan, np.inf, -np.inf
    return {
        "c": base,
        "transposed": base.T,
        "fortran": np.asfortranarray(base),
        "strided": base[::2, 1::3],
        "reversed": base[::-1],
        "flat-strided": base.reshape(-1)[::3],
    }


@pytest.mark.parametrize("layout", list(_layouts()))
def test_strided_inputs_on_the_compiled_path(layout):
    a = _layouts()[layout]
    b = np.ascontiguousarray(a)[..., ::-1].copy()  # a C-ordered partner
    with compiled():
        got = lo.evaluate(lo.add(lo.multiply(a, 2.0), b), lo.max(a), lo.sum(lo.multiply(a, b)))
    with np.errstate(all="ignore"):
        want = [a * np.float32(2.0) + b, np.max(a), np.sum(a.astype("float64") * b)]
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_allclose(got[2], want[2], rtol=1e-5)
    assert [g.dtype for g in got] == ["float32"] * 3


def test_float64_input_is_cast_inside_the_kernel():
    a = np.linspace(-3, 3, N)  # float64: Keras converts it to float32
    t = lo.convert_to_tensor(a)
    assert t.dtype == "float32" and not t.is_materialized
    s = lo.sum(lo.exp(t))
    plan, _, leaves = plan_of([s._value])
    assert len(plan.kernels) == 1 and [v.data is a for v in leaves] == [True]
    with compiled():
        np.testing.assert_allclose(s.numpy(), np.sum(np.exp(a.astype("float32"))), rtol=1e-5)
    assert lo.convert_to_tensor(np.arange(4)).dtype == "int32"
    assert lo.convert_to_tensor(a, dtype="float64").is_materialized


def test_non_native_byte_order_is_copied():
    a = np.arange(6, dtype=">f4")
    t = lo.convert_to_tensor(a)
    assert t.dtype == "float32" and t._value.data.dtype.isnative
    np.testing.assert_array_equal((t * 2).numpy(), np.arange(6, dtype="float32") * 2)


class OnlyInterface:
    def __init__(self, a):
        self.__array_interface__ = a.__array_interface__
        self.keep = a


class OnlyDLPack:
    def __init__(self, a):
        self.a = a

    def __dlpack__(self, **kw):
        return self.a.__dlpack__(**kw)

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


@pytest.mark.parametrize("wrap", [OnlyInterface, OnlyDLPack, memoryview])
def test_array_protocols_are_referenced(wrap):
    a = np.arange(8, dtype="float32")
    t = lo.convert_to_tensor(wrap(a))
    a[3] = 100.0
    assert t.shape == (8,) and t.dtype == "float32"
    assert t.numpy()[3] == 100.0


def test_check_inputs_names_the_modified_input():
    x, y = np.ones(4, "float32"), np.ones(4, "float32")
    with lo.config.override(check_inputs=True):
        ok = lo.add(x, y)
        np.testing.assert_array_equal(ok.numpy(), np.full(4, 2.0, "float32"))
        bad = lo.add(x, y)
        y[1] = 0.0
        with pytest.raises(RuntimeError, match=r"input 1 .*float32 array of shape \(4,\).*"
                                               r"test_inputs.py.*copy=True"):
            bad.numpy()
        assert not bad.is_materialized  # nothing half-built: it can be forced again
        y[1] = 1.0
        np.testing.assert_array_equal(bad.numpy(), np.full(4, 2.0, "float32"))


def test_small_inputs_written_between_calls_give_each_call_s_values():
    """The leaves of recent small arrays outlive their graphs (a pipeline
    called again finds them), so each call must still read the array as it
    is when forced, with and without `check_inputs`; large arrays and
    checked inputs are not kept, and at most `_RECENT.maxlen` are."""
    from lazyops import inputs
    x = np.arange(1000, dtype="float32")
    for check in (False, True):
        with lo.config.override(check_inputs=check):
            for k in range(3):
                x[:] = k
                np.testing.assert_array_equal((lo.convert_to_tensor(x) * 2 + x).numpy(),
                                              np.full(1000, 3 * k, "float32"))
    big = np.ones(inputs._SMALL // 4 + 1, "float32")
    (lo.convert_to_tensor(big) + 1).numpy()
    assert all(v.data is not big for v in inputs._RECENT)
    for _ in range(2 * inputs._RECENT.maxlen):
        (lo.convert_to_tensor(np.ones(3, "float32")) + 1).numpy()
    assert len(inputs._RECENT) == inputs._RECENT.maxlen
