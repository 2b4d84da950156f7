"""The Numba CPU target: prints a loop plan as one `@njit(parallel=True)`
function.

- `flat`: `prange` over blocks of BLOCK elements, a serial inner loop over
  fresh slices (indices from 0, so LLVM proves them non-negative and
  vectorizes); rank 0 (a 0-d space) has no loop at all;
- `nd`:   `prange` over the first axis, serial loops inside;
- `runs`: the `nd` loops where every array's last axis is contiguous (a
  piece's box of a concatenation, a slice of rows): each array is a flat
  buffer and its strides in elements, and each innermost run a fresh slice
  of it from 0, so the inner loop vectorizes as `flat`'s does (`nd` indexes
  strided arrays, which LLVM does not vectorize);
- `full`: `prange` over blocks, each folding into its own accumulators and
  storing its state in partial arrays (one per field); a serial merge of
  the blocks' states in block order;
- `rows`: `prange` over rows, a serial loop over each row per pass;
- `cols`: `prange` over chunks of rows, each with accumulator arrays of one
  state per column, updated row by row along contiguous columns (the inner
  loop vectorizes); then a `prange` over columns merging the chunks' states;
- `scan`: `prange` over tiles of rows: rows longer than SCAN_TILE are cut
  into tiles (at most SCAN_TASKS tiles in all, so both cores share even one
  row); a first `prange` folds each tile's total (the statements up to the
  scan, reassociating so it vectorizes), a serial loop turns each row's
  totals into carries, and the scan `prange` runs each tile from its carry
  in chunks (see `scan_tile`): the work before and after the scan
  vectorizes, and the carried chain has one update per four elements
  (float sums and products check that regrouping left no prefix or carry
  out of the float's range where NumPy's order does not, see `_scan`);
- `recur`: `prange` over the elements of the carries' space, each a serial
  loop over the steps (`for`, or `while` its test holds) with its carries
  in registers.

A multi-pass `full` plan runs its passes one after the other, each a
parallel sweep (with partials and a merge where it reduces); a multi-pass
`rows` plan runs all passes of a row in that row's iteration, while the row
is in cache. Temp buffers are whole-space arrays (`full`) or one row each.

Kernels keep NumPy's evaluation order (no function-wide fast-math: it would
regroup `a * (b / c)` and mathlib's polynomials); only the accumulating add
or multiply of a sum or product is a call to a reassociating helper (`radd`,
`rmul`), whose `reassoc` flag LLVM inlines with it, so reductions vectorize.
"""
from .cache import ahead, describe, kernel_for, launch, precompile  # noqa: F401  (the target interface)
import re

import numpy as np

from ..ir import dtypes as D
from .plan import (CHAIN_BLOCK, COUNT, INDEX, RECUR_BLOCK, Deviations, Let, Load, MomentStep,
                   Output, ScanStep, Store, Update, extreme, np_name, wrap)
from .printer import Printer

BLOCK = 8192
COL_CHUNKS = 64  # chunks of rows in `cols` kernels: partial states are COL_CHUNKS x m
# `rows` kernels run chunks of rows in parallel, each with its own scratch
# rows allocated once for the chunk, not once per row
ROW_CHUNKS = 256
# `scan` kernels: rows longer than SCAN_TILE elements are tiled, into at most
# SCAN_TASKS tiles over all rows (fixed numbers, so results do not depend on
# the machine)
SCAN_TILE = 16384
SCAN_TASKS = 64
SCAN_CHUNK = 512
SUM_CHUNK = 256  # float32 elements summed in float32 before a float64 add (see chunked_loop)
COL_SUM_ROWS = 64  # `cols`: rows of float32 sums added per column before a float64 add
ROWS_AT_ONCE = 4  # `cols` sweeps with moments: rows folded per visit of a column
# the least float64 that rounds to float32 infinity (float32's largest
# finite value plus half its last step)
F32_ROUNDS_TO_INF = float(np.finfo(np.float32).max) + 2.0 ** 103
# a float32 sin, cos or tan call on a variable (see `versioned_loop`)
_TRIG = re.compile(r"\b(sin|cos|tan)\((\w+)\)")
_EPS = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23, "float64": 2.0 ** -52}
RUNS = True  # prints the `runs` form (see launch)
UNIFORM_0D = True  # reads a uniform input given as a 0-d array (see launch)
MOMENTS = True  # prints `Moments` (see plan.build_plan)
HEADER = ("import math\n\nimport numpy as np\nfrom numba import njit, prange\n"
          "from lazyops.codegen.scalar import *  # noqa: F401,F403\n\n\n")


def print_plan(plan):
    """Python source of the kernel function `kernel` for `plan`."""
    return HEADER + "\n".join(_Printer(plan).lines) + "\n"


class _Printer(Printer):
    def __init__(self, plan):
        super().__init__(plan)
        getattr(self, "_" + plan.form)()

    def header(self, sizes):
        p = self.plan
        params = list(sizes) + [i.name for i in p.inputs] + [o.name for o in p.outputs]
        par = p.rank > 0 and not p.serial  # a 0-d space runs straight-line code
        self.emit(0, f"@njit(parallel={par}, error_model='numpy', cache=True)")
        self.emit(0, f"def kernel({', '.join(params)}):")

    # -- statements
    def stmts(self, depth, stmts, index=None):
        """Print `stmts`; `index(buffer)` gives the subscript of an element access."""
        super().stmts(depth, stmts, lambda b: self.subscript(b, index))

    partial = ()  # ids of the accumulators a chunked loop sums in float32 first

    def update(self, depth, s, sub):
        if isinstance(s, MomentStep):
            k = s.moments.k
            # (regrouped: a `full` block's sums vectorize)
            self.emit(depth, f"wd{k} = np.float64({s.x}) - wc{k}")
            self.emit(depth, f"ws{k} = radd(ws{k}, wd{k})")
            self.emit(depth, f"wq{k} = radd(wq{k}, wd{k} * wd{k})")
            return
        if isinstance(s, Deviations):
            self.deviations(depth, s)
            return
        # reductions, and a scan's tile totals (`scan_tile` prints the scan
        # itself): in any order, so they vectorize
        if id(s.acc) in self.partial:
            a, part = s.acc, s.acc.var("", "_s")
            if not a.recipe.arg:  # the recipe's regrouped update, in float32
                x = wrap(s.x, "float32")
                self.emit(depth, f"{part} = {wrap(a.recipe.regroup.format(acc=part, x=x), 'float32')}")
                return
            # in the kernel type, unrounded: -0.0 as float32's -tiny stays below +0.0
            e, kt = f"e{a.k}", "float32" if a.dtype in D.HALF else a.dtype
            self.emit(depth, f"{e} = {wrap(a.arg_value(s.x), kt)}")
            self.emit(depth, f"B{a.k}[j] = {e}")
            self.emit(depth, f"{part} = {wrap(f'r{a.recipe.arg}({part}, {e})', kt)}")
            return
        self.stmts(depth, s.acc.update(s.x, INDEX, regroup=True), sub)

    def load(self, expr, dtype):
        return {"float16": f"f16_to_f32({expr})", "bfloat16": f"bf16_to_f32({expr})"}.get(
            dtype, expr)

    def store(self, expr, dtype):
        return {"float16": f"f32_to_f16({expr})", "bfloat16": f"f32_to_bf16({expr})"}.get(
            dtype, expr)

    def subscript(self, buf, index):
        access = getattr(buf, "access", None)
        if access == "uniform":  # 0-d or one element (see `UNIFORM_0D`)
            return f"{buf.name}.flat[0]"
        if getattr(buf, "outer", False) and self.plan.form == "full":
            return f"{buf.name}[0]"
        if access == "row" or getattr(buf, "outer", False):  # one per row (column in `cols`)
            return f"{buf.name}[{'c' if self.plan.form == 'cols' else 'o'}]"
        return index(buf)

    def sliced(self, depth, lo, hi):
        """Element buffers sliced to the current block or row (`lo` None: row `o`)."""
        for b in self.plan.inputs + self.plan.outputs:
            if getattr(b, "access", "elem") == "elem" and not getattr(b, "outer", False):
                self.emit(depth, f"{b.name.lower()} = {b.name}[{lo}:{hi}]" if lo is not None
                          else f"{b.name.lower()} = {b.name}[o]")
            elif getattr(b, "access", None) == "col":  # rows: the one row all rows share
                self.emit(depth, f"{b.name.lower()} = {b.name}")
        if lo is not None:  # (rows allocate theirs once per chunk of rows)
            for t in self.plan.temps:
                self.emit(depth, f"{t.name.lower()} = {t.name}[{lo}:{hi}]")

    def element_loop(self, depth, count, base, stmts):
        """`stmts` for each of `count` elements from `base` (flat position
        `base + j`), over buffers sliced to start there."""
        wide = [s.acc for s in stmts if isinstance(s, Update) and _widens(s.acc)]
        args = [s.acc for s in stmts if isinstance(s, Update) and s.acc.recipe.arg]
        if wide or args:
            return self.chunked_loop(depth, count, base, stmts, wide, args)
        self.emit(depth, f"for j in range({count}):")
        if self.plan.uses_index:
            self.emit(depth + 1, f"{INDEX} = {base}j")
        self.stmts(depth + 1, stmts, lambda b: f"{b.name.lower()}[j]")

    def versioned_loop(self, depth, count, base, stmts):
        """`element_loop`, where float32 sin, cos and tan run as `sin_near`
        & co. (their float64 reduction: 3x faster than the full one, 9x than
        libm's tan) while the loop notes any argument of NEAR or more; a
        block holding one runs again calling `sin_split` & co., which choose
        per element, so an element's value never depends on its neighbours
        (see codegen/mathlib_wide.py; a call, compiled once: a second inlined
        copy of the near code cost a kernel 0.4-0.9 s of compile). Other
        elementwise loops inline the `split` functions; kernels that also
        reduce keep mathlib's sin and cos and libm's tan (all faithful: they
        may differ in the last bit)."""
        far = [arg for st in stmts if isinstance(st, Let) and st.dtype == "float32"
               for _, arg in _TRIG.findall(st.expr)]
        if not far:
            return self.element_loop(depth, count, base, stmts)
        test = " | ".join(f"(abs({a}) >= NEAR)" for a in far)
        self.emit(depth, "far = False")
        self.element_loop(depth, count, base,
                          _trig(stmts, "near") + [Let("far", f"(far | {test})", "bool")])
        self.emit(depth, "if far:")
        self.element_loop(depth + 1, count, base, _trig(stmts, "split_call"))

    def chunked_loop(self, depth, count, base, stmts, wide, args):
        """The element loop in chunks of SUM_CHUNK elements, where float32
        values are summed into float64 accumulators (`wide`) or an arg
        reduction is folded (`args`); neither vectorizes element by element.
        A `wide` sum adds each chunk in float32 (regrouped, so it vectorizes
        16 wide; widening each element halved the width and cost a row
        softmax 40%), and the chunk's total in float64 (so a sum is as
        accurate as NumPy's pairwise one or more). An arg reduction keeps the
        chunk's values (buffer `B<k>`, see `scratch`) and their extreme (a
        vectorized `rmax`/`rmin`); only a chunk whose extreme beats the state
        is searched for its first index. Buffers are sliced to the chunk:
        indices from 0 vectorize."""
        sliced = {}
        for st in stmts:
            buf = st.src if isinstance(st, Load) else st.dst if isinstance(st, Store) else None
            if buf is not None:
                self.subscript(buf, lambda b: sliced.setdefault(b.name.lower(), b))
        self.emit(depth, f"for jc in range(0, {count}, {SUM_CHUNK}):")
        d = depth + 1
        for name in sliced:
            self.emit(d, f"{name}_c = {name}[jc:jc + {SUM_CHUNK}]")
        self.emit(d, f"cl = min({SUM_CHUNK}, {count} - jc)")
        for a in wide:
            self.emit(d, f"{a.var('', '_s')} = np.float32(0.0)")
        for a in args:
            self.emit(d, f"{a.var('', '_s')} = {extreme(a.recipe.init, a.dtype)}")
        self.emit(d, "for j in range(cl):")
        if self.plan.uses_index:
            self.emit(d + 1, f"{INDEX} = {base}jc + j")
        self.partial = {id(a) for a in wide + args}
        try:
            self.stmts(d + 1, stmts, lambda b: f"{b.name.lower()}_c[j]")
        finally:
            self.partial = ()
        for a in wide:
            self.emit(d, f"{a.var()} = {_flush(a, a.var(), a.var('', '_s'))}")
        for a in args:  # the first element equal to a better extreme (or the first NaN)
            v, m, cmp = a.var(), a.var("", "_s"), ">" if a.recipe.arg == "max" else "<"
            is_float = D.is_float(a.dtype)
            hit = f"B{a.k}[j] == {m}" + (f" or ({m} != {m} and B{a.k}[j] != B{a.k}[j])"
                                         if is_float else "")
            self.emit(d, f"if {m} {cmp} {v}" + (f" or ({m} != {m} and {v} == {v})"
                                                 if is_float else "") + ":")
            self.emit(d + 1, "f = cl")
            self.emit(d + 1, "for j in range(cl):  # a min over all: it vectorizes, a break does not")
            self.emit(d + 2, f"f = min(f, j if ({hit}) else cl)")
            self.emit(d + 1, f"{v} = {m}")
            self.emit(d + 1, f"{a.var('i')} = {base}jc + f")

    def scratch(self, depth, passes):
        """The chunk buffers of the arg reductions of `passes` (see
        `chunked_loop`), made once per parallel task."""
        for ps in passes:
            for a in ps.accs:
                if a.recipe.arg:
                    self.emit(depth, f"B{a.k} = np.empty({SUM_CHUNK}, {np_name(a.dtype)})")

    def blocks(self, depth):
        self.emit(depth + 1, f"lo = b * {BLOCK}")
        self.emit(depth + 1, f"hi = min(lo + {BLOCK}, n)")
        self.sliced(depth + 1, "lo", "hi")

    # -- forms
    def _flat(self):
        p = self.plan
        self.header(["n"])
        self.stmts(1, p.hoisted)
        if p.rank == 0:  # a 0-d space: straight-line code
            if p.uses_index:
                self.emit(1, f"{INDEX} = 0")
            self.stmts(1, _trig(p.element, "split"), lambda b: f"{b.name}[0]")
            return
        self.emit(1, f"for b in prange((n + {BLOCK - 1}) // {BLOCK}):")
        self.blocks(1)
        self.versioned_loop(2, "hi - lo", "lo + ", p.element)

    def _nd(self):
        p = self.plan
        r = p.rank
        self.header([f"s{k}" for k in range(r)])
        self.stmts(1, p.hoisted)
        for k in range(r):
            self.emit(1 + k, f"for i{k} in {'prange' if k == 0 else 'range'}(s{k}):")
        if p.uses_index:
            flat = "i0"
            for k in range(1, r):
                flat = f"({flat} * s{k} + i{k})"
            self.emit(1 + r, f"{INDEX} = {flat}")
        idx = ", ".join(f"i{k}" for k in range(r))
        # (elementwise kernels compute float32 sin and cos alike: see versioned_loop)
        self.stmts(1 + r, _trig(p.element, "split"), lambda b: f"{b.name}[{idx}]")

    def _runs(self):
        p = self.plan
        r = p.rank
        elem = [b for b in p.inputs + p.outputs if getattr(b, "access", "elem") == "elem"]
        # sizes, then each strided buffer's strides (elements), then the buffers
        self.header([f"s{k}" for k in range(r)]
                    + [f"{b.name}s{k}" for b in elem for k in range(r - 1)])
        self.stmts(1, p.hoisted)
        for k in range(r - 1):
            self.emit(1 + k, f"for i{k} in {'prange' if k == 0 else 'range'}(s{k}):")
        d = r
        for b in elem:  # this run of each array, from 0
            at = " + ".join(f"i{k} * {b.name}s{k}" for k in range(r - 1))
            self.emit(d, f"{b.name.lower()} = {b.name}[{at}:{at} + s{r - 1}]")
        flat = "i0"
        for k in range(1, r):
            flat = f"({flat} * s{k} + i{k})" if k < r - 1 else f"{flat} * s{k} + "
        self.versioned_loop(d, f"s{r - 1}", flat if r > 1 else "", p.element)

    def _full(self):
        p = self.plan
        self.header(["n"])
        self.stmts(1, p.hoisted)
        self.emit(1, f"nb = max(1, (n + {BLOCK - 1}) // {BLOCK})")
        self.emit(1, f"{COUNT} = n")
        for t in p.temps:
            self.emit(1, f"{t.name} = np.empty(n, {np_name(t.dtype)})")
        for ps in p.passes:
            for a in ps.accs:
                for f, dt in a.fields.items():
                    self.emit(1, f"P{a.k}{f} = np.empty(nb, {np_name(dt)})")
            for mo in ps.moments:
                for w, dt in _moment_parts(mo):
                    self.emit(1, f"PW{w}{mo.k} = np.empty(nb, {dt})")
            if ps.accs or ps.element:  # (not a pass whose sum comes from moments)
                self.emit(1, "for b in prange(nb):")
                self.blocks(1)
                self.scratch(2, [ps])
                for a in ps.accs:
                    self.stmts(2, a.init())
                for mo in ps.moments:  # sums of x - shift, the shift the block's first element
                    self.emit(2, f"wc{mo.k} = np.float64({mo.src.name}[lo]) if hi > lo else 0.0")
                    self.emit(2, f"ws{mo.k} = 0.0")
                    self.emit(2, f"wq{mo.k} = 0.0")
                self.element_loop(2, "hi - lo", "lo + ", ps.element)
                for a in ps.accs:
                    for f in a.fields:
                        self.emit(2, f"P{a.k}{f}[b] = {a.var(f)}")
                for mo in ps.moments:
                    k = mo.k
                    self.emit(2, "nr = np.float64(max(hi - lo, 1))")
                    self.emit(2, f"PWM{k}[b] = wc{k} + ws{k} / nr")
                    self.emit(2, f"PWV{k}[b] = wq{k} - ws{k} * (ws{k} / nr)")
            # merge the blocks' partial states in order
            for a in ps.accs:
                self.stmts(1, a.init())
                self.emit(1, "for b in range(nb):")
                self.merge_from(2, a, lambda f: f"P{a.k}{f}[b]")
            self.stmts(1, ps.outer)

    def _rows(self):
        p = self.plan
        self.header(["m", "n"])
        self.stmts(1, p.hoisted)
        self.emit(1, f"rows = max(1, (m + {ROW_CHUNKS - 1}) // {ROW_CHUNKS})")
        self.emit(1, "for c in prange((m + rows - 1) // rows):")
        for t in p.temps:
            self.emit(2, f"{t.name.lower()} = np.empty(n, {np_name(t.dtype)})")
        self.scratch(2, p.passes)
        self.emit(2, "for o in range(c * rows, min(m, (c + 1) * rows)):")
        self.stmts(3, p.row)
        self.sliced(3, None, None)
        self.emit(3, f"{COUNT} = n")
        for ps in p.passes:
            for a in ps.accs:
                self.stmts(3, a.init())
            self.element_loop(3, "n", "", ps.element)
            self.stmts(3, ps.outer)

    def _cols(self):
        p = self.plan
        self.header(["n", "m"])
        self.stmts(1, p.hoisted)
        # chunks of rows: a fixed count (not the thread count), so results do
        # not depend on the machine; at least BLOCK elements each
        self.emit(1, f"rows = max(1, (n + {COL_CHUNKS - 1}) // {COL_CHUNKS}, {BLOCK} // max(m, 1))")
        self.emit(1, "nb = max(1, (n + rows - 1) // rows)")
        self.emit(1, f"{COUNT} = n")
        for t in p.temps:
            self.emit(1, f"{t.name} = np.empty((n, m), {np_name(t.dtype)})")
        kept = {v: dt for ps in p.passes for v, dt in ps.reads}
        for v, dt in kept.items():
            self.emit(1, f"R{v} = np.empty(m, {np_name(dt)})")
        for ps in p.passes:
            fields = [(a, f, dt) for a in ps.accs for f, dt in a.fields.items()]
            if fields or ps.element:
                self._cols_sweep(ps, fields)
            if not fields and not ps.outer:
                continue
            # per column: merge the chunks' states in order, then the outer statements
            self.emit(1, "for c in range(m):  # the merge is small: serial")
            for v, _ in ps.reads:
                self.emit(2, f"{v} = R{v}[c]")
            for a in ps.accs:
                self.stmts(2, a.init())
                self.emit(2, "for b in range(nb):")
                self.merge_from(3, a, lambda f, a=a: f"P{a.k}{f}[b, c]")
            self.stmts(2, ps.outer, lambda b: f"{b.name}[c]")
            for s in ps.outer:
                if getattr(s, "var", None) in kept:
                    self.emit(2, f"R{s.var}[c] = {s.var}")

    def _cols_sweep(self, ps, fields):
        """A pass's parallel sweep over chunks of rows, leaving each chunk's
        accumulator states (and `Moments`) in partial arrays."""
        p = self.plan
        for a, f, dt in fields:
            self.emit(1, f"P{a.k}{f} = np.empty((nb, m), {np_name(dt)})")
        for mo in ps.moments:
            for w, dt in _moment_parts(mo):
                self.emit(1, f"PW{w}{mo.k} = np.empty((nb, m), {dt})")
        self.emit(1, "for b in prange(nb):")
        self.emit(2, "lo = b * rows")
        self.emit(2, "hi = min(lo + rows, n)")
        for a, f, dt in fields:
            self.emit(2, f"A{a.k}{f} = np.empty(m, {np_name(dt)})")
            if _widens(a):
                self.emit(2, f"Z{a.k} = np.empty(m, np.float32)")  # (S<k> names a temp)
        for mo in ps.moments:  # sums of x - shift, the shift the chunk's first row
            self.emit(2, f"WC{mo.k} = np.empty(m, np.float64)")
            self.emit(2, f"WS{mo.k} = np.zeros(m, np.float64)")
            self.emit(2, f"WQ{mo.k} = np.zeros(m, np.float64)")
            self.emit(2, "for c in range(m):")
            self.emit(3, f"WC{mo.k}[c] = np.float64({mo.src.name}[lo, c]) if hi > lo else 0.0")
        if fields:
            self.emit(2, "for c in range(m):")
            for a in ps.accs:
                self.stmts(3, a.init())
            for a, f, dt in fields:
                self.emit(3, f"A{a.k}{f}[c] = {a.var(f)}")
        # float32 values summed into float64: float32 partial sums per
        # group of COL_SUM_ROWS rows, added in float64 (see `chunked_loop`)
        wide = [a for a in ps.accs if _widens(a)]
        d, r = 2, INDEX if p.uses_index else "r"
        grouped = wide or ps.moments
        if grouped:
            self.emit(2, f"for rg in range(lo, hi, {COL_SUM_ROWS}):")
            if wide:
                self.emit(3, "for c in range(m):")
                for a in wide:
                    self.emit(4, f"Z{a.k}[c] = np.float32(0.0)")
            d = 3
        state = [(f"{a.var('', '_s')}", f"Z{a.k}") if a in wide else (a.var(f), f"A{a.k}{f}")
                 for a, f, dt in fields]
        state += [(f"w{w}{mo.k}", f"W{w.upper()}{mo.k}") for mo in ps.moments for w in "sq"]
        self.partial = {id(a) for a in wide}
        try:
            if ps.moments and not p.uses_index:
                # ROWS_AT_ONCE rows per column visit: the moments' float64
                # sums stay in registers across them instead of a store and
                # a load per element
                self.emit(3, f"ge = min(hi, rg + {COL_SUM_ROWS})")
                self.emit(3, "r = rg")
                self.emit(3, f"while r + {ROWS_AT_ONCE} <= ge:")
                self.emit(4, "for c in range(m):")
                self._cols_element(5, ps, state, "u", lambda b: f"{b.name}[r + u, c]")
                self.emit(4, f"r += {ROWS_AT_ONCE}")
                self.emit(3, "for r in range(r, ge):")
            else:
                self.emit(d, f"for {r} in " + (f"range(rg, min(hi, rg + {COL_SUM_ROWS})):"
                                                if grouped else "range(lo, hi):"))
            for b in p.inputs + p.outputs + p.temps:
                if getattr(b, "access", "elem") == "elem" and not getattr(b, "outer", False):
                    self.emit(d + 1, f"{b.name.lower()} = {b.name}[{r}]")
            self.emit(d + 1, "for c in range(m):")
            self._cols_element(d + 2, ps, state, None, lambda b: f"{b.name.lower()}[c]")
        finally:
            self.partial = ()
        if wide:
            self.emit(3, "for c in range(m):")
            for a in wide:
                self.emit(4, f"A{a.k}[c] = {_flush(a, f'A{a.k}[c]', f'Z{a.k}[c]')}")
        for mo in ps.moments:
            self._chunk_moments(mo)
        if fields:  # element by element: a row slice assignment here compiles for seconds
            self.emit(2, "for c in range(m):")
            for a, f, dt in fields:
                self.emit(3, f"P{a.k}{f}[b, c] = A{a.k}{f}[c]")

    def _cols_element(self, depth, ps, state, unroll, sub):
        """The element statements of a `cols` sweep for column c, between
        loading the accumulator states and storing them back; `unroll`: the
        name of a loop over ROWS_AT_ONCE rows around them (None: one row)."""
        for v, _ in ps.reads:
            self.emit(depth, f"{v} = R{v}[c]")
        for mo in ps.moments:
            self.emit(depth, f"wc{mo.k} = WC{mo.k}[c]")
        for var, arr in state:
            self.emit(depth, f"{var} = {arr}[c]")
        inner = depth
        if unroll:
            self.emit(depth, f"for {unroll} in range({ROWS_AT_ONCE}):")
            inner += 1
        self.stmts(inner, self.plan.row, lambda b: f"{b.name}[c]")
        self.stmts(inner, ps.element, sub)
        for var, arr in state:
            self.emit(depth, f"{arr}[c] = {var}")

    def _chunk_moments(self, mo):
        """A chunk's mean and squared deviations per column from its shifted
        sums. The shift is one of the chunk's rows, so its distance from the
        chunk's mean is at most sqrt(rows) deviations: the float64 sums lose
        at most about rows * 2^-52 of the variance (2e-10 for a million rows)."""
        k = mo.k
        self.emit(2, "nr = np.float64(max(hi - lo, 1))")
        self.emit(2, "for c in range(m):")
        self.emit(3, f"PWM{k}[b, c] = WC{k}[c] + WS{k}[c] / nr")
        self.emit(3, f"PWV{k}[b, c] = WQ{k}[c] - WS{k}[c] * (WS{k}[c] / nr)")

    def deviations(self, depth, s):
        """`Deviations`: the sum of (x - r) ** 2 over all rows (elements) from
        the chunks' (blocks') moments. Of float32 x, a sum beyond float32's
        range is inf: element by element, a square or the sum overflows
        there (NumPy's mean adds in float32; a float32 sum rounds to inf)."""
        a, k = s.acc.var(), s.moments.k
        at, size = ("[b, c]", "rows") if self.plan.form == "cols" else ("[b]", str(BLOCK))
        self.emit(depth, f"{a} = np.float64(0.0)")
        self.emit(depth, "for b in range(nb):")
        self.emit(depth + 1, f"bn = np.float64(min(n, b * {size} + {size}) - b * {size})")
        self.emit(depth + 1, "if bn > 0:")
        self.emit(depth + 2, f"dl = PWM{k}{at} - np.float64({s.r})")
        self.emit(depth + 2, f"{a} += PWV{k}{at} + bn * dl * dl")
        if s.moments.src.dtype == "float32":
            self.emit(depth, f"if {a} >= {F32_ROUNDS_TO_INF!r}:")
            self.emit(depth + 1, f"{a} = np.inf")

    def _scan(self):
        p = self.plan
        (ps,) = p.passes
        (a,) = ps.scans
        self.header(["m", "n"])
        self.stmts(1, p.hoisted)
        self.emit(1, f"nt = 1 if n <= {SCAN_TILE} else "
                     f"min((n + {SCAN_TILE - 1}) // {SCAN_TILE}, max(1, {SCAN_TASKS} // max(m, 1)))")
        self.emit(1, "tl = (n + nt - 1) // nt")
        for f, dt in a.fields.items():
            self.emit(1, f"C{a.k}{f} = np.empty((m, nt), {np_name(dt)})")
        # tile totals: the statements up to the scan step, no stores
        cut = next(k for k, st in enumerate(ps.element) if isinstance(st, ScanStep)) + 1
        before = [st for st in ps.element[:cut] if not isinstance(st, Store)]
        self.emit(1, "tasks = m * nt if nt > 1 else 0  # (a conditional in prange() stops parfors)")
        self.emit(1, "for q in prange(tasks):")
        self.tile(2)
        self.stmts(2, a.init())
        self.element_loop(2, "hi - lo", "lo + ", before)
        for f in a.fields:
            self.emit(2, f"C{a.k}{f}[o, q % nt] = {a.var(f)}")
        self.emit(1, "for o in range(m if nt > 1 else 0):  # each tile's carry: serial, small")
        self.stmts(2, a.init("_c"))
        self.emit(2, "for t in range(nt):")
        for f in a.fields:
            self.emit(3, f"{a.var(f, '_p')} = C{a.k}{f}[o, t]")
            self.emit(3, f"C{a.k}{f}[o, t] = {a.var(f, '_c')}")
        self.stmts(3, a.merge("_p", "_c"), None)
        check = a.recipe.saturates if D.is_float(a.dtype) else None
        if not check:
            self.emit(1, "for q in prange(m * nt):")
            self.tile(2, sliced=False)
            self.scan_tile(2, a, ps.element[:cut - 1], ps.element[cut - 1], ps.element[cut:])
        else:
            self.checked_scan_pass(a, ps.element, cut, check)

    def checked_scan_pass(self, a, element, cut, check):
        """The scan pass of a float sum or product. Carries from regrouped
        totals can differ in kind from the sequential order's (0 * inf where
        the running product had underflowed): each tile keeps its end, and a
        row whose carry differs from the end of the tile before it runs again
        from there, tile after tile, each from the end of the one before."""
        tol = 8 * _EPS[a.dtype] ** 0.5  # far above a tile's rounding
        self.emit(1, f"E{a.k} = np.empty((m, nt), {np_name(a.dtype)})")
        self.emit(1, "F = np.full(m, nt, np.int64)  # each row's first tile run again")
        self.emit(1, "for r in range(2 if nt > 1 else 1):")
        self.emit(2, "tasks = m * nt if r == 0 else m")
        self.emit(2, "for i in prange(tasks):")
        self.emit(3, "t0 = i % nt if r == 0 else F[i]")
        self.emit(3, "for t in range(t0, t0 + 1 if r == 0 else nt):")
        self.emit(4, "q = (i - t0 if r == 0 else i * nt) + t")
        self.tile(4, sliced=False)
        self.emit(4, "if r:")
        self.emit(5, f"C{a.k}[o, t] = E{a.k}[o, t - 1]")
        self.scan_tile(4, a, element[:cut - 1], element[cut - 1], element[cut:], check)
        self.emit(4, f"E{a.k}[o, t] = {a.var()}")
        self.emit(2, "for w in range(m if r == 0 else 0):")
        self.emit(3, "for t in range(1, nt):")
        self.emit(4, f"if {check}_carry_off(C{a.k}[w, t], E{a.k}[w, t - 1], {tol!r}):")
        self.emit(5, "F[w] = t")
        self.emit(5, "break")

    def scan_tile(self, depth, a, before, step, after, check=None):
        """A tile scanned from its carry in chunks of SCAN_CHUNK elements:
        the work before the scan, vectorized, into a buffer (none where the
        scan reads an input as it is: its slice); the scan in blocks of four
        (each element's prefix within its block off the carried chain, so
        one dependent update per four elements); the work after it,
        vectorized, noting any prefix `check` finds bad (then the chunk is
        scanned again in order, and its work after the scan done again).
        Values of `before` that `after` reads are kept in buffers too (loads
        are read again). The work after is elementwise (a reduction of a
        scan's result is a kernel of its own), so doing it again is safe."""
        acc = a.var()  # a scan's state is the value alone
        self.emit(depth, f"{acc} = C{a.k}[o, q % nt] if nt > 1 else {a.init()[0].expr}")
        words = " ".join(_stmt_words(st) for st in after)
        reads = [st for st in before if isinstance(st, (Let, Load))
                 and re.search(rf"\b{st.var}\b", words)]
        kept = [st for st in reads if isinstance(st, Let)]
        xs = _read_as_is(before, step, a.dtype)
        for b in (["BX"] if xs is None else []) + ["BS"] + [f"B{st.var}" for st in kept]:
            dtype = np_name(next((st.dtype for st in kept if b == f"B{st.var}"), a.dtype))
            self.emit(depth, f"{b} = np.empty({SCAN_CHUNK}, {dtype})")
        xs = xs or "BX"
        self.emit(depth, f"for c0 in range(lo, hi, {SCAN_CHUNK}):")
        d = depth + 1
        self.emit(d, f"c1 = min(c0 + {SCAN_CHUNK}, hi)")
        self.emit(d, "cl = c1 - c0")
        self.slices(d, "c0", "c1")  # fresh slices: indices from 0 vectorize
        if xs == "BX":
            self.element_loop(d, "cl", "c0 + ", before)
            self.emit(d + 1, f"BX[j] = {wrap(step.x, a.dtype)}")
            for st in kept:
                self.emit(d + 1, f"B{st.var}[j] = {st.var}")
        if check:
            self.emit(d, f"{acc}_0 = {acc}")
        self.emit(d, "for j in range(0, cl - cl % 4, 4):")
        self.emit(d + 1, f"p0 = {xs}[j]")
        for k in range(1, 4):
            self.emit(d + 1, f"p{k} = {a.combine(f'p{k - 1}', f'{xs}[j + {k}]')}")
        for k in range(4):
            self.emit(d + 1, f"s{k} = {a.combine(acc, f'p{k}')}")
        for k in range(4):
            self.emit(d + 1, f"BS[j + {k}] = s{k}")
        self.emit(d + 1, f"{acc} = s3")
        self.emit(d, "for j in range(cl - cl % 4, cl):")
        self.emit(d + 1, f"{acc} = {a.combine(acc, f'{xs}[j]')}")
        self.emit(d + 1, f"BS[j] = {acc}")
        if check:  # a prefix past the float's range (or 0): the chunk in order
            self.emit(d, "g = np.float32(0.0)")
        self.after_scan(d, reads, step, a, after, check)
        if check:
            self.emit(d, "if g != 0:")
            self.emit(d + 1, f"{acc} = {acc}_0")
            self.emit(d + 1, "for j in range(cl):")
            self.emit(d + 2, f"{acc} = {a.combine(acc, f'{xs}[j]')}")
            self.emit(d + 2, f"BS[j] = {acc}")
            self.after_scan(d + 1, reads, step, a, after)

    def after_scan(self, depth, reads, step, a, after, check=None):
        """The work after a chunk's scan, each element from its prefix in
        BS; with `check`, noting in `g` whether any prefix is bad."""
        self.element_loop(depth, "cl", "c0 + ", [])
        for st in reads:
            self.emit(depth + 1, f"{st.var} = B{st.var}[j]" if isinstance(st, Let) else
                      f"{st.var} = {self.load(st.src.name.lower() + '[j]', st.src.dtype)}")
        if check:
            self.emit(depth + 1, f"g = radd(g, {check}_bad(BS[j]))")
        self.emit(depth + 1, f"{step.var} = {wrap('BS[j]', a.result)}")
        self.stmts(depth + 1, after, lambda b: f"{b.name.lower()}[j]")

    def tile(self, depth, sliced=True):
        """Row `o` and element range [lo, hi) of scan tile `q` (buffers sliced to it)."""
        self.emit(depth, "o = q // nt")
        self.emit(depth, "lo = (q % nt) * tl")
        self.emit(depth, "hi = min(n, lo + tl)")
        self.stmts(depth, self.plan.row)
        if sliced:
            self.slices(depth, "lo", "hi")

    def slices(self, depth, lo, hi):
        """Element buffers of row `o` sliced to [lo, hi)."""
        for b in self.plan.inputs + self.plan.outputs:
            access = getattr(b, "access", "elem")
            if access == "elem":
                self.emit(depth, f"{b.name.lower()} = {b.name}[o, {lo}:{hi}]")
            elif access == "col":  # the one row all rows share
                self.emit(depth, f"{b.name.lower()} = {b.name}[{lo}:{hi}]")

    def _recur(self):
        p = self.plan
        (ps,) = p.passes
        self.header(["n", "T"])
        self.stmts(1, p.hoisted)
        if p.rank >= 2:
            return self._recur_blocks()
        self.emit(1, "for i in prange(n):")
        self.recur_stmts(2, p.row)
        if p.loop == "while":  # T < 0: no limit
            self.emit(2, "s = 0")
            self.emit(2, "while s != T:")
            self.recur_stmts(3, p.test)
            self.emit(3, f"if not {p.flag}:")
            self.emit(4, "break")
            self.recur_stmts(3, ps.element)
            self.emit(3, "s += 1")
        else:
            self.emit(2, "for s in range(T):")
            self.emit(3, f"t = {'T - 1 - s' if p.reverse else 's'}")
            self.recur_stmts(3, ps.element)
        self.recur_stmts(2, ps.outer)

    def _recur_blocks(self):
        """A scan over many elements: blocks of neighbouring elements in
        parallel, each step running over a block, so a step
        reads and writes whole runs of a row (an element's chain alone
        strides over the rows, and each cache line comes back from memory
        once per element); the block's per-element values (carries, values
        read once) are kept in small arrays between steps."""
        p = self.plan
        (ps,) = p.passes
        kept = [(st.var, st.dtype if isinstance(st, Let) else st.src.dtype) for st in p.row]
        assigned = {st.var for st in ps.element if isinstance(st, Let)}
        if p.rank == 3:  # chain-major operands: a few chains at a time
            self.emit(1, f"B = {CHAIN_BLOCK}")
        else:  # blocks of up to 4 * RECUR_BLOCK elements, at least two of them
            self.emit(1, f"B = max({RECUR_BLOCK}, min({4 * RECUR_BLOCK}, n // 2))")
        self.emit(1, "for b in prange((n + B - 1) // B):")
        self.emit(2, "lo = b * B")
        self.emit(2, "m = min(n, lo + B) - lo")
        for var, dtype in kept:
            self.emit(2, f"K{var} = np.empty(B, {np_name(dtype)})")

        def block_loop(depth, stmts, load, store):
            self.emit(depth, "for j in range(m):")
            self.emit(depth + 1, "i = lo + j")
            for var, _ in load:
                self.emit(depth + 1, f"{var} = K{var}[j]")
            self.recur_stmts(depth + 1, stmts)
            for var, _ in store:
                self.emit(depth + 1, f"K{var}[j] = {var}")
        block_loop(2, p.row, [], kept)
        self.emit(2, "for s in range(T):")
        self.emit(3, f"t = {'T - 1 - s' if p.reverse else 's'}")
        block_loop(3, ps.element, kept, [k for k in kept if k[0] in assigned])
        block_loop(2, ps.outer, kept, [])

    def recur_stmts(self, depth, stmts):
        """A recur plan's statements; a store of one value for all elements
        (a scalar carry, the same in every element's chain) by element 0."""
        at = {"uniform": "[0]", "elem": "[i]", "step": "[t]", "stepelem": "[t, i]"}

        def sub(b):
            if isinstance(b, Output):
                return b.name + {(True, True): "[t]", (True, False): "[t, i]",
                                 (False, True): "[0]", (False, False): "[i]"}[b.step, b.single]
            return b.name + at[b.access]
        for st in stmts:
            if isinstance(st, Store) and st.dst.single:
                self.emit(depth, "if i == 0:")
                self.stmts(depth + 1, [st], sub)
            else:
                self.stmts(depth, [st], sub)


def _trig(stmts, how):
    """`stmts` with their float32 sin, cos and tan calls as `sin_<how>` & co."""
    return [Let(st.var, _TRIG.sub(rf"\1_{how}(\2)", st.expr), st.dtype)
            if isinstance(st, Let) and st.dtype == "float32" else st for st in stmts]


def _moment_parts(mo):
    """The partial states a chunk's `Moments` leave: its mean and squared
    deviations, per column (`cols`) or per block (`full`)."""
    return [("M", "np.float64"), ("V", "np.float64")]


def _widens(acc):
    """Whether `acc` sums float32 elements into a float64 accumulator (a
    regrouped recipe from zero: a sum or mean, whose float32 partial sums
    start at 0 and fold into the state by its merge)."""
    r = acc.recipe
    return r.regroup is not None and r.init == "zero" and acc.dtype == "float64" \
        and acc.x_dtype == "float32" and not acc.fields.keys() - {""}


def _flush(acc, state, part):
    """A `_widens` accumulator's state with float32 partial sum `part` merged in."""
    return wrap(acc.recipe.merge_template().format(acc=state, other=f"np.float64({part})"),
                "float64")


def _read_as_is(before, step, dtype):
    """The input slice a scan reads as it is (its only work before the scan:
    one load of `dtype`, scanned unconverted), or None."""
    if len(before) == 1 and isinstance(before[0], Load) and before[0].var == step.x \
            and before[0].src.dtype == dtype and before[0].src.dtype not in ("float16", "bfloat16"):
        return before[0].src.name.lower()
    return None


def _stmt_words(st):
    """The text of a statement that names the variables it reads."""
    if isinstance(st, ScanStep):
        return st.x
    return getattr(st, "expr", None) or getattr(st, "var", "")


compile = kernel_for  # noqa: A001  (the target's interface: print_plan, compile, launch)
