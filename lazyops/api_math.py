"""keras.ops functions over the ops of `ir/ops_math.py` and `ir/ops_bits.py`
that need more than the generated plain wrappers: aliases, replacement
values, tolerances, condition lists and saturating casts."""
import numpy as np

from .api import _PLAIN, _cast, _operands, _tensor, cast, clip
from .ir import dtypes as D
from .ir.ops_math import saturate_limits
from .ir.shapes import broadcast_shapes
from .recording import leaf, record
from .tensor import Tensor

conj = _PLAIN["conjugate"]
bitwise_not = _PLAIN["bitwise_invert"]
bitwise_left_shift = _PLAIN["left_shift"]
bitwise_right_shift = _PLAIN["right_shift"]


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """`x` with NaN, +inf and -inf replaced (by default: 0, the dtype's largest and
    lowest finite values); integers and booleans unchanged."""
    x = _tensor(x, "nan_to_num")
    dt = x.dtype
    if not D.is_float(dt):
        return x
    info = np.finfo(dt)
    fills = [nan, info.max if posinf is None else posinf, info.min if neginf is None else neginf]
    for name, v in zip(("nan", "posinf", "neginf"), fills):
        if D.python_scalar_kind(v) is None and not isinstance(v, (np.generic, np.ndarray)):
            raise TypeError(f"nan_to_num: `{name}` must be a number, got {type(v).__name__}")
    with np.errstate(over="ignore"):
        values = [x._value] + [leaf(np.asarray(v).astype(dt).reshape(())) for v in fills]
    return Tensor(record("nan_to_num", values))


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """|x1 - x2| <= atol + rtol * |x2| elementwise, as np.isclose computes it."""
    a, b = _tensor(x1, "isclose", "x1"), _tensor(x2, "isclose", "x2")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if D.python_scalar_kind(v) not in (int, float):
            raise TypeError(f"isclose: `{name}` must be a Python number, got {v!r}")
    broadcast_shapes("isclose", [a.shape, b.shape], ["x1", "x2"])
    return Tensor(record("isclose", [a._value, b._value],
                         {"rtol": float(rtol), "atol": float(atol), "equal_nan": bool(equal_nan)}))


def select(condlist, choicelist, default=0):
    """choicelist[i] where condlist[i] is the first true condition, else `default`."""
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: condlist and choicelist must have the same length, got "
                         f"{len(condlist)} and {len(choicelist)}")
    if not condlist:
        raise ValueError("select: condlist and choicelist must not be empty")
    conds = []
    for i, c in enumerate(condlist):
        t = _tensor(c, "select", f"condlist[{i}]")
        if t.dtype != "bool":
            raise TypeError(f"select: condlist[{i}] must be boolean, got {t.dtype}")
        conds.append(t._value)
    choices = _operands("select", choicelist + [default],
                        [f"choicelist[{i}]" for i in range(len(choicelist))] + ["default"],
                        "select", static=())
    values = conds + choices
    broadcast_shapes("select", [v.type.shape for v in values],
                     [f"condlist[{i}]" for i in range(len(conds))]
                     + [f"choicelist[{i}]" for i in range(len(choicelist))] + ["default"])
    return Tensor(record("select", values, {"n": len(conds)}))


def saturate_cast(x, dtype):
    """A cast that clips to the destination's range first (Keras's bounds)."""
    dtype = D.standardize(dtype, "saturate_cast")
    x = _tensor(x, "saturate_cast")
    lo, hi = saturate_limits(x.dtype, dtype)
    x = _cast(x, "int32") if x.dtype == "bool" else x
    return cast(clip(x, lo, hi), dtype)
