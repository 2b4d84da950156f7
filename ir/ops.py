"""Every lazy op, defined once.

Elementwise ops take operands of one compute dtype (the front end casts to it
with the op's `promote` rule, which reproduces the Keras NumPy backend) and
broadcast them NumPy-style. Reductions, views and sources carry their static
parameters as attributes.
"""
import numpy as np

from . import dtypes as D
from .registry import (CONTROL_FLOW, ELEMENTWISE, EXACT, GRADIENT, LIBRARY, LOOP, REDUCTION,
                       SCAN, SOURCE, STRUCTURAL, VIEW, OpDef, Reduce, register)
from .shapes import broadcast_shapes, reduced_shape
from .types import TensorType

# ---------------------------------------------------------------- promotion rules
# Each takes the operands' dtypes, where a weak Python scalar is given as the
# Python type `int` or `float`, and returns the compute dtype.


def arith(*ds):
    return D.result_type(*ds)


def true_div(*ds):
    return D.result_type(*ds, float)


def numpy_rule(*ds):
    """NumPy 2's own promotion, Python scalars weak: Keras's NumPy backend
    compares with plain NumPy (int32 > float32 compares in float64)."""
    return np.result_type(*({int: 0, float: 0.0}[d] if isinstance(d, type) else np.dtype(d)
                            for d in ds)).name


def strong(*ds):
    """Python scalars are converted to tensors first (int32/float32), not weak."""
    return D.result_type(*(D.standardize(d) for d in ds))


def mod_rule(*ds):
    d = strong(*ds)
    return "int32" if d == "bool" else d


def float_unary(d):
    return D.FLOATX if d == "int64" else D.result_type(d, float)


def int_to_floatx(d):
    d = D.standardize(d)
    return D.FLOATX if (d == "bool" or D.is_int(d)) else d


def same(d):
    return D.standardize(d)


def bool_to_int32(d):
    d = D.standardize(d)
    return "int32" if d == "bool" else d


def to_bool(*ds):
    return "bool"


def strong_true_div(*ds):
    return D.result_type(*(D.standardize(d) for d in ds), float)


def no_bool(rule, what):
    """NumPy rejects booleans here once operands are promoted (bool - bool)."""
    def promote(*ds):
        d = rule(*ds)
        if d == "bool":
            raise TypeError(f"boolean inputs are not supported by {what}; "
                            "use logical_xor / logical_not or cast the input first")
        return d
    return promote


# ---------------------------------------------------------------- type inference

def _elementwise_infer(result):
    def infer(types, attrs):
        shape = broadcast_shapes("elementwise", [t.shape for t in types])
        dt = types[-1].dtype  # `where` takes its compute dtype from the branches
        return [TensorType(shape, result(dt) if callable(result) else (result or dt))]
    return infer


def _reduce_infer(result):
    def infer(types, attrs):
        (t,) = types
        shape = reduced_shape(t.shape, attrs["axis"], attrs["keepdims"])
        return [TensorType(shape, result(t.dtype))]
    return infer


def sum_dtype(d):
    if d in ("bool", "int8", "int16"):
        return "int32"
    if d in ("uint8", "uint16"):
        return "uint32"
    return d


def real_part(d):
    """The dtype of a magnitude or a part of `d` (complex64 -> float32)."""
    return "float32" if d == "complex64" else d


def mean_dtype(d):
    return D.result_type(d, "float32") if (d == "bool" or D.is_int(d)) else d


def acc_dtype(d):
    """Accumulator for sums: wide enough to keep float16/float32 sums accurate."""
    return {"float16": "float32", "bfloat16": "float32", "float32": "float64"}.get(d, d)


# ---------------------------------------------------------------- helpers

def _reg(name, traits, arity, **kw):
    return register(OpDef(name=name, traits=frozenset(traits), arity=arity, **kw))


def unary(name, scalar, reference, promote=same, result=None, cost=1):
    _reg(name, [ELEMENTWISE], 1, infer=_elementwise_infer(result), reference=reference,
         scalar=scalar, promote=promote, cost=cost)


def binary(name, scalar, reference, promote=arith, result=None, cost=1, exact=False):
    _reg(name, [ELEMENTWISE] + ([EXACT] if exact else []), 2, infer=_elementwise_infer(result),
         reference=reference, scalar=scalar, promote=promote, cost=cost)


def reduction(name, reference, result, recipe=None, attrs=None, decompose=None):
    schema = {"axis": "ints", "keepdims": "bool"}
    schema.update(attrs or {})
    _reg(name, [REDUCTION], 1, attrs=schema, infer=_reduce_infer(result),
         reference=reference, reduce=recipe, decompose=decompose)


# ---------------------------------------------------------------- elementwise

binary("add", {"bool": "({0} | {1})", "any": "({0} + {1})"}, np.add, exact=True)
binary("subtract", "({0} - {1})", np.subtract,
       promote=no_bool(arith, "subtract (the `-` operator)"), exact=True)
binary("multiply", {"bool": "({0} & {1})", "any": "({0} * {1})"}, np.multiply, exact=True)
binary("divide", "({0} / {1})", np.divide, promote=true_div, cost=4)
binary("floor_divide", "floor_divide({0}, {1})", np.floor_divide,
       result=lambda d: "int8" if d == "bool" else d, cost=4)
binary("mod", "mod({0}, {1})", np.mod, promote=mod_rule, cost=4)
binary("power", "power({0}, {1})", np.power,
       result=lambda d: "int8" if d == "bool" else d, cost=8)
# On ties (+0.0 against -0.0) NumPy's float16 loops keep the first operand,
# its float32/float64 loops the second.
binary("maximum", {"bool": "({0} | {1})", "float16": "maximum_first({0}, {1})",
                   "any": "maximum({0}, {1})"}, np.maximum)
binary("minimum", {"bool": "({0} & {1})", "float16": "minimum_first({0}, {1})",
                   "any": "minimum({0}, {1})"}, np.minimum)
binary("arctan2", "arctan2({0}, {1})", np.arctan2, promote=strong_true_div, cost=16)
for _n, _op in [("equal", "=="), ("not_equal", "!="), ("less", "<"),
                ("less_equal", "<="), ("greater", ">"), ("greater_equal", ">=")]:
    binary(_n, f"({{0}} {_op} {{1}})", getattr(np, _n), promote=numpy_rule, result="bool")
binary("logical_and", "({0} & {1})", np.logical_and, promote=to_bool, result="bool")
binary("logical_or", "({0} | {1})", np.logical_or, promote=to_bool, result="bool")
binary("logical_xor", "({0} ^ {1})", np.logical_xor, promote=to_bool, result="bool")

unary("negative", "(-{0})", np.negative,
      promote=no_bool(same, "negative (the unary `-` operator)"))
unary("absolute", {"bool": "{0}", "any": "abs({0})"}, np.absolute, result=real_part)
unary("square", "({0} * {0})", np.square, promote=bool_to_int32)
unary("sign", "sign({0})", np.sign, promote=no_bool(same, "sign"))
unary("logical_not", "(not {0})", np.logical_not, promote=to_bool, result="bool")
for _n in ["sqrt", "log", "log1p", "log2", "log10", "sin", "cos", "tan", "tanh",
           "sinh", "cosh", "arcsin", "arccos", "arctan"]:
    unary(_n, f"{_n}({{0}})", getattr(np, _n), promote=float_unary,
          cost=2 if _n == "sqrt" else 16)
unary("rsqrt", "(1 / sqrt({0}))", lambda x: 1 / np.sqrt(x), promote=same, cost=4)
unary("exp", "exp({0})", np.exp, promote=int_to_floatx, cost=16)
unary("expm1", "expm1({0})", np.expm1, promote=int_to_floatx, cost=16)
unary("floor", "floor({0})", np.floor, promote=float_unary)
unary("ceil", "ceil({0})", np.ceil, promote=float_unary)
unary("trunc", {"float": "trunc({0})", "any": "{0}"}, np.trunc)
unary("isnan", {"bool": "False", "int": "False", "any": "isnan({0})"}, np.isnan, result="bool")
unary("isinf", {"bool": "False", "int": "False", "any": "isinf({0})"}, np.isinf, result="bool")
unary("isfinite", {"bool": "True", "int": "True", "any": "isfinite({0})"}, np.isfinite, result="bool")

_reg("round", [ELEMENTWISE], 1, attrs={"decimals": "int"},
     infer=_elementwise_infer(lambda d: "float16" if d == "bool" else d),
     reference=lambda x, decimals=0: np.round(x, decimals=decimals),
     scalar={"float16": "round_half_even_f16({0}, {decimals})",
             "float": "round_half_even({0}, {decimals})",
             "int": "round_int({0}, {decimals})", "bool": "{0}"},
     promote=same)
# A float's conversion to int32 or int64 as x86-64 makes it: truncated where
# it fits, else (NaN, infinities, out of range) the least value. Written as
# a select: LLVM's conversion of such a value is undefined, and it folded a
# constant one (after the printer made an operand a literal, as `isnan` of
# an integer) to garbage.
_TO_INT = "(np.{i}({x}) if {lo!r} <= {x} < {hi!r} else np.{i}({z}))"


def _to_int(i, x="{0}"):
    bits = 32 if i == "int32" else 64
    return _TO_INT.format(i=i, x=x, lo=-2.0 ** (bits - 1), hi=2.0 ** (bits - 1),
                          z=-2 ** (bits - 1))


# x >= 2**(bits-1): convert x - 2**(bits-1) and set the top bit back (NaN takes
# the signed conversion, as in NumPy)
def _unsigned_by_halves(u, i, h):
    return (f"(np.{u}({_to_int(i, f'({{0}} - {h!r})')}) ^ np.{u}({h:.0f}) if {{0}} >= {h!r} "
            f"else np.{u}({_to_int(i)}))")


# ml_dtypes converts bfloat16 to an integer as trunc(x) where that fits the
# integer type, else 0 (NaN and infinities included)
_BF16_TO_INT = {
    f"bfloat16_to_{d}": "({dtype}(trunc({0})) if " + repr(float(np.iinfo(d).min)) +
    " <= trunc({0}) < " + repr(float(np.iinfo(d).max) + 1) + " else {dtype}(0))"
    for d in D.INTS}
_reg("cast", [ELEMENTWISE], 1, attrs={"dtype": "dtype"},
     infer=lambda types, attrs: [types[0].with_dtype(attrs["dtype"])],
     reference=lambda x, dtype: x.astype(dtype),
     # float -> int as NumPy's loops convert on x86-64, NaN, inf and values
     # out of range included: 8/16-bit ints through int32 (a direct
     # conversion may saturate where LLVM vectorizes it); unsigned 32/64-bit
     # by halves of the range, float16's uint32 through int64
     scalar={"to_bool": "({0} != 0)",
             **{f"float_to_{d}": "{dtype}(" + _to_int("int32") + ")"
                for d in ("int8", "int16", "uint8", "uint16", "int32")},
             "float_to_int64": _to_int("int64"),
             "float_to_uint32": _unsigned_by_halves("uint32", "int32", 2.0 ** 31),
             "float16_to_uint32": "{dtype}(" + _to_int("int64") + ")",
             "float_to_uint64": _unsigned_by_halves("uint64", "int64", 2.0 ** 63),
             **_BF16_TO_INT,
             "any": "{dtype}({0})"})
_reg("where", [ELEMENTWISE], 3, infer=_elementwise_infer(None),
     reference=lambda c, x, y: np.where(c, x, y), scalar="({1} if {0} else {2})",
     promote=arith, conditions=lambda attrs: 1)

# ---------------------------------------------------------------- sources

_reg("constant", [SOURCE, STRUCTURAL], 0, attrs={"value": "scalar", "dtype": "dtype"},
     infer=lambda types, attrs: [TensorType((), attrs["dtype"])],
     reference=lambda value, dtype: np.asarray(value, dtype=dtype))
_reg("iota", [SOURCE], 2, attrs={"size": "int"},
     infer=lambda types, attrs: [TensorType((attrs["size"],), types[0].dtype)],
     reference=lambda start, step, size: start + np.arange(size).astype(start.dtype) * step,
     scalar="({0} + {index} * {1})")

# ---------------------------------------------------------------- views

_reg("reshape", [VIEW], 1, attrs={"shape": "ints"},
     infer=lambda types, attrs: [TensorType(attrs["shape"], types[0].dtype)],
     reference=lambda x, shape: np.reshape(x, shape))
_reg("transpose", [VIEW], 1, attrs={"perm": "ints"},
     infer=lambda types, attrs: [TensorType(tuple(types[0].shape[p] for p in attrs["perm"]),
                                            types[0].dtype)],
     reference=lambda x, perm: np.transpose(x, perm))
_reg("broadcast_to", [VIEW], 1, attrs={"shape": "ints"},
     infer=lambda types, attrs: [TensorType(attrs["shape"], types[0].dtype)],
     reference=lambda x, shape: np.broadcast_to(x, shape))
_reg("slice", [VIEW], 1, attrs={"start": "ints", "stop": "ints", "step": "ints"},
     infer=lambda types, attrs: [TensorType(
         tuple(len(range(a, b, s)) for a, b, s in zip(attrs["start"], attrs["stop"], attrs["step"])),
         types[0].dtype)],
     reference=lambda x, start, stop, step: x[tuple(
         slice(a, (None if b < 0 else b), s) for a, b, s in zip(start, stop, step))])

# ---------------------------------------------------------------- reductions


def _np_reduce(f):
    return lambda x, axis, keepdims: f(x, axis=tuple(axis), keepdims=keepdims)


def _sum_ref(x, axis, keepdims):
    return np.sum(x, axis=tuple(axis), keepdims=keepdims, dtype=acc_dtype(sum_dtype(x.dtype.name)))


def _mean_ref(x, axis, keepdims):
    d = x.dtype.name
    acc = "float64" if (d == "bool" or D.is_int(d)) else ("float32" if d in D.HALF else d)
    return np.mean(x, axis=tuple(axis), keepdims=keepdims, dtype=acc)


def _arg_ref(f):
    def ref(x, axis, keepdims):
        if D.is_float(x.dtype.name):  # -0.0 sorts below +0.0, as in Keras, at >= float32
            x = x.astype(np.result_type(x.dtype, np.float32))
            x = np.where((x == 0) & np.signbit(x), -np.finfo(x.dtype).tiny, x)
        if len(axis) == x.ndim and x.ndim != 1:
            out = f(x.reshape(-1), axis=0)
            return np.reshape(out, (1,) * x.ndim if keepdims else ())
        return f(x, axis=axis[0], keepdims=keepdims)
    return ref


reduction("sum", _sum_ref, sum_dtype,
          Reduce("zero", lambda d: acc_dtype(sum_dtype(d)), "({acc} + {x})",
                 regroup="radd({acc}, {x})"))
# NumPy multiplies float16 in float32 and rounds once; compiled, float32
# products accumulate in float64 (regrouped float32 lanes drifted 60 ulps
# from the exact product of 3500 values near 1, NumPy's chain 20)
reduction("prod", _np_reduce(lambda x, **k: np.prod(
    x, dtype="float32" if x.dtype.name in D.HALF else sum_dtype(x.dtype.name), **k)),
          sum_dtype, Reduce("one", lambda d: acc_dtype(sum_dtype(d)),
                            "({acc} * {x})", regroup="rmul({acc}, {x})"))
# max/min: an ordered select (the later element wins ties, as in NumPy),
# with NaN tracked apart and propagated at the end; regrouped, an extreme
# that orders -0.0 below +0.0 (see codegen/scalar.py `rmax`).
reduction("max", _np_reduce(np.max), lambda d: d,
          Reduce("lowest", lambda d: d, "({acc} if {acc} > {x} else {x})", nan=True,
                 regroup="rmax({acc}, {x})"))
reduction("min", _np_reduce(np.min), lambda d: d,
          Reduce("highest", lambda d: d, "({acc} if {acc} < {x} else {x})", nan=True,
                 regroup="rmin({acc}, {x})"))
reduction("any", _np_reduce(np.any), lambda d: "bool",
          Reduce("false", lambda d: "bool", "({acc} | ({x} != 0))", merge="({acc} | {other})"))
reduction("all", _np_reduce(np.all), lambda d: "bool",
          Reduce("true", lambda d: "bool", "({acc} & ({x} != 0))", merge="({acc} & {other})"))
reduction("mean", _mean_ref, mean_dtype,
          Reduce("zero", lambda d: "float64" if (d == "bool" or D.is_int(d)) else acc_dtype(d),
                 "({acc} + {x})", finalize="({acc} / {count})",
                 regroup="radd({acc}, {x})"))
reduction("argmax", _arg_ref(np.argmax), lambda d: "int32",
          Reduce("lowest", lambda d: d, arg="max"))
reduction("argmin", _arg_ref(np.argmin), lambda d: "int32",
          Reduce("highest", lambda d: d, arg="min"))

# ---------------------------------------------------------------- scans
# Cumulative sums and products along `axis`, accumulated in `dtype` as
# np.cumsum(x, axis, dtype) does (rounding at each step). Kernels run them as
# a loop-carried accumulator (the recipe's update, in the result dtype); long
# rows are tiled: tile totals, their prefix, then each tile's scan from its
# carry.

def scan(name, reference, recipe):
    _reg(name, [SCAN], 1, attrs={"axis": "int", "dtype": "dtype"},
         infer=lambda types, a: [TensorType(types[0].shape, a["dtype"])],
         reference=lambda x, axis, dtype: reference(x, axis=axis, dtype=dtype), reduce=recipe)


scan("cumsum", np.cumsum, Reduce("zero", lambda d: d, "({acc} + {x})", regroup="radd({acc}, {x})",
                                saturates="sum"))
scan("cumprod", np.cumprod, Reduce("one", lambda d: d, "({acc} * {x})", regroup="rmul({acc}, {x})",
                                 saturates="product"))
# The scans `associative_scan` finds in its function (see lazyops/loops.py);
# NaN propagates, as through np.maximum and np.minimum. (No logaddexp scan: a
# scan kernel uses its combine about ten times; inlined, logaddexp's exp and
# log1p took 100 s to compile, and as a call the kernel ran 2.5x slower than
# the odd/even recursion's vectorized kernels.)
scan("cummax", np.maximum.accumulate,
     Reduce("lowest", lambda d: d, "({acc} if ({acc} >= {x} or {acc} != {acc}) else {x})"))
scan("cummin", np.minimum.accumulate,
     Reduce("highest", lambda d: d, "({acc} if ({acc} <= {x} or {acc} != {acc}) else {x})"))


# ---------------------------------------------------------------- composites
# Recorded as the user called them (explain shows `lazy.var`), decomposed
# into primitives by the `decompose` pass.

def _var_dtypes(d):
    """(compute, result) dtypes of var, as Keras's NumPy backend has them."""
    return D.result_type(d, "float32"), D.result_type(d, float)


def _var_parts(rw, x, attrs):
    """np.var(x, dtype=compute), as Keras calls it: the mean in `compute`,
    the deviations in NumPy's promotion of x's dtype with it (float64 for
    int32: exact for integers beyond 2**24), squares summed in `compute`."""
    compute, result = _var_dtypes(x.type.dtype)
    # Keras's float inputs arrive converted (float64 as float32); integers do not
    dev_dtype = compute if D.is_float(x.type.dtype) else np.result_type(x.type.dtype, compute).name

    def cast(v, dt):
        return v if v.type.dtype == dt else rw.create("cast", [v], {"dtype": dt})
    m = rw.create("mean", [cast(x, compute)], dict(attrs, keepdims=True))
    dev = rw.create("subtract", [cast(x, dev_dtype), cast(m, dev_dtype)])
    v = rw.create("mean", [cast(rw.create("multiply", [dev, dev]), compute)], attrs)
    return cast(v, result)


def _var_ref(x, axis, keepdims):
    compute, result = _var_dtypes(x.dtype.name)
    if x.dtype.kind == "f":
        x = x.astype(compute)
    return np.var(x, axis=tuple(axis), keepdims=keepdims, dtype=compute).astype(result)


reduction("var", _var_ref, lambda d: _var_dtypes(d)[1],
          decompose=lambda rw, operands, attrs: [_var_parts(rw, operands[0], attrs)])
# std of a float: its var's dtype (the front end casts integers to float32 first)
reduction("std", lambda x, axis, keepdims: np.sqrt(_var_ref(x, axis, keepdims)),
          lambda d: _var_dtypes(d)[1],
          decompose=lambda rw, operands, attrs: [rw.create("sqrt", [_var_parts(rw, operands[0], attrs)])])



def _clip_parts(rw, operands, attrs):
    """np.clip keeps x on a tie of +0.0 and -0.0 with a bound; NumPy's
    maximum/minimum keep their first operand on such a tie in float16, their
    second in float32/float64 (ints have no such tie): x goes on that side."""
    x, lo, hi = operands
    if x.type.dtype == "float16":
        return [rw.create("minimum", [rw.create("maximum", [x, lo]), hi])]
    return [rw.create("minimum", [hi, rw.create("maximum", [lo, x])])]


# clip(x, lo, hi) with the three operands in x's dtype (the front end casts)
_reg("clip", [ELEMENTWISE], 3, infer=_elementwise_infer(None), decompose=_clip_parts,
     reference=lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi))

# ---------------------------------------------------------------- library

def _matmul_infer(types, attrs):
    a, b = types
    a2 = a.shape if a.rank > 1 else (1,) + a.shape
    b2 = b.shape if b.rank > 1 else b.shape + (1,)
    if a2[-1] != b2[-2]:
        raise ValueError(f"matmul: contraction dimensions differ: x1 {a.shape}, x2 {b.shape}")
    batch = broadcast_shapes("matmul", [a2[:-2], b2[:-2]], ["x1", "x2"])
    out = batch + (a2[-2:-1] if a.rank > 1 else ()) + (b2[-1:] if b.rank > 1 else ())
    return [TensorType(out, a.dtype)]


_reg("matmul", [LIBRARY], 2, infer=_matmul_infer, reference=np.matmul)

# ---------------------------------------------------------------- structure

# A fused kernel: its region computes the results over the iteration space
# `space`; `axes` are the reduced axes of that space (empty for elementwise).
_reg("kernel", [STRUCTURAL], None, attrs={"name": "str", "space": "ints", "axes": "ints"},
     structural="kernel")
_reg("yield", [STRUCTURAL], None, structural="terminator")


# keras.ops.custom_gradient: operands are the function's `inputs` tensors, its
# `outputs` (the forward values, which are the results) and the values its
# gradient captures; the optional region is the traced gradient function:
# block arguments one upstream per output, then the captures; it yields one
# gradient per input. The forward pass drops it (decompose).
def _forward(operands, attrs):
    return operands[attrs["inputs"]:attrs["inputs"] + attrs["outputs"]]


def _custom_gradient_ref(*xs, inputs, outputs):
    out = xs[inputs:inputs + outputs]
    return out[0] if outputs == 1 else tuple(out)


_reg("custom_gradient", [GRADIENT], None, attrs={"inputs": "int", "outputs": "int"},
     infer=lambda types, attrs: list(_forward(types, attrs)), reference=_custom_gradient_ref,
     decompose=lambda rw, operands, attrs, regions=(): list(_forward(operands, attrs)))


# keras.ops.switch and cond: operands are the branch index (int32, 0-d,
# clamped by the front end), then each branch's captures (`captures[k]` of
# them for branch k); region k is branch k: its block arguments are its
# captures, and it yields the results. Forward: every branch is inlined and
# each result selected by the index (pure ops: the value is the chosen
# branch's, and the branches fuse with what reads them).
def _switch_parts(rw, operands, attrs, regions):
    index, captured = operands[0], operands[1:]
    outs, first = [], 0
    for region, n in zip(regions, attrs["captures"]):
        block = region.block
        vmap = dict(zip(block.args, captured[first:first + n]))
        first += n
        for op in block.ops[:-1]:
            rw.insert(op.clone(vmap))
        outs.append([vmap.get(v, v) for v in block.ops[-1].operands])
    result = outs[-1]
    for k in range(len(outs) - 2, -1, -1):
        k_ = rw.create("constant", [], {"value": k, "dtype": "int32"})
        chosen = rw.create("equal", [index, k_])
        result = [rw.create("where", [chosen, a, b]) for a, b in zip(outs[k], result)]
    return result


_reg("switch", [CONTROL_FLOW], None, attrs={"captures": "ints"}, decompose=_switch_parts)


# keras.ops.scan over `length` steps: operands are the initial carries
# (`carries` of them), the scanned arrays (`xs`, each with a leading axis of
# `length`) and the captured outer values; the region's block arguments are
# the carries, one step's slice of each scanned array and the captures, and it
# yields the next carries, then the step's outputs. Results: the last carries,
# then each output stacked over the steps (in step order; `reverse` runs the
# steps from the last slice to the first).
_reg("scan", [CONTROL_FLOW, LOOP], None,
     attrs={"carries": "int", "xs": "int", "length": "int", "reverse": "bool"})


# keras.ops.while_loop: operands are the initial carries, the condition's
# captures (`cond_captures` of them) and the body's; region 0, the
# condition, over the carries and its captures, yields a 0-d bool; region 1,
# the body, over the carries and its captures, yields the next carries. At
# most `maximum_iterations` steps (-1: no limit). Results: the last carries.
_reg("while", [CONTROL_FLOW, LOOP], None,
     attrs={"carries": "int", "cond_captures": "int", "maximum_iterations": "int"})
