"""Differential tests of the elementwise, reduction, shape and creation ops
against keras.ops (NumPy backend).

Cases come from compact tables: one row per op (name, value domains), and a
shared list of (dtype, shapes) configurations. Configurations are laid out
"diagonally" (each dtype paired with a different rank/broadcast/axis form)
rather than as a full cross product: every op sees every dtype and every
form while the number of distinct kernel structures (each compiled once by
the engine) stays small.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lazyops as lo
from compiled import BINARY_OPS, FLOAT_BINARY_OPS, UNARY_OPS, op_batch, registered
from oracle import (DTYPES, K, assert_same, check, keras_call, reduction_atol, values,
                    xfail_cases)

# ---------------------------------------------------------------- unary

# The op tables come from the registry (tests/compiled.py): a newly registered
# plain op is tested here with no more than, where "any" values would test
# little, its domain.

UNARY_DOMAIN = {"rsqrt": "pos", "exp": "small", "expm1": "small", "sinh": "small",
                "cosh": "small", "arcsin": "unit", "arccos": "unit", "arctanh": "unit",
                "erfinv": "unit", "arccosh": "pos"}
UNARY = {op: UNARY_DOMAIN.get(op, "any") for op in UNARY_OPS}

# (dtype, shape): every dtype once, with ranks 0..4 and empty shapes spread over them.
UNARY_CONFIGS = [
    ("bool", (3, 4)), ("int8", (3, 4)), ("int16", (2, 3, 4)), ("int32", (7,)),
    ("uint8", (3, 4)), ("float16", (2, 3, 4)), ("float32", (3, 4)), ("float64", (3, 4)),
    ("float32", ()), ("int32", ()), ("float32", (0,)), ("float32", (2, 0, 3)),
    ("float32", (2, 1, 3, 2)),
]

KNOWN_UNARY = {}


def _sid(shape):
    return "x".join(map(str, shape)) or "scalar"


def _unary_cases():
    return [(f"{op}-{d}-{_sid(s)}", (op, d, s)) for op in UNARY for d, s in UNARY_CONFIGS]


@pytest.mark.parametrize("op,dtype,shape", xfail_cases(_unary_cases(), KNOWN_UNARY))
def test_unary(op, dtype, shape):
    x = values(shape, dtype, UNARY[op])
    check(op, x)


@pytest.mark.parametrize("decimals", [1, 2, -1])
@pytest.mark.parametrize("dtype", ["float32", "int32", "float16"])
def test_round_decimals(dtype, decimals):
    x = values((3, 4), dtype, "any") * (np.asarray(7, dtype) if dtype != "float16" else 1)
    check("round", x, decimals=decimals)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_round_half_to_even(dtype):
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.25, 0.35, -0.45, 3.0], dtype)
    check("round", x)
    check("round", x, decimals=1)


@pytest.mark.parametrize("op", ["sqrt", "log", "log1p", "arcsin", "arccos", "rsqrt"])
def test_unary_out_of_domain(op):
    """NaN, -inf and -0.0 where the function leaves its domain."""
    x = np.array([-1.0, -0.0, 0.0, -2.0, np.inf, -np.inf, np.nan, 1.0, -1.5, 2.0], "float32")
    check(op, x)


# ---------------------------------------------------------------- binary

# op name -> (lhs domain, rhs domain, full case set?); comparisons and logical
# ops, whose result is bool, get the lighter set.
_LIGHT = ("small", "small", False)
BINARY_DOMAIN = {
    "floor_divide": ("any", "nonzero", True), "mod": ("any", "nonzero", True),
    "power": ("small", "expo", True), "true_divide": ("any", "any", False),
    **{op: _LIGHT for op in ("equal", "not_equal", "less", "less_equal", "greater",
                             "greater_equal", "logical_and", "logical_or", "logical_xor")},
}
BINARY = {op: BINARY_DOMAIN.get(op, ("any", "any", True)) for op in BINARY_OPS}

# Same dtype on both sides, each with its own broadcasting form.
SAME_CONFIGS = [
    ("bool", "bool", (3, 4), (3, 4)), ("int8", "int8", (3, 1), (1, 4)),
    ("int16", "int16", (2, 3, 4), (4,)), ("int32", "int32", (), (2, 3)),
    ("uint8", "uint8", (3, 4), (3, 4)), ("float16", "float16", (2, 1, 4), (3, 1)),
    ("float32", "float32", (3, 4), (3, 4)), ("float64", "float64", (2, 3, 4), (4,)),
]
SHAPE_CONFIGS = [
    ("float32", "float32", (0,), (1,)), ("float32", "float32", (2, 0, 3), (3,)),
    ("float32", "float32", (), ()), ("float32", "float32", (2, 3, 1, 2), (1, 3, 2, 1)),
]
MIXED_CONFIGS = [
    ("int8", "uint8", (3, 4), (4,)), ("bool", "int32", (3, 4), (4,)),
    ("uint8", "int16", (3, 4), (4,)), ("int16", "float16", (3, 4), (4,)),
    ("uint8", "float32", (3, 4), (4,)), ("float16", "float32", (3, 4), (4,)),
    ("int32", "float64", (3, 4), (4,)),
]
LIGHT_MIXED = [("int8", "float16", (3, 4), (4,)), ("bool", "uint8", (3, 4), (4,))]
# (tensor dtype, Python scalar, side of the scalar)
SCALAR_CONFIGS = [
    ("float32", 2.5, "right"), ("float32", 3, "left"), ("int32", 3, "right"),
    ("int32", 0.5, "left"), ("uint8", 2, "right"), ("int8", 2.5, "right"),
    ("float16", -2, "left"), ("bool", 1, "right"),
]
LIGHT_SCALARS = [("float32", 2.5, "right"), ("int32", 3, "left")]


def _pair_id(op, c):
    return f"{op}-{c[0]}{_sid(c[2])}-{c[1]}{_sid(c[3])}"


def _binary_cases():
    out = []
    for op, (_, _, full) in BINARY.items():
        configs = SAME_CONFIGS + (SHAPE_CONFIGS + MIXED_CONFIGS if full else LIGHT_MIXED)
        out += [(_pair_id(op, c), (op,) + c) for c in configs]
    return out


def _scalar_cases():
    out = []
    for op, (_, _, full) in BINARY.items():
        for d, s, side in (SCALAR_CONFIGS if full else LIGHT_SCALARS):
            out.append((f"{op}-{d}-{side}-{type(s).__name__}{s}", (op, d, s, side)))
    return out


KNOWN_BINARY = {}
KNOWN_SCALAR = {}


@pytest.mark.parametrize("op,d1,d2,s1,s2", xfail_cases(_binary_cases(), KNOWN_BINARY))
def test_binary(op, d1, d2, s1, s2):
    dom1, dom2, _ = BINARY[op]
    check(op, values(s1, d1, dom1, seed=1), values(s2, d2, dom2, seed=2))


@pytest.mark.parametrize("op,dtype,scalar,side", xfail_cases(_scalar_cases(), KNOWN_SCALAR))
def test_binary_scalar(op, dtype, scalar, side):
    dom1, dom2, _ = BINARY[op]
    if side == "right":
        check(op, values((3, 4), dtype, dom1), scalar)
    else:
        check(op, scalar, values((3, 4), dtype, dom2))


@pytest.mark.parametrize("op", ["floor_divide", "mod", "divide"])
@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "uint8", "bool"])
def test_integer_division_by_zero(op, dtype):
    """Whatever NumPy gives (0, with a warning) for integer division by zero,
    and for INT_MIN // -1."""
    if dtype == "bool":
        x, y = np.array([True, False, True, False]), np.array([False, False, True, True])
    else:
        info = np.iinfo(dtype)
        neg = -1 if info.min else 1
        x = np.array([7, 7 * neg, 0, info.min, info.max, 5, info.min, 3], dtype)
        y = np.array([0, 0, 0, 0, 0, neg, neg, 2], dtype)
    check(op, x, y)


@pytest.mark.parametrize("op", ["floor_divide", "mod"])
def test_float_floor_divide_mod_signs(op):
    x = np.array([7.0, -7.0, 7.0, -7.0, 0.0, -0.0, 1.0, np.inf, 5.5, -5.5], "float32")
    y = np.array([2.0, 2.0, -2.0, -2.0, 3.0, 3.0, 0.0, 2.0, np.inf, np.inf], "float32")
    check(op, x, y)


@pytest.mark.parametrize("dtype,exponent", xfail_cases(
    [(f"{d}-{e}", (d, e)) for d in ["float32", "int32", "uint8", "float16"]
     for e in [0, 1, 2, 3, -1, 0.5, -2, 8]], {}))
def test_power_static_exponents(dtype, exponent):
    """Small constant exponents may be rewritten (x**2 -> x*x); values must not change."""
    x = values((2, 3), dtype, "small")
    if "int" in dtype and exponent < 0:
        x = np.where(x == 0, 1, x).astype(dtype)
    check("power", x, exponent)


# ---------------------------------------------------------------- where / clip

WHERE_CONFIGS = [
    ("bool", "float32", "float32", (3, 4), (3, 4), (3, 4)),
    ("bool", "int8", "uint8", (3, 1), (1, 4), (4,)),
    ("int32", "float16", "int16", (3, 4), (), (4,)),
    ("float32", "bool", "bool", (2, 3, 4), (3, 4), (4,)),
    ("bool", "float64", "int32", (0,), (1,), (0,)),
    ("bool", "float32", 2.5, (3, 4), (3, 4), None),
    ("bool", 3, "int8", (3, 4), None, (3, 4)),
    ("bool", 1.5, 0, (3, 4), None, None),
]


@pytest.mark.parametrize("cd,d1,d2,sc,s1,s2", WHERE_CONFIGS,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}-{_sid(c[3])}" for c in WHERE_CONFIGS])
def test_where(cd, d1, d2, sc, s1, s2):
    c = values(sc, cd, "small")
    x1 = values(s1, d1, "any", 1) if isinstance(d1, str) else d1
    x2 = values(s2, d2, "any", 2) if isinstance(d2, str) else d2
    check("where", c, x1, x2)


CLIP_CONFIGS = [
    ("float32", -1.0, 2.0), ("float32", -1, 2), ("int32", -100, 50), ("int8", 0.5, 10.7),
    ("int16", -1.5, 2.5), ("uint8", 10, 200), ("bool", 0, 1), ("float16", -0.5, 0.25),
    ("float32", "arr", "arr"), ("int32", "arr", 5),
]


@pytest.mark.parametrize("dtype,lo_,hi", CLIP_CONFIGS,
                         ids=[f"{d}-{a}-{b}" for d, a, b in CLIP_CONFIGS])
def test_clip(dtype, lo_, hi):
    x = values((3, 4), dtype, "any")
    if isinstance(lo_, str):
        lo_ = values((4,), dtype, "small", 3)
    if isinstance(hi, str):
        hi = values((3, 1), dtype, "small", 4) + np.asarray(3, dtype)
    check("clip", x, lo_, hi)


# ---------------------------------------------------------------- reductions

REDUCTIONS = (registered("reduction", 1, ("axis", "keepdims"))
              + registered("composite", 1, ("axis", "keepdims")) + ["amax", "amin"])

# (dtype, shape, axis, keepdims)
REDUCE_CONFIGS = [
    ("bool", (3, 4), None, False), ("int8", (3, 4), 0, False),
    ("int16", (2, 3, 4), (0, 2), True), ("int32", (2, 3, 4), -1, False),
    ("uint8", (3, 4), None, True), ("float16", (2, 3, 4), (-1, -3), False),
    ("float32", (2, 3, 4), 1, True), ("float64", (5,), 0, False),
    ("float32", (), None, False), ("float32", (2, 3, 1, 2), (1, 3), False),
    ("float32", (0,), None, False), ("float32", (2, 0, 3), 1, False),
    ("float32", (2, 0, 3), 0, True), ("int32", (0,), None, False),
]

KNOWN_REDUCE = {}


def _reduce_cases():
    out = []
    for op in REDUCTIONS:
        for d, s, ax, kd in REDUCE_CONFIGS:
            out.append((f"{op}-{d}-{_sid(s)}-ax{ax}-kd{int(kd)}".replace(" ", ""),
                        (op, d, s, ax, kd)))
    return out


def _reduce_domain(op, dtype):
    if op == "prod":
        return "small"
    return "any"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # mean of an empty slice, as NumPy warns
@pytest.mark.parametrize("op,dtype,shape,axis,keepdims",
                         xfail_cases(_reduce_cases(), KNOWN_REDUCE))
def test_reduction(op, dtype, shape, axis, keepdims):
    x = values(shape, dtype, _reduce_domain(op, dtype))
    out_dtype = keras_call(op, x, axis=axis, keepdims=keepdims)[0]
    atol = reduction_atol(x, out_dtype.dtype) if out_dtype is not None else None
    if op == "prod" and atol is not None:
        atol = None
    check(op, x, axis=axis, keepdims=keepdims, atol=atol, signed_zero=False)


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "var", "std", "argmax", "argmin",
                                "prod", "any", "all"])
def test_reduction_finite_values(op):
    """Without NaN/inf, so the values themselves are compared everywhere."""
    x = values((3, 5), "float32", "finite" if op != "prod" else "small", 7)
    atol = None if op in ("argmax", "argmin", "any", "all") else reduction_atol(x, "float32")
    check(op, x, axis=1, atol=atol, signed_zero=False)
    check(op, x, atol=atol, signed_zero=False)


def test_argmax_ties_nan_and_signed_zero():
    x = np.array([[0.0, -0.0, 0.0], [-0.0, 0.0, -0.0], [1.0, np.nan, np.nan],
                  [2.0, 2.0, 1.0]], "float32")
    for op in ("argmax", "argmin"):
        check(op, x, axis=1)
        check(op, x, axis=0)
        check(op, x)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_initial(op):
    x = values((3, 4), "float32", "finite")
    check(op, x, axis=1, initial=0.5)
    check(op, values((3, 4), "int32", "any"), initial=7)


@pytest.mark.parametrize("dtype", ["float32", "int8", "uint8"])
def test_prod_dtype_arg(dtype):
    """Keras casts the elements first: prod([1.5, 1.5], dtype="int32") is 1."""
    check("prod", values((3, 4), dtype, "finite"), axis=0, dtype="int32")
    check("prod", np.array([1.5, 1.5, -2.7], "float32"), dtype="int32")


def test_sum_keeps_float16_accuracy():
    x = np.full((2048,), 0.1, "float16")
    check("sum", x, rtol=2e-3)
    check("mean", x, rtol=2e-3)


# Modest and deterministic: every run draws the same examples (and so compiles
# the same kernel structures).
HYPOTHESIS = settings(max_examples=50, deadline=None, derandomize=True, database=None)


@st.composite
def _reduce_args(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    rank = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or rank == 0:
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-rank, rank - 1))
    else:
        axes = draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))
        axis = tuple(a - rank if draw(st.booleans()) else a for a in axes)
    return shape, axis, draw(st.booleans())


@HYPOTHESIS
@given(args=_reduce_args(), op=st.sampled_from(["sum", "max", "mean", "any"]),
       dtype=st.sampled_from(["float32", "int32"]))
def test_reduction_random_axes(args, op, dtype):
    shape, axis, keepdims = args
    x = values(shape, dtype, "finite")
    check(op, x, axis=axis, keepdims=keepdims, atol=reduction_atol(x, "float32"),
          signed_zero=False)


@HYPOTHESIS
@given(args=_reduce_args())
def test_argmax_random_axes(args):
    shape, axis, keepdims = args
    if isinstance(axis, tuple):
        axis = axis[0]
    check("argmax", values(shape, "float32", "finite"), axis=axis, keepdims=keepdims)


@HYPOTHESIS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                 max_side=3),
       op=st.sampled_from(["add", "multiply", "maximum", "less", "divide"]),
       dtypes=st.sampled_from([("float32", "float32"), ("int32", "float32"),
                               ("int8", "int8")]))
def test_binary_broadcast_random(shapes, op, dtypes):
    s1, s2 = shapes.input_shapes
    check(op, values(s1, dtypes[0], "finite", 1), values(s2, dtypes[1], "finite", 2))


@HYPOTHESIS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3,
                                                 max_side=3))
def test_where_broadcast_random(shapes):
    sc, s1, s2 = shapes.input_shapes
    check("where", values(sc, "bool", "any"), values(s1, "float32", "finite", 1),
          values(s2, "float32", "finite", 2))


# ---------------------------------------------------------------- shape ops

X234 = ("float32", (2, 3, 4))
SHAPE_OPS = [
    ("reshape", X234, {"newshape": (4, 6)}), ("reshape", X234, {"newshape": (-1, 4)}),
    ("reshape", X234, {"newshape": (24,)}), ("reshape", X234, {"newshape": (2, 3, 4)}),
    ("reshape", ("int8", (6,)), {"newshape": (3, 1, 2)}), ("reshape", ("float32", ()),
                                                           {"newshape": (1, 1)}),
    ("reshape", ("float32", (2, 0, 3)), {"newshape": (0, 6)}),
    ("reshape", ("bool", (1,)), {"newshape": ()}), ("reshape", X234, {"newshape": -1}),
    ("transpose", X234, {}), ("transpose", X234, {"axes": (1, 0, 2)}),
    ("transpose", X234, {"axes": (-1, 0, 1)}), ("transpose", ("uint8", (3, 4)), {}),
    ("transpose", ("float32", ()), {}), ("transpose", ("int16", (2, 0, 3)), {"axes": [2, 0, 1]}),
    ("transpose", ("float16", (2, 1, 3, 2)), {"axes": (3, 1, 0, 2)}),
    ("expand_dims", X234, {"axis": 0}), ("expand_dims", X234, {"axis": -1}),
    ("expand_dims", X234, {"axis": 2}), ("expand_dims", X234, {"axis": (0, -1)}),
    ("expand_dims", ("int32", ()), {"axis": 0}),
    ("squeeze", ("float32", (1, 3, 1, 2)), {}),
    ("squeeze", ("float32", (1, 3, 1, 2)), {"axis": 0}),
    ("squeeze", ("float32", (1, 3, 1, 2)), {"axis": -2}),
    ("squeeze", ("float32", (1, 3, 1, 2)), {"axis": (0, 2)}), ("squeeze", ("int8", (1,)), {}),
    ("squeeze", ("float32", (3, 4)), {}),
    ("broadcast_to", ("float32", (3, 1)), {"shape": (2, 3, 4)}),
    ("broadcast_to", ("int32", ()), {"shape": (2, 3)}),
    ("broadcast_to", ("bool", (4,)), {"shape": (3, 4)}),
    ("broadcast_to", ("float32", (1,)), {"shape": (0,)}),
    ("broadcast_to", ("float16", (3, 4)), {"shape": (3, 4)}),
    ("broadcast_to", ("uint8", (1, 4)), {"shape": 4}),
]


@pytest.mark.parametrize("op,src,kwargs", SHAPE_OPS,
                         ids=[f"{o}-{s[0]}{_sid(s[1])}-{'-'.join(map(str, k.values()))}"
                              .replace(" ", "") for o, s, k in SHAPE_OPS])
def test_shape_op(op, src, kwargs):
    x = values(src[1], src[0], "any")
    check(op, x, **kwargs)


def test_views_compose_with_elementwise():
    """Views fused with elementwise work: transpose, broadcast and reshape of a chain."""
    x = values((2, 3, 4), "float32", "finite")
    y = values((4, 3), "float32", "finite", 1)
    kt, lt = K.convert_to_tensor(x), lo.convert_to_tensor(x)
    ky, ly = K.convert_to_tensor(y), lo.convert_to_tensor(y)
    exp = K.reshape(K.transpose(K.exp(kt) + 1.0, (2, 1, 0)) * ky[:, :, None], (12, 2))
    got = lo.reshape(lo.transpose(lo.exp(lt) + 1.0, (2, 1, 0)) * ly[:, :, None], (12, 2))
    assert_same(got.numpy(), K.convert_to_numpy(exp), what="chain")
    exp = K.sum(K.expand_dims(kt, 1) * K.broadcast_to(ky.T[None, None, :, 0:1], (2, 1, 3, 4)),
                axis=(1, 3))
    got = lo.sum(lo.expand_dims(lt, 1) * lo.broadcast_to(ly.T[None, None, :, 0:1], (2, 1, 3, 4)),
                 axis=(1, 3))
    assert_same(got.numpy(), K.convert_to_numpy(exp), atol=1e-5, what="reduce chain")


# ---------------------------------------------------------------- creation

CREATION = [
    ("zeros", ((2, 3),), {}), ("zeros", ((2, 3),), {"dtype": "int8"}), ("zeros", (4,), {}),
    ("zeros", ((),), {"dtype": "bool"}), ("zeros", ((0, 3),), {}),
    ("ones", ((2, 3),), {}), ("ones", ((3,),), {"dtype": "uint8"}),
    ("ones", ((2, 1, 2),), {"dtype": "float16"}), ("ones", ((),), {"dtype": "int32"}),
    ("full", ((2, 3), 7), {}), ("full", ((2, 3), 7), {"dtype": "int32"}),
    ("full", ((3,), 2.5), {"dtype": "float16"}), ("full", ((2, 2), True), {"dtype": "bool"}),
    ("full", ((2, 3), -1.5), {"dtype": "int16"}), ("full", ((2,), np.nan), {}),
    ("full", ((2, 3), "arr"), {}), ("full", ((0,), 3), {"dtype": "int8"}),
    ("full", ((2, 3), 300), {"dtype": "uint8"}),
    ("arange", (5,), {}), ("arange", (5.0,), {}), ("arange", (2, 9, 3), {}),
    ("arange", (1, 2, 0.25), {}), ("arange", (10, 0, -3), {}), ("arange", (0,), {}),
    ("arange", (5,), {"dtype": "float16"}), ("arange", (-3, 3), {"dtype": "int8"}),
    ("arange", (0.1, 1.0, 0.1), {}), ("arange", (3,), {"dtype": "bool"}),
    ("arange", (0, 1, 0.1), {"dtype": "float16"}), ("arange", (2, 7), {"dtype": "uint8"}),
    ("arange", (1, 0), {}),
]


def _creation_id(o, args, kwargs):
    return f"{o}{args}{kwargs.get('dtype', '')}".replace(" ", "")


@pytest.mark.parametrize("op,args,kwargs", xfail_cases(
    [(_creation_id(*c), c) for c in CREATION], {}))
def test_creation(op, args, kwargs):
    args = tuple(values((3,), "float32", "finite") if a == "arr" else a for a in args)
    check(op, *args, **kwargs)


LIKE = ["zeros_like", "ones_like", "full_like"]


@pytest.mark.parametrize("dtype", [None, "int8", "float16", "bool"])
@pytest.mark.parametrize("src", ["float32", "int32", "uint8", "bool"])
@pytest.mark.parametrize("op", LIKE)
def test_like(op, src, dtype):
    x = values((2, 3), src, "any")
    args = (x, 3) if op == "full_like" else (x,)
    check(op, *args, dtype=dtype)


def test_full_like_fill_values():
    x = values((2, 3), "int32", "any")
    check("full_like", x, 2.7)
    check("full_like", x, -1)
    check("full_like", values((2, 3), "float16", "any"), 1e-3)
    check("full_like", values((4,), "float32", "any"), values((4,), "float32", "any", 1))


# ---------------------------------------------------------------- conversion & metadata

CONVERT_INPUTS = [
    ("list-int", [1, 2, 3]), ("list-float", [1.0, 2.5]), ("list-mixed", [1, 2.5]),
    ("list-bool", [True, False]), ("nested", [[1, 2], [3, 4]]), ("int", 3), ("float", 2.5),
    ("bool", True), ("empty-list", []), ("f64", np.array([1.5, 2.5])),
    ("i64", np.array([1, 2], "int64")), ("u8", np.array([1, 200], "uint8")),
    ("f16", np.array([1.5], "float16")), ("np-scalar-f64", np.float64(2.5)),
    ("np-scalar-i64", np.int64(7)), ("u16", np.array([1, 2], "uint16")),
    ("u32", np.array([1, 2], "uint32")), ("i64-0d", np.array(5, "int64")),
]


@pytest.mark.parametrize("x", [c[1] for c in CONVERT_INPUTS], ids=[c[0] for c in CONVERT_INPUTS])
def test_convert_to_tensor(x):
    exp, err = keras_call("convert_to_tensor", x)
    assert err is None
    t = lo.convert_to_tensor(x)
    assert isinstance(t, lo.Tensor)
    assert_same(lo.convert_to_numpy(t), exp, what=f"convert_to_tensor({x!r})")
    assert t.dtype == exp.dtype.name
    assert lo.shape(t) == K.shape(K.convert_to_tensor(x))


@pytest.mark.parametrize("dtype", [None, "int8", "float16", "bool", "uint8", "float64", "int32"])
def test_convert_to_tensor_dtype_arg(dtype):
    x = np.array([0.0, 1.5, -2.0, 3.7], "float32") if dtype != "uint8" else \
        np.array([0.0, 1.5, 2.0, 3.7], "float32")
    exp, _ = keras_call(lambda v: K.convert_to_tensor(v, dtype=dtype), x)
    assert_same(lo.convert_to_numpy(lo.convert_to_tensor(x, dtype=dtype)), exp,
                what=f"convert_to_tensor(dtype={dtype})")
    assert_same(lo.convert_to_numpy(lo.convert_to_tensor([1, 0, 2], dtype=dtype)),
                keras_call(lambda v: K.convert_to_tensor(v, dtype=dtype), [1, 0, 2])[0],
                what=f"convert_to_tensor(list, dtype={dtype})")


def test_convert_to_tensor_of_tensor():
    t = lo.convert_to_tensor(np.arange(3))
    assert lo.convert_to_tensor(t) is t
    c = lo.convert_to_tensor(t, dtype="float16")
    assert c.dtype == "float16"
    np.testing.assert_array_equal(c.numpy(), np.arange(3, dtype="float16"))
    lazy = lo.add(t, 1)
    assert lo.convert_to_tensor(lazy) is lazy


def test_convert_to_numpy_and_metadata():
    x = values((2, 3), "int16", "any")
    t = lo.convert_to_tensor(x)
    out = lo.convert_to_numpy(t)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, x)
    assert lo.is_tensor(t) and not lo.is_tensor(3) and not lo.is_tensor([1.0])
    for v in (x, np.float32(2), 3, [1.0], t):  # as the NumPy backend: an ndarray is its tensor
        assert lo.is_tensor(v) == (K.is_tensor(v) or isinstance(v, lo.Tensor))
    assert lo.shape(t) == (2, 3) and isinstance(lo.shape(t), tuple)
    assert lo.dtype(t) == "int16"
    assert lo.shape(x) == K.shape(K.convert_to_tensor(x))
    assert lo.dtype(np.zeros(2)) == K.dtype(np.zeros(2)) == "float64"  # not converted
    np.testing.assert_array_equal(lo.convert_to_numpy([1, 2]), K.convert_to_numpy([1, 2]))
    np.testing.assert_array_equal(lo.convert_to_numpy(x), x)
    lazy = t * 2
    assert lo.shape(lazy) == (2, 3) and lo.dtype(lazy) == "int16"
    assert not lazy.is_materialized


@pytest.mark.parametrize("src", DTYPES)
def test_cast(src):
    """`cast` from `src` to every dtype; the casts are forced together."""
    x = values((2, 5), src, "castable")
    if src in ("int8", "int16", "int32"):
        x = np.concatenate([x, values((2, 5), src, "any", 1)], axis=1)  # wraps into small types
    lx = lo.convert_to_tensor(x)
    outs = [lo.cast(lx, d) for d in DTYPES]
    arrays = lo.evaluate(*outs)
    for d, t, a in zip(DTYPES, outs, arrays):
        exp, err = keras_call("cast", x, d)
        assert err is None
        assert t.dtype == exp.dtype.name
        assert_same(a, exp, what=f"cast({src} -> {d})")


def test_cast_float_specials():
    x = np.array([np.nan, np.inf, -np.inf, -0.0, 1e5, 65504.0, 1e-8], "float32")
    check("cast", x, "float16")
    check("cast", x, "bool")
    check("cast", values((4,), "float16", "any"), "float32")


# ---------------------------------------------------------------- compiled path
# Small graphs run on the NumPy interpreter by default (config `small_work`), so
# the tables above check the front end and the reference semantics. Here each
# batch of ops is forced through compiled kernels (`small_work=0`) and compared
# with Keras directly; a batch is one graph (a few kernels), so it compiles
# once per structure, then loads from the kernel cache.

SPECIAL_ROW = [-0.0, 0.0, -0.4, 0.4, -1.5, 2.5, np.nan, np.inf, -np.inf, 0.5, -2.0, 3.7,
               0.9, -0.9, 1e-3, 7.5]
RHS_ROW = [2.0, -0.0, 0.0, -3.0, 0.5, np.inf, 1.0, -np.inf, 2.0, np.nan, -0.5, 1.5,
           -1.0, 3.0, 0.25, -7.5]
INT8_ROW = [-128, 127, -7, 7, 0, 1, -1, 100, -100, 3, 5, -3, 64, -64, 2, 9]
INT8_RHS = [-1, 1, 2, -2, 3, 1, 2, 3, 2, 1, 2, 3, 2, 1, 3, 0]
SHIFT_RHS = [0, 1, 7, 8, 9, -1, 3, 2, 100, -100, 5, 6, 1, 2, 3, 4]  # counts out of range too
INT32_ROW = [0, 1, -1, 2, -2, 3, 4, -4, 6, -6, 2**31 - 1, -2**31, 100, 7, 5, -5]
INT_UNARY = ["erf", "reciprocal", "bitwise_invert", "imag", "conjugate", "real", "absolute",
             "arcsinh", "erfinv"]
BITS = ["bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift"]

# The float batches are built as test_compiled builds its own (`op_batch` over
# the same lists): the same kernels, compiled once per run.
COMPILED_BATCHES = {
    # name: (ops, lhs, rhs or None, dtype, kwargs)
    "unary-float32": (UNARY_OPS, SPECIAL_ROW, None, "float32", {}),
    "unary-float16": (UNARY_OPS, SPECIAL_ROW, None, "float16", {}),
    "binary-float32": (FLOAT_BINARY_OPS, SPECIAL_ROW, RHS_ROW, "float32", {}),
    "binary-int8": (["add", "subtract", "multiply", "divide", "floor_divide", "mod", "power",
                     "maximum", "minimum", "less", "equal", "logical_xor"],
                    INT8_ROW, [abs(v) for v in INT8_RHS], "int8", {}),
    "bits-int8": (BITS, INT8_ROW, SHIFT_RHS, "int8", {}),
    "bits-uint8": (BITS, [abs(v) % 256 for v in INT8_ROW], [abs(v) for v in SHIFT_RHS], "uint8",
                   {}),
    "bits-int32": (BITS + ["logaddexp", "divide_no_nan"], INT32_ROW, SHIFT_RHS, "int32", {}),
    "unary-int8": (INT_UNARY, INT8_ROW, None, "int8", {}),
    "unary-int32": (INT_UNARY, INT32_ROW, None, "int32", {}),
    "reduce-float32": (REDUCTIONS, SPECIAL_ROW[:12] + [1.0, -1.0, 2.0, 0.25], None, "float32",
                       {"axis": 1}),
}
KNOWN_COMPILED = {}


def _batch_input(name, row, dtype):
    a = np.array(row, dtype)
    return a.reshape(4, 4) if name.startswith("reduce") else a


@pytest.fixture(scope="module")
def compiled_results():
    """{batch: {op: (lazy result, forced array)}}, each batch forced compiled, at once."""
    out = {}
    for name, (ops, lhs, rhs, dtype, kwargs) in COMPILED_BATCHES.items():
        args = [lo.convert_to_tensor(_batch_input(name, lhs, dtype))]
        if rhs is not None:
            args.append(lo.convert_to_tensor(_batch_input(name, rhs, dtype)))
        tensors = op_batch(ops, *args, **kwargs)  # None: refused (Keras must raise too)
        live = {k: t for k, t in tensors.items() if t is not None}
        with lo.config.override(small_work=0), np.errstate(all="ignore"):
            arrays = lo.evaluate(*live.values())
        out[name] = {k: (tensors[k], dict(zip(live, arrays)).get(k)) for k in tensors}
    return out


@pytest.mark.parametrize("batch,op", xfail_cases(
    [(f"{b}-{op}", (b, op)) for b, spec in COMPILED_BATCHES.items() for op in spec[0]],
    KNOWN_COMPILED))
def test_compiled_vs_keras(compiled_results, batch, op):
    ops, lhs, rhs, dtype, kwargs = COMPILED_BATCHES[batch]
    args = [_batch_input(batch, lhs, dtype)]
    if rhs is not None:
        args.append(_batch_input(batch, rhs, dtype))
    expected, err = keras_call(op, *args, **kwargs)
    t, got = compiled_results[batch][op]
    if err is not None:
        assert t is None, f"Keras raised {err!r}; lazyops recorded {op}"
        return
    assert t is not None, f"lazyops raised for {op}; Keras gives {expected!r}"
    atol = reduction_atol(args[0], expected.dtype) if batch.startswith("reduce") else None
    assert_same(got, expected, atol=atol, signed_zero=not batch.startswith("reduce"),
                what=f"compiled {op}{tuple(a.dtype.name for a in args)}")


def test_mean_0d_over_axis_0_raises_like_numpy():
    with pytest.raises(ValueError):
        lo.mean(lo.convert_to_tensor(np.float32(2.5)), axis=0)


@pytest.mark.parametrize("op", ["sum", "max", "min", "prod", "any", "argmax"])
def test_reduce_0d_over_axis_0_like_numpy(op):
    x = np.float32(2.5)
    got = lo.convert_to_numpy(getattr(lo, op)(lo.convert_to_tensor(x), axis=0))
    want = K.convert_to_numpy(getattr(K, op)(K.convert_to_tensor(x), axis=0))
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


# Registered ops whose Keras differential tests are not rows of the tables
# above: op -> (test module, test function).
TESTED_ELSEWHERE = {
    "cast": ("test_ops_keras", "test_cast"), "clip": ("test_ops_keras", "test_clip"),
    "where": ("test_ops_keras", "test_where"),
    "custom_gradient": ("test_ops_library", "test_custom_gradient_forward_and_recorded_gradient"),
    "switch": ("test_control", "test_lazy_cond_and_switch_as_keras"),
    "scan": ("test_scan_compiled", "test_recurrences_compile_to_one_loop_and_match_keras"),
    "while": ("test_scan_compiled", "test_while_loops_on_scalar_tests_compile_to_one_loop"),
    **{op: ("test_scan_kernels", "test_associative_scan_matches_keras")
       for op in ("cummax", "cummin")},
    "constant": ("test_ops_keras", "test_creation"), "iota": ("test_ops_keras", "test_creation"),
    "slice": ("test_tensor", "test_getitem"), "matmul": ("test_tensor", "test_matmul_operator"),
    "nan_to_num": ("test_ops_math", "test_nan_to_num"), "isclose": ("test_ops_math", "test_isclose"),
    "select": ("test_ops_math", "test_select"),
    **{op: ("test_ops_shape", "test_shape_op") for op in (
        "diagonal", "windows", "concatenate", "pad", "repeat", "take", "take_along_axis",
        "slice_at", "slice_update", "scatter", "scatter_update", "linspace")},
    "index": ("test_indexing", "test_getitem_as_numpy"),
    "cast_storage": ("test_bfloat16", "test_float8_casts_as_keras"),
    **{op: ("test_ops_library", "test_library_op") for op in (
        "sort", "argsort", "argpartition", "top_k", "in_top_k", "searchsorted", "digitize",
        "bincount", "histogram", "median", "quantile", "norm", "slogdet", "segment", "dot",
        "vdot", "inner", "tensordot", "einsum", "cross", "correlate", "cumsum", "cumprod")},
}


def keras_tested():
    """Registered op name -> where its Keras cases are."""
    out = {op: ("test_ops_keras", "test_unary") for op in UNARY}
    out.update({op: ("test_ops_keras", "test_binary") for op in BINARY})
    out.update({op: ("test_ops_keras", "test_reduction") for op in REDUCTIONS})
    out.update({op: ("test_ops_keras", "test_shape_op") for op, _, _ in SHAPE_OPS})
    out.update(TESTED_ELSEWHERE)
    return out

