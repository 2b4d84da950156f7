"""lazyops.function: trace once per signature, replay on new arrays."""
import ml_dtypes
import numpy as np
import pytest

import lazyops as lo

rng = np.random.default_rng(3)


def _chain(x, y):
    return (x * 2 + y) * 0.5 - x


def test_replays_match_direct_calls_and_trace_once():
    f = lo.function(_chain)
    for _ in range(3):
        x, y = rng.random(100).astype("float32"), rng.random(100).astype("float32")
        got = f(x, y)
        assert isinstance(got, np.ndarray) and got.dtype == np.float32
        np.testing.assert_array_equal(got, _chain(lo.convert_to_tensor(x), y).numpy())
    assert len(f.traces) == 1
    f(rng.random(7).astype("float32"), rng.random(7).astype("float32"))  # a new shape
    f(rng.random(7), rng.random(7))  # float64 arrays: converted to float32 as ops do
    assert len(f.traces) == 3
    assert f(np.ones(7), np.ones(7)).dtype == np.float32


def test_structures_reductions_and_the_compiled_path():
    @lo.function
    def stats(x):
        m = lo.max(x, axis=1, keepdims=True)
        e = lo.exp(x - m)
        return {"softmax": e / lo.sum(e, axis=1, keepdims=True), "max": lo.squeeze(m, 1)}

    x = rng.standard_normal((64, 1000)).astype("float32")
    with lo.config.override(small_work=0):
        out = stats(x)
        again = stats(x * 2)
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(out["softmax"], e / e.sum(1, keepdims=True), rtol=1e-6)
    np.testing.assert_array_equal(out["max"], x.max(1))
    np.testing.assert_array_equal(again["max"], (x * 2).max(1))
    pair = lo.function(lambda a: [a + 1, lo.sum(a)])(np.arange(4, dtype="int32"))
    assert isinstance(pair, list) and pair[1] == 6 and pair[1].dtype == np.int32


def test_static_arguments_are_part_of_the_signature():
    f = lo.function(lambda x, k, mode="add": x + k if mode == "add" else x * k)
    x = np.arange(3, dtype="float32")
    np.testing.assert_array_equal(f(x, 2.5), x + 2.5)
    np.testing.assert_array_equal(f(x, 3.0), x + 3.0)
    np.testing.assert_array_equal(f(x, 3.0, mode="mul"), x * 3.0)
    assert len(f.traces) == 3
    with pytest.raises(TypeError, match="neither an array nor hashable"):
        f(x, [1.0, 2.0])


def test_aliased_inputs_trace_apart():
    f = lo.function(lambda a, b: a - b)
    x, y = np.arange(4.0, dtype="float32"), np.ones(4, "float32")
    np.testing.assert_array_equal(f(x, x), np.zeros(4, "float32"))
    np.testing.assert_array_equal(f(x, y), x - 1)
    assert len(f.traces) == 2


def test_identity_constants_and_tensors_as_arguments():
    w = lo.convert_to_tensor(np.full(3, 10.0, "float32"))
    ident = lo.function(lambda a: a)
    x = np.arange(3.0, dtype="float32")
    np.testing.assert_array_equal(ident(x), x)
    np.testing.assert_array_equal(ident(x + 1), x + 1)  # the new input, not the traced one
    scaled = lo.function(lambda a: a * w)  # w: a constant of the trace
    np.testing.assert_array_equal(scaled(x), x * 10)
    t = lo.convert_to_tensor(np.arange(3), dtype="float64")
    assert scaled(t).dtype == np.float32 and lo.function(lambda a: a)(t).dtype == np.float64


def test_forcing_while_tracing_is_refused():
    def data_dependent(x):
        if lo.sum(x) > 0:  # Python control flow on a traced value
            return x
        return -x
    with pytest.raises(RuntimeError, match="forced a tensor while being traced.*where"):
        lo.function(data_dependent)(np.ones(3, "float32"))
    with pytest.raises(TypeError, match="must return a tensor"):
        lo.function(lambda x: 3)(np.ones(3))
    with pytest.raises(TypeError, match="expected a callable"):
        lo.function(3)


def test_argument_values_are_never_constants_of_the_trace():
    """What reads an argument's values while `f` is traced gets no value to
    keep: a predicate picks its branch when each call runs, a copy copies
    each call's array, and what needs a Python value (a length, a loop
    bound) is refused as a force is."""
    x = np.arange(5, dtype="float32")
    pick = lo.function(lambda p, x: lo.cond(p, lambda: x + 1, lambda: x - 1))
    np.testing.assert_array_equal(pick(np.array(True), x), x + 1)
    np.testing.assert_array_equal(pick(np.array(False), x), x - 1)
    double = lo.function(lambda x: lo.copy(x) * 2)
    np.testing.assert_array_equal(double(x), x * 2)
    np.testing.assert_array_equal(double(x + 10), (x + 10) * 2)
    for f, args in ((lo.bincount, (np.array([1, 2, 2], "int32"),)),
                    (lambda n, h: lo.fori_loop(0, n, lambda i, c: c + 1.0, h),
                     (np.array(3, "int32"), x))):
        with pytest.raises(RuntimeError, match="forced a tensor while being traced.*static"):
            lo.function(f)(*args)


def test_array_arguments_are_taken_as_the_arrays_themselves():
    """A call equals `f` called on the arrays: an op that keeps 64 bits for a
    NumPy array keeps them, `convert_to_tensor` converts as it converts the
    array, and an explicit float64 conversion loses nothing."""
    x = rng.standard_normal(100) * 1e6 + 0.1
    cases = [lambda a: lo.sum(a), lambda a: lo.convert_to_tensor(a) * 1.0,
             lambda a: lo.cast(lo.convert_to_tensor(a, dtype="float64"), "int8"),
             lambda a: lo.convert_to_tensor(a, dtype="float64") * 3.0 - a]
    for f in cases:
        want = lo.convert_to_numpy(f(x))
        got = lo.function(f)(x)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="float8"):
        lo.function(lambda a: lo.convert_to_tensor(a) + 1)(
            np.ones(3, "float32").astype(ml_dtypes.float8_e4m3fn))
    f8 = np.array([1.5, -2.0, 0.25], "float32").astype(ml_dtypes.float8_e4m3fn)
    np.testing.assert_array_equal(lo.function(lambda a: lo.cast(a, "float32") * 2)(f8),
                                  np.array([3.0, -4.0, 0.5], "float32"))


def test_results_are_writable_and_never_shared_memory():
    """Writing into a call's results changes neither the inputs, nor a tensor
    the function closes over, nor a constant of its plan, nor another result
    (two equal expressions merged by CSE), nor the next call's results."""
    c = lo.convert_to_tensor(np.arange(3, dtype="float32"))
    f = lo.function(lambda x: (x * 2, c, x, lo.zeros((3,)), x * 2))
    a = np.ones(3, "float32")
    for _ in range(3):
        outs = f(a)
        assert all(o.flags.writeable for o in outs)
        for o in outs:
            o[...] = 7
        assert [o.tolist() for o in f(a)] == [[2] * 3, [0, 1, 2], [1] * 3, [0] * 3, [2] * 3]
        assert c.numpy().tolist() == [0, 1, 2] and a.tolist() == [1, 1, 1]


def test_compiled_calls_launch_directly_and_check_their_arguments():
    """Once a signature's plan runs compiled, calls on arrays laid out as the
    latest call's launch its kernel directly (`function.fast`); any other
    layout, dtype, array type or a settings change goes the general way and
    gets the same values."""
    f = lo.function(lambda a, b: lo.tanh(a) * b - a)
    x = rng.standard_normal((40, 30)).astype("float32")
    y = rng.standard_normal((40, 30)).astype("float32")
    want = lambda a, b: np.tanh(a) * b - a  # noqa: E731

    def check(a, b):
        got = f(a, b)
        assert got.shape == a.shape and got.dtype == np.float32 and got.flags.writeable
        np.testing.assert_allclose(got, want(a, b), rtol=2e-6, atol=1e-6)
        return got

    with lo.config.override(small_work=0, tiered=False):
        check(x, y)
        assert f.fast is not None
        launches = lo.cache_info()["launches"]
        first, second = check(x, y), check(y, x)
        assert lo.cache_info()["launches"] == launches + 2
        assert first is not second and first.base is None and second.base is None
        first[...] = 0  # results share no memory
        np.testing.assert_allclose(second, want(y, x), rtol=2e-6, atol=1e-6)
        check(np.asfortranarray(x), y)  # other strides
        check(x[:, ::-1], y)
        check(x, np.broadcast_to(y[:1], y.shape))
        check(x.astype("float64"), y)  # another dtype: another signature
        check(np.ma.masked_array(x), y)  # a subclass
        check(x, y)
        assert f.fast is not None
    with lo.config.override(small_work=1 << 40):  # the settings changed: the interpreter
        assert f(x, y).dtype == np.float32
        assert f.traces[next(iter(f.traces))].plan.ran_compiled is False


def test_loops_that_run_step_by_step_replay_on_new_inputs():
    """A scan whose body reduces its carry and a while loop whose test reduces
    a vector run their plans step by step when forced: they are ops of the
    trace, so each call computes from its own arrays (their first calls
    interpreted, then compiled, then in one compiled step loop)."""
    import keras.ops as K

    def body(ops):
        return lambda h, v: (h / (ops.sum(ops.abs(h)) + 1.0) + v, ops.max(h))

    def halve(ops, v):
        return ops.while_loop(lambda v: ops.max(ops.abs(v)) > 1.0, lambda v: v * 0.5, v)

    @lo.function
    def both(xs, v):
        last, ys = lo.scan(body(lo), lo.zeros(xs.shape[1]), xs)
        return last, ys, halve(lo, v)
    with lo.config.override(small_work=0, hot_seconds=0):
        for k in range(4):
            xs = rng.standard_normal((30, 16)).astype("float32") * (k + 1)
            v = rng.standard_normal(16).astype("float32") * 10 ** k
            last, ys, h = both(xs, v)
            want = K.scan(body(K), np.zeros(16, "float32"), xs)
            np.testing.assert_allclose(last, want[0], rtol=1e-6)
            np.testing.assert_allclose(ys, want[1], rtol=1e-6)
            np.testing.assert_array_equal(h, halve(K, v))
    assert len(both.traces) == 1


@pytest.mark.parametrize("compiled", [False, True])
def test_random_programs_replay_as_they_record(compiled):
    """Random programs as functions of their arrays: a replay on other data
    of the same shapes and dtypes (each array's values permuted) equals the
    program recorded and forced on that data, on the default and the
    compiled paths (`bench/fuzz.py --replay` runs many more)."""
    import random

    import programs as P
    outcomes = [P.check_replay(P.generate(random.Random(f"replay:{i}"), big=0.1), compiled)
                for i in range(24)]
    assert [o.report() for o in outcomes if not o.ok] == []
    assert sum(o.status == "ok" for o in outcomes) >= 12
