"""More elementwise ops: inverse hyperbolics, erf and erfinv, logaddexp,
reciprocal, division without NaN, nan_to_num, isclose, the complex parts of
real tensors, select and saturate_cast. Dtype rules reproduce Keras's NumPy
backend, which calls NumPy (and SciPy for erf/erfinv) on its inputs."""
import numpy as np

from . import dtypes as D
from .ops import (_elementwise_infer, _reg, binary, float_unary, numpy_rule, real_part, reduction,
                  same, strong_true_div, true_div, unary)
from .registry import ELEMENTWISE
from .shapes import broadcast_shapes, reduced_shape
from .types import TensorType


def _scipy_special():
    import scipy.special  # the reference of erf/erfinv only, imported on first use
    return scipy.special


for _n in ("arcsinh", "arccosh", "arctanh"):
    unary(_n, f"{_n}({{0}})", getattr(np, _n), promote=float_unary, cost=16)

# scipy's erf computes integers (and float16) in float64, and Keras casts the
# result back to the input dtype (so integers give 0 or +-1)
unary("erf", {"bool": "{0}", "int": "math.erf(np.float64({0}))", "float": "erf({0})"},
      lambda x: _scipy_special().erf(x), promote=same, cost=16)
unary("erfinv", "erfinv({0})", lambda x: _scipy_special().erfinv(x), promote=float_unary,
      cost=32)

binary("logaddexp", "logaddexp({0}, {1})", np.logaddexp, promote=strong_true_div, cost=32)
binary("divide_no_nan", "(0 if {1} == 0 else {0} / {1})",
       lambda a, b: np.where(b == 0, np.zeros((), a.dtype), np.divide(a, b)),
       promote=true_div, cost=4)


def _reciprocal_promote(d):
    d = same(d)
    return "int8" if d == "bool" else d


# NumPy's integer reciprocal is 1.0 / x converted back; 1/0 is what x86
# makes of inf (the least int32 or int64, then wrapped: 0 for 8- and 16-bit
# and unsigned ints), given explicitly: LLVM may fold a conversion of inf to
# any value
_RECIPROCAL_INT = "(np.{t}(1.0 / {{0}}) if {{0}} != 0 else np.{t}({z}))"
unary("reciprocal", {"float": "(1.0 / {0})",
                     "uint32": _RECIPROCAL_INT.format(t="int64", z=0),
                     "uint64": _RECIPROCAL_INT.format(t="int64", z=0),
                     "int64": _RECIPROCAL_INT.format(t="int64", z=-2 ** 63),
                     "int": _RECIPROCAL_INT.format(t="int32", z=-2 ** 31)},
      np.reciprocal, promote=_reciprocal_promote, cost=4)

# recorded so that a later autodiff sees where gradients stop; its value is x
unary("stop_gradient", "{0}", lambda x: x, promote=same)

# The parts of complex values (of real ones: the value, zero)
unary("real", {"complex": "{0}.real", "any": "{0}"}, np.real, promote=same, result=real_part)
unary("imag", {"bool": "False", "int": "0", "float": "0.0", "complex": "{0}.imag"}, np.imag,
      promote=same, result=real_part)
unary("conjugate", {"complex": "{0}.conjugate()", "any": "{0}"}, np.conjugate,
      promote=_reciprocal_promote)

# nan_to_num(x, nan, posinf, neginf): the replacements are operands in x's dtype
_reg("nan_to_num", [ELEMENTWISE], 4, infer=_elementwise_infer(None),
     reference=lambda x, nan, posinf, neginf: np.where(
         np.isnan(x), nan, np.where(x == np.inf, posinf, np.where(x == -np.inf, neginf, x))),
     scalar={"float": "({1} if isnan({0}) else ({2} if {0} == np.inf else "
                      "({3} if {0} == -np.inf else {0})))", "any": "{0}"},
     promote=same)


# ---------------------------------------------------------------- composites

def _isclose_dtypes(dx, dy):
    """(dtype y is converted to, dtype of the arithmetic), as np.isclose has them."""
    dt = np.result_type(np.dtype(dy), 1.0).name
    return dt, np.result_type(np.dtype(dx), np.dtype(dt)).name


def _isclose_parts(rw, operands, attrs):
    """np.isclose's own expression: |x - y| <= atol + rtol*|y| where y is
    finite, or x == y; with equal_nan, NaN matches NaN."""
    x, y = operands
    dt, ct = _isclose_dtypes(x.type.dtype, y.type.dtype)

    def cast(v, d):
        return v if v.type.dtype == d else rw.create("cast", [v], {"dtype": d})

    def const(value, d):
        return rw.create("constant", [], {"value": value, "dtype": d})
    y = cast(y, dt)
    xc, yc = cast(x, ct), cast(y, ct)
    diff = rw.create("absolute", [rw.create("subtract", [xc, yc])])
    tol = rw.create("add", [const(attrs["atol"], dt),
                            rw.create("multiply", [const(attrs["rtol"], dt),
                                                   rw.create("absolute", [y])])])
    close = rw.create("logical_and", [rw.create("less_equal", [diff, cast(tol, ct)]),
                                      rw.create("isfinite", [y])])
    out = rw.create("logical_or", [close, rw.create("equal", [xc, yc])])
    if attrs["equal_nan"]:
        both = rw.create("logical_and", [rw.create("isnan", [xc]), rw.create("isnan", [yc])])
        out = rw.create("logical_or", [out, both])
    return [out]


def _isclose_infer(types, attrs):
    shape = broadcast_shapes("isclose", [t.shape for t in types], ["x1", "x2"])
    return [TensorType(shape, "bool")]


_reg("isclose", [ELEMENTWISE], 2, attrs={"rtol": "scalar", "atol": "scalar", "equal_nan": "bool"},
     infer=_isclose_infer, decompose=_isclose_parts, mixed_dtypes=True,
     reference=lambda a, b, rtol, atol, equal_nan: np.isclose(a, b, rtol, atol, equal_nan))


def _select_parts(rw, operands, attrs):
    """np.select: the default, then each choice where its condition holds,
    the first condition taking precedence."""
    n = attrs["n"]
    conds, choices, default = operands[:n], operands[n:2 * n], operands[2 * n]
    out = default
    for c, v in zip(reversed(conds), reversed(choices)):
        out = rw.create("where", [c, v, out])
    if out.type.shape != _select_shape(operands):  # every condition broadcasts the result
        out = rw.create("broadcast_to", [out], {"shape": list(_select_shape(operands))})
    return [out]


def _select_shape(operands):
    return broadcast_shapes("select", [o.type.shape for o in operands])


def _select_ref(*arrays, n):
    conds, choices = arrays[:n], arrays[n:2 * n]
    shape = np.broadcast_shapes(*[a.shape for a in arrays])
    return np.broadcast_to(np.select(list(conds), list(choices), arrays[2 * n]), shape)


# select(conditions..., choices..., default): choices and default in one dtype
_reg("select", [ELEMENTWISE], None, attrs={"n": "int"},
     infer=lambda types, attrs: [TensorType(
         broadcast_shapes("select", [t.shape for t in types]), types[-1].dtype)],
     decompose=_select_parts, reference=_select_ref, promote=numpy_rule,
     conditions=lambda attrs: attrs["n"])


def saturate_limits(src, dst):
    """Keras's clip bounds for a saturating cast from `src` to `dst`: the
    destination's range in `src`, nudged inside where `src` cannot hold it."""
    def limits(d):
        if d == "bool":
            return 0, 1
        info = np.iinfo(d) if D.is_int(d) else np.finfo(d)
        return info.min, info.max
    (imin, imax), (omin, omax) = limits(src), limits(dst)
    lo = np.asarray(np.maximum(imin, omin)).astype(src)
    if lo < omin:
        lo = np.nextafter(lo, 0, dtype=src)
    hi = np.asarray(np.minimum(imax, omax)).astype(src)
    if hi > omax:
        hi = np.nextafter(hi, 0, dtype=src)
    return lo.item(), hi.item()


def _logsumexp_dtype(d):
    """scipy computes integers in float64 and keeps float dtypes."""
    return d if D.is_float(d) else "float64"


def _logsumexp_parts(rw, operands, attrs):
    """max(x) + log(sum(exp(x - max(x)))), the shift 0 where the max is not
    finite (all -inf, or +inf: then the plain sum gives the limit). Without
    keepdims the final shift is a second max in the result's shape (the same
    bits, in the same pass): a reshape of an in-kernel value would cut the
    kernel."""
    (x,) = operands
    dt = _logsumexp_dtype(x.type.dtype)
    if x.type.dtype != dt:
        x = rw.create("cast", [x], {"dtype": dt})
    zero = rw.create("constant", [], {"value": 0.0, "dtype": dt})
    if any(x.type.shape[a] == 0 for a in attrs["axis"]):  # an empty sum: log(0)
        shape = reduced_shape(x.type.shape, attrs["axis"], attrs["keepdims"])
        inf = rw.create("constant", [], {"value": -np.inf, "dtype": dt})
        return [rw.create("broadcast_to", [inf], {"shape": list(shape)})]

    def shift(keepdims):
        m = rw.create("max", [x], {"axis": attrs["axis"], "keepdims": keepdims})
        return rw.create("where", [rw.create("isfinite", [m]), m, zero])
    inner = shift(True)
    outer = inner if attrs["keepdims"] else shift(False)
    s = rw.create("sum", [rw.create("exp", [rw.create("subtract", [x, inner])])],
                  {"axis": attrs["axis"], "keepdims": attrs["keepdims"]})
    return [rw.create("add", [rw.create("log", [s]), outer])]


reduction("logsumexp", lambda x, axis, keepdims: np.asarray(_scipy_special().logsumexp(
    x, axis=tuple(axis), keepdims=keepdims)).astype(_logsumexp_dtype(x.dtype.name)),
    _logsumexp_dtype, decompose=_logsumexp_parts)
