"""The scheduler cuts expressions into the expected number of kernels."""
import numpy as np
import pytest

import lazyops as lo
from lazyops.engine import plan_of
from lazyops.ir.verifier import verify

rng = np.random.default_rng(0)
X = lo.convert_to_tensor(rng.standard_normal((16, 8)).astype(np.float32))
Y = lo.convert_to_tensor(rng.standard_normal((16, 8)).astype(np.float32))
V = lo.convert_to_tensor(rng.standard_normal((8,)).astype(np.float32))
C = lo.convert_to_tensor(rng.standard_normal((16, 1)).astype(np.float32))


def chain10(x, y):
    z = x
    for _ in range(5):
        z = lo.tanh(z * 1.5 + y)
    return z


def softmax(x):
    e = lo.exp(x - lo.max(x, axis=1, keepdims=True))
    return e / lo.sum(e, axis=1, keepdims=True)


CASES = [
    ("(x*2+y)*0.5-x", lambda: (X * 2 + Y) * 0.5 - X, 1),
    ("10-op chain", lambda: chain10(X, Y), 1),
    ("sum((x-y)**2)", lambda: lo.sum((X - Y) ** 2), 1),
    ("row sum of a chain", lambda: lo.sum(lo.exp(X) * Y, axis=1), 1),
    ("broadcast row vector", lambda: X * V + C, 1),
    ("transpose of a chain", lambda: lo.transpose(lo.exp(X) + 1.5) * 3.0, 1),
    ("slice of a chain", lambda: (X * 3.0 + Y)[::2, 1:], 1),
    ("reshape of a chain", lambda: lo.reshape(X * 3.0, (8, 16)) + 1.5, 1),
    ("zeros + x", lambda: lo.zeros((16, 8)) + X, 1),
    ("arange chain", lambda: lo.arange(100) * 3 + 1, 1),
    ("where with compare", lambda: lo.where(X > 0, X, Y * 2.0), 1),
    ("two reductions of one chain", lambda: [lo.sum(X * Y, axis=1), lo.max(X * Y, axis=1)], 1),
    ("mean then center", lambda: X - lo.mean(X, axis=0), 1),
    ("softmax rows", lambda: softmax(X), 1),
    ("var", lambda: lo.var(X, axis=1), 1),
    ("matmul then bias", lambda: (X @ lo.transpose(Y)) + 1.5, 1),
    ("reductions of one input (horizontal)", lambda: [lo.sum(X, axis=1), lo.max(X, axis=1)], 1),
    ("elementwise siblings (horizontal)", lambda: [X * 3.0, X + Y], 1),
    ("epilogue on row reductions", lambda: lo.mean((X - Y) ** 2, axis=1) * 0.5 + lo.max(X, axis=1), 1),
    ("epilogue on a full reduction", lambda: lo.sqrt(lo.sum((X - Y) ** 2) / 10.0), 1),
    ("std", lambda: lo.std(X, axis=1), 1),
]


@pytest.mark.parametrize("name,build,kernels", CASES, ids=[c[0] for c in CASES])
def test_kernel_count(name, build, kernels):
    out = build()
    outs = out if isinstance(out, list) else [out]
    plan, pending, leaves = plan_of([t._value for t in outs])
    verify(plan.scheduled)
    assert len(plan.kernels) == kernels, plan.scheduled


def test_a_value_feeding_max_and_exp_is_computed_once():
    # The shift must use the very value the max saw: one ulp of difference
    # between a recomputed copy and the stored one would turn into inf/nan.
    z = X * 3.0
    e = lo.exp(z - lo.max(z, axis=1, keepdims=True))
    plan, pending, leaves = plan_of([e._value])
    multiplies = [op for k in plan.kernels for op in k.regions[0].block.ops
                  if op.name == "lazy.multiply"]
    assert len(multiplies) == 1
