"""complex64 against keras.ops (NumPy backend): the ops exact per component
(add, subtract, negative, conjugate, real, imag, comparisons, where, NaN
tests, casts to complex) fuse into kernels; the other ops that take it run
as NumPy steps between kernels (Numba's complex multiply and absolute value
round otherwise than NumPy's), so results are NumPy's bit for bit; other ops
refuse it at the call."""
import numpy as np
import pytest

import lazyops as lo
from lazyops import engine
from lazyops.ir.registry import COMPLEX_FUSED, ELEMENTWISE_OPS, family
from oracle import K, assert_same, check


def cvalues(shape, seed=0, special=False):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    if special and z.size >= 4:
        flat = z.reshape(-1)
        flat[:4] = [complex(np.nan, 1), complex(np.inf, -2), complex(0, -np.inf), 0j]
    return z


Z = cvalues((2, 3), special=True)
W = cvalues((3,), seed=1)
F = np.random.default_rng(2).standard_normal((2, 3)).astype(np.float32)
I = np.arange(6, dtype=np.int32).reshape(2, 3)


@pytest.mark.parametrize("name", ["absolute", "abs", "real", "imag", "conj", "conjugate",
                                  "negative", "square", "copy", "ravel", "transpose",
                                  "reciprocal", "sign", "sqrt", "exp", "expm1", "log", "log1p",
                                  "log2", "log10", "sin", "cos", "tan", "sinh", "cosh", "tanh",
                                  "arctan", "isnan", "isfinite", "isinf", "logical_not"])
@pytest.mark.parametrize("x", [Z, cvalues((0, 3)), cvalues(()), Z.astype(np.complex128)],
                         ids=["2x3", "empty", "0-d", "complex128"])
def test_unary(name, x):
    check(name, x)


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "equal", "not_equal"])
@pytest.mark.parametrize("other", [W, Z, F, I, 2, 2.5, 1j, F.astype(np.float64)],
                         ids=["broadcast", "same", "float32", "int32", "int", "float", "complex",
                              "float64"])
def test_binary(name, other):
    check(name, Z, other)
    check(name, other, Z)


@pytest.mark.parametrize("name", ["sum", "mean", "prod"])
@pytest.mark.parametrize("kwargs", [{}, {"axis": 0}, {"axis": -1, "keepdims": True}])
def test_reductions(name, kwargs):
    check(name, cvalues((3, 4), seed=3), **kwargs)


def test_vdot_cast_and_views():
    check("vdot", W, W[::-1].copy())
    check("power", Z, 2)
    check("power", Z, W)
    check("where", np.abs(Z) > 1, Z, W)
    check("where", np.abs(Z) > 1, Z, 0.5)
    check("vdot", W, np.arange(3, dtype=np.float32))
    check("cast", F, "complex64")
    check("reshape", Z, (3, 2))
    check("concatenate", [Z, Z], axis=0)
    t = lo.convert_to_tensor(Z)
    assert t.dtype == "complex64" and lo.dtype(t) == "complex64"
    assert_same(t[1, ::-1].numpy(), Z[1, ::-1])


def test_complex_steps_sit_between_compiled_kernels():
    """Kernels compute complex64 values only with the ops exact per
    component (`COMPLEX_FUSED`); multiply and absolute stay NumPy steps."""
    z = cvalues((300, 70), seed=4, special=True)
    w = cvalues((70,), seed=5)
    zt = lo.convert_to_tensor(z)
    t = lo.sum(lo.abs(lo.exp(lo.convert_to_tensor(np.abs(z))) * 0 + zt * w) * 2.0, axis=1) \
        + lo.real(zt - w)[:, 0]
    plan = engine.plan_of([t._value])[0]
    for k in plan.kernels:
        block = k.regions[0].block
        for op in block.ops:
            if any(v.type.dtype.startswith("complex") for v in op.operands + op.results):
                assert family(op) != ELEMENTWISE_OPS or op.name[5:] in COMPLEX_FUSED, op.name
    with lo.config.override(small_work=0, tiered=False):
        got = t.numpy()
    want = K.convert_to_numpy(K.add(
        K.sum(K.multiply(K.abs(K.add(K.multiply(K.exp(np.abs(z)), 0), K.multiply(z, w))), 2.0),
              axis=1),
        K.real(K.subtract(z, w))[:, 0]))
    assert_same(got, want)


def test_exact_complex_ops_are_one_kernel_bit_for_bit():
    """add, subtract, negative, conjugate, real, imag, comparisons, where,
    the NaN tests and casts to complex64 run in one kernel on complex64
    values, over several parallel blocks with NaN and infinities at block
    edges, equal to keras.ops bit for bit."""
    n = 20000
    z, w = cvalues(n, seed=6), cvalues(n, seed=7)
    for i, v in [(0, complex(np.nan, 1)), (8191, complex(np.inf, 0)), (8192, complex(1, -np.inf)),
                 (n - 1, complex(0, np.nan))]:
        z[i] = v
    x = np.random.default_rng(8).standard_normal(n).astype(np.float32)
    x[8192] = np.nan

    def f(m, z, w, x):
        d = m.conjugate(m.negative(z) + w) - x
        keep = m.isfinite(d) & m.not_equal(z, w) | m.isnan(z)
        picked = m.where(keep, d, m.cast(x, "complex64") + 2.0)
        return picked, m.real(picked) - m.imag(z - w), m.isinf(d) | m.equal(z, w)
    with lo.config.override(small_work=0, tiered=False):
        outs = f(lo, *[lo.convert_to_tensor(a) for a in (z, w, x)])
        got = lo.evaluate(*outs)
        plan = engine.computed_by(outs[0]._value)[0]
    assert len(plan.kernels) == 1 and not plan.numpy_ops, plan.scheduled
    with np.errstate(all="ignore"):
        want = f(K, z, w, x)
    for g, wv in zip(got, want):
        assert_same(g, np.asarray(wv))


@pytest.mark.parametrize("call", [lambda: lo.arcsin(Z), lambda: lo.maximum(Z, Z),
                                  lambda: lo.max(Z), lambda: lo.sort(Z)])
def test_ops_without_complex_refuse_it_at_the_call(call):
    with pytest.raises(TypeError, match="complex64 operands are not supported"):
        call()


@pytest.mark.parametrize("name,args", [("zeros", ((2, 3),)), ("ones", ((2,),)),
                                       ("full", ((2,), 3)), ("zeros_like", (Z,)),
                                       ("full_like", (Z, 2.5))])
def test_creation(name, args):
    check(name, *args, dtype="complex64")


def test_cast_to_complex128_is_refused():
    with pytest.raises(TypeError, match="complex128"):
        lo.cast(F, "complex128")


def test_complex_types_print_and_parse():
    from lazyops.ir.core import collect
    from lazyops.ir.parser import parse_function
    from lazyops.ir.printer import print_function
    t = lo.real(lo.convert_to_tensor(Z) * W) + lo.cast(lo.convert_to_tensor(F), "complex64").real \
        if hasattr(lo.Tensor, "real") else lo.real(lo.convert_to_tensor(Z) * W)
    text = print_function(collect([t._value])[0])
    assert "tensor<2x3xcomplex<f32>>" in text
    assert print_function(parse_function(text)) == text
