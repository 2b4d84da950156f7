"""Concatenation fuses: `concatenate`, `stack`, `append`, `vstack`, `pad`
(constant, edge, wrap, reflect, symmetric) and `roll` are one kernel with the elementwise work computing
their pieces and reading their result, launched piece by piece (each
piece's box of the result an elementwise launch, see codegen/pieces.py).

Compiled results are compared with keras.ops (NumPy backend) and with the
interpreter in value, shape and dtype, on pieces longer than a block
(8192 elements) so the parallel loops split them; kernel counts come from
the plan. The cases share a few structures (exp of one piece, a multiply
of another, an add after), so they compile few kernels."""
import numpy as np
import pytest
from compiled import assert_same, both_paths
from keras import ops as K

import lazyops as lo
from lazyops.engine import plan_of

rng = np.random.default_rng(7)
N0, N1 = 10000, 9000  # each piece several 8192-element blocks


def _edges(a):
    """NaN and infinities at the pieces' edges and at block edges."""
    a = a.copy()
    flat = a.reshape(-1)
    for i, v in ((0, np.nan), (-1, np.inf), (8191, -np.inf), (8192, np.nan)):
        if flat.size > abs(i):
            flat[i] = v
    return a


def _floats(shape, dtype="float32"):
    return _edges(rng.standard_normal(shape).astype(dtype))


def _plan(*tensors):
    plan, _, _ = plan_of([t._value for t in tensors])
    return plan


def _steps(plan):
    """(kernels, NumPy steps) of a plan's schedule."""
    ops = plan.scheduled.ops[:-1]
    return len(plan.kernels), len(ops) - len(plan.kernels)


def _check(f, *arrays, kernels=1):
    """`f(lo, *tensors)` compiled and interpreted against `f(K, *tensors)`."""
    outs = f(lo, *[lo.convert_to_tensor(a) for a in arrays])
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    with np.errstate(all="ignore"):
        want = f(K, *[K.convert_to_tensor(a) for a in arrays])
        got, interpreted, plan = both_paths(outs)
    want = [np.asarray(w) for w in (want if isinstance(want, (list, tuple)) else [want])]
    for g, i, w in zip(got, interpreted, want):
        assert_same(g, w, "compiled vs keras")
        assert_same(i, w, "interpreter vs keras")
    assert len(plan.kernels) == kernels, plan.scheduled
    return plan


# ---------------------------------------------------------------- one kernel

def test_concatenate_between_elementwise_work_is_one_kernel():
    a, b = _floats(N0), _floats(N1)
    plan = _check(lambda m, a, b: m.concatenate([m.exp(a), b * 2]) + 1, a, b)
    assert _steps(plan) == (1, 0)
    (kernel,) = plan.kernels
    assert "lazy.concatenate" in [op.name for op in kernel.regions[0].block.ops]
    assert "1 kernel\n" in str(lo.explain(lo.concatenate([lo.exp(a), lo.convert_to_tensor(b) * 2])
                                          + 1))


def test_pad_between_elementwise_work_is_one_kernel():
    x = _floats((130, 100))
    plan = _check(lambda m, x: m.pad(m.exp(x), 1) * 2, x)
    assert _steps(plan) == (1, 0)


def test_roll_between_elementwise_work_is_one_kernel():
    a = _floats(N0)
    plan = _check(lambda m, a: m.roll(a * 2, 3) + 1, a)
    assert _steps(plan) == (1, 0)


def test_where_a_piece_does_not_fold():
    """What does not fold: a piece whose group also reduces, a value repeated
    as two pieces (its exp is not computed twice), an iota over the result
    (a box does not keep flat positions), roll of a flattened 2-d value (a
    reshape of the concatenation is a view of a computed value)."""
    a, x = lo.convert_to_tensor(_floats(N0)), lo.convert_to_tensor(_floats((40, 30)))
    e = lo.exp(a)
    assert _steps(_plan(lo.concatenate([e, a]) + 1, lo.sum(e))) == (2, 0)
    assert _steps(_plan(lo.concatenate([e, e]) + 1)) == (2, 0)
    assert _steps(_plan(lo.concatenate([a, a]) + lo.arange(2 * N0, dtype="float32"))) == (2, 0)
    assert _steps(_plan(lo.roll(x * 2, 7) + 1)) == (2, 0)


def test_copies_alone_stay_numpy():
    a, b = lo.convert_to_tensor(_floats(N0)), lo.convert_to_tensor(_floats(N1))
    assert _steps(_plan(lo.concatenate([a, b]))) == (0, 1)
    assert [op.name for op in _plan(lo.pad(lo.exp(a), 2, mode="maximum") * 2).scheduled.ops
            ].count("lazy.pad") == 1
    # a pad longer than one reflection repeats NumPy's pattern: the library op
    assert [op.name for op in _plan(lo.pad(lo.exp(a), N0, mode="reflect") * 2).scheduled.ops
            ].count("lazy.pad") == 1


@pytest.mark.parametrize("mode", ["edge", "wrap", "reflect", "symmetric"])
def test_pad_modes_of_views_are_one_kernel(mode):
    """edge, wrap, reflect and symmetric pads are blocks of views of the
    input (slices, flips, a broadcast edge), nested concatenations: one
    kernel with the work before and after, the edges' work computed again."""
    x = _floats((120, 100))
    _check(lambda m, x: m.pad(m.exp(x), ((2, 3), (1, 4)), mode=mode) * 2, x)
    if mode == "reflect":  # pieces over several blocks
        _check(lambda m, x: m.pad(m.exp(x), (0, 7), mode=mode) * 2, _floats(N0))


# ---------------------------------------------------------------- values

CASES = {
    # rank 1, negative axis, a piece reading the other's input
    "axis -1": (lambda m, a, b: m.concatenate([m.exp(a), b * 2], axis=-1) + 1, (N0,), (N1,)),
    # rank 2 along each axis; the second piece strided (a transpose)
    "rank 2 axis 0": (lambda m, x, y: m.concatenate([m.exp(x), y * 2], axis=0) + 1,
                      (130, 100), (90, 100)),
    "rank 2 axis -1": (lambda m, x, y: m.concatenate([m.exp(x), m.transpose(y) * 2], axis=-1)
                       + 1, (130, 100), (70, 130)),
    # rank 3 along the middle axis, float16 rounded as NumPy rounds it
    "rank 3 float16": (lambda m, x, y: m.concatenate([m.exp(x), y * 2], axis=-2) + 1,
                       (3, 60, 70, "float16"), (3, 50, 70, "float16")),
    # an operand over the result's space read through a slice of each box
    "whole operand": (lambda m, a, b: m.concatenate([m.exp(a), b * 2]) * m.flip(
        m.concatenate([b, a])), (N0,), (N1,)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_concatenate_matches_keras(case):
    f, *shapes = CASES[case]
    arrays = [_floats(s[:-1], s[-1]) if isinstance(s[-1], str) else _floats(s) for s in shapes]
    _check(f, *arrays)


def test_mixed_dtypes_promote_as_keras():
    a, i, f16 = _floats(N0), rng.integers(-100, 100, N1).astype(np.int8), _floats(N1, "float16")
    _check(lambda m, a, i: m.concatenate([m.exp(a), i * 2]) + 1, a, i)
    _check(lambda m, i, h: m.concatenate([i, h], axis=0) * 2, i, f16)
    b = rng.standard_normal(N1) > 0
    _check(lambda m, a, b: m.logical_not(m.concatenate([a > 0, b])), a, b)


def test_empty_pieces():
    a, e = _floats(N0), np.zeros(0, np.float32)
    _check(lambda m, a, e: m.concatenate([m.exp(a), e * 2]) + 1, a, e)
    _check(lambda m, e, a: m.concatenate([e * 2, m.exp(a)]) + 1, e, a)
    x, y = _floats((130, 100)), np.zeros((130, 0), np.float32)
    _check(lambda m, x, y: m.concatenate([m.exp(x), y * 2], axis=1) + 1, x, y)


def test_stack_append_vstack():
    a, x = _floats(N0), _floats((130, 100))
    _check(lambda m, a: m.stack([m.exp(a), a * 2], axis=-1) + 1, a)
    _check(lambda m, a: m.stack([m.exp(a), a * 2]) + 1, a)
    _check(lambda m, a: m.vstack([m.exp(a), a * 2]) + 1, a)
    _check(lambda m, x, a: m.append(m.exp(x), a * 2) + 1, x, a)  # axis None: flattened
    _check(lambda m, x: m.append(m.exp(x), x * 2, axis=-2) + 1, x)


def test_piece_and_result_read_elsewhere():
    """A piece's value and the concatenation itself are kernel outputs too."""
    a, b = _floats(N0), _floats(N1)
    _check(lambda m, a, b: [m.concatenate([m.exp(a), b * 2]) + 1, m.exp(a),
                            m.concatenate([m.exp(a), b * 2])], a, b)
    _check(lambda m, a, b: m.sum(m.concatenate([m.exp(a), b * 2]) + 1), a, b, kernels=2)


def test_nested_concatenations():
    x, y = _floats((130, 100)), _floats((130, 30))
    _check(lambda m, x, y: m.concatenate([m.concatenate([m.exp(x), y * 2], axis=1) + 1,
                                          m.concatenate([x, y], axis=1)], axis=0) * 2, x, y)


@pytest.mark.parametrize("widths", [1, ((0, 0), (0, 2)), 0, ((2, 0), (1, 3))])
def test_pad_widths(widths):
    x = _floats((130, 100))
    _check(lambda m, x: m.pad(m.exp(x), widths) * 2, x)


def test_pad_values_ranks_and_dtypes():
    z = _floats((3, 60, 70), "float16")
    _check(lambda m, z: m.pad(m.exp(z), ((1, 0), (2, 3), (0, 1)), constant_values=1.5) * 2, z)
    i = rng.integers(-100, 100, N0).astype(np.int8)
    _check(lambda m, i: m.pad(i * 2, (3, 1), constant_values=-7) * 2, i)
    _check(lambda m, a: m.pad(m.exp(a), (2, 5)) * 2, _floats(N0))


@pytest.mark.parametrize("shift, axis", [(3, None), (-3, None), (-12345, 0), (N0 + 3, -1)])
def test_roll_shifts(shift, axis):
    _check(lambda m, a: m.roll(a * 2, shift, axis=axis) + 1, _floats(N0))


def test_roll_along_axes_of_a_matrix():
    x = _floats((130, 100))
    _check(lambda m, x: m.roll(m.exp(x), -7, axis=1) + 1, x)
    _check(lambda m, x: m.roll(m.exp(x), 5, axis=0) + 1, x)
    _check(lambda m, x: m.roll(x * 2, 7) + 1, x, kernels=2)  # axis None: flattened


def test_small_inputs_on_the_interpreter():
    """The default path of small graphs (the interpreter) agrees too."""
    x, a = _floats((4, 5)), _floats(7)
    for f, args in [(lambda m, x: m.pad(m.exp(x), 1, constant_values=3.0) * 2, (x,)),
                    (lambda m, a: m.roll(a * 2, -2) + 1, (a,)),
                    (lambda m, x, a: m.append(x, a) + 1, (x, a))]:
        with np.errstate(all="ignore"):
            got = np.asarray(f(lo, *[lo.convert_to_tensor(v) for v in args]))
            want = np.asarray(f(K, *[K.convert_to_tensor(v) for v in args]))
        assert_same(got, want)


# ---------------------------------------------------------------- launches

def test_boxes_of_inner_axes_run_as_contiguous_runs():
    """pad's middle piece writes strided rows: the `runs` form, whose one
    thread and parallel launches agree bit for bit."""
    x = _floats((130, 100))
    t = lo.pad(lo.exp(lo.convert_to_tensor(x)), 1) * 2
    plan, _, leaves = plan_of([t._value])
    args = [v.data for v in leaves]
    outs = []
    for work in (0, 1 << 62):
        with lo.config.override(serial_work=work):
            outs.append(plan.run(args, compiled=True)[0])
    np.testing.assert_array_equal(outs[0], outs[1])
    (launcher,) = plan.launchers.values()
    form, loop_plan, source = launcher.explain_last()
    assert form == "pieces"
    assert "form runs" in loop_plan.text() and "# piece 1.1" in source


def test_compile_ahead_of_a_piecewise_kernel():
    """The tiered path's compile-ahead job builds every piece's kernel."""
    a, b = _floats(N0), _floats(N1)
    t = lo.concatenate([lo.exp(lo.convert_to_tensor(a)), lo.convert_to_tensor(b) * 2]) + 1
    plan, _, leaves = plan_of([t._value])
    args = [v.data for v in leaves]
    (launcher,) = plan.launchers.values()
    launcher.ahead(args)()
    assert all(part.fns for part in launcher.parts)
    assert_same(launcher(args)[0], np.concatenate([np.exp(a), b * 2]) + 1)
