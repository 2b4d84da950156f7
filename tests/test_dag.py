"""Random DAGs of ops: compiled kernels agree with the reference interpreter
and with NumPy, whatever the fusion decisions were."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lazyops as lo
from compiled import both_paths

F = np.float32
UNARY = {
    "tanh": (lo.tanh, np.tanh), "sin": (lo.sin, np.sin), "abs": (lo.abs, np.abs),
    "neg": (lo.negative, np.negative),
    "soft": (lambda x: x / (lo.abs(x) + 1.0), lambda x: x / (np.abs(x) + F(1))),
    "expneg": (lambda x: lo.exp(-lo.abs(x)), lambda x: np.exp(-np.abs(x))),
    "sq": (lo.square, np.square),
}
BINARY = {
    "add": (lo.add, np.add), "sub": (lo.subtract, np.subtract), "mul": (lo.multiply, np.multiply),
    "max": (lo.maximum, np.maximum), "min": (lo.minimum, np.minimum),
    "where": (lambda a, b: lo.where(a > b, a, b * 0.5), lambda a, b: np.where(a > b, a, b * F(0.5))),
    "scaled": (lambda a, b: a * 0.75 + b, lambda a, b: a * F(0.75) + b),
}
REDUCE = {
    "sum": (lo.sum, np.sum), "max": (lo.max, np.max), "mean": (lo.mean, np.mean),
}


@st.composite
def dags(draw):
    rank = draw(st.integers(1, 3))
    base = tuple(draw(st.lists(st.integers(1, 6), min_size=rank, max_size=rank)))
    nodes = []  # (lazy tensor, numpy array)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    for _ in range(draw(st.integers(1, 3))):
        shape = tuple(d if draw(st.booleans()) else 1 for d in base)
        a = rng.standard_normal(shape).astype(F)
        nodes.append((lo.convert_to_tensor(a), a))
    for _ in range(draw(st.integers(2, 12))):
        kind = draw(st.sampled_from(["unary", "binary", "binary", "reduce"]))
        i = draw(st.integers(0, len(nodes) - 1))
        x, xa = nodes[i]
        if kind == "unary":
            f, g = UNARY[draw(st.sampled_from(sorted(UNARY)))]
            nodes.append((f(x), g(xa)))
        elif kind == "binary":
            y, ya = nodes[draw(st.integers(0, len(nodes) - 1))]
            f, g = BINARY[draw(st.sampled_from(sorted(BINARY)))]
            nodes.append((f(x, y), g(xa, ya)))
        elif x.ndim:
            f, g = REDUCE[draw(st.sampled_from(sorted(REDUCE)))]
            axis = draw(st.integers(-x.ndim, x.ndim - 1))
            nodes.append((f(x, axis=axis, keepdims=True), g(xa, axis=axis, keepdims=True)))
    outs = [nodes[-1]] + [nodes[draw(st.integers(0, len(nodes) - 1))]]
    return outs


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags())
def test_random_dags_compiled_match_interpreter_and_numpy(outs):
    tensors = [t for t, _ in outs]
    with np.errstate(all="ignore"):
        compiled, interpreted, plan = both_paths(tensors)
    for c, i, (t, want) in zip(compiled, interpreted, outs):
        want = np.asarray(want, F)
        for got in (c, i):
            assert got.dtype == np.float32 and got.shape == want.shape
            scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * scale)
