"""keras.ops.scan with an elementwise body: traced once into a `lazy.scan`
op whose region is the body, compiled as one kernel (a loop over the steps
per element of the carries), against keras.ops on its NumPy backend. Bodies
that are not elementwise recurrences run driven from Python, with the same
results."""
import numpy as np
import pytest

import lazyops as lo
from lazyops.engine import plan_of
from lazyops.ir import verifier
from lazyops.ir.parser import parse_function
from lazyops.ir.printer import print_function
from oracle import K, same_tree

rng = np.random.default_rng(5)
XS = rng.standard_normal((300, 7)).astype("float32")
XS[17, 3] = np.nan


def leaves(tree):
    if isinstance(tree, dict):
        return [x for k in sorted(tree) for x in leaves(tree[k])]
    if isinstance(tree, (tuple, list)):
        return [x for t in tree for x in leaves(t)]
    return [] if tree is None else [tree]


def compiled(tree):
    """Force the lazy leaves of `tree` through compiled kernels; the plan."""
    ts = [t for t in leaves(tree) if isinstance(t, lo.Tensor) and not t.is_materialized]
    plan, _, _ = plan_of([t._value for t in ts])
    with lo.config.override(small_work=0):
        lo.evaluate(*ts)
    return plan


def _one_loop_kernel(plan, loop="lazy.scan"):
    assert len(plan.kernels) == 1 and not plan.numpy_ops
    (k,) = plan.kernels
    assert [op.name for op in k.regions[0].block.ops[:-1] if op.regions] == [loop]
    assert plan.launchers[k].explain_last()[0] == "recur"


RECURRENCES = {
    # h = a*h + x_t, the step output h: a linear recurrence
    "linear": (lambda ops: (lambda h, x: (0.9 * h + x,) * 2), lambda: np.zeros(7, "float32"),
               lambda: XS),
    # an exponential moving average with a captured vector and a scalar slice
    "ema": (lambda ops: (lambda h, x: (h + (x - h) * W, ops.exp(-h))),
            lambda: np.ones(7, "float32"), lambda: XS[:, 0].copy()),
    # tuple carries of two dtypes, a dict of scanned arrays, a tuple of outputs
    "tree": (lambda ops: (lambda c, x: ((c[0] + x["a"], c[1] + 1), (c[0] * x["b"], c[1]))),
             lambda: (np.zeros(7, "float32"), np.zeros(7, "int32")),
             lambda: {"a": XS, "b": XS[::-1].copy()}),
    # a scalar step counter beside a vector carry, a scalar output per step
    "counter": (lambda ops: (lambda c, x: ((c[0] + 1, c[1] * 0.5 + x), (c[0] * 2, c[1] - x))),
                lambda: (np.int32(0), np.zeros(7, "float32")), lambda: XS),
    # float16 carries, rounded after each op as NumPy rounds them
    "half": (lambda ops: (lambda h, x: (h * np.float16(0.5) + x, h)),
             lambda: np.zeros(7, "float16"), lambda: XS.astype("float16")),
}
W = rng.random(7).astype("float32")


@pytest.mark.parametrize("name,reverse", [("linear", False), ("linear", True), ("ema", False),
                                          ("tree", True), ("counter", False), ("half", False)])
def test_recurrences_compile_to_one_loop_and_match_keras(name, reverse):
    body, init, xs = RECURRENCES[name]
    got = lo.scan(body(lo), init(), xs(), reverse=reverse)
    plan = compiled(got)
    _one_loop_kernel(plan)
    same_tree(got, K.scan(body(K), init(), xs(), reverse=reverse))


def test_a_scalar_chain_without_xs_and_without_outputs():
    def f(c, _):
        return (c[0] * 1.0001 + c[1], c[1] * 0.5), None
    init = (np.float32(1), np.float32(1))
    got = lo.scan(f, init, length=50)
    _one_loop_kernel(compiled(got[0]))
    # no outputs: zeros like the carry per step, in a list, as Keras's NumPy backend stacks
    same_tree(got, K.scan(f, init, length=50))


def test_compiled_loop_equals_the_interpreter():
    c, ys = lo.scan(lambda h, x: (lo.tanh(h * 0.5 + x), h), np.zeros(7, "float32"), XS)
    plan, _, leaves_ = plan_of([c._value, ys._value])
    args = [v.data for v in leaves_]
    for got, want in zip(plan.run(args, compiled=True), plan.run(args, compiled=False)):
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6, equal_nan=True)  # tanh: ulps


def test_bodies_that_are_not_elementwise_run_their_plan_step_by_step():
    """A reduction over the slice or the carry, a flip (a view), carries of
    two shapes; a while loop whose test reduces a vector: the loop is an op
    of the graph (recording it computes nothing) whose traced body's plan
    runs once per step on the arrays when forced (on the interpreter at
    these sizes; compiled in the tests below), with Keras's results; the
    body is called once, to trace it."""
    calls = []

    def counted(h, x):
        calls.append(1)
        return h / (lo.sum(lo.abs(h)) + 1.0) + x, lo.max(h)
    bodies = [(lambda h, x: (h + lo.sum(x), h), lambda h, x: (h + K.sum(x), h)),
              (lambda h, x: (h + lo.flip(x, 0), h), lambda h, x: (h + K.flip(x, 0), h)),
              (counted, lambda h, x: (h / (K.sum(K.abs(h)) + 1.0) + x, K.max(h)))]
    with lo.config.override(hot_seconds=0):
        for f, kf in bodies:
            got = lo.scan(f, np.ones(7, "float32"), XS[:20], reverse=f is counted)
            assert not any(t.is_materialized for t in leaves(got))
            same_tree(got, K.scan(kf, np.ones(7, "float32"), XS[:20], reverse=f is counted))
        assert len(calls) == 1
        two = lo.scan(lambda c, x: ((c[0] + lo.sum(x), c[1] * 0.5 + x), None),
                      (np.float32(0), np.zeros(7, "float32")), XS[:20])
        same_tree(two, K.scan(lambda c, x: ((c[0] + K.sum(x), c[1] * 0.5 + x), None),
                              (np.float32(0), np.zeros(7, "float32")), XS[:20]))

        def halve(ops):
            return ops.while_loop(lambda v, n: ops.max(ops.abs(v)) > 1e-3,
                                  lambda v, n: (v * 0.5, n + 1), (XS[0] * 100, np.int32(0)),
                                  maximum_iterations=40)
        same_tree(halve(lo), halve(K))


@pytest.mark.parametrize("reverse", [False, True])
def test_a_body_that_reduces_runs_as_one_compiled_step_loop(reverse):
    """Once the body's plan (one kernel) is compiled, the steps after run in
    one compiled loop calling its kernel (`codegen.driver`): a captured row,
    a NaN, a scalar and a vector step output; the same values as the steps
    run from Python, and as Keras's."""
    from lazyops import engine
    from lazyops.codegen.driver import ScanDriver
    xs = rng.standard_normal((40, 9)).astype("float32")
    xs[7, 3] = np.nan
    w = rng.standard_normal(9).astype("float32")

    def f(ops):
        return lambda h, x: (h / (ops.sum(ops.abs(h * w)) + 1.0) + x, (ops.max(h), h * 2))
    init = np.ones(9, "float32")
    want = K.scan(f(K), init, xs, reverse=reverse)
    with lo.config.override(small_work=0, tiered=False):
        stepped = lo.scan(f(lo), init, xs, reverse=reverse)  # builds the loop for later calls
        lo.evaluate(*leaves(stepped))
        looped = lo.scan(f(lo), init, xs, reverse=reverse)
        lo.evaluate(*leaves(looped))
    drivers = [d for p in engine._plans.values() for d in p.drivers.values() if d]
    assert any(isinstance(d, ScanDriver) and d.ready for d in drivers)
    same_tree(stepped, want)
    same_tree(looped, want)
    with lo.config.override(tiered=True, hot_seconds=1e-9):  # the loop may start mid-scan
        for _ in range(3):
            same_tree(lo.scan(f(lo), init, xs[:, ::-1].copy(), reverse=reverse),
                      K.scan(f(K), init, xs[:, ::-1].copy(), reverse=reverse))


def test_a_while_loop_whose_test_reduces_runs_as_one_compiled_loop():
    """A test reducing a vector carry and a body of one kernel: once both
    plans are compiled, the loop runs their kernels in one compiled loop
    (`codegen.driver.WhileDriver`), with and without an iteration limit,
    as Keras's."""
    from lazyops import engine
    from lazyops.codegen.driver import WhileDriver
    v0 = rng.standard_normal(100).astype("float32") * 100

    def run(ops, limit):
        return ops.while_loop(lambda v: ops.max(ops.abs(v)) > 1e-3,
                              lambda v: (v * 0.9 - ops.mean(v) * 0.01,), (v0,),
                              maximum_iterations=limit)
    with lo.config.override(small_work=0, tiered=False):
        for limit in (None, 30, None, 0):
            same_tree(run(lo, limit), run(K, limit))
    assert any(isinstance(d, WhileDriver) and d.ready
               for p in engine._plans.values() for d in p.drivers.values())


def _drivers(kind):
    from lazyops import engine
    return [d for p in engine._plans.values() for d in p.drivers.values()
            if isinstance(d, kind) and d.ready]


def test_bodies_of_several_kernels_run_as_one_compiled_loop():
    """A counter beside vector work (two kernels per body), a step index
    read beside a reduction, values passed from one kernel to the next, a
    carry passed through unchanged and a value yielded as two carries: once
    the plans are compiled, each loop calls its kernels in order in one
    compiled loop (`codegen.driver.Region`), as Keras computes it."""
    from lazyops.codegen.driver import ScanDriver, WhileDriver
    v0 = rng.standard_normal(64).astype("float32")
    w = rng.standard_normal(64).astype("float32")

    def counted(ops, limit):
        return ops.while_loop(lambda i, v: i < 25,
                              lambda i, v: (i + 1, v / (ops.sum(ops.abs(v)) + 1.0) + 0.5), (0, v0),
                              maximum_iterations=limit)

    def indexed(ops):
        return ops.fori_loop(2, 40, lambda i, v: v / (ops.max(ops.abs(v)) + 1.0) +
                             ops.cast(i, "float32") * 1e-2, v0)

    def passing(ops):  # w passes through; the scaled v is yielded twice; its sum feeds a kernel
        def body(c, x):
            v, same, _, n = c
            s = ops.sum(v * x)
            nv = v - s * 1e-3
            return (nv, same, nv, n + 1), s
        return ops.scan(body, (v0, w, v0, np.int32(0)), XS[:30, :1] * np.ones(64, "float32"))
    with lo.config.override(small_work=0, tiered=False):
        for _ in range(2):  # the first calls build the loops the later ones run
            for limit in (None, 7):
                same_tree(counted(lo, limit), counted(K, limit))
            same_tree(indexed(lo), indexed(K))
            same_tree(passing(lo), passing(K), rtol=1e-4, atol=1e-5)  # sums of 64 products
    assert [d for d in _drivers(WhileDriver) if len(d.body.kernels) == 2]
    assert [d for d in _drivers(ScanDriver) if len(d.region.kernels) >= 2 and d.region.temps]


def test_python_control_flow_on_a_traced_value_is_an_error_naming_the_alternatives():
    """`if x > 0:` in a traced function has no value to decide by: an error
    that says so and names cond, switch, where and while_loop. A Python
    value from outside the trace (a materialized tensor) is fine."""
    calls = [
        lambda: lo.scan(lambda h, x: ((h + x) if float(lo.sum(x)) > 0 else (h - x), h),
                        np.zeros(7, "float32"), XS[:20]),
        lambda: lo.fori_loop(0, 3, lambda i, v: v * 2 if i > 1 else v, np.ones(3, "float32")),
        lambda: lo.while_loop(lambda v: bool(lo.max(v) < 10), lambda v: v * 2,
                              np.ones(3, "float32")),
        lambda: lo.vectorized_map(lambda r: r if int(lo.argmax(r)) else -r, XS[:4]),
        lambda: lo.switch(lo.convert_to_tensor(np.int32(1)) + 0,
                          [lambda a: a if a[0] > 0 else -a, lambda a: a], XS[0]),
    ]
    for call in calls:
        with pytest.raises(TypeError, match=r"(?s)Python control flow cannot depend.*"
                                            r"lazyops\.cond.*lazyops\.where.*while_loop"):
            call()
    limit = lo.convert_to_tensor(np.float32(0.5)) + 0  # outside the trace: forced is fine
    limit.numpy()
    got = lo.scan(lambda h, x: (h + x if float(limit) > 0 else h - x, h), np.zeros(7, "float32"),
                  XS[:20])
    same_tree(got, K.scan(lambda h, x: (h + x, h), np.zeros(7, "float32"), XS[:20]))


def test_a_carry_of_another_dtype_is_the_python_loop_error():
    with pytest.raises(ValueError, match="must match in structure, shapes and dtypes"):
        lo.scan(lambda h, x: (lo.cast(h + x, "int32"), h), np.zeros(7, "float32"), XS)


def test_ir_round_trip_and_verifier():
    c, ys = lo.scan(lambda h, x: (h * 0.5 + x, h), np.zeros(7, "float32"), XS)
    plan, _, _ = plan_of([c._value, ys._value])
    text = print_function(plan.reference)
    assert "lazy.scan" in text and "lazy.yield" in text
    func = parse_function(text)
    assert print_function(func) == text
    verifier.verify(func)
    op = next(op for op in func.ops if op.name == "lazy.scan")
    op.attrs["length"] = 299  # the scanned operand's leading axis is 300
    with pytest.raises(verifier.VerificationError, match="leading axis of `length`"):
        verifier.verify(func)
    op.attrs["length"], op.attrs["xs"] = 300, 0  # the scanned operand read as a capture
    with pytest.raises(verifier.VerificationError, match="block arguments"):
        verifier.verify(func)


def test_many_elements_run_in_parallel():
    xs = rng.standard_normal((40, 5000)).astype("float32")
    got = lo.scan(lambda h, x: (h * 0.99 + x, h * 2), np.zeros(5000, "float32"), xs)
    _one_loop_kernel(compiled(got))
    h, ys = np.zeros(5000, "float32"), []
    for x in xs:
        ys.append(h * np.float32(2))
        h = h * np.float32(0.99) + x
    np.testing.assert_allclose(got[0].numpy(), h, rtol=1e-6)
    np.testing.assert_allclose(got[1].numpy(), np.stack(ys), rtol=1e-6)


LINEAR = RECURRENCES["linear"][0]


@pytest.mark.parametrize("reverse", [False, True])
def test_wide_scans_run_their_steps_over_blocks_of_elements(reverse):
    """Over 301 elements (blocks of 150, the last one of 1): carries of two
    dtypes, a scalar counter, a captured row, a NaN, the step outputs, and
    work on the last carries."""
    xs = rng.standard_normal((30, 301)).astype("float32")
    xs[3, 130] = np.nan
    w = rng.standard_normal(301).astype("float32")

    def f(ops):
        return lambda c, x: ((c[0] * 0.5 + x * w, c[1] + 1, c[2] + 1), (c[0] * 2, c[2]))
    init = (np.zeros(301, "float32"), np.zeros(301, "int32"), np.int32(0))

    def pipeline(ops):
        out = ops.scan(f(ops), init, xs, reverse=reverse)
        return out, ops.exp(out[0][0] * 0.1) - w
    got = pipeline(lo)
    plan = compiled(got)
    _one_loop_kernel(plan)
    assert plan.launchers[plan.kernels[0]].explain_last()[1].rank == 2
    same_tree(got, pipeline(K))


@pytest.mark.parametrize("reverse", [False, True])
def test_chains_laid_out_together_scan_in_small_blocks_into_the_same_layout(reverse):
    """Scanned arrays that keep each element's steps together in memory (a
    scan over a transposed array: 35 chains of 700 steps) run in blocks of
    a few chains (rank 3), the step outputs laid out alike, with carries of
    two dtypes, a scalar counter, a float16 chain, a NaN and work on the
    outputs in the loop; values and dtypes as Keras's."""
    data = rng.standard_normal((35, 700)).astype("float32")
    data[20, 333] = np.nan
    half = rng.standard_normal((35, 700)).astype("float16")

    def f(ops):
        return lambda c, x: ((c[0] * 0.5 + x[0], c[1] + 1, c[2] * 0.5 + x[1]),
                             (ops.sqrt(ops.abs(c[0])) + 1.0, c[2]))
    init = (np.zeros(35, "float32"), np.int32(0), np.zeros(35, "float16"))

    def pipeline(ops):
        return ops.scan(f(ops), init, (ops.transpose(data), ops.transpose(half)),
                        reverse=reverse)
    got = pipeline(lo)
    plan = compiled(got)
    _one_loop_kernel(plan)
    assert plan.launchers[plan.kernels[0]].explain_last()[1].rank == 3
    same_tree(got, pipeline(K))


@pytest.mark.parametrize("reverse", [False, True])
def test_work_around_the_loop_runs_inside_it(reverse):
    """`scan(f, h, exp(xs * 0.1) * w + col)` and `tanh(ys) * xs + 1` on its
    step outputs: the elementwise work computing the scanned operand (with a
    row `w` every step reads and a column that gives each step one value)
    and the work on the step outputs run in the loop kernel, step by step:
    one kernel, and no (steps, n) intermediate in memory."""
    w = rng.standard_normal(7).astype("float32")
    col = rng.standard_normal((300, 1)).astype("float32")

    def pipeline(ops):
        c, ys = ops.scan(LINEAR(ops), np.zeros(7, "float32"), ops.exp(XS * 0.1) * w + col,
                         reverse=reverse)
        return c, ops.tanh(ys) * XS + 1
    got = pipeline(lo)
    plan = compiled(got)
    _one_loop_kernel(plan)
    (k,) = plan.kernels
    assert {"lazy.exp", "lazy.tanh"} <= {op.name for op in k.regions[0].block.ops}
    same_tree(got, pipeline(K))


def test_work_on_last_carries_and_shared_step_outputs():
    """Work on the last carries (over the carries' shape, with a captured
    row; a scalar carry's) runs once the loop is done, in its kernel; a step
    output that other work reads too is stored, and the work on it still
    runs in the loop."""
    w = rng.standard_normal(7).astype("float32")

    def pipeline(ops):
        c, ys = ops.scan(LINEAR(ops), np.zeros(7, "float32"), XS)
        return c * 2, ys, ys * 3, ops.tanh(c) * w + 1

    def counted(ops):
        (n, h), ys = ops.scan(lambda c, x: ((c[0] + 1, c[1] * 0.5 + x), c[0] * 2),
                              (np.int32(0), np.zeros(7, "float32")), XS)
        return n * 3, h * ops.cast(n, "float32") - w, ys
    for f in (pipeline, counted):
        got = f(lo)
        plan = compiled(got)
        _one_loop_kernel(plan)
        same_tree(got, f(K))


def test_scanned_work_read_elsewhere_stays_a_kernel_of_its_own():
    """A scanned operand's work that another op reads too is stored once, by
    its own kernel, and the loop reads it."""
    e = lo.exp(XS * 0.1)
    got = (lo.scan(LINEAR(lo), np.zeros(7, "float32"), e), e + 1)
    plan = compiled(got)
    assert len(plan.kernels) == 2
    e_k = K.exp(XS * 0.1)
    same_tree(got, (K.scan(LINEAR(K), np.zeros(7, "float32"), e_k), e_k + 1))


def test_fori_loop_with_an_elementwise_body_is_one_loop_kernel():
    """The step index is a scanned int32 array, weakly typed as the Python
    int Keras passes: an int8, uint8 or float16 carry plus the index keeps
    its dtype and compiles, with Keras's values (int8 wrapping). Where the
    index meets a dtype that cannot hold every index (int8 and 200 to 239),
    the loop runs as Keras's does, driven from Python (Keras's NumPy backend
    raises there)."""
    for f, init in [(lambda i, v: v * 0.5 + i, np.ones(3, "float32")),
                    (lambda i, v: (v[0] + i, v[1] * 2), (np.float32(1), np.int32(1))),
                    (lambda i, v: v * 2 + i, np.ones(2, "int8")),
                    (lambda i, v: v * 0.5 + i - 1, np.ones(2, "float16")),
                    (lambda i, v: (v[0] + i, v[1] | (i > 30)), (np.ones(2, "uint8"),
                                                                np.zeros(2, bool)))]:
        got = lo.fori_loop(2, 40, f, init)
        _one_loop_kernel(compiled(got))
        same_tree(got, K.fori_loop(2, 40, f, init))
    f = lambda i, v: v * 2 + i  # noqa: E731
    got = lo.fori_loop(200, 240, f, np.ones(2, "int16"))  # int16 holds them: compiled
    _one_loop_kernel(compiled(got))
    same_tree(got, K.fori_loop(200, 240, f, np.ones(2, "int16")))
    with pytest.raises(OverflowError):
        K.fori_loop(200, 240, f, np.ones(2, "int8"))
    with pytest.raises(OverflowError):
        lo.fori_loop(200, 240, f, np.ones(2, "int8"))


@pytest.mark.parametrize("api", ["map", "vectorized_map"])
def test_elementwise_map_bodies_fuse_over_the_leading_axis(api):
    """The traced body's ops recorded again on the whole tensors: one kernel
    over the leading axis; a body reading the slice's shape keeps its
    meaning (the body is not called on the whole tensor)."""
    bodies = [lambda ops: (lambda x: ops.exp(x) * 2 + x.shape[0]),
              lambda ops: (lambda x: ops.cast(x > 0, "int32") + ops.cast(x, "int8"))]
    if api == "map":  # (Keras's vectorized_map stacks trees with np.stack)
        bodies.append(lambda ops: (lambda x: {"a": ops.cast(x > 0, "int32"), "b": ops.tanh(x) * W}))
    for body in bodies:
        got = getattr(lo, api)(body(lo), XS)
        plan = compiled(got)
        assert len(plan.kernels) == 1 and not plan.numpy_ops
        same_tree(got, getattr(K, api)(body(K), XS))
    pair = lo.vectorized_map(lambda a: a[0] * a[1] + 1, (XS, XS[::-1]))
    same_tree(pair, K.vectorized_map(lambda a: a[0] * a[1] + 1, (XS, XS[::-1])))
    # a reduction in the body: one call per slice
    same_tree(getattr(lo, api)(lambda x: lo.max(x), XS), getattr(K, api)(lambda x: K.max(x), XS))


WHILES = [
    # a counter and a scalar: Keras's own test case
    (lambda ops: (lambda i, s: ops.less(i, 6)),
     lambda ops: (lambda i, s: (ops.add(i, 1), ops.multiply(s, 1.5))), (0, np.float32(1.0)), None),
    # a counter beside a vector carry, at most 7 of the 10 steps
    (lambda ops: (lambda i, v: i < 10), lambda ops: (lambda i, v: (i + 1, v * 0.5 + XS[0])),
     (0, np.ones(7, "float32")), 7),
    # a scalar tolerance loop (Newton's iteration for sqrt(2)), a captured target
    (lambda ops: (lambda x: ops.abs(x * x - 2.0) > 1e-6),
     lambda ops: (lambda x: (x + 2.0 / x) * 0.5), np.float32(1.0), None),
    # a tuple of three, no steps at all
    (lambda ops: (lambda a, b, c: a > 5), lambda ops: (lambda a, b, c: (a, b, c)),
     (np.int32(0), np.float32(1), np.zeros(3, "float32")), None),
]


@pytest.mark.parametrize("case", range(len(WHILES)))
def test_while_loops_on_scalar_tests_compile_to_one_loop(case):
    cond, body, init, limit = WHILES[case]
    got = lo.while_loop(cond(lo), body(lo), init, maximum_iterations=limit)
    _one_loop_kernel(compiled(got), "lazy.while")
    same_tree(got, K.while_loop(cond(K), body(K), init, maximum_iterations=limit))


def test_a_while_test_that_reduces_is_an_op_run_step_by_step():
    """Recording computes nothing; the loop stands alone in the schedule (no
    kernel holds it) and runs its regions' plans when forced."""
    got = lo.while_loop(lambda v: lo.sum(v) < 100, lambda v: v * 2.0 + 1.0,
                        np.ones(3, "float32"))
    assert not got.is_materialized
    plan, _, _ = plan_of([got._value])
    assert [op.name for op in plan.scheduled.ops[:-1]] == ["lazy.while"]
    same_tree(got, K.while_loop(lambda v: K.sum(v) < 100, lambda v: v * 2.0 + 1.0,
                                np.ones(3, "float32")))


def test_while_ir_round_trip_and_verifier():
    i, v = lo.while_loop(lambda i, v: i < 4, lambda i, v: (i + 1, v * 2.0), (0, XS[0]))
    plan, _, _ = plan_of([i._value, v._value])
    text = print_function(plan.reference)
    func = parse_function(text)
    assert print_function(func) == text and "lazy.while" in text
    verifier.verify(func)
    op = next(op for op in func.ops if op.name == "lazy.while")
    op.regions.reverse()  # the body where the condition belongs
    with pytest.raises(verifier.VerificationError, match="block arguments"):
        verifier.verify(func)


def test_a_constant_recorded_by_an_earlier_call_is_copied_into_the_region():
    """Python scalars are memoized as values (1.0 a constant, which
    simplifications read): the second trace of a body reads the constant the
    first one recorded, which the region copies rather than captures, so
    both calls have one structure (one plan)."""
    from lazyops import engine
    engine.clear_plans()
    body = lambda h, x: (h / (lo.sum(lo.abs(h)) + 1.0) + x * 0.0 + x, None)  # noqa: E731
    for _ in range(2):
        lo.scan(body, np.ones(7, "float32"), XS[:5])[0].numpy()
    steps = [p for p in engine._plans.values() if p.recorded.startswith("func.func @step")]
    assert len(steps) == 1 and "value = 1.0" in steps[0].recorded, [p.recorded for p in steps]


def test_a_loop_run_step_by_step_reads_its_inputs_when_forced():
    """Recording a scan whose body reduces computes nothing: a write into its
    input before the force shows in the result, as for any graph; a while
    loop run step by step inside such a body (a loop op in the body's plan)
    runs its own plan at each step."""
    xs = XS[:12].copy()

    def f(ops):
        def inner(h):
            return ops.while_loop(lambda v: ops.sum(ops.abs(v)) > 4.0, lambda v: v * 0.5, h)
        return lambda h, x: (inner(h + x), ops.sum(h))
    got = lo.scan(f(lo), np.ones(7, "float32"), xs)
    xs[3] = 100.0
    same_tree(got, K.scan(f(K), np.ones(7, "float32"), xs))
    with lo.config.override(small_work=0, hot_seconds=0):
        for _ in range(3):
            same_tree(lo.scan(f(lo), np.ones(7, "float32"), xs),
                      K.scan(f(K), np.ones(7, "float32"), xs))
