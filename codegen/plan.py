"""The loop plan: a scheduled `lazy.kernel` lowered to target-independent
loops, loads, scalar statements, typed accumulators and stores.

A plan has one of these forms, chosen at launch from the inputs' layouts:

- `flat`: elementwise over contiguous memory, one parallel loop over n elements;
- `nd`:   elementwise over strided or broadcast memory, a parallel loop nest;
- `runs`: `nd` where every array's last axis is contiguous: a loop nest over
          runs, each a slice of a flat buffer (so the inner loop vectorizes);
- `full`: everything reduced to one value: a partials phase (each parallel
          chunk folds its elements into its own accumulators) and a merge
          phase (the chunks' partial states merged in order), then `outer`;
- `rows`: reduced over the trailing axes of m rows: a parallel loop over rows,
          a serial loop over the n elements of each row, then `outer` per row;
- `cols`: reduced over the leading axes (the kept ones are contiguous in
          memory: `sum(a, axis=0)`): n rows of m columns; parallel chunks of
          rows, each folding every column into its own accumulator arrays
          while it reads rows contiguously; a merge of the chunks' states
          per column, then `outer` per column;
- `scan`: a cumulative scan along the last axis of m rows of n elements:
          each row (or tile of a long row) carries its accumulator along
          its elements; long rows are tiled: a pass folds each tile's total
          (statements up to the scan, in any order), a serial prefix over
          the totals gives each tile its carry, and the scan pass runs every
          tile from its carry, in parallel;
- `recur`: a compiled `lazy.scan` whose body is elementwise over its carries:
          a parallel loop over the n elements of the carries' space, each
          running its own chain of T steps (carries in registers, the
          step's slices loaded, the body's statements, outputs stored per
          step), then the last carries stored.

A reduction kernel makes one or more **passes** over its elements (each row's,
or the whole array's): a pass folds its accumulators, then computes its
`outer` statements (results, and the epilogue on them); a later pass reads
those results as one value per row (softmax: max; exp and sum; divide).
Values a later pass needs are reloaded from memory when they are loads and
kept in a `Temp` buffer when computed (never recomputed: a recomputed shift
that differs by one ulp from the one the max saw can overflow an exp).

Statements carry scalar code as Python expression text over plan variables.
Every target prints Numba Python, so scalar code is shared; a target
implements loops, indexing, partial-state storage and launch (see
`cpu.py`, `cuda.py`). Loads and stores name no index: the printer supplies
the index of its loop structure; views are strides applied at launch.
"""
from dataclasses import dataclass, field

import numpy as np

from ..ir import dtypes as D
from ..ir.registry import (CONSTANT_OPS, ELEMENTWISE_OPS, EXACT, LOOP_OPS, REDUCTION_OPS,
                           SCAN_OPS, SOURCE_OPS, VIEW_OPS, family, lookup)


class Unsupported(TypeError):
    """A kernel holds an op no target can compile (a scheduler bug)."""


# ---------------------------------------------------------------- scalar text

def np_name(dtype):
    """The Numba type of a value of `dtype` inside a kernel. float16 and
    bfloat16 values are held as float32 rounded to their dtype after every op
    (as NumPy and ml_dtypes compute their ufuncs) and travel as uint16 bits."""
    if dtype in D.HALF:
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
    """`expr` as a value of `dtype` (integer arithmetic wraps, float32 stays float32)."""
    if dtype in D.HALF:
        return f"{'f16' if dtype == 'float16' else 'bf16'}_round({expr})"
    return expr if dtype == "bool" else f"{np_name(dtype)}({expr})"


def extreme(which, dtype):
    """The literal of the lowest or highest value of `dtype`."""
    if dtype == "bool":
        return "False" if which == "lowest" else "True"
    if D.is_float(dtype):
        return literal(-np.inf if which == "lowest" else np.inf, dtype)
    info = np.iinfo(dtype)
    return literal(info.min if which == "lowest" else info.max, dtype)


# ---------------------------------------------------------------- statements

@dataclass
class Let:
    """`var = expr` (expr already in the value's kernel type, `dtype` where known)."""
    var: str
    expr: str
    dtype: str = None


@dataclass
class Load:
    """`var` = input `src` at the loop's current index."""
    var: str
    src: "Input"


@dataclass
class Store:
    """Output `dst` at the loop's current index (per outer index for outer outputs) = `var`."""
    dst: "Output"
    var: str


# The variable a printer defines in its element loop: the element's flat
# position in the kernel's (reduced) loop; iota and arg reductions read it.
INDEX = "index"
# ... and the number of elements each reduction folds, defined before `outer`.
COUNT = "count"


@dataclass
class Update:
    """Fold element `x` (at flat position INDEX of the reduced loop) into `acc`."""
    acc: "Acc"
    x: str


@dataclass
class ScanStep:
    """Fold element `x` into the scan accumulator `acc` in order; `var` = its value."""
    acc: "Acc"
    x: str
    var: str


@dataclass
class Moments:
    """`cols` and `full` plans: the mean and the sum of squared deviations of
    input `src` over each chunk of rows, per column (over each block of
    elements in `full`), from float64 sums of `x - shift` and its square
    taken in the first pass (the shift is the chunk's first row, the block's
    first element: one of its values, so the sums cancel little). A later
    pass's sum of `(x - r) ** 2` (a variance about that mean) then follows
    without reading x again (`Deviations`)."""
    k: int
    src: "Input"


@dataclass
class MomentStep:
    """Fold element `x` of `moments.src` into its chunk's shifted sums."""
    moments: Moments
    x: str


@dataclass
class Deviations:
    """`acc` = the sum over all rows of `(x - r) ** 2` from the chunks' states
    of `moments`: sum over chunks b of M2_b + n_b * (mean_b - r) ** 2 (of
    float32 x, inf beyond float32's range, as element by element)."""
    acc: "Acc"
    moments: Moments
    r: str


@dataclass
class Input:
    name: str          # buffer parameter, e.g. "L0"
    dtype: str
    access: str        # "uniform" one value; "row" one per outer index; "elem" per element;
    #                    "col" (rows form) one row that every row reads; (recur form)
    #                    "step" one value per step, "stepelem" one per step and element


@dataclass
class Output:
    name: str          # buffer parameter, e.g. "O0"
    dtype: str
    outer: bool        # one value per outer index (reduction results, epilogue)
    step: bool = False  # (recur form) one value per step and element
    single: bool = False  # (recur form) one value for all elements (a scalar carry)


@dataclass
class Temp:
    """A kernel-private buffer (one row, or the whole space) carrying a value
    computed in one pass to a later one; `dtype` is the value's kernel type."""
    name: str          # e.g. "S0"
    dtype: str


@dataclass
class Pass:
    """One sweep over the elements: statements per element folding `accs`,
    then `outer` statements once per outer index. `reads`: the (variable,
    dtype) of earlier passes' outer values its statements read (a target
    that sweeps all outer indices at once keeps those per outer index)."""
    accs: list = field(default_factory=list)
    element: list = field(default_factory=list)
    outer: list = field(default_factory=list)
    reads: list = field(default_factory=list)
    scans: list = field(default_factory=list)   # scan accumulators (ScanStep statements)
    moments: list = field(default_factory=list)  # (cols, full) Moments its MomentSteps fold


# ---------------------------------------------------------------- accumulators

class Acc:
    """A typed accumulator built from a reduction's `Reduce` recipe. Its
    state is a set of fields (value; `n` NaN flag; `i` arg index), each a
    variable `a<k><field><tag>`; `tag` names another copy of the state
    (a thread's partial, the other side of a merge)."""

    def __init__(self, k, op):
        self.k, self.op = k, op
        self.recipe = r = lookup(op.name).reduce
        self.x_dtype = op.operands[0].type.dtype
        self.result = op.results[0].type.dtype
        # a scan accumulates in its result dtype, as np.cumsum(x, dtype=...)
        self.dtype = self.result if family(op) == SCAN_OPS else r.acc(self.x_dtype)
        self.fields = {"": self.dtype}
        if r.nan and D.is_float(self.x_dtype):
            self.fields["n"] = "bool"
        if r.arg:
            self.fields["i"] = "int64"

    def var(self, f="", tag=""):
        return f"a{self.k}{f}{tag}"

    def init(self, tag=""):
        r = self.recipe
        if r.init in ("zero", "one"):
            value = literal(0 if r.init == "zero" else 1, self.dtype)
        elif r.init in ("false", "true"):
            value = "False" if r.init == "false" else "True"
        else:
            value = extreme(r.init, self.dtype)
        out = [Let(self.var("", tag), value)]
        if "n" in self.fields:
            out.append(Let(self.var("n", tag), "False"))
        if "i" in self.fields:
            out.append(Let(self.var("i", tag), "0"))
        return out

    def update(self, x, index, tag="", regroup=False):
        """Statements folding element `x` at flat position `index` into the
        state; `regroup`: through the recipe's reassociating call, if any."""
        a = self.var("", tag)
        if self.recipe.arg:
            return self._take(self.arg_value(x), index, tag)
        out = []
        if "n" in self.fields:
            out.append(Let(self.var("n", tag), f"{self.var('n', tag)} | ({x} != {x})"))
        xv = x if self.dtype == "bool" else wrap(x, self.dtype)
        # integers add and multiply associatively: LLVM vectorizes their plain
        # update, and a call to the float helpers ran 7x slower
        update = (regroup and D.is_float(self.dtype) and self.recipe.regroup) or \
            self.recipe.update
        out.append(Let(a, wrap(update.format(acc=a, x=xv), self.dtype)))
        return out

    def combine(self, acc, x):
        """The update as an expression over two values of the accumulator
        dtype (scans: an associative combine)."""
        return wrap(self.recipe.update.format(acc=acc, x=x), self.dtype)

    def merge(self, other, tag=""):
        """Statements merging the state tagged `other` (later elements) into this one."""
        if self.recipe.arg:
            return self._take(self.var("", other), self.var("i", other), tag, merge=True)
        a = self.var("", tag)
        out = []
        if "n" in self.fields:
            out.append(Let(self.var("n", tag), f"{self.var('n', tag)} | {self.var('n', other)}"))
        out.append(Let(a, wrap(self.recipe.merge_template().format(acc=a, other=self.var("", other)),
                               self.dtype)))
        return out

    def arg_value(self, x):
        """An arg reduction's element `x` as compared: -0.0 sorts below +0.0,
        as in Keras, at >= float32."""
        if not D.is_float(self.x_dtype):
            return x
        tiny = literal(-np.finfo(np.result_type(self.x_dtype, np.float32)).tiny, self.x_dtype)
        return f"({tiny} if ({x} == 0 and math.copysign(1.0, {x}) < 0) else {x})"

    def _take(self, x, index, tag, merge=False):
        """Arg reductions: the first extreme wins, and the first NaN over all.
        A merge compares indices on ties, so states merge in any order."""
        a, i, c, e = self.var("", tag), self.var("i", tag), f"c{self.k}{tag}", f"e{self.k}{tag}"
        cmp = ">" if self.recipe.arg == "max" else "<"
        take = f"({e} {cmp} {a}) or ({e} != {e} and {a} == {a})"
        if merge:
            take += f" or (({e} == {a} or ({e} != {e} and {a} != {a})) and {index} < {i})"
        return [Let(e, x), Let(c, take), Let(a, f"{e} if {c} else {a}"),
                Let(i, f"{index} if {c} else {i}")]

    def final(self, count, tag=""):
        """The result expression, in the result's kernel type."""
        if self.recipe.arg:
            return wrap(self.var("i", tag), self.result)
        expr = self.var("", tag)
        if "n" in self.fields:
            expr = f"({literal(np.nan, self.dtype)} if {self.var('n', tag)} else {expr})"
        if self.recipe.finalize:
            expr = self.recipe.finalize.format(acc=expr, count=count)
        return wrap(expr, self.result)

    def describe(self):
        fields = ", ".join(f"{'value' if f == '' else {'n': 'nan', 'i': 'index'}[f]} "
                           f"{D.SHORT[d]}" for f, d in self.fields.items())
        return f"{self.var()} = {self.op.name.split('.', 1)[1]} {{{fields}}}"


# ---------------------------------------------------------------- the plan

@dataclass
class LoopPlan:
    form: str                                    # flat | nd | runs | full | rows | cols | scan
    rank: int                                    # loop nest depth of `nd`
    inputs: list
    outputs: list
    ops: list                                    # the IR ops computed (for target choices)
    hoisted: list = field(default_factory=list)  # once, before any loop
    row: list = field(default_factory=list)      # rows: per row, before its passes
    passes: list = field(default_factory=list)   # sweeps over the elements, in order
    temps: list = field(default_factory=list)    # values carried between passes
    serial: bool = False                         # one thread: too little work to share
    reverse: bool = False                        # recur: steps from the last to the first
    loop: str = "for"                            # recur: "for" T steps, or "while" `flag`
    test: list = field(default_factory=list)     # recur while: per step, computing `flag`
    flag: str = None

    @property
    def accs(self):
        return [a for p in self.passes for a in p.accs]

    @property
    def scans(self):
        return [a for p in self.passes for a in p.scans]

    @property
    def element(self):
        """The element statements of a one-pass plan."""
        (p,) = self.passes
        return p.element

    @property
    def outer(self):
        (p,) = self.passes
        return p.outer

    @property
    def reduces(self):
        return bool(self.accs)

    @property
    def uses_index(self):
        """Whether statements read INDEX (iota, arg reductions): printers
        define it only then, since even a dead index expression slowed
        strided loops."""
        return any(family(op) == SOURCE_OPS for op in self.ops) or any(a.recipe.arg for a in self.accs)

    def text(self):
        """A readable listing (shown by `explain()`)."""
        head = {"flat": "parallel loop over n elements",
                "nd": f"parallel loop nest over a rank-{self.rank} space",
                "runs": f"parallel loop nest over a rank-{self.rank} space, each innermost run "
                        "contiguous",
                "full": "partials: parallel chunks of the n elements, each folding into its own "
                        "accumulators; merge: the chunks' states in order",
                "rows": "parallel loop over m rows; serial loop over the n elements of each row",
                "cols": "parallel chunks of n rows, each folding all m columns into its own "
                        "accumulators; merge: the chunks' states per column",
                "scan": "parallel loop over m rows (long rows in tiles: tile totals, their "
                        "prefix, then each tile scanned from its carry)",
                "recur": ("parallel loop over blocks of " + (
                          f"{RECUR_BLOCK}-{4 * RECUR_BLOCK} of the n elements of the carries"
                          if self.rank == 2 else f"{CHAIN_BLOCK} of the n chains (each chain's "
                          "steps together in memory)") + ", each a serial loop over the steps"
                          f"{' (last to first)' if self.reverse else ''}, each step over the "
                          "block's elements" if self.rank >= 2 else
                          "parallel loop over the n elements of the carries, each a serial "
                          + ("loop while its test holds (at most T steps if T >= 0)"
                             if self.loop == "while" else
                             f"loop over the steps{' (last to first)' if self.reverse else ''}"))}
        swept = sum(bool(p.element or p.accs) for p in self.passes)  # (`Moments` spare some)
        lines = [f"form {self.form}: {'one thread; ' if self.serial else ''}{head[self.form]}"
                 + (f"; {len(self.passes)} passes" if len(self.passes) > 1 else "")
                 + (f", {swept} over the elements" if swept < len(self.passes) else "")]
        lines += [f"  in  {i.name}: {D.SHORT[i.dtype]} {i.access}" for i in self.inputs]
        per = {"rows": "per row", "cols": "per column"}.get(self.form, "once")
        lines += [f"  out {o.name}: {D.SHORT[o.dtype]} {_how_often(o, per)}" for o in self.outputs]
        lines += [f"  tmp {t.name}: {D.SHORT[t.dtype]} per element, between passes" for t in self.temps]
        lines += [f"  acc {a.describe()}" for a in self.accs + self.scans]
        lines += [f"  acc m{m.k} = chunk means and squared deviations of {m.src.name}"
                  for p in self.passes for m in p.moments]
        recur = self.form == "recur"
        sections = [("before the loops", self.hoisted),
                    ("per element, before the steps" if recur else "per row", self.row),
                    (f"per step, the test (continue while {self.flag})", self.test)]
        for k, p in enumerate(self.passes):
            tag = f"pass {k + 1}, " if len(self.passes) > 1 else ""
            after = {"full": "after the reduction", "cols": "per column",
                     "recur": "per element, after the steps"}.get(self.form, "per row")
            sections += [(f"{tag}{'per step' if recur else 'per element'}", p.element),
                         (f"{tag}{after}", p.outer)]
        for title, stmts in sections:
            if stmts:
                lines.append(f"  {title}:")
                lines += ["    " + _stmt_text(s) for s in stmts]
        return "\n".join(lines)


def _how_often(o, per):
    if o.step:
        return "per step" if o.single else "per step and element"
    return "once" if o.single else (per if o.outer else "per element")


def _stmt_text(s):
    if isinstance(s, Let):
        return f"{s.var} = {s.expr}"
    if isinstance(s, Load):
        return f"{s.var} = load {s.src.name}"
    if isinstance(s, Store):
        return f"store {s.dst.name} = {s.var}"
    if isinstance(s, ScanStep):
        return f"{s.var} = scan {s.acc.var()} with {s.x}"
    if isinstance(s, MomentStep):
        return f"update m{s.moments.k} with {s.x}"
    if isinstance(s, Deviations):
        return f"{s.acc.var()} = sum of ({s.moments.src.name} - {s.r})**2 from m{s.moments.k}"
    return f"update {s.acc.var()} with {s.x}"


# ---------------------------------------------------------------- lowering

class KernelInfo:
    """What every plan of a kernel shares, computed once per kernel: the
    prelude (free ops run at launch, views as strides), constants, the
    values loaded from memory, computed ops and outputs."""

    def __init__(self, kernel):
        block = kernel.regions[0].block
        self.kernel = kernel
        self.space = tuple(kernel.attrs["space"])
        self.axes = tuple(kernel.attrs["axes"])
        self.prelude = []   # free ops (views), run at launch with NumPy
        self.ops = []       # computed ops (elementwise and reductions)
        self.consts = {}    # value -> literal expression
        self.loads = []     # values read from memory, in order
        computed = set()
        for op in block.ops[:-1]:
            fam = family(op)
            if fam == CONSTANT_OPS:
                self.consts[op.results[0]] = literal(op.attrs["value"], op.attrs["dtype"])
            elif fam in (ELEMENTWISE_OPS, REDUCTION_OPS, SOURCE_OPS, SCAN_OPS, LOOP_OPS):
                if fam in (ELEMENTWISE_OPS, SOURCE_OPS) and lookup(op.name).scalar is None:
                    raise Unsupported(f"codegen: {op.name} has no scalar lowering")
                for v in op.operands:
                    if v not in computed and v not in self.consts and v not in self.loads:
                        self.loads.append(v)
                self.ops.append(op)
                computed.update(op.results)
            elif fam == VIEW_OPS and op.operands[0] in self.consts:
                self.consts[op.results[0]] = self.consts[op.operands[0]]  # a view of a constant
            elif fam == VIEW_OPS:
                self.prelude.append(op)
            else:
                raise Unsupported(f"codegen: {op.name} ({fam}) cannot run inside a kernel")
        self.outputs = list(block.ops[-1].operands)
        self.reductions = [op for op in self.ops if family(op) == REDUCTION_OPS]
        self.scans = [op for op in self.ops if family(op) == SCAN_OPS]
        self.loops = [op for op in self.ops if family(op) == LOOP_OPS]
        # a compiled loop's loads read anew at each step: its scanned operands,
        # and the inputs over (steps, *space) of the work computing them
        self.stepped = set()
        self.final = []  # (a compiled loop's kernel) the work on its last carries
        if self.loops:
            (loop,) = self.loops
            _, scanned, _ = loop_layout(loop)
            self.stepped = {v for v in self.loads if v in scanned or (
                len(v.type.shape) > len(self.space) and v not in loop.operands)}
            after = self.ops[self.ops.index(loop) + 1:]
            self.final = [w for w in after if len(w.results[0].type.shape) <= len(self.space)]
        self.sources = [op for op in self.ops if family(op) == SOURCE_OPS]
        self._passes()
        for v in self.loads + [r for op in self.ops for r in op.results]:
            if v.type.dtype not in D.SUPPORTED:
                raise Unsupported(f"codegen: {v.type.dtype} arithmetic in {self.kernel.attrs['name']}")

    def _passes(self):
        """Assign each computed op its pass. `outer`: values computed once
        per outer index (reduction results, and the epilogue on them and on
        size-1 inputs), ready at the end of pass `stage[v]`; an element value
        is computed in pass `stage[v]`, one after the passes of the outer
        values it reads."""
        self.outer, self.epilogue, self.stage = set(), [], {}
        # one value for the whole kernel: constants, size-1 inputs, ops on them
        small = set(self.consts) | {v for v in self.loads if v.type.size == 1}
        folded = {op.operands[0] for op in self.reductions}  # element values by need
        for op in self.ops:
            r = op.results[0]
            reads_outer = [v for v in op.operands if v in self.outer]
            if op in self.reductions:
                self.stage[r] = self.stage.get(op.operands[0], 0)
                self.outer.add(r)
            elif op.operands and all(v in small for v in op.operands) \
                    and family(op) == ELEMENTWISE_OPS:  # an iota, a scan vary by element
                small.add(r)
                self.stage[r] = 0
            # as the scheduler decides: the epilogue keeps an outer operand's shape
            elif r not in folded and any(r.type.shape == v.type.shape for v in reads_outer) \
                    and all(v in self.outer or v in small for v in op.operands):
                self.epilogue.append(op)
                self.stage[r] = max(self.stage[v] for v in reads_outer)
                self.outer.add(r)
            else:
                self.stage[r] = max([self.stage.get(v, 0) + (v in self.outer)
                                     for v in op.operands], default=0)
        self.passes = 1 + max(self.stage.values(), default=0)


def build_plan(info, form, rank, access, scalar=None, serial=False, moments=False):
    """The loop plan of kernel `info` in `form`, where `access[k]` says how
    load k is read ("uniform", "row", "col" or "elem"). `scalar` maps op names to
    a target's own scalar templates, where it differs from the registry's;
    `serial` plans it for one thread (its loops stay the same, so results do
    not change); `moments`: the target prints `Moments` (`cols` and `full`
    forms), so a variance's pass need not sweep."""
    lowering = _RecurLowering if form == "recur" else _Lowering
    plan = lowering(info, form, rank, access, scalar or {}, moments).plan
    plan.serial = serial
    return plan


class _Lowering:
    def __init__(self, info, form, rank, access, scalar, moments=False):
        self.info = info
        self.scalar = scalar
        self.names = dict(info.consts)  # values every pass sees: constants, hoisted, per row
        self.count = len(self.names)  # variables are numbered in order of definition
        inputs = [Input(f"L{k}", v.type.dtype, a) for k, (v, a) in enumerate(zip(info.loads, access))]
        self.input_of = dict(zip(info.loads, inputs))
        # a reduction repeating another (the same op over the same value and
        # axes, keepdims aside: logsumexp's two maxes) reads its accumulator
        self.same_as, first = {}, {}
        for op in info.reductions:
            key = (op.name, op.operands[0], tuple(op.attrs["axis"]), op.results[0].type.dtype)
            if key in first:
                self.same_as[op] = first[key]
            else:
                first[key] = op
        self.acc_of = {op: Acc(k, op) for k, op in enumerate(
            [op for op in info.reductions if op not in self.same_as])}
        self.scan_acc = {op: Acc(len(self.acc_of) + k, op) for k, op in enumerate(info.scans)}
        outputs = [Output(f"O{k}", v.type.dtype, v in info.outer) for k, v in enumerate(info.outputs)]
        self.plan = p = LoopPlan(form, rank, inputs, outputs, info.ops)
        # Loads of uniform inputs, and ops of uniform values, run once before
        # the loop: branches on invariant values inside it (where,
        # floor_divide) let LLVM unswitch the loop once per condition, which
        # took minutes to compile.
        uniform = set(info.consts)
        for v, i in self.input_of.items():
            if i.access == "uniform":
                self._load(p.hoisted, v, self.names)
                uniform.add(v)
        body = [op for op in info.ops if op not in info.epilogue]
        for op in body:
            if family(op) == ELEMENTWISE_OPS and all(v in uniform for v in op.operands):
                self._compute(p.hoisted, op, self.names)
                uniform.add(op.results[0])
        # rows: values constant along the reduced axes load once per row
        for v, i in self.input_of.items():
            if i.access == "row":
                self._load(p.row, v, self.names)
        body = [op for op in body if op.results[0] not in uniform]
        self.temp_of = self._temps(body)
        # a pass that only sums (x - r) ** 2 reads x no more (`Moments`)
        self.moments, self.deviations = {}, {}
        swept = self._moments(body) if moments and form in ("cols", "full") else body
        for k in range(info.passes):
            p.passes.append(self._pass(k, [op for op in swept if info.stage[op.results[0]] == k]))

    def _temps(self, body):
        """Temp buffers for element values read in a later pass than their
        own, except those a later pass recomputes (`self.recompute`)."""
        stage, temps = self.info.stage, {}
        defined = {op.results[0]: op for op in body}
        self.recompute = {}
        for op in body:
            for v in op.operands:
                if v in stage and v not in self.info.outer and stage[v] < stage[op.results[0]] \
                        and v not in temps and v not in self.recompute:
                    if self._exact(defined.get(v)):
                        self.recompute[v] = defined[v]
                        continue
                    dt = "float32" if v.type.dtype in D.HALF else v.type.dtype
                    temps[v] = Temp(f"S{len(temps)}", dt)
        self.plan.temps = list(temps.values())
        return temps

    def _moments(self, body):
        """`body` without the passes whose only work is summing `(x - r) **
        2` for an input x and an earlier pass's per-column r (a variance
        about a mean): each such sum comes from the first pass's `Moments`
        of x instead (`self.deviations`: reduction -> (its Moments, r))."""
        info = self.info
        made = {op.results[0]: op for op in body}
        users = {}
        for op in body:
            for v in op.operands:
                users.setdefault(v, []).append(op)
        found = {}
        for red in info.reductions:
            pattern = self._deviation(red, made, users)
            if pattern is not None:
                found[red] = pattern
        cut = set()
        for k in {info.stage[red.results[0]] for red in found}:
            ops = {op for op in body if info.stage[op.results[0]] == k}
            mine = {op for red, (sub, sq, _, _) in found.items()
                    if info.stage[red.results[0]] == k for op in (red, sub, sq)}
            stored = any(info.stage.get(v) == k and v not in info.outer for v in info.outputs)
            if ops <= mine and not stored:
                cut |= mine
        for red, (sub, sq, x, r) in found.items():
            if red in cut:
                m = self.moments.get(x)
                if m is None:
                    m = self.moments[x] = Moments(len(self.moments), self.input_of[x])
                self.deviations[red] = (m, r)
        return [op for op in body if op not in cut]

    def _deviation(self, red, made, users):
        """(subtract, square, x, r) where reduction `red` sums or averages
        `(x - r) ** 2` (`x` a float input read per element, `r` its mean over
        the same axes, neither difference read elsewhere in the pass); None
        otherwise. (About another r, an infinite x would give inf - inf.)"""
        info = self.info
        acc = self.acc_of.get(red)
        if red.name not in ("lazy.sum", "lazy.mean") or acc is None \
                or red in self.same_as.values() or acc.fields != {"": "float64"}:
            return None
        sq = made.get(red.operands[0])
        if sq is None or not (sq.name == "lazy.multiply" and sq.operands[0] is sq.operands[1]
                              or sq.name == "lazy.square"):
            return None
        sub = made.get(sq.operands[0])
        if sub is None or sub.name != "lazy.subtract":
            return None
        x, r = sub.operands
        dt = x.type.dtype
        inp = self.input_of.get(x)
        mean = made.get(r)
        if inp is None or inp.access != "elem" or dt not in ("float32", "float64") \
                or r not in info.outer or r.type.dtype != dt \
                or any(v.type.dtype != dt for v in (sub.results[0], sq.results[0])) \
                or mean is None or mean.name != "lazy.mean" or mean.operands[0] is not x \
                or tuple(mean.attrs["axis"]) != tuple(red.attrs["axis"]):
            return None
        k = info.stage[red.results[0]]
        if users.get(sq.results[0]) != [red] or sq.results[0] in info.outputs \
                or sub.results[0] in info.outputs or sub.results[0] in self.temp_of \
                or any(info.stage[u.results[0]] == k for u in users[sub.results[0]] if u is not sq):
            return None
        return sub, sq, x, r

    def _exact(self, op):
        """Whether `op` is one exactly rounded arithmetic op on inputs and on
        values every later pass sees (constants, hoisted and per-row values,
        earlier passes' results): a later pass recomputing it gets the same
        bits (one IEEE op) and
        saves a temp buffer's write and read (`x - mean` in standardize)."""
        return op is not None and lookup(op.name).has(EXACT) \
            and D.is_float(op.results[0].type.dtype) \
            and all(o in self.input_of or o in self.names or o in self.info.outer
                    for o in op.operands)

    def _recomputed(self, ps, v, local, k):
        op = self.recompute[v]
        for o in op.operands:
            self._read(ps, o, k)
            if o not in local:
                self._load(ps.element, o, local)
        self._compute(ps.element, op, local)

    def _pass(self, k, ops):
        info, p = self.info, self.plan
        ps = Pass(accs=[self.acc_of[op] for op in ops if op in self.acc_of],
                  scans=[self.scan_acc[op] for op in ops if op in self.scan_acc])
        local = dict(self.names)  # what this pass's element statements see
        for op in ops:
            for v in op.operands:
                self._read(ps, v, k)
                if v in local:
                    continue
                if v in self.temp_of:  # computed in an earlier pass
                    local[v] = self._var("x")
                    ps.element.append(Load(local[v], self.temp_of[v]))
                elif v in self.recompute:
                    self._recomputed(ps, v, local, k)
                else:
                    self._load(ps.element, v, local)
            if op in self.same_as:
                continue
            if op in self.acc_of:
                ps.element.append(Update(self.acc_of[op], local[op.operands[0]]))
                continue
            if op in self.scan_acc:
                local[op.results[0]] = var = self._var("v")
                ps.element.append(ScanStep(self.scan_acc[op], local[op.operands[0]], var))
                continue
            self._compute(ps.element, op, local)
            r = op.results[0]
            if r in self.temp_of:
                ps.element.append(Store(self.temp_of[r], local[r]))
        if k == 0:
            for x, m in self.moments.items():
                ps.moments.append(m)
                if x not in local:
                    self._load(ps.element, x, local)
                ps.element.append(MomentStep(m, local[x]))
        for o, v in zip(p.outputs, info.outputs):
            # element outputs in their pass (values computed before the loops in the first)
            if not o.outer and (v in self.names and k == 0 or
                                v not in self.names and info.stage.get(v) == k):
                ps.element.append(Store(o, local[v]))
        # after the pass: its results, the epilogue on them, outer stores
        for red, (m, r) in self.deviations.items():
            if info.stage[red.results[0]] == k:
                self._read(ps, r, k)
                ps.outer.append(Deviations(self.acc_of[red], m, self.names[r]))
        finals = ps.accs + [self.acc_of[red] for red in self.deviations
                            if info.stage[red.results[0]] == k]
        for a in finals:
            self.names[a.op.results[0]] = f"r{a.k}"
            self.count += 1
            ps.outer.append(Let(f"r{a.k}", a.final(COUNT)))
        for dup, op in self.same_as.items():
            if op.results[0] in self.names:
                self.names[dup.results[0]] = self.names[op.results[0]]
        for op in info.epilogue:
            if info.stage[op.results[0]] == k:
                for v in op.operands:
                    self._read(ps, v, k)
                self._compute(ps.outer, op, self.names)
        for o, v in zip(p.outputs, info.outputs):
            if o.outer and info.stage[v] == k:
                ps.outer.append(Store(o, self.names[v]))
        return ps

    def _read(self, ps, v, k):
        """Note that pass `k` reads `v` if it is an earlier pass's outer value."""
        if v in self.info.outer and self.info.stage[v] < k:
            read = (self.names[v], v.type.dtype)
            if read not in ps.reads:
                ps.reads.append(read)

    def _var(self, prefix):
        self.count += 1
        return f"{prefix}{self.count - 1}"

    def _load(self, stmts, v, names):
        var = names[v] = self._var("x")
        stmts.append(Load(var, self.input_of[v]))

    def _compute(self, stmts, op, names):
        d = lookup(op.name)
        r = op.results[0]
        var = self._var("v")
        operands = [names[v] for v in op.operands]
        in_dt = op.operands[-1].type.dtype if op.operands else r.type.dtype
        tpl = self.scalar.get(d.name) or d.scalar_template(in_dt, r.type.dtype)
        expr = tpl.format(*operands, **dict(op.attrs, dtype=np_name(r.type.dtype), index=INDEX))
        stmts.append(Let(var, wrap(expr, r.type.dtype), r.type.dtype))
        names[r] = var


# a compiled scan over at least twice this many elements runs its steps
# over blocks of neighbouring elements (the `recur` form's rank 2): between
# this many and four times as many, and at least two blocks
RECUR_BLOCK = 64
# a scan whose chains each keep their steps together in memory (scanned
# operands laid out chain-major: tiles of a long scan) runs its steps over
# blocks of this many chains (rank 3): their lines stay in cache from one
# step to the next, and their independent updates overlap (in blocks of 64
# or more, a step's loads missed the cache and its TLB)
CHAIN_BLOCK = 8


def loop_layout(op):
    """What the plan and the launch of a compiled loop (`lazy.scan`,
    `lazy.while`) both follow: its carry count, the operands it scans (one
    slice per step) and its steps (a while loop's limit, -1 for none)."""
    k = op.attrs["carries"]
    if op.name == "lazy.while":
        return k, set(), op.attrs["maximum_iterations"]
    return k, set(op.operands[k:k + op.attrs["xs"]]), op.attrs["length"]


def loop_result(op, v, space):
    """(one value per step?, one value for all elements?) of a result `v` of
    the kernel holding loop `op` over the carries' `space`: a step output
    (or work on step outputs, in the loop's kernel), or a last carry (or
    work on last carries, after the loop); a scalar one is the same in
    every chain."""
    k = op.attrs["carries"]
    # work per step is over (steps, *S); work after the loop over S or ()
    per_step = v in op.results[k:] or v not in op.results[:k] and len(v.type.shape) > len(space)
    return per_step, len(v.type.shape) == int(per_step)


class _RecurLowering(_Lowering):
    """The plan of a kernel holding one compiled loop (`lazy.scan`, or
    `lazy.while`) whose regions are elementwise: per element of the
    carries' space, the carries start from their initial values (`row`);
    each step runs the loop's test (`test`, a while's condition, into
    `flag`), then the body (`element`: the step's slices loaded, outputs
    stored, the next carries); the last carries, and the work on them, are
    stored (`outer`).
    Scalar carries are computed alike by every element (the body is
    elementwise: they read only scalars); element 0 stores them."""

    def __init__(self, info, form, rank, access, scalar, moments=False):
        self.info, self.scalar = info, scalar
        (op,) = info.loops
        loop = op.name == "lazy.while"
        k, _, _ = loop_layout(op)
        inputs = [Input(f"L{i}", v.type.dtype, a) for i, (v, a) in enumerate(zip(info.loads, access))]
        self.input_of = dict(zip(info.loads, inputs))
        outputs = [Output(f"O{i}", v.type.dtype, False, *loop_result(op, v, info.space))
                   for i, v in enumerate(info.outputs)]
        self.plan = p = LoopPlan(form, rank, inputs, outputs, info.ops,
                                 reverse=op.attrs.get("reverse", False), loop="while" if loop
                                 else "for")
        step = Pass()
        p.passes.append(step)
        self.count = 0
        # the operands as variables: scanned slices per step (loaded, or
        # computed from the step's slices of their inputs), others once
        operand = {}

        def read(v):
            if v in operand:
                return
            if v in info.consts:
                operand[v] = info.consts[v]
                return
            stmts = step.element if v in info.stepped else (
                p.hoisted if self.input_of[v].access == "uniform" else p.row)
            self._load(stmts, v, operand)
        at = info.ops.index(op)

        def compute(ops):  # elementwise work per step, before or after the body
            for w in ops:
                for v in w.operands:
                    read(v)
                self._compute(step.element, w, operand)
        compute(info.ops[:at])  # the work computing scanned operands
        for v in op.operands:
            read(v)
        carries = []  # a variable each, reassigned each step
        for v in op.operands[:k]:
            carries.append(self._var("c"))
            p.row.append(Let(carries[-1], operand[v], v.type.dtype))
        if loop:
            c1 = op.attrs["cond_captures"]
            test, body = op.regions[0].block, op.regions[1].block
            extra = op.operands[k:k + c1]
            (flag,) = self._region(test, carries + [operand[v] for v in extra], p.test)
            p.flag = flag
            args = carries + [operand[v] for v in op.operands[k + c1:]]
        else:
            body = op.regions[0].block
            args = carries + [operand[v] for v in op.operands[k:]]
        yielded = self._region(body, args, step.element)
        out_of = dict(zip(info.outputs, outputs))
        operand.update(zip(op.results[k:], yielded[k:]))  # the step's outputs
        after = [w for w in info.ops[at + 1:] if w not in info.final]
        compute(after)  # the work on them
        for r in info.outputs:
            if r not in op.results[:k] and out_of[r].step:
                step.element.append(Store(out_of[r], operand[r]))
        nxt = []  # the next carries, all read before any is reassigned
        for c, y in zip(carries, yielded[:k]):
            nxt.append(self._var("n"))
            step.element.append(Let(nxt[-1], y))
        step.element += [Let(c, n) for c, n in zip(carries, nxt)]
        operand.update(zip(op.results[:k], carries))  # the last carries
        for w in info.final:  # the work on them, once the loop is done
            for v in w.operands:
                read(v)
            self._compute(step.outer, w, operand)
        for r in info.outputs:
            if not out_of[r].step and (r in op.results[:k] or r in operand):
                step.outer.append(Store(out_of[r], operand[r]))

    def _region(self, block, args, stmts):
        """The statements of `block`'s ops over `args` (variables or
        literals of its block arguments), appended to `stmts`; the variables
        it yields."""
        names = dict(zip(block.args, args))
        for op in block.ops[:-1]:
            if family(op) == CONSTANT_OPS:
                names[op.results[0]] = literal(op.attrs["value"], op.attrs["dtype"])
            else:
                self._compute(stmts, op, names)
        return [names[v] for v in block.ops[-1].operands]
