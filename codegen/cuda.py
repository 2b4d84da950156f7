"""The Numba CUDA target (not user-facing yet): prints a loop plan as
`@cuda.jit` kernels plus a host `run` function with the CPU target's calling
convention (sizes, inputs, outputs).

- `flat` / `nd`: a grid-stride loop over the flat index (nd indices are
  decomposed from it); rank 0 runs on one thread;
- `full`: a `partials` kernel (each thread folds a grid-stride share of the
  elements, then a shared-memory tree merges the block's states) and a
  one-thread `merge` kernel over the blocks' states, then `outer`.

Everything else comes from the plan: scalar statements, accumulator init,
update and merge. `rows` is the next form to print (a block per row).
"""
from .plan import COUNT, INDEX, Unsupported, np_name
from .printer import Printer

THREADS = 128
MAX_BLOCKS = 1024
HEADER = ("import math\n\nimport numpy as np\nfrom numba import cuda\n\n"
          f"THREADS = {THREADS}\n\n\n")
# Scalar templates where CUDA differs from the registry's (which call the CPU
# helpers of `scalar.py`): libdevice math and inline NaN-aware selects. The
# printer refuses kernels with ops outside the registry's plain templates and
# these (see OPS).
SCALAR = {
    **{f: f"math.{f}({{0}})" for f in ("exp", "log", "sqrt", "tanh", "sin", "cos")},
    "maximum": "({0} if ({0} > {1} or {0} != {0}) else {1})",
    "minimum": "({0} if ({0} < {1} or {0} != {0}) else {1})",
    "sign": "(1 if {0} > 0 else (-1 if {0} < 0 else {0} - {0}))",
    "isnan": "({0} != {0})",
    "isinf": "({0} - {0} != {0} - {0} and {0} == {0})",
    "isfinite": "({0} - {0} == {0} - {0})",
}
OPS = frozenset(["add", "subtract", "multiply", "divide", "negative", "square", "where", "cast",
                 "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
                 "logical_and", "logical_or", "logical_not", "sum", "mean", "max", "min",
                 "prod", "any", "all", "argmax", "argmin", *SCALAR])


def print_plan(plan):
    """Python source of a module whose `run(*args)` launches `plan`."""
    for i in plan.inputs + plan.outputs:
        if i.dtype in ("float16", "bfloat16"):
            raise Unsupported("cuda: float16 and bfloat16 buffers are not printed yet")
    if len(plan.passes) > 1:
        raise Unsupported("cuda: multi-pass kernels are not printed yet")
    for op in plan.ops:
        if op.name.split(".", 1)[1] not in OPS:
            raise Unsupported(f"cuda: {op.name} is not in the CUDA vocabulary yet")
    p = _Printer(plan)
    return HEADER + "\n".join(p.lines) + "\n"


def signatures(plan):
    """Numba signatures of the module's kernels, by function name, for
    ahead-of-time compilation (`numba.cuda.compile_ptx`)."""
    from numba import types as T

    def arr(dtype, ndim=1, layout="C"):
        nb = {"bool": T.boolean}.get(dtype) or getattr(T, dtype)
        return T.Array(nb, ndim, layout)
    p = plan
    if p.form in ("flat", "nd"):
        sizes = [T.int64] * (1 if p.form == "flat" else p.rank)
        nd = p.rank if p.form == "nd" else 1
        bufs = [arr(b.dtype) if getattr(b, "access", "elem") == "uniform" else
                arr(b.dtype, nd, "A" if p.form == "nd" else "C") for b in p.inputs + p.outputs]
        return {"kernel": tuple(sizes + bufs)}
    parts = [arr(dt) for a in p.accs for dt in a.fields.values()]
    elem_out = [arr(o.dtype) for o in p.outputs if not o.outer]
    outer_out = [arr(o.dtype) for o in p.outputs if o.outer]
    return {"partials": tuple([T.int64] + [arr(i.dtype) for i in p.inputs] + elem_out + parts),
            "merge": tuple([T.int64, T.int64] + parts + outer_out)}


class _Printer(Printer):
    def __init__(self, plan):
        super().__init__(plan)
        if plan.form not in ("flat", "nd", "full"):
            raise Unsupported(f"cuda: the {plan.form} form is not printed yet")
        getattr(self, "_" + plan.form)()

    def sub(self, idx):
        def f(buf):
            if getattr(buf, "access", None) == "uniform" or getattr(buf, "outer", False):
                return f"{buf.name}[0]"
            return f"{buf.name}[{idx}]"
        return f

    def names(self, bufs):
        return [b.name for b in bufs]

    def run_head(self, sizes):
        """The host `run`: inputs to the device, device outputs (`d` + name)."""
        p = self.plan
        self.emit(0, f"def run({', '.join(sizes + self.names(p.inputs + p.outputs))}):")
        for b in p.inputs:
            self.emit(1, f"d{b.name} = cuda.to_device({b.name})")
        for b in p.outputs:
            self.emit(1, f"d{b.name} = cuda.device_array_like({b.name})")

    def run_tail(self):
        for b in self.plan.outputs:
            self.emit(1, f"d{b.name}.copy_to_host({b.name})")

    def elementwise_run(self, sizes, total):
        p = self.plan
        self.emit(0, "kernel_k = cuda.jit(kernel)\n\n")
        self.run_head(sizes)
        self.emit(1, f"blocks = min(max(1, ({total} + THREADS - 1) // THREADS), {MAX_BLOCKS})")
        args = sizes + ["d" + n for n in self.names(p.inputs + p.outputs)]
        self.emit(1, f"kernel_k[blocks, THREADS]({', '.join(args)})")
        self.run_tail()

    # -- forms
    def _flat(self):
        p = self.plan
        params = ["n"] + self.names(p.inputs + p.outputs)
        self.emit(0, f"def kernel({', '.join(params)}):")
        self.stmts(1, p.hoisted, self.sub(None))
        if p.rank == 0:
            self.emit(1, "if cuda.grid(1) == 0:")
            self.emit(2, f"{INDEX} = 0")
            self.stmts(2, p.element, self.sub("0"))
        else:
            self.emit(1, f"for {INDEX} in range(cuda.grid(1), n, cuda.gridsize(1)):")
            self.stmts(2, p.element, self.sub(INDEX))
        self.emit(0, "")
        self.emit(0, "")
        self.elementwise_run(["n"], "n")

    def _nd(self):
        p = self.plan
        r = p.rank
        sizes = [f"s{k}" for k in range(r)]
        self.emit(0, f"def kernel({', '.join(sizes + self.names(p.inputs + p.outputs))}):")
        self.stmts(1, p.hoisted, self.sub(None))
        self.emit(1, f"total = {' * '.join(sizes)}")
        self.emit(1, f"for {INDEX} in range(cuda.grid(1), total, cuda.gridsize(1)):")
        self.emit(2, f"rest = {INDEX}")
        for k in reversed(range(r)):
            self.emit(2, f"i{k} = rest % s{k}")
            self.emit(2, f"rest //= s{k}")
        self.stmts(2, p.element, self.sub(", ".join(f"i{k}" for k in range(r))))
        self.emit(0, "")
        self.emit(0, "")
        self.elementwise_run(sizes, " * ".join(sizes))

    def _full(self):
        p = self.plan
        parts = [f"P{a.k}{f}" for a in p.accs for f in a.fields]
        elem_out = [o for o in p.outputs if not o.outer]
        outer_out = [o for o in p.outputs if o.outer]
        # partials: one state per block
        self.emit(0, f"def partials({', '.join(['n'] + self.names(p.inputs + elem_out) + parts)}):")
        self.stmts(1, p.hoisted, self.sub(None))
        for a in p.accs:
            self.stmts(1, a.init(), None)
        self.emit(1, f"for {INDEX} in range(cuda.grid(1), n, cuda.gridsize(1)):")
        self.stmts(2, p.element, self.sub(INDEX))
        self.emit(1, "t = cuda.threadIdx.x")
        for a in p.accs:
            for f, dt in a.fields.items():
                self.emit(1, f"S{a.k}{f} = cuda.shared.array(THREADS, {np_name(dt)})")
                self.emit(1, f"S{a.k}{f}[t] = {a.var(f)}")
        self.emit(1, "cuda.syncthreads()")
        self.emit(1, "s = THREADS // 2")
        self.emit(1, "while s > 0:")
        self.emit(2, "if t < s:")
        for a in p.accs:
            self.merge_from(3, a, lambda f: f"S{a.k}{f}[t + s]")
            for f in a.fields:
                self.emit(3, f"S{a.k}{f}[t] = {a.var(f)}")
        self.emit(2, "cuda.syncthreads()")
        self.emit(2, "s //= 2")
        self.emit(1, "if t == 0:")
        for a in p.accs:
            for f in a.fields:
                self.emit(2, f"P{a.k}{f}[cuda.blockIdx.x] = {a.var(f)}")
        self.emit(0, "\n")
        # merge: the blocks' states, then the results and the epilogue
        self.emit(0, f"def merge({', '.join(['nb', 'n'] + parts + self.names(outer_out))}):")
        self.emit(1, "if cuda.grid(1) == 0:")
        for a in p.accs:
            self.stmts(2, a.init(), None)
            self.emit(2, "for b in range(nb):")
            self.merge_from(3, a, lambda f: f"P{a.k}{f}[b]")
        self.emit(2, f"{COUNT} = n")
        self.stmts(2, p.outer, self.sub("0"))
        self.emit(0, "\n")
        self.emit(0, "partials_k = cuda.jit(partials)\nmerge_k = cuda.jit(merge)\n\n")
        self.run_head(["n"])
        self.emit(1, f"nb = min(max(1, (n + THREADS - 1) // THREADS), {MAX_BLOCKS})")
        for a in p.accs:
            for f, dt in a.fields.items():
                self.emit(1, f"P{a.k}{f} = cuda.device_array(nb, {np_name(dt)})")
        d = ["d" + n for n in self.names(p.inputs + elem_out)]
        self.emit(1, f"partials_k[nb, THREADS]({', '.join(['n'] + d + parts)})")
        d = ["d" + n for n in self.names(outer_out)]
        self.emit(1, f"merge_k[1, 1]({', '.join(['nb', 'n'] + parts + d)})")
        self.run_tail()
