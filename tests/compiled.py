"""Helpers to run a graph both compiled and on the reference interpreter, and
the op batches that several tests compile."""
import numpy as np

import lazyops as lo
from lazyops.engine import plan_of
from lazyops.ir.registry import all_ops, family

TOL = {"float16": 1e-3, "float32": 2e-6, "float64": 1e-13}


def both_paths(tensors):
    """(compiled outputs, interpreter outputs) for the graph of `tensors`."""
    plan, pending, leaves = plan_of([t._value for t in tensors])
    args = [leaf.data for leaf in leaves]
    return plan.run(args, compiled=True), plan.run(args, compiled=False), plan


def both_paths_named(named):
    """{name: (compiled, interpreter) output} for the tensors of `named` that
    are computed (an op that returns its operand, or a repeat, computes nothing)."""
    values = [t._value for t in named.values()]
    plan, pending, leaves = plan_of(values)
    args = [leaf.data for leaf in leaves]
    got, want = plan.run(args, compiled=True), plan.run(args, compiled=False)
    assert len(got) == len(want) == len(pending)
    index = {id(v): k for k, v in enumerate(pending)}
    return {name: (got[index[id(v)]], want[index[id(v)]])
            for name, v in zip(named, values) if id(v) in index}


def assert_same(got, want, what=""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if want.dtype.kind == "f":
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=what)
        rtol = TOL[want.dtype.name]
        tiny = np.finfo(want.dtype).tiny * 4
        np.testing.assert_allclose(got, want, rtol=rtol, atol=tiny, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


# ---------------------------------------------------------------- shared op batches
# Kernels are cached by their source, which depends on the ops, dtypes and loop
# form, never on sizes or values. Tests that compile the same batch of ops on
# operands of the same dtypes and layout build it with `op_batch` from these
# lists, in this order, so they build the same kernel and a run compiles it
# once: float32 and float16 unary and float32 binary are checked against Keras
# in test_ops_keras and against the interpreter in test_compiled.

def registered(fam, arity=None, attrs=()):
    """Registered op names of family `fam` (with `arity` operands and exactly
    the static attributes `attrs`), sorted."""
    return sorted(d.name for n, d in all_ops().items() if family(n) == fam
                  and (arity is None or d.arity == arity) and set(d.attrs) == set(attrs))


UNARY_OPS = registered("elementwise", 1) + ["abs", "round"]
BINARY_OPS = registered("elementwise", 2) + ["true_divide"]
# bitwise ops refuse floats, as in Keras; true_divide is divide
FLOAT_BINARY_OPS = [op for op in BINARY_OPS if op != "true_divide"]
BITWISE_OPS = {"bitwise_invert", "bitwise_and", "bitwise_or", "bitwise_xor", "left_shift",
               "right_shift"}


def op_batch(ops, *args, **kwargs):
    """{op: lazy `lo.<op>(*args, **kwargs)`, or None where lazyops refuses the
    operands at the call (TypeError or ValueError, as Keras raises)}, recorded
    in the order of `ops`."""
    out = {}
    for op in ops:
        try:
            out[op] = getattr(lo, op)(*args, **kwargs)
        except (TypeError, ValueError):
            out[op] = None
    return out
