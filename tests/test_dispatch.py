"""The force fast path: a value's recorded node (a hash-consed structural key
built while recording) finds its plan without walking the graph. Graphs that
share a node id share a plan, so the key must keep apart everything that
changes values (leaf sharing, op attributes), and a graph changed by a force
since it was recorded must walk again."""
import numpy as np
import pytest

import lazyops as lo
from lazyops import engine

X = np.arange(1, 9, dtype=np.float32)
Y = np.arange(10, 18, dtype=np.float32)


@pytest.fixture
def walks(monkeypatch):
    """How many times forcing walked a graph."""
    count = [0]
    real = engine.walk

    def counting(outputs):
        count[0] += 1
        return real(outputs)

    monkeypatch.setattr(engine, "walk", counting)
    return count


def test_a_known_structure_forces_without_a_walk(walks):
    def f(x, y):
        return (lo.convert_to_tensor(x) * 2 + y) * 0.5 - x
    f(X, Y).numpy()
    f(X, Y).numpy()  # its node now knows the plan
    n = walks[0]
    for k in range(3):
        x, y = X + k, Y - k
        np.testing.assert_array_equal(f(x, y).numpy(), (x * 2 + y) * np.float32(0.5) - x)
    assert walks[0] == n


def test_leaf_sharing_is_part_of_the_key(walks):
    """`x - x` and `x - y` have the same ops on the same types."""
    for _ in range(2):
        a = lo.convert_to_tensor(X)
        b = lo.convert_to_tensor(Y)
        np.testing.assert_array_equal((a - a).numpy(), np.zeros(8, np.float32))
        np.testing.assert_array_equal((a - b).numpy(), X - Y)
        np.testing.assert_array_equal((b - a).numpy(), Y - X)
        np.testing.assert_array_equal(((a * 2) - (b * 2) + a).numpy(), X * 2 - Y * 2 + X)
        np.testing.assert_array_equal(((a * 2) - (a * 2) + b).numpy(), Y)


def test_attributes_and_constants_are_part_of_the_key():
    a = lo.convert_to_tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    for _ in range(2):
        np.testing.assert_array_equal(lo.sum(a, axis=0).numpy(), np.arange(12.).reshape(3, 4).sum(0))
        np.testing.assert_array_equal(lo.sum(a, axis=1).numpy(), np.arange(12.).reshape(3, 4).sum(1))
        np.testing.assert_array_equal((a * 2.0).numpy(), np.arange(12.).reshape(3, 4) * 2)
        np.testing.assert_array_equal((a * 0.5).numpy(), np.arange(12.).reshape(3, 4) * 0.5)
        np.testing.assert_array_equal((a * 3.0).numpy(), np.arange(12.).reshape(3, 4) * 3)
        np.testing.assert_array_equal((a * 7.0).numpy(), np.arange(12.).reshape(3, 4) * 7)


def test_shared_intermediates_and_their_tree_form_agree():
    a = lo.convert_to_tensor(X)
    t = lo.exp(a * 0.25)
    dag = (t + t).numpy()
    tree = (lo.exp(a * 0.25) + lo.exp(a * 0.25)).numpy()
    np.testing.assert_array_equal(dag, tree)
    np.testing.assert_allclose(dag, 2 * np.exp(X * np.float32(0.25)), rtol=1e-6)


def test_a_force_below_makes_the_node_stale(walks):
    """`a` forced after `b` was recorded on it: `b` walks and reads a's buffer."""
    for _ in range(2):
        a = lo.convert_to_tensor(X) * 3.0
        b = lo.sqrt(a) + 1.0
        a.numpy()
        n = walks[0]
        np.testing.assert_allclose(b.numpy(), np.sqrt(X * 3) + 1, rtol=1e-6)
        assert walks[0] == n + 1
        assert engine.computed_by(b._value)[0].reference.args[0].type.shape == (8,)


def test_many_leaves_have_no_node_and_still_force():
    arrays = [np.full(4, k, np.float32) for k in range(40)]
    total = lo.convert_to_tensor(arrays[0])
    for a in arrays[1:]:
        total = total + a
    assert total._value.node is None
    np.testing.assert_array_equal(total.numpy(), np.full(4, sum(range(40)), np.float32))


def test_compiled_and_interpreted_plans_both_serve_the_fast_path():
    x = np.linspace(-1, 1, 50_000, dtype=np.float32)
    with lo.config.override(small_work=0, tiered=False):
        for _ in range(3):
            got = lo.tanh(lo.convert_to_tensor(x) * 1.5).numpy()
            np.testing.assert_allclose(got, np.tanh(x * np.float32(1.5)), rtol=2e-6, atol=1e-7)


# A kernel's second launch with the arguments' geometry of an earlier one
# remakes its views from that geometry (`codegen.launch._Replay`).

def _compiled_plan(f, *arrays):
    """(plan of f on `arrays`, a function giving the plan's arguments for
    other arrays in their places; the other leaves are f's scalars)."""
    with lo.config.override(small_work=0, tiered=False, serial_work=0):
        plan, _, leaves = engine.plan_of([f(*[lo.convert_to_tensor(a) for a in arrays])._value])
    where = [next((k for k, a in enumerate(arrays) if leaf.data is a), None) for leaf in leaves]

    def args(*new):
        return [leaf.data if k is None else new[k] for leaf, k in zip(leaves, where)]
    return plan, args


def _run(plan, args, serial_work=0):
    with lo.config.override(serial_work=serial_work):
        got = plan.run(list(args), compiled=True)
    want = plan.run(list(args), compiled=False)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=2e-3, atol=1e-6)
    return got


def _replays(plan):
    return [r for launcher in plan.launchers.values() for r in launcher.replays.values()]


def _layernorm(x, g):
    m = lo.mean(x, axis=-1, keepdims=True)
    d = x - m
    return d / lo.sqrt(lo.mean(d * d, axis=-1, keepdims=True) + 1e-5) * g


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_a_replayed_launch_reads_its_new_arguments(dtype):
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((6, 40)).astype(dtype), rng.standard_normal(40).astype(dtype)
    plan, args = _compiled_plan(_layernorm, x, g)
    first = _run(plan, args(x, g))[0]
    kept = first.copy()
    assert [r for r in _replays(plan) if r]
    for k in range(3):
        x2, g2 = (x * (k + 2)).astype(dtype), (g - k).astype(dtype)
        got = _run(plan, args(x2, g2))[0]
        assert not np.shares_memory(got, first)
    np.testing.assert_array_equal(first, kept)  # not written by later launches
    np.testing.assert_array_equal(first, _run(plan, args(x, g))[0])


def test_replayed_column_reductions_and_transposed_views():
    """`cols` results are transposed views of their buffers; the transpose is
    a view the launch makes of its input."""
    a = np.arange(48, dtype=np.float32).reshape(8, 6)
    plan, args = _compiled_plan(lambda t: lo.transpose(t) * 2 - lo.sum(t, axis=0)[:, None], a)
    for k in range(3):
        got = _run(plan, args(a + k))[0]
        np.testing.assert_array_equal(got, (a + k).T * 2 - (a + k).sum(0)[:, None])


def test_aliased_arguments_replay_by_position():
    """A replay made from separate arrays is right for the same array passed
    twice, and the other way round: ambiguous first launches do not replay."""
    buf = np.arange(16, dtype=np.float32)
    other = np.arange(16, dtype=np.float32)[::-1].copy()
    plan, args = _compiled_plan(lambda a, b: a * 2 - b, buf, other)
    for a, b in ([buf, other], [buf, buf], [other, buf], [buf, buf], [other, other]):
        np.testing.assert_array_equal(_run(plan, args(a, b))[0], a * 2 - b)
    engine.clear_plans()  # a plan of its own, whose launcher has replayed nothing yet
    plan2, args2 = _compiled_plan(lambda a, b: a * 3 - b, buf, other)
    _run(plan2, args2(buf, buf))
    assert not [r for r in _replays(plan2) if r]
    np.testing.assert_array_equal(_run(plan2, args2(buf, other))[0], buf * 3 - other)


def test_strided_arguments_launch_without_a_replay():
    base = np.arange(64, dtype=np.float32).reshape(8, 8)
    plan, args = _compiled_plan(lambda a: lo.exp(a * 0.1), base)
    for a in (base[::-1], base[::-1] + 1, base.T, base):
        _run(plan, args(a))
    assert None in [launcher.replays.get(k) for launcher in plan.launchers.values()
                    for k in launcher.replays]


def test_serial_work_is_part_of_the_replay_key():
    x = np.linspace(0, 1, 3000, dtype=np.float32)
    plan, args = _compiled_plan(lambda a: a * a + 1, x)
    _run(plan, args(x), serial_work=0)
    _run(plan, args(x), serial_work=10**9)
    launcher, = plan.launchers.values()
    assert {r.layout[3] for r in launcher.replays.values()} == {False, True}


def test_runtime_scalars_share_a_leaf_per_value_and_dtype():
    a = lo.convert_to_tensor(X)
    one, two = a * 2.5, a * 2.5
    assert one._value.owner.operands[1] is two._value.owner.operands[1]
    assert not one._value.owner.operands[1].data.flags.writeable
    assert (a * 3.5)._value.owner.operands[1] is not one._value.owner.operands[1]
    h = lo.convert_to_tensor(X.astype(np.float16)) * 2.5
    assert h._value.owner.operands[1].type.dtype == "float16"
    both = a * 2.5 + lo.convert_to_tensor(Y) * 2.5  # one leaf read twice
    np.testing.assert_array_equal(both.numpy(), X * np.float32(2.5) + Y * np.float32(2.5))
    np.testing.assert_array_equal((a * 2.5 - a * 3.5).numpy(), X * np.float32(2.5) - X * np.float32(3.5))


def test_direct_launches_read_each_force_s_scalars_and_arrays():
    """A compiled plan's later forces on arguments laid out as the latest's
    launch its kernel directly (`Plan.fast`): scalars given as 0-d arrays,
    new values of the runtime scalars and arrays read each time; another
    layout or a settings change takes the general path."""
    x = np.linspace(-2, 2, 3000, dtype=np.float32)
    y = x[::-1].copy()
    with lo.config.override(small_work=0, tiered=False):
        for k, s in enumerate([1.5, -0.25, 3.0, 3.0]):
            a, b = (x, y) if k % 2 == 0 else (y, x)
            t = lo.convert_to_tensor(a) * s + b
            plan = engine.plan_of([t._value])[0]
            np.testing.assert_allclose(t.numpy(), a * np.float32(s) + b, rtol=1e-6)
            assert plan.fast is not None
        (launcher,) = plan.launchers.values()
        assert "uniform" in launcher.last[2]  # the scalar, passed as a 0-d array
        strided = np.linspace(0, 1, 6000, dtype=np.float32)[::2]
        np.testing.assert_allclose((lo.convert_to_tensor(strided) * 2.0 + y).numpy(),
                                   strided * 2 + y, rtol=1e-6)
    with lo.config.override(small_work=1 << 40):  # the settings changed: interpreted
        t = lo.convert_to_tensor(x) * 2.0 + y
        np.testing.assert_allclose(t.numpy(), x * 2 + y, rtol=1e-6)
        assert engine.computed_by(t._value)[1] is False


def test_direct_launches_check_each_argument_s_class_shape_strides_and_dtype():
    class Sub(np.ndarray):
        pass
    x = np.linspace(-2, 2, 3000, dtype=np.float32)
    y = x[::-1].copy()
    with lo.config.override(small_work=0, tiered=False):
        for _ in range(2):
            t = lo.convert_to_tensor(x) * 2.0 + y
            np.testing.assert_allclose(t.numpy(), x * 2 + y, rtol=1e-6)
        fast = engine.plan_of([(lo.convert_to_tensor(x) * 2.0 + y)._value])[0].fast
        assert fast is not None
        wide = np.linspace(0, 1, 6000, dtype=np.float32)
        for args in ([x], [x, y, y], [x, wide[::2]], [x, y.astype(np.float64)],
                     [x, y.view(Sub)], [x, y[:2999]], [x, 2.0]):
            assert fast(args) is None
        np.testing.assert_allclose(fast([y, x])[0], y * 2 + x, rtol=1e-6)
    assert fast([y, x]) is None  # the settings changed


def test_row_kernels_with_broadcast_rows_launch_directly():
    """A row kernel reading a row every row shares (`col`: layer norm's gain)
    and a value per row (`row`) passes the given arrays, not read-only
    views of their broadcasts, so its later forces launch directly and
    read each force's arrays."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 300)).astype(np.float32)
    with lo.config.override(small_work=0, tiered=False):
        for k in range(3):
            g, r = rng.random(300).astype(np.float32), rng.random((64, 1)).astype(np.float32)
            t = lo.convert_to_tensor(x)
            out = (t - lo.mean(t, axis=-1, keepdims=True)) * g + r
            plan = engine.plan_of([out._value])[0]
            want = (x - x.mean(-1, keepdims=True)) * g + r
            np.testing.assert_allclose(out.numpy(), want, rtol=1e-5, atol=1e-6)
            assert k == 0 or plan.fast is not None
        (launcher,) = plan.launchers.values()
        assert {"col", "row"} <= set(launcher.last[2])


def test_recording_fast_paths_record_what_the_general_path_does(walks):
    """Unary ops, basic indices, powers and comparisons with a scalar take
    memoized paths from their second call on: the same values, dtypes and
    structure as the first (general) call, and the shape of the tensor is
    part of a memoized index."""
    import keras
    a = np.linspace(-3, 3, 24, dtype=np.float32).reshape(4, 6)
    i8 = np.array([1, -5, 100, 127], np.int8)
    calls = {
        "exp": (lambda t: lo.exp(t), lambda k: keras.ops.exp(k), a),
        "exp64": (lambda t: lo.exp(t), lambda k: keras.ops.exp(k), a.astype("float64")),
        "index": (lambda t: t[1:3, None, ::2], lambda k: k[1:3, None, ::2], a),
        "index_int": (lambda t: t[-1, ...], lambda k: k[-1, ...], a),
        "index_all": (lambda t: t[:], lambda k: k[:], a),
        "square": (lambda t: t ** 2, lambda k: k ** 2, a),
        "power": (lambda t: t ** 2.5, lambda k: keras.ops.power(k, 2.5), np.abs(a)),
        "greater": (lambda t: t > 0.5, lambda k: keras.ops.greater(k, 0.5), a),
        "int_wide": (lambda t: t > 300, lambda k: keras.ops.greater(k, 300), i8),
        "int_eq": (lambda t: t == 127, lambda k: keras.ops.equal(k, 127), i8),
        "sum_axis": (lambda t: lo.sum(t, axis=-1), lambda k: keras.ops.sum(k, axis=-1), a),
        "mean_keep": (lambda t: lo.mean(t, 0, keepdims=True),
                      lambda k: keras.ops.mean(k, 0, keepdims=True), a),
        "max_all": (lambda t: lo.max(t), lambda k: keras.ops.max(k), a),
        "std_int": (lambda t: lo.std(t, axis=0), lambda k: keras.ops.std(k, axis=0), i8),
        "argmax": (lambda t: lo.argmax(t, axis=1), lambda k: keras.ops.argmax(k, axis=1), a),
        "cast": (lambda t: lo.cast(t, "float16"), lambda k: keras.ops.cast(k, "float16"), a),
        # binary ops: a NumPy array operand of the same dtype, or another
        # (the general path's promotion), and scalars a dict cannot key
        "add_array": (lambda t: t + a[::-1].copy(), lambda k: k + a[::-1].copy(), a),
        "add_array64": (lambda t: t + a.astype("float64"),
                        lambda k: keras.ops.add(k, a.astype("float64")), a),
        "int_sub_array": (lambda t: t - i8[::-1].copy(), lambda k: k - i8[::-1].copy(), i8),
        "mul_zero": (lambda t: t * 0.0, lambda k: k * 0.0, a),
        "sub_negzero": (lambda t: t - (-0.0), lambda k: k - (-0.0), a),
        "add_nan": (lambda t: t + float("nan"), lambda k: k + float("nan"), a),
    }
    for name, (f, g, arr) in calls.items():
        want = np.asarray(g(keras.ops.convert_to_tensor(arr)))
        for _ in range(3):
            got = f(lo.convert_to_tensor(arr)).numpy()
            assert got.dtype == want.dtype and got.shape == want.shape, name
            np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=name)
            assert np.array_equal(np.signbit(got), np.signbit(want)), name
    # a memoized index applies to tensors of its shape only
    row = lo.convert_to_tensor(np.arange(5, dtype=np.float32))[1:3, None]
    assert row.shape == (2, 1)
    np.testing.assert_array_equal(row.numpy(), [[1], [2]])
    with pytest.raises(IndexError, match="out of bounds"):
        lo.convert_to_tensor(np.arange(2, dtype=np.float32))[-3]
    with pytest.raises(ValueError, match="negative integer powers"):
        lo.convert_to_tensor(i8) ** -1


def test_memoized_reductions_check_their_axis_and_locate_their_call():
    """A reduction's axis, once checked, is memoized by value: an axis equal
    to a memoized one but of another type (True, 1.0) is still refused, and
    each call keeps its own source line."""
    t = lo.convert_to_tensor(np.ones((3, 4), np.float32))
    lines = []
    for _ in range(2):
        lines.append(lo.mean(t, 1)._value.recipe[3].line)
        lines.append(lo.max(t, 1)._value.recipe[3].line)
    assert lines[0] == lines[2] and lines[1] == lines[3] == lines[0] + 1
    for bad in (True, 1.0):
        with pytest.raises(TypeError, match="mean: `axis` must be an int"):
            lo.mean(t, bad)
    with pytest.raises(ValueError, match="out of range"):
        lo.mean(t, 2)
    for keep in (np.array(True), np.bool_(True), 1):  # (the first hashes not: not memoized)
        assert lo.sum(t, axis=1, keepdims=keep).shape == (3, 1)


@pytest.mark.parametrize("enabled", [True, False])
def test_planning_leaves_the_cyclic_collector_as_it_found_it(enabled):
    """Planning pauses the collector (see `engine._collector_paused`), and
    turns it back on only where it was on."""
    import gc
    x = lo.convert_to_tensor(np.arange(6, dtype="float32"))
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        t = lo.exp(x * (5.0 if enabled else 6.0) + 1.0) - lo.sqrt(x)  # a new structure each
        np.testing.assert_allclose(t.numpy(), np.exp(np.arange(6) * (5 if enabled else 6) + 1)
                                   - np.sqrt(np.arange(6)), rtol=1e-5)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_a_small_plan_generates_its_straight_line_form_at_its_second_run():
    x = lo.convert_to_tensor(np.arange(5, dtype="float32"))
    with lo.config.override(tiered=False):
        (lo.log1p(x) * 3.0).numpy()
        plan = engine.plan_of([(lo.log1p(x) * 3.0)._value])[0]
        assert plan.program.fast is None and plan.program.fixed is not None
        got = (lo.log1p(x) * 3.0).numpy()
    assert plan.program.fast is not None
    np.testing.assert_allclose(got, np.log1p(np.arange(5, dtype="float32")) * 3, rtol=1e-6)


def test_a_single_force_launches_from_its_node_s_leaves():
    """A fresh value whose node finds a compiled plan launches from its
    leaves (`Plan.by_leaves`, through `engine.launched`) where their arrays
    are laid out as the latest launch's and the settings are unchanged;
    anything else takes the general path, with the same results."""
    class Sub(np.ndarray):
        pass
    x = np.linspace(-2, 2, 3000, dtype=np.float32)
    y = x[::-1].copy()
    wide = np.linspace(0, 1, 6000, dtype=np.float32)
    with lo.config.override(small_work=0, tiered=False):
        for _ in range(2):
            (lo.convert_to_tensor(x) * 2.0 + y).numpy()
        t = lo.convert_to_tensor(y) * 2.0 + x
        assert engine.launched(t._value)
        np.testing.assert_allclose(t._value.data, y * 2 + x, rtol=1e-6)
        for other in (wide[::2], y.view(Sub)):  # the same node, another layout or class
            t = lo.convert_to_tensor(x) * 2.0 + other
            assert not engine.launched(t._value)
            np.testing.assert_allclose(t.numpy(), x * 2 + np.asarray(other), rtol=1e-6)
        t = lo.convert_to_tensor(x) * 2.0 + y
    assert not engine.launched(t._value)  # the settings changed
    np.testing.assert_allclose(t.numpy(), x * 2 + y, rtol=1e-6)


def test_leaf_checks_hand_the_arrays_over_in_the_kernel_s_order():
    from lazyops.recording import leaf
    a, b = np.ones(4, np.float32), np.zeros((2, 3))
    same, take = engine._layout_checks([a, b], order=[1, 0])
    assert same([a, b]) and not same([b, a]) and not same([a])
    got = take([leaf(a.copy()), leaf(b.copy())])
    assert [g.shape for g in got] == [(2, 3), (4,)]
    assert take([leaf(b), leaf(a)]) is None and take([leaf(a)]) is None
    same, take = engine._layout_checks([])
    assert same([]) and take([]) == [] and take([leaf(a)]) is None
