"""Lowering a `lazy.kernel` to the source of one Numba `@njit(parallel=True)`
function, in one of four loop forms:

- `flat`: elementwise over contiguous inputs, one blocked 1-D `prange` loop;
- `nd`:   elementwise over strided or broadcast inputs, nested loops;
- `full`: a reduction of everything to one value: per-block partials in a
          `prange` loop, then an ordered combine;
- `rows`: reductions over the trailing (permuted) axes: `prange` over rows,
          a sequential loop within each row.

Inner loops run from 0 over fresh slices so LLVM can prove indices
non-negative and vectorize them. Every op's result is wrapped in its dtype,
so integer arithmetic wraps and float32 stays float32, as in NumPy.
"""
import numpy as np

from ..ir import dtypes as D
from ..ir.registry import ELEMENTWISE, REDUCTION, SOURCE, lookup
from .scalar import STRICT

BLOCK = 8192

# Elementwise kernels run without fast-math so results match NumPy to the bit;
# reductions allow reassociation so their accumulation loops vectorize, unless
# they call math functions whose evaluation order is part of their accuracy.
FASTMATH_REDUCE = {"reassoc"}


class Unsupported(Exception):
    """The kernel uses something this target cannot compile; run it elsewhere."""


def np_name(dtype):
    """The Numba type a value of `dtype` has inside a kernel. float16 values
    are held as float32 rounded to float16 after every op (NumPy computes
    float16 ufuncs the same way); they are stored as uint16 bits."""
    if dtype == "float16":
        return "np.float32"
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


def literal(value, dtype):
    if dtype == "bool":
        return "True" if value else "False"
    if D.is_float(dtype):
        v = float(value)
        s = "np.nan" if v != v else ("np.inf" if v == np.inf else ("-np.inf" if v == -np.inf else repr(v)))
        return f"{np_name(dtype)}({s})"
    return f"{np_name(dtype)}({int(value)})"


def wrap(expr, dtype):
    if dtype == "float16":
        return f"f16_round({expr})"
    return expr if dtype == "bool" else f"{np_name(dtype)}({expr})"


def load(expr, dtype):
    return f"f16_to_f32({expr})" if dtype == "float16" else expr


def store(expr, dtype):
    return f"f32_to_f16({expr})" if dtype == "float16" else expr


class KernelInfo:
    """What lowering needs to know about a kernel region, computed once."""

    def __init__(self, kernel):
        block = kernel.regions[0].block
        self.kernel = kernel
        self.space = tuple(kernel.attrs["space"])
        self.axes = tuple(kernel.attrs["axes"])
        self.prelude = []   # free ops (views, constants), run at launch with NumPy
        self.ops = []       # computed ops (elementwise and reductions)
        self.consts = {}    # id(value) -> literal expression
        self.loads = []     # values read from memory, in order
        load_ids = {}
        computed = set()
        for op in block.ops[:-1]:
            d = lookup(op.name)
            if op.name == "lazy.constant":
                self.consts[id(op.results[0])] = literal(op.attrs["value"], op.attrs["dtype"])
                continue
            if d.has(ELEMENTWISE) or d.has(REDUCTION) or d.has(SOURCE):
                for v in op.operands:
                    if id(v) not in computed and id(v) not in self.consts and id(v) not in load_ids:
                        load_ids[id(v)] = len(self.loads)
                        self.loads.append(v)
                self.ops.append(op)
                computed.update(id(r) for r in op.results)
            else:
                if op.operands and all(id(o) in self.consts for o in op.operands):
                    # a view of a constant is that constant, everywhere
                    self.consts[id(op.results[0])] = self.consts[id(op.operands[0])]
                    continue
                self.prelude.append(op)
        self.load_index = load_ids
        self.outputs = list(block.ops[-1].operands)
        self.reductions = [op for op in self.ops if lookup(op.name).has(REDUCTION)]
        # values computed once per outer index: reduction results and the
        # elementwise epilogue computed from them
        self.outer = {id(op.results[0]) for op in self.reductions}
        self.epilogue = []
        for op in self.ops:
            if op not in self.reductions and any(id(v) in self.outer for v in op.operands):
                self.epilogue.append(op)
                self.outer.add(id(op.results[0]))
        self.inner = [op for op in self.ops if op not in self.epilogue]
        for v in self.loads + [r for op in self.ops for r in op.results]:
            if v.type.dtype == "bfloat16":
                raise Unsupported(f"{v.type.dtype} arithmetic")


def lower(info, variant, rank, kinds):
    """Python source of the kernel function for one launch configuration.
    `kinds[k]` says how load k is read: "u" one value for the whole kernel,
    "r" one value per row (rows form), "a" an array indexed per element."""
    return _Writer(info, variant, rank, kinds).source()


class _Writer:
    def __init__(self, info, variant, rank, kinds):
        self.info, self.variant, self.rank, self.kinds = info, variant, rank, kinds
        self.names = {}
        self.lines = []

    # -- naming
    def name(self, v):
        if id(v) in self.info.consts:
            return self.info.consts[id(v)]
        k = self.info.load_index.get(id(v))
        if k is not None:
            kind = self.kinds[k]
            if kind == "a":
                return load(f"l{k}[{self.idx}]", v.type.dtype)
            return f"u{k}" if kind == "u" else f"w{k}"
        return self.names[id(v)]

    def emit(self, depth, line):
        self.lines.append("    " * depth + line)

    # -- per element
    def element_body(self, depth, index_expr, ops=None):
        """Statements computing `ops` (default: the inner ops) at one element;
        reductions update their accumulators `a{r}`."""
        info = self.info
        for op in info.inner if ops is None else ops:
            d = lookup(op.name)
            if d.has(REDUCTION):
                self.accumulate(depth, op, index_expr)
                continue
            r = op.results[0]
            n = f"v{len(self.names)}"
            self.names[id(r)] = n
            operands = [self.name(v) for v in op.operands]
            in_dt = op.operands[-1].type.dtype if op.operands else r.type.dtype
            tpl = d.scalar_template(in_dt, r.type.dtype)
            fmt = dict(op.attrs, dtype=np_name(r.type.dtype), index=index_expr)
            expr = tpl.format(*operands, **fmt)
            self.emit(depth, f"{n} = {wrap(expr, r.type.dtype)}")

    def store_outputs(self, depth, target):
        for k, v in enumerate(self.info.outputs):
            if id(v) not in self.info.outer:
                self.emit(depth, f"o{k}[{target}] = {store(self.names[id(v)], v.type.dtype)}")

    def finish(self, depth, count, target):
        """Finalize reductions, compute the epilogue, store the outer outputs."""
        info = self.info
        for op in info.reductions:
            r = self.red_index(op)
            self.emit(depth, f"r{r} = {self.final(op, count)}")
            self.names[id(op.results[0])] = f"r{r}"
        self.element_body(depth, None, info.epilogue)
        for k, v in enumerate(info.outputs):
            if id(v) in info.outer:
                self.emit(depth, f"O{k}[{target}] = {store(self.names[id(v)], v.type.dtype)}")

    # -- reductions
    def red_index(self, op):
        return self.info.reductions.index(op)

    def init(self, depth, op, suffix=""):
        r = self.red_index(op)
        rec = lookup(op.name).reduce
        x_dt = op.operands[0].type.dtype
        if rec.get("arg"):
            lo = "highest" if rec["arg"] == "min" else "lowest"
            self.emit(depth, f"a{r}{suffix} = {literal(_extreme(lo, x_dt), x_dt) if x_dt != 'bool' else _bool_extreme(lo)}")
            self.emit(depth, f"i{r}{suffix} = 0")
            return
        acc = rec["acc"](x_dt)
        self.emit(depth, f"a{r}{suffix} = {_init_literal(rec['init'], acc)}")
        if self.tracks_nan(op):
            self.emit(depth, f"n{r}{suffix} = False")

    def tracks_nan(self, op):
        return lookup(op.name).reduce.get("nan") and D.is_float(op.operands[0].type.dtype)

    def buffered(self, op):
        """Reductions of strict kernels stage values in a buffer that a
        reassociating helper sums, so both loops vectorize (see FASTMATH_REDUCE)."""
        rec = lookup(op.name).reduce
        return (self.strict and rec.get("bulk") is not None
                and D.is_float(rec["acc"](op.operands[0].type.dtype)))

    def alloc_buffers(self, depth, count):
        for op in self.info.reductions:
            if self.buffered(op):
                r = self.red_index(op)
                acc = lookup(op.name).reduce["acc"](op.operands[0].type.dtype)
                self.emit(depth, f"t{r} = np.empty({count}, {np_name(acc)})")

    def flush_buffers(self, depth, count):
        for op in self.info.reductions:
            if self.buffered(op):
                r = self.red_index(op)
                rec = lookup(op.name).reduce
                acc = rec["acc"](op.operands[0].type.dtype)
                total = f"{rec['bulk']}(t{r}, {count}, {literal(0, acc)})"
                self.emit(depth, f"a{r} = {wrap(rec['combine'].format(acc=f'a{r}', x=total), acc)}")

    def accumulate(self, depth, op, index_expr, x=None, xi=None, suffix=""):
        r = self.red_index(op)
        rec = lookup(op.name).reduce
        x_dt = op.operands[0].type.dtype
        if x is None and self.buffered(op):
            self.emit(depth, f"t{r}[j] = {wrap(self.name(op.operands[0]), rec['acc'](x_dt))}")
            return
        x = x or self.name(op.operands[0])
        if rec.get("arg"):
            cmp = ">" if rec["arg"] == "max" else "<"
            if xi is None:
                self.emit(depth, f"x{r} = negzero_below({x})")
                x, xi = f"x{r}", index_expr
            self.emit(depth, f"if ({x} {cmp} a{r}{suffix}) or ({x} != {x} and a{r}{suffix} == a{r}{suffix}):")
            self.emit(depth + 1, f"a{r}{suffix} = {x}")
            self.emit(depth + 1, f"i{r}{suffix} = {xi}")
            return
        acc = rec["acc"](x_dt)
        if self.tracks_nan(op):
            self.emit(depth, f"n{r}{suffix} |= {x} != {x}")
        comb = rec["combine"].format(acc=f"a{r}{suffix}", x=wrap(x, acc) if acc != "bool" else x)
        self.emit(depth, f"a{r}{suffix} = {wrap(comb, acc)}")

    def final(self, op, count, suffix=""):
        r = self.red_index(op)
        rec = lookup(op.name).reduce
        res = op.results[0].type.dtype
        if rec.get("arg"):
            return f"i{r}{suffix}"
        expr = f"a{r}{suffix}"
        if self.tracks_nan(op):
            expr = f"({literal(np.nan, rec['acc'](op.operands[0].type.dtype))} if n{r}{suffix} else {expr})"
        if rec.get("finalize"):
            expr = rec["finalize"].format(acc=expr, count=count)
        return wrap(expr, res)

    # -- loop forms
    @property
    def strict(self):
        return any(op.name.split(".", 1)[1] in STRICT for op in self.info.ops)

    def header(self, params):
        fm = FASTMATH_REDUCE if self.info.reductions and not self.strict else False
        self.emit(0, f"@njit(parallel=True, error_model='numpy', fastmath={fm!r}, cache=True)")
        self.emit(0, f"def kernel({', '.join(params)}):")
        for k, kind in enumerate(self.kinds):
            if kind == "u":
                self.emit(1, f"u{k} = {load(f'U{k}[0]', self.info.loads[k].type.dtype)}")

    def params(self, extra=()):
        p = list(extra)
        p += [{"u": "U", "r": "W", "a": "L"}[kind] + str(k) for k, kind in enumerate(self.kinds)]
        p += [f"O{k}" for k in range(len(self.info.outputs))]
        return p

    def source(self):
        getattr(self, "_" + self.variant)()
        head = ("import numpy as np\nfrom numba import njit, prange\n"
                "from lazyops.codegen.scalar import *  # noqa: F401,F403\n\n\n")
        return head + "\n".join(self.lines) + "\n"

    def _slices(self, depth, lo, hi, outs=True):
        for k, kind in enumerate(self.kinds):
            if kind == "a":
                self.emit(depth, f"l{k} = L{k}[{lo}:{hi}]")
        if outs:
            for k, v in enumerate(self.info.outputs):
                if id(v) not in self.info.outer:
                    self.emit(depth, f"o{k} = O{k}[{lo}:{hi}]")

    def _flat(self):
        self.idx = "j"
        self.header(self.params(["n"]))
        self.emit(1, f"for b in prange((n + {BLOCK - 1}) // {BLOCK}):")
        self.emit(2, f"lo = b * {BLOCK}")
        self.emit(2, f"hi = min(lo + {BLOCK}, n)")
        self._slices(2, "lo", "hi")
        self.emit(2, "for j in range(hi - lo):")
        self.element_body(3, "(lo + j)")
        self.store_outputs(3, "j")

    def _nd(self):
        r = self.rank
        idx = [f"i{k}" for k in range(r)]
        self.idx = ", ".join(idx)
        shape = [f"s{k}" for k in range(r)]
        self.header(self.params(shape))
        for k, kind in enumerate(self.kinds):
            if kind == "a":
                self.emit(1, f"l{k} = L{k}")
        for k in range(r):
            loop = "prange" if k == 0 else "range"
            self.emit(1 + k, f"for i{k} in {loop}(s{k}):")
        self.element_body(1 + r, "i0")
        for k, v in enumerate(self.info.outputs):
            self.emit(1 + r, f"O{k}[{self.idx}] = {store(self.names[id(v)], v.type.dtype)}")

    def _full(self):
        info = self.info
        self.idx = "j"
        self.header(self.params(["n"]))
        self.emit(1, f"nb = max(1, (n + {BLOCK - 1}) // {BLOCK})")
        for op in info.reductions:
            r = self.red_index(op)
            acc = _acc_dtype(op)
            self.emit(1, f"P{r} = np.empty(nb, {np_name(acc)})")
            if lookup(op.name).reduce.get("arg"):
                self.emit(1, f"Q{r} = np.empty(nb, np.int64)")
        self.emit(1, "for b in prange(nb):")
        self.emit(2, f"lo = b * {BLOCK}")
        self.emit(2, f"hi = min(lo + {BLOCK}, n)")
        self._slices(2, "lo", "hi")
        self._reduce_loop("hi - lo", "(lo + j)")
        for op in info.reductions:
            r = self.red_index(op)
            self.emit(2, f"P{r}[b] = a{r}")
            if lookup(op.name).reduce.get("arg"):
                self.emit(2, f"Q{r}[b] = i{r}")
        for op in info.reductions:
            r = self.red_index(op)
            self.init(1, op)
            self.emit(1, "for b in range(nb):")
            arg = lookup(op.name).reduce.get("arg")
            self.accumulate(2, op, None, x=f"P{r}[b]", xi=f"Q{r}[b]" if arg else None)
        self.finish(1, "n", "0")

    def _rows(self):
        info = self.info
        self.idx = "j"
        self.header(self.params(["m", "n"]))
        self.emit(1, "for o in prange(m):")
        for k, kind in enumerate(self.kinds):
            if kind == "a":
                self.emit(2, f"l{k} = L{k}[o]")
            elif kind == "r":
                self.emit(2, f"w{k} = {load(f'W{k}[o]', self.info.loads[k].type.dtype)}")
        for k, v in enumerate(info.outputs):
            if id(v) not in info.outer:
                self.emit(2, f"o{k} = O{k}[o]")
        self._reduce_loop("n", "j")
        self.finish(2, "n", "o")

    def _reduce_loop(self, count, index):
        """The inner loop of a row or block: accumulate, store side outputs."""
        for op in self.info.reductions:
            self.init(2, op)
        self.alloc_buffers(2, count)
        self.emit(2, f"for j in range({count}):")
        self.element_body(3, index)
        self.store_outputs(3, "j")
        self.flush_buffers(2, count)


def _acc_dtype(op):
    rec = lookup(op.name).reduce
    x_dt = op.operands[0].type.dtype
    return x_dt if rec.get("arg") else rec["acc"](x_dt)


def _extreme(which, dtype):
    if D.is_float(dtype):
        return -np.inf if which == "lowest" else np.inf
    info = np.iinfo(dtype)
    return info.min if which == "lowest" else info.max


def _bool_extreme(which):
    return "False" if which == "lowest" else "True"


def _init_literal(kind, acc):
    if kind in ("zero", "one"):
        return literal(0 if kind == "zero" else 1, acc)
    if kind in ("false", "true"):
        return "False" if kind == "false" else "True"
    if acc == "bool":
        return _bool_extreme(kind)
    return literal(_extreme(kind, acc), acc)
