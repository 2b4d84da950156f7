"""Common user patterns, compiled, against the reference interpreter: views
and transposed inputs under reductions, integer chains, mixed dtypes, and
the row-wise pipelines (logsumexp, layer norm) that cross kernel boundaries."""
import numpy as np
import pytest

import lazyops as lo
from compiled import assert_same, both_paths

rng = np.random.default_rng(1)
A = rng.standard_normal((6, 7, 8)).astype(np.float32)
X = lo.convert_to_tensor(A)
XI = lo.convert_to_tensor((A * 10).astype(np.int8))
XU = lo.convert_to_tensor((np.abs(A) * 10).astype(np.uint16))
XT = lo.convert_to_tensor(np.ascontiguousarray(A.transpose(2, 0, 1)))

EXACT = {
    "argmax of a transposed view": lambda: lo.argmax(lo.transpose(X, (1, 2, 0)), axis=1),
    "int8 chain with wrap-around": lambda: (XI * 7 + 100) // 3 - XI % 5,
    "uint16 chain": lambda: lo.maximum(XU * 3, 17) - 1,
    "any over a strided view": lambda: lo.any(X[:, ::2, 1:] > 1.0, axis=-1),
    "mixed int8 and float32": lambda: XI + X * 0.25,
    "reshape of a reduction": lambda: lo.reshape(lo.max(X, axis=0), (56,)) * 2.0,
    "where with a broadcast row": lambda: lo.where(X > 0, 1.5, X[0]),
    "transposed input": lambda: XT + lo.transpose(X, (2, 0, 1)),
    "integer clip": lambda: lo.clip(XI, -3, 4),
    "argmin of everything": lambda: lo.argmin(X * -1.0),
    "round to decimals": lambda: lo.round(X * 100.0, 1),
    "cast chain through float16": lambda: lo.cast(lo.cast(X * 10.0, "int16"), "float16") * 0.5,
}
SUMMED = {
    "centered by a keepdims sum": lambda: X - lo.sum(X, axis=(0, 2), keepdims=True) / 48.0,
    "mean over a reversed strided view": lambda: lo.mean(X[::-1, :, ::-2], axis=1),
    "var over axis 0": lambda: lo.var(X, axis=0),
    "std of everything": lambda: lo.std(X),
    "prod of rows": lambda: lo.prod(X[:, :, :4] * 0.5, axis=-1),
    "row sum broadcast back": lambda: lo.expand_dims(lo.sum(X, axis=1), 1) * X,
    "float16 row sum": lambda: lo.sum(lo.cast(X, "float16"), axis=1),
    "float64 exp sum": lambda: lo.sum(lo.exp(lo.cast(X, "float64")), axis=2),
    "logsumexp": lambda: lo.log(lo.sum(lo.exp(X - lo.max(X, axis=-1, keepdims=True)), axis=-1))
    + lo.max(X, axis=-1),
    "layer norm": lambda: (X - lo.mean(X, -1, keepdims=True))
    / lo.sqrt(lo.var(X, -1, keepdims=True) + 1e-5),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_pattern_exact(name):
    with np.errstate(all="ignore"):
        (got,), (want,), _ = both_paths([EXACT[name]()])
    assert_same(got, want, name)


@pytest.mark.parametrize("name", sorted(SUMMED))
def test_pattern_with_sums(name):
    # summation order differs between the paths: tolerance, exact dtype
    (got,), (want,), _ = both_paths([SUMMED[name]()])
    assert got.dtype == want.dtype and got.shape == want.shape
    tol = 2e-3 if got.dtype == np.float16 else 2e-5
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
