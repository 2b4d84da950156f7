"""keras.ops.associative_scan.

A function that traces into one add, multiply, maximum or minimum is that
scan op (`cumsum`, `cumprod`, `cummax`, `cummin`: tiled parallel scan
kernels). A combine of cheap elementwise ops runs as the documented left
fold, compiled as recurrence kernels (`lazy.scan`, see `_fold`): one chain
per element of the other axes, or, along a long last axis with few other
elements, in tiles (`_tiled_fold`). Any other function records Keras's (and
JAX's) odd/even recursion lazily: its O(log n) levels of slices and combines
form one graph."""
import numpy as np

from .api import _tensor, arange, cast, greater, logical_or, reshape, where
from .api_library import scan_along
from .api_shape import _axis, broadcast_to, concatenate, flip, moveaxis, stack
from .control import _leaves, _rebuild, _structure
from .ir.dtypes import is_float, is_int
from .ir.registry import lookup
from .ir.types import TensorType
from .loops import _callables, _recurrence, _traced
from .recording import TracedValueError


def associative_scan(f, elems, reverse=False, axis=0):
    """The inclusive scan of `elems` (a tensor or a tree of them) along `axis`
    with the associative `f`, in float64 as Keras's NumPy backend gives it.

    Element k is `f` folding the first k + 1 elements from the left (a, then
    f(a, b), then f(f(a, b), c)). A combine of cheap elementwise ops runs
    as that left fold, compiled (in parallel tiles along a long last axis);
    any other is grouped as Keras's NumPy backend groups it."""
    _callables("associative_scan", f=f)
    structure = _structure(elems)
    flat = [_tensor(e, "associative_scan", "elems") for e in _leaves(elems)]
    ax = _axis("associative_scan", axis, flat[0].ndim)
    if len(flat) == 1 and structure is None and flat[0].shape[ax] >= 2:
        found = _known_scan(f, flat[0])
        if found is not None:  # a tiled parallel scan kernel, in Keras's float64
            x = cast(flat[0], "float64")
            if reverse:
                return flip(scan_along(found, flip(x, ax), ax, "float64"), ax)
            return scan_along(found, x, ax, "float64")
    if reverse:
        flat = [flip(e, ax) for e in flat]
    if any(e.shape[ax] != flat[0].shape[ax] for e in flat):
        raise ValueError(f"associative_scan: every element needs the same size along axis {ax}, "
                         f"got shapes {[e.shape for e in flat]}")

    folded = _left_fold(f, flat, structure, ax)
    if folded is not None:
        return _rebuild(structure, iter([flip(e, ax) for e in folded] if reverse else folded))

    def along(e, start, stop=None, step=1):
        return e[(slice(None),) * ax + (slice(start, stop, step),)]

    def combine(a, b):
        out = [_tensor(t, "associative_scan", "f's result") for t in _leaves(
            f(_rebuild(structure, iter(a)), _rebuild(structure, iter(b))))]
        if [t.shape for t in out] != [t.shape for t in a]:
            raise ValueError(f"associative_scan: `f` must keep its operands' shapes "
                             f"{[t.shape for t in a]}, got {[t.shape for t in out]}")
        return out

    def interleave(a, b):  # a0 b0 a1 b1 ...; in float64, as Keras's zeros-and-add does
        a, b = cast(a, "float64"), cast(b, "float64")
        if a.shape[ax] != b.shape[ax]:  # a is one longer
            return concatenate([interleave(along(a, 0, -1), b), along(a, -1)], axis=ax)
        pairs = stack([a, b], axis=ax + 1)
        return reshape(pairs, a.shape[:ax] + (2 * a.shape[ax],) + a.shape[ax + 1:])

    def scan_(es):
        n = es[0].shape[ax]
        if n < 2:
            return es
        odd = scan_(combine([along(e, 0, -1, 2) for e in es], [along(e, 1, None, 2) for e in es]))
        rest = [along(e, 2, None, 2) for e in es]
        even = combine([along(e, 0, -1) for e in odd] if n % 2 == 0 else odd, rest)
        even = [concatenate([along(e, 0, 1), r], axis=ax) for e, r in zip(es, even)]
        return [interleave(e, o) for e, o in zip(even, odd)]

    out = scan_(flat)
    if reverse:
        out = [flip(e, ax) for e in out]
    return _rebuild(structure, iter(out))


# The registry cost (per element) of the dearest op a left fold takes: one
# dependent chain per element of the other axes beats the odd/even
# recursion's log n vectorized levels for arithmetic, selects and
# comparisons (cost 1), square roots and divisions (2-4), not for
# transcendental ops (16 and up)
_FOLD_COST = 4

# A left fold along the last axis over fewer chains (elements of the other
# axes) than half this runs in tiles of at least _TILE_STEPS steps, about
# this many chains in all: their independent steps overlap, in blocks of
# chains on every core, where one chain's steps wait on each other. A fixed
# count, so results do not depend on the machine. Only a combine holding an
# op of cost _TILE_COST or more (a division, a square root) is tiled: tiles
# combine each element twice, which for a chain of cheap ops cost more than
# the waits it saves (the linear recurrence's pairs, 2 cores: 1M elements
# 2.3 ms tiled against 1.8 ms as one chain, 10M 33 ms against 19 ms; with a
# division, 10M: 20 ms against 51 ms)
_TILE_CHAINS = 512
_TILE_STEPS = 256
_TILE_COST = 2


def _left_fold(f, flat, structure, ax):
    """The scan of float leaves `flat` along `ax` as a left fold (`f` applied
    step by step from the first slices, its results kept in float64 as
    Keras's are), compiled as recurrence kernels, where `f` traces into
    cheap elementwise ops (registry cost at most `_FOLD_COST`) keeping the
    slices' shapes; else None. `h = a * h + b` written as a combine of pairs
    runs as the recurrence it is."""
    n = flat[0].shape[ax]
    if n < 2 or not all(is_float(e.dtype) for e in flat):
        return None
    tiles = _tiles(n, flat[0].shape, ax)
    try:
        if tiles > 1 and _dearest(f, structure, len(flat)) >= _TILE_COST:
            return _tiled_fold(f, structure, flat, tiles)
        moved = [moveaxis(e, ax, 0) for e in flat]
        folded = _fold(f, structure, [cast(e[0], "float64") for e in moved], _flag(False), moved)
    except TracedValueError:
        raise
    except Exception:  # noqa: BLE001 - the recursion reports f's errors as Keras's does
        return None
    return None if folded is None else [moveaxis(y, 0, ax) for y in folded[1]]


def _tiles(n, shape, ax):
    """The tiles a left fold of `n` steps along axis `ax` of `shape` runs in
    (1: none): along the last axis only, where each tile's steps are
    neighbours in memory; a count dividing `n` where one is near."""
    chains = int(np.prod(shape[:-1], dtype=np.int64))
    if ax != len(shape) - 1 or chains < 1:
        return 1
    tiles = min(_TILE_CHAINS // chains, n // _TILE_STEPS)
    if tiles < 2:
        return 1
    for t in range(tiles, tiles // 2, -1):
        if n % t == 0:
            return t
    return tiles


def _dearest(f, structure, k):
    """The registry cost of the dearest op `f` computes, traced on 0-d
    float64 leaves (0 where it does not trace)."""
    t = TensorType((), "float64")

    def combine(args):
        out = f(_rebuild(structure, iter(args[:k])), _rebuild(structure, iter(args[k:])))
        return [_tensor(o, "associative_scan", "f's result")._value for o in _leaves(out)]
    traced = _traced(combine, [t] * (2 * k))
    if traced is None:
        return 0
    return max((lookup(op.name).cost for op in traced[0].block.ops[:-1]), default=0)


def _tiled_fold(f, structure, flat, tiles):
    """The left fold along the last axis of float tensors `flat`, each of
    `tiles` tiles one chain of the recurrence kernels: (1) each tile folded
    to its total, (2) the totals folded in order, (3) each tile folded again
    from the fold of the totals before it, giving its results. A length
    `tiles` does not divide is padded with the last element (what follows
    the end changes no result before it). None where `f` is no cheap combine."""
    rest, n = flat[0].shape[:-1], flat[0].shape[-1]
    steps = -(-n // tiles)
    pad = steps * tiles - n
    if pad:
        flat = [concatenate([e, broadcast_to(e[..., -1:], rest + (pad,))], axis=-1) for e in flat]
    # (steps, *rest, tiles): the scanned slices, each chain's steps together in memory
    xs = [moveaxis(reshape(e, rest + (tiles, steps)), -1, 0) for e in flat]
    totals = _fold(f, structure, [cast(x[0], "float64") for x in xs], None,
                   [x[1:] for x in xs], keep=False)
    if totals is None:
        return None
    totals = [moveaxis(t, -1, 0) for t in totals[0]]  # (tiles, *rest)
    before = _fold(f, structure, [t[0] for t in totals], _flag(False), totals)
    if before is None:
        return None
    # tile k starts from the fold of tiles 0..k-1; tile 0 from its own first element
    carries = [moveaxis(concatenate([p[:1], p[:-1]]), 0, -1) for p in before[1]]
    begun = broadcast_to(greater(arange(tiles), 0), rest + (tiles,))
    done = _fold(f, structure, carries, begun, xs)
    if done is None:
        return None
    return [reshape(moveaxis(y, 0, -1), rest + (steps * tiles,))[..., :n] for y in done[1]]


def _flag(value):
    return _tensor(np.array(value), "associative_scan")


def _fold(f, structure, init, begun, xs, keep=True):
    """(last carries and flags, step outputs or None) of the left fold
    `c = f(c, x_t)` over the leading axis of `xs` from carries `init`, one
    `lazy.scan`; a chain whose flag in `begun` (a bool of the carries' shape,
    or a scalar; None: no flags) is False takes x_t itself at its first
    step. None where `f`
    traces into no cheap elementwise combine. Results in float64, as
    Keras's (f computes float64 operands in 32 bits, as Keras's ops convert
    them); `f` takes each x_t in float64, cast in the loop (so that the
    scans read views of the elements)."""
    flags = [] if begun is None else [begun]

    def body(c, x):
        x = [cast(t, "float64") for t in x]
        k = len(c) - len(flags)
        out = [_tensor(t, "associative_scan", "f's result") for t in _leaves(
            f(_rebuild(structure, iter(c[:k])), _rebuild(structure, iter(x))))]
        if flags:
            out = [where(c[-1], o, xt) for o, xt in zip(out, x)]
        out = [cast(o, "float64") for o in out]
        return out + [logical_or(c[-1], True)] * len(flags), (out if keep else None)
    return _recurrence(body, list(init) + flags, xs, xs, xs[0].shape[0], False,
                       only=lambda block: all(lookup(op.name).cost <= _FOLD_COST
                                              for op in block.ops[:-1]))


# f's one op over its two arguments -> the scan op it makes, and the input
# dtypes it is taken for: Keras combines the first pairs in the input dtype
# and the rest in float64, so a sum or product of bools or integers (logical
# on bools, wrapping on small integers) may differ from a float64 scan
_KNOWN_SCANS = {"lazy.add": ("cumsum", "float"), "lazy.multiply": ("cumprod", "float"),
                "lazy.maximum": ("cummax", "number"), "lazy.minimum": ("cummin", "number")}


def _known_scan(f, x):
    """The scan op `associative_scan(f, x)` is, where `f` traces on two
    scalars of x's dtype into one op of `_KNOWN_SCANS` over both, in that
    dtype; else None."""
    t = TensorType((), x.dtype)
    traced = _traced(lambda args: [_tensor(f(*args), "associative_scan", "f's result")._value],
                     [t, t])
    if traced is None or traced[1]:
        return None
    block = traced[0].block
    if len(block.ops) != 2:
        return None
    op, done = block.ops
    found = _KNOWN_SCANS.get(op.name)
    if found is None or set(op.operands) != set(block.args) or len(block.args) != 2 or \
            done.operands != op.results or op.results[0].type != t:
        return None
    scan, kind = found
    return scan if is_float(x.dtype) or kind == "number" and is_int(x.dtype) else None
