"""keras.ops.cond and keras.ops.switch. A predicate or index known at the
call (a Python or NumPy value, a materialized tensor) picks its branch there,
as Keras's NumPy backend does. A lazy one records a `lazy.switch` whose
regions are the branches, traced on the operands (see `regions`); forcing
computes every branch and selects the chosen one's results, so the branches
fuse with the select. A branch that cannot be traced (it forces a value)
makes the call force the predicate instead, as `nonzero` forces its input."""
import numpy as np

from . import regions
from .api import _tensor, cast, clip, not_equal, reshape
from .inputs import forced_at_call
from .recording import record
from .tensor import Tensor


def cond(pred, true_fn, false_fn):
    """`true_fn()` if `pred` else `false_fn()`.

    A predicate known at the call picks the branch there; a lazy one records
    both branches and selects their results when forced (they fuse)."""
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("cond: `true_fn` and `false_fn` must be callables")
    known = _known(pred, "cond", "pred")
    if known is not None:
        return true_fn() if known else false_fn()
    p = _scalar(pred, "cond", "pred")
    index = cast(p if p.dtype == "bool" else not_equal(p, 0), "int32")
    return _select("cond", index, [false_fn, true_fn], ())


def switch(index, branches, *operands):
    """`branches[index](*operands)`, the index clamped to the branches.

    An index known at the call picks the branch there; a lazy one records
    every branch and selects the chosen one's results when forced."""
    branches = list(branches)
    if not branches:
        raise ValueError("switch: `branches` is empty; give at least one callable")
    if not all(callable(b) for b in branches):
        raise TypeError("switch: every branch must be a callable")
    known = _known(index, "switch", "index")
    if known is not None:
        return branches[min(max(int(known), 0), len(branches) - 1)](*operands)
    i = clip(cast(_scalar(index, "switch", "index"), "int32"), 0, len(branches) - 1)
    return _select("switch", i, branches, operands)


def _known(v, api, arg):
    """The value of a predicate or index that needs no force, else None."""
    if isinstance(v, Tensor):
        v = v._value.data
        if v is None:
            return None
    a = np.asarray(v)
    if a.size != 1:
        raise ValueError(f"{api}: `{arg}` must be a scalar, got shape {a.shape}")
    return a.reshape(()).item()


def _scalar(v, api, arg):
    t = _tensor(v, api, arg)
    if t.size != 1:
        raise ValueError(f"{api}: `{arg}` must be a scalar, got shape {t.shape}")
    return reshape(t, ())


def _select(api, index, branches, operands):
    """Record the switch of `branches` on the lazy int32 `index`."""
    tensors = [_tensor(o, api, "operands") for o in operands]
    arg_types = [t._value.type for t in tensors]
    traced = []
    try:
        for branch in branches:
            shape = []

            def body(args, branch=branch, shape=shape):
                out = branch(*args)
                shape.append(_structure(out))
                return [_tensor(t, api, "a branch's result")._value for t in _leaves(out)]
            region, captures = regions.trace(body, arg_types)
            traced.append((region, captures, shape[0]))
    except regions.TraceError:  # a branch forced a value: choose it now
        out = branches[int(index.numpy())](*operands)
        forced_at_call([t for t in _leaves(out) if isinstance(t, Tensor)], api)
        return out
    first = traced[0]
    types = _yield_types(first[0])
    for k, (region, _, structure) in enumerate(traced[1:], 1):
        if structure != first[2] or _yield_types(region) != types:
            raise ValueError(f"{api}: branch {k} returns {_describe(structure, region)}, but "
                             f"branch 0 returns {_describe(first[2], first[0])}; every branch "
                             "must return the same structure of shapes and dtypes")
    operands_ = [index._value]
    for _, captures, _ in traced:  # a branch's captures: the operands, then outer values
        operands_ += [t._value for t in tensors] + list(captures)
    counts = [len(arg_types) + len(c) for _, c, _ in traced]
    results = record("switch", operands_, {"captures": counts}, result_types=types)
    results = results if isinstance(results, list) else [results]
    results[0].owner.regions = [region for region, _, _ in traced]
    for r in results:  # a node keys no region: such graphs key by printing
        r.node = None
    return _rebuild(first[2], iter([Tensor(r) for r in results]))


def _yield_types(region):
    return [v.type for v in region.block.ops[-1].operands]


def _structure(out):
    """The tree shape of a branch's result: tuples, lists and dicts of leaves."""
    if isinstance(out, (tuple, list)):
        return (type(out), tuple(_structure(o) for o in out))
    if isinstance(out, dict):
        return (dict, tuple((k, _structure(v)) for k, v in sorted(out.items())))
    return None


def _leaves(out):
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in _leaves(o)]
    if isinstance(out, dict):
        return [x for _, v in sorted(out.items()) for x in _leaves(v)]
    return [out]


def _rebuild(structure, leaves):
    if structure is None:
        return next(leaves)
    kind, parts = structure
    if kind is dict:
        return {k: _rebuild(s, leaves) for k, s in parts}
    return kind(_rebuild(s, leaves) for s in parts)


def _describe(structure, region):
    types = ", ".join(str(t) for t in _yield_types(region))
    return f"{'a tensor' if structure is None else structure[0].__name__} of ({types})"
