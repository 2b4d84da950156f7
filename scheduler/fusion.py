"""Fusion: partition a function's ops into kernels and outline each into a
`lazy.kernel` op holding a region.

Rules (see docs/architecture.md):
- elementwise ops fuse when they compute over the same iteration space;
- views and constants are free: they are cloned into every kernel that reads
  them (a view of a kernel input is an index map, applied at launch); so are
  cheap elementwise ops on inputs alone that a larger space reads through a
  broadcast (a cast of a small input), recomputed per element of each reader;
- a reduction joins the group computing its operand (input fusion), and the
  group then loops over the outer space with the reduced axes inside; further
  reductions over the same axes join too (multi-output kernels);
- elementwise ops on reduction results over the same outer space join as the
  kernel's epilogue (computed once per row);
- an op over the kernel's space reading its reduction results broadcast back
  over the reduced axes (one value per row: softmax's `x - max`) joins as a
  later pass over each row; anything else reading a reduction result starts
  a new kernel; library ops (matmul) stand alone;
- ops over the same space reading the same memory share a kernel
  (horizontal fusion), so the data is read once;
- a cumulative scan along the last axis (cumsum) joins the elementwise
  group computing its operand, and elementwise ops reading its result join
  it in turn: one kernel scans each row (tiled where rows are long) with the
  work before and after it inside; a group holds one scan and no reductions;
- a compiled loop (`lazy.scan` with an elementwise body) is a kernel of its
  own, over the carries' shape, into which the elementwise groups computing
  its scanned operands (and nothing else) fold: the loop computes them step
  by step; nothing joins it after;
- a concatenation starts a group over its result, into which the
  elementwise groups computing its pieces fold (each op of such a group
  feeding exactly one piece); elementwise ops over the result join it as
  for any group, but never read a piece's values nor count elements (iota), since
  codegen launches the kernel piece by piece (`codegen/pieces.py`); it
  holds no reduction or scan; a group holding nothing but concatenations
  stays NumPy's copy;
- a value used outside its group becomes a kernel output.
"""
from ..ir.core import Block, Function, Operation, Region
from ..ir.dtypes import COMPLEX, FLOAT8, is_complex
from ..ir.registry import LOOP_OPS, PIECEWISE_OPS, SOURCE_OPS, family, lookup
from ..ir.shapes import reduced_shape
from .recurrence import recurrence


# Numba's compile time grows faster than linearly with function length: long
# chains are cut into kernels of at most this many ops (repeated pieces of a
# chain share one compiled kernel).
MAX_OPS = 48


class Group:
    """Ops that become one kernel. `outer` holds the values computed once per
    outer index (reduction results and the epilogue computed from them);
    `reads` the values the group loads from memory; `scan`: whether the
    group holds a scan (along `axes`, the last one) rather than reductions;
    `pieces`: None, or (a group holding a concatenation) the values its
    pieces compute, which no op over the whole result may read; `loop`:
    whether it holds a compiled loop (and the work computing its slices),
    which nothing else joins."""
    __slots__ = ("id", "space", "axes", "ops", "anc", "outer", "reads", "scan", "pieces", "loop")

    def __init__(self, gid, space, axes=(), scan=False):
        self.id, self.space, self.axes = gid, tuple(space), tuple(axes)
        self.ops, self.anc, self.outer, self.reads = [], set(), set(), set()
        self.scan = scan
        self.pieces = None
        self.loop = False


# how fusion treats each op family; others (terminators, kernels) stay as they are
_KIND = {"view": "free", "constant": "free", "reduction": "reduce", "elementwise": "elementwise",
         "source": "elementwise", "library": "library", "kernel": "other", "terminator": "other",
         "scan": "scan", "loop": "loop", "piecewise": "concat"}


def _complex_fused(op):
    """Whether a kernel computes `op` on complex64 values: the registry's
    complex-fused ops, a cast only to complex (NumPy's complex to real cast
    drops the imaginary part with a warning)."""
    return lookup(op.name).complex_fused and not (
        op.name == "lazy.cast" and is_complex(op.operands[0].type.dtype))


_NUMPY_ONLY = frozenset(FLOAT8 + COMPLEX)  # dtypes kernels compute only where the op allows


def _kind(op):
    k = _KIND[family(op)]
    if k in ("elementwise", "reduce", "scan", "concat") and any(  # complex, float8: NumPy steps
            v.type.dtype in _NUMPY_ONLY and (v.type.dtype in FLOAT8 or not _complex_fused(op))
            for v in op.operands + op.results):
        return "library"
    if k == "scan" and op.attrs["axis"] != len(op.operands[0].type.shape) - 1:
        return "library"  # the front end moves the scanned axis last
    if k == "loop" and not recurrence(op):
        return "library"  # its regions' plans run step by step on the host
    return k


def op_kinds(func):
    """How fusion treats each op of `func`: as its family says, except that
    an elementwise op of cost 1 on inputs alone (arguments, constants, views
    of them), read by an op over more elements through a broadcast and not
    returned, is free: recomputing it in each reader costs less than a
    kernel boundary (a dtype cast of a bias vector broadcast over rows)."""
    kind = {op: _kind(op) for op in func.ops}
    producer = {r: op for op in func.ops for r in op.results}
    readers = {}
    for op in func.ops:
        for v in op.operands:
            readers.setdefault(v, []).append(op)
    returned = set(func.returns)
    for op in func.ops[:-1]:
        r = op.results[0] if op.results else None
        if (family(op) != "elementwise" or lookup(op.name).cost > 1 or r in returned
                or any(v in producer and kind[producer[v]] != "free" for v in op.operands)):
            continue
        users = readers.get(r, [])
        # read by compute ops only: a view of it would be applied at launch,
        # where only kernel inputs exist
        if all(kind[u] in ("elementwise", "reduce") for u in users) and any(
                u.results[0].type.size > r.type.size for u in users):
            kind[op] = "free"
    return kind


class _State:
    def __init__(self, kind):
        self.kind = kind    # op -> how fusion treats it (op_kinds)
        self.group_of = {}  # op -> Group
        self.producer = {}  # value -> op
        self.readers = {}   # value -> the ops reading it
        self.returned = set()
        self.groups = []

    def new_group(self, space, axes=(), scan=False):
        g = Group(len(self.groups), space, axes, scan)
        self.groups.append(g)
        return g

    def depend(self, g, hs):
        """`g` now reads the groups `hs`. Ancestor sets stay transitively
        closed: every group that depends on `g` inherits the new ancestors."""
        new = set()
        for h in hs:
            new |= {h.id} | h.anc
        new -= g.anc
        if new:
            for k in self.groups:
                if k is g or g.id in k.anc:
                    k.anc |= new

    def group(self, v):
        p = self.producer.get(v)
        return self.group_of.get(p) if p is not None else None

    def roots(self, op):
        """Values `op` reads from memory (id -> value), looking through free ops."""
        out, stack = {}, list(op.operands)
        while stack:
            v = stack.pop()
            p = self.producer.get(v)
            if p is not None and p not in self.group_of and self.kind[p] == "free":
                stack.extend(p.operands)
            elif p is None or p in self.group_of:
                out[v] = v
        return out

    def deps(self, op):
        """Groups whose results `op` reads, looking through free ops."""
        out = Deps()
        stack = [(v, False) for v in op.operands]
        while stack:
            v, through_view = stack.pop()
            p = self.producer.get(v)
            if p is None:
                continue
            g = self.group_of.get(p)
            if g is not None:
                if g not in out:
                    out.append(g)
                if through_view:
                    out.viewed.add(g.id)
            elif self.kind[p] == "free":
                stack.extend((o, True) for o in p.operands)
        return out


class Deps(list):
    """The groups an op reads. `viewed`: ids of those it reads through a view,
    which it cannot join: a kernel reads views of its inputs only (a view of
    a value computed inside the kernel has no per-element index map)."""

    def __init__(self):
        super().__init__()
        self.viewed = set()


def partition(func, kind=None):
    """Assign each non-free op of `func` to a Group; returns (groups, group_of)."""
    st = _State(kind or op_kinds(func))
    for op in func.ops:
        for v in op.operands:
            st.readers.setdefault(v, []).append(op)
    st.returned = set(func.returns)
    for op in func.ops[:-1]:
        for r in op.results:
            st.producer[r] = op
        kind = st.kind[op]
        if kind in ("free", "other"):
            continue
        deps = st.deps(op)
        outer = False
        if kind == "library":
            g = st.new_group(op.results[0].type.shape)
        elif kind == "elementwise":
            g = _epilogue_target(st, op, deps)
            outer = g is not None
            g = g or _after_loop(st, op, deps) or _elementwise_target(st, op, deps)
        elif kind == "scan":
            g = _scan_target(st, op, deps)
        elif kind == "concat":
            g = _concat_target(st, op, deps)
        elif kind == "loop":
            g = _loop_target(st, op, deps)
        else:
            g = _reduction_target(st, op, deps)
            outer = True
        st.depend(g, [h for h in deps if h is not g and h.ops])  # (merged groups are empty)
        g.ops.append(op)
        g.reads |= set(st.roots(op))
        st.group_of[op] = g
        if outer:
            g.outer.add(op.results[0])
    return [g for g in st.groups if g.ops], st.group_of


def _safe(g, deps):
    """`op` (reading `deps`) may join `g`: it does not read `g` through a
    view, and no cycle forms (no other dependency depends on `g`)."""
    return g.id not in deps.viewed and all(g.id not in h.anc for h in deps if h is not g)


def _compute_group(g):
    return bool(g.ops) and not g.loop and _kind(g.ops[0]) != "library" and len(g.ops) < MAX_OPS


def _epilogue_target(st, op, deps):
    """The group whose reduction results `op` combines, computed per outer index."""
    for v in op.operands:
        g = st.group(v)
        if g is None or v not in g.outer:
            continue
        shape = v.type.shape
        ok = op.results[0].type.shape == shape and _compute_group(g) and _safe(g, deps) and all(
            (w in g.outer) or (w.type.size == 1 and st.group(w) is not g)
            for w in op.operands)
        if ok:
            return g
    return None


def _can_join(g, op, deps):
    if g.space != op.results[0].type.shape or not _compute_group(g):
        return False
    if g.pieces is not None and (family(op) == SOURCE_OPS
                                 or any(v in g.pieces for v in op.operands)):
        return False
    if any(v in g.outer and not _per_row(g, v) for v in op.operands):
        return False
    return _safe(g, deps)


def _per_row(g, v):
    """Whether `v` (a value of `g` computed once per outer index) broadcasts
    over `g`'s space as one value per row: size 1 along the reduced axes,
    the space's own size along the others."""
    shape = v.type.shape
    if len(shape) > len(g.space):
        return False
    padded = (1,) * (len(g.space) - len(shape)) + tuple(shape)
    return padded == reduced_shape(g.space, g.axes, True)


def _sibling(st, op, deps, space, fits):
    """A recent group over the same space reading the same memory (horizontal fusion)."""
    roots = st.roots(op)
    if not roots:
        return None
    for g in reversed(st.groups[-16:]):
        if g.pieces is not None and family(op) == SOURCE_OPS:
            continue
        if (_compute_group(g) and g.space == space and fits(g) and g.reads & set(roots)
                and _safe(g, deps) and all(st.group(v) is not g for v in roots.values())):
            return g
    return None


def _elementwise_target(st, op, deps):
    direct = []
    for v in op.operands:
        h = st.group(v)
        if h is not None and h not in direct:
            direct.append(h)
    joinable = [g for g in direct if _can_join(g, op, deps)]
    if not joinable:
        shape = op.results[0].type.shape
        g = _sibling(st, op, deps, shape, lambda g: True)
        return g or st.new_group(shape)
    g = joinable[0]
    for h in joinable[1:]:
        if g.id not in h.anc and h.id not in g.anc and len(g.ops) + len(h.ops) < MAX_OPS \
                and _mergeable(g, h):
            _merge(st, g, h)
    return g


def _mergeable(g, h):
    """Whether independent groups `g` and `h` over one space may be one kernel."""
    if g.pieces is None and h.pieces is None:
        return not g.axes or not h.axes or (g.axes == h.axes and not g.scan and not h.scan)
    other = h if g.pieces is not None else g  # its ops would run over the whole result
    return other.pieces is None and not other.axes and not other.scan \
        and not any(family(op) == SOURCE_OPS for op in other.ops)


def _merge(st, g, h):
    """Fold group `h` into `g`; they are independent, so no cycle can form.
    Whatever depended on either now depends on the union's ancestors."""
    g.ops.extend(h.ops)
    both = g.anc | h.anc
    for k in st.groups:
        if k is not g and (g.id in k.anc or h.id in k.anc):
            k.anc |= both | {g.id}
    g.anc = both
    g.outer |= h.outer
    g.reads |= h.reads
    g.axes = g.axes or h.axes
    g.scan = g.scan or h.scan
    if h.pieces is not None:
        g.pieces = (g.pieces or set()) | h.pieces
    for op in h.ops:
        st.group_of[op] = g
    h.ops = []


def _reduction_target(st, op, deps):
    (x,) = op.operands
    axes = tuple(op.attrs["axis"])
    h = st.group(x)
    if (h is not None and h.space == x.type.shape and h.axes in ((), axes) and not h.scan
            and h.pieces is None and x not in h.outer and _compute_group(h) and _safe(h, deps)):
        h.axes = axes
        return h
    g = _sibling(st, op, deps, x.type.shape,
                 lambda g: g.axes in ((), axes) and not g.scan and g.pieces is None)
    if g is not None:
        g.axes = axes
        return g
    return st.new_group(x.type.shape, axes)


def _scan_target(st, op, deps):
    """The elementwise group computing the scan's operand, or a new group."""
    (x,) = op.operands
    axes = (len(x.type.shape) - 1,)
    h = st.group(x)
    if (h is not None and h.space == x.type.shape and not h.axes  # (a scan group has axes)
            and h.pieces is None and _compute_group(h) and _safe(h, deps)):
        h.axes, h.scan = axes, True
        return h
    return st.new_group(x.type.shape, axes, scan=True)


def _concat_target(st, op, deps):
    """A new group over the concatenation's result, with the groups
    computing its pieces folded in where each such group is exactly the
    work of the pieces it computes: an elementwise group over the pieces'
    shape whose ops each feed one of its operands and none of the others
    (`concatenate([exp(x), x * 2])`: one group by horizontal fusion, split
    by piece), read by no other group this op reads (a cycle) nor through
    a view."""
    g = st.new_group(op.results[0].type.shape)
    g.pieces = set()
    size = 1
    for h, vs in _computing(st, op.operands).items():
        feeds = [_feeding(st, v, h) for v in vs]
        if (h.id in deps.viewed or any(h.space != v.type.shape for v in vs)
                or h.axes or h.scan or not _compute_group(h)
                or any(h.id in k.anc for k in deps if k is not h)
                or sum(map(len, feeds)) != len(h.ops) or set().union(*feeds) != set(h.ops)
                or size + len(h.ops) >= MAX_OPS):
            continue
        size += len(h.ops)
        g.pieces.update(r for o in h.ops for r in o.results)
        _merge(st, g, h)
    return g


def _loop_target(st, op, deps):
    """A compiled loop's own kernel, over its carries' space S, with the
    groups computing its scanned operands folded in where each is exactly
    their work: an elementwise group over (steps, *S) whose ops all feed
    the loop's scanned operands and nothing else (no other reader, not
    returned), read by no other group this op reads (a cycle) nor through a
    view. `scan(f, h, exp(x))` computes exp per step inside the loop."""
    k = op.attrs["carries"]
    space = max((r.type.shape for r in op.results[:k]), key=len)
    g = st.new_group(space)
    g.loop = True
    if op.name != "lazy.scan":
        return g
    xs = op.operands[k:k + op.attrs["xs"]]
    steps = (op.attrs["length"],) + tuple(space)
    others = set(op.operands) - set(xs)
    for h, vs in _computing(st, xs).items():
        feeds = set().union(*[_feeding(st, v, h) for v in vs])
        results = {r for o in h.ops for r in o.results}
        if (h.id in deps.viewed or h.space != steps or any(v.type.shape != steps for v in vs)
                or h.axes or h.scan or h.pieces is not None or not _compute_group(h)
                or any(h.id in d.anc for d in deps if d is not h) or feeds != set(h.ops)
                or results & (others | st.returned)
                or any(u is not op and st.group_of.get(u) is not h
                       for r in results for u in st.readers.get(r, ()))):
            continue
        _merge(st, g, h)
    return g


def _after_loop(st, op, deps):
    """The loop group whose results `op` works on, computing it in the loop:
    per step, where `op` is over (steps, *S) and every operand computed in
    that group is a step output over (steps, *S) or such work (not a last
    carry); once the loop is done, where `op` is over S (or a scalar) and
    every such operand is a last carry or such work."""
    for v in op.operands:
        g = st.group(v)
        if g is not None and g.loop:
            break
    else:
        return None
    loop = next(o for o in g.ops if family(o) == LOOP_OPS)
    if loop.name not in ("lazy.scan", "lazy.while") or len(g.ops) >= MAX_OPS \
            or not _safe(g, deps):
        return None
    k = loop.attrs["carries"]
    computed = [w for w in op.operands if st.group(w) is g]
    at = g.ops.index(loop)
    if any(st.producer[w] is not loop and g.ops.index(st.producer[w]) < at for w in computed):
        return None  # reads work before the loop
    shape = op.results[0].type.shape
    if len(shape) <= len(g.space):  # on the last carries
        ok = shape in (g.space, ()) and all(
            w in loop.results[:k] or st.producer[w] is not loop and len(w.type.shape) <= len(shape)
            for w in computed)
        return g if ok else None
    if loop.name != "lazy.scan":
        return None
    steps = (loop.attrs["length"],) + g.space
    if shape != steps or any(w.type.shape != steps or w in loop.results[:k] for w in computed):
        return None
    return g


def _computing(st, values):
    """{group: the `values` it computes} for the groups computing any."""
    out = {}
    for v in values:
        h = st.group(v)
        if h is not None:
            out.setdefault(h, []).append(v)
    return out


def _feeding(st, v, h):
    """The ops of group `h` that value `v` is computed from."""
    out, stack = set(), [v]
    while stack:
        p = st.producer.get(stack.pop())
        if p is None or p in out:
            continue
        if st.group_of.get(p) is h:
            out.add(p)
            stack.extend(p.operands)
        elif st.kind[p] == "free" and p not in st.group_of:
            stack.extend(p.operands)
    return out


def _copies(g):
    """A group holding nothing but concatenations: NumPy's copies, no kernel."""
    return all(family(op) == PIECEWISE_OPS for op in g.ops)


def outline(func, groups, group_of, kind=None):
    """Rewrite `func` with each multi-op or kernel-worthy group as a lazy.kernel."""
    kind = kind or op_kinds(func)
    uses = {}
    for op in func.ops:
        for v in op.operands:
            uses.setdefault(v, []).append(op)
    producer = {r: op for op in func.ops for r in op.results}
    outside_free = _free_ops_needed_outside(func, producer, kind, group_of)
    order = _group_order(func, groups, group_of, producer, kind)
    pos = {op: i for i, op in enumerate(func.ops)}
    body = Block([a.type for a in func.args])
    vmap = {a: b for a, b in zip(func.args, body.args)}
    for item in order:
        if isinstance(item, Group):
            _emit_group(item, body, vmap, uses, group_of, producer, func, pos, kind)
        elif item in outside_free or _kind(item) == "library" or _kind(item) == "other":
            new = Operation(item.name, [vmap[o] for o in item.operands],
                            [r.type for r in item.results], item.attrs, item.regions, item.loc)
            body.ops.append(new)
            for r, nr in zip(item.results, new.results):
                vmap[r] = nr
    body.ops.append(Operation("func.return", [vmap[v] for v in func.returns], []))
    return Function(func.name, body)


def _free_ops_needed_outside(func, producer, kind, group_of):
    """Free ops whose results are read outside kernels (returns, library ops)."""
    need, stack = set(), []
    for op in func.ops:
        g = group_of.get(op)
        if _kind(op) in ("library", "other") or (g is not None and _copies(g)):
            stack.extend(op.operands)
    while stack:
        v = stack.pop()
        p = producer.get(v)
        if p is not None and kind[p] == "free" and p not in need:
            need.add(p)
            stack.extend(p.operands)
    return need


def _group_order(func, groups, group_of, producer, kind):
    """Topological order of groups and top-level ops (Kahn's algorithm)."""
    items, index = [], {}
    for op in func.ops[:-1]:
        g = group_of.get(op)
        key = g if g is not None else op
        if key not in index:
            index[key] = len(items)
            items.append(g if g is not None else op)
    preds = [set() for _ in items]
    for op in func.ops[:-1]:
        g = group_of.get(op)
        me = index[g if g is not None else op]
        stack = list(op.operands)
        while stack:
            v = stack.pop()
            p = producer.get(v)
            if p is None:
                continue
            pg = group_of.get(p)
            src = index[pg if pg is not None else p]
            if src != me:
                preds[me].add(src)
            if pg is None and kind[p] == "free" and g is not None:
                stack.extend(p.operands)
    succs = [[] for _ in items]
    for i, ps in enumerate(preds):
        for p in ps:
            succs[p].append(i)
    count = [len(p) for p in preds]
    ready = [i for i, c in enumerate(count) if c == 0]
    out = []
    while ready:
        i = min(ready)
        ready.remove(i)
        out.append(items[i])
        for s in succs[i]:
            count[s] -= 1
            if count[s] == 0:
                ready.append(s)
    if len(out) != len(items):
        raise RuntimeError("scheduler: cyclic kernel dependencies")
    return out


def _emit_group(g, body, vmap, uses, group_of, producer, func, pos, kind):
    if _kind(g.ops[0]) == "library" or _copies(g):  # top-level ops, in order
        for op in sorted(g.ops, key=lambda o: pos[o]):
            new = Operation(op.name, [vmap[o] for o in op.operands],
                            [r.type for r in op.results], op.attrs, op.regions, op.loc)
            body.ops.append(new)
            for r, nr in zip(op.results, new.results):
                vmap[r] = nr
        return
    members = {op for op in g.ops}
    returned = {v for v in func.returns}
    inputs, clones = [], []  # outer values read; free ops cloned into the region
    seen_in, seen_clone = set(), set()

    def visit(v):
        p = producer.get(v)
        if p is not None and p in members:
            return
        if p is not None and kind[p] == "free" and group_of.get(p) is None:
            for o in p.operands:
                visit(o)
            if p not in seen_clone:
                seen_clone.add(p)
                clones.append(p)
            return
        if v not in seen_in:
            seen_in.add(v)
            inputs.append(v)

    for op in g.ops:
        for v in op.operands:
            visit(v)
    outputs = []
    for op in g.ops:
        for r in op.results:
            used_out = any(u not in members for u in uses.get(r, []))
            if used_out or r in returned:
                outputs.append(r)
    block = Block([v.type for v in inputs])
    local = {v: a for v, a in zip(inputs, block.args)}
    for op in sorted(clones, key=lambda o: pos[o]) + sorted(g.ops, key=lambda o: pos[o]):
        new = Operation(op.name, [local[o] for o in op.operands],
                        [r.type for r in op.results], op.attrs, op.regions, op.loc)
        block.ops.append(new)
        for r, nr in zip(op.results, new.results):
            local[r] = nr
    block.ops.append(Operation("lazy.yield", [local[r] for r in outputs], []))
    kernel = Operation("lazy.kernel", [vmap[v] for v in inputs], [r.type for r in outputs],
                       {"name": f"k{g.id}", "space": g.space, "axes": g.axes},
                       [Region([block])], g.ops[0].loc)
    body.ops.append(kernel)
    for r, nr in zip(outputs, kernel.results):
        vmap[r] = nr
