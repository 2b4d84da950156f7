"""NumPy's dispatch protocols on `Tensor` (NEP 13 `__array_ufunc__`, NEP 18
`__array_function__`): a NumPy function or ufunc called on lazy tensors
records the lazyops function of the same name, so `np.exp(t)`,
`np.sum(t, axis=0)` or `np.concatenate([t, u])` stay lazy and fuse.

The table is derived from names: a NumPy function maps to the lazyops
function it shares its name with (`_ALIASES` lists the few that differ), and
its arguments are matched by name, then by position (`np.where(c, x, y)` ->
`where(condition, x1, x2)`). What has no lazy form runs NumPy on the forced
arrays (all tensor arguments forced in one graph), with a note on stderr when
`debug` is on: a function lazyops lacks, an argument its function does not
take (`out=`, `dtype=` of `np.sum`, `ddof=1`), a ufunc method other than a
call (`np.add.reduce`).

Values and shapes are NumPy's; dtypes are Keras's, as for every lazyops
function (`np.add(int32_tensor, float32_tensor)` is float32 here, float64 in
NumPy; `np.argmax` gives int32).
"""
import functools
import inspect
import sys

import numpy as np

from . import config
from .engine import evaluate_values
from .tensor import Tensor

# NumPy name -> lazyops name, where they differ
_ALIASES = {"remainder": "mod", "rint": "round", "around": "round", "invert": "bitwise_invert"}
# NumPy keyword -> lazyops parameter, where neither name nor position tells
_KEYWORDS = {"min": "x_min", "max": "x_max"}  # np.clip(t, min=0, max=1)
# numpy.linalg functions that are the keras.ops function of the same name
# (others there share a name, not a meaning: linalg.cond, linalg.trace, ...)
_LINALG = frozenset({"norm", "slogdet"})
# ufunc keywords that change nothing at these values
_UFUNC_DEFAULTS = {"casting": "same_kind", "order": "K", "dtype": None, "subok": True,
                   "where": True, "signature": None}
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _lazy(name):
    """The public lazyops function named `name` (NumPy's spelling), or None."""
    f = getattr(sys.modules["lazyops"], _ALIASES.get(name, name), None)
    return f if inspect.isfunction(f) else None


_BY_UFUNC = {}  # ufunc -> its lazyops function or None (memo of `_lazy`)
_PLAIN = frozenset([Tensor, np.ndarray, float, int, bool])  # inputs that need no look


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """`Tensor.__array_ufunc__`."""
    if method == "__call__" and not kwargs and all(type(x) in _PLAIN for x in inputs):
        f = _BY_UFUNC.get(ufunc, False)
        if f is False:
            f = _BY_UFUNC[ufunc] = _lazy(ufunc.__name__)
        if f is not None:  # the common call, without the checks below
            return f(*inputs)
    if any(_foreign(x) for x in inputs + tuple(kwargs.get("out", ()))):
        return NotImplemented
    name = ufunc.__name__
    f = _lazy(name) if method == "__call__" else None
    extra = [k for k, v in kwargs.items() if k not in _UFUNC_DEFAULTS or
             not _same(v, _UFUNC_DEFAULTS[k])]
    if f is None or extra:
        why = (f"argument `{extra[0]}`" if f is not None else
               f"ufunc method `{method}`" if method != "__call__" else "no lazyops function")
        call = name if method == "__call__" else f"{name}.{method}"
        return _fallback(getattr(ufunc, method), inputs, kwargs, call, why)
    return f(*inputs)


def array_function(self, func, types, args, kwargs):
    """`Tensor.__array_function__`."""
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented
    call = _call(func)
    if call is None:
        return _fallback(func, args, kwargs, func.__name__, "no lazyops function")
    try:
        lazy_args, lazy_kwargs = call.translate(args, kwargs)
    except _NoLazyForm as e:
        return _fallback(func, args, kwargs, func.__name__, str(e))
    return call.fn(*lazy_args, **lazy_kwargs)


def _foreign(x):
    """An operand with its own `__array_ufunc__` that is not ours or NumPy's."""
    return hasattr(type(x), "__array_ufunc__") and \
        not isinstance(x, (Tensor, np.ndarray, np.generic))


def _same(value, default):
    return value is default or type(value) is type(default) and value == default


class _NoLazyForm(Exception):
    """A call the lazyops function cannot take (the message says which argument)."""


@functools.cache
def _call(func):
    """How a NumPy function's calls become calls of its lazyops function."""
    module = getattr(func, "__module__", None)
    name = getattr(func, "__name__", "")
    if module != "numpy" and not (module == "numpy.linalg" and name in _LINALG):
        return None
    fn = _lazy(name)
    if fn is None:
        return None
    try:
        return _Call(inspect.signature(func), fn)
    except (TypeError, ValueError):  # a NumPy function without a signature
        return None


class _Call:
    """A NumPy signature matched to a lazyops function's: each NumPy parameter
    goes to the lazyops parameter of its name (or `_KEYWORDS`), else to the
    one at its position whose name NumPy does not use, else nowhere; a call
    passing one that goes nowhere at other than its default has no lazy form."""

    def __init__(self, sig, fn):
        self.sig, self.fn = sig, fn
        lazy = inspect.signature(fn).parameters
        theirs = sig.parameters
        lazy_pos = [n for n, p in lazy.items() if p.kind in _POSITIONAL]
        their_pos = [n for n, p in theirs.items() if p.kind in _POSITIONAL]
        self.to = {n: n for n in lazy}  # names NumPy passes in **kwargs (np.pad's)
        for n in theirs:
            if n in lazy:
                self.to[n] = n
            elif n in _KEYWORDS and _KEYWORDS[n] in lazy:
                self.to[n] = _KEYWORDS[n]
            elif n in their_pos:
                i = their_pos.index(n)
                if i < len(lazy_pos) and lazy_pos[i] not in theirs:
                    self.to[n] = lazy_pos[i]
        self.varargs = any(p.kind == p.VAR_POSITIONAL for p in lazy.values())

    def translate(self, args, kwargs):
        """(positional, keyword) arguments of the lazyops call."""
        try:
            bound = self.sig.bind(*args, **kwargs)
        except TypeError as e:  # NumPy raises its own error for it
            raise _NoLazyForm(f"arguments NumPy refuses ({e})") from None
        pos, kw = [], {}
        for n, v in bound.arguments.items():
            p = self.sig.parameters[n]
            if p.kind == p.VAR_POSITIONAL:
                if not self.varargs:
                    raise _NoLazyForm(f"arguments `*{n}`")
                pos.extend(v)
                continue
            for name, value in (v.items() if p.kind == p.VAR_KEYWORD else [(n, v)]):
                to = self.to.get(name)
                if to is not None:
                    kw[to] = value
                elif name not in self.sig.parameters or \
                        not _same(value, self.sig.parameters[name].default):
                    raise _NoLazyForm(f"argument `{name}`")
        return pos, kw


def _fallback(fn, args, kwargs, name, why):
    """NumPy's `fn` on the forced arrays of the tensors among the arguments."""
    tensors = []
    _walk((args, kwargs), tensors.append)
    evaluate_values([t._value for t in tensors])  # one graph for all of them
    if config.get("debug"):
        print(f"[lazyops] np.{name}: no lazy form ({why}); forced {len(tensors)} tensor(s) "
              "and ran NumPy", file=sys.stderr)
    return fn(*_walk(args), **_walk(kwargs))


def _walk(x, found=None):
    """`x` with each tensor inside (lists, tuples, dicts) replaced by its
    array; or, with `found`, pass each tensor to it."""
    if isinstance(x, Tensor):
        if found is not None:
            return found(x)
        return x.numpy()
    if isinstance(x, (list, tuple)):
        out = [_walk(e, found) for e in x]
        return type(x)(out) if type(x) in (list, tuple) else out
    if isinstance(x, dict):
        return {k: _walk(v, found) for k, v in x.items()}
    return x
