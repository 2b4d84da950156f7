"""Sinking views toward kernel inputs.

`transpose(exp(x))` is rewritten to `exp(transpose(x))`: elementwise ops
commute with views, and a view of a kernel input is an index map applied at
launch for free, while a view of a value computed inside a kernel would cut
the kernel in two. Only single-use elementwise results are rewritten, so no
work is duplicated.
"""
from ..ir.core import Operation
from ..ir.registry import ELEMENTWISE_OPS, VIEW_OPS, family, lookup
from ..ir.types import TensorType


def _sinkable(op, producer, uses, returned):
    if family(op) != VIEW_OPS:
        return None
    e = producer.get(op.operands[0])
    if e is None or op.operands[0] in returned or uses.get(op.operands[0]) != 1:
        return None
    return e if family(e) == ELEMENTWISE_OPS else None


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
        uses = {}
        for op in ops:
            for v in op.operands:
                uses[v] = uses.get(v, 0) + 1
        returned = {v for v in func.returns}
        replace, out, dead = {}, [], set()
        for op in ops:
            if replace:
                op.operands = [replace.get(v, v) for v in op.operands]
            e = _sinkable(op, producer, uses, returned)
            if e is None or e in dead:
                out.append(op)
                continue
            new = _sink(op, e)
            out.extend(new)
            replace[op.results[0]] = new[-1].results[0]
            dead.add(e)
            changed = True
        func.body.ops = [op for op in out if op not in dead]
    return func
