"""Bitwise ops and shifts, on integers and booleans only (NumPy raises for
floats, and so do they, at the call). Keras converts Python scalars to
tensors first, except a shift's Python int count, which NumPy takes as a
weak scalar."""
import numpy as np

from . import dtypes as D
from .ops import binary, strong, unary


def _integers(rule, what):
    def promote(*ds):
        d = rule(*ds)
        if D.is_float(d) or d.startswith("complex"):
            raise TypeError(f"{what} takes integer or boolean tensors, not {d}")
        return d
    return promote


def _shift_rule(x, y):
    """A Python int count keeps x's dtype (a boolean x shifts as NumPy's
    default int64); tensors promote, booleans shifting as int8."""
    if y is int and not isinstance(x, type):
        d = D.standardize(x)
        return "int64" if d == "bool" else d
    d = strong(x, y)
    return "int8" if d == "bool" else d


for _n, _sym in (("bitwise_and", "&"), ("bitwise_or", "|"), ("bitwise_xor", "^")):
    binary(_n, f"({{0}} {_sym} {{1}})", getattr(np, _n), promote=_integers(strong, _n))
unary("bitwise_invert", {"bool": "(not {0})", "any": "(~{0})"}, np.bitwise_not,
      promote=_integers(lambda d: D.standardize(d), "bitwise_invert"))
# NumPy's shifts by a count outside [0, bits) give 0 (or -1 for a negative x
# shifted right); a plain `<<` there is undefined in LLVM
binary("left_shift", "left_shift({0}, {1})", np.left_shift,
       promote=_integers(_shift_rule, "left_shift"))
binary("right_shift", "right_shift({0}, {1})", np.right_shift,
       promote=_integers(_shift_rule, "right_shift"))
