"""`lazyops.function(f)`: trace `f` once per input signature and replay its
plan on new arrays without recording again (as `jax.jit`, `mlx.compile`).

Array arguments (NumPy arrays, array protocols, tensors) are inputs: the
signature holds their shapes, dtypes and which of them are the same object.
Every other argument (Python scalars, strings, tuples of them) is static: part
of the signature, so a new value traces again. `f` returns a tensor or a
tuple, list or dict of tensors; calls return NumPy arrays in that structure.
Tensors `f` closes over are constants of the trace, read when it runs.
"""
import functools

import numpy as np

from . import engine, inputs
from .recording import record
from .tensor import ArrayArg, Tensor


class function:  # noqa: N801  (used as a decorator, like jax.jit)
    """`f` traced once per signature and replayed on new arrays: calls return NumPy arrays.

    The signature is the array arguments' shapes and dtypes, which of them are
    the same array, and the other (static) arguments' values; a new signature
    traces again. Forcing a value inside `f` while it is traced is an error.
    """

    def __init__(self, f):
        if not callable(f):
            raise TypeError(f"function: expected a callable, got {type(f).__name__}")
        self.f = f
        self.traces = {}
        self.fast = None  # the latest trace's direct launch (see `Plan.direct`)
        functools.update_wrapper(self, f)

    def __call__(self, *args, **kwargs):
        fast = self.fast
        if fast is not None and not kwargs:
            outs = fast(args)
            if outs is not None:
                return outs[0]
        key = None if kwargs else _array_key(args)
        if key is not None:  # the common call, keyed faster
            arrays = args
        else:
            arrays, key = _signature(args, kwargs)
        trace = self.traces.get(key)
        if trace is None:
            trace = self.traces[key] = _Trace(self.f, args, kwargs, arrays)
        out = trace.run(arrays)
        # the latest signature's direct launch, where it has one, is tried first
        self.fast = trace.fast if arrays is args else None
        return out


def _array_key(args):
    """The signature of a call whose arguments are distinct NumPy arrays: their
    shapes and dtypes, flat; None for any other call (see `_signature`)."""
    key = []
    for a in args:
        if type(a) is not np.ndarray:
            return None
        key += (a.shape, a.dtype)
    n = len(args)
    if n > 1 and (args[0] is args[1] if n == 2 else len(set(map(id, args))) < n):
        return None
    return tuple(key)


def _signature(args, kwargs):
    """(input arrays, signature key) of a call."""
    arrays, key, first = [], [], {}
    items = enumerate(args) if not kwargs else \
        [(i, a) for i, a in enumerate(args)] + sorted(kwargs.items())
    for where, a in items:
        if type(a) is np.ndarray:
            arr = a
        else:
            arr = a.numpy() if isinstance(a, Tensor) else inputs.as_array(a)
        if arr is None:
            try:
                hash(a)
            except TypeError:
                raise TypeError(f"function: argument {where!r} is neither an array nor "
                                f"hashable (static arguments must be): {type(a).__name__}") from None
            key.append((where, "static", type(a), a))
            continue
        same = first.setdefault(id(arr), len(arrays))  # f(x, x) is not f(x, y)
        key.append((where, arr.shape, arr.dtype, same))
        arrays.append(arr)
    return arrays, tuple(key)


class _Trace:
    """One traced signature: the plan, where its inputs come from, and how
    its results form the output structure."""

    def __init__(self, f, args, kwargs, arrays):
        it = iter(arrays)
        conv = [_input(a, it) for a in args]
        kwconv = {k: _input(a, it) for k, a in sorted(kwargs.items())}
        forces = engine.force_count()
        out = f(*conv, **kwconv)
        if engine.force_count() != forces:
            raise RuntimeError(
                f"function: {getattr(f, '__name__', 'f')} forced a tensor while being traced "
                "(`.numpy()`, `float(t)`, `if t > 0:` ...): its result would depend on "
                "values the trace cannot see; call it directly, pass such values as static "
                "arguments (Python scalars), or use `where` or `cond`")
        self.structure, tensors = _flatten(out)
        values = [t._value for t in tensors]
        self.plan, pending, leaves = engine.plan_of(values)
        position = {id(a): i for i, a in enumerate(arrays)}
        # each plan argument: an input array (its index) or a captured buffer
        self.slots = [(position[id(v.data)], None) if id(v.data) in position else (None, v.data)
                      for v in leaves]
        # the plan reads the inputs as given, in order: pass them as they are
        self.as_given = [i for i, _ in self.slots] == list(range(len(arrays)))
        slot_of = {v: k for k, v in enumerate(pending)}
        self.outputs = []  # ("run", index) | ("arg", index) | ("const", array)
        for v in values:
            if v in slot_of:
                self.outputs.append(("run", slot_of[v], v.type.shape))
            elif id(v.data) in position:
                self.outputs.append(("arg", position[id(v.data)], v.type.shape))
            else:
                self.outputs.append(("const", v.data, v.type.shape))
        self.single = self.structure is None and self.as_given and self.outputs[0][:2] == ("run", 0)
        self.fast = None  # a call on arrays laid out as the latest's (see `Plan.direct`)

    def run(self, arrays):
        if self.single:  # one tensor computed from the inputs as given
            args = list(arrays)
            plan = self.plan
            out = plan.run(args)[0]
            result = engine.owned(out, self.outputs[0][2], args, plan)
            # a fresh buffer handed out as it is: later calls may launch directly
            self.fast = plan.direct(args) if result is out else None
            return result
        outs = []
        if self.plan is not None:
            args = list(arrays) if self.as_given else \
                [arrays[i] if i is not None else data for i, data in self.slots]
            outs = self.plan.run(args)
        results = []
        given = set() if len(self.outputs) > 1 else None
        for kind, what, shape in self.outputs:
            if kind == "run":  # writable, and never a plan's constant or an input itself
                a = engine.owned(outs[what], shape, args, self.plan, given)
            else:  # an input or a captured buffer returned as it is: the caller's copy
                a = np.array(arrays[what] if kind == "arg" else what, copy=True).reshape(shape)
            results.append(a)
        return _unflatten(self.structure, results)


def _input(a, arrays):
    """The traced stand-in of argument `a`, or `a` itself where it is no
    array: a tensor of its array's dtype, taken by ops as the array would be
    (`tensor.ArrayArg`; a tensor argument, as a tensor). The stand-in is
    never materialized (an identity cast, which passes remove): `f` reading
    its value (`.numpy()`, a branch picked by it, `bincount`'s length) is a
    force, which the trace refuses, rather than a constant of the trace."""
    if not isinstance(a, Tensor) and inputs.as_array(a) is None:
        return a
    v = inputs.reference(next(arrays))
    stand_in = Tensor if isinstance(a, Tensor) else ArrayArg
    return stand_in(record("cast", [v], {"dtype": v.type.dtype}))


def _flatten(out):
    """(structure, tensors) of f's result: a tensor, or a tuple/list/dict of them."""
    if isinstance(out, Tensor):
        return None, [out]
    if isinstance(out, (tuple, list)) and all(isinstance(t, Tensor) for t in out):
        return type(out), list(out)
    if isinstance(out, dict) and all(isinstance(t, Tensor) for t in out.values()):
        return tuple(out), list(out.values())
    raise TypeError(f"function: f must return a tensor or a tuple, list or dict of tensors, "
                    f"got {type(out).__name__}")


def _unflatten(structure, results):
    if structure is None:
        return results[0]
    if isinstance(structure, tuple):  # dict keys
        return dict(zip(structure, results))
    return structure(results)
