"""Kernels holding a concatenation, launched piece by piece.

The scheduler fuses a concatenation (`lazy.concatenate`, a piecewise op)
with the elementwise work that computes its pieces and the work that reads
its result, so `concatenate([exp(a), b * 2]) + 1` is one kernel over the
result's space S. Element i of the result is one piece's element, so the
kernel's space splits, along the concatenation's axis, into one box per
piece, and in the box of piece j the concatenation *is* piece j. Each box
is an ordinary elementwise kernel (a segment): piece j's ops, as they are
(its inputs have the box's shape); the ops over S, with every input that
spans S along the axis read through a slice view of the box (applied at
launch, as views are); its results over S written into the box of the
result buffers, allocated once for the whole kernel. So no piece and no
concatenation is ever in memory, and each segment takes the loop form its
layouts allow (`flat`, `nd`), as any elementwise kernel does.

The op that selects a piece per element is thereby resolved once per box,
not per element; pad (concatenations with constant blocks) and roll (two
slices) are the same kernels. A segment holding another concatenation
(the inner one of a pad over two axes) is split again at its launch.
"""
from ..ir.core import Block, Operation, Region
from ..ir.registry import CONSTANT_OPS, PIECEWISE_OPS, SOURCE_OPS, VIEW_OPS, family, lookup
from ..ir.types import TensorType
from .plan import Unsupported


class Segment:
    """The box of piece `index` (`box`: a slice per axis of the kernel's
    space) as a kernel of its own (`kernel`, with the parent's operands),
    whose results are the parent's results `whole` (over the space, this
    box of them), then `piece` (values of this piece, whole)."""

    def __init__(self, index, box, kernel, whole, piece):
        self.index, self.box, self.kernel = index, box, kernel
        self.whole, self.piece = whole, piece
        self.size = 1
        for d in kernel.attrs["space"]:
            self.size *= d


class Split:
    """A kernel cut at its concatenation: `segments` in order (empty pieces
    have none), and `pieces[i]`: None for a result over the whole space,
    else (the type of) the piece value result i is."""

    def __init__(self, kernel):
        block = kernel.regions[0].block
        producer = {r: op for op in block.ops for r in op.results}
        cats = [op for op in block.ops if family(op) == PIECEWISE_OPS]
        cat = cats[-1]  # the outermost: the others compute its pieces
        self.axis, offsets = lookup(cat.name).pieces([v.type for v in cat.operands], cat.attrs)
        feeds = [_feeding(v, producer) for v in cat.operands]
        if any(op not in set().union(*feeds) for op in cats[:-1]):
            raise Unsupported(f"codegen: {kernel.attrs['name']} holds two concatenations "
                              f"side by side")
        space = tuple(kernel.attrs["space"])
        outputs = block.ops[-1].operands
        owner = [next((j for j, f in enumerate(feeds) if producer.get(v) in f), None)
                 for v in outputs]
        for v, j in zip(outputs, owner):
            if j is None and v.type.shape != space:
                raise Unsupported(f"codegen: {kernel.attrs['name']} returns a value of shape "
                                  f"{v.type.shape}, neither the space nor a piece's")
        self.space = space
        self.pieces = [None if j is None else v.type for v, j in zip(outputs, owner)]
        self.segments = []
        for j, (v, off) in enumerate(zip(cat.operands, offsets)):
            n = v.type.shape[self.axis]
            if n == 0:
                continue
            box = tuple(slice(off, off + n) if d == self.axis else slice(None)
                        for d in range(len(space)))
            whole = [i for i, k in enumerate(owner) if k is None]
            piece = [i for i, k in enumerate(owner) if k == j]
            seg = _Segment(block, producer, cat, j, off, n, space, self.axis)
            yields = [seg.whole(outputs[i]) for i in whole] \
                + [seg.piece(outputs[i]) for i in piece]
            yields = [seg.stored(y) for y in yields]
            seg.block.ops.append(Operation("lazy.yield", yields, []))
            sub = Operation("lazy.kernel", list(kernel.operands), [y.type for y in yields],
                            {"name": f"{kernel.attrs['name']}.{j}",
                             "space": tuple(v.type.shape), "axes": ()},
                            [Region([seg.block])], kernel.loc)
            self.segments.append(Segment(j, box, sub, whole, piece))


def _feeding(v, producer):
    """The ops of a block that value `v` is computed from."""
    out, stack = set(), [v]
    while stack:
        p = producer.get(stack.pop())
        if p is not None and p not in out:
            out.add(p)
            stack.extend(p.operands)
    return out


class _Segment:
    """Builds the block of piece `j`'s box: values in the piece's context
    (`piece`: as they are) and in the whole space's (`whole`: retyped to
    the box, inputs spanning the axis sliced to it)."""

    def __init__(self, block, producer, cat, j, off, n, space, axis):
        self.block = Block([a.type for a in block.args])
        self.producer, self.cat, self.j = producer, cat, j
        self.off, self.n, self.space, self.axis = off, n, space, axis
        self.pieces = dict(zip(block.args, self.block.args))
        self.wholes = {}

    def emit(self, name, operands, types, attrs, loc, regions=()):
        op = Operation(name, operands, types, attrs, regions, loc)
        self.block.ops.append(op)
        return op.results

    def piece(self, v):
        """`v` as the piece computes it (its own indices)."""
        if v not in self.pieces:
            op = self.producer[v]
            if op is self.cat:
                raise Unsupported("codegen: a piece reads its own concatenation")
            new = self.emit(op.name, [self.piece(o) for o in op.operands],
                            [r.type for r in op.results], op.attrs, op.loc, op.regions)
            self.pieces.update(zip(op.results, new))
        return self.pieces[v]

    def whole(self, v):
        """`v`, a value over (or broadcast to) the whole space, in this box."""
        if v is self.cat.results[0]:
            return self.piece(self.cat.operands[self.j])
        if v in self.wholes:
            return self.wholes[v]
        op = self.producer.get(v)
        if op is None or family(op) in (VIEW_OPS, CONSTANT_OPS):  # memory, or one value
            out = self._boxed(self.piece(v))
        elif family(op) in (SOURCE_OPS, PIECEWISE_OPS):
            # an iota's value is its flat position, which a box does not keep
            raise Unsupported(f"codegen: {op.name} over a concatenation's whole space")
        else:
            operands = [self.whole(o) for o in op.operands]
            types = lookup(op.name).infer([o.type for o in operands], op.attrs)
            new = self.emit(op.name, operands,
                            [TensorType(t.shape, r.type.dtype) for t, r in zip(types, op.results)],
                            op.attrs, op.loc, op.regions)
            self.wholes.update(zip(op.results, new))
            return self.wholes[v]
        self.wholes[v] = out
        return out

    def _boxed(self, v):
        """`v` sliced to the box where it spans the axis (else it broadcasts)."""
        shape = v.type.shape
        k = self.axis - (len(self.space) - len(shape))
        if k < 0 or shape[k] == 1 or (self.off, self.n) == (0, shape[k]):
            return v
        start = [self.off if d == k else 0 for d in range(len(shape))]
        stop = [self.off + self.n if d == k else s for d, s in enumerate(shape)]
        box = tuple(self.n if d == k else s for d, s in enumerate(shape))
        (out,) = self.emit("lazy.slice", [v], [TensorType(box, v.type.dtype)],
                           {"start": start, "stop": stop, "step": [1] * len(shape)}, None)
        return out

    def stored(self, v):
        """A kernel result must be computed: an input or a constant is copied
        (an identity cast)."""
        op = next((o for o in self.block.ops if v in o.results), None)
        if op is not None and family(op) not in (VIEW_OPS, CONSTANT_OPS):
            return v
        (out,) = self.emit("lazy.cast", [v], [v.type], {"dtype": v.type.dtype}, None)
        return out


def piecewise(kernel):
    """Whether `kernel` holds a concatenation (so it launches piece by piece)."""
    return any(family(op) == PIECEWISE_OPS for op in kernel.regions[0].block.ops)
