"""Sinking views toward kernel inputs.

`transpose(exp(x))` is rewritten to `exp(transpose(x))`: elementwise ops
commute with views, and a view of a kernel input is an index map applied at
launch for free, while a view of a value computed inside a kernel would cut
the kernel in two. Only elementwise results read by one view, or by
slices that do not overlap (`roll`'s two pieces, `split`'s parts), are
rewritten, so no element is computed twice; besides, slices of a result
read elsewhere are rewritten where together they hold at most a quarter of
its elements (`pad`'s edges and corners: those are computed again).
"""
from ..ir.core import Operation
from ..ir.registry import ELEMENTWISE_OPS, VIEW_OPS, family, lookup
from ..ir.types import TensorType


def _sinkable(op, producer, uses, returned, parted, sliced):
    if family(op) != VIEW_OPS:
        return None
    v = op.operands[0]
    e = producer.get(v)
    shared = uses.get(v) != 1 and v not in (sliced if _box(op) is not None else parted)
    if e is None or v in returned or shared:
        return None
    return e if family(e) == ELEMENTWISE_OPS else None


def _box(op):
    """The (start, stop) per axis a step-1 slice reads, else None."""
    if op.name != "lazy.slice" or any(s != 1 for s in op.attrs["step"]):
        return None
    return list(zip(op.attrs["start"], op.attrs["stop"]))


def _parted(readers):
    """(values whose every view may sink: read only by step-1 slices,
    pairwise disjoint; values whose step-1 slices may sink: those, and
    values whose slices hold at most a quarter of their elements together)."""
    parted, sliced = set(), set()
    for v, ops in readers.items():
        boxes = [b for b in map(_box, ops) if b is not None]
        if not boxes:
            continue
        if 4 * sum(_size(b) for b in boxes) <= v.type.size:
            sliced.add(v)
        if len(boxes) == len(ops) > 1 and all(
                any(a1 <= b0 or b1 <= a0 for (a0, a1), (b0, b1) in zip(p, q))
                for i, p in enumerate(boxes) for q in boxes[i + 1:]):
            parted.add(v)
            sliced.add(v)
    return parted, sliced


def _size(box):
    n = 1
    for a, b in box:
        n *= max(b - a, 0)
    return n


def _sink(view, e):
    """Ops computing `view(e(...))` as `e(view(...))`; the last one is the result."""
    d = lookup(view.name)
    shape = e.results[0].type.shape
    emitted, operands = [], []
    # 0-d operands broadcast implicitly, unless none of the others carries the shape
    shaped = any(w.type.shape != () for w in e.operands)
    for w in e.operands:
        if w.type.shape == () and (shaped or operands):
            operands.append(w)
            continue
        cur = w
        if cur.type.shape != shape:
            b = Operation("lazy.broadcast_to", [cur], [TensorType(shape, cur.type.dtype)],
                          {"shape": shape}, loc=view.loc)
            emitted.append(b)
            cur = b.results[0]
        v = Operation(view.name, [cur], d.infer([cur.type], view.attrs), view.attrs, loc=view.loc)
        emitted.append(v)
        operands.append(v.results[0])
    emitted.append(Operation(e.name, operands, [view.results[0].type], e.attrs, loc=e.loc))
    return emitted


def sink_views(func):
    """Rewrite `func` in place until no view sits on a single-use elementwise op."""
    changed = True
    while changed:
        changed = False
        ops = func.body.ops
        producer = {r: op for op in ops for r in op.results}
        uses, readers = {}, {}
        for op in ops:
            for v in op.operands:
                uses[v] = uses.get(v, 0) + 1
                readers.setdefault(v, []).append(op)
        returned = {v for v in func.returns}
        parted, sliced = _parted(readers)
        replace, out, dead, left = {}, [], set(), {}
        for op in ops:
            if replace:
                op.operands = [replace.get(v, v) for v in op.operands]
            e = _sinkable(op, producer, uses, returned, parted, sliced)
            if e is None or e in dead:
                out.append(op)
                continue
            new = _sink(op, e)
            out.extend(new)
            replace[op.results[0]] = new[-1].results[0]
            # `e` goes once every view reading it is rewritten
            left[e] = left.get(e, uses[op.operands[0]]) - 1
            if left[e] == 0:
                dead.add(e)
            changed = True
        func.body.ops = [op for op in out if op not in dead]
    return func
