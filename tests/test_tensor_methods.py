"""What a NumPy user reaches for on a tensor: array methods (thin aliases of
the registered functions, with NumPy's method signatures, checked against
`ndarray`'s methods and keras.ops dtypes), `dtype` comparisons, formatting
and display, pickling, writable results and what writing into them means,
one leaf per input array, and the errors a typo or a ragged list gets."""
import copy
import pickle

import numpy as np
import pytest

import lazyops as lo
from lazyops import engine, operators
from oracle import K, values

X = values((2, 3), "float32", "finite", 3)
B = X > 0


# (method, positional arguments, keyword arguments, input)
METHODS = [
    ("sum", (), {}, X), ("sum", (0,), {}, X), ("sum", (), {"axis": 1, "keepdims": True}, X),
    ("mean", (1,), {}, X), ("max", (0,), {"keepdims": True}, X), ("min", (), {}, X),
    ("prod", (1,), {}, X), ("std", (0,), {}, X), ("var", (), {"keepdims": True}, X),
    ("argmax", (), {}, X), ("argmax", (1,), {}, X), ("argmin", (0,), {}, X),
    ("any", (0,), {}, B), ("all", (), {}, B), ("cumsum", (), {}, X), ("cumsum", (1,), {}, X),
    ("cumprod", (0,), {}, X), ("argsort", (), {}, X), ("squeeze", (), {}, X[None]),
    ("squeeze", (0,), {}, X[None]), ("astype", ("float16",), {}, X),
    ("astype", (np.int32,), {}, X), ("round", (), {}, X * 10), ("round", (1,), {}, X * 10),
    ("clip", (-0.5, 0.5), {}, X), ("clip", (), {"min": -0.5, "max": 0.5}, X),
    ("ravel", (), {}, X), ("flatten", (), {}, X), ("copy", (), {}, X), ("dot", (X.T,), {}, X),
    ("swapaxes", (0, 1), {}, X), ("diagonal", (), {}, X), ("trace", (), {}, X),
    ("repeat", (2,), {"axis": 0}, X), ("take", ([0, 2],), {"axis": 1}, X),
    ("reshape", (3, 2), {}, X), ("reshape", ((3, 2),), {}, X), ("reshape", ([-1],), {}, X),
    ("transpose", (), {}, X), ("transpose", (1, 0), {}, X), ("transpose", ((1, 0),), {}, X),
]


def _keras_dtype(name, x, args, kwargs):
    """The dtype of the keras.ops function the method aliases, on the same arguments."""
    if name in operators._METHODS:
        f, positional = operators._METHODS[name]
        kw = {operators._KEYWORDS.get(name, {}).get(k, k): v for k, v in kwargs.items()}
        out = getattr(K, f.__name__)(x, **dict(zip(positional, args)), **kw)
    else:  # reshape, transpose, flatten: views keep the dtype
        out = x
    return K.convert_to_numpy(out).dtype


@pytest.mark.parametrize("name,args,kwargs,x", METHODS,
                         ids=[f"{m[0]}{m[1]}{m[2]}" for m in METHODS])
def test_methods_are_numpys_and_stay_lazy(name, args, kwargs, x):
    t = lo.convert_to_tensor(x)
    got = getattr(t, name)(*args, **kwargs)
    assert isinstance(got, lo.Tensor) and not got.is_materialized or name == "copy"
    assert got is not t  # a copy or view is a new value
    want = getattr(x, name)(*args, **kwargs)
    a = got.numpy()
    assert a.shape == np.shape(want)
    assert a.dtype == _keras_dtype(name, x, args, kwargs)
    np.testing.assert_allclose(a, np.asarray(want).astype(a.dtype), rtol=2e-6, atol=1e-6)


def test_transpose_property_item_and_tolist():
    t = lo.exp(lo.convert_to_tensor(X))
    np.testing.assert_allclose(t.T.numpy(), np.exp(X).T, rtol=1e-6)
    s = lo.sum(t)
    assert isinstance(s.item(), float) and s.item() == pytest.approx(np.exp(X).sum(), 1e-6)
    assert t.item(1) == pytest.approx(np.exp(X).item(1), 1e-6)
    assert t.tolist() == np.exp(X).tolist() or np.allclose(t.tolist(), np.exp(X).tolist())
    with pytest.raises(ValueError):
        t.item()  # as ndarray.item: only size 1 without an index


def test_methods_refuse_numpys_other_positional_arguments():
    t = lo.convert_to_tensor(X)
    with pytest.raises(TypeError, match=r"sum\(\) takes at most 1 positional"):
        t.sum(0, None)  # a.sum(axis, dtype): dtype is not recorded lazily
    with pytest.raises(TypeError):
        t.sum(axis=0, out=np.empty(3))


# ---------------------------------------------------------------- dtype

@pytest.mark.parametrize("dtype", ["float32", "int8", "bool", "float16", "bfloat16"])
def test_dtype_equals_its_numpy_spellings(dtype):
    t = lo.convert_to_tensor(np.zeros(2, dtype)) + lo.convert_to_tensor(np.zeros(2, dtype))
    d = t.dtype
    npd = np.dtype(dtype)
    assert d == dtype and d == npd and d == npd.type and npd == d and npd.type == d
    assert not (d != npd) and d != np.complex64 and d != "float64"
    assert np.dtype(d) == npd and d.numpy == npd and d.name == dtype
    assert d.itemsize == npd.itemsize and d.kind == npd.kind and d.type is npd.type
    assert hash(d) == hash(dtype) and {dtype: 1}[d] == 1
    assert isinstance(d, str) and d != None  # noqa: E711
    assert type(lo.dtype(t)) is str and lo.dtype(t) == dtype


# ---------------------------------------------------------------- display

def test_format_forces_size_one_tensors():
    loss = lo.mean(lo.square(lo.convert_to_tensor(X)))
    assert f"{loss:.4f}" == f"{np.mean(np.square(X)):.4f}"
    assert f"{lo.reshape(loss, (1, 1)):>10.2e}" == f"{float(np.mean(np.square(X))):>10.2e}"
    lazy = lo.exp(lo.convert_to_tensor(X))
    assert f"{lazy}" == repr(lazy) and not lazy.is_materialized  # no spec: no force
    with pytest.raises(TypeError, match=r"\(2, 3\).*only size-1"):
        f"{lazy:.2f}"


def test_repr_says_lazy_and_how_to_see_values():
    t = lo.exp(lo.convert_to_tensor(X))
    r = repr(t)
    assert "<lazy 2x3 float32" in r and "lazy.exp" in r and "test_tensor_methods.py" in r
    assert ".numpy()" in r and "lazyops.explain" in r
    assert not t.is_materialized


def test_jupyter_table_lazy_then_values():
    t = lo.exp(lo.convert_to_tensor(X))
    h = t._repr_html_()
    assert "<table" in h and "(2, 3)" in h and "float32" in h and "lazy" in h
    assert "test_tensor_methods.py" in h and "lazy.exp" in h
    assert not t.is_materialized
    t.numpy()
    h = t._repr_html_()
    assert "materialized" in h and "<pre>" in h
    assert str(np.exp(X).flat[0])[:4] in h  # the values


# ---------------------------------------------------------------- pickle, copy

@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int64", "bool"])
@pytest.mark.parametrize("shape", [(), (2, 3)])
def test_pickle_and_deepcopy_are_the_value(dtype, shape):
    x = values(shape, "float32", "finite").astype(dtype)
    t = lo.abs(lo.convert_to_tensor(x)) if dtype != "bool" else lo.logical_not(
        lo.convert_to_tensor(x))
    for back in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert isinstance(back, lo.Tensor) and back.is_materialized
        assert back.shape == t.shape and back.dtype == t.dtype
        np.testing.assert_array_equal(back.numpy(), t.numpy())
        assert not np.shares_memory(back.numpy(), t.numpy())
        assert back.numpy().flags.writeable
        np.testing.assert_array_equal((back + back).numpy(), (t + t).numpy())


def test_copies_get_their_own_buffer():
    t = lo.exp(lo.convert_to_tensor(X))
    for c in (t.copy(), copy.copy(t), lo.copy(t)):
        assert c is not t and not c.is_materialized
    c = t.copy()
    c.numpy()[0, 0] = -1.0
    assert t.numpy()[0, 0] == pytest.approx(np.exp(X[0, 0]))
    d = t.copy()  # of a materialized tensor
    d.numpy()[0, 0] = -2.0
    assert t.numpy()[0, 0] != -2.0


# ---------------------------------------------------------------- writable results

def test_results_are_writable_and_shared_with_the_tensor():
    t = lo.exp(lo.convert_to_tensor(X))
    u = lo.sin(lo.convert_to_tensor(X))
    for get in (lambda: t.numpy(), lambda: np.asarray(t), lambda: lo.convert_to_numpy(t),
                lambda: lo.evaluate(t, u)[0]):
        a = get()
        assert a.flags.writeable and a is t.numpy()
    later = t * 2.0  # recorded before the write, forced after it: reads the new value
    t.numpy()[0, 0] = 10.0
    assert (t * 1.0).numpy()[0, 0] == 10.0 and later.numpy()[0, 0] == 20.0
    own = lo.convert_to_tensor([[1.0, 2.0]])
    assert own.numpy().flags.writeable


def test_results_never_share_read_only_or_internal_memory():
    frozen = X.copy()
    frozen.flags.writeable = False
    r = lo.reshape(frozen, (3, 2)).numpy()  # a view of read-only memory: copied
    assert r.flags.writeable and not np.shares_memory(r, frozen)
    view = lo.reshape(X, (3, 2)).numpy()  # a view of a writable input stays one, as in NumPy
    assert np.shares_memory(view, X)
    for t in (lo.full((), 2.0), lo.zeros(()), lo.add(lo.zeros(3), 2.5)):
        a = t.numpy()
        a[...] = 7  # constants and shared scalar leaves are not handed out
    assert lo.full((), 2.0).numpy() == 2.0 and lo.zeros(()).numpy() == 0
    np.testing.assert_array_equal(lo.add(lo.zeros(3), 2.5).numpy(), [2.5] * 3)
    x = lo.convert_to_tensor(X)
    a, b = lo.evaluate(lo.exp(x), lo.exp(x))  # one value after CSE, two buffers
    assert not np.shares_memory(a, b)


def test_writing_into_a_result_is_caught_by_check_inputs():
    with lo.config.override(check_inputs=True):
        t = lo.exp(lo.convert_to_tensor(X))
        pending = t + 1.0  # recorded before the array is handed out
        a = t.numpy()
        ok = (t * 2.0).numpy()  # no write yet: fine
        np.testing.assert_allclose(ok, np.exp(X) * 2, rtol=1e-6)
        a[0, 0] = 0.0
        with pytest.raises(RuntimeError, match=r"input 0 .*float32 array of shape \(2, 3\), a "
                                               r"forced tensor's value \(handed out at "
                                               r"test_tensor_methods.py.*copy"):
            pending.numpy()
        assert not pending.is_materialized
    np.testing.assert_allclose(pending.numpy()[0, 0], 1.0)  # check off: the new value


def test_writable_results_read_by_kernels_compile_nothing_new():
    n = 50_000
    x = np.linspace(-1, 1, n, dtype=np.float32)
    with lo.config.override(small_work=0):
        def f(a):
            return lo.sin(a) * 2.0 + 1.0
        f(x).numpy()  # compiled on a user's (writable) array
        y = lo.exp(lo.convert_to_tensor(x))
        ya = y.numpy()
        assert ya.flags.writeable
        builds = lambda: lo.cache_info()["compiles"] + lo.cache_info()["disk_loads"]  # noqa: E731
        before = builds()
        got = f(y).numpy()  # the same kernel on a forced result
        np.testing.assert_allclose(got, np.sin(np.exp(x)) * 2 + 1, rtol=2e-6, atol=1e-6)
        ya[:10] = 0.0  # written into: the kernel reads the new values
        got = f(y).numpy()
        np.testing.assert_allclose(got[:10], 1.0, rtol=1e-6)
        np.testing.assert_allclose(got[10:], np.sin(np.exp(x[10:])) * 2 + 1, rtol=2e-6,
                                   atol=1e-6)
        assert builds() == before


# ---------------------------------------------------------------- one leaf per input

def test_the_same_array_is_one_graph_input_and_cse_merges_its_uses():
    x = values((16, 8), "float32", "finite", 5)
    y = lo.subtract(x, lo.mean(x))
    plan, _, leaves = engine.plan_of([y._value])
    assert len(leaves) == 1 and plan.recorded.count("lazy.mean") == 1
    z = lo.add(lo.mean(x), lo.mean(x))  # two recorded means over one argument
    plan, _, leaves = engine.plan_of([z._value])
    assert len(leaves) == 1
    assert plan.recorded.count("lazy.mean") == 2 and plan.optimized.count("lazy.mean") == 1
    np.testing.assert_allclose(z.numpy(), 2 * x.mean(), rtol=1e-5)


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("call", [
    lambda: lo.cast(X, "flaot32"), lambda: lo.convert_to_tensor(X).astype("flaot32"),
    lambda: lo.zeros(3, dtype="flaot32"), lambda: lo.convert_to_tensor([1], dtype="flaot32"),
    lambda: lo.arange(3, dtype="flaot32"), lambda: lo.full((2,), 1, "flaot32"),
])
def test_dtype_typos_suggest_the_closest_name(call):
    with pytest.raises(TypeError, match=r"'flaot32'.*did you mean 'float32'\?"):
        call()


def test_ragged_lists_and_strings_name_the_op_and_element():
    with pytest.raises(ValueError, match=r"convert_to_tensor: ragged .*element \[1\] has "
                                         r"length 1, but element \[0\] has shape \(2,\)"):
        lo.convert_to_tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match=r"add: argument `x1` .*ragged.*element \[1\]"):
        lo.add([[1, 2], [3]], 1)
    with pytest.raises(ValueError, match=r"element \[0\]\[1\] is a scalar"):
        lo.convert_to_tensor([[[1], 2]])
    with pytest.raises(TypeError, match=r"multiply: argument `x2` .*element \[1\] 'a' of "
                                        r"type str"):
        lo.multiply(2, [1, "a"])
    with pytest.raises(TypeError, match=r"element \[1\]\[0\] None"):
        lo.convert_to_tensor([[1.0], [None]], dtype="float32")


@pytest.mark.parametrize("setting", sorted(lo.config.SETTINGS))
def test_config_set_checks_every_setting(setting):
    before = dict(lo.config.SETTINGS)
    for bad in ("nonsense", None, -1):
        with pytest.raises(ValueError, match=f"config.set: {setting}="):
            lo.config.set(**{setting: bad})
    assert lo.config.SETTINGS == before
