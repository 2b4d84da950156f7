"""NumPy's dispatch protocols on lazy tensors (`__array_ufunc__`,
`__array_function__`): NumPy's own functions called on tensors record the
lazyops function of their name and stay lazy; values and shapes are NumPy's
on the forced arrays, dtypes Keras's (the keras.ops call of the same name).
What has no lazy form runs NumPy on the forced arrays, forced once."""
import numpy as np
import pytest

import lazyops as lo
from lazyops import engine, protocols
from oracle import K, assert_same, values

X = values((3, 4), "float32", "unit", 1)
Y = values((3, 4), "float32", "unit", 2)


def _ufuncs(nin):
    """Every NumPy ufunc of `nin` inputs and one output that lazyops records."""
    found = [u for u in vars(np).values() if isinstance(u, np.ufunc) and u.nin == nin
             and u.nout == 1 and protocols._lazy(u.__name__) is not None]
    return sorted(set(found), key=lambda u: u.__name__)


def _inputs(ufunc, n):
    """float32 inputs where the ufunc takes them, else int32 (bitwise, shifts)."""
    if "f" * n + "->" in "".join(t[:n] + "->" for t in ufunc.types):
        return [X, Y][:n], "float32"
    return [values((3, 4), "int32", "expo", k) for k in range(n)], "int32"


def _compare(got, np_value, keras_value, what):
    """Values and shape as NumPy's, dtype as Keras's."""
    assert isinstance(got, lo.Tensor) and not got.is_materialized, what
    a = got.numpy()
    expected = np.asarray(np_value)
    assert a.shape == expected.shape, what
    assert a.dtype == np.asarray(keras_value).dtype, what
    if a.dtype.kind in "fc":
        np.testing.assert_allclose(a, expected.astype(a.dtype), rtol=2e-6, atol=1e-6,
                                   equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(a, expected.astype(a.dtype), err_msg=what)


def test_the_tables_cover_numpys_common_ufuncs():
    names = {u.__name__ for u in _ufuncs(1) + _ufuncs(2)}
    assert {"exp", "log", "sqrt", "sin", "absolute", "negative", "rint", "invert", "add",
            "subtract", "multiply", "divide", "power", "remainder", "maximum", "minimum",
            "arctan2", "equal", "less", "logical_and", "bitwise_and", "matmul"} <= names


@pytest.mark.parametrize("ufunc", _ufuncs(1), ids=lambda u: u.__name__)
def test_unary_ufuncs_stay_lazy(ufunc):
    (x,), _ = _inputs(ufunc, 1)
    kfn = getattr(K, protocols._lazy(ufunc.__name__).__name__)
    with np.errstate(all="ignore"):
        _compare(ufunc(lo.convert_to_tensor(x)), ufunc(x), kfn(x), ufunc.__name__)


@pytest.mark.parametrize("ufunc", _ufuncs(2), ids=lambda u: u.__name__)
@pytest.mark.parametrize("kinds", ["tt", "ta", "at", "ts"])
def test_binary_ufuncs_stay_lazy(ufunc, kinds):
    (x, y), dtype = _inputs(ufunc, 2)
    if ufunc is np.matmul:
        y = y.T
    if kinds == "ts":  # a Python scalar, weak as in Keras
        y = 2 if dtype == "int32" else 0.5
        if ufunc is np.matmul:  # refused, as by NumPy
            with pytest.raises(ValueError, match="matmul"):
                ufunc(lo.convert_to_tensor(x), y)
            return
    lazy = {"t": lo.convert_to_tensor, "a": lambda a: a, "s": lambda a: a}
    a, b = lazy[kinds[0]](x), lazy[kinds[1]](y)
    kfn = getattr(K, protocols._lazy(ufunc.__name__).__name__)
    with np.errstate(all="ignore"):
        _compare(ufunc(a, b), ufunc(x, y), kfn(x, y), f"{ufunc.__name__} {kinds}")


def test_ndarray_operators_on_the_left_go_through_the_ufunc():
    t = lo.convert_to_tensor(Y)
    for got, want in [(X + t, X + Y), (X < t, X < Y), (X @ t.T, X @ Y.T), (-X * t, -X * Y)]:
        _compare(got, want, want, "operator")


# (name, call): the call runs with `m` as `np` on tensors (lazy), as `np` on
# arrays (the values) and as `keras.ops` on arrays (the dtype)
FUNCTIONS = [
    ("sum", lambda m, a, b: m.sum(a, axis=0)),
    ("sum keepdims", lambda m, a, b: m.sum(a, axis=1, keepdims=True)),
    ("mean", lambda m, a, b: m.mean(a)),
    ("max", lambda m, a, b: m.max(a, 1)),
    ("std", lambda m, a, b: m.std(a, axis=0)),
    ("var", lambda m, a, b: m.var(a)),
    ("prod", lambda m, a, b: m.prod(a, axis=1)),
    ("argmax", lambda m, a, b: m.argmax(a, axis=1)),
    ("any", lambda m, a, b: m.any(m.greater(a, 0.5), axis=0)),
    ("cumsum", lambda m, a, b: m.cumsum(a, axis=1)),
    ("concatenate", lambda m, a, b: m.concatenate([a, b], axis=1)),
    ("stack", lambda m, a, b: m.stack([a, b])),
    ("where", lambda m, a, b: m.where(m.greater(a, b), a, b)),
    ("reshape", lambda m, a, b: m.reshape(a, (2, 6))),
    ("reshape -1", lambda m, a, b: m.reshape(a, -1)),
    ("transpose", lambda m, a, b: m.transpose(a)),
    ("transpose axes", lambda m, a, b: m.transpose(a[None], (2, 0, 1))),
    ("clip", lambda m, a, b: m.clip(a, -0.5, 0.5)),
    ("expand_dims", lambda m, a, b: m.expand_dims(a, 1)),
    ("squeeze", lambda m, a, b: m.squeeze(m.expand_dims(a, 0))),
    ("round", lambda m, a, b: m.round(a, 1)),
    ("pad", lambda m, a, b: m.pad(a, 1)),
    ("einsum", lambda m, a, b: m.einsum("ij,ij->i", a, b)),
    ("dot", lambda m, a, b: m.dot(a, m.transpose(b))),
    ("tile", lambda m, a, b: m.tile(a, (2, 1))),
    ("take", lambda m, a, b: m.take(a, [0, 2], axis=1)),
    ("isclose", lambda m, a, b: m.isclose(a, b)),
    ("sort", lambda m, a, b: m.sort(a, axis=0)),
    ("diagonal", lambda m, a, b: m.diagonal(a)),
    ("flip", lambda m, a, b: m.flip(a, 1)),
    ("moveaxis", lambda m, a, b: m.moveaxis(a, 0, 1)),
]


@pytest.mark.parametrize("name,call", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_numpy_functions_stay_lazy(name, call):
    got = call(np, lo.convert_to_tensor(X), lo.convert_to_tensor(Y))
    _compare(got, call(np, X, Y), K.convert_to_numpy(call(K, X, Y)), name)


def test_function_keywords_by_numpys_names():
    t = lo.convert_to_tensor(X)
    _compare(np.clip(t, min=-0.5, max=0.5), np.clip(X, -0.5, 0.5), X, "clip min/max")
    _compare(np.pad(t, 1, constant_values=2.0), np.pad(X, 1, constant_values=2.0), X, "pad")
    _compare(np.where(X > 0, t, -1.0), np.where(X > 0, X, -1.0), X, "where, array condition")
    assert np.shape(t) == (3, 4) and np.ndim(t) == 2
    _compare(np.linalg.norm(t, axis=1), np.linalg.norm(X, axis=1), K.norm(X, axis=1),
             "linalg.norm")


def test_protocol_calls_carry_the_users_line():
    t = lo.convert_to_tensor(X)
    for r in (np.exp(t), X + t, np.sum(t, axis=0), np.float32(2) * t):
        assert "test_array_protocols.py" in repr(r), repr(r)


def test_protocol_calls_fuse_into_one_kernel():
    t = lo.convert_to_tensor(X)
    y = np.sum(np.exp(t) * 2.0 + np.sin(t), axis=1)
    plan, _, _ = engine.plan_of([y._value])
    assert len(plan.kernels) == 1
    np.testing.assert_allclose(y.numpy(), np.sum(np.exp(X) * 2 + np.sin(X), axis=1), rtol=1e-6)


# calls without a lazy form: (call, what the debug note names)
FALLBACKS = [
    (lambda a, b: np.sum(a, axis=0, dtype=np.float64), "np.sum: no lazy form (argument `dtype`)"),
    (lambda a, b: np.add.reduce(a, axis=1), "np.add.reduce: no lazy form (ufunc method `reduce`)"),
    (lambda a, b: np.add.accumulate(a), "np.add.accumulate"),
    (lambda a, b: np.cumsum(a, out=np.empty(12, np.float32)), "argument `out`"),
    (lambda a, b: np.std(a, ddof=1), "argument `ddof`"),
    (lambda a, b: np.ravel(a, order="F"), "argument `order`"),
    (lambda a, b: np.add(a, b, out=np.empty((3, 4), np.float32)), "np.add: no lazy form (argument `out`)"),
    (lambda a, b: np.array_equal(a, b), "np.array_equal: no lazy form (no lazyops function)"),
    (lambda a, b: np.unique(np.concatenate([a, b])), "np.unique"),
    (lambda a, b: np.fft.fft(a), "np.fft"),
    (lambda a, b: np.divmod(a, b), "np.divmod"),
]


@pytest.mark.parametrize("case", range(len(FALLBACKS)))
def test_fallback_forces_once_and_runs_numpy(case, capsys):
    call, note = FALLBACKS[case]
    t, u = lo.sin(lo.convert_to_tensor(X)), lo.cos(lo.convert_to_tensor(Y))
    forces = engine.force_count()
    with lo.config.override(debug=0):
        got = call(t, u)
    assert engine.force_count() == forces + 1  # both tensors in one graph
    assert capsys.readouterr().err == ""
    want = call(np.sin(X), np.cos(Y))
    for g, w in zip(got if isinstance(got, tuple) else [got],
                    want if isinstance(want, tuple) else [want]):
        assert not isinstance(g, lo.Tensor)
        np.testing.assert_allclose(g, w, rtol=1e-6)
    with lo.config.override(debug=1):
        call(lo.sin(lo.convert_to_tensor(X)), u)
    err = capsys.readouterr().err
    assert note in err and "forced" in err and "ran NumPy" in err, err


def test_in_place_ndarray_operator_writes_the_array():
    a = X.copy()
    a += lo.convert_to_tensor(Y)  # np.add(a, t, out=(a,)): NumPy's, on the forced value
    assert type(a) is np.ndarray
    np.testing.assert_allclose(a, X + Y, rtol=1e-6)


def test_foreign_array_types_get_notimplemented():
    class Other:
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            return "other"

        def __array_function__(self, func, types, args, kwargs):
            return "other"

    t = lo.convert_to_tensor(X)
    assert np.add(t, Other()) == "other"
    assert np.concatenate([t, Other()]) == "other"


def test_array_conversion_keeps_numpys_copy_and_dtype_arguments():
    t = lo.exp(lo.convert_to_tensor(X))
    a = np.asarray(t)
    assert a is t.numpy() and a.flags.writeable
    assert not np.shares_memory(np.array(t), a)  # np.array copies
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
