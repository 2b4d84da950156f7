"""Launching a kernel: apply the views of its inputs with NumPy, choose the
plan's form from the inputs' layouts, and call the compiled function.
Layouts are target independent; a target supplies `print_plan` and
`compile` (see `codegen.backend`)."""
import itertools
import operator
import threading

import numpy as np
from numpy.lib.array_utils import byte_bounds

from ..ir.interpreter import run_op
from . import background, buffers
from .cache import STATS, why_new
from .pieces import Split, piecewise
from .plan import CHAIN_BLOCK, RECUR_BLOCK, KernelInfo, build_plan, loop_layout, loop_result

_BUILD = threading.Lock()  # the compile thread and the caller may want one kernel at once


class Launcher:
    """Launches one kernel. A launch's layout is (form, rank, access, serial):
    each layout is its own compiled function. `settings` (the engine's live
    settings) gives `serial_work`: a kernel with less work (elements, times
    the steps of a compiled loop) runs on one thread, where waking the
    others costs more than they save. A kernel
    holding a concatenation gets a `Piecewise` launcher."""

    def __new__(cls, kernel, target, settings=None):
        if cls is Launcher and piecewise(kernel):
            cls = Piecewise
        return super().__new__(cls)

    def __init__(self, kernel, target, settings=None):
        self.info = KernelInfo(kernel)
        self.block = kernel.regions[0].block
        self.target = target
        self.launch = target.launch
        self.settings = settings or {}
        self.size = int(np.prod(self.info.space, dtype=np.int64))
        # steps of the compiled loops (1: none; an interpreted step is Python's)
        # and elements computed per launch: a loop runs its space once per step
        self.steps = int(np.prod([_steps(op) for op in self.info.loops], dtype=np.int64))
        self.work = self.size * self.steps
        self.fns = {}
        self.replays = {}  # (serial, argument strides) -> _Replay, or None where none fits

    def _layout(self, args, dests=None):
        """(layout, call arguments, result arrays) of a launch on `args`."""
        form, rank, access, call_args, results = self.configure(args, dests)
        serial = self.work < self.settings.get("serial_work", 0)
        return (form, rank, access, serial), call_args, results

    def _fn(self, layout, source=None):
        """The kernel for `layout`, built once; `source`: its source, where
        the caller printed it already."""
        fn = self.fns.get(layout)
        if fn is None:
            with _BUILD:
                fn = self.fns.get(layout)
                if fn is None:
                    fn = self.fns[layout] = self.target.compile(
                        source or self.source(*layout), self._why(layout))
        return fn

    def ahead(self, args, dests=None):
        """A job that compiles the kernel a launch on `args` needs, without
        running it (see `codegen.background`); None where the target cannot."""
        describe = getattr(self.target, "describe", None)
        if describe is None:
            return None
        layout, call_args, _ = self._layout(args, dests)
        described = describe(call_args)
        before = getattr(self.target, "ahead", None)  # a compile worker fills the disk cache

        def job():
            source = None
            if before is not None and layout not in self.fns:
                source = self.source(*layout)
                if before(source, described) and background.exiting():
                    return  # on disk for the next process; this one needs it no more
            self.target.precompile(self._fn(layout, source), described)
        return job

    def _why(self, layout):
        """What is new about a kernel about to be built (the miss log): its
        structure, its dtypes or its layout (see `cache.why_new`)."""
        block = self.block
        number = {v: i for i, v in enumerate(block.args)}
        count = itertools.count(len(number))
        structure = []  # computed ops and constants (views are strides, in the layout)
        for op in block.ops:
            if op in self.info.ops or not op.operands:
                number.update((r, next(count)) for r in op.results)
                structure.append((op.name, [number.get(v) for v in op.operands],
                                  repr(sorted((k, v) for k, v in op.attrs.items() if k != "dtype"))))
            else:  # a view: its result stands for its operand
                number.update((r, number.get(op.operands[0])) for r in op.results)
        structure = repr(structure)
        dtypes = ",".join(v.type.dtype for v in block.args) + " -> " + ",".join(
            v.type.dtype for v in self.info.outputs)
        form, rank, access, serial = layout
        where = f"form {form}, rank {rank}, inputs {' '.join(access) or 'none'}" \
            + (", one thread" if serial else "")
        ops = " ".join(op.name.split(".", 1)[1] for op in self.info.ops)
        return why_new(f"{self.info.kernel.attrs['name']} ({ops})", structure, dtypes, where)

    def plan(self, form, rank, access, serial=False):
        return build_plan(self.info, form, rank, access, getattr(self.target, "SCALAR", None),
                          serial, getattr(self.target, "MOMENTS", False))

    def source(self, form, rank, access, serial=False):
        return self.target.print_plan(self.plan(form, rank, access, serial))

    def explain_for(self, args, dests=None):
        """(form, loop plan, generated source) a launch on `args` would use."""
        layout, _, _ = self._layout(args, dests)
        plan = self.plan(*layout)
        return layout[0], plan, self.target.print_plan(plan)

    def __call__(self, args, dests=None):
        """The results of a launch on `args`. `dests`: per result, None or
        the array to write it into (a piece's box of a concatenation's
        result: such launches configure each time)."""
        if dests is not None:
            layout, call_args, results = self._layout(args, dests)
            self.launch(self._fn(layout), call_args)
            self.last = layout
            return results
        # serial? and the arguments' strides: the plan fixes shapes and dtypes
        key = (self.work < self.settings.get("serial_work", 0), *map(_STRIDES, args))
        replay = self.replays.get(key, False)
        if replay:
            if replay.go is not None:
                return replay.go(args)
            call_args, results = replay(args)
            self.launch(replay.fn, call_args)
            self.last = replay.layout  # what explain() shows after a force
            return results
        layout, call_args, results = self._layout(args)
        fn = self._fn(layout)
        if replay is False:  # the first launch with this geometry
            if len(self.replays) >= _MAX_REPLAYS:
                self.replays.clear()
            self.replays[key] = _Replay.of(self, layout, fn, args, call_args, results)
        self.launch(fn, call_args)
        self.last = layout
        return results

    def direct(self, args):
        """A function launching this kernel on a list of arrays laid out as
        `args` (the same strides; shapes and dtypes are the plan's) and
        returning its results, with nothing in between; None where such a
        launch must configure (see `_Replay`)."""
        replay = self.replay_for(args)
        return replay.go if replay else None

    def replay_for(self, args):
        """The replay of launches on arrays laid out as `args`, or None."""
        key = (self.work < self.settings.get("serial_work", 0), *map(_STRIDES, args))
        return self.replays.get(key)

    def explain_last(self):
        """(form, loop plan, generated source) of the latest launch, or None."""
        last = getattr(self, "last", None)
        if last is None:
            return None
        plan = self.plan(*last)
        return last[0], plan, self.target.print_plan(plan)

    def configure(self, args, dests=None):
        """Form, rank, input access kinds (see `plan.Input`), call arguments
        and result arrays (`dests`: see `__call__`; elementwise kernels only)."""
        info = self.info
        env = dict(zip(self.block.args, args))
        for op in info.prelude:
            env.update(zip(op.results, run_op(op, [env[o] for o in op.operands])))
        if info.loops:
            return self._recur(env)
        space = info.space
        access, arrays = [], []
        zero_d = getattr(self.target, "UNIFORM_0D", False)
        for v in info.loads:
            a = env[v]
            if a.size == 1:
                access.append("uniform")
                # a scalar as it is (reshaping it costs more than its launch)
                arrays.append(a if zero_d and a.ndim == 0 and type(a) is np.ndarray
                              else a.reshape(1))
            elif a.size and not any(a.strides):  # one value broadcast
                access.append("uniform")
                arrays.append(np.lib.stride_tricks.as_strided(a, (1,), (a.itemsize,)))
            else:
                access.append("elem")
                arrays.append(a if a.shape == space else np.broadcast_to(a, space))
        arrays = [_bits(a) for a in arrays]
        if not info.reductions and not info.scans:
            return self._elementwise(arrays, tuple(access), dests)
        if dests is not None:
            raise ValueError("launch: only elementwise kernels write into given arrays")
        return self._reduce(arrays, access, [_bits(env[v]) for v in info.loads])

    def _recur(self, env):
        """A compiled loop: the carries' space flattened to n elements; a
        scanned input is (T, n), or (T,) where one step is one value; a
        while loop's T is its iteration limit (-1: none). Where every
        scanned input keeps each element's steps together (chain-major, as
        the tiles of a long scan are), the step outputs are laid out alike."""
        (op,) = self.info.loops
        _, _, steps = loop_layout(op)
        n, space = self.size, self.info.space
        access, args, scanned = [], [], []
        for v in self.info.loads:
            a = env[v]
            if v in self.info.stepped:
                one = a.size == steps
                access.append("step" if one else "stepelem")
                if one:
                    a = a.reshape(steps)
                else:
                    a = np.broadcast_to(a, (steps,) + space).reshape(steps, n)
                    scanned.append(a)
            elif a.size == 1:
                access.append("uniform")
                a = a.reshape(1)
            else:
                access.append("elem")
                a = np.broadcast_to(a, space).reshape(n)
            args.append(_bits(a))
        chains = n > 1 and steps > 1 and scanned and all(
            0 < a.strides[0] < a.strides[1] for a in scanned)
        results, outs = [], []
        for v in self.info.outputs:
            per_step, one = loop_result(op, v, space)  # one: a scalar carry or step output
            if chains and per_step and not one:  # (steps, n) over each chain's steps
                buf = buffers.empty(space + (steps,), v.type.dtype)
                results.append(np.moveaxis(buf, -1, 0))
                outs.append(_bits(buf.reshape(n, steps).T))
                continue
            r = buffers.empty(v.type.shape, v.type.dtype)
            results.append(r)
            each = () if one and per_step else ((1,) if one else (n,))
            outs.append(_bits(r.reshape(((steps,) if per_step else ()) + each)))
        rank = 1  # rank 2, 3: steps over blocks of elements, of chains
        if op.name == "lazy.scan" and n >= 2 * (CHAIN_BLOCK if chains else RECUR_BLOCK):
            rank = 3 if chains else 2
        return "recur", rank, tuple(access), [n, steps] + args + outs, results

    def _elementwise(self, arrays, access, dests=None):
        info, space = self.info, self.info.space
        results = [buffers.empty(space, v.type.dtype) if d is None else d
                   for v, d in zip(info.outputs, dests or [None] * len(info.outputs))]
        outs = [_bits(o) for o in results]
        loads = [a for a, k in zip(arrays, access) if k == "elem"]
        if all(a.flags.c_contiguous for a in loads + outs):
            n = self.size
            rank = 1 if space else 0
            flat = [a.reshape(-1) if k == "elem" else a for a, k in zip(arrays, access)]
            return "flat", rank, access, [n] + flat + [o.reshape(-1) for o in outs], results
        shape, views = _collapse(space, loads + outs)
        if len(shape) > 1 and getattr(self.target, "RUNS", False) and all(map(_run_ok, views)):
            # each innermost run contiguous (a box of a concatenation, a
            # slice of rows): runs sliced from a flat buffer vectorize
            it = iter(views)
            args = [_run(next(it)) if k == "elem" else (a, []) for a, k in zip(arrays, access)]
            args += [_run(v) for v in it]
            strides = [s for _, st in args for s in st]
            call = list(shape) + strides + [a for a, _ in args]
            return "runs", len(shape), access, call, results
        it = iter(views)
        args = [next(it) if k == "elem" else a for a, k in zip(arrays, access)] + list(it)
        return "nd", len(shape), access, list(shape) + args, results

    def _reduce(self, arrays, access, loaded):
        """`arrays`: the loads broadcast to the space; `loaded`: as given."""
        info, space, axes = self.info, self.info.space, self.info.axes
        keep = [i for i in range(len(space)) if i not in axes]
        m = int(np.prod([space[i] for i in keep], dtype=np.int64))
        n = int(np.prod([space[i] for i in axes], dtype=np.int64))
        if info.scans:  # along the last axis: rows of the scanned axis
            form = "scan"
        else:
            form = "full" if m == 1 else ("cols" if self._kept_inner(arrays, access, keep) else "rows")
        # the reduced axes inside (rows) or outside (cols) the kept ones
        perm = list(axes) + keep if form == "cols" else keep + list(axes)
        flat = {"full": (n,), "rows": (m, n), "cols": (n, m), "scan": (m, n)}[form]
        red = range(len(axes)) if form == "cols" else range(len(keep), len(perm))
        args = []
        for k, a in enumerate(arrays):
            if access[k] == "uniform":
                args.append(a)
                continue
            t = a.transpose(perm)
            if form != "full" and n > 0 and all(t.strides[i] == 0 for i in red):
                # constant along the reduced axes (e.g. a row max): one value per row
                access[k] = "row"
                at = [0 if i in red else slice(None) for i in range(len(perm))]
                args.append(_unbroadcast(t[tuple(at)].reshape(m), loaded[k]))
            elif form in ("rows", "scan") and m > 1 and all(t.strides[i] == 0
                                                             for i in range(len(keep))):
                # the same row for every row (`y` in `sum((x[:, None] - y) ** 2, 1)`):
                # read that one row, never the broadcast (a reshape would copy it)
                access[k] = "col"
                args.append(_unbroadcast(t[(0,) * len(keep)].reshape(n), loaded[k]))
            else:
                # np.reshape copies only where the permuted input cannot be viewed as rows
                args.append(t.reshape(flat))
        outs, results = [], []
        for v in info.outputs:
            if v in info.outer:
                o = buffers.empty(1 if form == "full" else m, v.type.dtype)
                results.append(o.reshape(v.type.shape))
            else:
                o = buffers.empty(flat, v.type.dtype)
                inv = np.argsort(perm)
                results.append(o.reshape([space[i] for i in perm]).transpose(inv))
            outs.append(_bits(o))
        sizes = {"full": [n], "rows": [m, n], "cols": [n, m], "scan": [m, n]}[form]
        return form, len(sizes), tuple(access), sizes + args + outs, results

    def _kept_inner(self, arrays, access, keep):
        """Whether the kept axes are the inner ones in memory (`sum(a, axis=0)`
        of a C-ordered `a`): then `cols` reads rows contiguously."""
        if self.info.sources:  # iota counts flat positions in the rows layout
            return False
        votes = 0
        for a, k in zip(arrays, access):
            dims = [i for i in range(a.ndim) if a.shape[i] > 1 and a.strides[i] != 0]
            if k == "elem" and dims:
                inner = min(dims, key=lambda i: abs(a.strides[i]))
                votes += 1 if inner in keep else -1
        return votes > 0


_MAX_REPLAYS = 64


class Piecewise(Launcher):
    """Launches a kernel holding a concatenation: one launch per piece's
    box (see `codegen/pieces.py`), each writing its share of the results
    over the whole space into that box of buffers allocated once here; a
    box holding another concatenation is split again by its own launcher."""

    def __init__(self, kernel, target, settings=None):
        self.kernel = kernel
        self.split = Split(kernel)
        self.target = target
        self.settings = settings or {}
        self.parts = [Launcher(s.kernel, target, settings) for s in self.split.segments]
        self.size = self.work = int(np.prod(self.split.space, dtype=np.int64))
        self.steps = 1

    def _boxes(self, dests):
        """The result arrays (`dests` where given) and, per segment, its
        launch's `dests`: its box of each result over the whole space."""
        space, pieces = self.split.space, self.split.pieces
        results = [None if p is not None else buffers.empty(space, v.type.dtype)
                   if d is None else d
                   for p, v, d in zip(pieces, self.kernel.results,
                                      dests or [None] * len(pieces))]
        boxes = [[results[i][s.box] for i in s.whole] + [None] * len(s.piece)
                 for s in self.split.segments]
        return results, boxes

    def _each(self, dests):
        """(segment, its launcher, its dests) of the segments with elements."""
        results, boxes = self._boxes(dests)
        return results, [(s, p, b) for s, p, b in zip(self.split.segments, self.parts, boxes)
                         if s.size]

    def __call__(self, args, dests=None):
        results, parts = self._each(dests)
        for seg, part, boxes in parts:
            outs = part(args, boxes)
            for i, r in zip(seg.piece, outs[len(seg.whole):]):
                results[i] = r
        for i, t in enumerate(self.split.pieces):  # an empty piece's values
            if results[i] is None:
                results[i] = buffers.empty(t.shape, t.dtype)
        return results

    def direct(self, args):
        return None  # each piece's launch configures its box

    def replay_for(self, args):
        return None

    def ahead(self, args, dests=None):
        _, parts = self._each(dests)
        jobs = [part.ahead(args, boxes) for _, part, boxes in parts]
        if None in jobs:
            return None
        return lambda: [job() for job in jobs]

    def explain_for(self, args, dests=None):
        _, parts = self._each(dests)
        return self._shown([(seg, part.explain_for(args, boxes)) for seg, part, boxes in parts])

    def explain_last(self):
        shown = [(seg, part.explain_last()) for seg, part in zip(self.split.segments, self.parts)]
        shown = [(seg, e) for seg, e in shown if e is not None]
        return self._shown(shown) if shown else None

    def _shown(self, shown):
        plan = PiecesPlan(self.split.axis, [(seg, e[1]) for seg, e in shown])
        source = "\n".join(e[2].replace("# piece ", f"# piece {seg.index}.") if e[0] == "pieces"
                            else f"# piece {seg.index}\n{e[2]}" for seg, e in shown)
        return "pieces", plan, source

    def configure(self, args, dests=None):
        raise TypeError("launch: a kernel holding a concatenation launches piece by piece")


class PiecesPlan:
    """What `explain()` shows of a kernel launched piece by piece: each
    piece's box and loop plan."""

    def __init__(self, axis, plans):
        self.axis, self.plans = axis, plans
        self.passes = [None]  # elementwise: one pass per box

    def text(self):
        lines = [f"form pieces: one elementwise launch per piece of the concatenation along "
                 f"axis {self.axis}"]
        for seg, plan in self.plans:
            box = seg.box[self.axis]
            lines.append(f"  piece {seg.index}: elements {box.start}..{box.stop - 1} along "
                         f"axis {self.axis}")
            lines += ["    " + line for line in plan.text().splitlines()]
        return "\n".join(lines)


def _steps(loop):
    """The steps a compiled loop runs, as far as known before it runs (a
    while loop without a limit: counted as many, so it compiles)."""
    steps = loop_layout(loop)[2]
    return steps if steps >= 0 else 1 << 20


class _Replay:
    """A launch rebuilt from the first launch with the same argument strides
    (the plan fixes shapes and dtypes): its layout, call arguments and
    results depend on nothing else, so each view is remade from its recorded
    geometry instead of by `configure`'s NumPy calls. `of` gives None where a
    view is not one of a C-contiguous argument (a copy made by a reshape, a
    strided argument, empty arrays): such launches keep configuring."""

    def __init__(self, launcher, layout, fn, allocs, recipe, result_views, n_args):
        self.layout, self.fn = layout, fn
        self.allocs = allocs              # (shape, dtype) of each output buffer
        self.recipe = recipe              # per input call argument: (source, how)
        self.result_views = result_views  # per result: (output index, how)
        self.plain = self._plain(n_args)
        self.go = self._direct(launcher)  # the whole launch, where it is plain

    @classmethod
    def of(cls, launcher, layout, fn, args, call_args, results):
        if not all(a.size and a.flags.c_contiguous for a in args):
            return None
        k = len(call_args) - len(launcher.info.outputs)
        outs = call_args[k:]
        if not all(o.flags.c_contiguous for o in outs):
            return None
        recipe = []
        for c in call_args[:k]:
            if type(c) is not np.ndarray:
                recipe.append((None, c))
                continue
            src = _inside(c, args)
            if src is None:
                return None
            recipe.append((src, _how(c, args[src])))
        result_views = []
        for r in results:
            j = _inside(r, outs)
            if j is None:
                return None
            result_views.append((j, _how(r, outs[j])))
        return cls(launcher, layout, fn, [(o.shape, o.dtype) for o in outs], recipe,
                   result_views, len(args))

    def __call__(self, args):
        if self.plain is not None and self.plain[1] is None and self.plain[2] is not None:
            head, _, whole = self.plain  # the common launch: no view to remake
            results = [buffers.empty(shape, dtype) for shape, dtype in whole]
            outs = [r if r.shape == s else r.reshape(s) for r, (s, _) in zip(results, self.allocs)]
            return [*head, *args, *outs], results
        outs = [buffers.empty(shape, dtype) for shape, dtype in self.allocs]
        call_args = [how if src is None else _remake(args[src], how) for src, how in self.recipe]
        results = [_remake(outs[j], how) for j, how in self.result_views]
        return call_args + outs, results

    def _direct(self, launcher):
        """A function of the arguments (a sequence, laid out as the first
        launch's) that launches as `launcher` does and returns the results;
        None where a launch remakes views other than whole reshapes."""
        if self.plain is None or self.plain[2] is None:
            return None
        fn, launch, layout, (head, shapes, whole) = self.fn, launcher.launch, self.layout, \
            self.plain
        if len(whole) > 1:
            def go(args):
                call_args, results = self(args)
                launch(fn, call_args)
                launcher.last = layout
                return results
            return go
        (shape, dtype), = whole  # one result: its buffer, and the kernel's view of it
        flat = self.allocs[0][0]
        stats, new, whole_flat = STATS, buffers.maker(shape, dtype), flat == shape

        def go(args):
            out = new()
            if shapes is not None:  # arguments viewed flat: C-contiguous reshapes
                args = [a if s is None else a.reshape(s) for a, s in zip(args, shapes)]
            # the signature compiled at the first launch: nothing to count but the launch
            fn(*head, *args, out if whole_flat else out.reshape(flat))
            stats["launches"] += 1
            launcher.last = layout  # what explain() shows after a force
            return [out]
        return go

    def _plain(self, n_args):
        """Where the call passes scalars, then every argument in order as it
        is or reshaped: (leading scalar arguments, per argument None or the
        shape it is viewed as (None where all are as they are), the (shape,
        dtype) of each result where each has its own buffer, whole (else
        None)); None where a launch remakes other views. (A launch's
        arguments are then `args`.)"""
        n = 0
        while n < len(self.recipe) and self.recipe[n][0] is None:
            n += 1
        scalars, rest = [how for _, how in self.recipe[:n]], self.recipe[n:]
        if [src for src, _ in rest] != list(range(n_args)) or \
                any(how[0] not in ("same", "reshape") for _, how in rest):
            return None
        shapes = [None if how[0] == "same" else how[1] for _, how in rest]
        if all(s is None for s in shapes):
            shapes = None
        if [j for j, _ in self.result_views] != list(range(len(self.allocs))) or \
                any(how[0] not in ("same", "reshape") for _, how in self.result_views):
            return scalars, shapes, None
        whole = [(shape if how[0] == "same" else how[1], dtype)
                 for (_, how), (shape, dtype) in zip(self.result_views, self.allocs)]
        return scalars, shapes, whole


_STRIDES = operator.attrgetter("strides")


def _inside(view, bases):
    """The index of the one array in `bases` whose bytes contain `view`'s, else None."""
    if not view.size:
        return None
    lo, hi = byte_bounds(view)
    found = []
    for i, b in enumerate(bases):
        blo, bhi = byte_bounds(b)
        if blo <= lo and hi <= bhi:
            found.append(i)
    return found[0] if len(found) == 1 else None


def _unbroadcast(v, given):
    """`v`, a read-only view of a broadcast, as a reshape of the array it
    came from where that array holds exactly its elements in its order: the
    kernel's argument then has the given array's type and geometry, so a
    later launch passes it as it is (see `_Replay`)."""
    if given.size == v.size and given.dtype == v.dtype and v.flags.c_contiguous \
            and given.flags.c_contiguous and byte_bounds(v) == byte_bounds(given):
        return given.reshape(v.shape)
    return v


def _how(v, base):
    """How `_remake` makes `v` from an array with `base`'s geometry, the
    cheapest way: `base` itself, a reshape of it, or a view by geometry."""
    offset = v.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    readonly = not v.flags.writeable
    if offset == 0 and v.dtype == base.dtype and readonly == (not base.flags.writeable):
        if v.shape == base.shape and v.strides == base.strides:
            return ("same",)
        if v.flags.c_contiguous and v.size == base.size:  # not a leading slice
            return "reshape", v.shape
    return "view", v.shape, v.dtype, offset, v.strides, readonly


def _remake(base, how):
    if how[0] == "same":
        return base
    if how[0] == "reshape":
        return base.reshape(how[1])
    _, shape, dtype, offset, strides, readonly = how
    v = np.ndarray(shape, dtype, base, offset, strides)
    if readonly and v.flags.writeable:
        v.flags.writeable = False  # the same Numba type as the first launch's
    return v


def _bits(a):
    """float16 and bfloat16 (ml_dtypes: kind V) arrays travel to kernels as
    their uint16 bits."""
    d = a.dtype
    return a.view(np.uint16) if d.itemsize == 2 and d.kind in "fV" else a


def _run_ok(a):
    """Whether `runs` can read `a`: its last axis contiguous, no stride negative."""
    return a.strides[-1] == a.itemsize and all(s >= 0 and s % a.itemsize == 0
                                               for s in a.strides)


def _run(a):
    """`a` as `runs` reads it: a flat buffer from its first element over all
    of them, and its strides in elements along every axis but the last."""
    span = sum(s // a.itemsize * (n - 1) for s, n in zip(a.strides, a.shape)) + 1
    flat = np.lib.stride_tricks.as_strided(a, (span if a.size else 0,), (a.itemsize,))
    return flat, [s // a.itemsize for s in a.strides[:-1]]


def _collapse(shape, arrays):
    """Merge adjacent dims that every array walks contiguously; drop size-1 dims.
    Returns the collapsed shape and strided views of the arrays."""
    dims = [i for i, d in enumerate(shape) if d != 1]
    if not dims:
        return (1,), [a.reshape(1) for a in arrays]
    groups = [[dims[0]]]
    for i in dims[1:]:
        prev = groups[-1][-1]
        if all(a.strides[prev] == a.strides[i] * shape[i] for a in arrays):
            groups[-1].append(i)
        else:
            groups.append([i])
    new_shape = tuple(int(np.prod([shape[i] for i in g])) for g in groups)
    views = [np.lib.stride_tricks.as_strided(a, new_shape, tuple(a.strides[g[-1]] for g in groups))
             for a in arrays]
    return new_shape, views
